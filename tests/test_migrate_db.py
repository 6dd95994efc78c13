"""`rjbot migrate-db`: a SQLite database made by real conversations, moved into PostgreSQL by
the real command, then read there by the service; refusals leave the target as it was."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.channels.console import ConsoleChannel
from bot.clock import VirtualClock
from bot.config import Settings
from bot.crypto import new_key_text
from bot.privacy import sealed, subject
from bot.runtime import Inbound
from bot.service import Service
from bot.simulate import simulate
from bot.store.backends import open_database
from tests.conftest import START

ROOT = Path(__file__).resolve().parent.parent
NAME, NOTE, LETTER = "Sam Okafor", "Met at the library, agreed to write", "I am sorry for it"
FIRST, SECOND = "+447700900501", "+447700900502"
# first contact to the 48-hour promise, a facilitator's note, a letter typed in and approved,
# then two days on (jobs fire, reminders and alerts are raised)
TALK = ["hello", "1", "1", "1", NAME, "1", "1", "2", "2", "2",
        f'::act case_note how=visit what="{NOTE}" by=alice',
        f'::act letter_in text="{LETTER}" by=alice', "::act letter_approve letter=1 by=bob",
        "::wait 2d", f"::from {SECOND}", "hello", "1"]


def rjbot(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command, as an IT person runs it (the data key in the environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RJBOT_")}
    env.update(RJBOT_DATA_KEY=settings.data_key, RJBOT_DATABASE=str(settings.database),
               PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
async def source(tmp_path: Path) -> Settings:
    settings = Settings(database=tmp_path / "rjbot.sqlite3", data_key=new_key_text())
    await simulate(settings, "sms", FIRST, TALK, io.StringIO())
    return settings


def counts_sqlite(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type ="
                                            " 'table' AND name NOT LIKE 'sqlite_%'")]
        return {n: conn.execute(f"SELECT count(*) FROM {n}").fetchone()[0]
                for n in names}


def sealed_columns_with_values(path: Path) -> int:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return sum(1 for s in sealed.SEALED if conn.execute(
            f"SELECT 1 FROM {s.table} WHERE length({s.column}) > 0 LIMIT 1").fetchone())


def counts_pg(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname"
                                            " = current_schema() AND tablename <> 'rjbot_schema'")]
        return {n: int(next(iter(conn.execute(f'SELECT count(*) FROM "{n}"')))[0])
                for n in names}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def opened(settings: Settings) -> tuple[dict[str, Any], list[str]]:
    """The first person's export and every letter version, opened where they are stored."""
    service = await Service.open(settings, VirtualClock(START), {})

    def read(conn: sqlite3.Connection) -> tuple[dict[str, Any], list[str]]:
        letters = [sealed.open_in(service.cipher, r["body_enc"], "letter_versions", "body_enc",
                                  r) for r in conn.execute("SELECT * FROM letter_versions")]
        return subject.export(conn, service.cipher, 1), letters
    try:
        return await service.db.read(read)
    finally:
        await service.close()


def on_pg(settings: Settings, url: str) -> Settings:
    return Settings(database_url=url, data_key=settings.data_key)


async def test_a_database_moves_whole_and_the_service_reads_it_on_postgresql(
        source: Settings, pg_url: str) -> None:
    before, counts = digest(source.database), counts_sqlite(source.database)
    assert all(counts[t] for t in ("people", "conversations", "messages", "outbox", "jobs",
                                   "cases", "case_notes", "letters", "letter_versions",
                                   "audit", "alerts", "addresses"))
    moved = rjbot(source, "migrate-db", "--to", pg_url)
    assert moved.returncode == 0, moved.stderr
    assert f"  messages: {counts['messages']} rows" in moved.stdout
    assert f"audit chain ok on PostgreSQL ({counts['audit']} rows" in moved.stdout
    filled = sealed_columns_with_values(source.database)
    assert filled >= 7  # addresses, state, messages, outbox, cases, notes, letters
    assert f"a sealed value of each of {filled} columns opens in its row" in moved.stdout
    for private in (NAME, NOTE, LETTER, FIRST, SECOND, "Okafor", "900501"):
        assert private not in moved.stdout + moved.stderr
    assert digest(source.database) == before, "the source file was changed"
    assert counts_pg(pg_url) == counts
    verified = rjbot(source, "audit", "verify", "--db", pg_url)
    assert verified.returncode == 0 and f"audit ok; {counts['audit']} rows" in verified.stdout
    # every sealed value opens in its place: the person's whole export is the same
    held = await opened(source)
    assert NAME in str(held[0]) and NOTE in str(held[0]) and LETTER in str(held[1])
    assert await opened(on_pg(source, pg_url)) == held
    await new_rows_get_fresh_ids(on_pg(source, pg_url), counts)


