"""Administrative commands: audit verify, export, erase, rotate-key (DESIGN section 6)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from pathlib import Path

from bot import keycheck, safefile
from bot.clock import SystemClock, to_ts
from bot.config import Settings
from bot.crypto import Cipher, new_key_text
from bot.privacy import report, rotate, subject
from bot.service import cipher_for
from bot.store import audit, records
from bot.store.backends import open_database
from bot.store.db import Database

UNFINISHED = 75  # rotate-key kept the old key: run it again after the service restarts


def add_commands(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                 db: argparse.ArgumentParser) -> None:
    """The commands, each taking --db from the `db` parent parser."""
    a = sub.add_parser("audit", parents=[db], help="check the audit log")
    a.add_argument("action", choices=["verify"])
    e = sub.add_parser("export", parents=[db],
                       help="everything held about a person, as JSON and HTML")
    e.add_argument("--address", required=True, help="their phone number or chat id")
    e.add_argument("--out", default="rjbot-exports",
                   help="a private folder to write into (made with mode 0700 if new; one that "
                   "other accounts can open is refused); default rjbot-exports")
    r = sub.add_parser("erase", parents=[db], help="erase a person's personal content")
    r.add_argument("--address", required=True)
    r.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    r.add_argument("--refuse", metavar="EXEMPTION",
                   help="record a refused erasure and the exemption relied on")
    k = sub.add_parser("rotate-key", parents=[db],
                       help="re-encrypt everything under a new data key")
    k.add_argument("--generate", action="store_true",
                   help="only print a new key for RJBOT_DATA_KEY and exit")


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Questions and files first, in plain code; then the database work in one event loop."""
    if args.command == "rotate-key":
        if args.generate:
            print(new_key_text())
            return 0
        if not settings.data_key and not _rotation_unfinished(settings.key_file):
            _prepend_key(settings.key_file)
    if args.command == "erase" and not (args.yes or args.refuse):
        answer = input("Erase all personal content held for this address? Type yes: ")
        if answer.strip().lower() != "yes":
            print("nothing erased")
            return 1
    if args.command == "export":
        try:
            safefile.private_folder(Path(args.out))
        except safefile.UnsafeFolderError as exc:
            print(f"rjbot export: {exc}", file=sys.stderr)
            return 2
    code = asyncio.run(_run(settings, cipher_for(settings), args))
    if args.command == "rotate-key" and not settings.data_key and code == 0:
        _drop_old_keys(settings.key_file)
    return code


async def _run(settings: Settings, cipher: Cipher, args: argparse.Namespace) -> int:
    async with open_database(settings.database_target, settings.synchronous) as db:
        if args.command == "audit":
            verdict = await db.read(audit.verify)
            status = "ok" if verdict.ok else f"BROKEN: {verdict.problem}"
            print(f"audit {status}; {verdict.rows} rows; head {verdict.head}")
            return 0 if verdict.ok else 1
        if args.command == "rotate-key":
            print(f"re-encrypted {await rotate.rotate(db, cipher)} values under the current key")
            if not settings.data_key and await db.read(
                    lambda c: keycheck.sealing_elsewhere(c, cipher)):
                print("the running service still encrypts new data with the previous key, so"
                      " the key file keeps it: restart the service, then run `rjbot rotate-key`"
                      " again to finish")
                return UNFINISHED
            return 0

        def find(conn: sqlite3.Connection) -> list[int]:
            return subject.find_people(conn, cipher, args.address)

        people = await db.read(find)
        if not people:
            print("nobody with that address is on record", file=sys.stderr)
            return 1
        for pid in people:
            await _one(db, cipher, pid, args)
        if args.command == "erase" and not args.refuse:
            await db.checkpoint()
            print(f"erased {len(people)} person(s); the audit log keeps the events")
        return 0


async def _one(db: Database, cipher: Cipher, pid: int, args: argparse.Namespace) -> None:
    now = SystemClock().now()
    if args.command == "export":
        data = await db.read(lambda c: subject.export(c, cipher, pid))
        base = Path(args.out) / f"rjbot-export-{pid}"
        safefile.write_private(base.with_suffix(".json"),
                               json.dumps(data, ensure_ascii=False, indent=1))
        safefile.write_private(base.with_suffix(".html"), report.render(data, now))
        await db.write(lambda c: records.audit(c, "cli", "exported", to_ts(now), pid))
        print(f"wrote {base}.json and {base}.html")
    elif args.refuse:
        await db.write(lambda c: subject.refuse_erasure(c, pid, to_ts(now), "cli", args.refuse))
        print("recorded the refusal and the exemption relied on")
    else:
        await db.write(lambda c: subject.erase(c, pid, to_ts(now), "cli"))


def _rotation_unfinished(key_file: Path) -> bool:
    """An earlier rotate-key kept the previous key (the service had not restarted yet)."""
    if not key_file.exists():
        return False
    return len([line for line in key_file.read_text().splitlines() if line.strip()]) > 1


def _prepend_key(key_file: Path) -> None:
    """Key-file set-up: a new current key first; the old ones stay readable until done."""
    old = key_file.read_text() if key_file.exists() else ""
    safefile.write_atomic(key_file, new_key_text() + "\n" + old)


def _drop_old_keys(key_file: Path) -> None:
    lines = [line for line in key_file.read_text().splitlines() if line.strip()]
    safefile.write_atomic(key_file, lines[0] + "\n")
