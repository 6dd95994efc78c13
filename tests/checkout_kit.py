"""A copy of this checkout as a fresh clone has it: sources only, no .venv, no build output."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.mo", "data",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "*.sqlite3*", "node_modules")


def copy_checkout(dst: Path) -> Path:
    """The working tree (uncommitted changes too, so they are what is tested) without what
    git ignores for being made by a run or a build."""
    shutil.copytree(ROOT, dst, ignore=NOT_SOURCE)
    return dst
