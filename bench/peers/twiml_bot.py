"""Peer: the first-contact SMS bot as people write it with Starlette and twilio.

    python bench/peers/twiml_bot.py PORT PUBLIC_URL AUTH_TOKEN [DATABASE]

The signature checked with twilio's `RequestValidator`, the person's state loaded, advanced
and committed to SQLite (WAL, synchronous=FULL: each answer is on disk before the reply), the
replies returned as TwiML in the webhook's answer (no REST call, no outbox). Without DATABASE
the state is a dict in memory. Served by uvicorn as `rjbot serve` is (same loop and parser).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from bench.peers.script import STEPS, as_sms

State = dict[str, str | int]


class Memory:
    def __init__(self) -> None:
        self.states: dict[str, State] = {}

    def load(self, who: str) -> State:
        return self.states.get(who, {})

    def save(self, who: str, state: State) -> None:
        self.states[who] = state


class Sqlite:
    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS conversation"
                        " (address TEXT PRIMARY KEY, state TEXT NOT NULL)")

    def load(self, who: str) -> State:
        row = self.db.execute("SELECT state FROM conversation WHERE address = ?",
                              (who,)).fetchone()
        return json.loads(row[0]) if row else {}

    def save(self, who: str, state: State) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO conversation (address, state) VALUES (?, ?)"
                        " ON CONFLICT (address) DO UPDATE SET state = excluded.state",
                        (who, json.dumps(state)))
        self.db.execute("COMMIT")


def make_app(public_url: str, auth_token: str, database: str = "") -> Starlette:
    validator = RequestValidator(auth_token)
    store = Sqlite(database) if database else Memory()

    async def sms(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(public_url + request.url.path, form, signature):
            return Response(status_code=403)
        who = form.get("From", "")
        state = store.load(who)
        turn = int(state.get("turn", 0))
        state[f"answer{turn}"] = form.get("Body", "")
        state["turn"] = (turn + 1) % len(STEPS)
        store.save(who, state)
        twiml = MessagingResponse()
        for reply in STEPS[turn]:
            twiml.message(as_sms(reply))
        return Response(str(twiml), media_type="application/xml")

    return Starlette(routes=[Route("/webhooks/twilio/sms", sms, methods=["POST"])])


def main() -> None:
    port, public_url, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    database = sys.argv[4] if len(sys.argv) > 4 else ""
    uvicorn.run(make_app(public_url, token, database), host="127.0.0.1", port=port,
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
