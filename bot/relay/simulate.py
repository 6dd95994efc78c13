"""Letter actions for `rjbot simulate`: `::act letter_in text="..." by=f1`, `letter_approve
letter=1 by=f2 [supervisor=true] [confirm=true] [version=N]`, `letter_edit letter=1 text="..."
reason="..." by=f1`, `letter_deliver letter=1 on=2026-03-05 by=f1`.

They go through bot.relay.desk, like the console, so the same rules hold (four eyes, the
author's agreement, contact details). A refusal is printed as `{"letter_action", "refused"}`.
"""

from __future__ import annotations

from typing import Any

from bot.apply import open_case_id
from bot.relay import desk
from bot.service import Service

LETTER_ACTIONS = ("letter_in", "letter_approve", "letter_edit", "letter_deliver")
# engine actions the desk sends itself, after its checks: never directly
DESK_ONLY = ("letter_ready", "letter_edit_proposed")


class LetterArgsError(ValueError):
    pass


def _id(data: dict[str, Any]) -> int:
    letter = data.get("letter")
    if not isinstance(letter, int):
        raise LetterArgsError("needs letter=ID")
    return letter


async def desk_act(service: Service, person_id: int, action: str,
                     data: dict[str, Any]) -> dict[str, Any]:
    """Run one letter action; what to print about it."""
    who = desk.Staff(str(data.get("by") or "simulate"), data.get("supervisor") is True)
    runtime, cipher = service.runtime, service.cipher
    try:
        if action == "letter_in":
            case_id = await service.db.read(lambda c: open_case_id(c, person_id))
            if case_id is None:
                raise LetterArgsError("letter_in needs an open case")
            letter = await desk.type_in(runtime, cipher, person_id=person_id,
                                              case_id=case_id, text=str(data.get("text", "")),
                                              who=who)
            return {"letter_action": action, "letter": letter}
        letter = _id(data)
        if action == "letter_approve":
            seen = data.get("version")
            await desk.approve(runtime, cipher, letter, who, data.get("confirm") is True,
                                     seen if isinstance(seen, int) else None)
        elif action == "letter_edit":
            await desk.propose_edit(runtime, cipher, letter, str(data.get("text", "")),
                                          str(data.get("reason", "")), who)
        else:
            await desk.mark_delivered(runtime, letter, str(data.get("on", "")), who)
    except LetterArgsError:
        raise
    except desk.LetterError as exc:
        return {"letter_action": action, "refused": str(exc)}
    return {"letter_action": action, "letter": letter}
