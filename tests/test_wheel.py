"""A built wheel runs on its own: installed into a fresh venv, `rjbot` works from any folder.

The wheel is built from a copy of the checkout without any compiled catalog, so its texts can
only come from the build step (setup.py); it is installed into a new venv (the dependencies
come from this environment's site-packages through a .pth file, so nothing is downloaded
but the build's own requirements) and run from a folder that has no `locales/`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.checkout_kit import copy_checkout


def build_wheel(tmp: Path) -> Path:
    src = copy_checkout(tmp / "src")
    out = tmp / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(out), str(src)], check=True, timeout=600, capture_output=True)
    (wheel,) = out.glob("rjbot-*.whl")
    return wheel


def venv_with(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig."
                              "get_path('purelib'))"], check=True, capture_output=True,
                             text=True).stdout.strip()
    # the dependencies: this environment's packages, after the venv's own (so its rjbot wins)
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(purelib) / "rjbot-test-deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "--no-index", "--quiet", str(wheel)], check=True, timeout=300)
    return venv


@pytest.mark.slow
def test_an_installed_wheel_talks_in_every_locale_from_any_folder(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert {"bot/locales/en_GB/LC_MESSAGES/messages.mo",
            "bot/locales/pl/LC_MESSAGES/messages.mo"} <= set(names)
    venv = venv_with(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RJBOT_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import bot.i18n as i; "
                            "print(i.__file__); print(i.LOCALE_DIR)"], cwd=elsewhere, env=env,
                           check=True, capture_output=True, text=True).stdout.split()
    assert where[0].startswith(str(venv)) and where[1].startswith(str(venv))
    run = subprocess.run(
        [str(venv / "bin" / "rjbot"), "simulate", "--from", "+447700900123", "--db", "a.db"],
        input="hello\nPOLSKI\n", cwd=elsewhere, env=env, capture_output=True, text=True,
        timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    said = [m["text"] for m in map(json.loads, run.stdout.splitlines()) if "text" in m]
    assert "automated assistant" in said[0]
    assert said[-1].startswith("Pytanie 1 z 6")  # Polish, from the wheel's own catalog
    assert (elsewhere / "a.db").exists() and not (elsewhere / "data").exists()
