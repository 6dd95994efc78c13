"""The first-contact conversation the peer bots hold: rjbot's own English texts and choices.

Each step is what the bot answers to the person's next message (the load generator sends
"hello", then the answers); the same number of replies a turn as rjbot gives, so one
generator measures them all the same way.
"""

from __future__ import annotations

Reply = tuple[str, tuple[str, ...]]  # text, choice labels

STEPS: tuple[tuple[Reply, ...], ...] = (
    (("Hello. This is an automated assistant, not a person. A person from our team will "
      "reply within 48 hours. First, 6 short questions. Reply MENU at any time for options, "
      "PRIVACY for how we use your data. Other languages: POLSKI, NEPALI, CYMRAEG, ROMANA", ()),
     ("Question 1 of 6: Is it safe for us to message you here? Our messages do not say what "
      "they are about, in case someone else sees them.",
      ("Yes, keep them like that", "Yes, plain words are fine", "No, it is not safe"))),
    (("Question 2 of 6: When is it safe for us to send you messages?",
      ("Any time, 8am to 9pm", "Mornings, 9am to 12", "Afternoons, 12 to 5pm",
       "Evenings, 5pm to 9pm")),),
    (("Question 3 of 6: If we phone and you do not answer, may we leave a short voicemail? "
      "It will not say what it is about.", ("Yes", "No")),),
    (("Question 4 of 6: What would you like us to call you? Any name is fine.",
      ("Rather not say",)),),
    (("Question 5 of 6: How would you like to have your first talk with our team?",
      ("Phone call", "Video call", "In person")),),
    (("Question 6 of 6: We can help when there is a link to the area we cover. Which is "
      "true? It is fine not to know.",
      ("I live there", "The other person lives there", "It happened there", "None of these")),),
    (("Thank you. 4 more questions can help us plan, but you can skip them. Would you like "
      "to answer them?", ("Yes", "No, skip them", "I am under 18")),),
    (("Thank you. A person from our team will contact you within 48 hours, in the way you "
      "chose. Reply MENU for options, PAUSE to pause messages, or WITHDRAW to stop.", ()),
     ("One more thing, only if someone else might read your messages: you can set a secret "
      "word. We will ask for it before showing anything private. Would you like one?",
      ("Yes, set one", "No thanks"))),
)


def as_sms(reply: Reply) -> str:
    """A reply as one text message: the choices numbered (Reply 1 ... 2 ...)."""
    text, labels = reply
    if not labels:
        return text
    return text + "\n" + "\n".join(f"Reply {n} for {label}" for n, label in
                                  enumerate(labels, 1))
