"""Safe times: local wall-clock windows, right on both sides of the clock changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.scheduler import windows
from bot.scheduler.windows import WINDOWS, deliver_at, in_window
from bot.types import State


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def person(safe_times: str = "anytime", **answers: object) -> State:
    return State(answers={"safe_times": safe_times, **answers})


@pytest.fixture(autouse=True)
def london() -> Iterator[None]:
    windows.configure("Europe/London")
    yield
    windows.configure("Europe/London")


def test_inside_the_window_goes_now() -> None:
    assert deliver_at(person(), utc(2026, 3, 2, 10)) == utc(2026, 3, 2, 10)


def test_before_the_window_waits_for_it_to_open() -> None:
    assert deliver_at(person("evenings"), utc(2026, 3, 2, 10)) == utc(2026, 3, 2, 17)


def test_after_the_window_waits_for_the_next_day() -> None:
    assert deliver_at(person("mornings"), utc(2026, 3, 2, 12)) == utc(2026, 3, 3, 9)


def test_window_end_is_exclusive() -> None:
    assert in_window(person("mornings"), utc(2026, 3, 2, 11, 59))
    assert not in_window(person("mornings"), utc(2026, 3, 2, 12))


def test_unknown_window_name_falls_back_to_anytime() -> None:
    assert deliver_at(person("midnight"), utc(2026, 3, 2, 22)) == utc(2026, 3, 3, 8)


# The last Sunday of March 2026 is the 29th: at 01:00 UTC London goes from GMT to BST.
def test_spring_saturday_night_to_sunday_morning_bst() -> None:
    assert deliver_at(person("mornings"), utc(2026, 3, 28, 22)) == utc(2026, 3, 29, 8)


def test_spring_before_the_change_opens_at_local_eight_bst() -> None:
    assert deliver_at(person(), utc(2026, 3, 29, 0, 30)) == utc(2026, 3, 29, 7)


def test_spring_evening_window_shifts_an_hour_in_utc() -> None:
    assert in_window(person("evenings"), utc(2026, 3, 28, 20, 30))  # 20:30 GMT
    assert not in_window(person("evenings"), utc(2026, 3, 29, 20, 30))  # 21:30 BST


# The last Sunday of October 2026 is the 25th: at 01:00 UTC London goes from BST to GMT.
def test_autumn_saturday_night_to_sunday_morning_gmt() -> None:
    assert deliver_at(person("mornings"), utc(2026, 10, 24, 22)) == utc(2026, 10, 25, 9)


def test_autumn_early_morning_waits_until_eight_gmt() -> None:
    assert in_window(person(), utc(2026, 10, 24, 7, 30))  # 08:30 BST on Saturday
    assert deliver_at(person(), utc(2026, 10, 25, 7, 30)) == utc(2026, 10, 25, 8)


def test_service_timezone_is_configurable() -> None:
    windows.configure("America/New_York")
    assert deliver_at(person("mornings"), utc(2026, 3, 2, 12)) == utc(2026, 3, 2, 14)


def test_a_person_may_have_their_own_timezone() -> None:
    state = person("mornings", timezone="Europe/Warsaw")
    assert deliver_at(state, utc(2026, 3, 2, 7)) == utc(2026, 3, 2, 8)


@settings(max_examples=300, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                      timezones=st.just(UTC)),
    name=st.sampled_from(sorted(WINDOWS)),
)
def test_deliver_at_is_the_earliest_safe_moment(when: datetime, name: str) -> None:
    state = person(name)
    at = deliver_at(state, when)
    assert at >= when
    assert in_window(state, at)
    if at > when:  # nothing safe in between: `at` is a window's opening hour
        assert not in_window(state, when)
        assert not in_window(state, at - timedelta(seconds=1))
