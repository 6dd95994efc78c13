"""Access export, erasure, the hash-chained audit log and key rotation, end to end."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from bot.privacy.rotate import rotate
from bot.privacy.sealed import SEALED
from bot.runtime import Inbound
from bot.service import Service, cipher_for
from bot.store import audit, records
from bot.store.db import Database

ROOT = Path(__file__).resolve().parent.parent
PHONE = "+447700900777"


def rjbot(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RJBOT_DATABASE": str(db),
           "RJBOT_DATA_KEY": ""}
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env=env, timeout=60)


@pytest.mark.slow
def test_export_then_erase_removes_the_words_but_keeps_the_audit(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    words = ["Quillbright", "my unique quokka story"]
    talk = rjbot(db, "simulate", "--from", PHONE, "--db", str(db),
                 stdin=f"hello\n1\n1\n1\n{words[0]}\n1\n2\n2\n{words[1]}\n")
    assert talk.returncode == 0, talk.stderr
    exported = rjbot(db, "export", "--address", PHONE, "--out", str(tmp_path / "x"))
    assert exported.returncode == 0, exported.stderr
    data = (tmp_path / "x" / "rjbot-export-1.json").read_text()
    page = (tmp_path / "x" / "rjbot-export-1.html").read_text()
    for w in [*words, PHONE]:
        assert w in data and w in page
    assert rjbot(db, "erase", "--address", PHONE, stdin="no\n").returncode == 1  # asks first
    assert rjbot(db, "erase", "--address", PHONE, "--yes").returncode == 0
    again = rjbot(db, "export", "--address", PHONE, "--out", str(tmp_path / "y"))
    assert again.returncode == 1 and not list((tmp_path / "y").glob("*"))
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("p.db*") if p.suffix != ".key")
    for w in [*words, PHONE]:
        assert w.encode() not in raw
    verified = rjbot(db, "audit", "verify")
    assert verified.returncode == 0 and "audit ok" in verified.stdout
    conn = sqlite3.connect(db)
    actions = [r[0] for r in conn.execute("SELECT action FROM audit ORDER BY id")]
    assert {"case_opened", "exported", "erased"} <= set(actions)
    conn.close()


def test_refused_erasure_records_the_exemption(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    rjbot(db, "simulate", "--from", PHONE, "--db", str(db), stdin="hello\n")
    done = rjbot(db, "erase", "--address", PHONE, "--refuse", "legal claims (Art 17(3)(e))")
    assert done.returncode == 0
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT detail FROM audit WHERE action = 'erasure_refused'").fetchone()
    assert json.loads(row[0]) == {"exemption": "legal claims (Art 17(3)(e))"}
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] > 0
    conn.close()


async def test_the_audit_chain_detects_edits_deletions_and_truncation(tmp_path: Path) -> None:
    async with Database(tmp_path / "a.db") as db:
        for n in range(5):
            await db.write(lambda c, n=n: records.audit(c, "bot", f"act{n}", 1000.0 + n))
        assert (await db.read(audit.verify)).ok
        with pytest.raises(sqlite3.IntegrityError):
            await db.write(lambda c: c.execute("UPDATE audit SET actor = 'x' WHERE id = 2"))
        with pytest.raises(sqlite3.IntegrityError):
            await db.write(lambda c: c.execute("DELETE FROM audit WHERE id = 5"))

    def tamper(sql: str) -> audit.Verdict:
        copy = tmp_path / "copy.db"
        copy.write_bytes((tmp_path / "a.db").read_bytes())
        conn = sqlite3.connect(copy)
        conn.row_factory = sqlite3.Row
        conn.executescript("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;" + sql)
        verdict = audit.verify(conn)
        conn.close()
        return verdict

    assert "altered" in tamper("UPDATE audit SET actor = 'mallory' WHERE id = 3").problem
    assert "missing" in tamper("DELETE FROM audit WHERE id = 2").problem
    assert "removed" in tamper("DELETE FROM audit WHERE id = 5").problem


async def test_rotation_reseals_everything_and_people_are_still_found(
    settings: Settings, tmp_path: Path
) -> None:
    from dataclasses import replace

    from bot.clock import SystemClock
    from bot.crypto import new_key_text

    async def talk(s: Settings, n: int) -> None:
        svc = await Service.open(s, SystemClock(), {})
        await svc.runtime.handle(Inbound("sms", PHONE, f"SM{n}", "hello"))
        await svc.close()

    await talk(settings, 1)
    new = new_key_text()
    during = replace(settings, data_key=new, data_key_old=settings.data_key)
    await talk(during, 2)  # written under the new key while old data is still old
    cipher = cipher_for(during)
    async with Database(settings.database) as db:
        assert await rotate(db, cipher) > 0
        ids = await db.read(lambda c: [
            bytes(r[0][1:5]) for s in SEALED
            for r in c.execute(f"SELECT {s.column} FROM {s.table}") if r[0]])
    assert set(ids) == {cipher.current_key_id}
    after = replace(settings, data_key=new, data_key_old="")
    svc = await Service.open(after, SystemClock(), {})
    try:
        found = await svc.db.read(lambda c: records.find_address(c, svc.cipher, "sms", PHONE))
        people = await svc.db.read(lambda c: c.execute("SELECT count(*) FROM people").fetchone())
    finally:
        await svc.close()
    assert found is not None and people[0] == 1


async def test_erasure_during_a_send_leaves_nothing_unreadable_to_reconcile(
    service: Service
) -> None:
    from bot.clock import to_ts
    from bot.privacy import subject
    from bot.store import outbox

    await service.runtime.handle(Inbound("sms", PHONE, "SM1", "hello"))
    now = to_ts(service.runtime.clock.now())
    claimed = await service.db.write(
        lambda c: outbox.claim_due(c, service.cipher, now + 1, 10, ("sms",)))
    assert claimed  # a send is in flight when the erasure comes
    await service.db.write(lambda c: subject.erase(c, 1, now, "cli"))
    assert await service.db.read(lambda c: outbox.in_doubt(c, service.cipher)) == []
    assert await service.db.write(lambda c: outbox.claim_due(
        c, service.cipher, now + 10**6, 10, ("sms",))) == []
