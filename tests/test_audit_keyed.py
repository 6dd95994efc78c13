"""The audit chain is an HMAC chain under a key derived from the data key (issue 17, 4).

With plain SHA-256, anyone with the file could rewrite a row and recompute every hash after it;
`rjbot audit verify` then said "ok". Without the data key that is no longer possible.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.config import Settings
from bot.crypto import new_key_text
from bot.privacy.rotate import rotate
from bot.runtime import Inbound
from bot.service import Service
from bot.store import audit

ROOT = Path(__file__).resolve().parent.parent


def verify_cli(db: Path, key: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RJBOT_DATABASE": str(db),
           "RJBOT_DATA_KEY": key}
    return subprocess.run([sys.executable, "-m", "bot", "audit", "verify"], text=True,
                          capture_output=True, cwd=ROOT, env=env, timeout=60)


def forge(db: Path, row_id: int) -> None:
    """Rewrite one row's actor and recompute the SHA-256 chain after it, as the old code made
    it: what an attacker with the file but not the key can do."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    conn.executescript("DROP TRIGGER audit_no_update;")
    prev = audit.GENESIS
    for r in conn.execute("SELECT * FROM audit ORDER BY id").fetchall():
        actor = "nobody" if r["id"] == row_id else r["actor"]
        fields = (r["id"], r["at"], actor, r["action"], r["person_id"], r["case_id"],
                  r["detail"])
        if r["id"] >= row_id:
            body = json.dumps([*fields, prev], separators=(",", ":"), sort_keys=True)
            digest = hashlib.sha256(body.encode()).hexdigest()
            conn.execute("UPDATE audit SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?",
                         (actor, prev, digest, r["id"]))
            prev = digest
        else:
            prev = r["hash"]
    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (prev, audit.HEAD_KEY))
    conn.commit()
    conn.close()


async def with_events(settings: Settings) -> None:
    svc = await Service.open(settings, SystemClock(), {})
    try:
        for n in range(3):
            await svc.runtime.handle(Inbound("sms", f"+44770090040{n}", f"SM{n}", "hello"))
    finally:
        await svc.close()


async def test_a_rewritten_chain_is_caught_without_the_key(settings: Settings) -> None:
    await with_events(settings)
    ok = verify_cli(settings.database, settings.data_key)
    assert ok.returncode == 0 and "audit ok" in ok.stdout, ok.stderr
    rows = int(ok.stdout.split("; ")[1].split()[0])
    assert rows >= 3
    forge(settings.database, 2)
    broken = verify_cli(settings.database, settings.data_key)
    assert broken.returncode == 1
    assert "BROKEN: row 2 was altered" in broken.stdout


async def test_the_chain_still_verifies_after_a_key_rotation(settings: Settings) -> None:
    await with_events(settings)


    rotated = replace(settings, data_key=new_key_text(), data_key_old=settings.data_key)
    svc = await Service.open(rotated, SystemClock(), {})
    try:
        assert await rotate(svc.db, svc.cipher) > 0
        await svc.runtime.handle(Inbound("sms", "+447700900499", "SM9", "hello"))
    finally:
        await svc.close()
    done = verify_cli(settings.database, rotated.data_key)  # the old key is gone now
    assert done.returncode == 0 and "audit ok" in done.stdout, done.stdout + done.stderr


async def test_a_keyed_chain_cannot_be_checked_or_extended_without_the_key(
        settings: Settings) -> None:
    await with_events(settings)
    conn = sqlite3.connect(settings.database)  # no data key registered for this file here
    conn.row_factory = sqlite3.Row
    audit._KEYS.pop(str(settings.database.resolve()), None)
    try:
        verdict = audit.verify(conn)
        assert not verdict.ok and "no data key" in verdict.problem
        with pytest.raises(RuntimeError, match="keyed"):  # no unkeyed row slipped in
            audit.append(conn, "someone", "forged", 1.0)
    finally:
        conn.close()
