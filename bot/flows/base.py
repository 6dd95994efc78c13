"""The declarative pieces a conversation is written in: steps, where answers lead, flows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.types import Choice, Effect, Msg, Reply, State

END = "end"  # a step name that means: nothing more to ask in this flow
STAY = ""  # Go target: keep the current step, ask nothing
REASK = "."  # Go target: ask the current step's question again


ASKED = "|"  # between the question id and the choice in a button's data (`flow.step|choice`)


def tag(asked: str, payload: str) -> str:
    """A button's data: the choice and the question it answers, so a stale tap is known."""
    return f"{asked}{ASKED}{payload}" if asked else payload


def untag(data: str) -> tuple[str, str | None]:
    """(choice, question id or None when the button carried no question)."""
    asked, sep, payload = data.rpartition(ASKED)
    return (payload, asked) if sep else (data, None)


@dataclass(frozen=True)
class Answer:
    """What the person said at a step: their text, and the choice it matched (if any)."""

    text: str
    choice: str | None = None


@dataclass(frozen=True)
class Go:
    """Where an answer leads (`flow.step` or a step of this flow) and what happens on the way."""

    to: str
    state: State | None = None
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()


Say = Msg | Callable[[State], Msg] | None
Then = str | Mapping[str, str] | Callable[[State, Answer, datetime], Go]
OnEnter = Callable[[State, datetime], tuple[State, tuple[Effect, ...]]]


@dataclass(frozen=True)
class Step:
    """One thing the bot says, and (when `wait`) the answers it takes.

    `then` is a step name, a mapping of choice payload to step name, or a function for anything
    that needs the answer (on a step that does not wait, the function runs on arrival with an
    empty answer: a place other steps can lead to, e.g. through the secret-word gate). `save`
    stores the matched choice (or the text, for free text) in the state's answers under that
    name.
    """

    name: str
    say: Say = None
    choices: tuple[Choice, ...] = ()
    then: Then = END
    save: str = ""
    free_text: bool = False
    wait: bool = True
    on_enter: OnEnter | None = None
    # sensitive free text (names, places) is kept in the encrypted state, never in logs or audit
    max_length: int = 500
    # global intents (by name, e.g. "help") this step takes as an answer instead
    handles: frozenset[str] = frozenset()

    def prompt(self, state: State) -> tuple[Reply, ...]:
        if self.say is None:
            return ()
        msg = self.say(state) if callable(self.say) else self.say
        return (Reply(msg, self.choices),)


@dataclass(frozen=True)
class Flow:
    """A conversation: named steps, entered at `start`."""

    name: str
    steps: tuple[Step, ...]
    start: str = ""
    by_name: Mapping[str, Step] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {s.name: s for s in self.steps})
        if not self.start:
            object.__setattr__(self, "start", self.steps[0].name)
        if len(self.by_name) != len(self.steps):
            raise ValueError(f"flow {self.name}: duplicate step names")

    def step(self, name: str) -> Step:
        return self.by_name[name]
