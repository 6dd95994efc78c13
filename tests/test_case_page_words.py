"""No raw value on the case page (issue 16 deliverable 1): conversations that walk every flow
are played through the simulate path (the golden transcripts' own lines), and each case's page,
as a supervisor sees it, shows no internal key (`letters_pending`), `True`, `None` or `{`."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

from bot.config import Settings
from tests.console_kit import add_user, console, login
from tests.transcript import Transcript, run

ROOT = Path(__file__).parent / "transcripts"
# between them: first contact (both channels), information, consent and its withdrawal, the
# secret word, sensitive and young people's cases, a court case, letters both ways with
# edits, the meeting script, appointments booked, moved and missed, check-ins, closure and
# feedback, a callback, a risk alert, the other side's own flow
WALKS = ("flows/happy_path_sms", "flows/happy_path_telegram", "flows/secret_word",
         "flows/sensitive_domestic", "flows/court_case_open", "flows/under_18",
         "letters/edit_accepted", "letters/read", "relay/script_read_and_change",
         "relay/told_meeting_booked_and_moved", "relay/consent_withdrawn_holds_letters",
         "scheduler/checkin_series", "scheduler/appointment_missed_and_moved",
         "feedback/at_closure", "asks/callback_real_person", "crisis/risk_when_idle",
         "other_side/first_message", "young/age_13")
# a code, braces, or Python's True, False and None as a value (not "None of these")
RAW = re.compile(r"\b[a-z][a-z0-9]*(?:_[A-Za-z0-9]+)+\b|[{}]"
                 r"|(?<![\w'])(?:True|False|None)(?![\w ])")
SUE = "sue@example.org"


class Visible(HTMLParser):
    """The text a reader sees or hears: text outside scripts and styles, and the labels given
    in attributes (aria-label, placeholder, title, alt)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        self.parts.extend(v for k, v in attrs
                          if k in ("aria-label", "placeholder", "title", "alt") and v)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(page: str) -> list[str]:
    """Each piece of visible text (a text node or a label), spaces squeezed."""
    parser = Visible()
    parser.feed(page)
    return [" ".join(part.split()) for part in parser.parts if part.strip()]


def answers(page: str) -> dict[str, str]:
    """The person's answers as the page shows them (the "Person harmed" list)."""
    section = page.split('id="h-person"', 1)[1].split("</dl>", 1)[0]
    pairs = re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", section, re.S)
    return {visible(dt)[0]: " ".join(visible(dd)) for dt, dd in pairs}


def raw_values(page: str) -> list[str]:
    """Each piece of visible text that holds a raw value."""
    return [part for part in visible(page) if RAW.search(part)]


async def walk_every_flow(settings: Settings) -> None:
    """Each conversation from its own address, on one database."""
    for n, name in enumerate(WALKS):
        t = Transcript.load(ROOT / f"{name}.txt")
        address = str(7100000 + n) if t.channel == "telegram" else f"+4477009005{n:02d}"
        await run(replace(t, address=address), settings)


async def test_no_case_page_shows_a_raw_value(settings: Settings) -> None:
    await walk_every_flow(settings)
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue Super", supervisor=True)
        await login(client, SUE)
        listed = (await client.get("/console/cases?status=all")).text
        cases = sorted({int(n) for n in re.findall(r'href="/console/cases/(\d+)"', listed)})
        assert len(cases) >= len(WALKS) - 2, listed  # the other side's and a risk-only one
        found, shown = {}, {}
        for case_id in cases:
            page = await client.get(f"/console/cases/{case_id}")
            assert page.status_code == 200
            if raw := raw_values(page.text):
                found[case_id] = raw
            shown[case_id] = answers(page.text)
        assert found == {}, "\n".join(f"case {n}: {r}" for n, rs in found.items() for r in rs)
    # a stored code is never shown bare: each answer a question offered choices for reads as
    # the choice the person picked (the walks type no one-word answer of their own)
    codes = {(n, key, value) for n, said in shown.items() for key, value in said.items()
             if re.fullmatch(r"[a-z]+", value) and key != "Closed because"}  # a note
    assert codes == set()
    values = [said for said in shown.values()]
    assert any(a.get("First conversation by") == "Phone call" for a in values)
    assert any(a.get("Area") == "The other person lives there" for a in values)
    assert any(a.get("Safe to message here") == "Yes" for a in values)
    assert any(a.get("Letters approved for them, not read yet", "").startswith("Letter ")
               for a in values)
    assert any(a.get("Meeting script shared with them", "").startswith("Script ")
               for a in values)
    assert not any(key.endswith(" return") for a in values for key in a)


def test_the_check_finds_raw_values() -> None:
    page = ('<p>Stage: letters_pending</p><dd>True</dd><p>{"days": [2]}</p><dd>None</dd>'
            '<script>var a_b = {};</script><input aria-label="go_ahead">')
    found = raw_values(page)
    assert found == ["Stage: letters_pending", "True", '{"days": [2]}', "None", "go_ahead"]
    assert raw_values("<p>Letters pending: Yes</p><style>a{b:c}</style><p>None of these."
                      " None yet.</p>") == []
