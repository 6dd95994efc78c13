"""Minimal HTTP/1.1 on raw asyncio streams, for the load generator and the fake providers.

The generator must not be the bottleneck on a 2-core machine: a keep-alive pool of plain
stream connections costs a fraction of an httpx request, and the fake providers answer with
a few bytes of canned JSON instead of going through a web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import Protocol

Handler = Callable[[str, str, dict[str, str], bytes], Awaitable[tuple[int, bytes]]]
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 403: "Forbidden",
           404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}


async def _read_message(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return lines[0], headers, body


class Pool:
    """Keep-alive connections to one host:port; each request borrows one connection."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = (
            asyncio.Queue())
        for _ in range(size):
            self._idle.put_nowait(None)  # a slot; connected on first use

    async def request(self, method: str, path: str, body: bytes,
                      headers: dict[str, str]) -> tuple[int, bytes]:
        conn = await self._idle.get()
        try:
            for attempt in (0, 1):  # a keep-alive connection the server closed: reconnect once
                if conn is None:
                    conn = await asyncio.open_connection(self.host, self.port)
                reader, writer = conn
                head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                        f"Content-Length: {len(body)}"]
                head += [f"{k}: {v}" for k, v in headers.items()]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
                try:
                    status_line, resp_headers, resp = await _read_message(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    writer.close()
                    conn = None
                    if attempt:
                        raise
                    continue
                if resp_headers.get("connection", "").lower() == "close":
                    writer.close()
                    conn = None
                return int(status_line.split(" ", 2)[1]), resp
            raise ConnectionError("unreachable")
        except BaseException:
            if conn is not None:
                conn[1].close()
            conn = None
            raise
        finally:
            self._idle.put_nowait(conn)

    async def close(self) -> None:
        while not self._idle.empty():
            conn = self._idle.get_nowait()
            if conn is not None:
                conn[1].close()


class Poster(Protocol):
    async def request(self, method: str, path: str, body: bytes,
                      headers: dict[str, str]) -> tuple[int, bytes]: ...

    async def close(self) -> None: ...


class RoundRobin:
    """Several servers behind one generator: each request goes to the next pool in turn."""

    def __init__(self, pools: list[Pool]) -> None:
        self.pools = pools
        self._next = itertools.cycle(pools)

    async def request(self, method: str, path: str, body: bytes,
                      headers: dict[str, str]) -> tuple[int, bytes]:
        return await next(self._next).request(method, path, body, headers)

    async def close(self) -> None:
        for pool in self.pools:
            await pool.close()


async def serve(handler: Handler, host: str = "127.0.0.1", port: int = 0) -> asyncio.Server:
    """A keep-alive HTTP/1.1 server calling `handler(method, path, headers, body)`."""

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    request_line, headers, body = await _read_message(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                method, path, _ = request_line.split(" ", 2)
                status, payload = await handler(method, path, headers, body)
                if status == 0:  # the handler wants the connection dropped (a timeout)
                    return
                writer.write(
                    f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                    f"\r\n".encode("latin-1") + payload)
        except asyncio.CancelledError:  # the benchmark is over: no traceback for this
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    return await asyncio.start_server(on_connection, host, port, backlog=1024)
