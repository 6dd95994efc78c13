"""Finding a case without decrypting everything: keyed hashes only, never a scan of sealed text.

A query is read every way it could be meant (bot.console.search says which):
- a phone number as typed ("07700 900321", "+447700900321", "447700900321"), made E.164 the
  way the referral form does, looked up through `addresses.address_hash` for SMS and WhatsApp;
- a Telegram chat id, through the same hash for the telegram channel;
- a case number;
- the name the person gave: its words, normalised (`name_tokens`), are kept as keyed hashes in
  `search_tokens`, updated whenever the conversation state is saved (bot.store.records) and
  rebuilt at start-up when the data key changed (`backfill`).

Only the rows a hash matched are opened, to check the hash really is that row's (as
bot.store.records.find_address does), so a search costs a few decryptions, not one per person.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from bot.channels.phone import e164
from bot.crypto import Cipher
from bot.privacy import sealed
from bot.store import records
from bot.store.casework import _CASE_SELECT, CaseRow, _visible
from bot.store.name_index import NAME, hashes, index_name, normal_name

META = "search_index_key"  # the key id the name hashes were made under
PHONE_CHANNELS = ("sms", "whatsapp")
LIMIT = 50
_CASE_NUMBER = re.compile(r"(?:case\s*)?(?:no\.?\s*|number\s*)?#?\s*(\d{1,9})", re.IGNORECASE)
_CHAT_ID = re.compile(r"-?\d{5,16}")


def backfill(conn: sqlite3.Connection, cipher: Cipher, force: bool = False) -> int:
    """(Re)build every name token when the index was made under another key (or never):
    after the migration that added it, and after a key rotation. Returns people indexed."""
    current = cipher.current_key_id.hex()
    if not force and records.get_meta(conn, META) == current:
        return 0
    conn.execute("DELETE FROM search_tokens WHERE kind = ?", (NAME,))
    people = [r["person_id"] for r in conn.execute("SELECT person_id FROM conversations")]
    for person_id in people:
        state, _ = records.load_state(conn, cipher, person_id)
        index_name(conn, cipher, person_id, state.answers.get("name"))
    records.set_meta(conn, META, current)
    return len(people)


@dataclass
class Found:
    """What a query found: the cases (those the user may see), and how each was matched."""

    cases: list[CaseRow] = field(default_factory=list)
    matched: dict[int, set[str]] = field(default_factory=dict)  # case id -> "phone", ...

    @property
    def ways(self) -> list[str]:
        return sorted({w for ways in self.matched.values() for w in ways})


def phone_forms(query: str) -> set[str]:
    """The E.164 numbers a typed phone number could be ('' when it is not one)."""
    digits = re.sub(r"[\s().-]", "", query)
    if not re.fullmatch(r"\+?\d{7,15}", digits):
        return set()
    found = {e164(digits)}
    if not digits.startswith(("+", "0")):  # "447700900321": the country code without its +
        found.add(e164("+" + digits))
    return found - {""}


def _people_by_address(conn: sqlite3.Connection, cipher: Cipher, channel: str,
                       address: str) -> set[int]:
    hashes = cipher.address_hashes(channel, address)
    rows = conn.execute(
        "SELECT id, person_id, channel, address_enc FROM addresses WHERE channel = ?"  # noqa: S608  # nosec B608
        f" AND address_hash IN ({','.join('?' * len(hashes))})", (channel, *hashes))
    people = set()
    for row in rows:  # only the rows the hash matched are opened: is the hash really theirs?
        if row["address_enc"] and sealed.open_in(cipher, row["address_enc"], "addresses",
                                                 "address_enc", row) == address:
            people.add(int(row["person_id"]))
    return people


def _people_by_name(conn: sqlite3.Connection, cipher: Cipher, query: str) -> set[int]:
    whole = normal_name(query)
    if not whole or whole.isdigit():
        return set()
    found = hashes(cipher, whole)
    rows = conn.execute(
        "SELECT DISTINCT person_id FROM search_tokens WHERE kind = ?"  # noqa: S608  # nosec B608
        f" AND token_hash IN ({','.join('?' * len(found))})", (NAME, *found))
    return {int(r[0]) for r in rows}


def candidates(conn: sqlite3.Connection, cipher: Cipher, query: str
               ) -> tuple[dict[int, set[str]], set[int]]:
    """(people found, with how) and case numbers, for every reading of the query."""
    people: dict[int, set[str]] = {}

    def add(found: set[int], how: str) -> None:
        for pid in found:
            people.setdefault(pid, set()).add(how)

    query = query.strip()
    for number in phone_forms(query):
        for channel in PHONE_CHANNELS:
            add(_people_by_address(conn, cipher, channel, number), "phone number")
    if _CHAT_ID.fullmatch(query):
        add(_people_by_address(conn, cipher, "telegram", str(int(query))), "Telegram chat id")
    add(_people_by_name(conn, cipher, query), "name")
    case_number = _CASE_NUMBER.fullmatch(query)
    return people, {int(case_number.group(1))} if case_number else set()


def find(conn: sqlite3.Connection, cipher: Cipher, query: str, user_id: int | None) -> Found:
    """The cases a query finds that the user may see (`user_id` None: a supervisor, all)."""
    people, case_ids = candidates(conn, cipher, query)
    found = Found()
    if not people and not case_ids:
        return found
    vis, params = _visible(user_id)
    pids, cids = sorted(people), sorted(case_ids)
    where = (f"(c.person_id IN ({','.join('?' * len(pids))}) OR"
             f" c.id IN ({','.join('?' * len(cids))})) AND {vis}")
    sql = f"{_CASE_SELECT} WHERE {where} ORDER BY c.closed_at IS NOT NULL, c.id DESC LIMIT ?"
    for row in conn.execute(sql, [*pids, *cids, *params, LIMIT]):
        case = CaseRow(**dict(row))
        found.cases.append(case)
        ways = set(people.get(case.person_id, set()))
        if case.id in case_ids:
            ways.add("case number")
        found.matched[case.id] = ways
    return found
