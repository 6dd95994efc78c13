"""Second factor for every console account: TOTP (RFC 6238) and recovery codes.

30-second steps, 6 digits, one step of clock skew either way; a step is accepted once only
(bot.store.secondfactor.use_step). The provisioning URI is printed by `rjbot facilitator add`
and shown as a QR code (segno, SVG inline) at the first sign-in. Ten recovery codes, each
12 letters and digits (60 bits), are shown once at enrolment and kept as keyed hashes.
"""

from __future__ import annotations

import hmac
import secrets

import pyotp
import segno

from bot.crypto import Cipher

ISSUER = "RJ console"
STEP = 30
SKEW = 1  # steps either side
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits


def uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(link: str) -> str:
    """The URI as an inline SVG QR code, with a text alternative."""
    return str(segno.make(link, error="m").svg_inline(
        scale=4, title="QR code for your authenticator app"))


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code this is, within the allowed skew; None if none."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdecimal():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP)
    found = None
    for step in range(current - SKEW, current + SKEW + 1):
        if hmac.compare_digest(totp.at(step * STEP), code):
            found = step  # no early exit: the same work whichever step matches
    return found


def recovery_codes() -> list[str]:
    return ["-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
            for _ in range(RECOVERY_CODES)]


def normal_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def code_hash(cipher: Cipher, code: str) -> bytes:
    """Keyed, so a copy of the database without the data key cannot test guesses."""
    return cipher.address_hash("console-recovery", normal_code(code))


def looks_like_recovery(code: str) -> bool:
    return len(normal_code(code)) == 12