async def new_rows_get_fresh_ids(settings: Settings, counts: dict[str, int]) -> None:
    sent: list[dict[str, object]] = []
    channels = {n: ConsoleChannel(n, sent.append) for n in ("sms", "telegram")}
    service = await Service.open(settings, VirtualClock(START), channels)
    try:
        known = await service.runtime.handle(Inbound("sms", FIRST, "SMmoved1", "hello again"))
        new = await service.runtime.handle(Inbound("sms", "+447700900503", "SMmoved2", "hi"))
        assert known is not None and new is not None
        assert known.person_id == 1  # found by the keyed address hash that was copied
        assert new.person_id == counts["people"] + 1
        ids = await service.db.read(lambda c: [r[0] for r in c.execute(
            "SELECT id FROM messages ORDER BY id")])
        assert len(ids) == counts["messages"] + len(known.outbox_ids) + len(new.outbox_ids) + 2
        assert ids == sorted(set(ids))
        await service.sender.send_due()
        assert {m["to"] for m in sent} == {FIRST, "+447700900503"}
    finally:
        await service.close()


async def test_a_target_that_holds_data_is_refused_and_left_as_it_was(
        source: Settings, pg_url: str) -> None:
    assert rjbot(source, "migrate-db", "--to", pg_url).returncode == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DELETE FROM messages WHERE id = 1")
    held = counts_pg(pg_url)
    again = rjbot(source, "migrate-db", "--to", pg_url)
    assert again.returncode == 1
    assert "already holds data" in again.stderr and "nothing was changed" in again.stderr
    assert counts_pg(pg_url) == held


async def test_a_tampered_audit_row_stops_the_move_before_the_target_is_touched(
        source: Settings, pg_url: str) -> None:
    with closing(sqlite3.connect(source.database, isolation_level=None)) as conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET actor = 'someone else' WHERE id = 2")
    before = digest(source.database)
    moved = rjbot(source, "migrate-db", "--to", pg_url)
    assert moved.returncode == 1
    assert "audit log of the source does not verify (row 2 was altered)" in moved.stderr
    assert counts_pg(pg_url) == {}, "the target was changed"
    assert digest(source.database) == before


# servers that lose or change what they are given, each by a trigger on one table
LOSSY = {
    "messages": ("IF NEW.id % 2 = 0 THEN RETURN NULL; END IF;", "table messages: "),
    "case_notes": ("NEW.body_enc := NEW.body_enc || '\\x00'::bytea;",
                   "table case_notes: a sealed body_enc does not open in its row"),
    "audit": ("IF NEW.id = 2 THEN NEW.actor := 'someone else'; END IF;",
              "the audit chain does not verify on PostgreSQL (row 2 was altered)"),
    "letters": ("RAISE EXCEPTION 'no letters here';",
                "PostgreSQL refused it (RaiseException, SQLSTATE P0001) copying table letters"),
}


@pytest.mark.parametrize("table", LOSSY)
async def test_a_mismatch_on_the_target_rolls_everything_back_and_names_it(
        source: Settings, pg_url: str, table: str) -> None:
    body, said = LOSSY[table]
    async with open_database(pg_url):
        pass  # the schema, empty: allowed as a target
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE FUNCTION lose() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                     f" {body} RETURN NEW; END $$")
        conn.execute(f"CREATE TRIGGER lose BEFORE INSERT ON {table} FOR EACH ROW"
                     " EXECUTE FUNCTION lose()")
    moved = rjbot(source, "migrate-db", "--to", pg_url)
    assert moved.returncode == 1
    assert said in moved.stderr and "rolled back, nothing was changed" in moved.stderr
    assert set(counts_pg(pg_url).values()) == {0}


async def test_a_target_the_schema_cannot_be_made_in_is_left_as_it_was(
        source: Settings, pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE people (x integer)")  # not rjbot's, and empty
    moved = rjbot(source, "migrate-db", "--to", pg_url)
    assert moved.returncode == 1 and "Traceback" not in moved.stderr
    assert "PostgreSQL refused it (DuplicateTable, SQLSTATE 42P07)" in moved.stderr
    assert counts_pg(pg_url) == {"people": 0}


async def test_a_running_service_or_an_old_schema_is_refused(
        source: Settings, pg_url: str, tmp_path: Path) -> None:
    service = await Service.open(source, VirtualClock(START), {})
    try:
        running = rjbot(source, "migrate-db", "--to", pg_url)
    finally:
        await service.close()
    assert running.returncode == 1 and "stop `rjbot serve` first" in running.stderr
    old = Settings(database=tmp_path / "old.sqlite3", data_key=source.data_key)
    with closing(sqlite3.connect(source.database)) as src, \
            closing(sqlite3.connect(old.database, isolation_level=None)) as dest:
        src.backup(dest)
        dest.execute("PRAGMA user_version = 3")
    refused = rjbot(old, "migrate-db", "--to", pg_url)
    assert refused.returncode == 1 and "older than this rjbot" in refused.stderr
    wrong = rjbot(Settings(database=source.database, data_key=new_key_text()),
                  "migrate-db", "--to", pg_url)
    assert wrong.returncode == 2 and "different data key" in wrong.stderr
    assert counts_pg(pg_url) == {}
