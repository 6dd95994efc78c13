"""The process that makes the SMS channel's Twilio REST sends, off the server's GIL.

At SMS saturation the twilio client and aiohttp took about a third of the server's GIL time:
here they run on another core. `rjbot serve` starts this as `python -m
bot.channels.twilio_child` (bot.channels.twilio_worker) and talks to it over its stdin and
stdout in frames (bot.channels.frames): first the credentials (never in argv or the
environment), then one frame per message to create; each answer carries the request's id and
the message's sid or what went wrong. It logs nothing of its own, ignores Ctrl-C (the server
stops it) and exits when its stdin closes, after the sends in flight have answered.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot.channels.frames import frame, read_frame
from bot.channels.twilio_http import TwilioHttp


def answer_of(request_id: int, exc: BaseException) -> dict[str, Any]:
    """What a failed create tells the server: enough to rebuild the same exception."""
    if isinstance(exc, TwilioRestException):
        return {"id": request_id, "error": "rest", "status": exc.status, "code": exc.code,
                "msg": str(exc.msg), "method": exc.method}
    if isinstance(exc, TimeoutError):
        return {"id": request_id, "error": "timeout"}
    return {"id": request_id, "error": "connection", "kind": type(exc).__name__}


async def _create(client: Client, request: dict[str, Any], seconds: float,
                  out: asyncio.WriteTransport) -> None:
    request_id = int(request["id"])
    seconds = float(request.get("seconds", seconds))
    try:
        async with asyncio.timeout(seconds):
            message = await client.messages.create_async(**request["options"])
        answer: dict[str, Any] = {"id": request_id, "sid": str(message.sid)}
    except (TwilioRestException, TimeoutError, aiohttp.ClientError, OSError) as exc:
        answer = answer_of(request_id, exc)
    except Exception as exc:  # anything else: the server's to retry
        answer = {"id": request_id, "error": "connection", "kind": type(exc).__name__}
    if not out.is_closing():
        out.write(frame(answer))


async def serve(reader: asyncio.StreamReader, out: asyncio.WriteTransport) -> None:
    config = await read_frame(reader)
    if config is None:
        return
    timeout = float(config["timeout"])
    http = TwilioHttp(timeout=timeout)
    client = Client(config["account"], config["token"], http_client=http)
    if config.get("base"):
        client.api.base_url = config["base"]
    out.write(frame({"ready": True}))  # imported and set up: the server may send now
    tasks: set[asyncio.Task[None]] = set()
    try:
        while (request := await read_frame(reader)) is not None:
            task = asyncio.create_task(_create(client, request, timeout, out))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks)
    finally:
        await http.close()


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 21)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    out, _ = await loop.connect_write_pipe(asyncio.Protocol, sys.stdout.buffer)
    try:
        await serve(reader, out)
    finally:
        out.close()


def run() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C: the server stops us
    try:
        import uvloop  # optional, as for uvicorn
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())


if __name__ == "__main__":
    run()
