"""Length-prefixed JSON frames over a pipe: the SMS channel and its send process talk this way."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

HEADER = struct.Struct(">I")
LIMIT = 1 << 20  # no request or answer comes near this; a longer one means a broken pipe
# made once: json.dumps with any option builds a new encoder on every call (two frames a send)
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


class BadFrame(ValueError):
    pass


def frame(obj: dict[str, Any]) -> bytes:
    data = _JSON.encode(obj).encode()
    return HEADER.pack(len(data)) + data


async def read_frame(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next frame, or None at the end of the stream (also mid-frame: the writer died)."""
    try:
        (size,) = HEADER.unpack(await reader.readexactly(HEADER.size))
        if size > LIMIT:
            raise BadFrame(f"frame of {size} bytes")
        obj = json.loads(await reader.readexactly(size))
    except asyncio.IncompleteReadError:
        return None
    if not isinstance(obj, dict):
        raise BadFrame("not an object")
    return obj
