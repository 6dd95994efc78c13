"""Phone numbers: E.164 for storage and look-up, and whether a number can take an SMS.

An SMS to a UK landline is read aloud by a text-to-speech call (BT's Text Relay), which could
tell a whole household what the message says: such numbers are refused before sending.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

DEFAULT_REGION = "GB"
# numbers that never take an SMS (or would have it read aloud)
NOT_MOBILE = frozenset({
    PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST, PhoneNumberType.UAN, PhoneNumberType.VOICEMAIL,
    PhoneNumberType.PAGER,
})
UK = 44
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class NotForSms(ValueError):
    """This number cannot be sent an SMS: `reason` says why (never the number itself)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """A UK or international number in E.164, or '' if it cannot be a phone number.

    Only the length and shape are checked, so Ofcom's reserved drama numbers pass too.
    """
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=8192)  # pure; parsing took a fifth of each Twilio send (kept in memory only)
def sms_address(raw: str) -> str:
    """The E.164 number to text, or NotForSms if it is not a phone that takes an SMS."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise NotForSms("not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise NotForSms("not a phone number")
    kind = phonenumbers.number_type(number)
    if kind in NOT_MOBILE:
        raise NotForSms("not a mobile number")
    if number.country_code == UK and not _uk_mobile_shape(number, kind):
        raise NotForSms("not a mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _uk_mobile_shape(number: phonenumbers.PhoneNumber, kind: int) -> bool:
    """UK mobiles are 07xxx; 070 (personal, forwarded anywhere) and 076 (pagers) are not."""
    if kind == PhoneNumberType.MOBILE:
        return True
    national = phonenumbers.national_significant_number(number)
    # phonenumbers does not know the reserved drama range 07700 900xxx: judge by the shape
    return national.startswith("7") and not national.startswith(("70", "76"))


def inbound_address(raw: str) -> str:
    """The sender of an inbound SMS as we store it: E.164 when it parses, else as given.

    Twilio already sends E.164, which parsing leaves as it is: skip the parse (a tenth of a
    millisecond) on the webhook's hot path.
    """
    if E164.fullmatch(raw):
        return raw
    return e164(raw) or raw.strip()
