"""Lists of cases for the console: open, closed or all, filtered and paginated.

Only plain columns are read (ids, stages, times, channels, who is assigned): no decryption.
A case's source is "referral" when an agency referred it, else the channel the person first
used (sms, telegram, whatsapp), as bot.stats counts it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from bot.store.casework import _CASE_SELECT, CaseRow, _visible

STATUSES = ("open", "closed", "all")
STAGES = ("new_contact", "first_conversation", "aftercare", "reopened", "closed")
SOURCES = ("referral", "sms", "telegram", "whatsapp")
PAGE = 25
SOURCE_SQL = ("(CASE WHEN EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = c.id)"
              " THEN 'referral' ELSE coalesce((SELECT a.channel FROM addresses a"
              " WHERE a.person_id = c.person_id ORDER BY a.id LIMIT 1), '') END)")


@dataclass(frozen=True)
class Filters:
    status: str = "open"
    stage: str = ""
    facilitator: int | None = None
    source: str = ""
    page: int = 1

    @classmethod
    def parse(cls, query: dict[str, str]) -> Filters:
        """From the page's query string; anything unknown is ignored (never an error)."""
        status = query.get("status", "open")
        fid = query.get("facilitator", "")
        page = query.get("page", "1")
        return cls(
            status if status in STATUSES else "open",
            query.get("stage", "") if query.get("stage", "") in STAGES else "",
            int(fid) if fid.isdigit() else None,
            query.get("source", "") if query.get("source", "") in SOURCES else "",
            max(1, min(int(page), 10_000)) if page.isdigit() else 1,
        )

    def query(self, **changes: Any) -> dict[str, str]:
        """The query string of these filters (with `changes`), without empty values."""
        values = {"status": self.status, "stage": self.stage, "source": self.source,
                  "facilitator": str(self.facilitator or ""), "page": str(self.page)}
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


@dataclass(frozen=True)
class Listed:
    cases: list[tuple[CaseRow, str]]  # each case with its source
    total: int
    pages: int


def _where(f: Filters, user_id: int | None) -> tuple[str, list[Any]]:
    vis, params = _visible(user_id)
    where = [vis]
    if f.status == "open":
        where.append("c.closed_at IS NULL")
    elif f.status == "closed":
        where.append("c.closed_at IS NOT NULL")
    if f.stage:
        where.append("c.stage = ?")
        params.append(f.stage)
    if f.facilitator is not None:
        where.append("EXISTS (SELECT 1 FROM case_assignments y WHERE y.case_id = c.id"
                     " AND y.facilitator_id = ?)")
        params.append(f.facilitator)
    if f.source:
        where.append(f"{SOURCE_SQL} = ?")
        params.append(f.source)
    return " AND ".join(where), params


def cases(conn: sqlite3.Connection, f: Filters, user_id: int | None) -> Listed:
    """One page of the cases the user may see (`user_id` None: a supervisor), newest first."""
    where, params = _where(f, user_id)
    total = int(conn.execute(
        f"SELECT count(*) FROM cases c JOIN people p ON p.id = c.person_id WHERE {where}",  # noqa: S608  # nosec B608
        params).fetchone()[0])
    pages = max(1, -(-total // PAGE))
    select = _CASE_SELECT.replace(" FROM cases c JOIN", f", {SOURCE_SQL} AS source"
                                  " FROM cases c JOIN", 1)
    rows = conn.execute(f"{select} WHERE {where} ORDER BY c.updated_at DESC, c.id DESC"
                        " LIMIT ? OFFSET ?", [*params, PAGE, (min(f.page, pages) - 1) * PAGE])
    found = []
    for r in rows:
        data = dict(r)
        source = data.pop("source")
        found.append((CaseRow(**data), source or "unknown"))
    return Listed(found, total, pages)
