"""The runtime: one event, one transaction. Channels, timers and the console all come here.

Ordering: `Database.write` queues units in call order and runs them in that order, so two
messages from one person, handed over in the order they arrived, are applied in that order;
different people share a batch and a commit.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from bot import engine
from bot.apply import Applied, Target, apply_outcome
from bot.clock import Clock, from_ts, to_ts
from bot.crypto import Cipher
from bot.flows import elsewhere, letters, passphrase
from bot.oncall.plan import OFF
from bot.privacy import subject
from bot.scheduler import kinds
from bot.store import jobs, links, locks, outbox, records
from bot.store.db import Database
from bot.store.send_gate import WINDOWS
from bot.types import (
    Alert,
    Audit,
    ChannelName,
    Event,
    FacilitatorAction,
    Message,
    Outcome,
    ProviderSignal,
    Reply,
    State,
    Timer,
)

log = logging.getLogger(__name__)
Observer = Callable[[Applied], None]
Counted = Callable[[str, str], None]  # (channel, result): what became of one inbound message
AfterSystem = Callable[[datetime], Awaitable[object]]
SignalKind = Literal["opt_out", "opt_in", "help", "media"]
LinkResult = Literal["linked", "invalid", "duplicate"]


@dataclass(frozen=True)
class Inbound:
    """One thing a person sent, as a channel hands it over (provider id = idempotency key)."""

    channel: ChannelName
    address: str
    provider_id: str
    text: str = ""
    payload: str | None = None
    signal: SignalKind | None = None
    edited: bool = False

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.provider_id}"

    def event(self) -> Event:
        if self.signal is not None:
            return ProviderSignal(self.signal, self.channel)
        return Message(self.text, self.channel, self.payload, self.edited)


def valid_text(text: str) -> str:
    """Lone surrogates (JSON "\\ud800", undecodable bytes) cannot be stored: mark them, go on."""
    return text.encode("utf-8", "replace").decode("utf-8")


class Runtime:
    def __init__(self, db: Database, cipher: Cipher, clock: Clock) -> None:
        self.db = db
        self.cipher = cipher
        self.clock = clock
        self.oncall = OFF  # who hears of a risk alert outside the console (Service.open)
        self._observers: list[Observer] = []
        self._counted: list[Counted] = []
        # async work after a system job committed (provider calls cannot sit in a transaction)
        self.after_system: dict[str, AfterSystem] = {}
        self.inbound_in_flight = 0  # people's messages being applied now (the sweep yields)

    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def on_inbound(self, counted: Counted) -> None:
        self._counted.append(counted)

    async def _write_counted(self, channel: str, unit: Callable[[sqlite3.Connection], Any],
                             result: Callable[[Any], str]) -> Any:
        """Run an inbound message's unit; its result (or `error`) is counted, never its text."""
        self.inbound_in_flight += 1
        try:
            done = await self.db.write(unit)
        except Exception:
            self._tell(channel, "error")
            raise
        finally:
            self.inbound_in_flight -= 1
        self._tell(channel, result(done))
        return done

    def _tell(self, channel: str, result: str) -> None:
        for counted in self._counted:
            counted(channel, result)

    def _notify(self, applied: Applied | None) -> None:
        if applied is None:
            return
        for observer in self._observers:
            observer(applied)

    async def handle(self, inbound: Inbound) -> Applied | None:
        """Store and apply one inbound message; None if the provider re-delivered it."""
        now = self.clock.now()
        inbound = replace(inbound, text=valid_text(inbound.text))

        def unit(conn: sqlite3.Connection) -> Applied | None:
            claimed = records.claim_from(conn, self.cipher, inbound.key, inbound.channel,
                                         inbound.address, to_ts(now))
            if claimed is None:
                return None
            person_id, address_id = claimed
            # they wrote: what waited for a reply to a template (WhatsApp) may go now; only a
            # channel with a window (send_gate.WINDOWS) ever sends one, so only it is asked
            event = inbound.event()
            if inbound.channel in WINDOWS and outbox.release_awaiting(
                    conn, person_id, address_id, to_ts(now)) and isinstance(event, Message):
                event = replace(event, answers_template=True)
            target = Target(person_id, address_id, inbound.channel, actor="person")
            return self._step(conn, target, event, now, logged=_logged(inbound))

        applied: Applied | None = await self._write_counted(
            inbound.channel, unit, lambda a: "duplicate" if a is None else "applied")
        # each webhook has its access log line and the inbound metric counts every result: only
        # a re-delivery is worth its own line at INFO
        if applied is None:
            log.info("inbound %s duplicate", inbound.channel)
        else:
            log.debug("inbound %s applied", inbound.channel)
        self._notify(applied)
        return applied

    async def risk_elsewhere(self, inbound: Inbound, where: str) -> Applied | None:
        """A message seen where we do not talk (a group chat): stored only if it may mean
        danger, as a risk alert on its sender's case with the words that raised it; no reply."""
        now = self.clock.now()
        text = valid_text(inbound.text)

        def unit(conn: sqlite3.Connection) -> Applied | None:
            found = records.find_address(conn, self.cipher, inbound.channel, inbound.address)
            state = records.load_state(conn, self.cipher, found[0])[0] if found else State()
            danger = elsewhere.risk(state, text, where, now)
            if danger is None or not records.claim_inbound(conn, inbound.key, to_ts(now)):
                return None
            person_id, address_id, _ = records.find_or_create_person(
                conn, self.cipher, inbound.channel, inbound.address, to_ts(now))
            records.link_inbound(conn, inbound.key, person_id)
            state, version = records.load_state(conn, self.cipher, person_id)
            message_id = records.log_message(conn, self.cipher, person_id, "in",
                                             inbound.channel, danger.words, to_ts(now))
            target = Target(person_id, address_id, inbound.channel, "person", message_id)
            return apply_outcome(conn, self.cipher, target, state, version, danger.outcome, now,
                                 self.oncall)

        applied: Applied | None = await self._write_counted(
            inbound.channel, unit,
            lambda a: "elsewhere_ignored" if a is None else "elsewhere_risk")
        log.info("inbound %s elsewhere: %s", inbound.channel,
                 "risk alert" if applied is not None else "nothing kept")
        self._notify(applied)
        return applied

    async def link(self, inbound: Inbound, code: str, welcome: Reply) -> LinkResult:
        """Deep link: a one-time code attaches this new address to the person it was made for."""
        now = self.clock.now()

        def unit(conn: sqlite3.Connection) -> Applied | LinkResult:
            if not records.claim_inbound(conn, inbound.key, to_ts(now)):
                return "duplicate"
            found = links.redeem(conn, self.cipher, code, inbound.channel, inbound.address,
                                 to_ts(now))
            if found is None:
                return "invalid"
            person_id, address_id = found
            records.link_inbound(conn, inbound.key, person_id)
            state, version = records.load_state(conn, self.cipher, person_id)
            detail = {"channel": inbound.channel}
            outcome = Outcome(state, (welcome,),
                              (Alert("channel_linked", detail), Audit("channel_linked", detail)))
            target = Target(person_id, address_id, inbound.channel, actor="person")
            return apply_outcome(conn, self.cipher, target, state, version, outcome, now,
                                 self.oncall)

        result: Applied | LinkResult = await self._write_counted(
            inbound.channel, unit,
            lambda r: r if r == "duplicate" else "link_invalid" if r == "invalid" else "linked")
        log.info("link %s %s", inbound.channel, result if isinstance(result, str) else "linked")
        if isinstance(result, str):
            return result
        self._notify(result)
        return "linked"

    async def may_message(self, channel: ChannelName, address: str) -> bool:
        """False when the address belongs to someone who withdrew or opted out: stay silent."""

        def unit(conn: sqlite3.Connection) -> bool:
            found = records.find_address(conn, self.cipher, channel, address)
            if found is None:
                return True
            row = conn.execute(
                "SELECT status, opted_out FROM people WHERE id = ?", (found[0],)
            ).fetchone()
            return row["status"] != "withdrawn" and not row["opted_out"]

        return await self.db.read(unit)

    async def fire_job(self, job_id: int) -> Applied | None:
        """Fire one due job: claim, engine step and effects commit together, so at most once."""
        now = self.clock.now()
        system: list[str] = []

        def unit(conn: sqlite3.Connection) -> Applied | None:
            job = jobs.claim(conn, job_id, to_ts(now))
            if job is None:
                return None
            if job.person_id is None:  # a system job (the retention sweep): no conversation
                handler = kinds.kind_of(job.kind).system
                if handler is not None:
                    handler(conn, job.data, now)
                system.append(job.kind)
                return None
            locks.hold(conn, locks.PERSON, job.person_id)
            state, _ = records.load_state(conn, self.cipher, job.person_id)
            decision = kinds.when_due(job.kind, from_ts(job.due_at), job.data, state, now)
            if decision.action != "fire":
                return _settle(conn, job, decision, to_ts(now))
            target = Target(job.person_id, None, "", actor="scheduler")
            return self._step(conn, target, Timer(job.kind, job.data, job.id), now)

        applied = await self.db.write(unit)
        self._notify(applied)
        for kind in system:
            if (after := self.after_system.get(kind)) is not None:
                try:
                    await after(now)
                except Exception:  # the job itself is done; its follow-up runs again next time
                    log.exception("follow-up of system job %s failed", kind)
        return applied

    async def fire_due(self, pace: Callable[[], Awaitable[object]] | None = None) -> int:
        """Fire every job due now, oldest first (the sweep, and `::wait` in simulation);
        `pace` is awaited before each job (the sweep's: leave time for people's messages)."""
        now = to_ts(self.clock.now())
        fired = 0
        while due := await self.db.read(lambda c: jobs.due(c, now)):
            for job_id, _ in due:
                if pace is not None:
                    await pace()
                if await self.fire_job(job_id) is not None:
                    fired += 1
        return fired

    async def act(
        self, person_id: int, action: str, data: dict[str, Any] | None = None, actor: str = "",
        prepare: Callable[[sqlite3.Connection], object] | None = None,
        finish: Callable[[sqlite3.Connection], object] | None = None,
    ) -> Applied:
        """A facilitator action on a person's case (recorded reply, meeting set, ...).

        `prepare` runs first and `finish` last, in the same transaction (a letter approved
        and its notice scheduled commit together); if anything raises, nothing is stored.
        """
        now = self.clock.now()

        def unit(conn: sqlite3.Connection) -> Applied:
            _refuse_erased(conn, person_id)
            if prepare is not None:
                prepare(conn)
            target = Target(person_id, None, "", actor=actor or "facilitator")
            applied = self._step(conn, target, FacilitatorAction(action, data or {}, actor), now)
            if finish is not None:
                finish(conn)
            return applied

        applied = await self.db.write(unit)
        self._notify(applied)
        return applied

    def _step(
        self, conn: sqlite3.Connection, target: Target, event: Event, now: Any,
        logged: str | None = None,
    ) -> Applied:
        """One engine step applied; `logged`: the person's message, for the message log (as
        what the step made of it: a secret word or a letter part is not kept there)."""
        locks.hold(conn, locks.PERSON, target.person_id)  # one event at a time per person
        state, version = records.load_state(conn, self.cipher, target.person_id)
        outcome = engine.step(state, event, now)
        if logged is not None:
            body = letters.logged_text(outcome, passphrase.logged_text(state, logged))
            message_id = records.log_message(conn, self.cipher, target.person_id, "in",
                                             target.channel, body, to_ts(now))
            target = replace(target, message_id=message_id)
        return apply_outcome(conn, self.cipher, target, state, version, outcome, now,
                             self.oncall)


