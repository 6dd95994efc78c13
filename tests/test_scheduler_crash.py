"""SIGKILL between a job's claim and the send: after a restart the person gets it exactly once.

Each phase runs in its own process on one SQLite file. The crashing process kills itself with
SIGKILL at the chosen point (right after the job's transaction commits, or inside the channel's
send after the outbox row is claimed), so nothing gets a chance to clean up.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.channels.base import Outgoing, SendResult, Sent
from bot.clock import VirtualClock
from bot.config import Settings
from bot.runtime import Inbound
from bot.service import Service
from tests.conftest import START

ROOT = Path(__file__).resolve().parent.parent
DUE = START + timedelta(days=1)  # the check-in, 10:00 in London: inside the safe time


class FileChannel:
    """Delivers by appending a line to a file (fsynced): what the person received, durably."""

    name = "sms"

    def __init__(self, path: Path, die_in_send: bool = False) -> None:
        self.path = path
        self.die_in_send = die_in_send

    async def send(self, out: Outgoing) -> SendResult:
        if self.die_in_send:
            os.kill(os.getpid(), signal.SIGKILL)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"outbox": out.outbox_id, "text": out.text}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        return Sent(f"file-{out.outbox_id}")

    async def reconcile(self, out: Outgoing) -> bool | None:
        return None  # like SMS: the provider cannot be asked, so an in-doubt row is resent


def child_settings(db: str, key: str) -> Settings:
    return Settings(database=Path(db), data_key=key)


async def child(mode: str, db: str, key: str, received: str) -> None:
    """One process's life: `kill-after-commit`, `kill-in-send` or `restart`."""
    clock = VirtualClock(DUE + timedelta(minutes=1))
    channel = FileChannel(Path(received), die_in_send=mode == "kill-in-send")
    service = await Service.open(child_settings(db, key), clock, {"sms": channel})
    if mode == "kill-after-commit":
        service.runtime.subscribe(lambda applied: os.kill(os.getpid(), signal.SIGKILL))
    await service.sender.recover()
    await service.runtime.fire_due()
    while await service.sender.send_due():
        pass
    await service.close()


def run_child(mode: str, settings: Settings, received: Path) -> int:
    cmd = [sys.executable, "-m", "tests.test_scheduler_crash", mode, str(settings.database),
           settings.data_key, str(received)]
    return subprocess.run(cmd, cwd=ROOT, timeout=60, check=False).returncode


async def prepare(settings: Settings) -> None:
    """A person, a facilitator's reply, and one check-in due at DUE."""
    service = await Service.open(settings, VirtualClock(START), {})
    try:
        for n, text in enumerate(("hello", "Sam", "1")):
            await service.runtime.handle(Inbound("sms", "+447700900123", f"p-{n}", text))
        await service.runtime.act(1, "replied")
        await service.runtime.act(1, "checkins_start", {"days": [1]})
        # the first-contact replies are not what this test is about: mark them sent
        await service.db.write(lambda c: c.execute("UPDATE outbox SET status = 'sent'"))
    finally:
        await service.close()


async def table(settings: Settings, sql: str) -> list[Any]:
    service = await Service.open(settings, VirtualClock(START), {})
    try:
        return await service.db.read(lambda c: [tuple(r) for r in c.execute(sql).fetchall()])
    finally:
        await service.close()


@pytest.mark.slow
@pytest.mark.parametrize("crash", ["kill-after-commit", "kill-in-send"])
async def test_sigkill_between_claim_and_send_delivers_exactly_once(
    settings: Settings, tmp_path: Path, crash: str
) -> None:
    await prepare(settings)
    received = tmp_path / "received.jsonl"
    code = await asyncio.to_thread(run_child, crash, settings, received)
    assert code == -signal.SIGKILL
    assert not received.exists()  # it died before the person got anything
    assert await table(settings, "SELECT status FROM jobs WHERE kind = 'checkin'") == [("done",)]
    code = await asyncio.to_thread(run_child, "restart", settings, received)
    assert code == 0
    code = await asyncio.to_thread(run_child, "restart", settings, received)  # and again
    assert code == 0
    lines = [json.loads(x) for x in received.read_text(encoding="utf-8").splitlines()]
    assert [x["text"].split("?")[0] for x in lines] == [
        "This is a check-in from our team. How are you feeling today, from 1 (very low) to 5 "
        "(very good)"
    ]
    rows = await table(settings, "SELECT status FROM outbox WHERE id = "
                                 f"{lines[0]['outbox']}")
    assert rows == [("sent",)]
    fired = await table(settings, "SELECT count(*) FROM audit WHERE action = 'checkin_sent'")
    assert fired == [(1,)]


if __name__ == "__main__":
    asyncio.run(child(*sys.argv[1:5]))
