"""Settings from the environment (see .env.example); nothing else reads os.environ."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.channels.phone import e164
from bot.oncall import addresses

DEFAULT_DATABASE = "data/rjbot.sqlite3"
_POSTGRES_URL = re.compile(r"^postgres(?:ql)?://", re.IGNORECASE)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Settings:
    database: Path = Path(DEFAULT_DATABASE)
    database_url: str = field(default="", repr=False)  # postgresql://... (may hold a password)
    data_key: str = ""
    data_key_old: str = ""
    public_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    timezone: str = "Europe/London"
    synchronous: str = "FULL"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base: str = ""
    twilio_send_rate: float = 1.0  # SMS segments a second from our sender (UK long code: 1)
    twilio_whatsapp_from: str = ""  # our WhatsApp-enabled sender, E.164 (no "whatsapp:")
    # approved Content template ids for outside the 24-hour window: locale -> HX... ("" = all)
    twilio_whatsapp_templates: tuple[tuple[str, str], ...] = ()
    twilio_whatsapp_choices_sid: str = ""  # a quick-reply Content template, if approved
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base: str = ""
    telegram_mode: str = "webhook"
    retention_enquiry_days: int = 90
    retention_closed_days: int = 730
    max_body_bytes: int = 64 * 1024
    claim_lease: float = 300.0  # seconds before another instance takes over a claimed send
    telegram_send_rate: float = 30.0  # messages a second to the Bot API; 0 = no limit
    oncall_sms: tuple[str, ...] = ()  # E.164 numbers told of a risk alert at once
    oncall_email: tuple[str, ...] = ()
    smtp_url: str = field(default="", repr=False)  # may hold a password
    smtp_from: str = ""
    trusted_proxies: tuple[Network, ...] = ()  # peers whose X-Forwarded-For we believe
    log_level: str = ""  # RJBOT_LOG_LEVEL; unset: INFO for serve, WARNING for the others
    metrics_host: str = "127.0.0.1"  # GET /metrics listens here, on its own port
    metrics_port: int = 0  # RJBOT_METRICS_PORT; 0: no metrics server

    @property
    def database_target(self) -> Path | str:
        """What the store opens: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.database_url or self.database

    @property
    def database_shown(self) -> str:
        """The database as printed: a URL without its password."""
        if not self.database_url:
            return str(self.database)
        return re.sub(r"^([^:]+://[^:@/]*):[^@/]*@", r"\1:***@", self.database_url)

    @property
    def key_file(self) -> Path:
        return self.database.with_name(self.database.name + ".key")

    @property
    def twilio_missing(self) -> list[str]:
        missing = [n for n, v in (("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                                  ("TWILIO_AUTH_TOKEN", self.twilio_auth_token)) if not v]
        if not (self.twilio_from_number or self.twilio_messaging_service_sid):
            missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        if not self.public_url:  # Twilio's signatures are made over the URL it calls
            missing.append("RJBOT_PUBLIC_URL")
        return missing

    @property
    def whatsapp_missing(self) -> list[str]:
        missing = [n for n, v in (("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                                  ("TWILIO_AUTH_TOKEN", self.twilio_auth_token),
                                  ("TWILIO_WHATSAPP_FROM", self.twilio_whatsapp_from),
                                  ("TWILIO_WHATSAPP_TEMPLATE_SID",
                                   self.twilio_whatsapp_templates)) if not v]
        if not self.public_url:
            missing.append("RJBOT_PUBLIC_URL")
        return missing

    def whatsapp_template(self, locale: str) -> str:
        """The approved template for `locale` (its own, else the one for every language)."""
        found = dict(self.twilio_whatsapp_templates)
        return found.get(locale) or found.get(locale.split("_")[0]) or found.get("", "")

    @property
    def telegram_missing(self) -> list[str]:
        missing = [] if self.telegram_bot_token else ["TELEGRAM_BOT_TOKEN"]
        if self.telegram_mode == "webhook" and not self.telegram_webhook_secret:
            missing.append("TELEGRAM_WEBHOOK_SECRET")
        return missing

    @property
    def smtp(self) -> addresses.SmtpServer | None:
        return addresses.smtp_server(self.smtp_url) if self.smtp_url else None

    @property
    def twilio_sender_missing(self) -> list[str]:
        """What sending an SMS needs (receiving needs RJBOT_PUBLIC_URL as well)."""
        return [m for m in self.twilio_missing if m != "RJBOT_PUBLIC_URL"]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        mode = e.get("TELEGRAM_MODE", "webhook").strip().lower() or "webhook"
        if mode not in ("webhook", "polling"):
            raise ValueError("TELEGRAM_MODE must be webhook or polling")
        rate = _number(e, "TWILIO_SEND_RATE", 1.0)
        if not rate > 0:
            raise ValueError("TWILIO_SEND_RATE must be a number of segments a second above 0")
        synchronous = (e.get("RJBOT_SQLITE_SYNCHRONOUS", "") or "FULL").strip().upper()
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("RJBOT_SQLITE_SYNCHRONOUS must be FULL, NORMAL or EXTRA")
        sms, email, smtp_url, smtp_from = _oncall(e)
        where = e.get("RJBOT_DATABASE", "").strip()
        url = where if _POSTGRES_URL.match(where) else ""
        return cls(
            database=Path(DEFAULT_DATABASE if url else where or DEFAULT_DATABASE),
            database_url=url,
            data_key=e.get("RJBOT_DATA_KEY", ""),
            data_key_old=e.get("RJBOT_DATA_KEY_OLD", ""),
            public_url=e.get("RJBOT_PUBLIC_URL", "").rstrip("/"),
            host=e.get("RJBOT_HOST", "") or "127.0.0.1",
            port=_positive(e, "RJBOT_PORT", 8080),
            timezone=e.get("RJBOT_TIMEZONE", "") or "Europe/London",
            synchronous=synchronous,
            twilio_account_sid=e.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=e.get("TWILIO_AUTH_TOKEN", ""),
            twilio_from_number=e.get("TWILIO_FROM_NUMBER", ""),
            twilio_messaging_service_sid=e.get("TWILIO_MESSAGING_SERVICE_SID", ""),
            twilio_api_base=e.get("TWILIO_API_BASE", "").rstrip("/"),
            twilio_send_rate=rate,
            twilio_whatsapp_from=_whatsapp_number(e.get("TWILIO_WHATSAPP_FROM", "")),
            twilio_whatsapp_templates=_templates(e.get("TWILIO_WHATSAPP_TEMPLATE_SID", "")),
            twilio_whatsapp_choices_sid=e.get("TWILIO_WHATSAPP_CHOICES_SID", "").strip(),
            telegram_bot_token=e.get("TELEGRAM_BOT_TOKEN", ""),
            telegram_webhook_secret=e.get("TELEGRAM_WEBHOOK_SECRET", ""),
            telegram_api_base=e.get("TELEGRAM_API_BASE", ""),
            telegram_mode=mode,
            retention_enquiry_days=_positive(e, "RJBOT_RETENTION_ENQUIRY_DAYS", 90),
            retention_closed_days=_positive(e, "RJBOT_RETENTION_CLOSED_DAYS", 730),
            max_body_bytes=_positive(e, "RJBOT_MAX_BODY_BYTES", 64 * 1024),
            claim_lease=_number(e, "RJBOT_CLAIM_LEASE", 300.0),
            telegram_send_rate=_number(e, "TELEGRAM_SEND_RATE", 30.0),
            oncall_sms=sms, oncall_email=email, smtp_url=smtp_url, smtp_from=smtp_from,
            trusted_proxies=parse_proxies(e.get("RJBOT_TRUSTED_PROXIES", "")),
            log_level=_log_level(e.get("RJBOT_LOG_LEVEL", "")),
            metrics_host=e.get("RJBOT_METRICS_HOST", "").strip() or "127.0.0.1",
            metrics_port=_positive(e, "RJBOT_METRICS_PORT", 0),
        ).checked()

    def checked(self) -> Settings:
        """Settings that only make sense together: say which is missing."""
        if self.oncall_sms and self.twilio_sender_missing:
            raise ValueError("RJBOT_ONCALL_SMS needs " + ", ".join(self.twilio_sender_missing))
        if self.oncall_email and not self.smtp_url:
            raise ValueError("RJBOT_ONCALL_EMAIL needs RJBOT_SMTP_URL")
        if self.smtp_url and not self.smtp_from:
            raise ValueError("RJBOT_SMTP_URL needs RJBOT_SMTP_FROM (the sender address)")
        if self.metrics_port > 65535:
            raise ValueError("RJBOT_METRICS_PORT must be a port number (1 to 65535)")
        if self.metrics_port == self.port:
            raise ValueError("RJBOT_METRICS_PORT must differ from RJBOT_PORT: /metrics is"
                             " never served on the console's port")
        return self


def _oncall(e: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...], str, str]:
    """On-call notification settings (a bad entry names the setting, never the number)."""
    smtp_url = e.get("RJBOT_SMTP_URL", "").strip()
    if smtp_url:
        addresses.smtp_server(smtp_url)
    sender = addresses.emails("RJBOT_SMTP_FROM", e.get("RJBOT_SMTP_FROM", ""))
    if len(sender) > 1:
        raise ValueError("RJBOT_SMTP_FROM must be one email address")
    return (addresses.numbers("RJBOT_ONCALL_SMS", e.get("RJBOT_ONCALL_SMS", "")),
            addresses.emails("RJBOT_ONCALL_EMAIL", e.get("RJBOT_ONCALL_EMAIL", "")),
            smtp_url, sender[0] if sender else "")


def _whatsapp_number(raw: str) -> str:
    """TWILIO_WHATSAPP_FROM with or without Twilio's `whatsapp:` prefix, as E.164."""
    number = raw.strip().removeprefix("whatsapp:").strip()
    if not number:
        return ""
    found = e164(number)
    if not found:
        raise ValueError("TWILIO_WHATSAPP_FROM must be a phone number (E.164, e.g. +44...)")
    return found


def _templates(raw: str) -> tuple[tuple[str, str], ...]:
    """`HX...` (every language) or `en_GB=HX...,pl=HX...` (one approved template each)."""
    found = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        locale, sep, sid = item.rpartition("=")
        sid = sid.strip()
        if not (sid.startswith("HX") and len(sid) == 34 and sid[2:].isalnum()):
            raise ValueError("TWILIO_WHATSAPP_TEMPLATE_SID must be Content template ids"
                             " (HX and 32 characters), optionally as locale=HX...")
        found.append((locale.strip() if sep else "", sid))
    return tuple(found)


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level and level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("RJBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
    return level


def parse_proxies(text: str) -> tuple[Network, ...]:
    """RJBOT_TRUSTED_PROXIES: addresses or networks, comma-separated."""
    found = []
    for part in text.split(","):
        if part.strip():
            try:
                found.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError("RJBOT_TRUSTED_PROXIES must list IP addresses or networks"
                                 " (like 127.0.0.1, 10.0.0.0/8), comma-separated") from None
    return tuple(found)


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number above zero, or the default when unset; anything else is an error."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdecimal() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number above zero")
    return int(raw)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    """A number zero or above, or the default when unset; anything else is an error."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{name} must be a number, zero or above")
    return value
