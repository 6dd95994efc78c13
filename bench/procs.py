"""Server processes for the benchmarks: start, wait until ready, measure CPU, profile."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

from bench.httpkit import Pool

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process and every process under it."""
    return round(sum(map(_own_rss_mb, [pid, *descendants(pid)])), 1)


def _own_rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    """The live processes under `pid` (the server's SMS send process, say)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                children = [int(c) for c in f.read().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def _own_cpu(pid: int) -> float:
    """User + system CPU time of one process (all its threads, and its children that exited
    and were waited for)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:  # gone since it was listed
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time so far of a process and every process under it."""
    return sum(map(_own_cpu, [pid, *descendants(pid)]))


async def measured(pid: int | list[int], phase: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Run a phase; add the server's CPU use during it: cores busy on average, and CPU
    milliseconds per inbound message acknowledged (all its threads: loop, SQLite, sender;
    summed over every server process when given several)."""
    pids = pid if isinstance(pid, list) else [pid]
    cpu, start = sum(map(cpu_seconds, pids)), time.monotonic()
    result = await phase
    used = sum(map(cpu_seconds, pids)) - cpu
    result["server_cpu"] = round(used / (time.monotonic() - start), 2)
    acked = result.get("inbound_acked", 0)
    result["server_cpu_ms_per_message"] = round(1000 * used / acked, 2) if acked else None
    return result


@contextlib.asynccontextmanager
async def process(args: list[str], env: dict[str, str], port: int, health: str,
                  log: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, float]]:
    """A server subprocess; yields it and the seconds from spawn until `health` answered."""
    with log.open("a") as out:
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(*args, cwd=ROOT, env=env, stdout=out,
                                                    stderr=out)
        try:
            await wait_ready(proc, port, health)
            yield proc, round(time.monotonic() - started, 3)
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


@contextlib.asynccontextmanager
async def pyspy(pid: int, path: str) -> AsyncIterator[None]:
    """py-spy attached to `pid` while the block runs (nothing when `path` is empty); SIGINT
    makes it write the raw stacks to `path` before it exits."""
    if not path:
        yield
        return
    spy = await asyncio.create_subprocess_exec(
        "py-spy", "record", "-r", "100", "--format", "raw", "-o", path, "--pid", str(pid),
        *os.environ.get("BENCH_PYSPY_ARGS", "").split(), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        await spy.wait()


async def wait_ready(proc: asyncio.subprocess.Process, port: int, health: str) -> None:
    pool = Pool("127.0.0.1", port, 1)
    try:
        async with asyncio.timeout(60):
            while True:
                if proc.returncode is not None:
                    raise RuntimeError(f"server exited with {proc.returncode}")
                with contextlib.suppress(OSError, asyncio.IncompleteReadError, IndexError):
                    status, _ = await pool.request("POST" if health != "/healthz" else "GET",
                                                   health, b"", {})
                    if status < 500:
                        return
                await asyncio.sleep(0.02)
    finally:
        await pool.close()
