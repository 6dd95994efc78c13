"""`--db` on every command that opens the database, and what is wrong with the one given.

Only the default database's folder (data/) is made when missing: a folder that does not
exist in --db or RJBOT_DATABASE is a typing mistake, not a place to create; and commands
that work on what a database already holds never create one.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import replace
from pathlib import Path

from bot.config import DEFAULT_DATABASE, Settings

# commands that only work on what a database already holds
EXISTING = ("audit", "export", "erase", "rotate-key", "backup", "stats", "migrate-db")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")  # a server's URL, not a file


def option() -> argparse.ArgumentParser:
    """The parent parser that gives a command --db."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", metavar="FILE", help="the database (default: RJBOT_DATABASE,"
                        f" or {DEFAULT_DATABASE})")
    return parent


def given(args: argparse.Namespace) -> str:
    return str(getattr(args, "db", None) or "")


def apply(settings: Settings, args: argparse.Namespace) -> Settings:
    """--db wins over RJBOT_DATABASE (simulate reads its own --db: a throwaway by default)."""
    if not given(args) or args.command == "simulate":
        return settings
    if _URL.match(given(args)):
        return replace(settings, database_url=given(args))
    return replace(settings, database=Path(given(args)), database_url="")


def problem(settings: Settings, args: argparse.Namespace) -> str:
    """What is wrong with the database a command is about to open, in words; "" if nothing."""
    if args.command == "simulate":
        if not given(args):
            return ""
        path = Path(given(args))
    elif not hasattr(args, "db") or getattr(args, "generate", False):
        return ""  # the command opens no database
    elif settings.database_url and not given(args):
        return ""  # a server: nothing on this machine to check
    else:
        path = settings.database
    if _URL.match(given(args) or str(path)):
        return ""
    origin = "--db" if given(args) else "" if path == Path(DEFAULT_DATABASE) else "RJBOT_DATABASE"
    if path.is_dir():
        return (f"{origin} {path} is a folder: give the database file, e.g. "
                f"{path / 'rjbot.sqlite3'}").lstrip()
    if args.command in EXISTING or getattr(args, "facilitator_command", "") == "disable":
        via = f" ({origin})" if origin else ""
        return "" if path.exists() else (f"there is no database at {path}{via}: give"
                                         " --db FILE, the database `rjbot serve` uses")
    if origin and not path.parent.is_dir():
        return (f"the folder {path.parent} does not exist ({origin} {path}): create it first,"
                " or give another --db")
    return ""
