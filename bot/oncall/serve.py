"""On-call notification in `rjbot serve`: said once at start-up, then the notifier runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from bot.channels.twilio_sms import TwilioChannel
from bot.config import Settings
from bot.oncall import risk
from bot.oncall.mailer import Mailer
from bot.oncall.notifier import Notifier
from bot.service import Service

log = logging.getLogger(__name__)
TURN_ON = ("RJBOT_ONCALL_SMS (with the TWILIO_* settings) or RJBOT_ONCALL_EMAIL (with"
           " RJBOT_SMTP_URL and RJBOT_SMTP_FROM)")


def announce(settings: Settings) -> None:
    """One line: on or off, and which settings turn it on; never a number or address."""
    smtp = settings.smtp
    if not (settings.oncall_sms or settings.oncall_email):
        log.warning("on-call notification is off: risk alerts wait in the console; set %s",
                    TURN_ON)
    else:
        log.info("on-call notification is on: %d SMS and %d email recipients",
                 len(settings.oncall_sms), len(settings.oncall_email))
    if smtp is None:
        log.info("unseen risk alerts escalate to supervisors on the dashboard only"
                 " (set RJBOT_SMTP_URL and RJBOT_SMTP_FROM to email them too)")
    else:
        log.info("email through %s", smtp.describe())
        if smtp.username and not smtp.secure and not smtp.local:
            log.warning("RJBOT_SMTP_URL sends its password without TLS: use smtps:// or"
                        " ?starttls=true")


@contextlib.asynccontextmanager
async def running(settings: Settings, service: Service,
                  sms: TwilioChannel | None) -> AsyncIterator[Notifier | None]:
    """The notifier for as long as the block runs. SMS goes through the SMS channel when it is
    on; with on-call numbers but no public URL (so no SMS channel), an outbound-only one."""
    announce(settings)
    own: TwilioChannel | None = None
    if sms is None and settings.oncall_sms:
        own = sms = TwilioChannel(settings, service.runtime)
        await own.start()
    smtp = settings.smtp
    mailer = Mailer(smtp, settings.smtp_from) if smtp is not None else None
    texts = sms if settings.oncall_sms else None
    if texts is None and mailer is None:
        yield None
        return
    notifier = Notifier(service.db, service.cipher, service.runtime.clock, texts, mailer)
    service.runtime.subscribe(notifier.on_applied)

    async def escalated(_: object) -> None:
        notifier.wake()

    service.runtime.after_system[risk.KIND] = escalated
    task = asyncio.create_task(notifier.run(), name="notifier")
    try:
        yield notifier
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if own is not None:
            await own.stop()
