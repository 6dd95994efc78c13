"""What facilitators do with the meeting script (the console and `rjbot simulate` both come here).

Each side of a case has its own document: the person harmed's copy is shown to them through
the bot (they are told it is ready, in their safe time, and read it when they choose); the
other party's copy is kept for the team to hand over. Sharing a new version is versioned like
letters. Neither copy may carry a phone number or an email, and the other party's copy never
anything of the person harmed's own (name, number, places they gave us); nothing is shared
while consent is withdrawn (bot.relay.gate).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from bot.clock import to_ts
from bot.crypto import Cipher
from bot.relay import gate
from bot.relay.check import check
from bot.relay.desk import LetterError, Staff, case_details
from bot.runtime import Runtime
from bot.store import records, scripts

MAX_SCRIPT = 20000
CONTACT = ("phone", "email", "own_phone")


class ScriptError(LetterError):
    """A refused script operation; the message says why, for the facilitator."""


def _case(conn: sqlite3.Connection, case_id: int) -> int:
    row = conn.execute("SELECT person_id, closed_at FROM cases WHERE id = ?",
                       (case_id,)).fetchone()
    if row is None:
        raise ScriptError("There is no such case")
    if row["closed_at"] is not None:
        raise ScriptError("The case is closed")
    return int(row["person_id"])


def _checked(conn: sqlite3.Connection, cipher: Cipher, person_id: int, case_id: int,
             side: scripts.Side, body: str) -> None:
    hold = gate.hold_of(conn, person_id)
    if hold is not None:
        raise ScriptError(f"{hold.label}: nothing is shared until they give consent again")
    found = check(body, case_details(conn, cipher, person_id, case_id), side == "other")
    blocking = sorted({f.label for f in found if f.blocking or f.kind in CONTACT})
    if blocking:
        raise ScriptError("It contains " + ", ".join(blocking) + ". Take it out: a script "
                          "never carries contact details, and the other party's copy nothing "
                          "of the person harmed's own", tuple(sorted(
                              {f.kind for f in found if f.blocking or f.kind in CONTACT})))


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise ScriptError("The script is empty")
    if len(text) > MAX_SCRIPT:
        raise ScriptError(f"The script is longer than {MAX_SCRIPT} characters")
    return text


async def share(runtime: Runtime, cipher: Cipher, *, case_id: int, text: str, side: str,
                who: Staff) -> tuple[int, int]:
    """A new version of one side's script; the person harmed's is announced to them.
    Returns (script id, version number)."""
    if side not in scripts.SIDES:
        raise ScriptError("The side is 'victim' (the person harmed) or 'other'")
    body = _clean(text)
    chosen: scripts.Side = "victim" if side == "victim" else "other"
    ts = to_ts(runtime.clock.now())
    made: dict[str, Any] = {"case": case_id}  # `unit` adds the script and version

    def unit(conn: sqlite3.Connection) -> None:
        person_id = _case(conn, case_id)
        _checked(conn, cipher, person_id, case_id, chosen, body)
        script_id, number = scripts.add_version(conn, cipher, case_id=case_id,
                                                person_id=person_id, side=chosen, body=body,
                                                author=who.actor, now=ts)
        records.audit(conn, who.actor, "script_version_added", ts, person_id, case_id,
                      {"script": script_id, "version": number, "side": chosen})
        made.update(script=script_id, version=number)

    if chosen == "other":
        await runtime.db.write(unit)
        return made["script"], made["version"]
    person_id = await runtime.db.read(lambda c: _case(c, case_id))
    await runtime.act(person_id, "script_ready", made, who.actor, prepare=unit)
    return made["script"], made["version"]
