"""The check-in conversation through the pure engine: scores, help, needs, stop and change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import engine
from bot.flows import checkin
from bot.i18n import format_when, render
from bot.types import (
    Alert,
    CancelJobs,
    FacilitatorAction,
    Message,
    Outcome,
    Schedule,
    State,
    Timer,
)

NOW = datetime(2026, 3, 4, 10, tzinfo=UTC)
BEFORE = State(flow="first_contact", step="done", case_open=True,
               answers={"name": "Sam", "checkins": {"days": [2, 7]}})


def due(state: State, n: int = 1, of: int = 2) -> Outcome:
    return engine.step(state, Timer("checkin", {"n": n, "of": of}), NOW)


def say(state: State, text: str) -> Outcome:
    return engine.step(state, Message(text, "sms"), NOW)


def texts(out: Outcome) -> list[str]:
    return [render(r.text, "en_GB") for r in out.replies]


def alerts(out: Outcome) -> list[Alert]:
    return [e for e in out.effects if isinstance(e, Alert)]


def test_a_checkin_asks_how_they_are_without_their_name_by_default() -> None:
    out = due(BEFORE)
    assert (out.state.flow, out.state.step) == ("checkin", "how")
    assert texts(out)[0].startswith("This is a check-in from our team.")
    assert "Sam" not in texts(out)[0]
    assert all(not r.immediate for r in out.replies)  # held for the person's safe time


def test_the_name_is_used_only_outside_discreet_mode() -> None:
    out = due(BEFORE.with_answer("discreet", False))
    assert texts(out)[0].startswith("Hello Sam. This is a check-in")


def test_a_good_score_asks_about_needs_and_alerts_nobody() -> None:
    out = say(due(BEFORE).state, "4")
    assert alerts(out) == []
    assert out.state.step == "need"
    assert out.state.answers["checkin_scores"] == [4]


def test_low_scores_alert_the_team_and_signpost_support() -> None:
    for answer, score in (("1", 1), ("low", 2)):
        out = say(due(BEFORE).state, answer)
        assert alerts(out) == [Alert("low_checkin", {"score": score, "checkin": 1})]
        said = texts(out)[0]
        assert "Victim Support: 0808 168 9111" in said and "Samaritans: 116 123" in said
        assert out.replies[0].immediate


def test_help_at_a_checkin_is_a_cry_for_help_and_its_answer() -> None:
    """A plain "help" may mean danger (issue 14): the safety reply and a risk alert first, and
    the check-in takes it as its answer too."""
    out = say(due(BEFORE).state, "help")
    assert [a.kind for a in alerts(out)] == ["risk", "low_checkin"]
    assert "999" in texts(out)[0] and "Victim Support" in texts(out)[0]
    assert out.state.step == "need"


def test_helpline_elsewhere_is_still_the_general_help() -> None:
    out = say(BEFORE, "helpline")
    assert alerts(out) == []
    assert texts(out)[0].startswith("Help: call us free")


def test_risk_words_still_win_inside_a_checkin() -> None:
    out = say(due(BEFORE).state, "I want to die")
    assert [a.kind for a in alerts(out)] == ["risk"]


def test_a_need_alerts_the_team_without_the_text_and_returns_quietly() -> None:
    asked = say(due(BEFORE).state, "3").state
    out = say(asked, "someone to talk to about Sam")
    assert alerts(out) == [Alert("checkin_need", {"checkin": 1})]
    assert texts(out) == ["Thank you. We have passed this on to our team.",
                          "Thank you for checking in. Reply CHANGE CHECK-INS to change when we "
                          "check in, or STOP CHECK-INS to stop them."]
    assert (out.state.flow, out.state.step) == ("first_contact", "done")
    assert "checkin_return" not in {k for k, v in out.state.answers.items() if v}


def test_the_last_checkin_says_so() -> None:
    asked = say(due(BEFORE, n=2, of=2).state, "5").state
    assert texts(say(asked, "no"))[-1].startswith("Thank you for checking in. That was the last")


def test_stop_checkins_works_from_anywhere() -> None:
    for state in (BEFORE, due(BEFORE).state):
        out = say(state, "Stop check-ins")
        assert CancelJobs(("checkin",)) in out.effects
        assert [a.kind for a in alerts(out)] == ["checkins_stopped"]
        assert (out.state.flow, out.state.step) == ("first_contact", "done")
        assert out.state.answers["checkins"] is None


def test_change_checkins_schedules_the_next_one() -> None:
    asked = say(BEFORE, "change check-ins").state
    assert (asked.flow, asked.step) == ("checkin", "change")
    out = say(asked, "2")  # "In a week"
    schedules = [e for e in out.effects if isinstance(e, Schedule)]
    assert schedules == [Schedule("checkin", NOW + timedelta(days=7), key="checkin_1",
                                  data={"n": 1, "of": 1, "day": 7})]
    assert texts(out) == ["Thank you. We will check in again in 7 days."]
    assert (out.state.flow, out.state.step) == ("first_contact", "done")


def test_meeting_held_plans_the_default_days_or_the_persons_own() -> None:
    held = FacilitatorAction("meeting_held", {}, "fac-1")
    for answers, days in (({}, [2, 7]), ({"checkin_days": [1, 3, 10]}, [1, 3, 10])):
        out = engine.step(State(answers=answers), held, NOW)
        planned = [e.due for e in out.effects if isinstance(e, Schedule)]
        assert planned == [NOW + timedelta(days=d) for d in days]


def test_dates_render_in_the_persons_timezone_and_language() -> None:
    out = engine.step(State(), FacilitatorAction(
        "meeting_set", {"kind": "meeting", "mode": "phone", "at": "2026-07-09T13:00:00Z"}), NOW)
    london = ZoneInfo("Europe/London")
    assert render(out.replies[0].text, "en_GB", london) == (
        "Your phone call with our team is booked for Thursday 9 July, 14:00. "
        "Reply PERSON if you need to change it.")
    winter = datetime(2026, 1, 8, 13, tzinfo=UTC)
    assert format_when(winter, "en_GB", london) == "Thursday 8 January, 13:00"
    assert format_when(datetime(2026, 7, 9, 13, tzinfo=UTC), "pl", london).endswith(
        "9 lipca 14:00")


def test_plan_replaces_what_was_planned() -> None:
    _, effects = checkin.plan(State(), [7, 2, 2], NOW)
    assert effects[0] == CancelJobs(("checkin",))
    assert [e.data["day"] for e in effects[1:] if isinstance(e, Schedule)] == [2, 7]
