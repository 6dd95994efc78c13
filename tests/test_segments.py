from __future__ import annotations

import pytest

from bot.channels.segments import segments


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
