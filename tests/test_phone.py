"""Numbers are stored in E.164; numbers that cannot take an SMS are refused before sending."""

from __future__ import annotations

import pytest

from bot.channels.phone import NotForSms, e164, inbound_address, sms_address


@pytest.mark.parametrize(("raw", "expected"), [
    ("07700 900123", "+447700900123"), ("+44 7700 900123", "+447700900123"),
    ("0044 7700 900123", "+447700900123"), ("(07911) 123-456", "+447911123456"),
    ("+33 6 12 34 56 78", "+33612345678"), ("not a number", ""), ("123", ""),
])
def test_e164(raw: str, expected: str) -> None:
    assert e164(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("07911 123456", "+447911123456"),  # a UK mobile
    ("07700 900123", "+447700900123"),  # Ofcom's drama mobile range
    ("+33 6 12 34 56 78", "+33612345678"), ("+49 151 12345678", "+4915112345678"),
    ("07624 123456", "+447624123456"),  # Isle of Man mobile
    ("+1 415 555 2671", "+14155552671"),  # North America: fixed or mobile, Twilio decides
])
def test_mobiles_are_accepted(raw: str, expected: str) -> None:
    assert sms_address(raw) == expected


@pytest.mark.parametrize("raw", [
    "020 7946 0000",  # a London landline: an SMS would be read aloud
    "01632 960123",  # the drama landline range
    "0800 111 1111", "0870 123 4567", "070 1234 5678", "07640 123456",
    "+33 1 23 45 67 89",  # a Paris landline
    "hello", "12", "",
])
def test_landlines_and_non_numbers_are_refused(raw: str) -> None:
    with pytest.raises(NotForSms) as caught:
        sms_address(raw)
    assert raw.replace(" ", "") not in str(caught.value) or not raw


def test_inbound_sender_kept_as_given_when_it_is_not_a_number() -> None:
    assert inbound_address("+447700900123") == "+447700900123"
    assert inbound_address("07700900123") == "+447700900123"
    assert inbound_address(" RJSERVICE ") == "RJSERVICE"


def test_the_e164_fast_path_agrees_with_parsing() -> None:
    import phonenumbers
    from phonenumbers import PhoneNumberType

    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                assert inbound_address(number) == e164(number) == number
