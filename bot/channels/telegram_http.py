"""The HTTP transport under python-telegram-bot: one keep-alive aiohttp session.

PTB stays the library (its `Bot` methods build every Bot API call, parse every answer and
raise its errors); this replaces only `HTTPXRequest`, the part that moves bytes. Measured at
Telegram saturation (bench/load.py), httpx and httpcore took about 60% of the event loop's
time, much of it the pool checking each connection for expiry on every request; aiohttp
(already installed for twilio's async client) sends the same form posts over reused
connections for a fraction of that. Timeouts map onto aiohttp's: waiting for a pooled
connection (pool), opening one (connect), and each read (read); a timeout is PTB's `TimedOut`
and any other transport failure its `NetworkError`, so the outbox retries as before.
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput, UploadFileDict
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

FORM = "application/x-www-form-urlencoded"


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    """A PTB request on aiohttp; the session is made in `initialize` (inside the loop)."""

    def __init__(self, connection_pool_size: int = 8, read_timeout: float | None = 5.0,
                 connect_timeout: float | None = 5.0, pool_timeout: float | None = 1.0,
                 media_write_timeout: float | None = 20.0) -> None:
        self._size = connection_pool_size
        self._read, self._connect, self._pool = read_timeout, connect_timeout, pool_timeout
        self._media = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._size, keepalive_timeout=30.0)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT},
                skip_auto_headers=("Accept-Encoding",))

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = _given(read_timeout, self._read)
        files = request_data.multipart_data if request_data else None
        if files:  # an upload may take longer to write: PTB's media write timeout bounds it
            read = (read or 0) + (_given(write_timeout, self._media) or 0) or None
        timeout = aiohttp.ClientTimeout(
            total=None, connect=_given(pool_timeout, self._pool),
            sock_connect=_given(connect_timeout, self._connect), sock_read=read)
        data, headers = _body(request_data, files)
        try:
            async with self._session.request(method, url, data=data, headers=headers,
                                             timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # asyncio.TimeoutError is this one (3.11)
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            # the kind only: aiohttp's words can hold the URL, and the URL holds the bot token
            raise NetworkError(f"aiohttp.{type(exc).__name__}") from exc


def _body(request_data: RequestData | None,
          files: UploadFileDict | None) -> tuple[str | aiohttp.FormData | None, dict[str, str]]:
    """The fields as PTB encodes them, and the headers: url-encoded here (handing aiohttp a
    dict builds a multipart writer and a random boundary on every call); with files, a
    multipart form."""
    if request_data is None:
        return None, {}
    if not files:
        return request_data.url_encoded_parameters(), {"Content-Type": FORM}
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime)
    return form, {}
