"""The global intents' lookup tables (one per locale, built once) find what the plain search
over every msgid found: every phrase of every shipped locale, asked in every locale, in any
order of locales; and the engine's choice labels, kept per locale."""

from __future__ import annotations

from bot import engine
from bot.flows import intents, other_side, settings, young
from bot.flows.intents import Intent
from bot.flows.young import JUST_ME, NOT_SURE, WITH_ADULT
from bot.i18n import LOCALES, gettext, keywords, normalise
from bot.types import Message


def _as_before(text: str, locale: str) -> Intent | None:
    """intents.detect as it was: each msgid's alternatives searched on every message."""
    norm = normalise(text)
    if not norm:
        return None
    if intents.risk_category(text) is not None:
        return Intent.RISK
    if young.under_18(text, locale)[0]:
        return Intent.YOUNG
    if other_side.says_so(text, locale):
        return Intent.OTHER_SIDE
    forms = {norm, intents._unadorned(norm, locale)}
    for intent, words in intents.EXACT_WORDS:
        scope = LOCALES if intent is Intent.LANGUAGE else (locale,)
        if any(form in keywords(words, loc) for loc in scope for form in forms):
            return intent
    named = any(norm in keywords(words, x) for _, words in settings.NAMED for x in LOCALES)
    return Intent.SET_LANGUAGE if named else None


def _named_before(text: str) -> str | None:
    norm = normalise(text)
    return next((loc for loc, words in settings.NAMED
                 if any(norm in keywords(words, x) for x in LOCALES)), None)


def _phrases() -> list[str]:
    msgids = [words for _, words in intents.EXACT_WORDS] + [w for _, w in settings.NAMED]
    found = {p for key in msgids for loc in LOCALES for p in keywords(key, loc)}
    return sorted(found)


def test_every_command_of_every_locale_is_found_as_before_whatever_was_asked_before() -> None:
    phrases = _phrases()
    assert len(phrases) > 200
    for order in (LOCALES, tuple(reversed(LOCALES))):
        for locale in order:
            for phrase in phrases:
                for text in (phrase, f"{phrase.upper()}!", f"please {phrase} thanks"):
                    assert intents.detect(text, locale) is _as_before(text, locale), (
                        locale, text)


def test_every_language_name_switches_to_the_same_locale_as_before() -> None:
    for phrase in _phrases():
        for locale in LOCALES:
            assert intents.named_locale(phrase, locale) == _named_before(phrase), phrase
    assert intents.named_locale("polski", "en_GB") == "pl"
    assert intents.named_locale("hello", "pl") is None


def test_a_choice_label_is_matched_in_its_own_locale_whatever_was_asked_before() -> None:
    """engine keeps each label's normalised forms per locale (and English in every one)."""
    choices = (WITH_ADULT, JUST_ME, NOT_SURE)
    polish = gettext("pl", JUST_ME.label)
    assert normalise(polish) != normalise(JUST_ME.label)
    for locale in (*LOCALES, *reversed(LOCALES)):
        typed = engine.match_choice(choices, Message(polish.upper() + "!", "sms"), locale)
        assert typed is (JUST_ME if locale == "pl" else None), locale
        english = engine.match_choice(choices, Message(JUST_ME.label, "sms"), locale)
        assert english is JUST_ME, locale
