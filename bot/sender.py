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
from collections.abc import Callable, Mapping
from typing import Any

from bot.channels.base import Channel, Failed, Outgoing, Retry, SendResult, Sent
from bot.channels.rate import RateLimiter
from bot.clock import Clock, to_ts
from bot.crypto import Cipher
from bot.store import outbox, provider
from bot.store.db import Database
from bot.store.outbox import OutboxRow

log = logging.getLogger(__name__)
AlertCallback = Callable[[dict[str, Any]], None]


def backoff(attempts: int, hint: float | None = None) -> float:
    """Seconds before the next try: exponential with jitter, at most 10 minutes."""
    base = min(600.0, 2.0 ** min(attempts, 10))
    return max(hint or 0.0, base * (0.5 + random.random() / 2))  # noqa: S311 (jitter)


class Sender:
    def __init__(
        self, db: Database, cipher: Cipher, clock: Clock, channels: Mapping[str, Channel],
        *, batch: int = 100, max_attempts: int = 8,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.clock = clock
        self.channels = dict(channels)
        self.batch = batch
        self.max_attempts = max_attempts
        self._wake = asyncio.Event()
        self._alert_callbacks: list[AlertCallback] = []

    def on_alert(self, callback: AlertCallback) -> None:
        self._alert_callbacks.append(callback)

    def alert(self, alert: dict[str, Any]) -> None:
        """Tell whoever listens (the console) about a committed alert."""
        for callback in self._alert_callbacks:
            callback(alert)

    def wake(self, *_: object) -> None:
        self._wake.set()

    @staticmethod
    def outgoing(row: OutboxRow) -> Outgoing:
        return Outgoing(row.id, row.address, row.text, row.choices, row.locale,
                        scheduled=row.priority != outbox.REPLY, first_try=row.first_attempt_at)

    def _limits(self) -> dict[str, int]:
        """Rows each channel may take now: all of a batch, or what its rate limiter allows."""
        limits = {}
        for name, channel in self.channels.items():
            limiter: RateLimiter | None = getattr(channel, "limiter", None)
            limits[name] = self.batch if limiter is None else min(self.batch,
                                                                  limiter.available())
        return limits

    async def recover(self) -> int:
        """Settle rows left `sending` by a crash: reconcile with the channel, else resend."""
        rows = await self.db.read(lambda c: outbox.in_doubt(c, self.cipher))
        settled: list[tuple[OutboxRow, bool | None]] = []
        for row in rows:
            channel = self.channels.get(row.channel)
            got = await channel.reconcile(self.outgoing(row)) if channel else None
            settled.append((row, got))
        now = to_ts(self.clock.now())

        def unit(conn: sqlite3.Connection) -> None:
            for row, got in settled:
                if got:
                    outbox.mark_sent(conn, row.id, "reconciled", now)
                else:
                    outbox.mark_retry(conn, row.id, now, "in doubt after restart")

        await self.db.write(unit)
        if rows:
            log.warning("recovered %d outbox rows left in flight", len(rows))
        return len(rows)

    async def send_due(self) -> int:
        """Claim and send everything due now; returns how many rows were attempted."""
        if not self.channels:
            return 0
        now = to_ts(self.clock.now())
        limits = {name: n for name, n in self._limits().items() if n > 0}

        def claim(conn: sqlite3.Connection) -> list[OutboxRow]:
            # one claim per channel, each in priority order: replies before scheduled rows
            return [row for name, n in limits.items()
                    for row in outbox.claim_due(conn, self.cipher, now, n, (name,))]

        rows = await self.db.write(claim) if limits else []
        if not rows:
            return 0
        by_person: dict[int, list[OutboxRow]] = {}
        for row in rows:
            by_person.setdefault(row.person_id, []).append(row)
        sent = await asyncio.gather(*(self._send_in_order(g) for g in by_person.values()))
        outcomes = dict(pair for group in sent for pair in group)
        results = [outcomes[r.id] for r in rows]
        alerts: list[dict[str, Any]] = []
        done = to_ts(self.clock.now())

        def unit(conn: sqlite3.Connection) -> None:
            for row, result in zip(rows, results, strict=True):
                alert = self._record(conn, row, result, done)
                if alert:
                    alerts.append(alert)
            for row, result in zip(rows, results, strict=True):  # after any retry was marked
                if isinstance(result, Failed) and result.opted_out:
                    outbox.cancel_channel(conn, row.person_id, row.channel)

        await self.db.write(unit)
        for alert in alerts:
            self.alert(alert)
        return len(rows)

    async def _send_in_order(self, rows: list[OutboxRow]) -> list[tuple[int, SendResult]]:
        """One person's rows, one after another; after a failure the rest wait their turn."""
        results: list[tuple[int, SendResult]] = []
        for row in rows:
            if results and not isinstance(results[-1][1], Sent):
                results.append((row.id, Retry("waiting for an earlier message", after=1.0)))
                continue
            results.append((row.id, await self._send_one(row)))
        return results

    async def _send_one(self, row: OutboxRow) -> SendResult:
        try:
            return await self.channels[row.channel].send(self.outgoing(row))
        except Exception as exc:  # a channel bug must not lose the row: retry it later
            log.exception("channel %s raised while sending outbox %d", row.channel, row.id)
            return Retry(type(exc).__name__)

    def _record(
        self, conn: sqlite3.Connection, row: OutboxRow, result: SendResult, now: float
    ) -> dict[str, Any] | None:
        if isinstance(result, Sent):
            outbox.mark_sent(conn, row.id, result.provider_id, now)
            if getattr(self.channels.get(row.channel), "tracks_delivery", False):
                ids = [p for p in result.provider_id.split(",") if p]
                provider.record_sent(conn, row.channel, row.id, ids, "queued", now)
            return None
        if isinstance(result, Retry) and row.attempts < self.max_attempts:
            outbox.mark_retry(conn, row.id, now + backoff(row.attempts, result.after),
                              result.reason)
            return None
        reason = result.reason
        outbox.mark_failed(conn, row.id, reason)
        log.warning("outbox %d failed on %s: %s", row.id, row.channel, reason)
        if isinstance(result, Failed) and result.opted_out:
            conn.execute("UPDATE people SET opted_out = 1 WHERE id = ?", (row.person_id,))
            outbox.cancel_scheduled(conn, row.person_id)
            return None
        kind = "undeliverable" if isinstance(result, Failed) and result.undeliverable else (
            "send_failed")
        alert_id = conn.execute(
            "INSERT INTO alerts (kind, person_id, data, created_at) VALUES (?, ?, ?, ?)",
            (kind, row.person_id, json.dumps({"outbox": row.id}), now),
        ).lastrowid
        return {"id": alert_id, "kind": kind, "person": row.person_id, "outbox": row.id}

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
        """Send until cancelled; sleeps until woken by a commit or the next due row."""
        await self.recover()
        while True:
            self._wake.clear()
            if await self.send_due():
                continue
            due = await self.next_due()
            wait = idle if due is None else max(0.0, min(idle, due - to_ts(self.clock.now())))
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that arrives
            # just after the event was set, and shutdown then hangs
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