MEDIA_NOT_ACCEPTED = "(media not accepted)"  # what the message log keeps of a photo or file


def _logged(inbound: Inbound) -> str | None:
    """What the message log keeps: the text; for media only that it came (never fetched)."""
    if inbound.signal == "media":
        return MEDIA_NOT_ACCEPTED
    return None if inbound.signal else inbound.text


def _refuse_erased(conn: sqlite3.Connection, person_id: int) -> None:
    """Nothing more is done for, recorded about or sent to a person once erased."""
    if subject.is_erased(conn, person_id):
        raise ValueError("this person's personal content was erased")


def _settle(conn: sqlite3.Connection, job: jobs.JobRow, decision: kinds.Decision,
            now: float) -> Applied:
    """A due job that must not fire now: moved to a safe time, held for RESUME, or dropped."""
    assert job.person_id is not None
    applied = Applied(job.person_id)
    if decision.action == "move" and decision.at is not None:
        jobs.move(conn, job.id, to_ts(decision.at))
        applied.scheduled.append((job.id, to_ts(decision.at)))
    elif decision.action == "hold":
        jobs.hold(conn, job.id, now)
    records.audit(conn, "scheduler", f"job_{decision.action}", now, job.person_id, None,
                  {"job": job.id, "kind": job.kind, "reason": decision.reason})
    return applied
