"""`rjbot simulate`: a conversation on stdin, everything the system emits as JSON lines.

It goes through the same runtime, store and outbox as real channels; only the channel is a
console stand-in that renders exactly as the named channel, and the clock is virtual: it is
stored with the database, so a later run continues from where the last one stopped.
Directives: `::wait 25h` (fire due jobs in order), `::from ADDRESS`, `::edit TEXT` (a Telegram
edit of an earlier message), `::tap DATA` (a Telegram button pressed, e.g. `::tap
first_contact.safe|yes`), `::signal opt_out|opt_in|media` (what the provider reports, e.g.
Twilio's STOP), and `::act ACTION k=v ...`
(a facilitator action on the current person's case, e.g. `::act meeting_set kind=meeting
mode=phone at=2026-03-05T14:00:00Z`; values are JSON where they parse, so `days=[2,7]`; letter
actions are in bot.relay.simulate).
"""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from bot.apply import Applied, open_case_id
from bot.channels.console import ConsoleChannel
from bot.clock import SystemClock, VirtualClock, from_ts, iso, to_ts
from bot.config import Settings
from bot.flows import ACTIONS
from bot.relay.simulate import DESK_ONLY, LETTER_ACTIONS, desk_act
from bot.runtime import Inbound, SignalKind
from bot.service import Service
from bot.store import casework, jobs, notes, outbox, records
from bot.types import ChannelName

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
SIGNALS: dict[str, SignalKind] = {"opt_out": "opt_out", "opt_in": "opt_in", "media": "media"}
CHANNELS: tuple[ChannelName, ...] = ("sms", "telegram", "whatsapp")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class DirectiveError(ValueError):
    pass


def parse_action(arg: str) -> tuple[str, dict[str, Any]]:
    """`meeting_set at=2026-03-05T14:00:00Z mode=phone days=[2,7]`: JSON values where they parse."""
    words = shlex.split(arg)
    if not words:
        raise DirectiveError("::act needs an action name, e.g. ::act replied")
    data: dict[str, Any] = {}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise DirectiveError(f"bad ::act argument {word!r}: use key=value")
        try:
            data[key] = json.loads(value)
        except ValueError:
            data[key] = value
    return words[0], data


def parse_duration(text: str) -> timedelta:
    """`48h`, `30d`, `1d 2h`, `90m`, `15s`."""
    compact = text.replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise DirectiveError(f"bad duration {text!r}: use e.g. 30m, 48h, 7d")
    return sum((timedelta(**{_UNITS[u]: float(n)}) for n, u in parts), timedelta())


class Simulation:
    def __init__(self, service: Service, clock: VirtualClock, channel: ChannelName,
                 address: str, out: TextIO) -> None:
        self.service = service
        self.clock = clock
        self.channel = channel
        self.address = address
        self.out = out
        self._alerts: list[dict[str, Any]] = []
        service.runtime.subscribe(self._collect)
        service.sender.on_alert(self._alerts.append)
        for name in CHANNELS:
            service.sender.channels[name] = ConsoleChannel(name, self.emit)

    def _collect(self, applied: Applied) -> None:
        self._alerts.extend(applied.alerts)

    def emit(self, record: dict[str, Any]) -> None:
        self.out.write(json.dumps({"at": iso(self.clock.now()), **record}, ensure_ascii=False))
        self.out.write("\n")
        self.out.flush()

    async def flush(self) -> None:
        """Send what is due now, then report alerts raised on the way."""
        while await self.service.sender.send_due():
            pass
        alerts, self._alerts = self._alerts, []
        for alert in alerts:
            rest = {k: v for k, v in alert.items() if k not in ("kind", "id", "message")}
            self.emit({"alert": alert["kind"], **rest})

    async def say(self, text: str, edited: bool = False, signal: SignalKind | None = None,
                  payload: str | None = None) -> None:
        number = await self.service.db.write(_next_inbound_number)
        inbound = Inbound(self.channel, self.address, f"sim-{number}", text, edited=edited,
                          signal=signal, payload=payload)
        await self.service.runtime.handle(inbound)
        await self.flush()
        await self.fire_now()

    async def fire_now(self) -> None:
        """Jobs a message or action made due at once (a RESUME releasing a held check-in)."""
        if await self.service.runtime.fire_due():
            await self.flush()

    async def wait(self, span: timedelta) -> None:
        """Move the virtual clock, firing jobs and sending held messages at their due times."""
        target = self.clock.now() + span
        while True:
            nxt = await self.service.db.read(_next_due)
            if nxt is None or nxt > to_ts(target):
                break
            self.clock.advance_to(from_ts(nxt))
            await self.service.runtime.fire_due()
            await self.flush()
        self.clock.advance_to(target)
        await self.save_clock()

    async def directive(self, line: str) -> None:
        name, _, arg = line[2:].strip().partition(" ")
        if name == "wait":
            await self.wait(parse_duration(arg.strip()))
        elif name == "from" and arg.strip():
            self.address = arg.strip()
        elif name == "act":
            await self.act(*parse_action(arg))
        elif name == "edit" and arg.strip():  # the person changed an earlier message (Telegram)
            await self.say(arg.strip(), edited=True)
        elif name == "tap" and arg.strip():  # a button pressed: its data, `flow.step|choice`
            await self.say(arg.strip(), payload=arg.strip())
        elif name == "signal" and arg.strip() in SIGNALS:  # e.g. Twilio's STOP: opt_out
            await self.say("", signal=SIGNALS[arg.strip()])
        else:
            raise DirectiveError(
                f"unknown directive {line.strip()!r}: use ::wait, ::from, ::act, ::edit TEXT,"
                " ::tap DATA"
                f" or ::signal {'|'.join(SIGNALS)}"
            )

    async def act(self, action: str, data: dict[str, Any]) -> None:
        """A facilitator action on the current simulated person's case."""
        cipher, channel, address = self.service.cipher, self.channel, self.address
        found = await self.service.db.read(
            lambda c: records.find_address(c, cipher, channel, address)
        )
        known = [a for a in (*ACTIONS, *LETTER_ACTIONS, "case_note") if a not in DESK_ONLY]
        if action not in known:
            raise DirectiveError(f"unknown action {action!r}: use one of {', '.join(known)}")
        if found is None:
            raise DirectiveError("::act needs a person: send a message from this address first")
        try:
            if action in LETTER_ACTIONS:
                self.emit(await desk_act(self.service, found[0], action, data))
            elif action == "case_note":
                self.emit(await note_act(self.service, found[0], data))
            else:
                ts = to_ts(self.clock.now())
                finish = _closing(found[0], ts) if action == "close_case" else None
                prepare = _reopening(found[0], ts) if action == "reopen" else None
                await self.service.runtime.act(found[0], action, data, actor="simulate",
                                               prepare=prepare, finish=finish)
        except ValueError as exc:
            raise DirectiveError(f"::act {action}: {exc}") from None
        await self.flush()
        await self.fire_now()

    async def save_clock(self) -> None:
        now = self.clock.now().isoformat()
        await self.service.db.write(lambda c: records.set_meta(c, "virtual_clock", now))

    async def run(self, lines: Iterable[str]) -> None:
        await self.service.sender.recover()
        await self.flush()
        for raw in lines:
            line = raw.rstrip("\r\n")
            if line.startswith("::"):
                await self.directive(line)
            elif line.strip():
                await self.say(line)
            await self.save_clock()


