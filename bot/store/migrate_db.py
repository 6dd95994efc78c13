"""`rjbot migrate-db`: copy an embedded SQLite database into an empty PostgreSQL database.

The source is opened read-only and read in one transaction (one snapshot). Its key check must
open with a key we hold and its audit chain must verify before anything is sent. The target
must hold no data; its schema is made by PostgreSQL's own migrations, and the schema, the rows
(COPY, parents before children) and the checks all run in ONE transaction: any mismatch rolls
all of it back, so the target is left as it was. Sealed values are copied as bytes with their
row ids, so they still open in their place (each is bound to its table, column and row).
Identities are then set to max(id)+1, so new rows get fresh ids. Nothing personal is printed
or logged: table names, counts and the audit head only.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import psycopg

from bot import keycheck
from bot.crypto import Cipher, DataKeyError
from bot.privacy import sealed
from bot.store import audit, records
from bot.store import schema as sqlite_schema
from bot.store.postgres import schema as pg_schema
from bot.store.postgres.conn import Connection

BATCH = 5000  # rows read from SQLite at a time (the COPY itself streams)
SOURCE_ROWID = "rowid"  # a PostgreSQL column that holds SQLite's hidden rowid


class MigrateError(Exception):
    """Something the IT person must fix or know; the target was not changed."""


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


@dataclass(frozen=True)
class Report:
    version: int
    tables: tuple[Copied, ...]
    audit_rows: int
    audit_head: str
    sealed_columns: int  # columns whose sample value opened on PostgreSQL as on SQLite

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def _source(path: Path) -> sqlite3.Connection:
    """The SQLite file, read-only (the file is never written), refused while a service runs."""
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise MigrateError(f"{path} is open in another program (its write-ahead log {wal.name}"
                           " is not empty): stop `rjbot serve` first; if it is stopped, it was"
                           " not closed cleanly: start it and stop it once")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def _check_source(conn: sqlite3.Connection, cipher: Cipher) -> audit.Verdict:
    """The source is this rjbot's schema, opened by our key, not in use, its chain whole."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    current = len(sqlite_schema.MIGRATIONS)
    if version < current:
        raise MigrateError(f"the database is at schema {version}, older than this rjbot's"
                           f" ({current}): migrate it first (start `rjbot serve` on it once"
                           " and stop it), then run migrate-db again")
    if version > current:
        raise MigrateError(f"the database is at schema {version}, newer than this rjbot's"
                           f" ({current}): use the rjbot that wrote it")
    if records.get_meta(conn, keycheck.SEALING_KEY) is not None:
        raise MigrateError("a service is running on this database (or was not stopped"
                           " cleanly): stop `rjbot serve` first; if it is stopped, start it"
                           " and stop it once")
    found = keycheck.opened(conn, cipher)  # DataKeyError: said plainly by the CLI
    if found is None or "audit_key" not in found:
        raise MigrateError("this database was never opened by this rjbot's service, so its"
                           " audit chain is not keyed yet: start `rjbot serve` on it once and"
                           " stop it, then run migrate-db again")
    key, first = base64.b64decode(found["audit_key"]), int(found["audit_from"])
    audit.use_key(conn, key, first, record=False)
    verdict = audit.verify(conn)
    if not verdict.ok:
        raise MigrateError(f"the audit log of the source does not verify ({verdict.problem}):"
                           " nothing was copied")
    return verdict


