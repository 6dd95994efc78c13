"""Key files reach the disk whole (temp file, fsync, rename, folder fsync); exports are private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot import admin, safefile
from bot.crypto import load_keys

ROOT = Path(__file__).resolve().parent.parent
PHONE = "+447700900777"


class Disk:
    """Records what reached the disk, in order: fsyncs (by path) and renames/links."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[str, str]] = []
        real_fsync, real_replace, real_link = os.fsync, os.replace, os.link

        def fsync(fd: int) -> None:
            self.events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
            real_fsync(fd)

        def replace(src: str | Path, dst: str | Path) -> None:
            self.events.append(("rename", str(dst)))
            real_replace(src, dst)

        def link(src: str | Path, dst: str | Path) -> None:
            self.events.append(("rename", str(dst)))
            real_link(src, dst)

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(os, "link", link)

    def durable_write_of(self, path: Path) -> bool:
        """A temp file beside `path` fsynced, then renamed onto it, then the folder fsynced."""
        try:
            at = self.events.index(("rename", str(path)))
        except ValueError:
            return False
        before, after = self.events[:at], self.events[at + 1:]
        temp_synced = any(e == "fsync" and Path(p).parent == path.parent.resolve()
                          and Path(p).name.startswith(f".{path.name}.") for e, p in before)
        return temp_synced and ("fsync", str(path.parent.resolve())) in after


def test_the_first_start_writes_the_key_file_durably(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    disk = Disk(monkeypatch)
    key_file = tmp_path / "data" / "db.key"
    key, old = load_keys(None, None, key_file)
    assert disk.durable_write_of(key_file), disk.events
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_keys(None, None, key_file) == (key, old)  # read back, not made again
    assert [p.name for p in key_file.parent.iterdir()] == ["db.key"]  # no temp file left


def test_rotate_key_rewrites_the_key_file_durably(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "db.key"
    first, _ = load_keys(None, None, key_file)
    disk = Disk(monkeypatch)
    admin._prepend_key(key_file)
    assert disk.durable_write_of(key_file), disk.events
    new, old = load_keys(None, None, key_file)
    assert new != first and old == (first,)
    disk.events.clear()
    admin._drop_old_keys(key_file)
    assert disk.durable_write_of(key_file), disk.events
    assert load_keys(None, None, key_file) == (new, ())
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_crash_before_the_rename_leaves_the_old_key_file_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "db.key"
    load_keys(None, None, key_file)
    before = key_file.read_bytes()

    def power_cut(src: str | Path, dst: str | Path) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(OSError, match="power cut"):
        admin._prepend_key(key_file)
    assert key_file.read_bytes() == before  # an in-place write would have truncated it
    assert [p.name for p in tmp_path.iterdir()] == ["db.key"]


def test_two_first_starts_share_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "db.key"
    assert safefile.create_atomic(key_file, "a\n")
    assert not safefile.create_atomic(key_file, "b\n")
    assert key_file.read_text() == "a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["db.key"]


def _rjbot(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RJBOT_DATABASE": str(db),
           "RJBOT_DATA_KEY": ""}
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, text=True,
                          capture_output=True, cwd=db.parent, env=env, timeout=60,
                          preexec_fn=lambda: os.umask(0o022))


def test_export_is_private_to_the_service_account(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    talk = _rjbot(db, "simulate", "--from", PHONE, "--db", str(db), stdin="hello\n")
    assert talk.returncode == 0, talk.stderr
    done = _rjbot(db, "export", "--address", PHONE)  # the default folder, under umask 022
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "rjbot-exports"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == ["rjbot-export-1.html", "rjbot-export-1.json"]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    refused = _rjbot(db, "export", "--address", PHONE, "--out", str(shared))
    assert refused.returncode == 2 and "0755" in refused.stderr
    assert not list(shared.iterdir())
