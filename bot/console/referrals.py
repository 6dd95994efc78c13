"""Agency referrals (police, victim services, offender management, others) open a case.

A referred person is sent one discreet SMS only when the referral records their consent to
SMS contact, and then only in their safe time (the engine queues it as a scheduled reply).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bot.channels.phone import NotForSms, sms_address
from bot.clock import to_ts
from bot.console import notices
from bot.console.auth import Visitor
from bot.console.pages import error, form_value, redirect, render, staff
from bot.scheduler.windows import WINDOWS
from bot.service import Service
from bot.store import facilitators, referrals

# who is referred: the person harmed, or the person who caused the harm (their own case kind)
KINDS = {"victim": "The person harmed", "other_party": "The person who caused the harm"}
ORG_TYPES = {
    "police": "Police",
    "victim_services": "Victim services",
    "offender_management": "Offender management (probation)",
    "other": "Other organisation",
}
YES_NO_UNKNOWN = {"yes": "Yes", "no": "No", "unknown": "Not known"}
AREA_LINKS = {
    "victim_address": "The person harmed lives in Kent or Medway",
    "offender_address": "The person responsible lives in Kent or Medway",
    "offence_location": "It happened in Kent or Medway",
    "none": "No link to Kent or Medway",
    "unknown": "Not known",
}
COURT = {"none": "No court case", "open": "Court case still open",
         "concluded": "Court case concluded", "unknown": "Not known"}
TEXT_FIELDS = ("referrer_name", "referrer_org", "referrer_contact", "name", "phone_call",
               "email", "offence_type", "notes")


def _choices() -> dict[str, Any]:
    return {"kinds": KINDS, "org_types": ORG_TYPES, "yes_no": YES_NO_UNKNOWN,
            "area_links": AREA_LINKS, "court": COURT, "windows": list(WINDOWS)}


@staff
async def form(request: Request, v: Visitor) -> Response:
    return render(request, v, "referral.html", problems=[], values={"kind": "victim"},
                  **_choices())


def _mobile(raw: str) -> str:
    """The number to text in E.164, or '' if it is not a mobile that takes an SMS (a
    landline would have the text read aloud; "12345" is no number at all)."""
    try:
        return sms_address(raw)
    except NotForSms:
        return ""


def _flags(values: dict[str, str], sensitive: bool) -> tuple[str, ...]:
    """Eligibility notes the team must see at a glance (DESIGN section 2)."""
    flags = []
    if values["offender_adult"] == "no":
        flags.append("youth_justice")  # under 18: the Youth Justice Service leads
    if values["area_link"] == "none":
        flags.append("no_area_link")
    if values["court"] == "open":
        flags.append("on_hold_court")
    if sensitive:
        flags.append("victim_led_senior")
    return tuple(flags)


async def _read(request: Request) -> tuple[dict[str, str], list[str], bool]:
    values = {k: await form_value(request, k, 1000) for k in TEXT_FIELDS}
    for key, allowed in (("kind", KINDS), ("org_type", ORG_TYPES),
                         ("offender_adult", YES_NO_UNKNOWN), ("area_link", AREA_LINKS),
                         ("court", COURT)):
        got = await form_value(request, key)
        values[key] = got if got in allowed else ""
    values["safe_times"] = await form_value(request, "safe_times")
    values["phone"] = await form_value(request, "phone", 40)
    consent_sms = await form_value(request, "consent_sms") == "yes"
    values["consent_sms"] = "yes" if consent_sms else "no"
    problems = []
    values["kind"] = values["kind"] or "victim"
    if not values["referrer_name"] or not values["referrer_org"] or not values["org_type"]:
        problems.append("Say who is referring and from which organisation.")
    if not all(values[k] for k in ("offender_adult", "area_link", "court")):
        problems.append("Answer the questions about age, area and court.")
    if consent_sms and not _mobile(values["phone"]):
        problems.append("That is not a valid mobile number for a text. Check it (for example"
                        " 07700 900321 or +44 7700 900321), or untick SMS contact.")
    if values["safe_times"] not in WINDOWS:
        values["safe_times"] = "anytime"
    return values, problems, consent_sms


@staff
async def submit(request: Request, v: Visitor) -> Response:
    """Create the person and case, then tell the conversation (which may send the SMS)."""
    service: Service = request.app.state.service
    assert v.user is not None
    values, problems, consent_sms = await _read(request)
    if problems:
        return render(request, v, "referral.html", status=400, problems=problems,
                      values=values, **_choices())
    sensitive = await form_value(request, "sensitive") == "yes"
    phone = _mobile(values["phone"]) if consent_sms else ""
    details = {k: val for k, val in values.items() if val and k not in ("phone", "consent_sms")}
    if values["phone"]:
        details["phone"] = phone or values["phone"]
    ref = referrals.Referral(values["org_type"], consent_sms, phone, _flags(values, sensitive),
                             details, values["kind"])
    now = to_ts(service.runtime.clock.now())
    me = v.user

    def unit(conn: sqlite3.Connection) -> tuple[int, int]:
        person_id, case_id = referrals.create(conn, service.cipher, ref, v.actor, now)
        if not me.supervisor:  # whoever takes a referral works on it until reassigned
            facilitators.assign(conn, case_id, [me.id], v.actor, now)
        return person_id, case_id

    try:
        person_id, case_id = await service.db.write(unit)
    except referrals.AlreadyOpen as exc:
        return error(request, v, 409, f"This number already has an open case ({exc.case_id}).")
    data = {"sms": consent_sms, "safe_times": values["safe_times"],
            "name": values.get("name", ""), "kind": values["kind"]}
    await service.runtime.act(person_id, "referral_received", data, v.actor)
    return redirect(notices.url(f"/console/cases/{case_id}", "referral_saved"))
