"""Put a rendered tree in place atomically, rewriting only files whose bytes changed.

The new tree is assembled in a staging folder beside ``out/``: unchanged files are
hard links to the old ones (same inode, same mtime), changed ones are written
fresh. The staging folder then takes ``out/``'s place in one rename, so a build
that fails or is killed at any moment leaves the previous ``out/`` whole.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError

STAGING_SUFFIX = ".staging"
LOCK_SUFFIX = ".lock"
AT_FDCWD = -100
RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class WriteStats:
    written: int
    unchanged: int
    removed: int


def _same(old: Path, data: bytes) -> bool:
    try:
        return old.stat().st_size == len(data) and old.read_bytes() == data
    except OSError:
        return False


def _stage(
    staging: Path, out: Path, paths: set[str], files: Mapping[str, bytes], changed: set[str]
) -> None:
    for relative in sorted(paths):
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative in changed:
            target.write_bytes(files[relative])
            continue
        try:
            os.link(out / relative, target)
        except OSError:
            shutil.copy2(out / relative, target)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return bool(result == 0)


def _swap_in(staging: Path, out: Path) -> None:
    """Make ``staging`` the new ``out``; afterwards ``staging`` holds the old tree, if any."""
    if not out.exists():
        staging.rename(out)
        return
    if _exchange(staging, out):
        return
    # Without an atomic exchange there is a moment with no out/; keep it as short as we can.
    retired = staging.with_name(staging.name + ".old")
    out.rename(retired)
    staging.rename(out)
    retired.rename(staging)


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    lock_path = out.with_name(f".{out.name}{LOCK_SUFFIX}")
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OutputError("another build is writing this folder", file=str(out)) from None
        yield


def _count_removed(out: Path, paths: set[str]) -> int:
    if not out.is_dir():
        return 0
    old = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    return len(old - paths)


def write_tree(out: Path, files: Mapping[str, bytes], keep: Iterable[str] = ()) -> WriteStats:
    """Replace ``out`` with exactly ``files`` (relative path -> bytes) plus the ``keep``
    paths of the current ``out``, known unchanged, atomically."""
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise OutputError("exists and is not a folder", file=str(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with _locked(out):
            staging = out.with_name(f".{out.name}{STAGING_SUFFIX}")
            shutil.rmtree(staging, ignore_errors=True)  # left by a build that was killed
            paths = set(files) | set(keep)
            removed = _count_removed(out, paths)
            changed = {path for path, data in files.items() if not _same(out / path, data)}
            if changed or removed or not out.exists():
                staging.mkdir()
                try:
                    _stage(staging, out, paths, files, changed)
                    _swap_in(staging, out)
                finally:
                    shutil.rmtree(staging, ignore_errors=True)
    except OSError as error:
        where = error.filename or out
        raise OutputError(f"cannot write: {error.strerror}", file=str(where)) from None
    return WriteStats(written=len(changed), unchanged=len(paths) - len(changed), removed=removed)
