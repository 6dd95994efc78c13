"""The end of first contact: optional questions that help plan (only if the person wants
them), then the case, the 48-hour promise, and plain notes on what the answers mean.

Eligibility is explained, never used to turn someone away: under 18 goes to the Youth Justice
Service, an open court case means "on hold", no link to the area gets a pointer to another
service. For domestic abuse, sexual violence and non-recent child sexual abuse the bot never
proposes RJ: the case is flagged for a senior facilitator and the person leads.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.flows import passphrase
from bot.flows.base import Answer, Flow, Go, Step
from bot.flows.case import flags_for, mark_finished, open_case, sensitive
from bot.flows.common import DONT_KNOW, FINE, NO, SKIP, YES, N_plural, Words, counted
from bot.i18n import N_
from bot.types import Alert, Audit, Choice, Msg, Reply, Schedule, State, Timer

OPTIONAL = 4
IDLE = "menu.idle"

SKIP_ALL = Choice("no", N_("No, skip them"), N_("no|n|skip|no thanks"))
UNDER_18 = Choice("no", N_("No, under 18"), N_("no|n|under 18"))
# the optional age question of first contact, offered beside the optional questions
I_AM_UNDER_18 = Choice("under_18", N_("I am under 18"), N_("under 18|i am under 18|im under 18"))

PROPERTY = Choice("property", N_("Theft or damage"), N_("theft|damage"))
VIOLENCE = Choice("violence", N_("Violence or threats"), N_("violence|threats"))
DOMESTIC = Choice("domestic", N_("Abuse by a partner or family"), N_("partner|family"))
SEXUAL = Choice("sexual", N_("Sexual harm"), N_("sexual"))
CHILD_PAST = Choice("child_past", N_("Abuse as a child, in the past"), N_("as a child"))
OTHER = Choice("other", N_("Something else"), N_("something else|other"))

OFFER = N_plural(
    "Thank you. {n} more question can help us plan, but you can skip it. Would you like to "
    "answer it?",
    "Thank you. {n} more questions can help us plan, but you can skip them. Would you like to "
    "answer them?",
)

PROMISE = Words(
    N_(
        "Thank you. A person from our team will contact you within 48 hours, in the way you "
        "chose. Reply MENU for options, PAUSE to pause messages, or WITHDRAW to stop."
    ),
    young=N_(
        "Thank you. Someone from our team will get in touch within 48 hours. Reply MENU for "
        "options, PAUSE to take a break, or WITHDRAW to stop."
    ),
    named=N_(
        "Thank you, {name}. A person from our team will contact you within 48 hours, in the way "
        "you chose. Reply MENU for options, PAUSE to pause messages, or WITHDRAW to stop."
    ),
)
NOT_SAFE_END = Msg(
    N_(
        "Thank you for telling us. We will not send you any more messages here. When it is "
        "safe, call us free on 0800 783 1583. If you are in danger, call 999."
    )
)
SENIOR = Msg(
    N_(
        "Thank you for telling us. A senior member of our team will contact you. Nothing will "
        "happen unless you ask for it."
    )
)
YOUTH = Words(
    N_(
        "As the other person is under 18, a different local team for young people usually "
        "helps. A person from our team will explain and can put you in touch."
    ),
    plain=N_(
        "As the other person is under 18, the Youth Justice Service usually helps with this. "
        "A person from our team will explain and can put you in touch."
    ),
)
ON_HOLD = Words(
    N_(
        "While the legal case is still going on, we may need to wait until it ends. That is "
        "not a no: your case will be on hold and we will keep in touch."
    ),
    plain=N_(
        "While the court case is still going on, we may need to wait until it ends. That is "
        "not a no: your case will be on hold and we will keep in touch."
    ),
)
OUT_OF_AREA = Words(
    N_(
        "We can only help when there is a link to our area. That is not your fault. A person "
        "from our team will help you find a service near you."
    ),
    plain=N_(
        "We can only help with a link to Kent or Medway. The Restorative Justice Council can "
        "help you find a service near you: restorativejustice.org.uk"
    ),
)
COURT_END = Words(
    N_("Roughly when do you think the legal case will end? A guess is fine: our team will look "
       "at your case again then."),
    plain=N_("Roughly when do you think the court case will end? A guess is fine: our team will "
             "look at your case again then."),
)
WITHIN_MONTH = Choice("month", N_("Within a month"), N_("within a month|a month|month|soon"))
MONTHS_3 = Choice("months_3", N_("In 1 to 3 months"), N_("1 to 3 months|1 to 3|1-3"))
MONTHS_6 = Choice("months_6", N_("In 3 to 6 months"), N_("3 to 6 months|3 to 6|3-6"))
LONGER = Choice("longer", N_("Longer"), N_("longer|more than 6 months|a long time"))
# when the team is reminded to look at a case on hold for a court case (a team alert)
COURT_CHECK = "court_check"
COURT_CHECK_DAYS = {"month": 30, "months_3": 90, "months_6": 180}
COURT_CHECK_OTHERWISE = 180  # longer, or they do not know: look again in about 6 months
OFFER_INFO = Msg(N_("While you wait, would you like to read how it works? It is 6 short messages."))
NOT_NOW = Choice("not_now", N_("Not now"), N_("not now|later|no|n"))


def _notes(state: State) -> tuple[Reply, ...]:
    """What the answers mean for the person, said plainly and without refusing anyone."""
    flags = flags_for(state)
    notes: list[Msg] = []
    if "senior" in flags and not state.answers.get("young"):  # a young person was told
        notes.append(SENIOR)
    if "youth_justice" in flags:
        notes.append(YOUTH(state))
    if "on_hold" in flags:
        notes.append(ON_HOLD(state))
    if "out_of_area" in flags:
        notes.append(OUT_OF_AREA(state))
    return tuple(Reply(m) for m in notes)


def after_promise(state: State) -> str:
    """After the promise: offer to explain, unless that would be proposing RJ or unwelcome."""
    if state.answers.get("go_ahead"):
        return "consent.start"
    if sensitive(state) or {"out_of_area", "youth_justice"} & set(flags_for(state)):
        return IDLE
    return "triage.offer_info"


def finish(state: State, now: datetime) -> Go:
    """Open the case (or update it), keep the 48-hour promise, and explain what comes next."""
    state, effects = open_case(mark_finished(state), now)
    if state.answers.get("safe") == "no":
        return Go(IDLE, state=state, replies=(Reply(NOT_SAFE_END),), effects=effects)
    replies = (Reply(PROMISE(state)), *_notes(state))
    # the secret word is offered once, before anything else; it then leads to after_promise
    then = after_promise(state) if passphrase.is_set(state) else "passphrase.offer"
    return Go(then, state=state, replies=replies, effects=effects)


def _court_end(state: State, answer: Answer, now: datetime) -> Go:
    """Remind the team when the court case should have ended (the person is not messaged)."""
    expected = answer.choice or "dont_know"
    due = now + timedelta(days=COURT_CHECK_DAYS.get(expected, COURT_CHECK_OTHERWISE))
    job = Schedule(COURT_CHECK, due, key=COURT_CHECK, data={"expected": expected})
    return Go("harm", effects=(job, Audit("court_check_set", {"expected": expected})))


def court_check(state: State, timer: Timer, now: datetime) -> Go:
    """The court case should have ended by now: the team looks at the case on hold again."""
    if not state.case_open:
        return Go("")
    expected = str(timer.data.get("expected", ""))
    return Go("", effects=(Alert(COURT_CHECK, {"expected": expected}),))


def _then_finish(state: State, answer: Answer, now: datetime) -> Go:
    return finish(state, now)


def _known(state: State, answer: Answer, now: datetime) -> Go:
    return Go("adult" if answer.choice == "yes" else "court")


def _offer(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "under_18":  # the optional age question, as a choice of its own
        from bot.flows import young  # imported here: young opens the case through case.py

        return young.recognised(state, "", now)
    return Go("known") if answer.choice == "yes" else finish(state, now)


FLOW = Flow(
    "triage",
    (
        Step("offer", say=counted(OFFER, OPTIONAL), choices=(YES, SKIP_ALL, I_AM_UNDER_18),
             then=_offer),
        Step(
            "known",
            say=Msg(N_("Extra question 1 of 4: Do you know who the person responsible is?")),
            choices=(YES, NO, SKIP),
            save="known",
            then=_known,
        ),
        Step(
            "adult",
            say=Msg(N_("Extra question 2 of 4: Are they 18 or over?")),
            choices=(YES, UNDER_18, DONT_KNOW, SKIP),
            save="adult",
            then="court",
        ),
        Step(
            "court",
            say=Words(
                N_("Extra question 3 of 4: Is there a legal case about it that has not ended yet?"),
                plain=N_(
                    "Extra question 3 of 4: Is there a court case about it that has not ended yet?"
                ),
            ),
            choices=(YES, NO, DONT_KNOW, SKIP),
            save="court_open",
            then={"yes": "court_end", "*": "harm"},
        ),
        Step(
            "court_end",
            say=COURT_END,
            choices=(WITHIN_MONTH, MONTHS_3, MONTHS_6, LONGER, DONT_KNOW),
            save="court_end",
            then=_court_end,
        ),
        Step(
            "harm",
            say=Msg(N_("Extra question 4 of 4: What kind of harm was it? No details needed.")),
            choices=(PROPERTY, VIOLENCE, DOMESTIC, SEXUAL, CHILD_PAST, OTHER, SKIP),
            save="harm",
            then=_then_finish,
        ),
        Step(
            "offer_info",
            say=OFFER_INFO,
            choices=(YES, NOT_NOW),
            then={"yes": "info.start", "*": "fine"},
        ),
        Step("fine", say=FINE, wait=False, then=IDLE),
        # where a young person's answers end: straight to the promise, nothing about harm
        Step("young_end", wait=False, then=_then_finish),
    ),
)
