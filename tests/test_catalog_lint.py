"""Every catalog under locales/, shipped or still being written: each text, as the SMS channel
sends it, within 3 segments a message (a translator splits a long text into steps with a `---`
line, bot/channels/parts.py), and discreet in every language's words (tests/data/discreet/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.channels.parts import sms_form, steps
from bot.channels.segments import segments
from bot.flows import FLOWS  # noqa: F401  (flows register their plain wordings on import)
from bot.flows.common import PLAIN_KEYS
from bot.i18n import COMMAND_NAMES
from tests.discreet_kit import LISTS, lint_words, listed_locales

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = sorted((ROOT / "locales").glob("*/LC_MESSAGES/messages.po"))
SAMPLE = {"name": "Christopher-James", "version": "2026-03-v1", "what": "meeting in person",
          "when": "Wednesday 30 September, 14:30", "number": "12", "n": 22,
          "place": "the community centre on Station Road",
          "languages": ", ".join(COMMAND_NAMES.values()), "enquiry_days": 365,
          "closed_days": 3650, "done": "I have finished",
          "reason": ("leave out the street name, it could tell where you live; " * 3)[:160]}


def locale_of(po: Path) -> str:
    return po.parent.parent.name


def problems_in(po: Path) -> list[str]:
    """What is wrong with one catalog's texts (keyword lists aside)."""
    locale = locale_of(po)
    with po.open("rb") as fh:
        catalog = read_po(fh)
    found = []
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if not key or "|" in key:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            if not form:
                continue  # untranslated: the check script reports it
            text = form.format(**SAMPLE)
            for step in steps(sms_form(text, locale)):
                parts = segments(step)
                if parts.count > 3:
                    found.append(f"{locale}: {parts.count} segments ({parts.encoding}, "
                                 f"{parts.units} units), split it with a '---' line: {step!r}")
            if key not in PLAIN_KEYS and lint_words(text):
                found.append(f"{locale}: not discreet {lint_words(text)}: {text!r}")
    return found


def test_there_are_catalogs() -> None:
    assert {"en_GB", "pl"} <= {locale_of(po) for po in CATALOGS}


def test_every_catalog_has_a_discreet_word_list() -> None:
    missing = {locale_of(po) for po in CATALOGS} - listed_locales()
    assert not missing, f"add the discreet-mode words of {sorted(missing)} to {LISTS}"


@pytest.mark.parametrize("po", CATALOGS, ids=locale_of)
def test_every_text_fits_and_is_discreet(po: Path) -> None:
    problems = problems_in(po)
    assert not problems, "\n".join(problems)


def test_the_lint_finds_long_texts_and_telling_words(tmp_path: Path) -> None:
    """The check must be one that can fail: a Welsh text naming the court, a long Nepali one."""
    po = tmp_path / "xx" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Next"\nmsgstr "Mae dyddiad y llys wedi newid."\n\n'
        f'msgid "Back"\nmsgstr "{"नमस्ते " * 30}"\n\n'
        f'msgid "Done"\nmsgstr "{"नमस्ते " * 15}\\n---\\n{"नमस्ते " * 15}"\n',
        encoding="utf-8")
    problems = problems_in(po)
    assert len(problems) == 2, problems
    assert "['llys']" in problems[0] and "4 segments (UCS-2" in problems[1]


@pytest.mark.parametrize(("text", "words"), [
    ("Mae'r troseddwr wedi ysgrifennu", ["troseddwr"]),
    ("am y drosedd", ["drosedd"]),
    ("cyfiawnder adferol", ["adferol"]),
    ("Llys y Goron yng Nghaint", ["llys", "nghaint"]),
    ("Infractorul a scris", ["infractorul"]),
    ("la instanță", ["instanta"]),
    ("अदालतमा जानुहोस्", ["अदालतमा"]),
    ("aparadhi le lekhyo", ["aparadhi"]),
    ("कसुर गर्नेले चिठी लेख्यो", ["कसुर"]),
    ("केन्टको न्यायालयमा", ["केनटको", "नयायालयमा"]),
    ("adalat ma janus", ["adalat"]),
    ("बिहान १० बजे भेटौं", []),
    ("Diolch. Bydd rhywun yn eich ffonio.", []),
    ("अपराह्न", []),  # afternoon is not crime
    ("Mulțumim, vă sunăm mâine.", []),
])
def test_each_language_has_its_telling_words(text: str, words: list[str]) -> None:
    assert lint_words(text) == words
