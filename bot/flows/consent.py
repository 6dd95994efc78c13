"""Consent: a versioned text in 2 parts (contact here; share with named agencies), recorded
only on an explicit "I agree", with version, time and channel. WITHDRAW CONSENT (a global
intent) takes it back at any time.

Change CONSENT_VERSION whenever any consent text below changes: tests/test_flows_consent.py
holds a fingerprint of the texts for each version and fails until the version is bumped.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import cast

from bot.flows.base import Answer, Flow, Go, Step
from bot.flows.common import NO, Words
from bot.i18n import N_
from bot.types import (
    Alert,
    Audit,
    ChannelName,
    Choice,
    Effect,
    Msg,
    RecordConsent,
    Reply,
    State,
    UpdateCase,
    WithdrawConsent,
)

CONSENT_VERSION = "2026-03-v1"
IDLE = "menu.idle"
# Translators: only clear agreement words; "yes" or "ok" alone do not count as consent.
AGREE = Choice("agree", N_("I agree"), N_("i agree|agree|i consent"))

INTRO = Msg(
    N_(
        "To go ahead we need your consent (form {version}). It has 2 parts. You can say no to "
        "either. You can take it back at any time: reply WITHDRAW CONSENT."
    ),
    {"version": CONSENT_VERSION},
)
CONTACT = Msg(
    N_(
        "Part 1 of 2: May our team contact you about this here, and by phone or in person in "
        "the ways you chose?"
    )
)
SHARE = Words(
    N_(
        "Part 2 of 2: May we share what is needed with the police and with the person who "
        "supervises the other person? We need this to reach them."
    ),
    plain=N_(
        "Part 2 of 2: May we share what is needed with the police and with the offender's "
        "Offender Manager? We need this to reach the offender."
    ),
)
SAVED_ALL = Msg(
    N_(
        "Thank you. Your consent is saved. A person from our team will contact you about the "
        "next steps. To take it back, reply WITHDRAW CONSENT."
    )
)
SAVED_PART = Msg(
    N_(
        "Thank you. We saved the part you agreed to. Without both parts we cannot go further, "
        "but a person from our team can talk it through with you."
    )
)
NOTHING_SAVED = Msg(
    N_("That is OK. Nothing has been shared. A person from our team can talk it through with you.")
)
WITHDRAWN = Msg(
    N_(
        "Your consent is withdrawn. We will not share anything more. A person from our team "
        "will contact you."
    )
)
NO_CONSENT = Msg(N_("You have not given consent, so nothing has been shared."))

# The texts a consent version stands for (fingerprinted in the tests).
TEXTS = (INTRO.key, CONTACT.key, SHARE.discreet, SHARE.plain, AGREE.label)


def _agreed(state: State) -> tuple[str, ...]:
    return tuple(s for s in ("contact", "share") if state.answers.get(f"consent_{s}") == "agree")


def _done(state: State, answer: Answer, now: datetime) -> Go:
    """Record exactly the parts agreed to, with version, time and channel."""
    state = state.with_answer("consent_share", answer.choice)
    scopes = _agreed(state)
    if not scopes:
        return Go(IDLE, state=state, replies=(Reply(NOTHING_SAVED),),
                  effects=(Audit("consent_declined"),))
    channel = cast(ChannelName, state.channel or "sms")
    state = state.with_answer("consent", CONSENT_VERSION)
    effects: tuple[Effect, ...] = (
        RecordConsent(CONSENT_VERSION, scopes, channel),
        UpdateCase({"consent": CONSENT_VERSION, "consent_scopes": list(scopes)}),
        Audit("consent_recorded", {"version": CONSENT_VERSION, "scopes": list(scopes)}),
    )
    reply = SAVED_ALL if scopes == ("contact", "share") else SAVED_PART
    return Go(IDLE, state=state, replies=(Reply(reply),), effects=effects)


def forget(state: State) -> State:
    """The conversation no longer holds a consent (it was taken back, or they withdrew)."""
    answers = {k: v for k, v in state.answers.items()
               if k not in ("consent", "consent_contact", "consent_share")}
    return replace(state, answers=answers)


def withdraw_consent(state: State, now: datetime) -> Go:
    """Take consent back at once and tell the facilitators; the conversation stays where it is."""
    if not state.answers.get("consent"):
        return Go("", replies=(Reply(NO_CONSENT),))
    return Go(
        "",
        state=forget(state),
        replies=(Reply(WITHDRAWN),),
        effects=(
            WithdrawConsent(),
            UpdateCase({"consent": None, "consent_scopes": []}),
            Alert("consent_withdrawn"),
            Audit("consent_withdrawn"),
        ),
    )


FLOW = Flow(
    "consent",
    (
        Step("start", say=INTRO, wait=False, then="contact"),
        Step("contact", say=CONTACT, choices=(AGREE, NO), save="consent_contact", then="share"),
        Step("share", say=SHARE, choices=(AGREE, NO), then=_done),
    ),
)
