"""What a facilitator does on a case page: each action is checked, recorded and audited.

Actions that change the conversation (reply recorded, meetings, check-ins, closing) go through
`runtime.act`, so the engine decides what the person is sent and which jobs are scheduled.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import iso, to_ts
from bot.console import conflict, notices
from bot.console.auth import Visitor
from bot.console.case import CLOSE_REASONS, Access, access_or_error
from bot.console.pages import error, form_value, redirect, staff
from bot.service import Service
from bot.store import casework, records

KINDS = {"first_conversation": "First conversation", "meeting": "Meeting"}
MODES = {"phone": "Phone", "video": "Video", "in_person": "In person"}


def back(access: Access, notice: str, anchor: str = "") -> Response:
    """To the case page with the confirmation `notice` (a code in bot.console.notices)."""
    return redirect(notices.url(f"/console/cases/{access.case.id}", notice, anchor))


def local_to_utc(value: str, tz: str) -> datetime | None:
    """A datetime-local (or date) field, in the service's timezone, as an aware UTC time."""
    try:
        parsed = datetime.fromisoformat(value) if "T" in value or " " in value else (
            datetime.combine(datetime.fromisoformat(value).date(), time(9, 0)))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(tz))
    return parsed.astimezone(UTC)


class NothingToDo(ValueError):
    """The record an action needs is not there (e.g. no planned meeting to mark held)."""


async def _act(request: Request, v: Visitor, got: Access, action: str,
               data: dict[str, object],
               record: Callable[[sqlite3.Connection], object] | None = None,
               after: bool = False) -> Response | None:
    """Tell the conversation, with the console's own record (`record`, before the step or
    `after` it) in the same transaction, so a crash keeps both or neither; a refusal gives
    the user a 400 page."""
    try:
        await request.app.state.service.runtime.act(
            got.case.person_id, action, data, v.actor,
            prepare=None if after else record, finish=record if after else None)
    except NothingToDo as exc:
        return error(request, v, 400, str(exc))
    except ValueError as exc:
        return error(request, v, 400, f"That could not be done: {exc}.")
    return None


def _now(request: Request) -> datetime:
    service: Service = request.app.state.service
    return service.runtime.clock.now()


@staff
async def replied(request: Request, v: Visitor) -> Response:
    """The team has replied to a new contact: the 48-hour clock stops."""
    got = await access_or_error(request, v)
    if isinstance(got, Response):
        return got
    ts = to_ts(_now(request))

    def unit(conn: sqlite3.Connection) -> None:
        handled = casework.handle_new_contact_alerts(conn, got.case.id, ts, v.actor)
        if handled:
            records.audit(conn, v.actor, "alert_handled", ts, got.case.person_id, got.case.id,
                          {"alerts": handled, "because": "replied"})

    await request.app.state.service.runtime.act(got.case.person_id, "replied", {}, v.actor,
                                                finish=unit)
    return back(got, "replied")


@staff
async def schedule_meeting(request: Request, v: Visitor) -> Response:
    """The first conversation or a meeting: when, how and where; reminders follow from it."""
    service: Service = request.app.state.service
    got = await access_or_error(request, v)
    if isinstance(got, Response):
        return got
    kind, mode = await form_value(request, "kind"), await form_value(request, "mode")
    place = await form_value(request, "place", 300)
    at = local_to_utc(await form_value(request, "at"), service.settings.timezone)
    now = _now(request)
    if kind not in KINDS or mode not in MODES or at is None:
        return error(request, v, 400, "Choose the kind, the mode and a date and time.")
    if at < now:
        return error(request, v, 400, "That time has already passed.")
    data: dict[str, object] = {"kind": kind, "mode": mode, "at": iso(at)}
    if place:
        data["place"] = place
    ts = to_ts(now)

    def unit(conn: sqlite3.Connection) -> None:
        mid = casework.add_meeting(conn, service.cipher, got.case.id, kind, mode, to_ts(at),
                                   place, v.actor, ts)
        records.audit(conn, v.actor, "meeting_recorded", ts, got.case.person_id, got.case.id,
                      {"meeting": mid, "kind": kind, "mode": mode})

    if (refused := await _act(request, v, got, "meeting_set", data, unit)) is not None:
        return refused
    return back(got, f"{kind}_scheduled", "meetings")


@staff
async def meeting_held(request: Request, v: Visitor) -> Response:
    """One appointment (named by its id) took place; only once its time has come."""
    got = await access_or_error(request, v)
    if isinstance(got, Response):
        return got
    raw = await form_value(request, "meeting", 12)
    meeting_id = int(raw) if raw.isdecimal() else 0
    ts = to_ts(_now(request))
    kind = await request.app.state.service.db.read(lambda c: c.execute(
        "SELECT kind FROM meetings WHERE id = ? AND case_id = ? AND held_at IS NULL"
        " AND missed_at IS NULL AND at <= ?", (meeting_id, got.case.id, ts)).fetchone())
    if kind is None:
        return error(request, v, 400, "That appointment is not one that can be marked held:"
                     " it is still to come, was already recorded, or is not on this case.",
                     f"/console/cases/{got.case.id}#meetings")

    def unit(conn: sqlite3.Connection) -> None:
        if casework.mark_meeting_held(conn, got.case.id, meeting_id, ts) is None:
            raise NothingToDo("That appointment was already recorded as held.")
        records.audit(conn, v.actor, "meeting_held", ts, got.case.person_id, got.case.id,
                      {"meeting": meeting_id})

    if (refused := await _act(request, v, got, "meeting_held", {"kind": kind["kind"]},
                              unit)) is not None:
        return refused
    return back(got, f"{kind['kind']}_held", "meetings")


