"""Golden transcripts: inbound lines and directives in, the emitted JSON lines out.

File format (one file per conversation, under tests/transcripts/):

    # what this conversation shows (comments start with #)
    @channel sms            optional, default sms
    @from +447700900123     optional, default +447700900123
    @start 2026-03-02T10:00:00Z   optional virtual start time
    > hello                 something the person sends, or a ::directive
    {"at": ..., "channel": "sms", ...}   what the system emitted after it

Each `>` line is run through `rjbot simulate`'s code path in its own run, so the store is
closed and reopened between steps and persistence is tested every time.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.simulate import simulate
from bot.store import records
from bot.store.db import Database

DEFAULT_START = "2026-03-02T10:00:00+00:00"


@dataclass
class Turn:
    said: str
    expected: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Transcript:
    path: Path
    comments: list[str]
    channel: str = "sms"
    address: str = "+447700900123"
    start: str = DEFAULT_START
    turns: list[Turn] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Transcript:
        t = cls(path, [])
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.rstrip()
            if not line:
                continue
            if line.startswith("#"):
                t.comments.append(line) if not t.turns else None
            elif line.startswith("@"):
                name, _, value = line[1:].partition(" ")
                setattr(t, {"from": "address"}.get(name, name), value.strip())
            elif line.startswith(">"):
                t.turns.append(Turn(line[1:].strip()))
            elif line.startswith("{") and t.turns:
                t.turns[-1].expected.append(json.loads(line))
            else:
                raise ValueError(f"{path}:{number}: cannot read {line!r}")
        return t

    def dump(self) -> str:
        out = [*self.comments]
        if self.channel != "sms":
            out.append(f"@channel {self.channel}")
        if self.address != "+447700900123":
            out.append(f"@from {self.address}")
        if self.start != DEFAULT_START:
            out.append(f"@start {self.start}")
        for turn in self.turns:
            out.append(f"> {turn.said}")
            out.extend(json.dumps(e, ensure_ascii=False) for e in turn.expected)
        return "\n".join(out) + "\n"


async def run(t: Transcript, settings: Settings) -> list[list[dict[str, Any]]]:
    """Play every turn in its own simulate run on one database; what each produced."""
    settings = replace(settings, database=settings.database)
    async with Database(settings.database) as db:
        start = t.start.replace("Z", "+00:00")
        await db.write(lambda c: records.set_meta(c, "virtual_clock", start))
    produced = []
    address = t.address
    for turn in t.turns:
        out = io.StringIO()
        if turn.said.startswith("::from "):
            address = turn.said.split(" ", 1)[1].strip()
        await simulate(settings, t.channel, address, [turn.said], out)  # type: ignore[arg-type]
        produced.append([json.loads(line) for line in out.getvalue().splitlines()])
    return produced
