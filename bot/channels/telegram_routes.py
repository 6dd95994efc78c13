"""POST /webhooks/telegram: check the secret token, apply the update, then answer 200.

Telegram retries any non-2xx answer, so a bad secret (403) or a body that is not an update
(400) is refused before anything is stored, and a good one is acknowledged only after its
transaction committed (a few milliseconds): if we crash or cannot store it, Telegram sends it
again and the runtime drops the duplicate by update id.
"""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.channels import telegram_checks

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


def secret_ok(given: str, expected: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed a byte at a time."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


async def telegram_webhook(request: Request) -> Response:
    channel = getattr(request.app.state, "telegram", None)
    expected: str = request.app.state.telegram_secret
    if not secret_ok(request.headers.get(SECRET_HEADER, ""), expected):
        log.warning("telegram webhook: wrong or missing secret token")
        return Response(status_code=403)
    if channel is None:  # configured but not started (e.g. the Bot API was unreachable)
        return Response(status_code=503)
    body = await request.body()  # its size is capped by bot.bodylimit
    data, problem = telegram_checks.parse(body)
    if data is None or problem:
        log.warning("telegram webhook: body is not an update (%s)", problem)
        return Response(status_code=400)
    # an update python-telegram-bot cannot read is dropped (logged), not refused: Telegram
    # would only send it again and again
    try:
        await channel.receive(data)
    except Exception as exc:  # not stored: let Telegram deliver it again
        log.error("telegram webhook: update %s not stored (%s)", data["update_id"],
                  type(exc).__name__)
        return Response(status_code=503)
    return Response(status_code=200)


ROUTES = [Route("/webhooks/telegram", telegram_webhook, methods=["POST"])]
