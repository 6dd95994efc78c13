"""Backups without the key (issue 17, deliverable 9): `rjbot backup` while serving, `rjbot
restore` only when the key opens the backup, and every acknowledged message comes back."""

from __future__ import annotations

import asyncio
import base64
import os
import sqlite3
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot import backup as backups
from bot.clock import SystemClock
from bot.config import Settings
from bot.crypto import new_key_text
from bot.privacy import sealed
from bot.runtime import Inbound
from bot.service import Service

ROOT = Path(__file__).resolve().parent.parent


def rjbot(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RJBOT_DATABASE": str(settings.database),
           "RJBOT_DATA_KEY": settings.data_key}
    return subprocess.run([sys.executable, "-m", "bot", *args], text=True, capture_output=True,
                          cwd=ROOT, env=env, timeout=120)


async def texts_held(settings: Settings) -> set[str]:
    svc = await Service.open(settings, SystemClock(), {})
    try:
        return set(await svc.db.read(lambda c: [
            sealed.open_in(svc.cipher, r["body_enc"], "messages", "body_enc", r)
            for r in c.execute("SELECT id, person_id, body_enc FROM messages"
                               " WHERE direction = 'in'")]))
    finally:
        await svc.close()


async def test_a_backup_taken_under_load_restores_every_acknowledged_message(
        settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "backups" / "rjbot.backup"
    out.parent.mkdir()
    acknowledged: list[str] = []
    svc = await Service.open(settings, SystemClock(), {})
    try:
        async def talker(n: int) -> None:
            for i in range(40):
                text = f"note {n}-{i}"
                await svc.runtime.handle(Inbound("sms", f"+4477009005{n:02d}", f"SM{n}x{i}",
                                                 text))
                acknowledged.append(text)  # handle returned: committed, the provider acked

        load = [asyncio.create_task(talker(n)) for n in range(4)]
        while len(acknowledged) < 30:
            await asyncio.sleep(0.01)
        before = list(acknowledged)
        n = await asyncio.to_thread(backups.backup, settings, out)  # while they keep talking
        still_talking = not all(t.done() for t in load)
        await asyncio.gather(*load)
    finally:
        await svc.close()
    assert still_talking and n >= len(before)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    raw = out.read_bytes()
    key = settings.data_key
    for secret in (key.encode(), base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)),
                   b"note 0-0", b"+447700900500"):
        assert secret not in raw  # no key, no plain text, no number
    later = set(acknowledged) - set(before)
    assert later  # some messages came after the backup: the restore loses only those
    restored = rjbot(settings, "restore", str(out))
    assert restored.returncode == 0, restored.stderr
    assert "previous database is kept" in restored.stdout
    held = await texts_held(settings)
    assert set(before) <= held  # every message acknowledged before the backup began
    verified = rjbot(settings, "audit", "verify")
    assert verified.returncode == 0 and "audit ok" in verified.stdout, verified.stdout


async def test_restore_refuses_a_backup_the_key_does_not_open(settings: Settings,
                                                               tmp_path: Path) -> None:
    other = replace(settings, database=tmp_path / "other.sqlite3", data_key=new_key_text())
    svc = await Service.open(other, SystemClock(), {})
    try:
        await svc.runtime.handle(Inbound("sms", "+447700900600", "SMo", "someone else's"))
    finally:
        await svc.close()
    theirs = tmp_path / "theirs.backup"
    assert rjbot(other, "backup", "--out", str(theirs)).returncode == 0
    svc = await Service.open(settings, SystemClock(), {})
    try:
        await svc.runtime.handle(Inbound("sms", "+447700900601", "SMm", "ours"))
    finally:
        await svc.close()
    before = settings.database.read_bytes()
    refused = rjbot(settings, "restore", str(theirs))
    assert refused.returncode == 2
    assert "data key does not open" in refused.stderr and "nothing was replaced" in refused.stderr
    assert settings.database.read_bytes() == before
    assert await texts_held(settings) == {"ours"}
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all" * 100)
    assert rjbot(settings, "restore", str(junk)).returncode == 2


def test_the_backup_is_not_written_over_the_key_or_the_database(settings: Settings) -> None:
    with pytest.raises(backups.BackupError):
        backups.backup(settings, settings.key_file)
    sqlite3.connect(settings.database).close()
    with pytest.raises(backups.BackupError):
        backups.backup(settings, settings.database)
