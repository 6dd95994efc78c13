"""The SQLite dialect the store writes, translated into PostgreSQL's, once per statement.

The store's units are written once, in SQLite's SQL. What they use that PostgreSQL spells
differently is rewritten here: `?` placeholders, `INSERT OR IGNORE`, two-argument `max`/`min`,
`group_concat`, `IS ?`, `json_extract`, `IN ()`, `rowid`, blob literals (X'00'), the next id
of a table (from its sequence, so two instances never hand out the same id) and `PRAGMA
database_list`. A statement that needs anything else fails loudly on PostgreSQL, and the
contract tests run on both back ends.
"""

from __future__ import annotations

import functools
import re

from bot.store.postgres.schema import ID_TABLES, ROWID_COLUMNS

_BLOB = re.compile(r"\b[xX]'([0-9a-fA-F]*)'")
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_NEXT_ID = re.compile(r"SELECT coalesce\(max\(id\), 0\) \+ 1 FROM (\w+)")
_JSON_COALESCE = re.compile(r"coalesce\(json_extract\((\w+), '\$\.(\w+)'\),")
_JSON_EQUALS = re.compile(r"json_extract\((\w+), '\$\.(\w+)'\) = \?")
_JSON_LITERAL = re.compile(r"json_extract\((\w+), '\$\.(\w+)'\) (=|!=|<>) '")
_NOT_IN_NONE = re.compile(r"\bNOT\s+IN\s*\(\s*\)", re.IGNORECASE)
_IN_NONE = re.compile(r"\bIN\s*\(\s*\)", re.IGNORECASE)
_JSON = re.compile(r"json_extract\((\w+), '\$\.(\w+)'\)")
_IS_PARAM = re.compile(r"\bIS\s+(NOT\s+)?\?", re.IGNORECASE)
_TABLE = re.compile(r"\b(?:FROM|UPDATE|INTO)\s+(\w+)", re.IGNORECASE)
_ROWID = re.compile(r"\browid\b")
_PRAGMA_FILE = "PRAGMA database_list"
# a name for the database that differs between databases and between schemas of one server
_FILE_SQL = "SELECT 0, 'main', current_database() || '/' || current_schema()"


@functools.lru_cache(maxsize=4096)
def translate(sql: str, returning_id: bool = False) -> str:
    """PostgreSQL for one SQLite statement; `returning_id` adds RETURNING id to an INSERT."""
    if sql.strip() == _PRAGMA_FILE:
        return _FILE_SQL
    literals: list[str] = []

    def keep(match: re.Match[str]) -> str:
        literals.append(match.group(0))
        return f"\0{len(literals) - 1}\0"

    out = _BLOB.sub(r"'\\x\1'::bytea", sql)
    out = _NEXT_ID.sub(r"SELECT nextval(pg_get_serial_sequence('\1', 'id'))", out)
    out = _JSON_COALESCE.sub(r"coalesce(\1::jsonb ->> '\2',", out)
    out = _JSON_EQUALS.sub(r"(\1::jsonb ->> '\2') = CAST(? AS text)", out)
    out = _JSON_LITERAL.sub(r"(\1::jsonb ->> '\2') \3 '", out)
    out = _JSON.sub(r"(\1::jsonb -> '\2')", out)
    out = _NOT_IN_NONE.sub("<> all('{}')", out)  # SQLite's NOT IN (): true for every row
    out = _IN_NONE.sub("= any('{}')", out)  # and IN (): true for none
    out = _LITERAL.sub(keep, out)
    out = _IS_PARAM.sub(lambda m: "IS DISTINCT FROM ?" if m.group(1) else
                        "IS NOT DISTINCT FROM ?", out)
    out = _two_argument(out, "max", "greatest")
    out = _two_argument(out, "min", "least")
    out = _group_concat(out)
    if _ROWID.search(out):
        out = _rowid(out)
    ignore = bool(_OR_IGNORE.match(out))
    if ignore:
        out = _OR_IGNORE.sub("INSERT INTO", out, count=1)
    out = out.replace("%", "%%").replace("?", "%s")
    out = _tail(out, ignore, returning_id)
    return re.sub("\0(\\d+)\0", lambda m: literals[int(m.group(1))].replace("%", "%%"), out)


def wants_id(sql: str) -> bool:
    """Whether an INSERT goes into a table with an id the caller may read as lastrowid."""
    found = _INSERT_INTO.match(_OR_IGNORE.sub("INSERT INTO", sql, count=1))
    return bool(found and found.group(1) in ID_TABLES and not _RETURNING.search(sql))


def _tail(sql: str, ignore: bool, returning_id: bool) -> str:
    """ON CONFLICT DO NOTHING (for OR IGNORE) and RETURNING id go at the end, in that order."""
    body = sql.rstrip().rstrip(";")
    returning = ""
    found = _RETURNING.search(body)
    if found:
        body, returning = body[:found.start()].rstrip(), " " + body[found.start():]
    if ignore:
        body += " ON CONFLICT DO NOTHING"
    if returning_id and not returning:
        returning = " RETURNING id"
    return body + returning


def _rowid(sql: str) -> str:
    table = _TABLE.search(sql)
    column = ROWID_COLUMNS.get(table.group(1), "rowid") if table else "rowid"
    # `rowid AS rowid_` keeps its alias; every other rowid names the table's key
    return _ROWID.sub(column, sql)


def _arguments(sql: str, start: int) -> tuple[list[str], int]:
    """The top-level arguments of the call whose "(" ends at `start`, and where it ends."""
    depth, parts, begin, i = 1, [], start, start
    while i < len(sql) and depth:
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        if (sql[i] == "," and depth == 1) or depth == 0:
            parts.append(sql[begin:i].strip())
            begin = i + 1
        i += 1
    return parts, i


def _group_concat(sql: str) -> str:
    """group_concat(x[, sep]) is string_agg(x as text, sep), the separator ',' by default."""
    pattern = re.compile(r"\bgroup_concat\(", re.IGNORECASE)
    while (found := pattern.search(sql)) is not None:
        args, end = _arguments(sql, found.end())
        sep = args[1] if len(args) > 1 else "','"
        sql = f"{sql[:found.start()]}string_agg(CAST({args[0]} AS text), {sep}){sql[end:]}"
    return sql


def _two_argument(sql: str, name: str, other: str) -> str:
    """SQLite's scalar max(a, b) / min(a, b) is PostgreSQL's greatest / least."""
    pattern = re.compile(rf"\b{name}\(", re.IGNORECASE)
    pos = 0
    while (found := pattern.search(sql, pos)) is not None:
        start, depth, commas = found.end(), 1, 0
        i = start
        while i < len(sql) and depth:
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            commas += sql[i] == "," and depth == 1
            i += 1
        if commas:
            sql = sql[:found.start()] + other + "(" + sql[start:]
        pos = found.start() + 1
    return sql
