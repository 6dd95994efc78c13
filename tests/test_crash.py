"""SIGKILL during a burst: after restart every acknowledged message is stored and every reply
reaches the provider exactly once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.flowkit import OPEN_CASE as SCRIPT
from tests.flowkit import OPEN_CASE_REPLIES as REPLIES_PER_PERSON

ROOT = Path(__file__).resolve().parent.parent


def start(tmp: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash_worker", str(tmp / "db.sqlite3"),
         str(tmp / "provider.jsonl"), str(tmp / "inbound.jsonl")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [7, 60, 170])
def test_sigkill_mid_burst_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, kill_after: int
) -> None:
    people = [f"+4477009002{n:02d}" for n in range(25)]
    lines = [json.dumps({"id": f"SM{i}-{p}", "from": p, "text": t})
             for i, t in enumerate(SCRIPT) for p in people]
    (tmp_path / "inbound.jsonl").write_text("\n".join(lines) + "\n")

    worker = start(tmp_path)
    acked: list[str] = []
    deadline = time.monotonic() + 60
    assert worker.stdout is not None
    while len(acked) < kill_after and time.monotonic() < deadline:
        line = worker.stdout.readline()
        if not line:
            break
        if line.startswith("ACK"):
            acked.append(line.split()[1])
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    worker.stdout.close()
    assert len(acked) >= kill_after, "the worker did not get far enough before the kill"

    # the provider re-delivers everything it has not seen acknowledged (we send it all again)
    again = start(tmp_path)
    out, _ = again.communicate(timeout=120)
    assert again.returncode == 0 and "DONE" in out

    db = sqlite3.connect(tmp_path / "db.sqlite3")
    stored = {r[0] for r in db.execute("SELECT key FROM inbound")}
    assert {f"sms:{k}" for k in acked} <= stored
    assert len(stored) == len(lines)
    rows = {r[0] for r in db.execute("SELECT id FROM outbox")}
    assert len(rows) == REPLIES_PER_PERSON * len(people)  # no event applied twice
    unsent = db.execute("SELECT count(*) FROM outbox WHERE status != 'sent'").fetchone()[0]
    assert unsent == 0
    db.close()
    provider = [json.loads(x) for x in (tmp_path / "provider.jsonl").read_text().splitlines()]
    per_row = Counter(p["outbox"] for p in provider)
    assert set(per_row) == rows
    assert max(per_row.values()) == 1, "a reply reached the provider twice"
