"""Logs carry no message text, names or phone numbers: every transcript, logged at DEBUG."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import Settings
from tests.transcript import Transcript, run

ROOT = Path(__file__).parent / "transcripts"
FILES = sorted(ROOT.rglob("*.txt"))


def secrets_of(t: Transcript) -> set[str]:
    """What must never be logged: addresses and anything a person typed that is not trivial."""
    found = {t.address}
    for turn in t.turns:
        said = turn.said
        if said.startswith("::from "):
            found.add(said.split(" ", 1)[1].strip())
        elif not said.startswith("::") and len(said.strip()) >= 5:
            found.add(said.strip())
    return found


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
async def test_no_personal_data_in_debug_logs(path: Path, settings: Settings,
                                              caplog: pytest.LogCaptureFixture) -> None:
    transcript = Transcript.load(path)
    with caplog.at_level(logging.DEBUG):
        await run(transcript, settings)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    logged += "\n".join(str(r.args) for r in caplog.records)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    for secret in secrets_of(transcript):
        assert secret not in logged, f"{secret!r} leaked into the logs"
        if secret.startswith("+44"):
            assert secret[3:] not in logged and "0" + secret[3:] not in logged
