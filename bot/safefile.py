"""Files that must survive a power cut whole, and files only the service account may read.

A key file rewritten in place can be empty or half-written after a crash while the data is
already sealed under the new key. So every write goes to a temporary file in the same folder,
is fsynced, then renamed over the old one (rename is atomic on POSIX), and the folder itself is
fsynced so the rename is on disk too. A reader sees the old file or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


class UnsafeFolderError(Exception):
    """The folder asked for can be read by other accounts on the machine."""


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return tmp


def write_atomic(path: Path, data: str | bytes, mode: int = PRIVATE_FILE) -> None:
    """Replace `path` with `data` as one step that a crash cannot leave half done."""
    raw = data.encode() if isinstance(data, str) else data
    tmp = _write_temp(path, raw, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def create_atomic(path: Path, data: str | bytes, mode: int = PRIVATE_FILE) -> bool:
    """Make `path` with `data` unless it exists already (two first starts at once: one wins,
    the other reads the winner's file). True if this call made it."""
    raw = data.encode() if isinstance(data, str) else data
    tmp = _write_temp(path, raw, mode)
    try:
        os.link(tmp, path)  # unlike rename, a link never replaces an existing file
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(path.parent)
    return True


def private_folder(folder: Path) -> Path:
    """A folder for decrypted copies: made with mode 0700, or an existing one nobody else can
    enter; one that others can read is refused rather than quietly changed."""
    if not folder.exists():
        folder.mkdir(mode=PRIVATE_DIR, parents=True)
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is masked by the umask
        fsync_dir(folder.parent.resolve())
        return folder
    mode = stat.S_IMODE(folder.stat().st_mode)
    if not folder.is_dir():
        raise UnsafeFolderError(f"{folder} is not a folder")
    if mode & 0o077:
        raise UnsafeFolderError(
            f"other accounts on this machine can open {folder} (mode {mode:04o}): give --out a "
            "new folder (it is made with mode 0700) or run `chmod 700` on this one")
    return folder


def write_private(path: Path, data: str | bytes) -> None:
    """A decrypted copy (an export): mode 0600 from the first byte, whole or not at all."""
    write_atomic(path, data, PRIVATE_FILE)
