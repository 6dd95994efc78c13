"""Scheduler benchmark: start-up with 100,000 pending jobs, and lateness of a burst of due jobs.

Prints one JSON object. Start-up is `Runner.start()` on a database holding 100,000 pending jobs
spread over 30 days (the runner loads alarms only for the next hour; the rest stay in the table
until the sweep reaches them); `all_in_memory` shows what loading every job into APScheduler
would cost instead. The burst is `--burst` jobs for different people all due at the same
second; lateness is from the due time to the commit of each job's effects.

    python bench/scheduler.py [--pending 100000] [--burst 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.apply import Applied
from bot.clock import SystemClock
from bot.config import Settings
from bot.crypto import new_key_text
from bot.scheduler.runner import Runner
from bot.service import Service

DAY = 86400.0


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def fill(conn: sqlite3.Connection, pending: int, burst: int, burst_at: float) -> None:
    """People, `pending` jobs over the next 30 days, and `burst` jobs all due at `burst_at`."""
    people = max(1000, burst)
    conn.executemany("INSERT INTO people (id, created_at) VALUES (?, 0)",
                     [(i,) for i in range(1, people + 1)])
    now = time.time()
    spread = [(1 + i % 1000, "review_due", now + 120 + (i * 30 * DAY) / pending, now)
              for i in range(pending)]
    due = [(1 + i, "reply_overdue", burst_at, now) for i in range(burst)]
    conn.executemany(
        "INSERT INTO jobs (person_id, kind, due_at, created_at) VALUES (?, ?, ?, ?)",
        spread + due,
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def startup_and_burst(service: Service, burst: int, burst_at: float) -> dict[str, Any]:
    committed: dict[int, float] = {}
    all_fired = asyncio.Event()

    def observe(applied: Applied) -> None:
        committed.setdefault(applied.person_id, time.time())
        if len(committed) >= burst:
            all_fired.set()

    service.runtime.subscribe(observe)
    runner = Runner(service.runtime)
    before = rss_mb()
    started = time.perf_counter()
    await runner.start()
    startup = time.perf_counter() - started
    alarms = len(runner.scheduler.get_jobs()) - 1
    grown = rss_mb() - before
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_fired.wait(), timeout=burst_at + 30 - time.time())
    await runner.stop()
    late = [(committed[p] - burst_at) * 1000 for p in range(1, burst + 1) if p in committed]
    return {
        "startup_seconds": round(startup, 3),
        "alarms_loaded": alarms,
        "horizon_seconds": runner.horizon,
        "rss_mb_growth_at_startup": round(grown, 1),
        "rss_mb": round(rss_mb(), 1),
        "burst": {
            "jobs": burst,
            "fired": len(late),
            "lateness_ms_p50": round(statistics.median(late), 1) if late else None,
            "lateness_ms_p99": round(percentile(late, 99), 1) if late else None,
            "lateness_ms_max": round(max(late), 1) if late else None,
        },
    }


async def all_in_memory(service: Service) -> dict[str, Any]:
    """The alternative: every pending job as an APScheduler alarm at start."""
    runner = Runner(service.runtime, horizon=400 * DAY)
    before = rss_mb()
    started = time.perf_counter()
    await runner.start()
    took = time.perf_counter() - started
    alarms = len(runner.scheduler.get_jobs()) - 1
    grown = rss_mb() - before
    await runner.stop()
    return {"startup_seconds": round(took, 3), "alarms_loaded": alarms,
            "rss_mb_growth": round(grown, 1)}


async def main(pending: int, burst: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rjbot-bench-") as tmp:
        settings = Settings(database=Path(tmp) / "bench.sqlite3", data_key=new_key_text())
        service = await Service.open(settings, SystemClock(), {})
        try:
            burst_at = time.time() + 3.0
            await service.db.write(lambda c: fill(c, pending, burst, burst_at))
            result = {"pending_jobs": pending, **await startup_and_burst(service, burst, burst_at)}
            result["all_in_memory"] = await all_in_memory(service)
            return result
        finally:
            await service.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--burst", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.pending, args.burst))))
