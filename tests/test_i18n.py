"""Catalogs: complete, checked by GNU msgfmt, up to date with the code, Polish plurals right,
and every command understood in every shipped language."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.flows import intents
from bot.flows.first_contact import INTRO
from bot.i18n import _FOLD, _PUNCT, COMMAND_NAMES, LOCALES, fold, normalise, render, translations
from bot.types import Msg

ROOT = Path(__file__).resolve().parent.parent


def _ids(path: Path) -> set[str]:
    with path.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


def test_every_marked_string_is_in_the_template(tmp_path: Path) -> None:
    """A string marked with N_ in bot/ but missing from messages.pot would never be translated."""
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        ["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "N_", "-k", "N_plural:1,2",
         "--no-location", "-o", str(fresh), "bot"],
        cwd=ROOT, check=True,
    )
    missing = _ids(fresh) - _ids(ROOT / "locales" / "messages.pot")
    assert not missing, f"run scripts/i18n.sh extract; missing: {sorted(missing)}"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext not installed")
def test_catalogs_pass_the_check_script() -> None:
    """No fuzzy or untranslated entry in a shipped catalog, and msgfmt -c passes on each."""
    result = subprocess.run([str(ROOT / "scripts" / "i18n.sh"), "check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_check_script_fails_on_a_fuzzy_entry(tmp_path: Path) -> None:
    """The CI check must not be one that cannot fail."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", copy / "scripts")
    shutil.copytree(ROOT / "locales", copy / "locales")
    po = copy / "locales" / "pl" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace('msgid "Next"', '#, fuzzy\nmsgid "Next"', 1), encoding="utf-8")
    result = subprocess.run([str(copy / "scripts" / "i18n.sh"), "check"], cwd=copy,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "Next" in result.stderr


def test_every_shipped_locale_has_a_catalog() -> None:
    pot = _ids(ROOT / "locales" / "messages.pot")
    for locale in LOCALES:
        assert _ids(ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po") >= pot, locale


@pytest.mark.parametrize(
    ("n", "form"),
    [(1, "1 krótkie pytanie."), (2, "2 krótkie pytania."), (4, "4 krótkie pytania."),
     (5, "5 krótkich pytań."), (12, "12 krótkich pytań."), (22, "22 krótkie pytania."),
     (25, "25 krótkich pytań.")],
)
def test_polish_has_three_plural_forms(n: int, form: str) -> None:
    assert form in render(Msg(INTRO[0], {"n": n}, plural=INTRO[1]), "pl")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("REZYGNUJĘ", intents.Intent.WITHDRAW), ("rezygnuje", intents.Intent.WITHDRAW),
        ("Nie piszcie", intents.Intent.WITHDRAW), ("withdraw", intents.Intent.WITHDRAW),
        ("COFAM ZGODĘ", intents.Intent.WITHDRAW_CONSENT),
        ("Wznów", intents.Intent.RESUME), ("pauza", intents.Intent.PAUSE),
        ("pomoc", intents.Intent.HELP), ("osoba", intents.Intent.PERSON),
        ("Chcę porozmawiać", intents.Intent.PERSON), ("menu", intents.Intent.MENU),
        ("jak to działa", intents.Intent.INFO), ("zmień język", intents.Intent.LANGUAGE),
        ("english", intents.Intent.SET_LANGUAGE),
        ("Chcę umrzeć", intents.Intent.RISK),
        ("nie chce juz zyc, chce umrzec", intents.Intent.RISK),
        ("Jestem w niebezpieczeństwie!", intents.Intent.RISK),
        ("I want to die", intents.Intent.RISK),
        ("Tak", None), ("Anna", None),
    ],
)
def test_polish_commands_are_understood(text: str, intent: intents.Intent | None) -> None:
    assert intents.detect(text, "pl") == intent


@pytest.mark.parametrize("locale", LOCALES)
def test_risk_reply_gives_the_numbers_in_every_locale(locale: str) -> None:
    text = render(intents.RISK_REPLY, locale)
    for number in ("999", "55", "116 123", "0808 168 9111"):
        assert number in text


# Welsh: its catalog is complete (scripts/i18n.sh check covers every catalog) before it is
# shipped; these check it through the same lookups the engine uses.

