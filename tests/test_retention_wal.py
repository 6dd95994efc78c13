"""A retention sweep that erased someone leaves no sealed content in the WAL file either."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.clock import VirtualClock
from bot.config import Settings
from bot.privacy.sealed import SEALED
from bot.runtime import Inbound
from bot.service import Service
from bot.web import start_retention
from tests.flowkit import OPEN_CASE


async def test_the_sweep_checkpoints_the_wal(service: Service, clock: VirtualClock,
                                             settings: Settings) -> None:
    await start_retention(settings, service)
    for n, text in enumerate(OPEN_CASE):
        await service.runtime.handle(Inbound("sms", "+447700900802", f"b{n}", text))
    await service.db.checkpoint()
    blobs = await service.db.read(lambda c: [bytes(r[0]) for s in SEALED
                                             for r in c.execute(f"SELECT {s.column}"
                                                                f" FROM {s.table}") if r[0]])
    assert blobs
    await service.db.write(lambda c: c.execute("UPDATE cases SET closed_at = 0"))
    clock.advance_to(clock.now() + timedelta(days=800))
    await service.runtime.fire_due()
    status = await service.db.read(lambda c: c.execute(
        "SELECT status FROM people WHERE id = 1").fetchone()[0])
    assert status == "erased"
    raw = b"".join(p.read_bytes() for p in Path(settings.database).parent.glob("*.sqlite3*"))
    assert [b for b in blobs if b in raw] == []