@staff
async def other_party(request: Request, v: Visitor) -> Response:
    """The person who caused the harm, as far as the facilitators know them. The form carries
    the version it was read at: a save over a newer version is refused, showing both."""
    service: Service = request.app.state.service
    got = await access_or_error(request, v)
    if isinstance(got, Response):
        return got
    details = {"name": await form_value(request, "name", 200),
               "offender_manager": await form_value(request, "offender_manager", 300),
               "notes": await form_value(request, "notes", 2000)}
    accepted = await form_value(request, "accepted") == "yes"
    assessed = await form_value(request, "risk_assessed") == "yes"
    seen = await form_value(request, "version", 12)
    ts = to_ts(_now(request))

    def unit(conn: sqlite3.Connection) -> int | None:
        saved = casework.save_other_party(conn, service.cipher, got.case.id, details, accepted,
                                          assessed, v.actor, ts,
                                          int(seen) if seen.isdecimal() else -1)
        if saved is not None:
            records.audit(conn, v.actor, "other_party_saved", ts, got.case.person_id,
                          got.case.id, {"accepted_responsibility": accepted,
                                        "risk_assessed": assessed, "version": saved})
        return saved

    if await service.db.write(unit) is None:
        return await conflict.other_party(request, v, got, {
            **details, "accepted_responsibility": accepted, "risk_assessed": assessed})
    return back(got, "other_party_saved", "other-party")


@staff
async def outcome_item(request: Request, v: Visitor) -> Response:
    """One SMART item of the outcome agreement; a review date sets a reminder."""
    service: Service = request.app.state.service
    got = await access_or_error(request, v)
    if isinstance(got, Response):
        return got
    item = {"action": await form_value(request, "action", 500),
            "who": await form_value(request, "who", 200),
            "check": await form_value(request, "check", 500)}
    due_on = await form_value(request, "due_on", 10)
    review_raw = await form_value(request, "review_on", 10)
    review = local_to_utc(review_raw, service.settings.timezone) if review_raw else None
    if not item["action"] or not item["who"] or (review_raw and review is None):
        return error(request, v, 400, "Say what will be done and who does it.")
    ts = to_ts(_now(request))

    def unit(conn: sqlite3.Connection) -> int:
        item_id = casework.add_outcome_item(conn, service.cipher, got.case.id, item, due_on,
                                            to_ts(review) if review else None, v.actor, ts)
        records.audit(conn, v.actor, "outcome_item_added", ts, got.case.person_id,
                      got.case.id, {"item": item_id})
        return item_id

    item_id = await service.db.write(unit)
    review_data: dict[str, object] = {"at": iso(review), "item": item["action"],
                                      "ref": item_id} if review else {}
    if review and (refused := await _act(request, v, got, "review_set", review_data)):
        return refused
    return back(got, "outcome_added", "outcome")


@staff
async def outcome_done(request: Request, v: Visitor) -> Response:
    service: Service = request.app.state.service
    got = await access_or_error(request, v)
    if isinstance(got, Response):
        return got
    item_id = int(request.path_params["item_id"])
    ts = to_ts(_now(request))

    def unit(conn: sqlite3.Connection) -> bool:
        done = casework.complete_outcome_item(conn, got.case.id, item_id, ts)
        if done:  # its review reminder is no longer needed
            casework.cancel_review(conn, got.case.person_id, item_id, ts)
            records.audit(conn, v.actor, "outcome_item_done", ts, got.case.person_id,
                          got.case.id, {"item": item_id})
        return done

    if not await service.db.write(unit):
        return error(request, v, 404, "There is no such open item on this case.")
    return back(got, "outcome_done", "outcome")


@staff
async def checkins(request: Request, v: Visitor) -> Response:
    """Start check-ins on the given days after now, or stop them."""
    got = await access_or_error(request, v)
    if isinstance(got, Response):
        return got
    if await form_value(request, "do") == "stop":
        if (refused := await _act(request, v, got, "checkins_stop", {})) is not None:
            return refused
        return back(got, "checkins_stopped", "checkins")
    raw = (await form_value(request, "days", 100)).replace(",", " ").split()
    days = sorted({int(d) for d in raw if d.isdecimal() and 1 <= int(d) <= 90})
    if not days or len(days) > 10:
        return error(request, v, 400, "Give up to 10 days for check-ins, for example 2, 7.")
    if (refused := await _act(request, v, got, "checkins_start", {"days": days})) is not None:
        return refused
    return back(got, "checkins_started", "checkins")


@staff
async def close(request: Request, v: Visitor) -> Response:
    got = await access_or_error(request, v)
    if isinstance(got, Response):
        return got
    reason = await form_value(request, "reason")
    note = await form_value(request, "note", 1000)
    if reason not in CLOSE_REASONS:
        return error(request, v, 400, "Choose a reason for closing the case.")
    text = CLOSE_REASONS[reason] + (f": {note}" if note else "")
    ts = to_ts(_now(request))
    if (refused := await _act(request, v, got, "close_case", {"reason": text, "outcome": reason},
                              lambda c: casework.close_case(c, got.case.id, ts),
                              after=True)) is not None:
        return refused
    return back(got, "closed")


@staff
async def passphrase_reset(request: Request, v: Visitor) -> Response:
    """Clear a forgotten secret word, once the person's identity was checked another way."""
    got = await access_or_error(request, v)
    if isinstance(got, Response):
        return got
    if await form_value(request, "confirm") != "yes":
        return error(request, v, 400, "Tick the box to confirm you checked who they are.")
    if (refused := await _act(request, v, got, "passphrase_reset", {})) is not None:
        return refused
    return back(got, "secret_word_cleared")
