"""The `rjbot` command (DESIGN section 7)."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from dataclasses import replace
from pathlib import Path

from bot import admin, backup, dbarg, logsetup
from bot.config import Settings
from bot.crypto import DataKeyError

# commands that read or write sealed data or the keyed audit chain in RJBOT_DATABASE (simulate
# checks its own --db)
KEYED = ("serve", "export", "erase", "rotate-key", "audit", "facilitator", "backup", "restore")


def _serve(settings: Settings) -> int:
    from bot.serving import serve

    return serve(settings)


async def _check_key(settings: Settings) -> None:
    from bot import keycheck
    from bot.service import cipher_for
    from bot.store.backends import open_database

    cipher = cipher_for(settings)
    db = await open_database(settings.database_target, settings.synchronous).open()
    try:
        await db.write(lambda c: keycheck.check(c, cipher))
    finally:
        await db.close()


def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    import tempfile

    from bot.simulate import DirectiveError, simulate

    with tempfile.TemporaryDirectory(prefix="rjbot-sim-") as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "sim.sqlite3"
        settings = replace(settings, database=db)
        try:
            # bytes that are not UTF-8 become U+FFFD rather than stopping the simulation
            stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
            asyncio.run(simulate(settings, args.channel, args.address, stdin, sys.stdout))
        except DirectiveError as exc:
            print(f"rjbot simulate: {exc}", file=sys.stderr)
            return 2
    return 0


def _telegram(settings: Settings, args: argparse.Namespace) -> int:
    from bot.channels.telegram_setup import set_webhook

    missing = [n for n, v in (("TELEGRAM_BOT_TOKEN", settings.telegram_bot_token),
                              ("TELEGRAM_WEBHOOK_SECRET", settings.telegram_webhook_secret),
                              ("RJBOT_PUBLIC_URL", settings.public_url)) if not v]
    if missing:
        print(f"rjbot telegram: {', '.join(missing)} not set", file=sys.stderr)
        return 2
    url = asyncio.run(set_webhook(settings))
    print(f"rjbot telegram: webhook set to {url}, commands menu registered", file=sys.stderr)
    return 0


def _stats(settings: Settings) -> int:
    """Print the statistics; reads no sealed column, so it needs no data key."""
    import json

    from bot import stats
    from bot.store.backends import open_database

    async def run() -> dict[str, object]:
        db = await open_database(settings.database_target, settings.synchronous).open()
        try:
            return await db.read(stats.compute)
        finally:
            await db.close()

    print(json.dumps(asyncio.run(run()), indent=2, sort_keys=True))
    return 0


def _facilitator(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console.accounts import (
        AccountError,
        add_facilitator,
        disable_facilitator,
        read_password,
    )

    if args.facilitator_command == "disable":
        try:
            asyncio.run(disable_facilitator(settings, args.email))
        except AccountError as exc:
            print(f"rjbot facilitator: {exc}", file=sys.stderr)
            return 1
        print(f"rjbot: {args.email} is disabled: signed out everywhere, cannot sign in"
              f" (database {settings.database_shown})", file=sys.stderr)
        return 0
    try:
        password = read_password(sys.stdin if args.password_stdin else None)
        _, link = asyncio.run(add_facilitator(settings, args.email, args.name, password,
                                              args.supervisor))
    except AccountError as exc:
        print(f"rjbot facilitator: {exc}", file=sys.stderr)
        return 2
    role = "supervisor" if args.supervisor else "facilitator"
    print(f"rjbot: {role} account ready for {args.email} (database {settings.database_shown});"
          " the first sign-in shows a QR code for an authenticator app, or add this to one"
          " now (stdout):", file=sys.stderr)
    print(link, flush=True)
    return 0


def _migrate_db(settings: Settings, args: argparse.Namespace) -> int:
    """Copy the SQLite database into an empty PostgreSQL one; the source is only read."""
    from bot.service import cipher_for
    from bot.store import migrate_db
    from bot.store.backends import is_postgres

    if settings.database_url:
        print("rjbot migrate-db: the source is the SQLite file (--db FILE or RJBOT_DATABASE);"
              " give the PostgreSQL URL with --to", file=sys.stderr)
        return 2
    if not is_postgres(args.to):
        print("rjbot migrate-db: --to takes a postgresql:// URL", file=sys.stderr)
        return 2
    if not settings.data_key and not settings.key_file.exists():
        print(f"rjbot migrate-db: no data key: set RJBOT_DATA_KEY, or keep the key file"
              f" {settings.key_file} beside the database", file=sys.stderr)
        return 2
    shown = replace(settings, database_url=args.to).database_shown
    try:
        report = migrate_db.migrate(settings.database, args.to, cipher_for(settings))
    except migrate_db.MigrateError as exc:
        print(f"rjbot migrate-db: {exc}", file=sys.stderr)
        return 1
    print(f"copied {settings.database} (schema {report.version}) into {shown}:")
    for table in report.tables:
        print(f"  {table.table}: {table.rows} rows")
    print(f"verified: {len(report.tables)} tables, {report.rows} rows, the same counts on both;"
          f" audit chain ok on PostgreSQL ({report.audit_rows} rows, head {report.audit_head});"
          f" a sealed value of each of {report.sealed_columns} columns opens in its row")
    key = "RJBOT_DATA_KEY as now" if settings.data_key else \
        f"RJBOT_DATA_KEY to the first line of {settings.key_file}"
    print(f"next: set RJBOT_DATABASE to the PostgreSQL URL and {key}, then start `rjbot"
          f" serve`; {settings.database} was not changed")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rjbot", description="Restorative Justice intake assistant")
    sub = p.add_subparsers(dest="command", required=True)
    db = dbarg.option()
    sub.add_parser("serve", parents=[db],
                   help="run the service (webhooks, console, scheduler, sender)")
    sim = sub.add_parser("simulate", help="talk to the bot on stdin; JSON lines out")
    sim.add_argument("--channel", choices=["sms", "telegram", "whatsapp"], default="sms")
    sim.add_argument("--from", dest="address", required=True, help="the sender's address")
    sim.add_argument("--db", metavar="FILE", help="database file; the same file continues "
                     "the conversation (default: a new one, thrown away afterwards)")
    admin.add_commands(sub, db)
    backup.add_commands(sub, db)
    sub.add_parser("stats", parents=[db], help="anonymised service statistics as JSON "
                   "(counts only: nothing personal, they survive erasure)")
    mig = sub.add_parser(
        "migrate-db", parents=[db],
        help="copy the SQLite database into an empty PostgreSQL database (stop the service"
        " first)", description="Copy the SQLite database (--db or RJBOT_DATABASE, opened"
        " read-only and never changed) into an empty PostgreSQL database, in one transaction,"
        " then check the row counts and the audit chain there; any mismatch rolls it all"
        " back. Stop `rjbot serve` first: rows written while copying would not be copied.")
    mig.add_argument("--to", required=True, metavar="URL",
                     help="postgresql://USER:PASSWORD@HOST:PORT/DATABASE (an empty database)")
    tg = sub.add_parser("telegram", help="Telegram chores")
    tg_sub = tg.add_subparsers(dest="telegram_command", required=True)
    tg_sub.add_parser("set-webhook", help="register RJBOT_PUBLIC_URL/webhooks/telegram with "
                      "the secret token, and the commands menu")
    fac = sub.add_parser("facilitator", help="manage console accounts")
    fac_sub = fac.add_subparsers(dest="facilitator_command", required=True)
    add = fac_sub.add_parser("add", parents=[db],
                             help="create an account (or reset its password and role)")
    add.add_argument("email")
    add.add_argument("--name", required=True)
    add.add_argument("--supervisor", action="store_true", help="sees all cases, assigns them")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of stdin instead of asking")
    off = fac_sub.add_parser("disable", parents=[db],
                             help="end every session of an account and block its sign-in")
    off.add_argument("email")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as exc:  # a setting the IT person must fix: say which, no traceback
        print(f"rjbot: {exc} (see .env.example)", file=sys.stderr)
        return 2
    logsetup.configure(settings.log_level or ("INFO" if args.command == "serve" else "WARNING"))
    try:
        return _run(settings, args)
    except DataKeyError as exc:
        print(f"rjbot: {exc}", file=sys.stderr)
        return 2


def _run(settings: Settings, args: argparse.Namespace) -> int:
    settings = dbarg.apply(settings, args)
    problem = dbarg.problem(settings, args)
    if problem:
        print(f"rjbot: {problem}", file=sys.stderr)
        return 2
    if args.command in KEYED and not getattr(args, "generate", False):
        asyncio.run(_check_key(settings))  # a wrong data key: say so plainly, touch nothing
    if args.command == "serve":
        return _serve(settings)
    if args.command == "simulate":
        return _simulate(settings, args)
    if args.command == "telegram":
        return _telegram(settings, args)
    if args.command == "facilitator":
        return _facilitator(settings, args)
    if args.command in ("backup", "restore"):
        return backup.main(settings, args)
    if args.command == "stats":
        return _stats(settings)
    if args.command == "migrate-db":
        return _migrate_db(settings, args)
    return admin.main(settings, args)


if __name__ == "__main__":
    sys.exit(main())
