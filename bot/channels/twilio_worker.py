"""The server's side of the send process (bot.channels.twilio_child): create a Twilio message
there and wait for its sid, as if the twilio client had been called here.

The process starts with the channel (which waits until it is ready) and again at the next
send after it died. What it answers becomes what the in-process call would have raised:
TwilioRestException (status and code, as classify reads them), TimeoutError, or SendLost (an
OSError) when the process died or its answer never came: the outbox retries, and a retry first
asks Twilio whether an earlier try got through, so nothing goes twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import sys
from pathlib import Path
from typing import Any

from twilio.base.exceptions import TwilioRestException

from bot.channels.frames import BadFrame, frame, read_frame

log = logging.getLogger(__name__)
START_SECONDS = 30.0  # to import and answer that it is ready
GRACE = 2.0  # seconds past the process's own timeout before the answer counts as lost
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding `bot`


class SendLost(OSError):
    """The send process died, or did not answer in time: the outcome is unknown."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class SendWorker:
    def __init__(self, account: str, token: str, base: str, timeout: float) -> None:
        self._config = {"account": account, "token": token, "base": base, "timeout": timeout}
        self.timeout = timeout
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._killed = False  # the current process was killed for not answering

    async def start(self) -> None:
        """Start the process now and wait until it is ready (it imports for about half a
        second) rather than at the first send, which would wait for it. If it cannot start,
        the sends try again (and say so in their results)."""
        try:
            await self._running()
        except SendLost:
            log.error("sms send process did not start; sends will try again")

    async def create(self, options: dict[str, str], seconds: float) -> str:
        """The sid of the message Twilio made within `seconds` (raises as twilio's
        create_async would)."""
        proc = await self._running()
        stdin = _pipe(proc, "stdin")
        request_id = next(self._ids)
        answer = self._pending[request_id] = asyncio.get_running_loop().create_future()
        try:
            stdin.write(frame({"id": request_id, "options": options, "seconds": seconds}))
            await stdin.drain()
            async with asyncio.timeout(seconds + GRACE):
                got = await answer
        except TimeoutError:  # past its own deadline: the process is stuck, the next send
            self._kill(proc)  # starts another (the sends it held are retried)
            raise SendLost("no answer") from None
        except (ConnectionError, BrokenPipeError):
            raise SendLost("send process gone") from None
        finally:
            self._pending.pop(request_id, None)
        return _sid(got)

    def _kill(self, proc: asyncio.subprocess.Process) -> None:
        if proc is self._proc and not self._killed:
            self._killed = True  # the next send waits for it to end, then starts another
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            log.warning("sms send process did not answer in time; stopped")

    def _live(self) -> asyncio.subprocess.Process | None:
        """The process, while it is there to answer."""
        if self._killed or self._reader is None or self._reader.done():
            return None
        return self._proc

    async def _running(self) -> asyncio.subprocess.Process:
        if (proc := self._live()) is not None:
            return proc
        async with self._lock:
            if (proc := self._live()) is None:
                await self._stop_process()
                proc = self._proc = await self._spawn()
                self._killed = False
                self._reader = asyncio.create_task(self._read(proc))
            return proc

    async def _spawn(self) -> asyncio.subprocess.Process:
        path = os.pathsep.join(p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.channels.twilio_child", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": path})
        _pipe(proc, "stdin").write(frame(self._config))  # the credentials go by pipe only
        try:  # it imports twilio and aiohttp first: sends made meanwhile would wait for it
            ready = await asyncio.wait_for(read_frame(_pipe(proc, "stdout")), START_SECONDS)
        except (TimeoutError, BadFrame, ValueError):
            ready = None
        if not ready or not ready.get("ready"):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise SendLost("send process did not start")
        log.info("sms send process started")
        return proc

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        stdout = _pipe(proc, "stdout")
        try:
            while (answer := await read_frame(stdout)) is not None:
                waiting = self._pending.get(answer.get("id", 0))
                if waiting is not None and not waiting.done():
                    waiting.set_result(answer)
        except (BadFrame, ValueError, OSError) as exc:
            log.warning("sms send process: unreadable answer (%s)", type(exc).__name__)
        log.info("sms send process ended")
        for waiting in self._pending.values():
            if not waiting.done():
                waiting.set_exception(SendLost("send process gone"))

    async def close(self) -> None:
        async with self._lock:
            await self._stop_process()

    async def _stop_process(self) -> None:
        """Close its stdin (it finishes what is in flight, then exits); kill it if it hangs."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), self.timeout + GRACE)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if self._reader is not None:
            await self._reader


def _pipe(proc: asyncio.subprocess.Process, name: str) -> Any:
    pipe = getattr(proc, name)
    if pipe is None:
        raise RuntimeError(f"the send process has no {name}")
    return pipe


def _sid(answer: dict[str, Any]) -> str:
    error = answer.get("error")
    if error is None:
        return str(answer["sid"])
    if error == "rest":
        raise TwilioRestException(int(answer["status"]), "", msg=answer.get("msg", ""),
                                  code=answer.get("code"), method=answer.get("method", "POST"))
    if error == "timeout":
        raise TimeoutError
    raise SendLost(str(answer.get("kind", "connection")))
