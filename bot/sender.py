"""The sender: delivers outbox rows after commit, with retries, backoff and crash recovery.

A row is claimed (status `sending`, committed) before the provider is called and marked
`sent` after, so a row is sent successfully at most once by this process. A crash between
the two leaves the row in doubt: on restart the channel is asked (`reconcile`); a channel
that cannot tell gets the row again, the one case where a message can arrive twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.channels.base import Channel, Failed, Outgoing, Retry, SendResult, Sent, result_name
from bot.channels.rate import RateLimiter
from bot.clock import Clock, to_ts
from bot.crypto import Cipher
from bot.store import locks, outbox, provider
from bot.store.db import Database
from bot.store.outbox import OutboxRow

log = logging.getLogger(__name__)
AlertCallback = Callable[[dict[str, Any]], None]
ResultCallback = Callable[[str, str], None]  # (channel, result) of one row's send, once stored
KNOWN_IDS = 10_000  # provider ids linked to rows that a channel is told of at start-up


def backoff(attempts: int, hint: float | None = None) -> float:
    """Seconds before the next try: exponential with jitter, at most 10 minutes."""
    base = min(600.0, 2.0 ** min(attempts, 10))
    return max(hint or 0.0, base * (0.5 + random.random() / 2))  # noqa: S311 (jitter)


class Sender:
    def __init__(
        self, db: Database, cipher: Cipher, clock: Clock, channels: Mapping[str, Channel],
        *, batch: int = 100, max_attempts: int = 8, concurrency: int = 32,
        scheduled_slots: int = 4, lease: float = 300.0,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.clock = clock
        self.channels = dict(channels)
        self.batch = batch
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.scheduled_slots = max(1, min(concurrency, scheduled_slots))
        self._wake = asyncio.Event()
        self.lease = lease  # a row claimed longer ago, and not in flight here, is in doubt
        self._busy: set[int] = set()  # rows claimed by this process and not yet recorded
        self._next_take_over = time.monotonic() + lease / 2
        self._alert_callbacks: list[AlertCallback] = []
        self._result_callbacks: list[ResultCallback] = []

    def on_alert(self, callback: AlertCallback) -> None:
        self._alert_callbacks.append(callback)

    def on_result(self, callback: ResultCallback) -> None:
        self._result_callbacks.append(callback)

    def alert(self, alert: dict[str, Any]) -> None:
        """Tell whoever listens (the console) about a committed alert."""
        for callback in self._alert_callbacks:
            callback(alert)

    def wake(self, *_: object) -> None:
        self._wake.set()

    @staticmethod
    def outgoing(row: OutboxRow) -> Outgoing:
        return Outgoing(row.id, row.address, row.text, row.choices, row.locale,
                        scheduled=row.priority != outbox.REPLY, first_try=row.first_attempt_at,
                        template=row.template)

    def _limits(self) -> dict[str, int]:
        """Rows each channel may take now: all of a batch, or what its rate limiter allows."""
        limits = {}
        for name, channel in self.channels.items():
            limiter: RateLimiter | None = getattr(channel, "limiter", None)
            limits[name] = self.batch if limiter is None else min(self.batch,
                                                                  limiter.available())
        return limits

    async def recover(self, stale: bool = False) -> int:
        """Settle rows left `sending` by a crash: reconcile with the channel, else resend.

        `stale`: only rows claimed over a lease ago and not in flight here (another instance
        on the same database died during their send); at start-up, every row in doubt on
        SQLite (one instance), and on PostgreSQL again only those older than the lease (a
        restarting instance must not send again what a live one is sending).
        """
        rows = await self._in_doubt(stale)
        settled: list[tuple[OutboxRow, bool | None, list[str]]] = []
        for row in rows:  # in id order, so each person's rows in theirs
            settled.append((row, *await self._reconcile(row)))
        now = to_ts(self.clock.now())
        alerts: list[dict[str, Any]] = []

        def unit(conn: sqlite3.Connection) -> None:
            for row, got, ids in settled:
                if got:
                    _mark_done(conn, row, ",".join(ids) or "reconciled", now)
                    if ids:
                        alerts.extend(provider.record_sent(conn, row.channel, row.id, ids,
                                                           "queued", now))
                else:
                    outbox.mark_retry(conn, row.id, now, "in doubt after restart")

        await self.db.write(unit)
        for alert in alerts:
            self.alert(alert)
        if rows:
            log.warning("recovered %d outbox rows left in flight", len(rows))
        return len(rows)

    async def _in_doubt(self, stale: bool = False) -> list[OutboxRow]:
        """The rows in doubt; each channel that can is told the ids already linked to rows
        (a row in doubt must not take another row's message for its own)."""
        names = [n for n, ch in self.channels.items() if hasattr(ch, "remember")]
        now = to_ts(self.clock.now())
        busy = frozenset(self._busy)

        def unit(conn: sqlite3.Connection) -> tuple[dict[str, list[str]], list[OutboxRow]]:
            known = {n: provider.linked_ids(conn, n, KNOWN_IDS) for n in names}
            # on a shared server a fresh claim may be another live instance's send, even at
            # start-up: only what is older than the lease is in doubt there
            lease = (now - self.lease, now) if stale or locks.on_server(conn) else None
            return known, outbox.in_doubt(conn, self.cipher, lease, busy)

        known, rows = await self.db.write(unit)  # a row that does not open is set aside
        for name, ids in known.items():
            self.channels[name].remember(ids)  # type: ignore[attr-defined]
        return rows

    async def _reconcile(self, row: OutboxRow) -> tuple[bool | None, list[str]]:
        """Whether the channel holds this row (None: cannot tell), with its ids if known."""
        channel = self.channels.get(row.channel)
        if channel is None:
            return None, []
        fetch = getattr(channel, "reconcile_ids", None)
        if fetch is None:
            return await channel.reconcile(self.outgoing(row)), []
        ids: list[str] | None = await fetch(self.outgoing(row))
        return (None, []) if ids is None else (bool(ids), ids)

    async def send_due(self) -> int:
        """Claim and send everything due now; returns how many rows were attempted."""
        if not self.channels:
            return 0
        rows = await self._claim(self.batch, None)
        await asyncio.gather(*(self._deliver(group) for group in _by_person(rows)))
        return len(rows)

    async def _claim(self, replies: int, scheduled: int | None) -> list[OutboxRow]:
        """Up to `replies` answers, then up to `scheduled` scheduled rows more.

        `scheduled=None`: up to `replies` rows of any kind, answers first (`send_due`).
        """
        now = to_ts(self.clock.now())
        # per channel, what its rate limiter allows now; answers before scheduled rows
        limits = {name: n for name, n in self._limits().items() if n > 0}
        split = scheduled is not None

        def unit(conn: sqlite3.Connection) -> list[OutboxRow]:
            rows: list[OutboxRow] = []
            left = {outbox.REPLY: replies, outbox.SCHEDULED: scheduled or 0}
            for name, cap in limits.items():
                got = outbox.claim_due(conn, self.cipher, now, min(cap, left[outbox.REPLY]),
                                       (name,), priority=outbox.REPLY if split else None)
                left[outbox.REPLY] -= len(got)
                if split:
                    more = outbox.claim_due(conn, self.cipher, now,
                                            min(cap - len(got), left[outbox.SCHEDULED]),
                                            (name,), priority=outbox.SCHEDULED)
                    left[outbox.SCHEDULED] -= len(more)
                    got += more
                rows += got
            return rows

        rows = await self.db.write(unit) if limits else []
        self._busy.update(r.id for r in rows)
        return rows

    async def _deliver(self, rows: list[OutboxRow],
                       sent: Callable[[], None] | None = None) -> None:
        """One person's claimed rows, sent in order, then their results recorded.

        `sent` is called once the provider calls are over: the slot is free for another send
        while the results wait for their commit (the rows stay `sending` until then, so the
        person's next message still waits its turn).
        """
        results = await self._send_in_order(rows)
        if sent is not None:
            sent()
        alerts: list[dict[str, Any]] = []
        done = to_ts(self.clock.now())

        def unit(conn: sqlite3.Connection) -> None:
            for row, result in results:
                alerts.extend(self._record(conn, row, result, done))
            for row, result in results:  # after the retries of later rows were marked
                if isinstance(result, Failed) and result.opted_out:
                    outbox.cancel_all(conn, row.person_id)

        attempt = 0
        while True:  # the rows stay `sending` until this is stored
            try:
                await self.db.write(unit)
                self._busy.difference_update(r.id for r in rows)
                break
            except Exception as exc:  # database locked or full: keep the result, try again
                if sent is None:  # send_due (simulation, tests): the caller hears of it
                    raise
                alerts.clear()
                log.error("could not record %d sends (%s); retrying", len(rows),
                          type(exc).__name__)
                await asyncio.sleep(0.5 * 2 ** min(attempt, 6))
                attempt += 1
        for alert in alerts:
            self.alert(alert)
        for row, result in results:
            for callback in self._result_callbacks:
                callback(row.channel, result_name(result, row.attempts < self.max_attempts))

    async def _send_in_order(self, rows: list[OutboxRow]) -> list[tuple[OutboxRow, SendResult]]:
        """One person's rows, one after another; after a failure the rest wait their turn."""
        results: list[tuple[OutboxRow, SendResult]] = []
        for row in rows:
            if results and not isinstance(results[-1][1], Sent):
                results.append((row, Retry("waiting for an earlier message", after=1.0)))
                continue
            results.append((row, await self._send_one(row)))
        return results

    async def _send_one(self, row: OutboxRow) -> SendResult:
        try:
            return await self.channels[row.channel].send(self.outgoing(row))
        except Exception as exc:  # a channel bug must not lose the row: retry it later
            log.exception("channel %s raised while sending outbox %d", row.channel, row.id)
            return Retry(type(exc).__name__)

    def _record(
        self, conn: sqlite3.Connection, row: OutboxRow, result: SendResult, now: float
    ) -> list[dict[str, Any]]:
        """Store one send's result; returns the alerts it raised."""
        if isinstance(result, Sent):
            if not getattr(self.channels.get(row.channel), "tracks_delivery", False):
                _mark_done(conn, row, result.provider_id, now)
                return []
            return _record_tracked(conn, row, result.provider_id, now)
        if isinstance(result, Retry) and row.attempts < self.max_attempts:
            outbox.mark_retry(conn, row.id, now + backoff(row.attempts, result.after),
                              result.reason)
            return []
        reason = result.reason
        outbox.mark_failed(conn, row.id, reason)
        log.warning("outbox %d failed on %s: %s", row.id, row.channel, reason)
        if isinstance(result, Failed) and result.opted_out:
            conn.execute("UPDATE people SET opted_out = 1 WHERE id = ?", (row.person_id,))
            return []  # everything waiting for them is cancelled once all results are in
        kind = "undeliverable" if isinstance(result, Failed) and result.undeliverable else (
            "send_failed")
        alert_id = conn.execute(
            "INSERT INTO alerts (kind, person_id, data, created_at) VALUES (?, ?, ?, ?)",
            (kind, row.person_id, json.dumps({"outbox": row.id}), now),
        ).lastrowid
        return [{"id": alert_id, "kind": kind, "person": row.person_id, "outbox": row.id}]

    async def next_due(self) -> float | None:
        """When the next row may go: when it is due, or when its channel's rate allows."""
        names = tuple(self.channels)
        dues = await self.db.read(lambda c: {n: outbox.next_due(c, (n,)) for n in names})
        now = to_ts(self.clock.now())
        times = []
        for name, due in dues.items():
            if due is None:
                continue
            limiter: RateLimiter | None = getattr(self.channels[name], "limiter", None)
            times.append(max(due, now + limiter.delay()) if limiter is not None else due)
        return min(times, default=None)

    async def run(self, idle: float = 30.0) -> None:
        """Send until cancelled: up to `concurrency` people's messages in flight at once.

        Rows are claimed as slots free up, answers first; scheduled rows (check-ins, reminders)
        take at most `scheduled_slots` of the slots, so a burst of them never makes a person
        who just wrote wait. Sleeps until woken by a commit, a finished send or the next due row.
        """
        await recover_until_done(self.recover, "sender cannot recover the outbox")
        inflight: dict[object, bool] = {}  # a slot -> it carries scheduled rows
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                self._wake.clear()
                try:
                    await self._take_over()
                    if await self._fill(inflight, tasks):
                        continue
                    due = await self.next_due()
                except Exception as exc:  # database locked or full: the rows wait, we retry
                    log.error("sender cannot reach the outbox (%s); retrying", type(exc).__name__)
                    due = to_ts(self.clock.now()) + 1.0
                wait = idle if due is None else min(idle, due - to_ts(self.clock.now()))
                # a due row we could not claim waits for a slot or an earlier row of its
                # person: a finished send wakes us; never spin on it
                wait = max(min(wait, self._next_take_over - time.monotonic()), 0.05)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _take_over(self) -> None:
        """Every half lease: settle what another instance claimed and never finished."""
        if time.monotonic() < self._next_take_over:
            return
        self._next_take_over = time.monotonic() + self.lease / 2
        await self.recover(stale=True)

    async def _fill(self, inflight: dict[object, bool], tasks: set[asyncio.Task[None]]) -> int:
        free = self.concurrency - len(inflight)
        if free <= 0 or not self.channels:
            return 0
        busy = sum(inflight.values())
        # while answers are going out, scheduled messages keep to one slot: people first
        cap = self.scheduled_slots if busy == len(inflight) else 1
        rows = await self._claim(free, max(0, min(free, cap - busy)))
        for group in _by_person(rows):
            slot = object()
            inflight[slot] = any(r.priority != outbox.REPLY for r in group)

            def release(*_: object, slot: object = slot) -> None:
                if inflight.pop(slot, None) is not None:
                    self._wake.set()

            task = asyncio.create_task(self._deliver(group, release))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            task.add_done_callback(release)  # also when the task failed before sending ended
        return len(rows)


async def recover_until_done(recover: Callable[[], Awaitable[object]], what: str) -> None:
    """Settle what a crash left in flight, retrying while the database is locked or full at
    start-up (the outbox sender and the on-call notifier both start this way)."""
    while True:
        try:
            await recover()
            return
        except Exception as exc:  # database locked or full at start-up: wait for it
            log.error("%s (%s); retrying", what, type(exc).__name__)
            await asyncio.sleep(1.0)


def _mark_done(conn: sqlite3.Connection, row: OutboxRow, provider_id: str, now: float) -> None:
    """Sent; or, if the template went in its place, held until the person replies."""
    if row.template:
        outbox.mark_awaiting(conn, row.id, provider_id, now)
    else:
        outbox.mark_sent(conn, row.id, provider_id, now)


def _record_tracked(conn: sqlite3.Connection, row: OutboxRow, provider_id: str,
                    now: float) -> list[dict[str, Any]]:
    """Sent on a channel whose delivery is tracked: its provider ids are kept, then the row is
    marked sent with its provider status in one statement; returns the alerts raised."""
    ids = [p for p in provider_id.split(",") if p]
    if row.template:
        outbox.mark_awaiting(conn, row.id, provider_id, now)
        return provider.record_sent(conn, row.channel, row.id, ids, "queued", now)
    alerts = provider.record_sent(conn, row.channel, row.id, ids, "queued", now,
                                  set_status=False)
    if not outbox.mark_sent(conn, row.id, provider_id, now, roll_up=True):
        provider.roll_up(conn, row.id)  # no longer ours to mark: its status is still kept
    return alerts


def _by_person(rows: list[OutboxRow]) -> list[list[OutboxRow]]:
    groups: dict[int, list[OutboxRow]] = {}
    for row in rows:
        groups.setdefault(row.person_id, []).append(row)
    return list(groups.values())
