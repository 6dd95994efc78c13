"""A case form posted after its author's session ended: kept, sealed, until they sign in.

Signing in lands on the dashboard, which sends them back to the case; the case page shows
the kept text in its form, to save (with a fresh CSRF token) or discard. Only the account
whose session it was ever sees it; a kept form is dropped after KEEP_FOR.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass

from starlette.requests import Request

from bot.clock import to_ts
from bot.crypto import Cipher
from bot.privacy import sealed
from bot.service import Service
from bot.store.facilitators import token_hash

KEEP_FOR = 12 * 3600.0
# a case form, or new wording for a letter (kept on the letter's case)
ACTION = re.compile(
    r"/console/(?:cases/([0-9]{1,12})/[a-z0-9/-]{1,60}|letters/([0-9]{1,12})/edit)")
MAX_FIELDS, MAX_CHARS = 20, 5000
LONG = ("text", "notes", "note", "what", "check", "action", "reason")  # shown as a textarea


@dataclass(frozen=True)
class Draft:
    id: int
    case_id: int
    action: str
    fields: dict[str, str]


def _owner(conn: sqlite3.Connection, token: str) -> int | None:
    """The account of a session token, live or ended (rows stay until they are purged)."""
    row = conn.execute("SELECT facilitator_id FROM console_sessions WHERE id_hash = ?",
                       (token_hash(token),)).fetchone()
    return int(row[0]) if row else None


async def keep(request: Request, token: str) -> int | None:
    """Keep a case form whose session ended; its case id, or None if nothing was kept."""
    service: Service = request.app.state.service
    found = ACTION.fullmatch(request.url.path)
    form = await request.form()
    fields = {k: str(val)[:MAX_CHARS] for k, val in list(form.items())[:MAX_FIELDS]
              if isinstance(val, str) and k not in ("csrf", "draft")}
    if found is None or not token or not any(val.strip() for val in fields.values()):
        return None
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> int | None:
        owner = _owner(conn, token)
        row = (conn.execute("SELECT id FROM cases WHERE id = ?", (int(found.group(1)),))
               if found.group(1) else
               conn.execute("SELECT case_id FROM letters WHERE id = ? AND case_id IS NOT NULL",
                            (int(found.group(2)),))).fetchone()
        if owner is None or row is None:
            return None
        case_id = int(row[0])
        row_id = sealed.next_id(conn, "console_drafts")
        blob = sealed.seal(service.cipher, json.dumps(fields, ensure_ascii=False),
                           "console_drafts", "fields_enc", id=row_id, case_id=case_id,
                           facilitator_id=owner)
        conn.execute(
            "INSERT INTO console_drafts (id, facilitator_id, case_id, action, fields_enc,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (row_id, owner, case_id, request.url.path, blob, now))
        return case_id

    return await service.db.write(unit)


def pending(conn: sqlite3.Connection, cipher: Cipher, user_id: int, now: float,
            case_id: int | None = None) -> Draft | None:
    """The user's newest kept form (on `case_id` if given); older than KEEP_FOR is dropped."""
    conn.execute("DELETE FROM console_drafts WHERE created_at < ?", (now - KEEP_FOR,))
    sql = "SELECT * FROM console_drafts WHERE facilitator_id = ? AND fields_enc != X''"
    params: list[object] = [user_id]
    if case_id is not None:
        sql, params = sql + " AND case_id = ?", [*params, case_id]
    row = conn.execute(sql + " ORDER BY id DESC LIMIT 1", params).fetchone()
    if row is None:
        return None
    fields = json.loads(sealed.open_in(cipher, row["fields_enc"], "console_drafts", "fields_enc",
                                       row))
    return Draft(int(row["id"]), int(row["case_id"]), str(row["action"]), fields)


def offer(conn: sqlite3.Connection, cipher: Cipher, user_id: int, now: float) -> int | None:
    """Once, after signing in: the case of a kept form not yet offered (the dashboard then
    sends the user back to it)."""
    found = pending(conn, cipher, user_id, now)
    if found is None or conn.execute("UPDATE console_drafts SET offered = 1 WHERE id = ?"
                                     " AND offered = 0", (found.id,)).rowcount == 0:
        return None
    return found.case_id


def drop(conn: sqlite3.Connection, user_id: int, draft_id: int) -> bool:
    cur = conn.execute("DELETE FROM console_drafts WHERE id = ? AND facilitator_id = ?",
                       (draft_id, user_id))
    return cur.rowcount == 1


async def dropped_on_save(request: Request, user_id: int) -> None:
    """A resumed form was posted (CSRF checked): its kept copy is no longer needed."""
    service: Service = request.app.state.service
    raw = (await request.form()).get("draft", "")
    if isinstance(raw, str) and raw.isdecimal():
        await service.db.write(lambda c: drop(c, user_id, int(raw)))

