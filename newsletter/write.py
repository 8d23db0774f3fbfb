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
from collections.abc import Iterator
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


def _same(old: str, data: bytes) -> bool:
    try:
        if os.stat(old).st_size != len(data):
            return False
        with open(old, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


@contextmanager
def _reported(fallback: Path | str) -> Iterator[None]:
    """OSError as the OutputError the user sees, naming the file."""
    try:
        yield
    except OSError as error:
        where = error.filename or fallback
        raise OutputError(f"cannot write: {error.strerror}", file=str(where)) from None


class Staging:
    """The next ``out/``, assembled file by file beside the current one.

    Files are staged as they are rendered, so a build holds one unit of output in
    memory at a time; forked workers may stage into the same folder. Nothing is
    visible in ``out/`` until :meth:`commit`.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.root = out.with_name(f".{out.name}{STAGING_SUFFIX}")
        self._folders: set[str] = set()

    # Paths as strings from here on: a build stages thousands of files, and pathlib's
    # objects cost more than the system calls they wrap.
    def _folder(self, target: str) -> None:
        folder = os.path.dirname(target)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)

    def put(self, relative: str, data: bytes) -> bool:
        """Stage a rendered file; True if it was written, False if out/ had these bytes."""
        target = os.path.join(self.root, relative)
        with _reported(target):
            self._folder(target)
            old = os.path.join(self.out, relative)
            if _same(old, data):
                self._link(old, target)
                return False
            Path(target).write_bytes(data)
            return True

    def keep(self, relative: str) -> None:
        """Stage out/'s current file, known to be unchanged."""
        target = os.path.join(self.root, relative)
        with _reported(target):
            self._folder(target)
            self._link(os.path.join(self.out, relative), target)

    @staticmethod
    def _link(old: str, target: str) -> None:
        try:
            os.link(old, target)  # same inode: the mtime stays
        except OSError:
            shutil.copy2(old, target)

    def commit(self, paths: set[str], written: int) -> WriteStats:
        """Swap the staged ``paths`` in for out/ if anything was written or removed."""
        with _reported(self.out):
            removed = _count_removed(self.out, paths)
            if written or removed or not self.out.exists():
                _swap_in(self.root, self.out)
        return WriteStats(written=written, unchanged=len(paths) - written, removed=removed)


@contextmanager
def staged(out: Path) -> Iterator[Staging]:
    """A :class:`Staging` for ``out``, with the folder locked against a second build."""
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise OutputError("exists and is not a folder", file=str(out))
    with _reported(out):
        out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        staging = Staging(out)
        with _reported(staging.root):
            shutil.rmtree(staging.root, ignore_errors=True)  # left by a build that was killed
            staging.root.mkdir()
        try:
            yield staging
        finally:
            shutil.rmtree(staging.root, ignore_errors=True)


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
    with _reported(lock_path):
        lock = open(lock_path, "a")  # noqa: SIM115 (closed by the with below)
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OutputError("another build is writing this folder", file=str(out)) from None
        yield


def _count_removed(out: Path, paths: set[str]) -> int:
    """Files of ``out`` that are not among ``paths`` (relative, with "/")."""
    old: set[str] = set()
    for folder, _, files in os.walk(out):
        prefix = os.path.relpath(folder, out).replace(os.sep, "/") + "/"
        old.update(name if prefix == "./" else prefix + name for name in files)
    return len(old - paths)
