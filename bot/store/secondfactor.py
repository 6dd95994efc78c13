"""The console's second factor: TOTP secrets, recovery codes, sign-in challenges.

The TOTP secret is sealed (bound to its account row); `totp_last_step` is the newest time
step accepted, so a code is never accepted twice (nor an older one after it). Recovery codes
are kept as keyed hashes, one use each. A challenge is the half-way state after a correct
password: its token (stored as a hash) is not a session and opens no page but the code form.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.crypto import Cipher
from bot.privacy import sealed
from bot.store.facilitators import Facilitator, _facilitator, token_hash


@dataclass(frozen=True)
class Factor:
    secret_enc: bytes | None
    enrolled: bool
    last_step: int


def factor(conn: sqlite3.Connection, facilitator_id: int) -> Factor:
    row = conn.execute("SELECT totp_secret_enc, totp_enrolled_at, totp_last_step"
                       " FROM facilitators WHERE id = ?", (facilitator_id,)).fetchone()
    return Factor(row[0], row[1] is not None, int(row[2]))


def set_secret(conn: sqlite3.Connection, cipher: Cipher, facilitator_id: int,
               secret: str) -> None:
    """A new secret (sealed to the account's id and email), not yet confirmed: recovery
    codes go, and every session ends."""
    email = conn.execute("SELECT email FROM facilitators WHERE id = ?",
                         (facilitator_id,)).fetchone()[0]
    blob = sealed.seal(cipher, secret, "facilitators", "totp_secret_enc", id=facilitator_id,
                       email=email)
    conn.execute("UPDATE facilitators SET totp_secret_enc = ?, totp_enrolled_at = NULL,"
                 " totp_last_step = 0 WHERE id = ?", (blob, facilitator_id))
    conn.execute("DELETE FROM recovery_codes WHERE facilitator_id = ?", (facilitator_id,))
    conn.execute("DELETE FROM console_sessions WHERE facilitator_id = ?", (facilitator_id,))
    conn.execute("DELETE FROM console_challenges WHERE facilitator_id = ?", (facilitator_id,))


def open_secret(conn: sqlite3.Connection, cipher: Cipher, facilitator_id: int) -> str | None:
    """The account's TOTP secret; `sealed.Tampered` if it was copied from another account."""
    row = conn.execute("SELECT id, email, totp_secret_enc FROM facilitators WHERE id = ?",
                       (facilitator_id,)).fetchone()
    if row is None or row["totp_secret_enc"] is None:
        return None
    return sealed.open_in(cipher, row["totp_secret_enc"], "facilitators", "totp_secret_enc",
                          row)


def use_step(conn: sqlite3.Connection, facilitator_id: int, step: int) -> bool:
    """Accept a code's time step once: only a step newer than every accepted one."""
    done = conn.execute("UPDATE facilitators SET totp_last_step = ? WHERE id = ?"
                        " AND totp_last_step < ?", (step, facilitator_id, step)).rowcount
    return done == 1


def enrol(conn: sqlite3.Connection, facilitator_id: int, code_hashes: list[bytes],
          now: float) -> None:
    """The first code was right: the secret is confirmed, with fresh recovery codes."""
    conn.execute("UPDATE facilitators SET totp_enrolled_at = ? WHERE id = ?",
                 (now, facilitator_id))
    conn.execute("DELETE FROM recovery_codes WHERE facilitator_id = ?", (facilitator_id,))
    conn.executemany("INSERT INTO recovery_codes (facilitator_id, code_hash, created_at)"
                     " VALUES (?, ?, ?)", [(facilitator_id, h, now) for h in code_hashes])


def use_recovery(conn: sqlite3.Connection, facilitator_id: int, code_hash: bytes,
                 now: float) -> bool:
    done = conn.execute("UPDATE recovery_codes SET used_at = ? WHERE facilitator_id = ?"
                        " AND code_hash = ? AND used_at IS NULL",
                        (now, facilitator_id, code_hash)).rowcount
    return done == 1


def recovery_left(conn: sqlite3.Connection, facilitator_id: int) -> int:
    return int(conn.execute("SELECT count(*) FROM recovery_codes WHERE facilitator_id = ?"
                            " AND used_at IS NULL", (facilitator_id,)).fetchone()[0])


# ---- challenges: a correct password, waiting for the code ----


def open_challenge(conn: sqlite3.Connection, token: str, facilitator_id: int, now: float,
                   lifetime: float) -> None:
    conn.execute("DELETE FROM console_challenges WHERE expires_at <= ?", (now,))
    conn.execute("INSERT INTO console_challenges (id_hash, facilitator_id, created_at,"
                 " expires_at, tries) VALUES (?, ?, ?, ?, 0)",
                 (token_hash(token), facilitator_id, now, now + lifetime))


def challenge_user(conn: sqlite3.Connection, token: str, now: float) -> Facilitator | None:
    row = conn.execute(
        "SELECT f.* FROM console_challenges c JOIN facilitators f ON f.id = c.facilitator_id"
        " WHERE c.id_hash = ? AND c.expires_at > ? AND f.active = 1",
        (token_hash(token), now)).fetchone()
    return _facilitator(row) if row else None


def count_try(conn: sqlite3.Connection, token: str, most: int) -> bool:
    """One more wrong code; past `most` the challenge ends (the password is asked again)."""
    conn.execute("UPDATE console_challenges SET tries = tries + 1 WHERE id_hash = ?",
                 (token_hash(token),))
    row = conn.execute("SELECT tries FROM console_challenges WHERE id_hash = ?",
                       (token_hash(token),)).fetchone()
    if row is None or row[0] >= most:
        close_challenge(conn, token)
        return False
    return True


def close_challenge(conn: sqlite3.Connection, token: str) -> None:
    conn.execute("DELETE FROM console_challenges WHERE id_hash = ?", (token_hash(token),))
