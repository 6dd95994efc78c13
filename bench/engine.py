"""Engine and store throughput, against the raw SQLite commit ceiling measured in the same run.

    python bench/engine.py [--people 200] [--seconds 5]

Prints one JSON object:
- engine_steps_per_s: the pure engine alone (no I/O), a first-contact conversation on repeat;
- runtime_messages_per_s: full runtime (dedupe, state, log, outbox, jobs, audit; durable
  commits with synchronous=FULL) with `people` contacts sending concurrently;
- raw_commits_per_s: one-row INSERT + COMMIT transactions through aiosqlite, one after
  another, same file system and settings: the ceiling a naive store would have;
- ratio: runtime_messages_per_s / raw_commits_per_s (target: at least 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import engine
from bot.clock import SystemClock
from bot.config import Settings
from bot.crypto import new_key_text
from bot.runtime import Inbound
from bot.service import Service
from bot.types import Message, State

SCRIPT = ["hello", "Robin", "2", "help", "pause", "resume", "what?", "person"]


def bench_engine(seconds: float) -> float:
    now = datetime(2026, 3, 2, 10, tzinfo=UTC)
    steps, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        state = State()
        for text in SCRIPT:
            state = engine.step(state, Message(text, "sms"), now).state
        steps += len(SCRIPT)
    return steps / seconds


async def bench_raw(path: Path, seconds: float, synchronous: str) -> float:
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute(f"PRAGMA synchronous={synchronous}")
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        n, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            await conn.execute("BEGIN IMMEDIATE")
            await conn.execute("INSERT INTO t (v) VALUES (?)", ("x" * 100,))
            await conn.execute("COMMIT")
            n += 1
    return n / seconds


async def bench_runtime(path: Path, people: int, seconds: float, synchronous: str) -> float:
    settings = Settings(database=path, data_key=new_key_text(), synchronous=synchronous)
    service = await Service.open(settings, SystemClock(), {})
    done = 0
    stop = time.perf_counter() + seconds

    async def person(n: int) -> None:
        nonlocal done
        address, i = f"+4477009{n:05d}", 0
        while time.perf_counter() < stop:
            text = SCRIPT[i % len(SCRIPT)]
            await service.runtime.handle(Inbound("sms", address, f"{n}-{i}", text))
            i += 1
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(person(n) for n in range(people)))
    elapsed = time.perf_counter() - start
    await service.close()
    return done / elapsed


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--people", type=int, default=200)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--synchronous", default="FULL", choices=["FULL", "NORMAL"])
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="rjbot-bench-", dir=".") as tmp:
        raw = await bench_raw(Path(tmp) / "raw.sqlite3", args.seconds, args.synchronous)
        runtime = await bench_runtime(Path(tmp) / "rt.sqlite3", args.people, args.seconds,
                                      args.synchronous)
    steps = bench_engine(args.seconds)
    print(json.dumps({
        "bench": "engine",
        "machine": f"{platform.machine()} {platform.python_implementation()} "
                   f"{platform.python_version()}",
        "synchronous": args.synchronous,
        "people": args.people,
        "engine_steps_per_s": round(steps),
        "runtime_messages_per_s": round(runtime),
        "raw_commits_per_s": round(raw),
        "ratio": round(runtime / raw, 2),
    }))


if __name__ == "__main__":
    asyncio.run(main())
