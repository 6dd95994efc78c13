"""Each job kind's policy for coming due late, outside safe time, paused or withdrawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.flows import TIMERS
from bot.scheduler.kinds import KINDS, align, kind_of, when_due
from bot.types import State

DUE = datetime(2026, 3, 2, 10, tzinfo=UTC)  # 10:00 in London: inside every default window
ACTIVE = State(answers={"safe_times": "anytime"})


def test_every_timer_handler_has_a_registered_kind() -> None:
    assert set(TIMERS) <= set(KINDS)


def test_facilitator_alerts_fire_however_late() -> None:
    assert when_due("reply_overdue", DUE, {}, ACTIVE, DUE + timedelta(days=3)).action == "fire"
    assert when_due("review_due", DUE, {}, ACTIVE, DUE + timedelta(days=9)).action == "fire"


def test_reply_reminder_is_superseded_after_a_day_late() -> None:
    assert when_due("reply_reminder", DUE, {}, ACTIVE, DUE + timedelta(hours=23)).action == "fire"
    late = when_due("reply_reminder", DUE, {}, ACTIVE, DUE + timedelta(hours=25))
    assert (late.action, late.reason) == ("drop", "superseded")


def test_facilitator_alerts_ignore_the_persons_pause_and_safe_times() -> None:
    paused = State(status="paused")
    night = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert when_due("reply_overdue", DUE, {}, paused, night).action == "fire"


def test_a_checkin_due_in_safe_time_fires() -> None:
    assert when_due("checkin", DUE, {}, ACTIVE, DUE + timedelta(minutes=5)).action == "fire"


def test_a_late_checkin_moves_to_the_next_safe_time() -> None:
    night = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)  # more than a day late, at night
    decision = when_due("checkin", DUE, {}, ACTIVE, night)
    assert decision.action == "move"
    assert decision.at == datetime(2026, 3, 4, 8, tzinfo=UTC)


def test_a_checkin_waits_while_paused_and_is_dropped_once_withdrawn() -> None:
    assert when_due("checkin", DUE, {}, State(status="paused"), DUE).action == "hold"
    assert when_due("checkin", DUE, {}, State(status="withdrawn"), DUE).action == "drop"


def test_a_meeting_reminder_after_the_meeting_is_dropped() -> None:
    data = {"at": "2026-03-03T07:30:00Z"}  # the next safe time (08:00) is after the meeting
    night = datetime(2026, 3, 2, 22, tzinfo=UTC)
    decision = when_due("meeting_reminder", DUE, data, ACTIVE, night)
    assert (decision.action, decision.reason) == ("drop", "expired")
    assert when_due("meeting_reminder", DUE, {"at": "2026-03-03T10:00:00Z"}, ACTIVE,
                    DUE).action == "fire"


def test_align_puts_a_persons_job_in_their_safe_time() -> None:
    evenings = State(answers={"safe_times": "evenings"})
    assert align("checkin", evenings, DUE, DUE, {}) == datetime(2026, 3, 2, 17, tzinfo=UTC)
    assert align("review_due", evenings, DUE, DUE, {}) == DUE


def test_align_never_schedules_in_the_past_or_for_the_withdrawn() -> None:
    later = DUE + timedelta(hours=1)
    assert align("checkin", ACTIVE, DUE, later, {}) == later
    assert align("checkin", State(status="withdrawn"), DUE, DUE, {}) is None


def test_align_skips_a_reminder_that_could_only_come_after_the_meeting() -> None:
    night = datetime(2026, 3, 2, 22, tzinfo=UTC)
    assert align("meeting_reminder", ACTIVE, night, night, {"at": "2026-03-03T07:00:00Z"}) is None


def test_unknown_kinds_fire_at_once() -> None:
    assert kind_of("letter_sent_to_printer").to_person is False
    assert KINDS["letter_notice"].to_person is True
