"""Wakes the runtime when jobs come due. The jobs table is the truth; this only sets alarms.

APScheduler (in memory, UTC, never pickled) holds one date job per table row due within the
next `horizon` seconds, each calling `Runtime.fire_job(id)`; firing claims the row in the same
transaction as its effects, so a job fires once however many alarms ring for it. A periodic
sweep fires anything missed (rows written by another process, alarms lost to a crash) and
loads the next stretch of the horizon, so memory and start-up stay small with many jobs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.apply import Applied
from bot.clock import from_ts, to_ts
from bot.runtime import Runtime
from bot.store import jobs

log = logging.getLogger(__name__)
logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every run at INFO
# the sweep's pace (bench/load.py phase c: 10,000 check-ins due while people write)
BUSY_LAG = 0.002  # seconds the loop took to come round: it is busy
PAUSE = 0.01  # seconds waited each time
PAUSES = 5  # then the job fires anyway


class Runner:
    """In-memory alarms for due jobs, rebuilt from the jobs table at start."""

    def __init__(self, runtime: Runtime, *, horizon: float = 3600.0, sweep_every: float = 30.0,
                 firing: int = 2):
        if sweep_every >= horizon:
            raise ValueError("the sweep must come round before the loaded horizon runs out")
        self.runtime = runtime
        self.horizon = horizon
        self.sweep_every = sweep_every
        self.loaded_until = float("-inf")
        self._scheduler: AsyncIOScheduler | None = None
        # at most this many job transactions queued at once: thousands of check-ins due
        # together must not queue ahead of a person's message in the group commit
        self._firing = asyncio.Semaphore(firing)

    @property
    def scheduler(self) -> AsyncIOScheduler:
        if self._scheduler is None:
            raise RuntimeError("the runner is not started")
        return self._scheduler

    async def start(self) -> None:
        """Load every pending job due within the horizon; overdue ones fire at once.

        Jobs already due (after downtime: perhaps thousands) get no alarm each: the first
        sweep runs at once and fires them one after another, so they never flood the event
        loop or the group commit ahead of people's messages.
        """
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.start(paused=True)  # one wake-up after the bulk load, not one per job
        self.runtime.subscribe(self._on_applied)
        overdue = await self.load(alarm_overdue=False)
        first: dict[str, datetime] = {"next_run_time": datetime.now(UTC)} if overdue else {}
        self._scheduler.add_job(
            self.sweep, IntervalTrigger(seconds=self.sweep_every), id="sweep",
            replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=None,
            **first,
        )
        self._scheduler.resume()

    async def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the next loop turn
        self._scheduler = None

    async def load(self, alarm_overdue: bool = True) -> int:
        """Add alarms for pending jobs due after what is loaded, up to now + horizon.

        Returns how many were overdue; with `alarm_overdue=False` those get no alarm (the
        caller has them swept instead).
        """
        now = to_ts(self.runtime.clock.now())
        after, until = self.loaded_until, now + self.horizon
        self.loaded_until = until  # first, so jobs committed during the read get alarms too
        rows = await self.runtime.db.read(lambda c: jobs.pending(c, after, until))
        overdue = 0
        for job_id, due in rows:
            if due <= now:
                overdue += 1
                if not alarm_overdue:
                    continue
            self._alarm(job_id, due)
        return overdue

    async def sweep(self) -> None:
        """Fire what is due but was missed, then extend the loaded horizon."""
        try:
            fired = await self.runtime.fire_due(pace=self._pace)
            if fired:
                log.info("sweep fired %d due jobs", fired)
            await self.load()
        except Exception:
            log.exception("job sweep failed; retrying at the next sweep")

    async def _pace(self) -> None:
        """Before each swept job: while people's messages are being applied or the event loop
        is slow to come round, wait a little (at most PAUSES times: a backlog of thousands
        of check-ins drains in the gaps between messages, and is never starved)."""
        for _ in range(PAUSES):
            started = time.monotonic()
            await asyncio.sleep(0)
            if not self.runtime.inbound_in_flight and time.monotonic() - started < BUSY_LAG:
                return
            await asyncio.sleep(PAUSE)

    def _on_applied(self, applied: Applied) -> None:
        for job_id, due in applied.scheduled:
            if due <= self.loaded_until:  # later ones are loaded by a later sweep
                self._alarm(job_id, due)

    def _alarm(self, job_id: int, due: float) -> None:
        if self._scheduler is None:
            return
        self._scheduler.add_job(
            self._fire, DateTrigger(from_ts(due)), args=[job_id], id=f"job-{job_id}",
            replace_existing=True, misfire_grace_time=None,
        )

    async def _fire(self, job_id: int) -> None:
        try:
            async with self._firing:
                await self.runtime.fire_job(job_id)
        except asyncio.CancelledError:  # shutting down: the row stays pending, fired later
            return
        except Exception:  # the row stays pending: the next sweep fires it
            log.exception("job %d failed to fire; the sweep will retry it", job_id)
