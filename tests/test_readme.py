"""The README's shell examples, run as a reader would, so they cannot go stale.

What counts as an example (say so in the README's Development section when changing it):
- a ```sh block: every line that is not blank or a comment is a command (a trailing `\\`
  continues it); each must exit 0;
- a ```console block: `$ command` lines, each followed by the output it shows, which must
  match what the command prints (stdout and stderr, in order): `...` inside a line stands for
  any text, a line of just `...` for any number of lines, and a last line `[exit N]` for a
  command that fails on purpose;
- `<!-- readme-test: skip: why -->` just before a block leaves it out, with the reason;
- `<!-- readme-test: postgres -->` just before a block runs it with the README's example
  server URL (EXAMPLE_SERVER) replaced by an empty schema of the test PostgreSQL database
  (tests/pg_kit.py: skipped with the reason when no server answers, a failure with CI=true).

Each block runs in its own temporary folder (the checkout's top-level files linked into it,
so `bench/` or `scripts/` can be named) with bash, `rjbot` running this checkout's code and
RJBOT_DATABASE set to a database in that folder; other settings are unset.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\s*$")
SKIP = re.compile(r"<!--\s*readme-test:\s*skip:(.*?)-->", re.DOTALL)
POSTGRES = re.compile(r"<!--\s*readme-test:\s*postgres\s*-->")
EXAMPLE_SERVER = "postgresql://rjbot:secret@db.example.org:5432/rjbot"
EXIT = re.compile(r"^\[exit (\d+)\]$")
NOT_LINKED = {".git", ".venv", "venv", "data", "build", "dist"}


@dataclass(frozen=True)
class Command:
    line: int  # where it is in the README
    text: str
    expected: tuple[str, ...] | None  # None: a ```sh command, whose output is not shown
    status: int = 0


@dataclass(frozen=True)
class Block:
    line: int
    kind: str  # sh or console
    commands: tuple[Command, ...]
    skip: str = ""
    postgres: bool = False  # EXAMPLE_SERVER stands for the test PostgreSQL database


def joined(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Lines ending in a backslash continued onto the next one."""
    out: list[tuple[int, str]] = []
    for number, text in lines:
        if out and out[-1][1].endswith("\\"):
            out[-1] = (out[-1][0], out[-1][1] + "\n" + text)
        else:
            out.append((number, text))
    return out


def sh_commands(body: list[tuple[int, str]]) -> tuple[Command, ...]:
    return tuple(Command(n, t, None) for n, t in joined(body)
                 if t.strip() and not t.lstrip().startswith("#"))


def console_commands(body: list[tuple[int, str]]) -> tuple[Command, ...]:
    commands: list[tuple[int, str, list[str]]] = []
    for number, text in body:
        if text.startswith("$ "):
            commands.append((number, text[2:], []))
        elif commands and commands[-1][1].endswith("\\") and not commands[-1][2]:
            commands[-1] = (commands[-1][0], commands[-1][1] + "\n" + text, [])
        elif commands:
            commands[-1][2].append(text)
        elif text.strip():
            raise ValueError(f"README.md:{number}: console output before any `$ ` command")
    found = []
    for number, text, shown in commands:
        status = 0
        if shown and (end := EXIT.match(shown[-1].strip())):
            status, shown = int(end.group(1)), shown[:-1]
        found.append(Command(number, text, tuple(shown), status))
    return tuple(found)


def examples(text: str) -> list[Block]:
    """Every ```sh and ```console block of a markdown text, in order."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        kind = opening.group(1)
        if kind in ("sh", "console"):
            body = [(n + 1, lines[n]) for n in range(i + 1, end)]
            before = "\n".join(lines[max(0, i - 3):i])
            marks = before.rsplit("\n\n", 1)[-1]
            skipped = SKIP.search(marks)
            commands = sh_commands(body) if kind == "sh" else console_commands(body)
            blocks.append(Block(i + 1, kind, commands,
                                " ".join(skipped.group(1).split()) if skipped else "",
                                bool(POSTGRES.search(marks))))
        i = end + 1
    return blocks


def pattern(shown: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in shown.rstrip().split("...")))


def matches(shown: tuple[str, ...], printed: list[str]) -> bool:
    """Whether the printed lines are what the README shows (`...` as described above)."""
    def from_(i: int, j: int) -> bool:
        if i == len(shown):
            return j == len(printed)
        if shown[i].strip() == "...":
            return any(from_(i + 1, k) for k in range(j, len(printed) + 1))
        return j < len(printed) and bool(pattern(shown[i]).fullmatch(printed[j].rstrip())) \
            and from_(i + 1, j + 1)
    return from_(0, 0)


def folder_for_examples(tmp: Path) -> dict[str, str]:
    """The block's folder, and the environment its commands run in."""
    for entry in ROOT.iterdir():
        if entry.name not in NOT_LINKED:
            (tmp / entry.name).symlink_to(entry)
    bin_dir = tmp / ".bin"
    bin_dir.mkdir()
    (bin_dir / "rjbot").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bot "$@"\n')
    (bin_dir / "rjbot").chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RJBOT_", "TWILIO_", "TELEGRAM_"))}
    path = f"{bin_dir}:{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    return {**env, "PATH": path, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
            "RJBOT_DATABASE": str(tmp / "rjbot.sqlite3")}


