"""Letter and script actions for `rjbot simulate`: `::act letter_in text="..." by=f1`,
`letter_approve letter=1 by=f2 [supervisor=true] [confirm=true] [version=N]`, `letter_edit
letter=1 text="..." reason="..." by=f1`, `letter_deliver letter=1 on=2026-03-05 by=f1`,
`script_share text="..." by=f1 [side=other]`.

They go through bot.relay.desk and script_desk, like the console, so the same rules hold (four
eyes, the author's agreement, contact details). A refusal is printed as `{"letter_action",
"refused"}` (`{"script_action", "refused"}` for the script).
"""

from __future__ import annotations

from typing import Any

from bot.apply import open_case_id
from bot.relay import desk, script_desk
from bot.service import Service

LETTER_ACTIONS = ("letter_in", "letter_approve", "letter_edit", "letter_deliver",
                  "script_share")
# engine actions the desk sends itself, after its checks: never directly
DESK_ONLY = ("letter_ready", "letter_edit_proposed", "script_ready", "letter_delivered")


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
    if action == "script_share":
        return await _share_version(service, person_id, data, who)
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
            seen = data.get("version")
            await desk.propose_edit(runtime, cipher, letter, str(data.get("text", "")),
                                    str(data.get("reason", "")), who,
                                    seen if isinstance(seen, int) else None)
        else:
            await desk.mark_delivered(runtime, letter, str(data.get("on", "")), who)
    except LetterArgsError:
        raise
    except desk.LetterError as exc:
        return {"letter_action": action, "refused": str(exc)}
    return {"letter_action": action, "letter": letter}


async def _share_version(service: Service, person_id: int, data: dict[str, Any],
                        who: desk.Staff) -> dict[str, Any]:
    """`::act script_share text="..." by=alice [side=other]`: a new version of the script."""
    case_id = await service.db.read(lambda c: open_case_id(c, person_id))
    if case_id is None:
        raise LetterArgsError("script_share needs an open case")
    try:
        script, version = await script_desk.share(
            service.runtime, service.cipher, case_id=case_id, text=str(data.get("text", "")),
            side=str(data.get("side") or "victim"), who=who)
    except desk.LetterError as exc:
        return {"script_action": "script_share", "refused": str(exc)}
    return {"script_action": "script_share", "script": script, "version": version}
