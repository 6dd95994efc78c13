"""Console sign-in: argon2id passwords, signed session cookies, CSRF tokens, login delays.

The cookie carries a random token signed with a key kept in the database. A token whose hash
is in `console_sessions` is a signed-in session; any other validly signed token is an
anonymous visitor, good only for the login form's CSRF token. Signing in always mints a new
token, so a token planted before login is worthless afterwards (no session fixation).
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import sqlite3
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import Response

from bot.clock import to_ts
from bot.console import throttle
from bot.service import Service
from bot.store import facilitators, logins, records
from bot.store.facilitators import Facilitator

COOKIE = "rjbot_console"
SESSION_LIFETIME = 10 * 3600.0  # a working day, then sign in again
IDLE_TIMEOUT = 30 * 60.0  # ASVS level 2: 30 minutes without a request
TOUCH_EVERY = 5 * 60.0  # write seen_at at most this often

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("not a real password, used to keep timing even")


def hash_password(password: str) -> str:
    """The stored form of a password that passed bot.console.passwords."""
    return _hasher.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """Verify a password; an unknown account costs the same time as a wrong password."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Visitor:
    """Whoever sent a request: their cookie token and, when signed in, their account."""

    token: str
    user: Facilitator | None
    key: bytes

    @property
    def csrf(self) -> str:
        return hmac.new(self.key, b"csrf:" + self.token.encode(), "sha256").hexdigest()

    def csrf_ok(self, sent: str) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf, sent)

    @property
    def actor(self) -> str:
        return self.user.email if self.user else "anonymous"


async def signing_key(request: Request) -> bytes:
    """The cookie signing key: made once, kept in the database's meta table."""
    def unit(conn: sqlite3.Connection) -> str:
        found = records.get_meta(conn, "console_signing_key")
        if found is None:
            found = secrets.token_hex(32)
            records.set_meta(conn, "console_signing_key", found)
        return found

    cached: bytes | None = getattr(request.app.state, "console_key", None)
    if cached is None:
        cached = bytes.fromhex(await request.app.state.service.db.write(unit))
        request.app.state.console_key = cached
    return cached


def _serializer(key: bytes) -> URLSafeSerializer:
    return URLSafeSerializer(key.hex(), salt="rjbot-console-session")


async def visitor(request: Request, touch: bool = True) -> Visitor:
    """Who is asking: a live session, or an anonymous visitor (new token if none). Without
    `touch` the request does not count as activity (the console's live updates: an open tab
    must not keep a session from idling out)."""
    service: Service = request.app.state.service
    key = await signing_key(request)
    token = ""
    raw = request.cookies.get(COOKIE, "")
    if raw:
        try:
            token = str(_serializer(key).loads(raw))
        except BadSignature:
            token = ""
    if not token:
        return Visitor(secrets.token_urlsafe(32), None, key)
    now = to_ts(service.runtime.clock.now())
    found = await service.db.read(
        lambda c: facilitators.session_user(c, token, now, IDLE_TIMEOUT))
    if found is None:
        return Visitor(token, None, key)
    user, seen = found
    if touch and now - seen > TOUCH_EVERY:
        await service.db.write(lambda c: facilitators.touch_session(c, token, now))
    return Visitor(token, user, key)


def set_cookie(request: Request, response: Response, v: Visitor) -> None:
    settings = request.app.state.service.settings
    response.set_cookie(
        COOKIE, _serializer(v.key).dumps(v.token), httponly=True, samesite="lax",
        secure=settings.public_url.startswith("https://"), path="/console",
    )


@dataclass(frozen=True)
class LoginResult:
    user: Facilitator | None
    waited: float = 0.0  # seconds this attempt was held back (bot.console.throttle)


async def login(service: Service, email: str, password: str, client: str) -> LoginResult:
    """Check a login after its progressive delay; count a failure, audit only some.

    A provisional failure is recorded before the delay and the password check, in the same
    write as the counting, so parallel guesses each count; the right password removes it.
    Nothing typed is stored: the account and the client are keyed hashes."""
    now = to_ts(service.runtime.clock.now())
    email = facilitators.norm_email(email)
    account = service.cipher.address_hash("console-login", email)
    source = service.cipher.address_hash("console-client", client)
    since = now - throttle.WINDOW

    def admit(conn: sqlite3.Connection) -> tuple[tuple[Facilitator, str] | None, int, int,
                                                 float]:
        found = facilitators.credentials(conn, email)
        by_account, by_client = logins.counts(conn, account, source, since)
        row_id, rank = logins.record(conn, account, source, found is not None, now, since)
        return found, row_id, rank, throttle.delay(by_account, by_client)

    found, row_id, rank, wait = await service.db.write(admit)
    if wait:
        await asyncio.sleep(wait)
    stored = found[1] if found else None
    ok = await asyncio.to_thread(check_password, stored, password)
    user = found[0] if found and ok else None

    def unit(conn: sqlite3.Connection) -> None:
        if user is None:  # the provisional failure stands
            if throttle.audited(rank):
                actor = found[0].email if found else "unknown:" + account.hex()[:16]
                records.audit(conn, actor, "login_failed", now,
                              detail={"failures_in_window": rank})
            return
        logins.forget(conn, row_id)
        facilitators.purge_sessions(conn, now)
        if stored is not None and _hasher.check_needs_rehash(stored):
            facilitators.set_password_hash(conn, user.id, _hasher.hash(password))
        # "login" is audited once the second factor is right too (bot.console.signin)

    await service.db.write(unit)
    return LoginResult(user, wait)


async def start_session(service: Service, user: Facilitator, old_token: str) -> str:
    """A fresh token for a signed-in user; any session behind the old token is closed."""
    token = secrets.token_urlsafe(32)
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> None:
        facilitators.close_session(conn, old_token)
        facilitators.open_session(conn, token, user.id, now, SESSION_LIFETIME)

    await service.db.write(unit)
    return token


async def end_session(service: Service, v: Visitor) -> None:
    now = to_ts(service.runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> None:
        facilitators.close_session(conn, v.token)
        records.audit(conn, v.actor, "logout", now)

    await service.db.write(unit)
