"""What a signed Twilio webhook must look like before anything of it is stored.

Twilio's signature joins the sorted keys and values with no separator, so a field can swallow
its neighbour (`MessageSid=<sid>NumMedia0` with no `NumMedia` signs the same as the original):
a signature proves the bytes, not the fields. The fields we act on therefore have the exact
shape Twilio gives them: a message id of two letters and 32 hex digits, our own account, one
of our senders as the recipient, a phone number as the sender. Anything else is a 400 and
nothing is stored. The problem returned is a word for the log, never a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from bot.channels.phone import e164
from bot.config import Settings

MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
SENDER = re.compile(r"\+?[0-9]{3,15}")  # E.164, or a short code
WHATSAPP = "whatsapp:"
OPT_OUT_TYPES = frozenset({"", "STOP", "START", "HELP"})
ALIASES = ("SmsSid", "SmsMessageSid")  # Twilio repeats the message id under these names


def our_senders(settings: Settings) -> frozenset[str]:
    """The addresses Twilio may deliver to us at (`To`), as Twilio writes them."""
    return _senders(settings.twilio_from_number, settings.twilio_whatsapp_from)


@lru_cache(maxsize=8)  # on every webhook: parse the settings' numbers once, not per request
def _senders(from_number: str, whatsapp_from: str) -> frozenset[str]:
    found = set()
    if from_number:
        found.add(e164(from_number) or from_number)
    if whatsapp_from:
        found.add(WHATSAPP + whatsapp_from)
    return frozenset(found)


def _common(form: Mapping[str, str], settings: Settings) -> str | None:
    sid = form.get("MessageSid", "")
    if not MESSAGE_SID.fullmatch(sid):
        return "message id"
    if any(form.get(alias, sid) != sid for alias in ALIASES):
        return "message id"
    if form.get("AccountSid", "") != settings.twilio_account_sid:
        return "account"
    return None


def inbound_problem(form: Mapping[str, str], settings: Settings) -> str | None:
    """Why this inbound message webhook is refused, or None if its fields are Twilio's."""
    problem = _common(form, settings)
    if problem is not None:
        return problem
    if not _to_us(form, settings):
        return "recipient"
    if not SENDER.fullmatch(form.get("From", "").removeprefix(WHATSAPP)):
        return "sender"
    if form.get("From", "").startswith(WHATSAPP) != form.get("To", "").startswith(WHATSAPP):
        return "sender"
    media = form.get("NumMedia", "0")
    if not (media.isascii() and media.isdecimal() and len(media) <= 2):
        return "media count"
    if form.get("OptOutType", "").strip().upper() not in OPT_OUT_TYPES:
        return "opt-out type"
    return None


def status_problem(form: Mapping[str, str], settings: Settings) -> str | None:
    """Why this status callback is refused, or None if its fields are Twilio's."""
    return _common(form, settings)


def _to_us(form: Mapping[str, str], settings: Settings) -> bool:
    to = form.get("To", "")
    if to in our_senders(settings):
        return True
    service = settings.twilio_messaging_service_sid
    # a number in our Messaging Service: Twilio names the service on what it delivers
    return bool(service) and form.get("MessagingServiceSid", "") == service and bool(
        SENDER.fullmatch(to.removeprefix(WHATSAPP)))
