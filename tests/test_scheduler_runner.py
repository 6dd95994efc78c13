"""The runner on the real clock: APScheduler alarms rebuilt from the jobs table, and the sweep."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.clock import SystemClock, from_ts, to_ts
from bot.config import Settings
from bot.scheduler.runner import Runner
from bot.service import Service
from bot.store import jobs
from bot.web import create_app


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Service]:
    svc = await Service.open(settings, SystemClock(), {})
    try:
        yield svc
    finally:
        await svc.close()


def add_jobs(conn: sqlite3.Connection, rows: list[tuple[int | None, str, float]]) -> None:
    conn.executemany(
        "INSERT INTO jobs (person_id, kind, due_at, created_at) VALUES (?, ?, ?, 0)", rows
    )


async def person(service: Service) -> int:
    def unit(conn: sqlite3.Connection) -> int:
        pid = conn.execute("INSERT INTO people (created_at) VALUES (0)").lastrowid
        assert pid is not None
        return pid

    return await service.db.write(unit)


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_ten_thousand_pending_jobs_are_rebuilt_at_startup(live: Service) -> None:
    now = time.time()
    pid = await person(live)
    rows = [(pid, "review_due", now + 60 + i * 0.3) for i in range(10_000)]  # within 1 hour
    rows += [(pid, "review_due", now + 7200 + i) for i in range(50)]  # beyond the horizon
    await live.db.write(lambda c: add_jobs(c, rows))
    runner = Runner(live.runtime, horizon=3600, sweep_every=30)
    started = time.perf_counter()
    await runner.start()
    took = time.perf_counter() - started
    try:
        alarms = {j.id: j.next_run_time for j in runner.scheduler.get_jobs() if j.id != "sweep"}
        table = await live.db.read(lambda c: jobs.pending(c, until=now + 3600 + 1))
        assert len(alarms) == len(table) == 10_000
        for job_id, due in table:
            assert alarms[f"job-{job_id}"] == from_ts(due)
        assert took < 5.0
    finally:
        await runner.stop()


async def test_alarm_fires_a_job_at_its_due_time(live: Service) -> None:
    pid = await person(live)
    runner = Runner(live.runtime, horizon=3600, sweep_every=600)  # the sweep will not help
    await runner.start()
    try:
        at = datetime.fromtimestamp(time.time() + 0.3, UTC).isoformat()
        await live.runtime.act(pid, "review_set", {"at": at, "item": "Check the letter"})

        async def alerted() -> bool:
            rows = await live.db.read(
                lambda c: c.execute("SELECT created_at FROM alerts WHERE kind = 'review_due'")
                .fetchall())
            return bool(rows)

        await wait_for(alerted)
        fired_at = (await live.db.read(
            lambda c: c.execute("SELECT created_at FROM alerts").fetchone()))["created_at"]
        assert fired_at >= to_ts(datetime.fromisoformat(at))
    finally:
        await runner.stop()


async def test_start_fires_what_came_due_while_down_exactly_once(live: Service) -> None:
    pid = await person(live)
    past = time.time() - 3 * 86400
    await live.db.write(lambda c: add_jobs(c, [(pid, "reply_overdue", past)] * 3))
    runner = Runner(live.runtime, sweep_every=0.1)
    await runner.start()
    try:
        async def all_done() -> bool:
            return not await live.db.read(lambda c: jobs.due(c, time.time()))

        await wait_for(all_done)
        await asyncio.sleep(0.3)  # a few sweeps come round too: nothing fires twice
        count = await live.db.read(
            lambda c: c.execute("SELECT count(*) FROM alerts WHERE kind = 'reply_overdue'")
            .fetchone()[0])
        assert count == 3
    finally:
        await runner.stop()


async def test_sweep_loads_jobs_as_the_horizon_moves(live: Service) -> None:
    pid = await person(live)
    runner = Runner(live.runtime, horizon=1.0, sweep_every=0.2)
    soon = time.time() + 1.5  # beyond the horizon at start, inside it a sweep or two later
    await live.db.write(lambda c: add_jobs(c, [(pid, "review_due", soon)]))
    await runner.start()
    try:
        assert [j.id for j in runner.scheduler.get_jobs()] == ["sweep"]

        async def fired() -> bool:
            return not await live.db.read(lambda c: jobs.pending(c))

        await wait_for(fired)
    finally:
        await runner.stop()


async def test_the_app_runs_the_scheduler_in_its_lifespan(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        runner: Runner = app.state.runner
        service: Service = app.state.service
        pid = await person(service)
        at = datetime.fromtimestamp(time.time() + 0.2, UTC).isoformat()
        await service.runtime.act(pid, "review_set", {"at": at, "item": "Outcome review"})
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/healthz")).status_code == 200

        async def fired() -> bool:  # the person's job (the retention sweep stays pending)
            return not await service.db.read(lambda c: c.execute(
                "SELECT 1 FROM jobs WHERE status = 'pending' AND person_id IS NOT NULL"
            ).fetchall())

        await wait_for(fired)
        assert runner.loaded_until > time.time()
