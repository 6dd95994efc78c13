"""bench/load.py's phases on PostgreSQL: one `rjbot serve`, then two on one database.

Each run gets a schema of its own (rjbot_bench_<random>, created here and dropped after,
CASCADE: nothing else in the database is read or changed) named as the servers' search path.
With two servers the generator sends every other webhook to each (one keep-alive pool per
server, 100 connections in all as with one). Phases (b) and (c) run at SQLite's pace rate of
the same run, or half PostgreSQL's own saturation rate if that is lower, so p99s compare at
one rate; CPU is summed over the server processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg

from bench.procs import free_port

if TYPE_CHECKING:
    from bench.load import Bench

COMPARED = (("a_saturation", "inbound_per_s"), ("a_saturation", "server_cpu_ms_per_message"),
            ("b_human_pace", "latency_ms_p99"), ("b_human_pace", "server_cpu_ms_per_message"),
            ("c_pace_while_checkins_drain", "latency_ms_p99"))


def shown(url: str) -> str:
    """The URL as written into the results: no user or password."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", "")) + (
        f" (port {parts.port})" if parts.port else "")


def in_schema(url: str, schema: str) -> str:
    """`url` with `schema` as its search path (in place of any `options` it had)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, quote_via=quote),
                       ""))


@contextlib.asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[str]:
    """A new, empty schema of `url`'s database, dropped afterwards; yields its URL."""
    schema = f"rjbot_bench_{secrets.token_hex(6)}"  # a name we made: no quoting needed

    def run(sql: str) -> None:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    await asyncio.to_thread(run, f"CREATE SCHEMA {schema}")
    try:
        yield in_schema(url, schema)
    finally:
        await asyncio.to_thread(run, f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def ratios(sqlite: dict[str, Any], postgres: dict[str, Any]) -> dict[str, float]:
    """PostgreSQL's figure over SQLite's, per channel, for each figure in COMPARED."""
    out = {}
    for channel, phases in postgres.items():
        for phase, name in COMPARED:
            a = phases.get(phase, {}).get(name)
            b = sqlite.get(channel, {}).get(phase, {}).get(name)
            if a and b:
                out[f"{channel}_{phase[0]}_{name}"] = round(a / b, 3)
    return out


async def measure(bench: Bench, url: str) -> dict[str, Any]:
    """Phases (a), (b), (c) with one server, then with two, each on a fresh schema."""
    sqlite_db, sqlite_ports, sqlite_rate = bench.db, bench.ports, bench.rate
    out: dict[str, Any] = {"database": shown(url)}
    try:
        for name, servers in (("one", 1), ("two", 2)):
            async with fresh_schema(url) as target:
                bench.db, bench.ports = target, [free_port() for _ in range(servers)]
                run: dict[str, Any] = {"servers": servers}
                phases: dict[str, Any] = {h.channel: {} for h in bench.hooks}
                await bench.phases_abc(run, phases, sqlite_rate)
                run["phases"] = phases
                run["ratios_to_sqlite"] = ratios(bench.phases, phases)
                out[name] = run
    finally:
        bench.db, bench.ports, bench.rate = sqlite_db, sqlite_ports, sqlite_rate
    return out