@pytest.mark.parametrize(
    ("n", "form"),
    [(0, "0 cwestiwn byr"), (1, "1 cwestiwn byr"), (2, "2 gwestiwn byr"), (3, "3 chwestiwn byr"),
     (4, "4 cwestiwn byr"), (6, "6 chwestiwn byr"), (12, "12 cwestiwn byr")],
)
def test_welsh_has_six_plural_forms(n: int, form: str) -> None:
    assert form in render(Msg(INTRO[0], {"n": n}, plural=INTRO[1]), "cy")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("GADAEL", intents.Intent.WITHDRAW), ("stopio", intents.Intent.WITHDRAW),
        ("tynnu'n ôl", intents.Intent.WITHDRAW), ("withdraw", intents.Intent.WITHDRAW),
        ("TYNNU CANIATAD", intents.Intent.WITHDRAW_CONSENT),
        ("tynnu caniatâd", intents.Intent.WITHDRAW_CONSENT),
        ("AILDDECHRAU", intents.Intent.RESUME), ("saib", intents.Intent.PAUSE),
        ("pause", intents.Intent.PAUSE), ("cymorth", intents.Intent.HELP),
        ("SIARAD", intents.Intent.PERSON), ("siarad â rhywun", intents.Intent.PERSON),
        ("DEWISLEN", intents.Intent.MENU), ("menu", intents.Intent.MENU),
        ("sut mae'n gweithio", intents.Intent.INFO),
        ("LLYTHYR", intents.Intent.LETTER), ("NEWID HOLI", intents.Intent.CHANGE_CHECKINS),
        ("DIM HOLI", intents.Intent.STOP_CHECKINS), ("english", intents.Intent.SET_LANGUAGE),
        ("Ie", None), ("Siân", None),
    ],
)
def test_welsh_commands_are_understood(text: str, intent: intents.Intent | None) -> None:
    assert intents.detect(text, "cy") == intent


def test_every_command_a_welsh_text_names_is_understood() -> None:
    """Each CAPITALISED command in a Welsh text works when sent, and none is Twilio's."""
    import re

    from tests.test_texts import PROVIDER_OPT_OUT_TEXTS, TEMPLATES, TWILIO_RESERVED, renderings

    runs = re.compile(r"\b[A-Z]{3,}(?:[ -][A-Z]{2,})*\b")
    found = set()
    for message in TEMPLATES:
        for text in renderings(message, "cy"):
            for command in runs.findall(text):
                if command == "STOP" and message in PROVIDER_OPT_OUT_TEXTS:
                    continue
                found.add(command)
                assert command not in TWILIO_RESERVED, f"{command} in {text!r}"
                assert intents.detect(command, "cy") is not None, f"{command} in {text!r}"
    assert {"DEWISLEN", "SAIB", "GADAEL", "SIARAD", "AILDDECHRAU", "LLYTHYR"} <= found


def test_welsh_choice_words_pick_the_right_answer() -> None:
    """Welsh answers yes with the question's verb (ydy, oes, cewch), and English still works."""
    from bot.i18n import keywords, normalise

    yes, no = "yes|y|ok|okay|sure", "no|n|not safe"
    for word in ("ydy", "Cewch", "ie", "yes"):
        assert normalise(word) in keywords(yes, "cy")
    for word in ("na", "Nac ydy", "no"):
        assert normalise(word) in keywords(no, "cy") and normalise(word) not in keywords(yes, "cy")
    good, ok = "good|fine|well", "ok|okay|alright|so so"
    assert not keywords(good, "cy") & keywords(ok, "cy") - keywords(good, "en_GB")


