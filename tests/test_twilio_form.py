"""The Twilio webhooks' form parser gives what dict(parse_qsl(..., keep_blank_values=True))
gives for any body: Twilio's own forms, and anything else a caller may post."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.twilio_routes import parse_form

PIECES = st.sampled_from(["&", "=", "+", "%", "%2B", "%20", "%e2%82%ac", "%C5", "%zz", "%4",
                          "a", "Body", " ", "ł", "\u0928", ";", "&&", "=="])


def as_before(body: str) -> dict[str, str]:
    return dict(parse_qsl(body, keep_blank_values=True))


def test_twilio_s_forms_and_odd_ones() -> None:
    twilio = urlencode({"MessageSid": "SM" + "0" * 32, "From": "+447700900123",
                        "Body": "Cześć, 50% off & a+b=c ☺", "NumMedia": "0", "Empty": ""})
    for body in (twilio, "", "&", "a", "a=", "=b", "a=1&a=2", "a=%ZZ&b=%e2%82", "a+b=c+d",
                 "a=b=c", "%2B=%2b&&x"):
        assert parse_form(body) == as_before(body), body


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=4)), max_size=30))
def test_any_body(pieces: list[str]) -> None:
    body = "".join(pieces)
    assert parse_form(body) == as_before(body)
