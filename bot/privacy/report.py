"""The readable page of an access request: the same data as the JSON, escaped, in tables."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

STYLE = ("body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.5}"
         "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3rem;"
         "text-align:left;vertical-align:top}")


def _cell(value: Any) -> str:
    if isinstance(value, float) and value > 1e9:
        value = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, indent=1)
    return html.escape("" if value is None else str(value))


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>None held.</p>"
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in r.values()) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(data: dict[str, Any], generated: datetime) -> str:
    parts = [f"<h2>{html.escape(name.title())}</h2>" + (
        _table(value) if isinstance(value, list) else f"<pre>{_cell(value)}</pre>")
        for name, value in data.items()]
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Information we hold</title><style>{STYLE}</style></head><body>"
        "<h1>Information we hold about you</h1>"
        f"<p>Produced {generated.strftime('%Y-%m-%d %H:%M UTC')}.</p>{''.join(parts)}"
        "</body></html>"
    )
