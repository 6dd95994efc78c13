"""On-call settings parsed: phone numbers, email addresses and the SMTP server's URL.

Errors name the setting and the entry's position, never the number or address itself (a
startup error is printed, and staff numbers are personal data too).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from bot.channels.phone import NotForSms, sms_address

EMAIL = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+")
TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


def numbers(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated mobile numbers (E.164 or UK local) as E.164, in the order given."""
    found: list[str] = []
    for n, entry in enumerate(_entries(raw), start=1):
        try:
            number = sms_address(entry)
        except NotForSms as exc:
            raise ValueError(f"{name}: entry {n} is {exc.reason}") from None
        if number not in found:
            found.append(number)
    return tuple(found)


def emails(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated email addresses, lower-cased, in the order given."""
    found: list[str] = []
    for n, entry in enumerate(_entries(raw), start=1):
        if not EMAIL.fullmatch(entry):
            raise ValueError(f"{name}: entry {n} is not an email address")
        if entry.lower() not in found:
            found.append(entry.lower())
    return tuple(found)


def _entries(raw: str) -> list[str]:
    return [e.strip() for e in raw.split(",") if e.strip()]


@dataclass(frozen=True)
class SmtpServer:
    """Where email goes: `smtp://` plain (STARTTLS only with `?starttls=true`), `smtps://`
    TLS from the first byte. The password is never shown (repr) or logged."""

    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 20.0

    @property
    def secure(self) -> bool:
        return self.tls or self.starttls

    @property
    def local(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"

    def describe(self) -> str:
        """For the start-up log: scheme, host and port, never the credentials."""
        mode = "TLS" if self.tls else "STARTTLS" if self.starttls else "no TLS"
        return f"{self.host}:{self.port} ({mode})"


def smtp_server(raw: str, name: str = "RJBOT_SMTP_URL") -> SmtpServer:
    """`smtp://user:pass@host:587?starttls=true`, `smtps://user:pass@host:465`,
    `smtp://127.0.0.1:8025`; anything else is an error that names the setting only."""
    bad = f"{name} must look like smtp://user:password@host:587?starttls=true or smtps://..."
    try:
        url = urlsplit(raw.strip())
        port = url.port
    except ValueError:
        raise ValueError(bad) from None
    scheme = url.scheme.lower()
    if scheme not in ("smtp", "smtps") or not url.hostname or url.path not in ("", "/"):
        raise ValueError(bad)
    query = {k.lower(): v[-1].strip().lower() for k, v in parse_qs(url.query,
                                                                    keep_blank_values=True).items()}
    starttls = query.pop("starttls", "")
    timeout = query.pop("timeout", "20")
    if query or starttls not in TRUE + FALSE or not timeout.isdecimal() or int(timeout) < 1:
        raise ValueError(f"{name}: the only options are ?starttls=true and &timeout=SECONDS")
    tls = scheme == "smtps"
    if tls and starttls in TRUE:
        raise ValueError(f"{name}: smtps:// is TLS already; starttls is for smtp://")
    return SmtpServer(
        host=url.hostname, port=port or (465 if tls else 25), tls=tls,
        starttls=starttls in TRUE, username=unquote(url.username or ""),
        password=unquote(url.password or ""), timeout=float(timeout),
    )
