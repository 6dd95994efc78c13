"""`rjbot simulate` as a person would run it: stdin in, JSON lines out, state kept in --db."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def simulate(db: Path, text: str, *args: str) -> list[dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RJBOT_DATA_KEY": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", "--channel", "sms",
         "--from", "+447700900123", "--db", str(db), *args],
        input=text, capture_output=True, text=True, cwd=ROOT, env=env, timeout=60, check=True,
    )
    assert "+447700900123" not in proc.stderr  # no phone numbers in logs
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.mark.slow
def test_simulate_continues_the_same_conversation_and_clock(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    first = simulate(db, "hello\n")
    said = [m for m in first if "alert" not in m]
    assert said and all(set(m) == {"at", "channel", "to", "text", "choices"} for m in said)
    assert "48 hours" in str(first[0]["text"])
    assert first[-1] == {"at": first[0]["at"], "alert": "new_contact", "person": 1, "case": 1}
    assert (tmp_path / "a.db.key").stat().st_mode & 0o777 == 0o600
    second = simulate(db, "1\n1\n1\nKim\n1\n2\n2\n::wait 25h\n")
    assert second[0]["text"].startswith("Question 2 of 6")  # type: ignore[union-attr]
    assert {"alert", "at", "person", "case"} <= set(second[-1])
    assert second[-1]["alert"] == "reply_reminder"
    third = simulate(db, "::wait 24h\n")
    assert [m["alert"] for m in third] == ["reply_overdue"]
    assert str(third[0]["at"]) > str(second[-1]["at"])


@pytest.mark.slow
def test_bad_directive_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", "--from", "x", "--db", str(tmp_path / "b.db")],
        input="::wait forever\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
    )
    assert proc.returncode == 2
    assert "bad duration" in proc.stderr


def test_a_different_data_key_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    """A lost RJBOT_DATA_KEY must not start a second, silent key on the same database."""
    import os
    import subprocess
    import sys

    from bot.crypto import new_key_text

    db = tmp_path / "k.sqlite3"
    root = Path(__file__).resolve().parent.parent
    first = {**os.environ, "RJBOT_DATABASE": str(db), "RJBOT_DATA_KEY": new_key_text()}
    run = subprocess.run([sys.executable, "-m", "bot", "simulate", "--channel", "sms",
                          "--from", "+447700900555", "--db", str(db)], input=b"hello\n",
                         env=first, cwd=root, capture_output=True, timeout=60, check=True)
    assert b"automated assistant" in run.stdout
    before = db.read_bytes()
    for env in ({**first, "RJBOT_DATA_KEY": new_key_text()},  # another key
                {k: v for k, v in first.items() if k != "RJBOT_DATA_KEY"}):  # none: key file
        for argv in (["simulate", "--channel", "sms", "--from", "+447700900555", "--db",
                      str(db)], ["export", "--address", "+447700900555"], ["serve"]):
            got = subprocess.run([sys.executable, "-m", "bot", *argv], input=b"hello\n",
                                 env=env, cwd=root, capture_output=True, timeout=60)
            assert got.returncode == 2, (argv, got.stderr[-300:])
            assert b"different data key" in got.stderr and got.stdout == b""
    assert db.read_bytes() == before


@pytest.mark.parametrize(("name", "value"), [
    ("RJBOT_PORT", "eighty"), ("TWILIO_SEND_RATE", "fast"), ("TELEGRAM_SEND_RATE", "-1"),
    ("TELEGRAM_MODE", "push"), ("RJBOT_SQLITE_SYNCHRONOUS", "OFF"),
    ("RJBOT_RETENTION_CLOSED_DAYS", "0"),
])
def test_a_bad_setting_is_named_without_a_traceback(name: str, value: str,
                                                    tmp_path: Path) -> None:
    env = {**os.environ, "RJBOT_DATABASE": str(tmp_path / "x.sqlite3"), name: value}
    got = subprocess.run([sys.executable, "-m", "bot", "serve"], env=env, capture_output=True,
                         cwd=Path(__file__).resolve().parent.parent, timeout=60)
    assert got.returncode == 2
    assert name.encode() in got.stderr and b"Traceback" not in got.stderr
    assert not (tmp_path / "x.sqlite3").exists()  # nothing was created