BLOCKS = examples(README.read_text())


def test_the_readme_has_examples_and_the_simulate_one_reaches_the_48_hour_clock() -> None:
    run = [b for b in BLOCKS if not b.skip]
    assert run, "no ```sh or ```console example found in the README"
    shown = [c for b in run for c in b.commands if c.expected and "rjbot simulate" in c.text]
    assert any("48 hours" in x for c in shown for x in c.expected or ()), \
        "the Quickstart's simulate example shows the 48-hour promise"
    assert any('"alert": "reply_reminder"' in x for c in shown for x in c.expected or ())
    assert all(b.commands for b in run), [b.line for b in run if not b.commands]


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: f"README.md:{b.line}:{b.kind}")
def test_a_readme_example_does_what_the_text_says(block: Block, tmp_path: Path,
                                                 request: pytest.FixtureRequest) -> None:
    if block.skip:
        pytest.skip(block.skip)
    env = folder_for_examples(tmp_path)
    server = shlex.quote(request.getfixturevalue("pg_url")) if block.postgres else ""
    for command in block.commands:
        text = command.text.replace(EXAMPLE_SERVER, server) if server else command.text
        try:
            done = subprocess.run(["bash", "-o", "pipefail", "-c", text],
                                  cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"README.md:{command.line}: still running after 120 s (a command "
                        "that does not stop needs `<!-- readme-test: skip: why -->`)")
        where = f"README.md:{command.line}: {command.text}\n--- printed:\n{done.stdout}"
        assert done.returncode == command.status, where
        if command.expected is not None:
            assert matches(command.expected, done.stdout.splitlines()), \
                where + "--- the README shows:\n" + "\n".join(command.expected)


@pytest.mark.parametrize(("shown", "printed", "ok"), [
    (("a", "b"), ["a", "b"], True),
    (("a", "b"), ["a", "x", "b"], False),
    (("a", "...", "b"), ["a", "x", "y", "b"], True),
    (("a", "...", "b"), ["a", "b"], True),
    (('{"at": "...", "n": 1}',), ['{"at": "2026-03-02T10:00:00Z", "n": 1}'], True),
    (('{"at": "...", "n": 1}',), ['{"at": "2026-03-02T10:00:00Z", "n": 2}'], False),
    (("a",), ["a", "more"], False),
    (("...",), [], True),
])
def test_shown_output_matching(shown: tuple[str, ...], printed: list[str], ok: bool) -> None:
    assert matches(shown, printed) is ok


def test_examples_are_found_as_documented() -> None:
    text = "\n".join([
        "```sh", "# a comment", "rjbot one \\", "  --two", "", "```", "",
        "<!-- readme-test: skip: it never stops -->", "```sh", "rjbot serve", "```",
        "```console", "$ rjbot audit verify", "audit ok; ...", "$ rjbot erase", "[exit 2]",
        "```", "```", "$ not an example", "```", "", "<!-- readme-test: postgres -->",
        "```sh", f"rjbot migrate-db --to {EXAMPLE_SERVER}", "```"])
    one, two, three, four = examples(text)
    assert four.postgres and not four.skip and not one.postgres and not three.postgres
    assert [c.text for c in one.commands] == ["rjbot one \\\n  --two"] and not one.skip
    assert two.skip == "it never stops"
    assert [(c.text, c.expected, c.status) for c in three.commands] == [
        ("rjbot audit verify", ("audit ok; ...",), 0), ("rjbot erase", (), 2)]
