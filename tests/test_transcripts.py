"""Every golden transcript, replayed through the simulate path."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from tests.transcript import Transcript, run

ROOT = Path(__file__).parent / "transcripts"
FILES = sorted(ROOT.rglob("*.txt"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
async def test_transcript(path: Path, settings: Settings, request: pytest.FixtureRequest) -> None:
    transcript = Transcript.load(path)
    produced = await run(transcript, settings)
    if request.config.getoption("--rewrite-transcripts"):
        for turn, got in zip(transcript.turns, produced, strict=True):
            turn.expected = got
        path.write_text(transcript.dump(), encoding="utf-8")
        return
    for turn, got in zip(transcript.turns, produced, strict=True):
        assert got == turn.expected, f"after '> {turn.said}' in {path.name}"


def test_there_are_transcripts() -> None:
    assert FILES, "no transcripts found"
