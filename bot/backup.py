"""`rjbot backup` and `rjbot restore`: consistent copies of the database, never the key.

The data key lives outside the database (RJBOT_DATA_KEY, or the key file beside it), so a
backup holds only sealed values: useless without the key, which must be kept apart from the
backups. The copy uses SQLite's online backup API in one step, so it is a consistent snapshot
even while the service writes. A restore first proves the key we hold opens the backup (and
that it is whole), then keeps the current database beside it before replacing anything.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
import time
from pathlib import Path

from bot import keycheck, safefile
from bot.clock import SystemClock, to_ts
from bot.config import Settings
from bot.crypto import Cipher, DataKeyError
from bot.service import cipher_for
from bot.store import records
from bot.store.schema import MIGRATIONS


class BackupError(Exception):
    """Something the IT person must fix; nothing was replaced."""


def add_commands(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                 db: argparse.ArgumentParser) -> None:
    b = sub.add_parser("backup", parents=[db],
                       help="a consistent copy of the database while it serves (no key)")
    b.add_argument("--out", required=True, metavar="FILE", help="the backup file to write")
    r = sub.add_parser("restore", parents=[db],
                       help="replace the database with a backup the data key opens")
    r.add_argument("file", metavar="FILE", help="a file made by `rjbot backup`")


def _copy(src: sqlite3.Connection, dest: Path) -> None:
    """The whole database as of one moment, into `dest` (0600, fsynced, renamed in place)."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, safefile.PRIVATE_FILE)
    os.close(fd)
    try:
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)  # pages=-1: one step, one read transaction, one snapshot
            out.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        finally:
            out.close()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, dest)
        safefile.fsync_dir(dest.parent.resolve())
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def backup(settings: Settings, out: Path) -> int:
    """Write the backup; returns how many messages it holds."""
    key_file = settings.key_file.resolve()
    if out.resolve() in (key_file, settings.database.resolve()):
        raise BackupError(f"{out} is the key file or the database itself")
    if not out.parent.is_dir():
        raise BackupError(f"the folder {out.parent} does not exist")
    src = _connect(settings.database)
    try:
        _copy(src, out)
    finally:
        src.close()
    check = _connect(out)
    try:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"the backup {out} did not read back whole")
        return int(check.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        check.close()


def _opens(path: Path, cipher: Cipher) -> None:
    """Raise unless `path` is a whole rjbot database that a key we hold opens."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be opened as a database") from exc
    conn.row_factory = sqlite3.Row
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{path} is damaged (integrity check failed)")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if not 0 < version <= len(MIGRATIONS):
            raise BackupError(f"{path} is not an rjbot database this version can read")
        if records.get_meta(conn, keycheck.META_KEY) is None:
            raise BackupError(f"{path} has no key check: it is not an rjbot backup")
        try:
            keycheck._stored(conn, cipher)
        except DataKeyError as exc:
            raise BackupError(f"the data key does not open {path}: set RJBOT_DATA_KEY to "
                              "the key it was made with") from exc
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a database") from exc
    finally:
        conn.close()


def restore(settings: Settings, source: Path) -> Path | None:
    """Check the backup, keep the current database beside it, then copy the backup in.
    Returns where the previous database was kept (None if there was none)."""
    cipher = cipher_for(settings)
    _opens(source, cipher)
    live = settings.database
    kept = None
    if live.exists():
        conn = _connect(live)
        try:
            kept = live.with_name(f"{live.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
            _copy(conn, kept)
        finally:
            conn.close()
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dest = _connect(live)
    try:
        src.backup(dest)  # page by page into the live file, its WAL handled by SQLite
        dest.execute("PRAGMA journal_mode=WAL")
        keycheck.check(dest, cipher)
        dest.execute("BEGIN IMMEDIATE")
        records.audit(dest, "cli", "restored", to_ts(SystemClock().now()),
                      detail={"previous_kept": kept is not None})
        dest.execute("COMMIT")
    finally:
        src.close()
        dest.close()
    os.chmod(live, safefile.PRIVATE_FILE)
    return kept


def main(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.command == "backup":
            n = backup(settings, Path(args.out))
            print(f"rjbot backup: wrote {args.out} ({n} messages). It does not contain the "
                  "data key: keep the key apart from the backups, or they cannot be read.")
        else:
            kept = restore(settings, Path(args.file))
            where = f"; the previous database is kept as {kept}" if kept else ""
            print(f"rjbot restore: {settings.database} restored from {args.file}{where}")
    except BackupError as exc:
        print(f"rjbot {args.command}: {exc} (nothing was replaced)", file=sys.stderr)
        return 2
    return 0

