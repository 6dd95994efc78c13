from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.segments import GSM7_BASIC, GSM7_EXTENSION, is_gsm7, segments


@pytest.mark.parametrize(("text", "encoding", "count"), [
    ("", "GSM-7", 1),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1),  # extension characters cost two septets
    ("€" * 81, "GSM-7", 2),
    ("ą" * 70, "UCS-2", 1),
    ("ą" * 71, "UCS-2", 2),
    ("Dzień dobry" + "a" * 190, "UCS-2", 3),
    ("\u2019" + "a" * 69, "UCS-2", 1),  # one curly quote makes the whole text UCS-2
    ("😀" * 35, "UCS-2", 1),  # an emoji is two UTF-16 units
    ("😀" * 36, "UCS-2", 2),
])
def test_segment_rules(text: str, encoding: str, count: int) -> None:
    result = segments(text)
    assert (result.encoding, result.count) == (encoding, count)


GSM7 = GSM7_BASIC + GSM7_EXTENSION


@given(st.text(st.one_of(st.sampled_from(GSM7), st.characters(exclude_categories=("Cs",))),
               max_size=400))
def test_counts_are_those_of_the_per_character_rule(text: str) -> None:
    """The scan in C counts as the plain rule does: every character GSM-7, extension
    characters two septets; else UTF-16 units."""
    gsm = all(c in GSM7 for c in text)
    units = (sum(2 if c in GSM7_EXTENSION else 1 for c in text) if gsm
             else len(text.encode("utf-16-le")) // 2)
    assert is_gsm7(text) is gsm
    assert (segments(text).encoding, segments(text).units) == (
        "GSM-7" if gsm else "UCS-2", units)
