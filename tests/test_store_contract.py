"""One contract for the store, run on every back end: SQLite (a file) and PostgreSQL (a URL).

Each test takes `backend` (tests/pg_kit.py), so it runs twice: the same store functions, the
same migrations, the same sealing, on both. Without a PostgreSQL server the postgres half is
skipped with the reason (with CI=true it fails).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.crypto import Cipher, new_key_text, parse_key
from bot.privacy import sealed, subject
from bot.store import audit, jobs, letters, name_index, notes, outbox, provider, records, search
from bot.store import schema as sqlite_schema
from bot.store.backends import is_postgres, open_database
from bot.store.db import Database
from bot.store.postgres import schema as pg_schema
from bot.types import State

NOW = 1_780_000_000.0
PHONE = "+447700900123"


@pytest.fixture
def cipher() -> Cipher:
    return Cipher(parse_key(new_key_text()))


@pytest.fixture
async def db(backend: Path | str) -> AsyncIterator[Database]:
    async with open_database(backend) as opened:
        yield opened


def _person(conn: sqlite3.Connection, cipher: Cipher, address: str = PHONE) -> tuple[int, int]:
    pid, aid, _ = records.find_or_create_person(conn, cipher, "sms", address, NOW)
    return pid, aid


def _case(conn: sqlite3.Connection, person_id: int) -> int:
    case_id = conn.execute(
        "INSERT INTO cases (person_id, stage, created_at, updated_at) VALUES (?, ?, ?, ?)",
        (person_id, "new_contact", NOW, NOW)).lastrowid
    assert case_id is not None
    return case_id


async def test_migrations_are_numbered_alike_and_reopening_migrates_nothing(
        backend: Path | str) -> None:
    assert len(pg_schema.MIGRATIONS) == len(sqlite_schema.MIGRATIONS)
    for _ in range(2):
        async with open_database(backend) as db:
            version = await db.read(lambda c: c.execute(
                "SELECT max(version) FROM rjbot_schema" if is_postgres(backend)
                else "PRAGMA user_version").fetchone()[0])
            assert version == len(sqlite_schema.MIGRATIONS)


def _sqlite_columns(path: Path) -> dict[str, set[str]]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}
    finally:
        conn.close()


def _pg_columns(url: str) -> dict[str, set[str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT table_name, column_name FROM information_schema.columns"
                            " WHERE table_schema = current_schema()").fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    return found


async def test_both_back_ends_have_the_same_tables_and_columns(tmp_path: Path,
                                                                 pg_url: str) -> None:
    async with open_database(tmp_path / "a.sqlite3"), open_database(pg_url):
        pass
    lite, pg = _sqlite_columns(tmp_path / "a.sqlite3"), _pg_columns(pg_url)
    assert pg.pop("rjbot_schema") == {"version"}  # PostgreSQL's user_version
    assert pg["provider_messages"] - lite["provider_messages"] == {"rowid"}  # SQLite's own
    pg["provider_messages"].discard("rowid")
    assert pg == lite


async def test_a_failing_unit_does_not_spoil_its_batch(db: Database) -> None:
    def good(n: int) -> Any:
        return lambda c: c.execute("INSERT INTO meta VALUES (?, 'x')", (f"k{n}",)).rowcount

    def bad(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO meta VALUES ('bad', 'x')")
        raise ValueError("boom")

    def clash(c: sqlite3.Connection) -> None:  # a statement the database refuses
        c.execute("INSERT INTO meta VALUES ('k1', 'again')")

    results = await asyncio.gather(db.write(good(1)), db.write(bad), db.write(clash),
                                   db.write(good(2)), return_exceptions=True)
    assert results[0] == 1 and results[3] == 1
    assert isinstance(results[1], ValueError)
    assert isinstance(results[2], sqlite3.IntegrityError | psycopg.errors.UniqueViolation)
    rows = await db.read(lambda c: c.execute("SELECT key, value FROM meta WHERE key"
                                             " IN ('k1', 'k2', 'bad') ORDER BY key").fetchall())
    assert [tuple(r) for r in rows] == [("k1", "x"), ("k2", "x")]


async def test_people_addresses_and_conversations(db: Database, cipher: Cipher) -> None:
    pid, aid = await db.write(lambda c: _person(c, cipher))
    again = await db.write(lambda c: records.find_or_create_person(c, cipher, "sms", PHONE, NOW))
    assert again == (pid, aid, False)
    other, _ = await db.write(lambda c: _person(c, cipher, "+447700900999"))
    assert other != pid
    assert await db.read(lambda c: records.address_of(c, cipher, aid)) == ("sms", PHONE)
    state = State(flow="first_contact", step="name", answers={"name": "Ada Lovelace"})
    await db.write(lambda c: records.save_state(c, cipher, pid, state, 0, NOW))
    await db.write(lambda c: records.save_state(c, cipher, pid, state, 1, NOW + 1))
    loaded, version = await db.read(lambda c: records.load_state(c, cipher, pid))
    assert (loaded, version) == (state, 2)
    row = await db.read(lambda c: c.execute("SELECT * FROM people WHERE id = ?",
                                            (pid,)).fetchone())
    assert row["id"] == row[0] == pid and row["status"] == "active"
    assert dict(row)["locale"] == "en_GB"


async def test_a_provider_message_id_is_stored_once(db: Database) -> None:
    first = await db.write(lambda c: records.claim_inbound(c, "sms:SM1", NOW))
    results = await asyncio.gather(*(db.write(lambda c: records.claim_inbound(c, "sms:SM1", NOW))
                                     for _ in range(5)))
    assert first is True and results == [False] * 5
    count = await db.read(lambda c: c.execute("SELECT count(*) FROM inbound").fetchone()[0])
    assert count == 1


async def test_messages_are_sealed_to_their_row(db: Database, cipher: Cipher) -> None:
    pid, _ = await db.write(lambda c: _person(c, cipher))
    other, _ = await db.write(lambda c: _person(c, cipher, "+447700900999"))
    ids = await db.write(lambda c: [
        records.log_message(c, cipher, pid, "in", "sms", "my bike was stolen", NOW),
        records.log_message(c, cipher, other, "in", "sms", "hello", NOW)])
    rows = await db.read(lambda c: c.execute("SELECT * FROM messages ORDER BY id").fetchall())
    assert [r["id"] for r in rows] == ids
    assert b"bike" not in bytes(rows[0]["body_enc"])
    assert sealed.open_in(cipher, rows[0]["body_enc"], "messages", "body_enc",
                          rows[0]) == "my bike was stolen"
    # the first message's ciphertext copied onto the other's row does not open there
    await db.write(lambda c: c.execute("UPDATE messages SET body_enc = ? WHERE id = ?",
                                       (rows[0]["body_enc"], ids[1])))
    moved = await db.read(lambda c: c.execute("SELECT * FROM messages WHERE id = ?",
                                              (ids[1],)).fetchone())
    with pytest.raises(sealed.Tampered):
        sealed.open_in(cipher, moved["body_enc"], "messages", "body_enc", moved)


async def test_the_outbox_is_claimed_once_and_marked(db: Database, cipher: Cipher) -> None:
    pid, aid = await db.write(lambda c: _person(c, cipher))

    def put(c: sqlite3.Connection, text: str, priority: int) -> int:
        return outbox.enqueue(c, cipher, person_id=pid, address_id=aid, channel="sms",
                              text=text, choices=(("1", "Yes"),), locale="en_GB",
                              priority=priority, not_before=NOW, now=NOW)

    first = await db.write(lambda c: put(c, "one", outbox.REPLY))
    second = await db.write(lambda c: put(c, "two", outbox.REPLY))
    assert second > first
    claimed = await db.write(lambda c: outbox.claim_due(c, cipher, NOW, 10, ("sms",)))
    assert [(r.id, r.text) for r in claimed] == [(first, "one"), (second, "two")]
    assert await db.write(lambda c: outbox.claim_due(c, cipher, NOW, 10, ("sms",))) == []
    await db.write(lambda c: outbox.mark_sent(c, first, "SMx1", NOW))
    await db.write(lambda c: outbox.mark_retry(c, second, NOW + 60, "timeout"))
    assert await db.write(lambda c: outbox.claim_due(c, cipher, NOW + 1, 10, ("sms",))) == []
    again = await db.write(lambda c: outbox.claim_due(c, cipher, NOW + 61, 10, ("sms",)))
    assert [(r.id, r.attempts) for r in again] == [(second, 2)]
    statuses = await db.read(lambda c: [tuple(r) for r in c.execute(
        "SELECT id, status, provider_id FROM outbox ORDER BY id")])
    assert statuses == [(first, "sent", "SMx1"), (second, "sending", None)]


async def test_jobs_are_replaced_by_key_and_fired_once(db: Database, cipher: Cipher) -> None:
    pid, _ = await db.write(lambda c: _person(c, cipher))
    old = await db.write(lambda c: jobs.schedule(c, person_id=pid, kind="checkin",
                                                 due_at=NOW + 10, now=NOW, key="k"))
    new = await db.write(lambda c: jobs.schedule(c, person_id=pid, kind="checkin",
                                                 due_at=NOW + 20, now=NOW, key="k",
                                                 data={"n": 2}))
    none = await db.write(lambda c: jobs.schedule(c, person_id=None, kind="sweep",
                                                  due_at=NOW + 5, now=NOW, key="s"))
    assert await db.read(lambda c: jobs.due(c, NOW + 30)) == [(none, NOW + 5), (new, NOW + 20)]
    fired = await asyncio.gather(*(db.write(lambda c: jobs.claim(c, new, NOW + 30))
                                   for _ in range(3)))
    assert [f.data if f else None for f in fired] == [{"n": 2}, None, None]
    assert await db.write(lambda c: jobs.claim(c, old, NOW + 30)) is None  # replaced
    assert await db.write(lambda c: jobs.cancel(c, pid, NOW)) == 0
    assert await db.read(lambda c: jobs.next_due(c)) == NOW + 5


async def test_the_audit_chain_verifies_and_is_append_only(db: Database) -> None:
    for n in range(5):
        await db.write(lambda c, n=n: audit.append(c, "console:1", "viewed", NOW + n,
                                                   person_id=n, detail={"n": n}))
    verdict = await db.read(audit.verify)
    assert verdict.ok and verdict.rows == 5
    for sql in ("UPDATE audit SET actor = 'someone else' WHERE id = 2",
                "DELETE FROM audit WHERE id = 5"):
        with pytest.raises((sqlite3.IntegrityError, psycopg.errors.RaiseException),
                           match="append-only"):
            await db.write(lambda c, sql=sql: c.execute(sql))
    assert (await db.read(audit.verify)).ok


async def test_letters_keep_every_version(db: Database, cipher: Cipher) -> None:
    pid, _ = await db.write(lambda c: _person(c, cipher))
    case_id = await db.write(lambda c: _case(c, pid))
    letter_id = await db.write(lambda c: letters.create(
        c, cipher, person_id=pid, case_id=case_id, direction="to_other", status="draft",
        body="I want you to know", author_kind="victim", author="person", version_status="draft",
        now=NOW))
    number = await db.write(lambda c: letters.add_version(
        c, cipher, letter_id, "I want you to know how it felt", "facilitator", "console:1",
        "proposed", NOW + 1, reason="kinder"))
    assert number == 2
    versions = await db.read(lambda c: letters.versions(c, cipher, letter_id))
    assert [(v.number, v.body) for v in versions] == [
        (1, "I want you to know"), (2, "I want you to know how it felt")]
    assert versions[1].reason == "kinder"


async def test_case_notes(db: Database, cipher: Cipher) -> None:
    pid, _ = await db.write(lambda c: _person(c, cipher))
    case_id = await db.write(lambda c: _case(c, pid))
    fields = {"who": "Sam", "what": "agreed to meet on Tuesday"}
    note_id = await db.write(lambda c: notes.add(c, cipher, case_id, "phone", fields, NOW - 60,
                                                 "console:1", NOW))
    found = await db.read(lambda c: notes.of_case(c, cipher, case_id))
    assert [(n.id, n.how, n.fields) for n in found] == [(note_id, "phone", fields)]
    assert [n.id for n in await db.read(lambda c: notes.of_person(c, cipher, pid))] == [note_id]


async def test_search_tokens_find_a_name_and_erasure_forgets_everything(
        db: Database, cipher: Cipher) -> None:
    pid, _ = await db.write(lambda c: _person(c, cipher))
    other, _ = await db.write(lambda c: _person(c, cipher, "+447700900999"))
    await db.write(lambda c: name_index.index_name(c, cipher, pid, "Ada Lovelace"))
    await db.write(lambda c: name_index.index_name(c, cipher, other, "Grace Hopper"))
    await db.write(lambda c: records.log_message(c, cipher, pid, "in", "sms", "hello", NOW))
    found, _ = await db.read(lambda c: search.candidates(c, cipher, "lovelace"))
    assert set(found) == {pid}
    case_id = await db.write(lambda c: _case(c, pid))
    cases = await db.read(lambda c: search.find(c, cipher, "lovelace", None))
    assert [(r.id, r.person_id) for r in cases.cases] == [(case_id, pid)]
    by_phone, _ = await db.read(lambda c: search.candidates(c, cipher, "07700 900123"))
    assert set(by_phone) == {pid}
    assert await db.read(lambda c: subject.has_content(c, pid))

    await db.write(lambda c: subject.erase(c, pid, NOW + 1, "console:1"))
    assert await db.read(lambda c: subject.is_erased(c, pid))
    assert not await db.read(lambda c: subject.has_content(c, pid))
    assert await db.read(lambda c: subject.people_with_content(c)) == {other}
    assert (await db.read(lambda c: search.candidates(c, cipher, "lovelace")))[0] == {}
    assert await db.read(lambda c: records.find_address(c, cipher, "sms", PHONE)) is None
    assert (await db.read(audit.verify)).ok


async def test_a_changed_name_keeps_only_its_own_tokens(db: Database, cipher: Cipher) -> None:
    pid, _ = await db.write(lambda c: _person(c, cipher))
    other, _ = await db.write(lambda c: _person(c, cipher, "+447700900999"))
    await db.write(lambda c: name_index.index_name(c, cipher, other, "Ada Byron"))
    await db.write(lambda c: name_index.index_name(c, cipher, pid, "Ada Lovelace"))
    await db.write(lambda c: name_index.index_name(c, cipher, pid, "Ada King"))

    async def found(word: str) -> set[int]:
        return set((await db.read(lambda c: search.candidates(c, cipher, word)))[0])

    assert (await found("lovelace"), await found("king"), await found("ada")) == (
        set(), {pid}, {pid, other})
    await db.write(lambda c: name_index.index_name(c, cipher, pid, None))
    assert (await found("king"), await found("ada"), await found("byron")) == (
        set(), {other}, {other})


async def test_a_claimed_message_names_its_sender_and_a_redelivery_changes_nothing(
        db: Database, cipher: Cipher) -> None:
    def claim(key: str, at: float) -> Callable[[sqlite3.Connection], tuple[int, int] | None]:
        return lambda c: records.claim_from(c, cipher, key, "sms", PHONE, at)

    first = await db.write(claim("sms:SM1", NOW))
    again = await db.write(claim("sms:SM1", NOW + 5))
    second = await db.write(claim("sms:SM2", NOW + 9))
    assert first is not None and again is None and second == first
    rows = await db.read(lambda c: [tuple(r) for r in c.execute(
        "SELECT key, person_id FROM inbound ORDER BY key")])
    assert rows == [("sms:SM1", first[0]), ("sms:SM2", first[0])]
    seen = await db.read(lambda c: c.execute(
        "SELECT last_seen_at FROM addresses WHERE id = ?", (first[1],)).fetchone()[0])
    assert seen == NOW + 9


async def test_provider_statuses_only_move_forward(db: Database, cipher: Cipher) -> None:
    pid, aid = await db.write(lambda c: _person(c, cipher))
    row_id = await db.write(lambda c: outbox.enqueue(
        c, cipher, person_id=pid, address_id=aid, channel="sms", text="hi", choices=(),
        locale="en_GB", priority=outbox.REPLY, not_before=NOW, now=NOW))
    await db.write(lambda c: provider.record_sent(c, "sms", row_id, ["SMa"], "queued", NOW))
    await db.write(lambda c: provider.record_sent(c, "sms", row_id, ["SMa"], "queued", NOW))
    moved = await db.write(lambda c: provider.record_status(c, "sms", "SMa", "delivered", "",
                                                            NOW + 1))
    back = await db.write(lambda c: provider.record_status(c, "sms", "SMa", "sent", "", NOW + 2))
    assert moved.advanced and not back.advanced
    rows = await db.read(lambda c: [tuple(r) for r in c.execute(
        "SELECT provider_id, status, final FROM provider_messages")])
    assert rows == [("SMa", "delivered", 1)]
    assert await db.read(lambda c: provider.linked_ids(c, "sms", 10)) == ["SMa"]
