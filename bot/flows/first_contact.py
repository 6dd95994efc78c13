"""First contact: say what this is, then 6 questions, one per message, about how we may contact
the person. Nothing about what happened is required. The optional questions and the ending
(case, 48-hour clock, eligibility notes) are in bot/flows/triage.py.
"""

from __future__ import annotations

from datetime import datetime

from bot.flows.base import Answer, Flow, Go, Step
from bot.flows.common import DONT_KNOW, NO, YES, N_plural, Words, counted
from bot.flows.triage import finish
from bot.i18n import N_
from bot.types import Choice, Msg, State

QUESTIONS = 6

SAFE_DISCREET = Choice("discreet", N_("Yes, keep them like that"), N_("yes|y|ok|okay|sure"))
SAFE_PLAIN = Choice("plain", N_("Yes, plain words are fine"), N_("plain|plain words"))
NOT_SAFE = Choice("no", N_("No, it is not safe"), N_("no|n|not safe"))

# payloads are the safe-contact windows of bot/scheduler/windows.py
ANYTIME = Choice("anytime", N_("Any time, 8am to 9pm"), N_("any time|anytime"))
MORNINGS = Choice("mornings", N_("Mornings, 9am to 12"), N_("morning|mornings"))
AFTERNOONS = Choice("afternoons", N_("Afternoons, 12 to 5pm"), N_("afternoon|afternoons"))
EVENINGS = Choice("evenings", N_("Evenings, 5pm to 9pm"), N_("evening|evenings"))

NO_NAME = Choice("skip", N_("Rather not say"), N_("skip|rather not say|no name"))
PHONE = Choice("phone", N_("Phone call"), N_("phone|call|phone call"))
VIDEO = Choice("video", N_("Video call"), N_("video|video call"))
IN_PERSON = Choice("in_person", N_("In person"), N_("in person|meet|face to face"))
LATER = Choice("later", N_("Decide later"), N_("later|decide later|not sure"))

I_LIVE = Choice("mine", N_("I live there"), N_("i live there|me"))
THEY_LIVE = Choice("theirs", N_("The other person lives there"), N_("they live there|them"))
HAPPENED = Choice("happened", N_("It happened there"), N_("it happened there"))
NONE = Choice("none", N_("None of these"), N_("none|none of these"))
AREA_CHOICES = (I_LIVE, THEY_LIVE, HAPPENED, NONE)


def _safe(state: State, answer: Answer, now: datetime) -> Go:
    """Not safe: stop messaging at once, give the freephone number, still tell the team."""
    if answer.choice == "no":
        state = state.with_answer("safe", "no")
        return finish(state, now)
    state = state.with_answer("safe", "yes").with_answer("discreet", answer.choice != "plain")
    return Go("when", state=state)


def _name(state: State, answer: Answer, now: datetime) -> Go:
    name = "" if answer.choice == "skip" else answer.text.strip()
    return Go("mode", state=state.with_answer("name", name))


def _place(state: State, answer: Answer, now: datetime) -> Go:
    place = "" if answer.choice == "later" else answer.text.strip()
    return Go("area", state=state.with_answer("place", place))


def _area(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "none" or state.answers.get("young"):  # never ask a child about harm
        return finish(state, now)
    return Go("triage.offer")


# Translators: {languages} lists the word for each other language ("POLSKI, CYMRAEG"); keep
# "{languages}" as it is: the list follows the languages the service ships.
INTRO = N_plural(
    "Hello. This is an automated assistant, not a person. A person from our team will reply "
    "within 48 hours. First, {n} short question. Reply MENU at any time for options, PRIVACY "
    "for how we use your data. Other languages: {languages}",
    "Hello. This is an automated assistant, not a person. A person from our team will reply "
    "within 48 hours. First, {n} short questions. Reply MENU at any time for options, PRIVACY "
    "for how we use your data. Other languages: {languages}",
)

FLOW = Flow(
    "first_contact",
    (
        Step("start", say=counted(INTRO, QUESTIONS), wait=False, then="safe"),
        Step(
            "safe",
            say=Msg(
                N_(
                    "Question 1 of 6: Is it safe for us to message you here? Our messages do "
                    "not say what they are about, in case someone else sees them."
                )
            ),
            choices=(SAFE_DISCREET, SAFE_PLAIN, NOT_SAFE),
            then=_safe,
        ),
        Step(
            "when",
            say=Words(N_("Question 2 of 6: When is it safe for us to send you messages?"),
                      young=N_("Question 2 of 6: When is a safe time for us to text you?")),
            choices=(ANYTIME, MORNINGS, AFTERNOONS, EVENINGS),
            save="safe_times",
            then="voicemail",
        ),
        Step(
            "voicemail",
            say=Words(
                N_(
                    "Question 3 of 6: If we phone and you do not answer, may we leave a short "
                    "voicemail? It will not say what it is about."
                ),
                young=N_("Question 3 of 6: If we call and you miss it, can we leave a short "
                         "voice message? It will not say what it is about."),
            ),
            choices=(YES, NO),
            save="voicemail",
            then="name",
        ),
        Step(
            "name",
            say=Words(
                N_("Question 4 of 6: What would you like us to call you? Any name is fine."),
                young=N_("Question 4 of 6: What name should we use for you? Any name is OK."),
            ),
            choices=(NO_NAME,),
            free_text=True,
            max_length=60,
            then=_name,
        ),
        Step(
            "mode",
            say=Words(
                N_("Question 5 of 6: How would you like to have your first talk with our team?"),
                young=N_("Question 5 of 6: How would you like to talk to us the first time?"),
            ),
            choices=(PHONE, VIDEO, IN_PERSON),
            save="first_conversation",
            then={"in_person": "place", "*": "area"},
        ),
        Step(
            "place",
            say=Msg(
                N_(
                    "Where would you like to meet? Pick a place where you feel at ease, like a "
                    "cafe or your home. Please type it."
                )
            ),
            choices=(LATER,),
            free_text=True,
            max_length=120,
            then=_place,
        ),
        Step(
            "area",
            say=Words(
                N_(
                    "Question 6 of 6: We can help when there is a link to the area we cover. "
                    "Which is true? It is fine not to know."
                ),
                plain=N_(
                    "Question 6 of 6: We help people with a link to Kent or Medway. Which is "
                    "true? It is fine not to know."
                ),
                young=N_("Question 6 of 6: We help people who have a link to our area. Which "
                         "is true? It is OK not to know."),
            ),
            choices=(*AREA_CHOICES, DONT_KNOW),
            save="area",
            then=_area,
        ),
    ),
)
