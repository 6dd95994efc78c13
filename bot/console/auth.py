"""Console sign-in: argon2id passwords, signed session cookies, CSRF tokens, login throttle.

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
from bot.service import Service
from bot.store import facilitators, records
from bot.store.facilitators import Facilitator

COOKIE = "rjbot_console"
SESSION_LIFETIME = 10 * 3600.0  # a working day, then sign in again
IDLE_TIMEOUT = 60 * 60.0
TOUCH_EVERY = 5 * 60.0  # write seen_at at most this often
THROTTLE_WINDOW = 15 * 60.0
MAX_EMAIL_FAILURES = 5
MAX_CLIENT_FAILURES = 20
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("not a real password, used to keep timing even")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"passwords need at least {MIN_PASSWORD} characters")
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


async def visitor(request: Request) -> Visitor:
    """Who is asking: a live session, or an anonymous visitor (new token if none)."""
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
    if now - seen > TOUCH_EVERY:
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
    throttled: bool = False


async def login(service: Service, email: str, password: str, client: str) -> LoginResult:
    """Check a login against the throttle and the stored hash; record the result.

    The throttle check and a provisional failure are one write transaction, so parallel
    guesses each count before any password is checked; a correct password removes it."""
    now = to_ts(service.runtime.clock.now())
    email = email.strip().lower()[:200]

    def admit(conn: sqlite3.Connection) -> int | None:
        by_email, by_client = facilitators.recent_failures(conn, email, client,
                                                           now - THROTTLE_WINDOW)
        if by_email >= MAX_EMAIL_FAILURES or by_client >= MAX_CLIENT_FAILURES:
            records.audit(conn, email or "anonymous", "login_throttled", now)
            return None
        return facilitators.record_failure(conn, email, client, now)

    pending = await service.db.write(admit)
    if pending is None:
        return LoginResult(None, throttled=True)
    found = await service.db.read(lambda c: facilitators.credentials(c, email))
    stored = found[1] if found else None
    ok = await asyncio.to_thread(check_password, stored, password)
    user = found[0] if found and ok else None

    def unit(conn: sqlite3.Connection) -> None:
        if user is None:  # the provisional failure stands
            records.audit(conn, email or "anonymous", "login_failed", now)
            return
        facilitators.clear_failures(conn, email)
        facilitators.purge_sessions(conn, now)
        if stored is not None and _hasher.check_needs_rehash(stored):
            facilitators.set_password_hash(conn, user.id, _hasher.hash(password))
        records.audit(conn, user.email, "login", now)

    await service.db.write(unit)
    return LoginResult(user)


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
