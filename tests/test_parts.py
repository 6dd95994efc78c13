"""A message written in steps, and the SMS form of languages texted without their accents."""

from __future__ import annotations

import pytest

from bot.channels.base import Outgoing
from bot.channels.console import render
from bot.channels.parts import joined, sms_form, sms_parts, steps
from bot.channels.segments import segments


@pytest.mark.parametrize(("text", "expected"), [
    ("one message", ["one message"]),
    ("first\n---\nsecond", ["first", "second"]),
    ("first\n  ---  \nsecond\n---\nthird", ["first", "second", "third"]),
    ("first\n---\n", ["first"]),  # a break at the end sends nothing empty
    ("a --- b\n----\nc", ["a --- b\n----\nc"]),  # only a line of exactly three hyphens
    ("", [""]),
])
def test_steps(text: str, expected: list[str]) -> None:
    assert steps(text) == expected


def test_joined_shows_the_steps_as_paragraphs() -> None:
    assert joined("first\n---\nsecond") == "first\n\nsecond"


@pytest.mark.parametrize(("text", "locale", "expected"), [
    ("Mae'r tŷ'n dawel. Gŵr â'i blant.", "cy", "Mae'r ty'n dawel. Gwr a'i blant."),
    ("Diolch \u2019n fawr \u2013 wir.", "cy", "Diolch 'n fawr - wir."),
    ("Ça va, è é ü ñ, ŵ", "cy", "Ça va, è é ü ñ, w"),  # GSM-7 has Ç è é ü ñ: kept
    ("Mulțumim, vă sunăm mâine la 3.", "ro", "Multumim, va sunam maine la 3."),
    ("ĂÂÎȘȚ şţ", "ro", "AAIST st"),  # comma below and the older cedilla forms alike
    ("Dzień dobry", "pl", "Dzień dobry"),  # Polish keeps its letters
    ("Ŵ", "en_GB", "Ŵ"),
    ("emoji 🙂 stays", "cy", "emoji 🙂 stays"),
])
def test_sms_form(text: str, locale: str, expected: str) -> None:
    assert sms_form(text, locale) == expected


def test_a_folded_welsh_text_costs_fewer_segments() -> None:
    text = "Byddwn ni'n anfon neges atoch chi ar ddydd Sul. Mae'n iawn i chi ddweud na. " * 2
    text += "Diolch o galon am ymuno â ni."
    assert segments(text).encoding == "UCS-2" and segments(text).count == 3
    assert [segments(p).count for p in sms_parts(text, "cy")] == [2]


def test_every_romanian_text_goes_as_gsm7_within_three_segments() -> None:
    from bot.i18n import translations

    catalog = translations("ro")._catalog  # type: ignore[attr-defined]
    texts = [t for k, t in catalog.items() if k and isinstance(t, str) and t.strip()]
    assert any("ș" in t or "ț" in t for t in texts)
    for text in texts:
        for part in sms_parts(text, "ro"):
            assert segments(part).encoding == "GSM-7", part
            assert segments(part).count <= 3, part


def test_a_long_step_is_still_cut_to_three_segments() -> None:
    text = "short start\n---\n" + "geiriau hir " * 60
    parts = sms_parts(text, "cy")
    assert parts[0] == "short start" and len(parts) == 3
    assert all(segments(p).count <= 3 for p in parts)


def test_the_console_shows_each_step_as_a_message() -> None:
    out = Outgoing(1, "+447700900123", "Hello.\n---\nHow are you?", (("a", "Fine"),), "en_GB")
    assert render("sms", out) == [{"text": "Hello.", "choices": []},
                                  {"text": "How are you?\nReply with a number:\n1. Fine",
                                   "choices": ["Fine"]}]
    assert render("telegram", out)[1] == {"text": "How are you?", "choices": ["Fine"]}
    welsh = Outgoing(1, "+447700900123", "Croeso i'r tîm.\n---\nGŵr?", (), "cy")
    assert [r["text"] for r in render("sms", welsh)] == ["Croeso i'r tim.", "Gwr?"]
    assert [r["text"] for r in render("telegram", welsh)] == ["Croeso i'r tîm.", "Gŵr?"]
