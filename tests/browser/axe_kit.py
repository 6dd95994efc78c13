"""axe-core from npm (package.json at the checkout's top, installed by `npm ci`, which
scripts/test.sh and .ci/run run) checks a page the browser shows.

The console's Content-Security-Policy stays in force (default-src 'self': an inline script
tag would be refused, and bypassing the policy would hide what it blocks for real users), so
the script is loaded as Playwright's add_script_tag would, but through the page's evaluator,
which the policy does not govern. Skipped without node_modules outside CI, a failure in CI.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def require_axe() -> Path:
    if AXE.exists():
        return AXE
    if os.environ.get("CI"):
        pytest.fail("CI must install axe-core from npm (`npm ci` in the checkout)")
    pytest.skip("axe-core is not installed: run `npm ci` in the checkout (needs npm)")


def summary(violations: list[dict[str, Any]]) -> str:
    """Each violation's rule, impact, help text and the first few offending elements."""
    lines = []
    for v in violations:
        targets = [json.dumps(n.get("target")) for n in v.get("nodes", [])[:5]]
        lines.append(f"{v['id']} ({v.get('impact')}): {v.get('help')} at {', '.join(targets)}")
    return "\n".join(lines)


async def violations(page: Page) -> list[dict[str, Any]]:
    source = require_axe().read_text(encoding="utf-8")
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(source + "\n;undefined")
    result: dict[str, Any] = await page.evaluate("axe.run(document)")
    found: list[dict[str, Any]] = result["violations"]
    return found


async def no_axe_violations(page: Page) -> None:
    found = await violations(page)
    assert found == [], f"axe-core {AXE.parent.name} on {page.url}:\n{summary(found)}"
