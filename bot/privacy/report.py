"""The readable page of an access request: the person's own information in plain words.

Not a dump of the JSON: their messages as a conversation, their answers, what they agreed to,
their letters, their case and who did what, each with dates written out, and a list of what
was left out because it is about other people. Everything is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

STYLE = ("body{font-family:sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;"
         "line-height:1.5}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;"
         "padding:.3rem;text-align:left;vertical-align:top}.you{background:#eef6ff}"
         "pre{white-space:pre-wrap;font-family:inherit}")
CHANNELS = {"sms": "Text message", "telegram": "Telegram", "whatsapp": "WhatsApp"}
Row = dict[str, Any]


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def when(ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%-d %B %Y, %H:%M (UTC)")


def _words(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _table(head: tuple[str, ...], rows: list[tuple[Any, ...]], empty: str) -> str:
    if not rows:
        return f"<p>{_e(empty)}</p>"
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{_e(_words(k))}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _e(value)


def _messages(data: Row) -> str:
    rows = [(_e(when(m["at"])), "You" if m["direction"] == "in" else "Us",
             f"<pre>{_e(m['text'])}</pre>") for m in data.get("messages", [])]
    return _table(("When", "From", "Message"), rows, "No messages are held.")


def _contact(data: Row) -> str:
    rows = [(_e(CHANNELS.get(a["channel"], a["channel"])), _e(a["address"]),
             _e(when(a["created_at"]))) for a in data.get("addresses", [])]
    return _table(("How", "Number or account", "Since"), rows, "None held.")


def _answers(data: Row) -> str:
    answers = (data.get("conversation") or {}).get("answers") or {}
    rows = [(_e(_words(k)), _plain(v)) for k, v in answers.items()]
    return _table(("Question", "Your answer"), rows, "No answers are held.")


def _consents(data: Row) -> str:
    rows = [(_e(when(c["agreed_at"])), _e(c["scopes"].replace(",", ", ")),
             _e(when(c["withdrawn_at"]) or "no")) for c in data.get("consents", [])]
    return _table(("Agreed on", "To", "Withdrawn"), rows, "You have not agreed to anything yet.")


def _letters(data: Row) -> str:
    parts = []
    for letter in data.get("letters", []):
        to = "To the other person" if letter["direction"] == "to_other" else "To you"
        texts = "".join(f"<p><b>Version {v['number']}</b> (by {_e(v['by'])}, {_e(v['status'])})"
                        f"</p><pre>{_e(v['text'])}</pre>" for v in letter.get("versions", []))
        parts.append(f"<h3>{to}, started {_e(when(letter['created_at']))}</h3>"
                     f"<p>Status: {_e(_words(letter['status']))}.</p>{texts}")
    return "".join(parts) or "<p>No letters.</p>"


def _case(data: Row) -> str:
    rows = [(_e(when(c["created_at"])), _e(_words(c["stage"])), _e(when(c["closed_at"])),
             _plain(c.get("details") or {})) for c in data.get("cases", [])]
    return _table(("Opened", "Stage", "Closed", "What we noted"), rows, "No case is open.")


def _simple(key: str, head: tuple[str, ...], cols: tuple[str, ...],
            empty: str) -> Callable[[Row], str]:
    def render(data: Row) -> str:
        rows = [tuple(_e(when(r[c])) if c.endswith("_at") or c in ("at",) else _plain(r[c])
                      for c in cols) for r in data.get(key, [])]
        return _table(head, rows, empty)
    return render


SECTIONS: tuple[tuple[str, Callable[[Row], str]], ...] = (
    ("How we contact you", _contact),
    ("Your messages", _messages),
    ("Your answers", _answers),
    ("What you agreed to", _consents),
    ("Your letters", _letters),
    ("Your case", _case),
    ("Meetings", _simple("meetings", ("When", "What", "How", "Where"),
                         ("at", "kind", "mode", "place"), "No meetings.")),
    ("Notes our team made", _simple("notes", ("When", "How", "With", "What", "Agreed"),
                                    ("at", "how", "with", "what", "agreed"), "No notes.")),
    ("What was agreed", _simple("outcome_items", ("What", "By"), ("item", "due_on"),
                                "Nothing yet.")),
    ("How you were referred to us", _simple("referrals", ("When", "By", "Details"),
                                            ("created_at", "org_type", "details"),
                                            "You contacted us yourself.")),
    ("Things the assistant will send", _simple("scheduled", ("When", "What", "Status"),
                                               ("due_at", "kind", "status"), "Nothing.")),
    ("Who did what with your information", _simple("audit", ("When", "Who", "What"),
                                                   ("at", "actor", "action"), "Nothing.")),
)


def _script(data: Row) -> str:
    script = data.get("scripts") or {}
    parts = [f"<p><b>Version {v['version']}</b>, {_e(when(v['shared_at']))}</p>"
             f"<pre>{_e(v['text'])}</pre>" for v in script.get("versions", [])]
    parts += [f"<p>You asked for a change to version {r['version']} "
              f"({_e(when(r['at']))}):</p><pre>{_e(r['text'])}</pre>"
              for r in script.get("requests", [])]
    return "".join(parts)


def render(data: Row, generated: datetime) -> str:
    body = "".join(f"<h2>{_e(title)}</h2>{fn(data)}" for title, fn in SECTIONS)
    script = _script(data)
    if script:
        body += f"<h2>Your meeting script</h2>{script}"
    left = "".join(f"<li>{_e(item)}</li>" for item in data.get("left_out", []))
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Information we hold about you</title><style>{STYLE}</style></head><body>"
        "<h1>Information we hold about you</h1>"
        f"<p>Made on {_e(generated.strftime('%-d %B %Y, %H:%M (UTC)'))}. Times are in UTC.</p>"
        + (f"<p>Some things are left out because they are about other people:</p><ul>{left}"
           "</ul>" if left else "")
        + body + "</body></html>"
    )
