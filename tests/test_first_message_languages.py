"""The first message, in every language, names every other language's word and still goes as
at most 2 SMS segments a step: for the languages shipped now, and for all the languages that
have a word (COMMAND_NAMES) shipped at once, so adding one never pushes it over."""

from __future__ import annotations

import pytest

from bot.channels.parts import sms_parts
from bot.channels.segments import segments
from bot.flows.first_contact import INTRO, QUESTIONS
from bot.i18n import COMMAND_NAMES, LOCALES, render
from bot.types import Msg

FIRST = Msg(INTRO[0], {"n": QUESTIONS}, plural=INTRO[1])


def _sms(locale: str, languages: str | None = None) -> list[str]:
    params = {"n": QUESTIONS} if languages is None else {"n": QUESTIONS, "languages": languages}
    return sms_parts(render(Msg(INTRO[0], params, plural=INTRO[1]), locale), locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_first_message_lists_the_shipped_languages_in_2_segments(locale: str) -> None:
    parts = _sms(locale)
    for other in (x for x in LOCALES if x != locale):
        assert COMMAND_NAMES[other] in " ".join(parts), (other, parts)
    assert all(segments(p).count <= 2 for p in parts), parts


@pytest.mark.parametrize("locale", LOCALES)
def test_with_every_named_language_shipped_it_still_fits_2_segments(locale: str) -> None:
    every = ", ".join(COMMAND_NAMES[x] for x in COMMAND_NAMES if x != locale)
    parts = _sms(locale, every)
    assert every in " ".join(parts)
    assert all(segments(p).count <= 2 for p in parts), parts


def test_romanian_and_welsh_first_messages_go_as_gsm7() -> None:
    for locale in ("ro", "cy"):
        assert all(segments(p).encoding == "GSM-7" for p in _sms(locale)), locale
