"""Failed console logins, kept only as keyed hashes: they set the sign-in delay.

Nothing typed into the login form is stored: the account is a keyed hash of the normalised
email (so a password typed into the email field is unreadable), the client a keyed hash of its
address. Rows older than the retention sweep's limit are deleted (bot.privacy.retention).
"""

from __future__ import annotations

import sqlite3


def counts(conn: sqlite3.Connection, account: bytes, client: bytes,
           since: float) -> tuple[int, int]:
    """Failed logins since `since`: for this account, and from this client."""
    by_account = conn.execute(
        "SELECT count(*) FROM login_failures WHERE account_hash = ? AND at > ?",
        (account, since)).fetchone()[0]
    by_client = conn.execute(
        "SELECT count(*) FROM login_failures WHERE client_hash = ? AND at > ?",
        (client, since)).fetchone()[0]
    return int(by_account), int(by_client)


def record(conn: sqlite3.Connection, account: bytes, client: bytes, known: bool,
           now: float, since: float) -> tuple[int, int]:
    """A (provisional) failure; returns its row id and its rank among the failures since
    `since` for the same account, or for all unknown accounts together."""
    row_id = conn.execute(
        "INSERT INTO login_failures (account_hash, client_hash, known, at) VALUES (?, ?, ?, ?)",
        (account, client, int(known), now)).lastrowid
    assert row_id is not None
    if known:
        rank = conn.execute("SELECT count(*) FROM login_failures WHERE account_hash = ?"
                            " AND known = 1 AND at > ?", (account, since)).fetchone()[0]
    else:
        rank = conn.execute("SELECT count(*) FROM login_failures WHERE known = 0 AND at > ?",
                            (since,)).fetchone()[0]
    return row_id, int(rank)


def forget(conn: sqlite3.Connection, row_id: int) -> None:
    """A provisional failure that turned out to be the right password."""
    conn.execute("DELETE FROM login_failures WHERE id = ?", (row_id,))
