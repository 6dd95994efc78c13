"""Drive the pure engine in tests: send texts, collect what came out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot import engine
from bot.i18n import render
from bot.types import Effect, Message, Outcome, State

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@dataclass
class Chat:
    """One person's conversation through engine.step, with a clock that moves a minute a turn."""

    channel: str = "sms"
    state: State = field(default_factory=State)
    now: datetime = T0
    last: Outcome | None = None
    effects: list[Effect] = field(default_factory=list)

    def send(self, *texts: str) -> Outcome:
        for text in texts:
            self.now += timedelta(minutes=1)
            self.last = engine.step(self.state, Message(text, self.channel), self.now)  # type: ignore[arg-type]
            self.state = self.last.state
            self.effects.extend(self.last.effects)
        assert self.last is not None
        return self.last

    def texts(self) -> list[str]:
        assert self.last is not None
        return [render(r.text, self.state.locale) for r in self.last.replies]

    def kinds(self, cls: type) -> list[Effect]:
        assert self.last is not None
        return [e for e in self.last.effects if isinstance(e, cls)]


# answers that walk first contact to the end with the optional questions
TO_END = ["hello", "1", "2", "2", "Sam", "3", "the library", "1", "1", "1", "1", "2", "2"]
# the shortest way through first contact to an open case (no optional questions)
OPEN_CASE = ["hello", "1", "1", "1", "Robin", "1", "2", "2"]
OPEN_CASE_REPLIES = 10  # intro + 6 questions + the optional offer + thanks + info offer
