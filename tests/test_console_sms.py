"""SMS sizes as the console shows them before a facilitator sends a message."""

from __future__ import annotations

import pytest

from bot.console.sms import sms_size, telling_words


@pytest.mark.parametrize(("text", "encoding", "segments"), [
    ("", "GSM-7", 1),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 459, "GSM-7", 3),
    ("a" * 460, "GSM-7", 4),
    ("€" * 80, "GSM-7", 1),  # extension characters take two septets
    ("€" * 81, "GSM-7", 2),
    ("ł" * 70, "UCS-2", 1),  # Polish letters outside GSM-7
    ("ł" * 71, "UCS-2", 2),
    ("🙂" * 35, "UCS-2", 1),  # two UTF-16 units each
    ("🙂" * 36, "UCS-2", 2),
])
def test_sms_size(text: str, encoding: str, segments: int) -> None:
    size = sms_size(text)
    assert (size.encoding, size.segments) == (encoding, segments)


def test_telling_words_are_found_in_any_case() -> None:
    assert telling_words("Your COURT date and the Offender") == ["offender", "court"]
    assert telling_words("See you on Thursday") == []
