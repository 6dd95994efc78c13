"""Email through aiosmtplib to RJBOT_SMTP_URL, as a channel: send() classifies, never raises.

One connection per message: notices are few, and a fresh connection never finds a stale one.
An SMTP server's reply text may quote the address, so only its code is kept or logged.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from bot.channels.base import Failed, Outgoing, Retry, SendResult, Sent
from bot.oncall.addresses import SmtpServer

log = logging.getLogger(__name__)


def classify(exc: Exception) -> Retry | Failed:
    """4xx, a dropped connection, a timeout or a refused login: try again; other 5xx: give up."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        if codes and all(500 <= c < 600 for c in codes):
            return Failed(f"recipient refused ({codes[0]})", undeliverable=True)
        return Retry(f"recipient deferred ({codes[0] if codes else 0})")
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return Retry(f"login refused ({exc.code})")  # credentials being fixed
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if 500 <= exc.code < 600:
            return Failed(f"refused by the mail server ({exc.code})")
        return Retry(f"mail server said {exc.code}")
    return Retry(type(exc).__name__)


class Mailer:
    """Sends one plain-text email per notice from `sender` through `server`."""

    name = "email"

    def __init__(self, server: SmtpServer, sender: str) -> None:
        self.server = server
        self.sender = sender

    def message(self, out: Outgoing, subject: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = out.address
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(out.text)
        return message

    async def send(self, out: Outgoing, subject: str = "") -> SendResult:
        s = self.server
        message = self.message(out, subject or out.text)
        try:
            await aiosmtplib.send(
                message, hostname=s.host, port=s.port, username=s.username or None,
                password=s.password or None, use_tls=s.tls, start_tls=s.starttls,
                timeout=s.timeout)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            result = classify(exc)
            log.info("email notice %d: %s", out.outbox_id, result.reason)
            return result
        return Sent(str(message["Message-ID"]))

    async def reconcile(self, out: Outgoing) -> bool | None:
        """SMTP cannot say whether a message got through: a notice in doubt goes again."""
        return None
