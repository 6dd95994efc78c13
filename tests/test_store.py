"""The store: migrations, group commit isolation, and nothing personal in the raw files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.crypto import Cipher, DataKeyError, load_or_create_key, new_key_text, parse_key
from bot.runtime import Inbound
from bot.service import Service
from bot.store.db import Database
from bot.store.schema import MIGRATIONS


async def test_migrations_set_the_schema_version(tmp_path: Path) -> None:
    async with Database(tmp_path / "a.db") as db:
        version = await db.read(lambda c: c.execute("PRAGMA user_version").fetchone()[0])
        mode = await db.read(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0])
    assert version == len(MIGRATIONS)
    assert mode == "wal"
    assert (tmp_path / "a.db").stat().st_mode & 0o777 == 0o600
    async with Database(tmp_path / "a.db") as db:  # reopening migrates nothing twice
        assert await db.read(lambda c: c.execute("PRAGMA user_version").fetchone()[0]) == version


async def test_a_failing_unit_does_not_spoil_its_batch(tmp_path: Path) -> None:
    import asyncio

    async with Database(tmp_path / "a.db") as db:
        def good(n: int):  # type: ignore[no-untyped-def]
            return lambda c: c.execute("INSERT INTO meta VALUES (?, 'x')", (f"k{n}",)).rowcount

        def bad(c: sqlite3.Connection) -> None:
            c.execute("INSERT INTO meta VALUES ('bad', 'x')")
            raise ValueError("boom")

        results = await asyncio.gather(
            db.write(good(1)), db.write(bad), db.write(good(2)), return_exceptions=True
        )
        assert results[0] == 1 and results[2] == 1
        assert isinstance(results[1], ValueError)
        keys = await db.read(lambda c: [r[0] for r in c.execute("SELECT key FROM meta")])
    assert sorted(keys) == ["k1", "k2"]


async def test_personal_content_never_reaches_the_raw_files(service: Service) -> None:
    secret_name = "Zebediah Quartermaine"
    secret_text = "my bicycle was taken from Ashford station"
    phone = "+447700900555"
    for n, text in enumerate(["hello", secret_name, "1", secret_text]):
        await service.runtime.handle(Inbound("sms", phone, f"SM{n}", text))
    await service.sender.send_due()
    path = service.settings.database
    blobs = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")
                     if not p.name.endswith(".key"))
    for needle in (secret_name, secret_text, phone, "Zebediah", "bicycle", "7700900555"):
        assert needle.encode() not in blobs, needle
        assert needle.encode("utf-16-le") not in blobs, needle


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "db.key"
    key = load_or_create_key(None, key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(None, key_file) == key
    assert load_or_create_key(new_key_text(), key_file) != key


def test_bad_keys_are_refused_and_wrong_keys_cannot_read() -> None:
    with pytest.raises(DataKeyError):
        parse_key("too short")
    sealed = Cipher(parse_key(new_key_text())).seal("hello", "message")
    with pytest.raises(DataKeyError):
        Cipher(parse_key(new_key_text())).open(sealed, "message")


def test_old_keys_still_read_and_context_is_bound() -> None:
    old, new = parse_key(new_key_text()), parse_key(new_key_text())
    sealed = Cipher(old).seal("hello", "message")
    assert Cipher(new, old_keys=(old,)).open(sealed, "message") == "hello"
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        Cipher(old).open(sealed, "state")  # a blob cannot be moved to another column


def test_address_hash_is_keyed() -> None:
    a, b = Cipher(parse_key(new_key_text())), Cipher(parse_key(new_key_text()))
    assert a.address_hash("sms", "+447700900123") == a.address_hash("sms", "+447700900123")
    assert a.address_hash("sms", "+447700900123") != b.address_hash("sms", "+447700900123")
