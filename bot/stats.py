"""Anonymised service statistics (`rjbot stats`, the supervisors' console page).

Counted only from what erasure keeps: the case skeleton (kind, stage, times), referral
organisation types, address channels, and audit events with their non-personal details
(outcome keys, feedback answers). Nothing here reads a sealed column, so the numbers survive
erasure and hold no personal content.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from statistics import median
from typing import Any

# the furthest step a case reached, in order, and the audit event that shows it
STAGES: tuple[tuple[str, str], ...] = (
    ("contacted", ""),
    ("replied", "replied"),
    ("consent", "consent_recorded"),
    ("meeting_booked", "meeting_set"),
    ("meeting_held", "meeting_held"),
)
RECOMMEND = ("yes", "maybe", "no", "skip")


def _actions(conn: sqlite3.Connection, action: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT at, person_id, case_id, detail FROM audit WHERE action = ?"
                        " ORDER BY id", (action,)).fetchall()


def _source(conn: sqlite3.Connection) -> dict[int, str]:
    """Each case's source: the referring organisation's type, else the first channel used."""
    found: dict[int, str] = {}
    for row in conn.execute("SELECT c.id, (SELECT a.channel FROM addresses a WHERE"
                            " a.person_id = c.person_id ORDER BY a.id LIMIT 1) AS channel"
                            " FROM cases c"):
        found[row["id"]] = f"self_{row['channel']}" if row["channel"] else "unknown"
    for row in conn.execute("SELECT case_id, org_type FROM referrals WHERE case_id IS NOT NULL"):
        found[row["case_id"]] = f"referral_{row['org_type']}"
    return found


def _stages(conn: sqlite3.Connection, cases: list[int]) -> Counter[str]:
    reached = dict.fromkeys(cases, 0)
    for rank, (_, action) in enumerate(STAGES):
        if not action:
            continue
        for row in _actions(conn, action):
            if row["case_id"] in reached:
                reached[row["case_id"]] = max(reached[row["case_id"]], rank)
    return Counter(STAGES[rank][0] for rank in reached.values())


def _first_reply_hours(conn: sqlite3.Connection) -> float | None:
    opened = {r["id"]: r["created_at"] for r in conn.execute("SELECT id, created_at FROM cases")}
    first: dict[int, float] = {}
    for row in _actions(conn, "replied"):
        if row["case_id"] in opened and row["case_id"] not in first:
            first[row["case_id"]] = row["at"] - opened[row["case_id"]]
    return round(median(first.values()) / 3600, 1) if first else None


def _detail(row: sqlite3.Row, key: str) -> str:
    try:
        return str(json.loads(row["detail"] or "{}").get(key, "") or "")
    except ValueError:
        return ""


def compute(conn: sqlite3.Connection) -> dict[str, Any]:
    """Every statistic, as plain JSON-able data (counts, a median in hours, a share)."""
    cases = conn.execute("SELECT id, kind, stage, closed_at FROM cases ORDER BY id").fetchall()
    ids = [c["id"] for c in cases]
    stages = _stages(conn, ids)
    sources = _source(conn)
    outcomes = Counter(_detail(r, "outcome") or "unrecorded" for r in _actions(conn, "case_closed"))
    feedback = Counter(_detail(r, "recommend") or "skip" for r in _actions(conn, "feedback"))
    answered = sum(feedback[k] for k in ("yes", "maybe", "no"))
    return {
        "cases_opened": len(cases),
        "cases_closed": sum(1 for c in cases if c["closed_at"] is not None
                            or c["stage"] == "closed"),
        "by_kind": dict(sorted(Counter(c["kind"] for c in cases).items())),
        "by_source": dict(sorted(Counter(sources.get(i, "unknown") for i in ids).items())),
        "by_stage_reached": {name: stages[name] for name, _ in STAGES},
        "by_outcome": dict(sorted(outcomes.items())),
        "withdrawals": len({r["person_id"] for r in _actions(conn, "withdrawn")}),
        "consent_withdrawals": len({r["person_id"] for r in _actions(conn, "consent_withdrawn")}),
        "median_hours_to_first_reply": _first_reply_hours(conn),
        "feedback": {k: feedback[k] for k in RECOMMEND},
        "feedback_comments": len(_actions(conn, "feedback_comment")),
        "share_who_would_recommend": round(feedback["yes"] / answered, 2) if answered else None,
    }
