"""Consent: versioned, separate scopes, only on a clear agreement, withdrawable."""

from __future__ import annotations

import hashlib

from bot.flows import consent, info
from bot.i18n import render
from bot.types import Alert, RecordConsent, WithdrawConsent
from tests.flowkit import Chat

# fingerprint of the consent texts for each version: change a text, bump CONSENT_VERSION
FINGERPRINTS = {"2026-03-v1": "2b1d201a9ecbdcc8"}


def fingerprint() -> str:
    return hashlib.sha256("\n".join(consent.TEXTS).encode()).hexdigest()[:16]


def test_consent_texts_match_their_version() -> None:
    assert fingerprint() == FINGERPRINTS.get(consent.CONSENT_VERSION), (
        "a consent text changed: bump CONSENT_VERSION and record the new fingerprint"
    )


def at_consent(channel: str = "sms") -> Chat:
    chat = Chat(channel=channel)
    # ... skip the optional questions, no secret word, read how it works, go ahead
    chat.send("hello", "1", "1", "1", "1", "1", "1", "2", "2", "1", "2", "1")
    assert chat.state.flow == "consent" and chat.state.step == "contact"
    return chat


def test_both_parts_agreed_are_recorded_with_version_and_channel() -> None:
    chat = at_consent("telegram")
    chat.send("1", "I agree")
    assert chat.kinds(RecordConsent) == [
        RecordConsent("2026-03-v1", ("contact", "share"), "telegram")
    ]


def test_yes_or_ok_is_not_consent() -> None:
    chat = at_consent()
    for word in ("yes", "ok", "sure", "y"):
        chat.send(word)
        assert not chat.kinds(RecordConsent) and chat.state.step == "contact"
    chat.send("agree", "2")
    assert chat.kinds(RecordConsent) == [RecordConsent("2026-03-v1", ("contact",), "sms")]


def test_no_to_both_records_nothing() -> None:
    chat = at_consent()
    chat.send("2", "2")
    assert not chat.kinds(RecordConsent) and "Nothing has been shared" in chat.texts()[0]


def test_withdraw_consent_at_any_time_tells_the_team() -> None:
    chat = at_consent()
    chat.send("1", "1", "withdraw consent")
    assert WithdrawConsent() in chat.last.effects  # type: ignore[union-attr]
    assert Alert("consent_withdrawn") in chat.last.effects  # type: ignore[union-attr]
    chat.send("Withdraw consent")
    assert not chat.kinds(WithdrawConsent) and "not given consent" in chat.texts()[0]


def test_the_information_session_says_what_it_must() -> None:
    for locale, facts in {
        "en_GB": ("voluntary", "free", "confidential", "does not affect sentencing", "RJ",
                  "stop at any time", "Both of you must agree", "someone you trust"),
        "pl": ("dobrowolny", "bezpłatne", "poufne", "Nie ma wpływu na wymiar kary"),
    }.items():
        text = " ".join(render(w.variants()[0], locale) for _, w in info.TOPICS)
        for fact in facts:
            assert fact in text, (locale, fact)
