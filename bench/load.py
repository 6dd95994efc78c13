"""Full SMS and Telegram paths under load, against the machine's own HTTP ceiling.

    python bench/load.py [--quick] [--channels telegram,sms] [--database postgresql://...]

`rjbot serve` runs in its own process (`python -m bot serve`, a fresh database in a temp
dir); the load generator and the fake Telegram and Twilio APIs share this process and one
event loop on raw asyncio streams. Why there: a reply's arrival at the fake is timed on the
same clock as the webhook that caused it, the closed loop learns of it with no extra hop, and
on 2 cores a third process would only take CPU from the server; `generator_cpu` (CPU seconds
of this process per second) shows how much of a core the generator and fakes use.

Prints one JSON object: start-up time and idle RSS of the server; the bare-Starlette ceiling
for the same bodies under the same generator; then per channel (a) saturation, (b) human pace
and (c) human pace while scheduled check-ins drain, with latencies from posting the webhook
to the last reply of that turn reaching the fake provider. With --database the same phases
then run on PostgreSQL (bench/pgload.py): one `rjbot serve`, then two on one database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import checkins, loadgen, pgload  # noqa: E402
from bench.fake_providers import ACCOUNT, TOKEN, FakeProviders  # noqa: E402
from bench.httpkit import Pool, Poster, RoundRobin  # noqa: E402
from bench.peers import run as peers  # noqa: E402
from bench.procs import cpu_seconds, free_port, measured, process, pyspy, rss_mb  # noqa: E402
from bot.crypto import new_key_text  # noqa: E402

SECRET = "bench-webhook-secret"
TWILIO_TOKEN = "bench-twilio-auth-token"
PUBLIC_URL = "https://rj.example.org"
FULL = {"bare_s": 5, "sat_people": 200, "sat_s": 10, "pace_people": 2000, "pace_s": 20,
        "checkins": 10_000}
QUICK = {"bare_s": 2, "sat_people": 200, "sat_s": 4, "pace_people": 2000, "pace_s": 5,
         "checkins": 2000}


def midday_timezone() -> str:
    """A fixed-offset zone where it is about 14:00 now: check-ins fall inside safe times."""
    offset = (14 - datetime.now(UTC).hour + 12) % 24 - 12
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def sms_available() -> bool:
    return (ROOT / "bot" / "channels" / "twilio_sms.py").exists()


def server_env(db: Path | str, key: str, port: int, fake_port: int) -> dict[str, str]:
    env = {**os.environ, "RJBOT_DATABASE": str(db), "RJBOT_DATA_KEY": key,
           "RJBOT_HOST": "127.0.0.1", "RJBOT_PORT": str(port),
           "RJBOT_TIMEZONE": midday_timezone(), "RJBOT_PUBLIC_URL": PUBLIC_URL,
           "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET,
           "TELEGRAM_API_BASE": f"http://127.0.0.1:{fake_port}/bot", "TELEGRAM_MODE": "webhook",
           "TELEGRAM_SEND_RATE": "100000", "PYTHONPATH": str(ROOT)}
    if sms_available():
        env.update({"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                    "TWILIO_FROM_NUMBER": "+447700900000",
                    "TWILIO_API_BASE": f"http://127.0.0.1:{fake_port}",
                    "TWILIO_SEND_RATE": "100000"})
    return env


async def bare_ceiling(cfg: dict[str, Any], hooks: list[loadgen.Webhook],
                       tmp: Path) -> dict[str, Any]:
    port = free_port()
    out: dict[str, Any] = {}
    async with process([sys.executable, "bench/bare.py", str(port)], {**os.environ}, port,
                       "/healthz", tmp / "bare.log"):
        pool = Pool("127.0.0.1", port, 100)
        for hook in hooks:
            path = "/json" if hook.channel == "telegram" else "/form"
            out[hook.channel] = await loadgen.hammer(
                pool, path, lambda n, hook=hook: hook.request(hook.address(n), "1"),
                cfg["sat_people"], cfg["bare_s"])
        await pool.close()
    return out


def hooks_for(channels: list[str]) -> list[loadgen.Webhook]:
    hooks = []
    for name in channels:
        if name == "telegram":
            hooks.append(loadgen.Webhook("telegram", "/webhooks/telegram", secret=SECRET))
        else:
            from twilio.request_validator import RequestValidator

            validator = RequestValidator(TWILIO_TOKEN)
            hooks.append(loadgen.Webhook("sms", "/webhooks/twilio/sms", public_url=PUBLIC_URL,
                                         sign=validator.compute_signature))
    return hooks


class Bench:
    """One run: the fakes, the people's numbering, the server command, the results."""

    def __init__(self, cfg: dict[str, Any], channels: list[str], tmp: Path,
                 database: str = "") -> None:
        self.cfg, self.tmp, self.database = cfg, tmp, database
        self.hooks = hooks_for(channels)
        self.replies = loadgen.Replies()
        self.key = new_key_text()
        self.db: Path | str = tmp / "load.sqlite3"
        self.ports = [free_port()]  # one `rjbot serve` per port, all on self.db
        self.fake_port = 0
        self.first = 0  # each crowd numbers its people from here: nobody is reused
        self.result: dict[str, Any] = {"bench": "load", "channels": channels, **machine()}
        self.phases: dict[str, Any] = {h.channel: {} for h in self.hooks}
        self.serve = [sys.executable, "-m", "bot", "serve"]
        if os.environ.get("BENCH_NO_UVLOOP"):  # py-spy cannot see into uvloop's callbacks
            self.serve = [sys.executable, "-c", "import sys; sys.modules['uvloop'] = None; "
                          "from bot.cli import main; sys.exit(main(['serve']))"]
        self.rate = 0.0  # phases (b) and (c): half the lower saturation rate of this run
        self.starts = 0  # server starts so far (BENCH_PYSPY: one profile file each)

    @contextlib.asynccontextmanager
    async def server(self) -> AsyncIterator[tuple[list[asyncio.subprocess.Process], float]]:
        """`rjbot serve` on a fresh start, one per port (one after another: the first migrates);
        under BENCH_PYSPY=PATH py-spy records the first one's raw stacks to PATH.1, PATH.2..."""
        self.starts += 1
        async with contextlib.AsyncExitStack() as stack:
            procs, took = [], 0.0
            for i, port in enumerate(self.ports):
                env = server_env(self.db, self.key, port, self.fake_port)
                proc, seconds = await stack.enter_async_context(process(
                    self.serve, env, port, "/healthz", self.tmp / f"serve{i or ''}.log"))
                procs.append(proc)
                took = max(took, seconds)
            profile = os.environ.get("BENCH_PYSPY")
            await stack.enter_async_context(
                pyspy(procs[0].pid, f"{profile}.{self.starts}" if profile else ""))
            yield procs, took

    def pool(self) -> Poster:
        """Keep-alive connections to the server(s): 100 in all, requests round-robin."""
        pools = [Pool("127.0.0.1", port, 100 // len(self.ports)) for port in self.ports]
        return pools[0] if len(pools) == 1 else RoundRobin(pools)

    def crowd(self, pool: Poster, hook: loadgen.Webhook) -> loadgen.Crowd:
        crowd = loadgen.Crowd(pool, hook, self.replies, self.first)
        self.first += 1_000_000
        return crowd

    async def run(self) -> dict[str, Any]:
        fakes = await FakeProviders(self.replies.on_send).start()
        try:
            self.result["bare_ceiling"] = await bare_ceiling(self.cfg, self.hooks, self.tmp)
            self.result["peers"] = {}
            self.fake_port = fakes.port
            await self.phases_abc(self.result, self.phases)
            self.result["phases"] = self.phases
            self.result["ratios"] = ratios(self.result)
            if self.database:
                self.result["postgres"] = await pgload.measure(self, self.database)
        finally:
            await fakes.stop()
        return self.result

    async def phases_abc(self, out: dict[str, Any], phases: dict[str, Any],
                         rate: float = 0.0) -> None:
        """(a) and (b), the check-ins made due, then (c): on self.db with self.ports."""
        await self.saturation_and_pace(out, phases, rate)
        due = await asyncio.to_thread(checkins.insert_due, self.db, self.key,
                                      self.cfg["checkins"], [h.channel for h in self.hooks],
                                      self.first)
        self.first += 1_000_000
        await self.pace_while_checkins_drain(out, phases, due)

    async def saturation_and_pace(self, out: dict[str, Any], phases: dict[str, Any],
                                  rate: float) -> None:
        """Phase (a) on every channel, on SQLite each followed at once by its peers (the
        machine is shared: what is compared is measured side by side), then (b) on each
        channel at half the lower saturation rate (a fixed rate would mean something else on
        every run), or at `rate` when given and lower (PostgreSQL: SQLite's, for latencies
        at one rate)."""
        cfg = self.cfg
        async with self.server() as (procs, took):
            pids = [proc.pid for proc in procs]
            out["startup_seconds"] = took
            await asyncio.sleep(1.0)
            out["idle_rss_mb"] = round(sum(map(rss_mb, pids)), 1)
            pool = self.pool()
            for hook in self.hooks:
                sat = await measured(pids, loadgen.saturate(
                    self.crowd(pool, hook), cfg["sat_people"], cfg["sat_s"]))
                bare = self.result["bare_ceiling"][hook.channel]["requests_per_s"]
                sat["ratio_to_bare"] = round(sat["inbound_per_s"] / bare, 3)
                phases[hook.channel]["a_saturation"] = sat
                if out is self.result:  # the SQLite run
                    self.result["peers"].update(await peers.measure(
                        cfg, [hook], self.replies, self.fake_port, TWILIO_TOKEN, self.tmp,
                        self.first))
                    self.first += 10_000_000
            own = max(1.0, round(min(phases[h.channel]["a_saturation"][
                "inbound_per_s"] for h in self.hooks) / 2, 1))
            self.rate = min(own, rate) if rate else own
            out["pace_rate_per_s"] = self.rate
            for hook in self.hooks:
                phases[hook.channel]["b_human_pace"] = await measured(
                    pids, loadgen.paced(self.crowd(pool, hook), cfg["pace_people"],
                                        self.rate, cfg["pace_s"]))
            await pool.close()
            out["rss_mb_after_load"] = round(sum(map(rss_mb, pids)), 1)

    async def pace_while_checkins_drain(self, out: dict[str, Any], phases: dict[str, Any],
                                        due: list[str]) -> None:
        """Phase (c): restart with the check-ins due; every channel at once, sharing the rate."""
        cfg, n = self.cfg, len(self.hooks)
        async with self.server() as (procs, took):
            pids = [proc.pid for proc in procs]
            out["startup_seconds_with_due_checkins"] = took
            pool = self.pool()
            drained = checkins.Drain(self.replies, due)
            crowds = [self.crowd(pool, hook) for hook in self.hooks]
            cpu, started = sum(map(cpu_seconds, pids)), time.monotonic()
            paced = await asyncio.gather(*(loadgen.paced(
                crowd, cfg["pace_people"] // n, self.rate / n, cfg["pace_s"])
                for crowd in crowds))
            out["server_cpu_phase_c"] = round(
                (sum(map(cpu_seconds, pids)) - cpu) / (time.monotonic() - started), 2)
            for hook, phase in zip(self.hooks, paced, strict=True):
                phases[hook.channel]["c_pace_while_checkins_drain"] = phase
            out["checkins_during_phase_c"] = drained.summary()
            out["checkins_drained"] = await drained.wait(60)
            await pool.close()


def ratios(result: dict[str, Any]) -> dict[str, float]:
    """The targets' ratios, all from this one run: channels, the bare ceiling, the peers."""
    def rate(phases: dict[str, Any], name: str) -> float | None:
        found = phases.get(name, {}).get("a_saturation", phases.get(name, {}))
        return found.get("inbound_per_s") if found else None

    phases, found = result["phases"], result["peers"]
    pairs = {"telegram_to_sms": (rate(phases, "telegram"), rate(phases, "sms")),
             "sms_to_bare": (rate(phases, "sms"),
                             result["bare_ceiling"].get("sms", {}).get("requests_per_s")),
             "telegram_to_ptb_conversation_handler": (
                 rate(phases, "telegram"), rate(found, "ptb_conversation_handler")),
             "sms_to_twiml_sqlite": (rate(phases, "sms"), rate(found, "twiml_sqlite")),
             "sms_to_twiml_memory": (rate(phases, "sms"), rate(found, "twiml_memory"))}
    return {name: round(a / b, 3) for name, (a, b) in pairs.items() if a and b}


async def run(cfg: dict[str, Any], channels: list[str], database: str = "") -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rjbot-load-") as tmp_name:
        tmp = Path(os.environ.get("BENCH_KEEP", "") or tmp_name)  # BENCH_KEEP: keep db, logs
        await asyncio.to_thread(tmp.mkdir, parents=True, exist_ok=True)
        return await Bench(cfg, channels, tmp, database).run()


def machine() -> dict[str, Any]:
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, nproc {os.cpu_count()}, "
                       f"{platform.python_implementation()} {platform.python_version()}"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    p.add_argument("--quick", action="store_true", help="smaller counts, under 60 s")
    p.add_argument("--channels", default="", help="comma list; default: every one available")
    p.add_argument("--database", default="", help="postgresql://... : after SQLite, the same "
                   "phases on a fresh schema there (dropped after), with one and two servers")
    args = p.parse_args()
    channels = [c for c in args.channels.split(",") if c] or (
        ["sms", "telegram"] if sms_available() else ["telegram"])
    started = time.monotonic()
    result = asyncio.run(run(QUICK if args.quick else FULL, channels, args.database))
    result["bench_seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
