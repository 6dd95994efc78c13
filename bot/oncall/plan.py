"""Who hears of a risk alert, and what they are told: the case number and where to look.

The texts carry no name, no message text and no number of the person: a notice may be read
on a locked phone's screen. They are staff texts, in the service's own language.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import i18n
from bot.config import Settings
from bot.i18n import N_

ESCALATE_AFTER = 15 * 60.0  # seconds a risk alert may wait unseen before supervisors hear

# Translators: an SMS/email to the facilitator on call; {what} is "case 12" or "enquiry 12".
WAITING = N_("Urgent alert waiting in the console: {what}")
# Translators: to supervisors when nobody has marked a risk alert seen for 15 minutes.
UNSEEN = N_("Urgent alert not seen for 15 minutes: {what}")
# Translators: the subject line of those emails
SUBJECT = N_("Urgent alert waiting")
# Translators: {number} is the case number, in a notice to staff
CASE = N_("case {number}")
# Translators: {number} is a contact's number before any case was opened, in a notice to staff
ENQUIRY = N_("enquiry {number}")


@dataclass(frozen=True)
class Plan:
    """The on-call settings the transaction that writes a risk alert needs."""

    sms: tuple[str, ...] = ()
    email: tuple[str, ...] = ()
    supervisors_by_email: bool = False  # SMTP is set: escalations are emailed too
    public_url: str = ""

    @property
    def on(self) -> bool:
        return bool(self.sms or self.email)

    @classmethod
    def from_settings(cls, settings: Settings) -> Plan:
        return cls(settings.oncall_sms, settings.oncall_email, bool(settings.smtp_url),
                   settings.public_url)

    def text(self, template: str, person_id: int, case_id: int | None) -> str:
        """The notice: which case (or enquiry), and the console address if we know it."""
        locale = i18n.DEFAULT_LOCALE
        what = (i18n.gettext(locale, CASE) if case_id is not None
                else i18n.gettext(locale, ENQUIRY)).format(number=case_id or person_id)
        text = i18n.gettext(locale, template).format(what=what)
        if self.public_url:
            page = f"/console/cases/{case_id}" if case_id is not None else "/console/"
            text += " " + self.public_url + page
        return text

    def subject(self) -> str:
        return i18n.gettext(i18n.DEFAULT_LOCALE, SUBJECT)


OFF = Plan()
