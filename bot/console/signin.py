"""The second step of signing in: after the password, a TOTP code (or a recovery code).

A correct password opens a challenge, not a session: a fresh token that only the code form
accepts, for 5 minutes and 5 wrong codes. An account without a confirmed second factor (new,
reset, or from before it existed) is shown its QR code there, and the first right code
confirms it and gives the recovery codes, once. Wrong codes count like wrong passwords
(the same progressive delay and audit rows, bot.console.throttle).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
from dataclasses import dataclass, field

from bot.clock import to_ts
from bot.console import throttle, totp
from bot.privacy import sealed
from bot.service import Service
from bot.store import facilitators, logins, records, secondfactor
from bot.store.facilitators import Facilitator

log = logging.getLogger(__name__)
CHALLENGE_LIFETIME = 5 * 60.0
MOST_TRIES = 5


@dataclass(frozen=True)
class Pending:
    user: Facilitator
    enrolled: bool
    secret: str


@dataclass(frozen=True)
class CodeResult:
    user: Facilitator | None
    recovery: list[str] = field(default_factory=list)  # shown once, at enrolment
    again: bool = True  # False: the challenge is over, the password is asked again
    waited: float = 0.0


def new_secret_for(service: Service, conn: sqlite3.Connection, facilitator_id: int) -> str:
    """A new, unconfirmed TOTP secret (sealed to the account row); returns it."""
    secret = totp.new_secret()
    secondfactor.set_secret(conn, service.cipher, facilitator_id, secret)
    return secret


async def start_challenge(service: Service, user: Facilitator, old_token: str) -> str:
    token = secrets.token_urlsafe(32)
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> None:
        facilitators.close_session(conn, old_token)
        secondfactor.close_challenge(conn, old_token)
        if secondfactor.factor(conn, user.id).secret_enc is None:  # from before 2FA
            new_secret_for(service, conn, user.id)
        secondfactor.open_challenge(conn, token, user.id, now, CHALLENGE_LIFETIME)

    await service.db.write(unit)
    return token


async def pending(service: Service, token: str) -> Pending | None:
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> Pending | None:
        user = secondfactor.challenge_user(conn, token, now)
        if user is None:
            return None
        try:
            secret = secondfactor.open_secret(conn, service.cipher, user.id)
        except sealed.Tampered:  # copied from another account: no sign-in with it
            log.error("console account %d: its second factor does not open in its row",
                      user.id)
            return None
        if secret is None:
            return None
        return Pending(user, secondfactor.factor(conn, user.id).enrolled, secret)

    return await service.db.read(unit)


async def check_code(service: Service, token: str, code: str, client: str) -> CodeResult:
    """Check a code for the challenge behind `token`, after the account's delay."""
    p = await pending(service, token)
    if p is None:
        return CodeResult(None, again=False)
    now = to_ts(service.runtime.clock.now())
    account = service.cipher.address_hash("console-login", p.user.email)
    source = service.cipher.address_hash("console-client", client)
    since = now - throttle.WINDOW
    counted = await service.db.read(lambda c: logins.counts(c, account, source, since))
    wait = throttle.delay(*counted)
    if wait:
        await asyncio.sleep(wait)
    uid = p.user.id

    def unit(conn: sqlite3.Connection) -> CodeResult:
        step = totp.matching_step(p.secret, code, now)
        ok = step is not None and secondfactor.use_step(conn, uid, step)
        by_recovery = False
        if not ok and p.enrolled and totp.looks_like_recovery(code):
            ok = by_recovery = secondfactor.use_recovery(
                conn, uid, totp.code_hash(service.cipher, code), now)
        if not ok:
            _, rank = logins.record(conn, account, source, True, now, since)
            if throttle.audited(rank):
                records.audit(conn, p.user.email, "login_failed", now,
                              detail={"failures_in_window": rank, "step": "code"})
            return CodeResult(None, again=secondfactor.count_try(conn, token, MOST_TRIES),
                              waited=wait)
        codes: list[str] = []
        if not p.enrolled:
            codes = totp.recovery_codes()
            secondfactor.enrol(conn, uid, [totp.code_hash(service.cipher, c) for c in codes],
                               now)
            records.audit(conn, p.user.email, "second_factor_enrolled", now)
        secondfactor.close_challenge(conn, token)
        records.audit(conn, p.user.email, "login", now,
                      detail={"factor": "recovery_code" if by_recovery else "totp"})
        return CodeResult(p.user, codes, waited=wait)

    return await service.db.write(unit)
