"""Gauges read from the database when Prometheus scrapes: the outbox, the jobs, the 48-hour
reply clock and the open alerts. Counts and ages only; no row's content is read."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily, Metric

from bot.clock import Clock, to_ts
from bot.scheduler import kinds
from bot.store.casework import _LIVE, STOPPED
from bot.store.db import Database

log = logging.getLogger(__name__)
CHANNELS = ("sms", "telegram", "whatsapp")  # always shown, at 0 when nothing waits
WAITING = ("pending", "sending", "held")  # outbox rows not yet settled
LATE_AFTER = 300.0  # a job pending 5 minutes past due: the sweep (every 30 s) missed it


@dataclass
class Snapshot:
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, status)
    oldest_due: dict[str, float] = field(default_factory=dict)  # channel -> seconds
    jobs_due: dict[str, int] = field(default_factory=dict)  # kind -> due now
    jobs_late: dict[str, int] = field(default_factory=dict)  # kind -> due LATE_AFTER ago
    reply_breaches: int = 0
    alerts_open: dict[str, int] = field(default_factory=dict)  # kind -> open


def read(conn: sqlite3.Connection, now: float) -> Snapshot:
    """Everything the gauges show, in one read transaction."""
    snap = Snapshot()
    for row in conn.execute("SELECT channel, status, count(*) FROM outbox WHERE status IN"
                            " ('pending', 'sending', 'held') GROUP BY channel, status"):
        snap.outbox[(row[0], row[1])] = int(row[2])
    for row in conn.execute("SELECT channel, min(next_attempt_at) FROM outbox WHERE status ="
                            " 'pending' AND next_attempt_at <= ? GROUP BY channel", (now,)):
        snap.oldest_due[row[0]] = max(0.0, now - float(row[1]))
    for row in conn.execute("SELECT kind, count(*), total(due_at <= ?) FROM jobs WHERE status ="
                            " 'pending' AND held_at IS NULL AND due_at <= ? GROUP BY kind",
                            (now - LATE_AFTER, now)):
        snap.jobs_due[row[0]], snap.jobs_late[row[0]] = int(row[1]), int(row[2])
    snap.reply_breaches = int(conn.execute(
        "SELECT count(*) FROM cases c JOIN people p ON p.id = c.person_id"  # noqa: S608  # nosec B608
        f" WHERE c.closed_at IS NULL AND c.stage = 'new_contact' AND p.status NOT IN {STOPPED}"
        " AND c.reply_due_at < ?", (now,)).fetchone()[0])
    for row in conn.execute("SELECT al.kind, count(*) FROM alerts al"  # noqa: S608  # nosec B608
                            " WHERE al.handled_at IS NULL" + _LIVE + " GROUP BY al.kind"):
        snap.alerts_open[row[0]] = int(row[1])
    return snap


def families(snap: Snapshot | None) -> list[Metric]:
    """The gauge families; without a snapshot (described, or the database unread) empty."""
    outbox = GaugeMetricFamily("rjbot_outbox_depth", "Outbox rows not yet settled, by channel"
                               " and status (held: paused, or waiting for the person's reply)",
                               labels=["channel", "status"])
    oldest = GaugeMetricFamily("rjbot_outbox_oldest_due_seconds", "How long the oldest outbox"
                               " row that may go now has waited past its due time",
                               labels=["channel"])
    due = GaugeMetricFamily("rjbot_jobs_due", "Pending jobs whose time has come, by kind",
                            labels=["kind"])
    late = GaugeMetricFamily("rjbot_jobs_late", "Pending jobs due more than 5 minutes ago,"
                             " by kind", labels=["kind"])
    breaches = GaugeMetricFamily("rjbot_reply_clock_breaches", "Open new contacts whose 48-hour"
                                 " reply clock has run out")
    alerts = GaugeMetricFamily("rjbot_alerts_open", "Alerts on the dashboard not yet dealt"
                               " with, by kind", labels=["kind"])
    found: list[Metric] = [outbox, oldest, due, late, breaches, alerts]
    if snap is None:
        return found
    channels = sorted({*CHANNELS, *(c for c, _ in snap.outbox), *snap.oldest_due})
    for channel in channels:
        for status in WAITING:
            outbox.add_metric([channel, status], snap.outbox.get((channel, status), 0))
        oldest.add_metric([channel], snap.oldest_due.get(channel, 0.0))
    for kind in sorted({*kinds.KINDS, *snap.jobs_due}):
        due.add_metric([kind], snap.jobs_due.get(kind, 0))
        late.add_metric([kind], snap.jobs_late.get(kind, 0))
    breaches.add_metric([], snap.reply_breaches)
    for kind in sorted({"risk", *snap.alerts_open}):
        alerts.add_metric([kind], snap.alerts_open.get(kind, 0))
    return found


class DatabaseGauges:
    """A custom collector: `refresh` reads the database (async, via db.read), then the
    registry's synchronous `collect` yields what was read."""

    def __init__(self) -> None:
        self.source: tuple[Database, Clock] | None = None
        self.snapshot: Snapshot | None = None
        self.readable = 0.0

    async def refresh(self) -> None:
        self.snapshot, self.readable = None, 0.0
        if self.source is None:
            return
        db, clock = self.source
        now = to_ts(clock.now())
        try:
            self.snapshot = await db.read(lambda c: read(c, now))
        except Exception as exc:  # locked or gone: the scrape still answers, and says so
            log.error("metrics: could not read the database (%s)", type(exc).__name__)
            return
        self.readable = 1.0

    def describe(self) -> Iterator[Metric]:
        yield from families(None)
        yield GaugeMetricFamily("rjbot_database_readable", "")

    def collect(self) -> Iterator[Metric]:
        yield from families(self.snapshot)
        yield GaugeMetricFamily("rjbot_database_readable", "1 when the gauges above were read"
                                " from the database for this scrape", value=self.readable)
