"""What writing a risk alert sets going, inside the same transaction as the alert itself.

One notice per on-call number and address, and a system job that, 15 minutes on, escalates
to the supervisors unless somebody marked the alert seen (or handled) in the console. The job
lives in the jobs table, so it fires after a restart too; it is not the person's job, so a
withdrawal or STOP does not cancel it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.clock import to_ts
from bot.crypto import Cipher
from bot.oncall import notices
from bot.oncall.plan import ESCALATE_AFTER, UNSEEN, WAITING, Plan
from bot.store import jobs, records

KIND = "risk_unseen"  # the escalation job, and the dashboard alert it raises


def on_risk_alert(conn: sqlite3.Connection, cipher: Cipher, plan: Plan, alert_id: int,
                  person_id: int, case_id: int | None, now: datetime) -> list[tuple[int, float]]:
    """Queue the on-call notices and the escalation; returns the job made (for its alarm)."""
    ts = to_ts(now)
    text = plan.text(WAITING, person_id, case_id)
    recipients = [("sms", f"RJBOT_ONCALL_SMS#{n}", a) for n, a in enumerate(plan.sms, 1)]
    recipients += [("email", f"RJBOT_ONCALL_EMAIL#{n}", a) for n, a in enumerate(plan.email, 1)]
    told = _told_already(conn, person_id, alert_id, ts)
    if told is not None and recipients:  # one notice per person while nobody has looked
        records.audit(conn, "oncall", "notices_coalesced", ts, person_id, case_id,
                      {"alert": alert_id, "told_for": told})
        recipients = []
    for channel, recipient, address in recipients:
        notice = notices.enqueue(
            conn, alert_id=alert_id, channel=channel, recipient=recipient,
            sealed=notices.seal(cipher, address, channel, recipient),
            subject=plan.subject(), body=text, now=ts)
        records.audit(conn, "oncall", "notice_queued", ts, person_id, case_id,
                      {"notice": notice, "alert": alert_id, "channel": channel,
                       "to": recipient})
    due = ts + ESCALATE_AFTER
    job = jobs.schedule(conn, person_id=None, kind=KIND, due_at=due, now=ts,
                        key=f"{KIND}:{alert_id}",
                        data={"alert": alert_id, "email": plan.supervisors_by_email,
                              "url": plan.public_url})
    return [(job, due)]


def _told_already(conn: sqlite3.Connection, person_id: int, alert_id: int, ts: float
                  ) -> int | None:
    """An earlier risk alert for this person, under 15 minutes old, unseen, whose notices went
    out: staff are on their way, and its escalation still stands."""
    row = conn.execute(
        "SELECT a.id FROM alerts a WHERE a.kind = 'risk' AND a.person_id = ? AND a.id < ?"
        " AND a.created_at > ? AND a.seen_at IS NULL AND a.handled_at IS NULL"
        " AND EXISTS (SELECT 1 FROM notices n WHERE n.alert_id = a.id)"
        " ORDER BY a.id DESC LIMIT 1", (person_id, alert_id, ts - ESCALATE_AFTER)).fetchone()
    return int(row["id"]) if row else None


def escalate(conn: sqlite3.Connection, data: Mapping[str, Any], now: datetime) -> None:
    """The job, 15 minutes on: nobody saw the alert, so the supervisors are told."""
    ts = to_ts(now)
    alert = conn.execute("SELECT id, person_id, case_id, seen_at, handled_at FROM alerts"
                         " WHERE id = ?", (int(data.get("alert", 0)),)).fetchone()
    if alert is None or alert["seen_at"] is not None or alert["handled_at"] is not None:
        return
    pid, case_id = alert["person_id"], alert["case_id"]
    raised = conn.execute(
        "INSERT INTO alerts (kind, person_id, case_id, data, created_at) VALUES (?, ?, ?, ?, ?)",
        (KIND, pid, case_id, json.dumps({"alert": alert["id"]}), ts)).lastrowid
    told = []
    if data.get("email"):
        plan = Plan(public_url=str(data.get("url", "")))
        text = plan.text(UNSEEN, pid, case_id)
        for (account,) in conn.execute("SELECT id FROM facilitators WHERE supervisor = 1"
                                       " AND active = 1 ORDER BY id").fetchall():
            recipient = f"facilitator:{account}"
            notice = notices.enqueue(conn, alert_id=alert["id"], channel="email",
                                     recipient=recipient, sealed=None, subject=plan.subject(),
                                     body=text, now=ts)
            told.append(notice)
            records.audit(conn, "oncall", "notice_queued", ts, pid, case_id,
                          {"notice": notice, "alert": alert["id"], "channel": "email",
                           "to": recipient})
    records.audit(conn, "oncall", "risk_escalated", ts, pid, case_id,
                  {"alert": alert["id"], "raised": raised, "notices": told})
