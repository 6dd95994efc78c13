"""Console password rules (issue 17): at least 12 characters, hard to guess, not a common one.

zxcvbn (offline: its dictionaries ship with it) estimates how many guesses a password takes;
a score of 3 or more ("safely unguessable") is required, and a password that is just one entry
of its common-passwords list, whatever the case or l33t spelling, is refused by name. The
account's email and name count as guessable words.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MIN_SCORE = 3
CHECKED = 100  # zxcvbn's time grows with the length; beyond this a password is long enough


def problem(password: str, *context: str) -> str | None:
    """Why this password is refused, in words for the person choosing it; None if it is good."""
    if len(password) < MIN_LENGTH:
        return f"the password needs at least {MIN_LENGTH} characters"
    words = [*context] + [w for c in context for w in c.replace("@", " ").replace(".", " ").split()]
    result = zxcvbn(password[:CHECKED], user_inputs=words)
    sequence = result["sequence"]
    if len(sequence) == 1 and sequence[0].get("dictionary_name") == "passwords":
        return "that is a common password: choose another"
    if result["score"] < MIN_SCORE:
        return ("that password is too easy to guess: use four or five words that do not go"
                " together, or a password manager")
    return None
