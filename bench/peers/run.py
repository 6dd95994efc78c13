"""The peers measured beside rjbot in one `bench/load.py` run, each in its own process.

Same generator, same fakes, same conversation, same people and seconds as rjbot's saturation
phase (a): only the server differs. Ratios are taken within the run, never across runs.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.httpkit import Pool
from bench.procs import ROOT, free_port, measured, process

# name: (channel, script, what it is)
PEERS = {
    "ptb_conversation_handler": ("telegram", "ptb_bot.py",
                                 "python-telegram-bot 22 ConversationHandler, run_webhook, "
                                 "state in memory"),
    "twiml_sqlite": ("sms", "twiml_bot.py",
                     "Starlette + RequestValidator, state committed to SQLite (WAL, "
                     "synchronous=FULL), TwiML answer"),
    "twiml_memory": ("sms", "twiml_bot.py",
                     "Starlette + RequestValidator, state in a dict, TwiML answer"),
}


def command(name: str, port: int, fake_port: int, hook: loadgen.Webhook, token: str,
            tmp: Path) -> list[str]:
    script = str(ROOT / "bench" / "peers" / PEERS[name][1])
    if name == "ptb_conversation_handler":
        return [sys.executable, script, str(port), f"http://127.0.0.1:{fake_port}/bot",
                hook.secret]
    database = [str(tmp / "peer.sqlite3")] if name == "twiml_sqlite" else []
    return [sys.executable, script, str(port), hook.public_url, token, *database]


async def measure(cfg: dict[str, Any], hooks: list[loadgen.Webhook],
                  replies: loadgen.Replies, fake_port: int, twilio_token: str, tmp: Path,
                  first: int) -> dict[str, Any]:
    """Phase (a) against each peer whose channel is in this run."""
    by_channel = {hook.channel: hook for hook in hooks}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out: dict[str, Any] = {}
    for number, (name, (channel, _, what)) in enumerate(PEERS.items()):
        if channel not in by_channel:
            continue
        hook = by_channel[channel]
        if channel == "sms":
            hook = dataclasses.replace(hook, twiml=True)
        port = free_port()
        args = command(name, port, fake_port, hook, twilio_token, tmp)
        async with process(args, env, port, hook.path, tmp / f"{name}.log") as (proc, took):
            pool = Pool("127.0.0.1", port, 100)
            crowd = loadgen.Crowd(pool, hook, replies, first + number * 1_000_000)
            result = await measured(proc.pid, loadgen.saturate(
                crowd, cfg["sat_people"], cfg["sat_s"]))
            await pool.close()
        out[name] = {"what": what, "channel": channel, "startup_seconds": took, **result}
    return out
