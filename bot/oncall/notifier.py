"""Sends the notices: claimed and committed first, retried with backoff, settled after a crash.

The outbox's sender (bot.sender) for staff instead of people: the same claim, at most one
successful send, the same backoff, the SMS channel's own send (its rate limit and its check
for an earlier try that got through) and the same recovery of rows left `sending`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Mapping

from bot.apply import Applied
from bot.channels.base import Channel, Failed, Outgoing, Retry, SendResult, Sent
from bot.clock import Clock, to_ts
from bot.crypto import Cipher
from bot.i18n import DEFAULT_LOCALE
from bot.oncall import notices
from bot.oncall.mailer import Mailer
from bot.oncall.notices import Notice
from bot.sender import backoff, recover_until_done
from bot.store import records
from bot.store.db import Database

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 20  # with backoff capped at 10 minutes: about two and a half hours of trying


class Notifier:
    def __init__(self, db: Database, cipher: Cipher, clock: Clock, sms: Channel | None,
                 mailer: Mailer | None, *, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.db = db
        self.cipher = cipher
        self.clock = clock
        self.sms = sms
        self.mailer = mailer
        self.max_attempts = max_attempts
        self._wake = asyncio.Event()

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(n for n, c in (("sms", self.sms), ("email", self.mailer)) if c is not None)

    def wake(self, *_: object) -> None:
        self._wake.set()

    def on_applied(self, applied: Applied) -> None:
        """A committed event: a risk alert in it has notices waiting."""
        if any(a.get("kind") == "risk" for a in applied.alerts):
            self._wake.set()

    @staticmethod
    def outgoing(notice: Notice) -> Outgoing:
        first = notice.first_attempt_at if notice.attempts > 1 else None
        return Outgoing(notice.id, notice.address, notice.body, (), DEFAULT_LOCALE,
                        first_try=first)

    async def recover(self) -> int:
        """Notices left `sending` by a crash: sent if Twilio holds them, else sent again (an
        email cannot be checked: a second copy beats a lost alert)."""
        found = await self.db.read(lambda c: notices.in_doubt(c, self.cipher))
        settled: list[tuple[Notice, bool | None]] = []
        for notice in found:
            channel = self.sms if notice.channel == "sms" else self.mailer
            held = None
            if channel is not None and notice.first_attempt_at is not None:
                out = Outgoing(notice.id, notice.address, notice.body, (), DEFAULT_LOCALE,
                               first_try=notice.first_attempt_at)
                with contextlib.suppress(Exception):
                    held = await channel.reconcile(out)
            settled.append((notice, held))
        now = to_ts(self.clock.now())

        def unit(conn: sqlite3.Connection) -> None:
            for notice, held in settled:
                if held:
                    notices.mark_sent(conn, notice.id, "reconciled", now)
                    _audit(conn, "notice_sent", notice, now, {"after": "restart"})
                else:
                    notices.mark_retry(conn, notice.id, now, "in doubt after restart")

        await self.db.write(unit)
        if found:
            log.warning("recovered %d notices left in flight", len(found))
        return len(found)

    async def send_due(self, limit: int = 50) -> int:
        """Claim and send every notice due now; returns how many were attempted."""
        if not self.channels:
            return 0
        now = to_ts(self.clock.now())
        claimed = await self.db.write(
            lambda c: notices.claim_due(c, self.cipher, now, limit, self.channels))
        results = await asyncio.gather(*(self._send(n) for n in claimed))
        done = to_ts(self.clock.now())

        def unit(conn: sqlite3.Connection) -> None:
            for notice, result in zip(claimed, results, strict=True):
                self._record(conn, notice, result, done)

        await self.db.write(unit)
        return len(claimed)

    async def _send(self, notice: Notice) -> SendResult:
        if not notice.address:
            return Failed("no address (account disabled)")
        try:
            if notice.channel == "email" and self.mailer is not None:
                return await self.mailer.send(self.outgoing(notice), notice.subject)
            if notice.channel == "sms" and self.sms is not None:
                return await self.sms.send(self.outgoing(notice))
        except Exception as exc:  # a channel bug must not lose the notice: retry it later
            log.exception("channel %s raised while sending notice %d", notice.channel,
                          notice.id)
            return Retry(type(exc).__name__)
        return Retry("channel off")

    def _record(self, conn: sqlite3.Connection, notice: Notice, result: SendResult,
                now: float) -> None:
        if isinstance(result, Sent):
            notices.mark_sent(conn, notice.id, result.provider_id, now)
            _audit(conn, "notice_sent", notice, now, {"attempt": notice.attempts})
            return
        detail = {"attempt": notice.attempts, "reason": result.reason}
        if isinstance(result, Retry) and notice.attempts < self.max_attempts:
            notices.mark_retry(conn, notice.id, now + backoff(notice.attempts, result.after),
                               result.reason)
            _audit(conn, "notice_attempt_failed", notice, now, detail)
            return
        notices.mark_failed(conn, notice.id, result.reason)
        _audit(conn, "notice_failed", notice, now, detail)
        log.warning("notice %d on %s failed: %s", notice.id, notice.channel, result.reason)
        alert = _alert_of(conn, notice)
        conn.execute("INSERT INTO alerts (kind, person_id, case_id, data, created_at)"
                     " VALUES (?, ?, ?, ?, ?)",
                     ("notice_failed", alert[0], alert[1], json.dumps({"notice": notice.id}),
                      now))

    async def next_due(self) -> float | None:
        return await self.db.read(notices.next_due)

    async def run(self, idle: float = 30.0) -> None:
        """Send until cancelled; sleeps until woken by a risk alert or the next due notice."""
        await recover_until_done(self.recover, "notifier cannot recover notices")
        while True:
            self._wake.clear()
            try:
                if await self.send_due():
                    continue
                due = await self.next_due()
            except Exception as exc:  # database locked or full: the notices wait
                log.error("notifier cannot reach its notices (%s); retrying", type(exc).__name__)
                due = to_ts(self.clock.now()) + 1.0
            wait = idle if due is None else min(idle, due - to_ts(self.clock.now()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(wait, 0.05)):
                    await self._wake.wait()


def _alert_of(conn: sqlite3.Connection, notice: Notice) -> tuple[int | None, int | None]:
    row = conn.execute("SELECT person_id, case_id FROM alerts WHERE id = ?",
                       (notice.alert_id,)).fetchone()
    return (row["person_id"], row["case_id"]) if row else (None, None)


def _audit(conn: sqlite3.Connection, action: str, notice: Notice, now: float,
           extra: Mapping[str, object]) -> None:
    """Which notice, alert and recipient (the setting entry or account), never the address."""
    person, case = _alert_of(conn, notice)
    records.audit(conn, "oncall", action, now, person, case,
                  {"notice": notice.id, "alert": notice.alert_id, "channel": notice.channel,
                   "to": notice.recipient, **extra})
