"""The machine's HTTP ceiling: a bare Starlette app that only parses the webhook bodies.

    python bench/bare.py PORT

Served by uvicorn exactly as `rjbot serve` serves the real app (same server, loop and HTTP
implementation, access log off), so the load benchmark can divide the real rate by this one.
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


async def form(request: Request) -> Response:
    parsed = await request.form()
    return Response(TWIML if parsed.get("MessageSid") else "", media_type="text/xml")


async def json_body(request: Request) -> Response:
    data = await request.json()
    return Response(status_code=200 if isinstance(data, dict) else 400)


app = Starlette(routes=[Route("/form", form, methods=["POST"]),
                        Route("/json", json_body, methods=["POST"])])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
