"""Carry out the engine's LetterOp effects against the letters store, inside apply's transaction.

Showing a letter is done here, not in the engine: the text is read from the store and cut into
parts that fit the person's channel (on SMS each part is at most 3 segments), so letter text
never sits in the conversation state and every showing is recorded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime

from bot.channels.segments import segments, split_fitting
from bot.clock import to_ts
from bot.crypto import Cipher
from bot.flows.letters import REASON
from bot.relay import gate
from bot.store import letters, records, scripts
from bot.types import LetterOp, Msg, Reply, ScriptOp

VERBATIM = "{text}"  # the letter's own words: never translated
SMS_SEGMENTS = 3
CHAT_LIMIT = 3500  # characters per Telegram/console message (Telegram allows 4096)
PREFIX = "(99/99) "  # the widest part marker, so every real marker fits too

Enqueue = Callable[[Reply], None]


def split(text: str, channel: str) -> list[str]:
    """Cut a text into parts that each fit one channel message, numbered when there are more."""
    def fits(chunk: str) -> bool:
        if channel == "sms":
            return segments(PREFIX + chunk).count <= SMS_SEGMENTS
        return len(PREFIX + chunk) <= CHAT_LIMIT

    parts = [p for p in split_fitting(text.replace("\r\n", "\n"), fits) if p.strip()]
    if len(parts) <= 1:
        return parts
    return [f"({n}/{len(parts)}) {p}" for n, p in enumerate(parts, start=1)]


def _show(enqueue: Enqueue, text: str, channel: str) -> int:
    parts = split(text.strip(), channel)
    for part in parts:
        enqueue(Reply(Msg(VERBATIM, {"text": part}), author="passed_on"))
    return len(parts)


def apply_letter(conn: sqlite3.Connection, cipher: Cipher, person_id: int, case_id: int | None,
                 actor: str, channel: str, op: LetterOp | ScriptOp, now: datetime,
                 enqueue: Enqueue) -> None:
    ts = to_ts(now)
    if isinstance(op, ScriptOp):
        _script_op(conn, cipher, person_id, actor, channel, op, ts, enqueue)
        return

    def audit(action: str, letter_id: int, **detail: object) -> None:
        records.audit(conn, actor, action, ts, person_id, case_id,
                      {"letter": letter_id, **detail})

    if op.op == "append":
        letter_id, new = letters.append_part(conn, cipher, person_id, case_id, op.text, ts)
        audit("letter_started" if new else "letter_part_added", letter_id)
        return
    if op.op in ("restart", "cancel", "submit", "show_draft"):
        _draft_op(conn, cipher, op.op, person_id, channel, ts, enqueue, audit)
        return
    found = letters.get(conn, op.letter)
    if found is None or found.person_id != person_id:
        records.audit(conn, actor, "letter_op_refused", ts, person_id, case_id,
                      {"letter": op.letter, "op": op.op})
        return
    _letter_op(conn, cipher, found, op.op, op.version, channel, ts, enqueue, audit)


def _draft_op(conn: sqlite3.Connection, cipher: Cipher, op: str, person_id: int, channel: str,
              ts: float, enqueue: Enqueue, audit: Callable[..., None]) -> None:
    letter_id = letters.draft(conn, person_id)
    if letter_id is None:
        return
    if op == "show_draft":
        body = letters.versions(conn, cipher, letter_id)[0].body
        audit("letter_draft_shown", letter_id, parts=_show(enqueue, body, channel))
    elif op == "restart":
        conn.execute("UPDATE letter_versions SET body_enc = X'' WHERE letter_id = ?"
                     " AND number = 1", (letter_id,))  # empty: reads as no words yet
        audit("letter_restarted", letter_id)
    elif op == "cancel":  # "Your letter has been deleted": its words go too
        conn.execute("UPDATE letter_versions SET body_enc = X'' WHERE letter_id = ?",
                     (letter_id,))
        letters.set_status(conn, letter_id, "cancelled", ts)
        audit("letter_cancelled", letter_id)
    else:
        letters.decide_version(conn, letter_id, 1, "submitted", ts)
        status = gate.waiting_status(conn, person_id)
        letters.set_status(conn, letter_id, status, ts)
        audit("letter_submitted", letter_id, version=1, held=status == "held")


def _letter_op(conn: sqlite3.Connection, cipher: Cipher, found: letters.Letter, op: str,
               version: int, channel: str, ts: float, enqueue: Enqueue,
               audit: Callable[..., None]) -> None:
    if op == "announced" and found.status != "approved":  # held since it was scheduled
        audit("letter_op_refused", found.id, op=op, status=found.status)
    elif op == "announced":
        conn.execute("UPDATE letters SET announced_at = ? WHERE id = ?", (ts, found.id))
        audit("letter_announced", found.id, version=found.approved_version)
    elif op == "show" and found.direction == "to_victim" and found.status == "approved":
        shown = next(v for v in letters.versions(conn, cipher, found.id)
                     if v.number == found.approved_version)
        parts = _show(enqueue, shown.body, channel)
        letters.set_status(conn, found.id, "read", ts, read_at=ts)
        audit("letter_read", found.id, version=shown.number, parts=parts)
    elif op == "declined" and found.status == "approved":
        letters.set_status(conn, found.id, "declined", ts)
        audit("letter_declined", found.id)
    elif op == "withheld" and found.status == "approved":
        letters.set_status(conn, found.id, "withheld", ts)
        audit("letter_withheld", found.id)
    elif op in ("show_edit", "edit_accepted", "edit_rejected") and (
            found.status == "edit_proposed"):
        _edit_op(conn, cipher, found, op, version, channel, ts, enqueue, audit)
    else:
        audit("letter_op_refused", found.id, op=op, status=found.status)


def _edit_op(conn: sqlite3.Connection, cipher: Cipher, found: letters.Letter, op: str,
             seen: int, channel: str, ts: float, enqueue: Enqueue,
             audit: Callable[..., None]) -> None:
    """Show, accept or reject the proposed version; only if it is the one the person saw."""
    version = letters.proposed(conn, cipher, found.id)
    if version is None or version.number != seen:
        audit("letter_op_refused", found.id, op=op, version=seen)
        return
    if op == "show_edit":
        parts = _show(enqueue, version.body, channel)
        if version.reason:
            enqueue(Reply(Msg(REASON, {"reason": version.reason})))
        audit("letter_edit_shown", found.id, version=version.number, parts=parts)
        return
    decision = "accepted" if op == "edit_accepted" else "rejected"
    letters.decide_version(conn, found.id, version.number, decision, ts)
    letters.set_status(conn, found.id, gate.waiting_status(conn, found.person_id), ts)
    audit(f"letter_edit_{decision}", found.id, version=version.number)


def _script_op(conn: sqlite3.Connection, cipher: Cipher, person_id: int, actor: str,
               channel: str, op: ScriptOp, ts: float, enqueue: Enqueue) -> None:
    """Show the person their own copy of the script, or keep the change they asked for."""
    owner = scripts.owner(conn, op.script)
    version = scripts.version(conn, cipher, op.script, op.version)
    if owner is None or owner[0] != person_id or owner[2] != "victim" or version is None:
        records.audit(conn, actor, "script_op_refused", ts, person_id, None,
                      {"script": op.script, "op": op.op})
        return
    detail = {"script": op.script, "version": op.version}
    if op.op == "announced":
        scripts.mark(conn, op.script, op.version, "announced_at", ts)
    elif op.op == "show":
        parts = _show(enqueue, version.body, channel)
        scripts.mark(conn, op.script, op.version, "read_at", ts)
        records.audit(conn, actor, "script_read", ts, person_id, owner[1], {**detail,
                                                                           "parts": parts})
    elif op.op == "request" and op.text.strip():
        request = scripts.add_request(conn, cipher, op.script, op.version, op.text.strip(), ts)
        records.audit(conn, actor, "script_change_asked", ts, person_id, owner[1],
                      {**detail, "request": request})