def _tables(conn: sqlite3.Connection) -> list[str]:
    """The source's tables, each after every table it refers to."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name")]
    parents = {t: {r["table"] for r in conn.execute(f"PRAGMA foreign_key_list({t})")} - {t}
               for t in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [t for t in names if t not in ordered and parents[t] <= set(ordered)]
        if not ready:
            raise MigrateError("the tables' foreign keys form a circle: cannot order them")
        ordered.extend(ready)
    return ordered


def _source_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r["name"] for r in conn.execute(f"PRAGMA table_info({table})")]


def _target_columns(raw: psycopg.Connection[Any]) -> dict[str, dict[str, bool]]:
    """Each table of the target's schema: its columns, and whether each may be left out."""
    out: dict[str, dict[str, bool]] = {}
    for table, column, nullable, default, identity in raw.execute(
            "SELECT table_name, column_name, is_nullable = 'YES', column_default IS NOT NULL,"
            " is_identity = 'YES' FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"):
        out.setdefault(table, {})[column] = bool(nullable or default or identity)
    return out


def _refuse_data(raw: psycopg.Connection[Any]) -> None:
    """A target that already holds rows (any table of its schema) is not ours to fill."""
    tables = [r[0] for r in raw.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")]
    held = [t for t in tables if t != "rjbot_schema" and _count(raw.execute, t)]
    if held:
        raise MigrateError("the PostgreSQL database already holds data (tables "
                           f"{', '.join(held)}): give an empty database; nothing was changed")


def _columns(table: str, source: list[str], target: dict[str, bool]) -> tuple[list[str],
                                                                                list[str]]:
    """(what to select from SQLite, what to COPY into) for one table."""
    lost = [c for c in source if c not in target]
    if lost:
        raise MigrateError(f"table {table}: PostgreSQL has no column {', '.join(lost)}")
    select, into = list(source), list(source)
    if SOURCE_ROWID in target and SOURCE_ROWID not in source:
        select.append("rowid")
        into.append(SOURCE_ROWID)
    missing = [c for c, optional in target.items() if c not in into and not optional]
    if missing:
        raise MigrateError(f"table {table}: the source has no column {', '.join(missing)}")
    return select, into


def _rows(conn: sqlite3.Connection, table: str, select: list[str]) -> Iterator[tuple[Any, ...]]:
    cur = conn.execute(f"SELECT {', '.join(select)} FROM {table}")  # noqa: S608  # nosec B608
    while batch := cur.fetchmany(BATCH):
        yield from (tuple(r) for r in batch)


def _copy(conn: sqlite3.Connection, raw: psycopg.Connection[Any], table: str,
          select: list[str], into: list[str]) -> None:
    names = ", ".join(f'"{c}"' for c in into)
    with raw.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:  # nosec B608
        for row in _rows(conn, table, select):
            copy.write_row(row)


def _count(run: Callable[[str], Any], table: str) -> int:
    return int(run(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # noqa: S608  # nosec B608


def _verify(raw: psycopg.Connection[Any], counts: dict[str, int], source: audit.Verdict,
            key: tuple[bytes, int]) -> sqlite3.Connection:
    """Every table holds what the source held, and the audit chain verifies on the target."""
    for table, expected in counts.items():
        found = _count(raw.execute, table)
        if found != expected:
            raise MigrateError(f"table {table}: {expected} rows in the source but {found} on"
                               " PostgreSQL: rolled back, nothing was changed")
    target = cast(sqlite3.Connection, Connection(raw))
    audit.use_key(target, *key, record=False)
    verdict = audit.verify(target)
    if not verdict.ok or (verdict.rows, verdict.head) != (source.rows, source.head):
        problem = verdict.problem or "its head differs from the source's"
        raise MigrateError(f"the audit chain does not verify on PostgreSQL ({problem}):"
                           " rolled back, nothing was changed")
    return target


def _sealed_in_place(src: sqlite3.Connection, target: sqlite3.Connection,
                     cipher: Cipher) -> int:
    """A value of each sealed column opens on the target, in the same row, to the same text
    as on the source (the row's ids and keys came along); how many columns were checked."""
    checked = 0
    for spec in sealed.SEALED:
        where = f"{spec.column} IS NOT NULL AND length({spec.column}) > 0"
        row = src.execute(f"SELECT * FROM {spec.table} WHERE {where} LIMIT 1").fetchone()  # noqa: S608  # nosec B608
        try:
            plain = sealed.open_in(cipher, row[spec.column], spec.table, spec.column, row) \
                if row else None
        except (sealed.Tampered, DataKeyError):
            plain = None  # already unreadable on the source: nothing to compare
        if plain is None or row is None:
            continue
        with_id = spec.table in pg_schema.ID_TABLES and "id" not in spec.keys
        names = (*spec.keys, *(("id",) if with_id else ()))
        keys = " AND ".join(f"{k} = ?" for k in names)
        moved = target.execute(f"SELECT * FROM {spec.table} WHERE {keys}",  # noqa: S608  # nosec B608
                               tuple(row[k] for k in names)).fetchone()
        try:
            ok = moved is not None and sealed.open_in(
                cipher, bytes(moved[spec.column]), spec.table, spec.column, moved) == plain
        except (sealed.Tampered, DataKeyError):
            ok = False
        if not ok:
            raise MigrateError(f"table {spec.table}: a sealed {spec.column} does not open in"
                               " its row on PostgreSQL: rolled back, nothing was changed")
        checked += 1
    return checked


def _reset_identities(raw: psycopg.Connection[Any]) -> None:
    """Each identity column's next value is max+1, so new rows never take a copied id."""
    found = raw.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall()
    for table, column in found:
        raw.execute(  # the names come from the catalog, not from outside
            f'SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max("{column}"), 0) + 1,'  # noqa: S608
            f' false) FROM "{table}"', (f'"{table}"', column))  # nosec B608


def migrate(path: Path, url: str, cipher: Cipher) -> Report:
    """Copy the SQLite database at `path` into the empty PostgreSQL database at `url`."""
    src = _source(path)
    try:
        src.execute("BEGIN")  # one snapshot of the source for every read below
        verdict = _check_source(src, cipher)
        key = audit.key_of(src)
        if key is None:
            raise MigrateError("the audit chain's key was not found")
        tables = _tables(src)
        counts = {t: _count(src.execute, t) for t in tables}
        try:
            target = Connection.connect(url)
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise MigrateError(f"cannot connect to PostgreSQL: {first}") from exc
        try:
            opened = _fill(src, target.raw, tables, (verdict, key, counts), cipher)
        except psycopg.Error as exc:  # its text may quote a value: only what kind of error
            raise MigrateError(f"PostgreSQL refused it ({type(exc).__name__}, SQLSTATE"
                               f" {exc.sqlstate}){_where(exc)}: rolled back, nothing was"
                               " changed") from exc
        finally:
            target.close()
        src.execute("COMMIT")
    finally:
        src.close()
    return Report(len(sqlite_schema.MIGRATIONS), tuple(Copied(t, counts[t]) for t in tables),
                  verdict.rows, verdict.head, opened)


def _where(exc: psycopg.Error) -> str:
    notes = getattr(exc, "__notes__", [])
    return f" copying table {notes[-1]}" if notes else ""


def _fill(src: sqlite3.Connection, raw: psycopg.Connection[Any], tables: list[str],
          expected: tuple[audit.Verdict, tuple[bytes, int], dict[str, int]],
          cipher: Cipher) -> int:
    """Schema, rows, checks and identities in one transaction: all of it, or none."""
    verdict, key, counts = expected
    with raw.transaction():
        _refuse_data(raw)
        pg_schema.migrate(raw)
        columns = _target_columns(raw)
        absent = [t for t in tables if t not in columns]
        if absent:
            raise MigrateError(f"PostgreSQL has no table {', '.join(absent)}")
        for table in tables:
            select, into = _columns(table, _source_columns(src, table), columns[table])
            try:
                _copy(src, raw, table, select, into)
            except psycopg.Error as exc:
                exc.add_note(table)  # for _where: which table it refused
                raise
        opened = _sealed_in_place(src, _verify(raw, counts, verdict, key), cipher)
        _reset_identities(raw)
    return opened
