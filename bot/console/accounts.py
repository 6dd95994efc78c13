"""Console accounts from the command line: `rjbot facilitator add` and `disable`."""

from __future__ import annotations

import getpass
import re
import sqlite3
from typing import TextIO

from bot.clock import SystemClock, to_ts
from bot.config import Settings
from bot.console import passwords, totp
from bot.console.auth import hash_password
from bot.service import cipher_for
from bot.store import facilitators, records, secondfactor
from bot.store.backends import open_database

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(Exception):
    """Something the person running the command can fix: a bad email or password."""


def read_password(stdin: TextIO | None) -> str:
    """From the first line of stdin, or asked twice on the terminal (never echoed)."""
    if stdin is not None:
        password = stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise AccountError("the passwords do not match")
    return password


async def add_facilitator(settings: Settings, email: str, name: str, password: str,
                          supervisor: bool) -> tuple[int, str]:
    """Create the account (or reset its name, password, role and second factor); audited.
    Returns its id and the new second factor's otpauth:// URI."""
    email = email.strip().lower()
    if not EMAIL.match(email) or not name.strip():
        raise AccountError("give a valid email and a --name")
    problem = passwords.problem(password, email, name)
    if problem:
        raise AccountError(problem)
    hashed = hash_password(password)
    now = to_ts(SystemClock().now())
    cipher = cipher_for(settings)
    async with open_database(settings.database_target, settings.synchronous) as db:
        def unit(conn: sqlite3.Connection) -> tuple[int, str]:
            fid = facilitators.add(conn, email, name, hashed, supervisor, now)
            secret = totp.new_secret()
            secondfactor.set_secret(conn, cipher, fid, secret)
            records.audit(conn, "cli", "facilitator_added", now,
                          detail={"facilitator": fid, "supervisor": supervisor})
            return fid, totp.uri(secret, email)

        return await db.write(unit)


async def disable_facilitator(settings: Settings, email: str) -> None:
    """End every session of the account and block its sign-in (audited)."""
    now = to_ts(SystemClock().now())
    async with open_database(settings.database_target, settings.synchronous) as db:
        def unit(conn: sqlite3.Connection) -> int | None:
            found = facilitators.by_email(conn, email)
            if found is None:
                return None
            facilitators.disable(conn, found.id)
            records.audit(conn, "cli", "facilitator_disabled", now,
                          detail={"facilitator": found.id, "via": "cli"})
            return found.id

        if await db.write(unit) is None:
            raise AccountError("there is no account with that email")
