"""A worker process for the crash test: takes a burst of inbound messages, prints ACK lines.

    python -m tests.crash_worker DB PROVIDER_LOG INBOUND_JSONL

The provider stand-in appends each accepted message to PROVIDER_LOG (fsync'd, like a real
provider's own records) and can say later whether it got a given outbox row.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from bot.channels.base import Outgoing, SendResult, Sent
from bot.clock import SystemClock
from bot.config import Settings
from bot.runtime import Inbound
from bot.service import Service

KEY = "q2Yx6m0X2c3kLrWbTq6l7QyI0W6t2WcQmH4zJ3b7nJk"


class RecordingProvider:
    name = "sms"

    def __init__(self, log: Path) -> None:
        self.log = log

    async def send(self, out: Outgoing) -> SendResult:
        with self.log.open("a") as fh:
            fh.write(json.dumps({"outbox": out.outbox_id, "to": out.address}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return Sent(f"P{out.outbox_id}")

    async def reconcile(self, out: Outgoing) -> bool | None:
        if not self.log.exists():
            return False
        return any(json.loads(line)["outbox"] == out.outbox_id
                   for line in self.log.read_text().splitlines() if line.strip())


async def main(db: Path, provider_log: Path, inbound_file: Path) -> None:
    settings = Settings(database=db, data_key=KEY)
    service = await Service.open(settings, SystemClock(), {"sms": RecordingProvider(provider_log)})
    sender = asyncio.create_task(service.sender.run(idle=0.05))
    messages = [json.loads(line) for line in inbound_file.read_text().splitlines()]

    async def one(m: dict[str, str]) -> None:
        await service.runtime.handle(Inbound("sms", m["from"], m["id"], m["text"]))
        print("ACK", m["id"], flush=True)  # acknowledged only after commit

    for start in range(0, len(messages), 25):
        await asyncio.gather(*(one(m) for m in messages[start:start + 25]))
    while await service.db.read(lambda c: c.execute(
            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')").fetchone()[0]):
        await asyncio.sleep(0.02)
    sender.cancel()
    await asyncio.gather(sender, return_exceptions=True)
    await service.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