async def note_act(service: Service, person_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """`::act case_note how=phone what="..." [with="..."] [agreed="..."] [at=ISO] by=alice`:
    a note on the person's newest case, through the console's rules (bot.store.notes)."""
    now = to_ts(service.runtime.clock.now())
    fields = {k: str(data.get(k, "")) for k in notes.LIMITS}
    how, by = str(data.get("how", "note")), str(data.get("by") or "simulate")

    def unit(conn: sqlite3.Connection) -> int:
        case = conn.execute("SELECT c.id, c.created_at, p.status FROM cases c JOIN people p"
                            " ON p.id = c.person_id WHERE c.person_id = ?"
                            " ORDER BY c.id DESC LIMIT 1", (person_id,)).fetchone()
        if case is None or case["status"] == "erased":
            raise notes.NoteError("no case to add a note to (none, or erased)")
        at = _utc(str(data["at"])) if data.get("at") else now
        kept = notes.check(how, fields, at, now, case["created_at"])
        return notes.add(conn, service.cipher, case["id"], how, kept, at, by, now)

    try:
        return {"note_action": "case_note", "note": await service.db.write(unit)}
    except (notes.NoteError, ValueError) as exc:
        return {"note_action": "case_note", "refused": str(exc)}


def _closing(person_id: int, now: float) -> Callable[[sqlite3.Connection], None]:
    """As the console's Close does: the case is marked closed in the same transaction."""
    def finish(conn: sqlite3.Connection) -> None:
        if (case_id := open_case_id(conn, person_id)) is not None:
            casework.close_case(conn, case_id, now)
    return finish


def _reopening(person_id: int, now: float) -> Callable[[sqlite3.Connection], None]:
    """As the console's Reopen does (bot.console.reopen): the newest closed case is marked
    open before the step, unless the person has an open case (the step then refuses)."""
    def prepare(conn: sqlite3.Connection) -> None:
        if open_case_id(conn, person_id) is None:
            conn.execute("UPDATE cases SET closed_at = NULL, updated_at = ? WHERE id ="
                         " (SELECT max(id) FROM cases WHERE person_id = ?)", (now, person_id))
    return prepare


def _utc(text: str) -> float:
    parsed = datetime.fromisoformat(text)
    return to_ts(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def _next_inbound_number(conn: sqlite3.Connection) -> int:
    number = int(records.get_meta(conn, "simulate_inbound") or 0) + 1
    records.set_meta(conn, "simulate_inbound", str(number))
    return number


def _next_due(conn: sqlite3.Connection) -> float | None:
    times = [t for t in (jobs.next_due(conn), outbox.next_due(conn, CHANNELS))
             if t is not None]
    return min(times) if times else None


async def simulate(settings: Settings, channel: ChannelName, address: str,
                   lines: Iterable[str], out: TextIO) -> None:
    clock = VirtualClock(SystemClock().now())
    service = await Service.open(settings, clock, {})
    try:
        stored = await service.db.read(lambda c: records.get_meta(c, "virtual_clock"))
        if stored:
            clock.restore(datetime.fromisoformat(stored))
        await Simulation(service, clock, channel, address, out).run(lines)
    finally:
        await service.close()
