"""No PostgreSQL server: the PostgreSQL tests are skipped with the reason, or fail under CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve_kit import ROOT, free_port

SAMPLE = '''
from pathlib import Path

def test_each_back_end(backend: Path | str) -> None:
    assert backend
'''


@pytest.mark.parametrize("ci", ["", "true"])
def test_without_a_server_postgres_is_skipped_with_the_reason_or_fails_in_ci(
        tmp_path: Path, ci: str) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text(SAMPLE)
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.pg_kit"]\n')
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    env = {**os.environ, "RJBOT_TEST_POSTGRES": dead, "CI": ci, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "--rootdir",
         str(tmp_path), "-c", os.devnull, str(sample)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    out = done.stdout + done.stderr
    assert "1 passed" in out  # SQLite's half ran
    assert f"RJBOT_TEST_POSTGRES ({dead})" in out
    if ci:
        assert done.returncode != 0 and "1 error" in out and "CI=true" in out
    else:
        assert done.returncode == 0 and "1 skipped" in out and "SKIPPED" in out
