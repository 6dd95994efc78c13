"""Fuzzed conversations through the pure engine and the SMS rendering: nothing crashes, every
message is answered unless the person asked for silence, nothing is said after a withdraw, no
SMS is longer than 3 segments, no text reaches nobody (a reply or an alert), and every crisis
message of the corpus gets the safety reply on the same turn, in any state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import engine, i18n
from bot.channels.base import Outgoing, numbered_text
from bot.channels.parts import sms_form, steps
from bot.channels.segments import segments
from bot.flows import intents
from bot.types import Alert, Message, Reply, State
from tests.test_crisis_engine import corpus

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
WORDS = ["hello", "1", "2", "3", "4", "9", "0", "yes", "no", "skip", "STOP", "Withdraw",
         "PAUSE", "resume", "help", "person", "language", "menu", "info", "polski",
         "kill myself", "  ", "", "Yes!", "ÑO", "letter", "consent", "I agree",
         "withdraw consent", "stop check-ins", "read", "later", "\u202eevil", "🙂", "0" * 10]
CRISIS = sorted({t for loc in i18n.LOCALES for label, _, t in corpus(loc) if label == "crisis"})
texts = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(CRISIS),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=10000),
)


def sms(reply: Reply, locale: str) -> str:
    choices = tuple((c.payload, i18n.gettext(locale, c.label)) for c in reply.choices)
    return numbered_text(Outgoing(0, "+447700900123", i18n.render(reply.text, locale),
                                  choices, locale))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=1, max_size=25))
def test_random_conversations_keep_the_rules(messages: list[str]) -> None:
    state, now = State(), NOW
    for text in messages:
        before = state
        out = engine.step(state, Message(text, "sms"), now)
        state, now = out.state, now + timedelta(minutes=7)
        intent = intents.detect(text, before.locale)
        if before.status == "withdrawn" and intent not in (intents.Intent.RISK,
                                                           intents.Intent.RESUME):
            assert out.replies == (), "something was said after a withdraw"
            assert not [e for e in out.effects if type(e).__name__ == "Schedule"]
        else:
            assert out.replies, f"no answer to {text[:40]!r} at {before.flow}.{before.step}"
        if text in CRISIS:
            assert out.replies[0].text == intents.RISK_REPLY, f"no 999 for {text[:40]!r}"
        if text.strip():
            assert out.replies or any(isinstance(e, Alert) for e in out.effects), text[:40]
        for reply in out.replies:  # each step a translator marked with '---' is its own SMS
            for step in steps(sms_form(sms(reply, state.locale), state.locale)):
                assert segments(step).count <= 3, reply.text.key
