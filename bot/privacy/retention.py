"""Storage limitation: personal content is erased when its retention period ends.

- an enquiry that never became a case: after `enquiry_days` without contact (default 90);
- a closed case: `closed_case_days` after closing (default 730; the controller must set it).
The skeleton (ids, stages, channels, times) stays, so anonymised counts survive.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.privacy.subject import erase

DAY = 86400.0


@dataclass(frozen=True)
class Retention:
    enquiry_days: int = 90
    closed_case_days: int = 730


def due_for_erasure(conn: sqlite3.Connection, policy: Retention, now: float) -> list[int]:
    enquiry_cutoff = now - policy.enquiry_days * DAY
    closed_cutoff = now - policy.closed_case_days * DAY
    rows = conn.execute(
        """
        SELECT p.id FROM people p
        WHERE p.status != 'erased'
          AND (SELECT max(last_seen_at) FROM addresses a WHERE a.person_id = p.id) < ?
          AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.person_id = p.id)
        UNION
        SELECT p.id FROM people p
        WHERE p.status != 'erased'
          AND EXISTS (SELECT 1 FROM cases c WHERE c.person_id = p.id)
          AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.person_id = p.id
                          AND (c.closed_at IS NULL OR c.closed_at >= ?))
        """,
        (enquiry_cutoff, closed_cutoff),
    ).fetchall()
    return [r[0] for r in rows]


def sweep(conn: sqlite3.Connection, policy: Retention, now: float) -> int:
    """Erase everyone whose retention period has ended; returns how many."""
    people = due_for_erasure(conn, policy, now)
    for person_id in people:
        erase(conn, person_id, now, "retention")
    return len(people)


def statistics(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """Anonymised counts that survive erasure: cases by stage, people by channel and status."""
    def counts(sql: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in conn.execute(sql).fetchall()}

    return {
        "cases_by_stage": counts("SELECT stage, count(*) FROM cases GROUP BY stage"),
        "people_by_channel": counts(
            "SELECT channel, count(DISTINCT person_id) FROM addresses GROUP BY channel"),
        "people_by_status": counts("SELECT status, count(*) FROM people GROUP BY status"),
    }
