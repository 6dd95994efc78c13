"""Storage limitation: personal content is erased when its retention period ends.

- an enquiry whose first questions were never finished and whose case nobody took further:
  after `enquiry_days` without contact (default 90);
- a closed case: `closed_case_days` after closing (default 730; the controller must set it);
- provider copies (e.g. Twilio's message records): deleted once their delivery status is
  final, by `bot.privacy.provider_copies` right after each sweep.
The skeleton (ids, stages, channels, times) and the audit log stay, so anonymised counts
survive. The sweep is a system job (kind "retention"), one pending at a time, due at a quiet
hour of the service's timezone; each run schedules the next.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import to_ts
from bot.privacy.subject import erase, people_with_content
from bot.store import jobs, locks, records

DAY = 86400.0
KIND = "retention"
LOGIN_FAILURES_DAYS = 30
QUIET_HOUR = time(3, 30)  # local time: nobody is messaging, no facilitator is working


@dataclass(frozen=True)
class Retention:
    enquiry_days: int = 90
    closed_case_days: int = 730
    timezone: str = "Europe/London"

    def data(self) -> dict[str, Any]:
        return {"enquiry_days": self.enquiry_days, "closed_case_days": self.closed_case_days,
                "timezone": self.timezone}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Retention:
        return cls(int(data.get("enquiry_days", 90)), int(data.get("closed_case_days", 730)),
                   str(data.get("timezone", "Europe/London")))


def next_quiet_time(now: datetime, timezone: str) -> datetime:
    """The next QUIET_HOUR in the service's timezone, strictly after `now` (aware, UTC)."""
    local = now.astimezone(ZoneInfo(timezone))
    at = datetime.combine(local.date(), QUIET_HOUR, tzinfo=local.tzinfo)
    if at <= local:
        at = datetime.combine(local.date() + timedelta(days=1), QUIET_HOUR, tzinfo=local.tzinfo)
    return at.astimezone(now.tzinfo)


def ensure_job(conn: sqlite3.Connection, policy: Retention, now: datetime) -> int:
    """At start-up: exactly one pending sweep, carrying the current settings."""
    return jobs.schedule(conn, person_id=None, kind=KIND, key=KIND, now=to_ts(now),
                         due_at=to_ts(next_quiet_time(now, policy.timezone)),
                         data=policy.data())


def run_job(conn: sqlite3.Connection, data: Mapping[str, Any], now: datetime) -> None:
    """The daily job: erase what is due, record the run, and schedule tomorrow's."""
    policy = Retention.from_data(data)
    erased = sweep(conn, policy, to_ts(now))
    # failed console logins (keyed hashes) only set the sign-in delay of the last 15 minutes
    purged = conn.execute("DELETE FROM login_failures WHERE at < ?",
                          (to_ts(now) - LOGIN_FAILURES_DAYS * DAY,)).rowcount
    records.audit(conn, "retention", "retention_sweep", to_ts(now),
                  detail={"erased": erased, "login_failures_purged": purged})
    ensure_job(conn, policy, now)



def erased_in_last_sweep(conn: sqlite3.Connection) -> bool:
    """Whether the newest sweep erased anyone (then the WAL is checkpointed after it)."""
    row = conn.execute("SELECT json_extract(detail, '$.erased') FROM audit"
                       " WHERE action = 'retention_sweep' ORDER BY id DESC LIMIT 1").fetchone()
    return bool(row and row[0])


def due_for_erasure(conn: sqlite3.Connection, policy: Retention, now: float) -> list[int]:
    """Who is due: an enquiry (first questions never finished, nothing done on it yet: its case
    is still a new contact flagged `unfinished`) without contact for `enquiry_days`; a person
    whose cases are all
    closed and who has been neither on a case nor in contact for `closed_case_days` (someone
    writing again after an old case closed is not erased mid-conversation). An erased person
    is due again only if personal content was added after their erasure."""
    enquiry_cutoff = now - policy.enquiry_days * DAY
    closed_cutoff = now - policy.closed_case_days * DAY
    rows = conn.execute(
        """
        SELECT p.id, p.status FROM people p
        WHERE (SELECT max(last_seen_at) FROM addresses a WHERE a.person_id = p.id) < ?
          AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.person_id = p.id
                          AND (c.stage != 'new_contact'
                               OR ',' || c.flags || ',' NOT LIKE '%,unfinished,%'))
        UNION
        SELECT p.id, p.status FROM people p
        WHERE EXISTS (SELECT 1 FROM cases c WHERE c.person_id = p.id)
          AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.person_id = p.id
                          AND (c.closed_at IS NULL OR c.closed_at >= ?))
          AND coalesce((SELECT max(last_seen_at) FROM addresses a
                        WHERE a.person_id = p.id), 0) < ?
        """,
        (enquiry_cutoff, closed_cutoff, closed_cutoff),
    ).fetchall()
    erased = {r[0] for r in rows if r[1] == "erased"}
    if erased:  # due again only if content was added after their erasure
        erased -= people_with_content(conn)
    return sorted(r[0] for r in rows if r[0] not in erased)


def sweep(conn: sqlite3.Connection, policy: Retention, now: float) -> int:
    """Erase everyone whose retention period has ended; returns how many."""
    locks.hold(conn, locks.SWEEP, 0)  # one instance at a time sweeps
    people = due_for_erasure(conn, policy, now)
    for person_id in people:
        erase(conn, person_id, now, "retention")
    return len(people)


def statistics(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """Anonymised counts that survive erasure: cases by stage and outcome, people by channel
    and status."""
    def counts(sql: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in conn.execute(sql).fetchall()}

    return {
        "cases_by_stage": counts("SELECT stage, count(*) FROM cases GROUP BY stage"),
        "cases_by_outcome": counts(
            "SELECT coalesce(json_extract(detail, '$.outcome'), 'unrecorded'), count(*)"
            " FROM audit WHERE action = 'case_closed' GROUP BY 1"),
        "people_by_channel": counts(
            "SELECT channel, count(DISTINCT person_id) FROM addresses GROUP BY channel"),
        "people_by_status": counts("SELECT status, count(*) FROM people GROUP BY status"),
    }
