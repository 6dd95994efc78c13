"""Translations (gettext catalogs compiled by babel) and text normalisation for matching.

Loading a catalog reads a file once per locale; after that every call is a pure lookup, so
the engine may call these functions without doing I/O per event.
"""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_datetime, format_time, match_skeleton
from babel.support import NullTranslations, Translations

from bot.types import Msg

DEFAULT_LOCALE = "en_GB"
LOCALES: tuple[str, ...] = ("en_GB", "pl", "ne", "cy", "ro")
# The word a person sends to switch to each language (bot/flows/settings.py understands it):
# the first message offers every other shipped language by it, in capitals, untranslated.
COMMAND_NAMES = {"en_GB": "ENGLISH", "pl": "POLSKI", "ro": "ROMANA", "ne": "NEPALI",
                 "cy": "CYMRAEG"}
# An installed wheel carries its compiled catalogs inside the package (setup.py puts them
# there); a checkout has them beside the .po files (`scripts/i18n.sh compile`).
_PACKAGE_LOCALES = Path(__file__).resolve().parent / "locales"
_CHECKOUT_LOCALES = Path(__file__).resolve().parent.parent / "locales"


def _locale_dir() -> Path:
    override = os.environ.get("RJBOT_LOCALE_DIR", "")
    if override:
        return Path(override)
    return _PACKAGE_LOCALES if _PACKAGE_LOCALES.is_dir() else _CHECKOUT_LOCALES


LOCALE_DIR = _locale_dir()


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, when rendered for a person."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Mark a msgid with its plural for extraction; Msg(key, {"n": ...}, plural=...) renders it."""
    return singular, plural


class MissingCatalog(RuntimeError):
    """A shipped locale has no compiled catalog: run `scripts/i18n.sh compile`."""


@cache
def translations(locale: str) -> NullTranslations:
    if locale == DEFAULT_LOCALE and not (LOCALE_DIR / locale).exists():
        return NullTranslations()
    mo = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.mo"
    if not mo.exists():
        raise MissingCatalog(f"no compiled catalog at {mo}: in a checkout, run"
                             " `scripts/i18n.sh compile`")
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def gettext(locale: str, key: str) -> str:
    return translations(locale).gettext(key)


_SHORT_WEEKDAY = re.compile(r"(?<!E)E{1,3}(?!E)")


@cache
def _day_pattern(locale: str) -> str:
    """The locale's pattern for a weekday, day and month, the weekday written in full (CLDR's
    closest skeleton abbreviates it in many languages: "śr." for "środa", "Mer" for "Dydd
    Mercher")."""
    found = Locale.parse(locale)
    skeleton = match_skeleton("MMMMEEEEd", found.datetime_skeletons) or "MMMMEEEEd"
    return _SHORT_WEEKDAY.sub("EEEE", str(found.datetime_skeletons[skeleton].pattern))


def format_when(when: datetime, locale: str, tz: tzinfo | None = None) -> str:
    """A day and time as people say it in `locale` ("Thursday 5 March, 14:00"), in `tz`."""
    day = format_datetime(when, _day_pattern(locale), tzinfo=tz, locale=locale)
    time = format_time(when, "short", tzinfo=tz, locale=locale)
    return str(Locale.parse(locale).datetime_formats["long"]).format(time, day)


def _param(value: Any, locale: str, tz: tzinfo | None) -> Any:
    if isinstance(value, Msg):
        return render(value, locale, tz)
    if isinstance(value, datetime):
        return format_when(value, locale, tz)
    return value


def language_name(locale: str) -> str:
    """A language as staff see it: its own name, then its English one ("Cymraeg (Welsh)")."""
    try:
        found = Locale.parse(locale)
    except (ValueError, TypeError):
        return locale
    own, english = found.get_language_name(found), found.get_language_name("en")
    if not own or not english:
        return locale
    own = own[:1].upper() + own[1:]
    return english if own == english else f"{own} ({english})"


# Service facts some texts name, filled at render time like {languages}: how long personal
# content is kept (the retention settings; bot.service configures them at start-up).
FACTS: dict[str, Any] = {"enquiry_days": 90, "closed_days": 730}


def configure_facts(**facts: Any) -> None:
    FACTS.update(facts)


def other_languages(locale: str) -> str:
    """The words that switch to each other shipped language: "POLSKI, CYMRAEG"."""
    return ", ".join(COMMAND_NAMES[x] for x in LOCALES if x != locale)


def render(msg: Msg, locale: str, tz: tzinfo | None = None) -> str:
    """Translate a message and fill its parameters (messages, datetimes shown in `tz`);
    `{languages}` is filled with the other shipped languages' words (`other_languages`)."""
    params = {k: _param(v, locale, tz) for k, v in msg.params.items()}
    if msg.plural:
        text = translations(locale).ngettext(msg.key, msg.plural, int(params["n"]))
    else:
        text = translations(locale).gettext(msg.key)
    if "{languages}" in text:
        params.setdefault("languages", other_languages(locale))
    for name, value in FACTS.items():
        if "{" + name + "}" in text:
            params.setdefault(name, value)
    return text.format(**params) if params else text


# Letters that NFKD does not split into base letter + accent.
_FOLD = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe"})
# Punctuation and symbols go; the vowel signs of Devanagari are letters' parts, not punctuation
# (the danda, U+0964/5, is punctuation).
_PUNCT = re.compile(r"[^\w\s\u0900-\u0963\u0966-\u097f]", re.UNICODE)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of `text` (punctuation kept): "Nóż" -> "noz"."""
    if text.isascii():  # no letter to fold, none that NFKD splits, no accent: the same result
        return text.casefold()
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def normalise(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form used to match words people type."""
    # str.split's whitespace is the regex's \s: the same as collapsing runs and stripping
    return " ".join(_PUNCT.sub(" ", fold(text)).split())


@cache
def keywords(key: str, locale: str) -> frozenset[str]:
    """The normalised alternatives of a `word|other word` msgid, in `locale` and in English."""
    if not key:
        return frozenset()
    words = set(key.split("|")) | set(gettext(locale, key).split("|"))
    return frozenset(w for w in (normalise(x) for x in words) if w)
