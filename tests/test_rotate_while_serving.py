"""Key-file rotation while the service runs: the old key stays until the service seals with
the new one, so nothing written meanwhile becomes unreadable."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot import admin
from bot.clock import SystemClock
from bot.config import Settings
from bot.privacy import subject
from bot.runtime import Inbound
from bot.service import Service

PHONES = ("+447700900111", "+447700900222", "+447700900333")


def keys(path: Path) -> int:
    return len([line for line in path.read_text().splitlines() if line.strip()])


async def rotate_key(s: Settings) -> int:
    args = argparse.Namespace(command="rotate-key", generate=False)
    return await asyncio.to_thread(admin.main, s, args)


async def test_rotation_keeps_the_old_key_until_the_service_restarts(tmp_path: Path) -> None:
    s = Settings(database=tmp_path / "r.db", data_key="")
    svc = await Service.open(s, SystemClock(), {})            # `rjbot serve`, key-file mode
    try:
        await svc.runtime.handle(Inbound("sms", PHONES[0], "SM1", "hello"))
        assert await rotate_key(s) == admin.UNFINISHED          # the service still has the old key
        assert keys(s.key_file) == 2
        await svc.runtime.handle(Inbound("sms", PHONES[1], "SM2", "hello"))  # under the old key
    finally:
        await svc.close()
    svc = await Service.open(s, SystemClock(), {})            # restarted: seals with the new key
    try:
        assert await rotate_key(s) == 0
        assert keys(s.key_file) == 1
        await svc.runtime.handle(Inbound("sms", PHONES[2], "SM3", "hello"))
    finally:
        await svc.close()
    svc = await Service.open(s, SystemClock(), {})
    try:
        for phone in PHONES:
            found = await svc.db.read(lambda c, p=phone: subject.find_people(c, svc.cipher, p))
            assert len(found) == 1, phone
            await svc.db.read(lambda c, f=found: subject.export(c, svc.cipher, f[0]))
    finally:
        await svc.close()
