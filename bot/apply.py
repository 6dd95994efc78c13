"""Carry out an engine Outcome inside one transaction: state, replies, effects, audit."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot import i18n
from bot.clock import to_ts
from bot.crypto import Cipher
from bot.engine import asked_id
from bot.flows.base import tag
from bot.oncall import risk
from bot.oncall.plan import OFF, Plan
from bot.privacy import sealed
from bot.relay import gate
from bot.relay.apply import apply_letter
from bot.scheduler import kinds
from bot.scheduler.windows import deliver_at, timezone_of
from bot.store import jobs, outbox, records
from bot.types import (
    Alert,
    Audit,
    CancelJobs,
    Effect,
    LetterOp,
    OpenCase,
    Outcome,
    RecordConsent,
    Reply,
    Schedule,
    ScriptOp,
    SetOptOut,
    State,
    UpdateCase,
    WithdrawConsent,
)

WITH_MESSAGE = ("risk", "message")  # alerts whose message a person must read


@dataclass
class Applied:
    """What one event produced, for observers once it is committed."""

    person_id: int
    alerts: list[dict[str, Any]] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)
    # (job id, due at) for every job made or moved: the runner sets an in-memory wake-up
    scheduled: list[tuple[int, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """Who the event concerns and where replies go."""

    person_id: int
    address_id: int | None
    channel: str
    actor: str = "bot"
    message_id: int | None = None  # the person's message this event is (the log row)


def apply_outcome(
    conn: sqlite3.Connection, cipher: Cipher, target: Target, before: State, version: int,
    outcome: Outcome, now: datetime, oncall: Plan = OFF,
) -> Applied:
    """`oncall`: who is told of a risk alert outside the console (bot.oncall)."""
    ts = to_ts(now)
    state = outcome.state
    records.save_state(conn, cipher, target.person_id, state, version, ts)
    applied = Applied(target.person_id)
    case_id = open_case_id(conn, target.person_id)
    for effect in outcome.effects:
        case_id = _effect(conn, cipher, target, state, effect, case_id, now, applied, oncall)
    if not _opted_out(conn, target.person_id):
        for reply in outcome.replies:
            _enqueue(conn, cipher, target, state, reply, now, applied)
    elif outcome.replies and target.message_id and not applied.alerts:
        # STOP on SMS: no answer can reach them, so their words go to the team to read
        _alert(conn, cipher, target, Alert("message", {"cannot_text": True}), case_id, now,
               applied, oncall)
    if before.status == "paused" and state.status == "active":
        at = to_ts(deliver_at(state, now))
        outbox.release_held(conn, target.person_id, at)
        applied.scheduled.extend(jobs.release_held(conn, target.person_id, at))
    elif state.status == "paused" and before.status != "paused":
        outbox.hold_scheduled(conn, target.person_id)
    return applied


def open_case_id(conn: sqlite3.Connection, person_id: int) -> int | None:
    row = conn.execute(
        "SELECT id FROM cases WHERE person_id = ? AND closed_at IS NULL ORDER BY id DESC"
        " LIMIT 1",
        (person_id,),
    ).fetchone()
    return row["id"] if row else None


def _enqueue(
    conn: sqlite3.Connection, cipher: Cipher, target: Target, state: State, reply: Reply,
    now: datetime, applied: Applied,
) -> None:
    if not reply.immediate and state.status == "withdrawn":
        return
    address_id = target.address_id if reply.immediate else None
    address_id = address_id or records.latest_address(conn, target.person_id)
    if address_id is None:
        return
    channel = _channel_of(conn, target, address_id)
    text = i18n.render(reply.text, state.locale, timezone_of(state))
    # a Telegram button carries the question it was shown with (a later tap on it is stale)
    asked = asked_id(state) if channel == "telegram" else ""
    choices = tuple((tag(asked, c.payload), i18n.gettext(state.locale, c.label))
                    for c in reply.choices)
    when = now if reply.immediate else deliver_at(state, now)
    row_id = outbox.enqueue(
        conn, cipher, person_id=target.person_id, address_id=address_id,
        channel=channel, text=text, choices=choices, locale=state.locale,
        priority=outbox.REPLY if reply.immediate else outbox.SCHEDULED,
        not_before=to_ts(when), now=to_ts(now),
        held=not reply.immediate and state.status == "paused",
    )
    records.log_message(
        conn, cipher, target.person_id, "out", channel, text, to_ts(now), row_id,
        reply.author, _account(conn, target.actor) if reply.author == "facilitator" else None,
    )
    applied.outbox_ids.append(row_id)


def _channel_of(conn: sqlite3.Connection, target: Target, address_id: int) -> str:
    """The address's channel; the event's own for the address it came from (found by it)."""
    if address_id == target.address_id and target.channel:
        return target.channel
    row = conn.execute("SELECT channel FROM addresses WHERE id = ?", (address_id,)).fetchone()
    return str(row["channel"])


def _account(conn: sqlite3.Connection, actor: str) -> int | None:
    """The console account of the facilitator acting (None: not an account, e.g. simulate)."""
    row = conn.execute("SELECT id FROM facilitators WHERE email = ?", (actor,)).fetchone()
    return int(row["id"]) if row else None


def _effect(
    conn: sqlite3.Connection, cipher: Cipher, target: Target, state: State, effect: Effect,
    case_id: int | None, now: datetime, applied: Applied, oncall: Plan = OFF,
) -> int | None:
    ts, pid = to_ts(now), target.person_id
    if isinstance(effect, OpenCase):
        case_id = sealed.next_id(conn, "cases")
        data = sealed.seal(cipher, json.dumps(dict(state.answers), ensure_ascii=False),
                           "cases", "data_enc", id=case_id, person_id=pid)
        conn.execute(
            "INSERT INTO cases (id, person_id, stage, reply_due_at, flags, data_enc, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (case_id, pid, effect.stage, to_ts(effect.reply_due), ",".join(effect.flags), data,
             ts, ts),
        )
    elif isinstance(effect, UpdateCase) and case_id is not None:
        _update_case(conn, cipher, case_id, dict(effect.fields), ts)
    elif isinstance(effect, Alert):
        _alert(conn, cipher, target, effect, case_id, now, applied, oncall)
    elif isinstance(effect, Schedule):
        _schedule(conn, target, state, effect, now, applied)
    elif isinstance(effect, CancelJobs):
        jobs.cancel(conn, pid, ts, effect.kinds, effect.key)
        if not effect.kinds:
            outbox.cancel_scheduled(conn, pid)
    elif isinstance(effect, RecordConsent):
        conn.execute(
            "INSERT INTO consents (person_id, case_id, version, scopes, channel, agreed_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (pid, case_id, effect.version, ",".join(effect.scopes), effect.channel, ts),
        )
        gate.release(conn, pid, target.actor, ts)
    elif isinstance(effect, WithdrawConsent):
        conn.execute(
            "UPDATE consents SET withdrawn_at = ? WHERE person_id = ? AND withdrawn_at IS NULL",
            (ts, pid),
        )
        gate.hold(conn, pid, effect.reason, target.actor, ts)
    elif isinstance(effect, SetOptOut):
        conn.execute("UPDATE people SET opted_out = ? WHERE id = ?", (int(effect.opted_out), pid))
        if effect.opted_out:
            outbox.cancel_all(conn, pid)
    elif isinstance(effect, Audit):
        records.audit(conn, target.actor, effect.action, ts, pid, case_id, dict(effect.detail))
    elif isinstance(effect, LetterOp | ScriptOp):
        _letter(conn, cipher, target, state, effect, case_id, now, applied)
    return case_id


def _alert(conn: sqlite3.Connection, cipher: Cipher, target: Target, alert: Alert,
           case_id: int | None, now: datetime, applied: Applied, oncall: Plan) -> None:
    data = _alert_data(conn, target, alert)
    alert_id = conn.execute(
        "INSERT INTO alerts (kind, person_id, case_id, data, created_at) VALUES (?, ?, ?, ?, ?)",
        (alert.kind, target.person_id, case_id, json.dumps(data, sort_keys=True), to_ts(now)),
    ).lastrowid
    assert alert_id is not None
    if alert.kind == "risk":  # someone on call hears of it now, in this transaction
        applied.scheduled.extend(
            risk.on_risk_alert(conn, cipher, oncall, alert_id, target.person_id, case_id, now))
    applied.alerts.append(
        {"id": alert_id, "kind": alert.kind, "person": target.person_id, "case": case_id, **data}
    )


def _alert_data(conn: sqlite3.Connection, target: Target, alert: Alert) -> dict[str, Any]:
    """What the team needs beside the kind: which message to read, whether texts reach them."""
    data = dict(alert.data)
    if alert.kind in WITH_MESSAGE and target.message_id:
        data["message"] = target.message_id
    if alert.kind == "risk" and _opted_out(conn, target.person_id):
        data["cannot_text"] = True  # STOP on SMS: not even the safety reply reaches them
    return data


def _opted_out(conn: sqlite3.Connection, person_id: int) -> bool:
    row = conn.execute("SELECT opted_out FROM people WHERE id = ?", (person_id,)).fetchone()
    return bool(row["opted_out"])


def _letter(conn: sqlite3.Connection, cipher: Cipher, target: Target, state: State,
            op: LetterOp | ScriptOp, case_id: int | None, now: datetime,
            applied: Applied) -> None:
    """A letter op; a letter shown goes out in parts on the channel the person is using."""
    address_id = target.address_id or records.latest_address(conn, target.person_id)
    row = conn.execute("SELECT a.channel, p.opted_out FROM addresses a JOIN people p"
                       " ON p.id = a.person_id WHERE a.id = ?", (address_id,)).fetchone()
    channel = row["channel"] if row else ""

    def enqueue(reply: Reply) -> None:
        if row is not None and not row["opted_out"]:
            _enqueue(conn, cipher, target, state, reply, now, applied)

    apply_letter(conn, cipher, target.person_id, case_id, target.actor, channel, op, now,
                 enqueue)


def _schedule(
    conn: sqlite3.Connection, target: Target, state: State, effect: Schedule, now: datetime,
    applied: Applied,
) -> None:
    """Make the job, due when its kind allows (a person's safe time), or skip it if pointless."""
    due = kinds.align(effect.kind, state, effect.due, now, effect.data)
    if due is None:
        records.audit(conn, target.actor, "job_skipped", to_ts(now), target.person_id, None,
                      {"kind": effect.kind})
        return
    job_id = jobs.schedule(conn, person_id=target.person_id, kind=effect.kind, due_at=to_ts(due),
                           now=to_ts(now), key=effect.key, data=dict(effect.data))
    applied.scheduled.append((job_id, to_ts(due)))


def _update_case(
    conn: sqlite3.Connection, cipher: Cipher, case_id: int, fields: dict[str, Any], ts: float
) -> None:
    row = conn.execute("SELECT id, person_id, data_enc FROM cases WHERE id = ?",
                       (case_id,)).fetchone()
    data = json.loads(sealed.open_in(cipher, row["data_enc"], "cases", "data_enc", row)
                      ) if row["data_enc"] else {}
    stage = fields.pop("stage", None)
    flags = fields.pop("flags", None)  # case flags (senior, on_hold, ...) live in their column
    unflag = fields.pop("unflag", None)  # flags no longer true (first contact now finished)
    kind = fields.get("kind")  # who started it: victim (default) or other_party (column too)
    data.update(fields)
    conn.execute(
        "UPDATE cases SET stage = coalesce(?, stage), data_enc = ?, updated_at = ? WHERE id = ?",
        (stage, sealed.seal(cipher, json.dumps(data, ensure_ascii=False), "cases", "data_enc",
                            id=case_id, person_id=row["person_id"]), ts, case_id),
    )
    if kind in ("victim", "other_party"):
        conn.execute("UPDATE cases SET kind = ? WHERE id = ?", (kind, case_id))
    if flags or unflag:
        _merge_flags(conn, case_id, [str(f) for f in flags or ()],
                     {str(f) for f in unflag or ()})


def _merge_flags(conn: sqlite3.Connection, case_id: int, flags: list[str],
                 drop: set[str]) -> None:
    row = conn.execute("SELECT flags FROM cases WHERE id = ?", (case_id,)).fetchone()
    have = [f for f in (row["flags"] or "").split(",") if f and f not in drop]
    merged = have + [f for f in flags if f not in have and f not in drop]
    conn.execute("UPDATE cases SET flags = ? WHERE id = ?", (",".join(merged), case_id))