@pytest.mark.parametrize(("locale", "expected"), [
    ("en_GB", "Wednesday 30 September, 14:30"),
    ("pl", "środa, 30 września 14:30"),
    ("cy", "Dydd Mercher, 30 Medi, 14:30"),
    ("ro", "miercuri, 30 septembrie, 14:30"),
    ("ne", "सेप्टेम्बर 30, बुधबार 14:30"),
])
def test_dates_and_times_in_the_persons_language(locale: str, expected: str) -> None:
    """Babel's calendar for the person's language, the weekday in full, in the service's zone."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.i18n import format_when

    when = datetime(2026, 9, 30, 13, 30, tzinfo=UTC)
    assert format_when(when, locale, ZoneInfo("Europe/London")) == expected


# Nepali: commands in romanised Latin capitals (any keyboard can send them), understood in
# Devanagari and romanised forms as people type them, English still accepted.

@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("BANDA", intents.Intent.WITHDRAW), ("बन्द", intents.Intent.WITHDRAW),
        ("withdraw", intents.Intent.WITHDRAW), ("ma chhodchu", intents.Intent.WITHDRAW),
        ("SAHAMATI FIRTA", intents.Intent.WITHDRAW_CONSENT),
        ("सहमति फिर्ता", intents.Intent.WITHDRAW_CONSENT),
        ("SURU", intents.Intent.RESUME), ("सुरु", intents.Intent.RESUME),
        ("resume", intents.Intent.RESUME),
        ("PARKHA", intents.Intent.PAUSE), ("पर्ख", intents.Intent.PAUSE),
        ("pause", intents.Intent.PAUSE), ("मद्दत", intents.Intent.HELP),
        ("sahayata", intents.Intent.HELP),
        ("MANCHHE", intents.Intent.PERSON), ("मान्छे", intents.Intent.PERSON),
        ("manche", intents.Intent.PERSON),
        ("MENU", intents.Intent.MENU), ("मेनु", intents.Intent.MENU),
        ("vikalpa", intents.Intent.MENU), ("जानकारी", intents.Intent.INFO),
        ("CHITHI", intents.Intent.LETTER), ("चिठी", intents.Intent.LETTER),
        ("letter", intents.Intent.LETTER),
        ("HALKHABAR BADAL", intents.Intent.CHANGE_CHECKINS),
        ("HALKHABAR BANDA", intents.Intent.STOP_CHECKINS),
        ("हालखबर बन्द", intents.Intent.STOP_CHECKINS),
        ("malai phone garnus", intents.Intent.CALLBACK),
        ("कृपया मलाई फोन गर्नुहोस्", intents.Intent.CALLBACK),
        ("english", intents.Intent.SET_LANGUAGE),
        ("हो", None), ("Sita", None),
    ],
)
def test_nepali_commands_are_understood(text: str, intent: intents.Intent | None) -> None:
    assert intents.detect(text, "ne") == intent


def test_every_command_a_nepali_text_names_is_understood() -> None:
    """Each CAPITALISED command in a Nepali text works when sent, and none is Twilio's."""
    import re

    from tests.test_texts import PROVIDER_OPT_OUT_TEXTS, TEMPLATES, TWILIO_RESERVED, renderings

    runs = re.compile(r"\b[A-Z]{3,}(?:[ -][A-Z]{2,})*\b")
    found = set()
    for message in TEMPLATES:
        for text in renderings(message, "ne"):
            for command in runs.findall(text):
                if command == "STOP" and message in PROVIDER_OPT_OUT_TEXTS:
                    continue
                found.add(command)
                assert command not in TWILIO_RESERVED, f"{command} in {text!r}"
                assert intents.detect(command, "ne") is not None, f"{command} in {text!r}"
    assert {"MENU", "PARKHA", "BANDA", "MANCHHE", "SURU", "CHITHI", "SAHAMATI FIRTA",
            "HALKHABAR BADAL", "HALKHABAR BANDA"} <= found


def test_nepali_choice_words_pick_the_right_answer() -> None:
    """हो / हुन्छ / cha say yes, होइन / छैन / xaina say no, each as typed; English still works."""
    from bot.i18n import keywords, normalise

    yes, no, unsure = "yes|y|ok|okay|sure", "no|n|not safe", (
        "dont know|don't know|i dont know|i don't know|i do not know|dunno|not sure|"
        "i'm not sure|im not sure|unsure|idk|no idea")
    for word in ("हो", "हुन्छ", "hunchha", "Ho", "cha", "yes"):
        assert normalise(word) in keywords(yes, "ne")
    for word in ("होइन", "छैन", "xaina", "Hoina", "surakshit chaina", "no"):
        assert normalise(word) in keywords(no, "ne") and normalise(word) not in keywords(yes, "ne")
    for word in ("थाहा छैन", "tha xaina", "thaha chaina", "dunno"):
        assert normalise(word) in keywords(unsure, "ne")
    good, ok = "good|fine|well", "ok|okay|alright|so so"
    assert not keywords(good, "ne") & keywords(ok, "ne") - keywords(good, "en_GB")


def test_nepali_has_two_plural_forms_and_fits_the_first_message_in_2_segments() -> None:
    from bot.channels.parts import steps
    from bot.channels.segments import segments

    assert translations("ne").plural(1) == 0 and translations("ne").plural(2) == 1
    every = ", ".join(name for loc, name in COMMAND_NAMES.items() if loc != "ne")
    text = render(Msg(INTRO[0], {"n": 12, "languages": every}, plural=INTRO[1]), "ne")
    first, *rest = steps(text)  # the privacy line is a step (an SMS) of its own
    assert segments(first).count <= 2, text
    assert all(segments(step).count == 1 for step in rest), text


def _fold_in_full(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def _normalise_in_full(text: str) -> str:
    return re.sub(r"\s+", " ", _PUNCT.sub(" ", _fold_in_full(text))).strip()


def test_fold_and_normalise_are_the_full_computation_for_every_character() -> None:
    """fold's shortcut for ASCII text and normalise's split-join change no result."""
    spaces = [chr(c) for c in range(0x10000) if re.fullmatch(r"\s", chr(c)) or chr(c).isspace()]
    for c in [chr(code) for code in range(128)] + spaces:
        text = f" A{c}b,{c} {c}{c}. "
        assert fold(text) == _fold_in_full(text), hex(ord(c))
        assert normalise(text) == _normalise_in_full(text), hex(ord(c))
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    for text in (every, "Nóż!  Ł\u00a0ódź\tok\n", "I'M 14 yrs", "नेपाली।", ""):
        assert fold(text) == _fold_in_full(text)
        assert normalise(text) == _normalise_in_full(text)
