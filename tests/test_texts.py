"""Every text a person can receive, in every shipped locale: discreet, GSM-7 where the language
allows, and at most 3 SMS segments once rendered with its numbered choices."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir

from bot.channels.base import Outgoing, numbered_text
from bot.channels.parts import sms_form, steps
from bot.flows import FLOWS, facilitator, info, intents
from bot.flows.common import PLAIN_KEYS, ByChannel, Words
from bot.i18n import LOCALES, gettext, render, translations
from bot.types import Msg
from tests.discreet_kit import lint_words

ROOT = Path(__file__).resolve().parent.parent

# ---- SMS encoding (3GPP TS 23.038) ----

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")  # each costs 2 septets (escape + char)


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def _units(text: str) -> tuple[str, list[int], int, int]:
    """Encoding, size of each indivisible unit, single-message limit, per-part limit."""
    if is_gsm7(text):
        return "gsm7", [2 if c in GSM7_EXTENSION else 1 for c in text], 160, 153
    return "ucs2", [2 if ord(c) > 0xFFFF else 1 for c in text], 70, 67


def segments(text: str) -> tuple[str, int]:
    """How many SMS parts a text takes; escapes and surrogate pairs are never split."""
    encoding, units, single, part = _units(text)
    if sum(units) <= single:
        return encoding, 1
    count, used = 1, 0
    for size in units:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return encoding, count


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, ("gsm7", 1)),
        ("a" * 161, ("gsm7", 2)),
        ("a" * 306, ("gsm7", 2)),
        ("a" * 307, ("gsm7", 3)),
        ("€" * 80, ("gsm7", 1)),  # 160 septets
        ("€" * 81, ("gsm7", 2)),
        ("a" * 152 + "€" + "a" * 152, ("gsm7", 3)),  # the escape pair moves to part 2
        ("a" * 151 + "€" + "a" * 153, ("gsm7", 2)),
        ("ą" * 70, ("ucs2", 1)),
        ("ą" * 71, ("ucs2", 2)),
        ("ą" * 134, ("ucs2", 2)),
        ("ą" * 135, ("ucs2", 3)),
        ("a" * 66 + "😀", ("ucs2", 1)),  # a surrogate pair is 2 units: 68 fit in 70
        ("a" * 69 + "😀", ("ucs2", 2)),  # 71 units
        ("a" * 66 + "😀" + "a" * 60, ("ucs2", 2)),  # the pair is not split across parts
        ("“quoted”", ("ucs2", 1)),
        ("a – b", ("ucs2", 1)),
    ],
)
def test_segment_counting(text: str, expected: tuple[str, int]) -> None:
    assert segments(text) == expected


# ---- the templates ----

SAMPLE: dict[str, Any] = {"name": "Christopher-James", "version": "2026-03-v1",
                          "what": "meeting in person", "when": "Wednesday 30 September, 14:30",
                          "place": "the community centre on Station Road",
                          "done": "I have finished",  # a button's words, in a text
                          # retention settings (bot.i18n.FACTS), at their longest plausible
                          "enquiry_days": 365, "closed_days": 3650,
                          # a facilitator's reason for a suggested wording: at most 160 characters
                          "reason": ("leave out the street name, it could tell where you live; "
                                     * 3)[:160]}
COUNTS = (1, 2, 3, 5, 12, 22)
TWILIO_RESERVED = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "START", "YES",
                   "UNSTOP", "HELP", "INFO"}
# the first SMS to a referred person names the carrier-level opt-out everyone knows: STOP
# reaches us as an opt-out signal from Twilio, which is exactly what it should do there
PROVIDER_OPT_OUT_TEXTS = {facilitator.REFERRAL_HELLO.key}


def extracted() -> list[str | tuple[str, str]]:
    """Every N_ / N_plural string a conversation or a channel can send (keyword lists aside)."""
    found: list[str | tuple[str, str]] = []
    for sub in ("bot/flows", "bot/channels"):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / sub, keywords={"N_": None, "N_plural": (1, 2)}, comment_tags=()
        ):
            text = message[0] if isinstance(message, tuple) else message
            if "|" not in text:
                found.append(message)
    return found


TEMPLATES = extracted()


def renderings(message: str | tuple[str, str], locale: str) -> list[str]:
    if isinstance(message, tuple):
        return [render(Msg(message[0], {**SAMPLE, "n": n}, plural=message[1]), locale)
                for n in COUNTS]
    return [translations(locale).gettext(message).format(**SAMPLE)]


def plain_only(message: str | tuple[str, str]) -> bool:
    return (message[0] if isinstance(message, tuple) else message) in PLAIN_KEYS


def test_templates_found() -> None:
    assert len(TEMPLATES) > 80
    assert PLAIN_KEYS, "plain wordings register themselves when flows are imported"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_fits_and_is_discreet(locale: str) -> None:
    problems = []
    for message in TEMPLATES:
        key = message[0] if isinstance(message, tuple) else message
        if not plain_only(message) and ("{name}" in key or "{place}" in key):
            problems.append(f"discreet text uses a name or place: {key!r}")
        for text in renderings(message, locale):
            for step in steps(sms_form(text, locale)):
                encoding, parts = segments(step)
                if parts > 3:
                    problems.append(f"{parts} segments ({encoding}): {step!r}")
            if locale.startswith("en") and not is_gsm7(text):
                problems.append(f"not GSM-7: {text!r}")
            if not plain_only(message) and lint_words(text):
                problems.append(f"not discreet {lint_words(text)}: {text!r}")
    assert not problems, "\n".join(problems)


def _says(step_say: object) -> tuple[Msg, ...]:
    if step_say is None:
        return ()
    if isinstance(step_say, Msg):
        return (step_say,)
    assert isinstance(step_say, Words | ByChannel), f"lint cannot see this text: {step_say!r}"
    return step_say.variants()


def rendered_steps(locale: str) -> list[tuple[str, Msg, str]]:
    """(step, message, SMS text) for every wording of every step, with its numbered choices,
    one row per message the SMS channel sends (a translator may write a text as steps)."""
    out = []
    for flow in FLOWS.values():
        for step in flow.steps:
            for msg in _says(step.say):
                text = render(Msg(msg.key, {**SAMPLE, **msg.params}, plural=msg.plural), locale)
                choices = tuple((c.payload, gettext(locale, c.label)) for c in step.choices)
                sms = sms_form(numbered_text(Outgoing(0, "", text, choices, locale)), locale)
                out.extend((f"{flow.name}.{step.name}", msg, part) for part in steps(sms))
    return out


@pytest.mark.parametrize("locale", LOCALES)
def test_every_step_with_its_choices_fits_in_3_segments(locale: str) -> None:
    problems = []
    for where, msg, sms in rendered_steps(locale):
        encoding, parts = segments(sms)
        if parts > 3:
            problems.append(f"{where}: {parts} segments ({encoding}, {len(sms)} chars)")
        if locale.startswith("en") and not is_gsm7(sms):
            problems.append(f"{where}: not GSM-7")
        if msg.key not in PLAIN_KEYS and lint_words(sms):
            problems.append(f"{where}: not discreet {lint_words(sms)}")
    assert not problems, "\n".join(problems)


def test_info_topics_fit_in_2_segments_in_english() -> None:
    """Each part of the information session is at most 2 SMS, choices included."""
    for where, _, sms in rendered_steps("en_GB"):
        if where.startswith("info.") and where.split(".")[1] in dict(info.TOPICS):
            assert segments(sms)[1] <= 2, where


@pytest.mark.parametrize("locale", LOCALES)
def test_info_topic_texts_fit_in_2_segments(locale: str) -> None:
    for _, words in info.TOPICS:
        for msg in words.variants():
            for step in steps(sms_form(render(msg, locale), locale)):
                assert segments(step)[1] <= 2, step


def test_the_first_message_offers_every_language_in_2_segments() -> None:
    """An English SMS that names the word for each other shipped language, each of which
    switches to it, and still costs at most 2 segments."""
    from bot.flows.first_contact import INTRO, QUESTIONS
    from bot.flows.settings import NAMED
    from bot.i18n import COMMAND_NAMES

    text = render(Msg(INTRO[0], {"n": QUESTIONS}, plural=INTRO[1]), "en_GB")
    assert segments(text) == ("gsm7", 2) or segments(text) == ("gsm7", 1), text
    assert {loc for loc, _ in NAMED} == set(LOCALES)
    for locale in (x for x in LOCALES if x != "en_GB"):
        assert COMMAND_NAMES[locale] in text
        assert intents.named_locale(COMMAND_NAMES[locale].lower(), "en_GB") == locale
        assert intents.detect(COMMAND_NAMES[locale], "en_GB") is intents.Intent.SET_LANGUAGE


def test_the_lint_catches_what_it_should() -> None:
    assert lint_words("Your court date") == ["court"]
    assert lint_words("the OFFENDER said") == ["offender"]
    assert lint_words("Sprawa w sądzie") == ["sadzie"]
    assert lint_words("sprawca przestępstwa") == ["sprawca", "przestepstwa"]
    assert lint_words("Thank you. A person will call.") == []


@pytest.mark.parametrize("locale", LOCALES)
def test_commands_in_texts_work_and_avoid_twilio_words(locale: str) -> None:
    """Every CAPITALISED command a text tells people to send is understood, in that locale,
    and none is a word Twilio keeps for itself on SMS."""
    runs = re.compile(r"\b[A-ZĄĆĘŁŃÓŚŹŻ]{3,}(?:[ -][A-ZĄĆĘŁŃÓŚŹŻ]{2,})*\b")
    for message in TEMPLATES:
        for text in renderings(message, locale):
            for command in runs.findall(text):
                if command == "STOP" and message in PROVIDER_OPT_OUT_TEXTS:
                    continue
                assert command not in TWILIO_RESERVED, f"{command} in {text!r}"
                assert intents.detect(command, locale) is not None, f"{command} in {text!r}"


def test_every_sms_in_the_golden_transcripts_fits_and_is_discreet() -> None:
    """What was actually sent, in English and Polish: at most 3 parts, and discreet unless the
    transcript's person chose plain words (`# words: plain`)."""
    import json

    checked = 0
    for path in sorted((ROOT / "tests" / "transcripts").rglob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        plain = "# words: plain" in lines
        for line in lines:
            if not line.startswith("{"):
                continue
            sent = json.loads(line)
            if sent.get("channel") != "sms":
                continue
            checked += 1
            assert segments(sent["text"])[1] <= 3, (path.name, sent["text"])
            assert plain or not lint_words(sent["text"]), (path.name, sent["text"])
    assert checked > 300
