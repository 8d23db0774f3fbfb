"""Put a rendered tree in place atomically, rewriting only files whose bytes changed.

The new tree is assembled in a staging folder beside ``out/``: unchanged files are
hard links to the old ones (same inode, same mtime), changed ones are written
fresh. The staging folder then takes ``out/``'s place in one step (Linux's
``renameat2`` exchange), so a build that fails or is killed at any moment
leaves the previous ``out/`` whole. Where the file system cannot exchange two
folders (NFS, CIFS, some FUSE), two renames do it, and the next build puts back
whatever a kill between them left. An ``out/`` that is a symbolic link stays
one: the folder it points to is replaced.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError

STAGING_SUFFIX = ".staging"
RETIRED_SUFFIX = ".old"
LOCK_SUFFIX = ".lock"
AT_FDCWD = -100
RENAME_EXCHANGE = 2
LOCK_POLL = 0.1  # seconds between two tries for a lock another build holds


@dataclass(frozen=True)
class WriteStats:
    written: int
    unchanged: int
    removed: int


@dataclass(frozen=True)
class Claim:
    """An ``out/`` folder a build holds: the real folder (a link resolved), and when the
    build started looking at its input, as a file time (see ``archive``)."""

    out: Path
    looked: int

    @property
    def staging(self) -> Path:
        return _beside(self.out, STAGING_SUFFIX)


def _beside(out: Path, suffix: str) -> Path:
    return out.with_name(f".{out.name}{suffix}")


@contextmanager
def _reported(fallback: Path | str) -> Iterator[None]:
    """OSError as the OutputError the user sees, naming the file."""
    try:
        yield
    except OSError as error:
        where = error.filename or fallback
        raise OutputError(f"cannot write: {error.strerror}", file=str(where)) from None


@contextmanager
def claimed(out: str, wait: float, keep: Mapping[str, str]) -> Iterator[Claim]:
    """Hold ``out`` for one build, from reading what the last build left to saving what this
    one did: a second build waits up to ``wait`` seconds, then gives up with an error.
    ``out`` is replaced whole, so it may not be, or hold, anything in ``keep`` (what each
    path is, by path): the current folder, the archive, the cache, the settings."""
    target = Path(os.path.realpath(out))
    for path, what in {".": "the current folder", **keep}.items():
        real = Path(os.path.realpath(path))
        if real == target or target in real.parents:
            message = f"would replace {what}; choose a folder of its own"
            raise OutputError(message, file=out or repr(out))
    if target.exists() and not target.is_dir():
        raise OutputError("exists and is not a folder", file=out)
    with _reported(target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = _beside(target, LOCK_SUFFIX)
    with _reported(lock_path):
        lock = open(lock_path, "a")  # noqa: SIM115 (closed by the with below)
    with lock:
        hold(lock.fileno(), wait, "another build is writing this folder", out)
        with _reported(target):
            _recover(target)
            os.utime(lock.fileno())  # now, as the file system tells time
            looked = os.fstat(lock.fileno()).st_mtime_ns
        yield Claim(target, looked)


@contextmanager
def reading(out: str, wait: float) -> Iterator[Path]:
    """``out`` (a link resolved), held against a build replacing it while it is read."""
    target = Path(os.path.realpath(out))
    lock_path = _beside(target, LOCK_SUFFIX)
    with _reported(lock_path):
        lock = open(lock_path, "a")  # noqa: SIM115 (closed by the with below)
    with lock:
        hold(lock.fileno(), wait, "a build is writing this folder", out)
        yield target


def hold(handle: int, wait: float, busy: str, file: str) -> None:
    """An exclusive lock on an open file, waiting up to ``wait`` seconds for whoever holds
    it; then OutputError(``busy``)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError:
            if time.monotonic() >= deadline:
                waited = f" (waited {wait:g} s)" if wait else ""
                raise OutputError(busy + waited, file=file) from None
            time.sleep(LOCK_POLL)


def _recover(out: Path) -> None:
    """Undo what a build killed in the middle of a two-rename swap left: the previous tree
    set aside, with or without the new one in its place."""
    retired = _beside(out, STAGING_SUFFIX + RETIRED_SUFFIX)
    if not retired.exists():
        return
    if out.exists():  # the new tree made it in: the old one is only a leftover
        shutil.rmtree(retired)
    else:
        retired.rename(out)


def _same(old: str, data: bytes) -> bool:
    try:
        if os.stat(old).st_size != len(data):
            return False
        with open(old, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


class Staging:
    """The next ``out/``, assembled file by file beside the current one.

    Files are staged as they are rendered, so a build holds one output in memory at a
    time; forked workers may stage into the same folder. Nothing is visible in
    ``out/`` until :meth:`commit`.
    """

    def __init__(self, claim: Claim) -> None:
        self.out = claim.out
        self.root = claim.staging
        self._folders: set[str] = set()
        self._out, self._root = f"{self.out}/", f"{self.root}/"

    # Paths as strings, joined by hand: a build stages thousands of files, and pathlib's
    # objects (or os.path.join) cost more than the system calls they wrap.
    def _folder(self, target: str) -> None:
        folder = os.path.dirname(target)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)

    def put(self, relative: str, data: bytes) -> bool:
        """Stage a rendered file; True if it was written, False if out/ had these bytes."""
        target = self._root + relative
        with _reported(target):
            self._folder(target)
            old = self._out + relative
            if _same(old, data):
                self._link(old, target)
                return False
            with open(target, "xb") as handle:
                handle.write(data)
            return True

    def keep(self, relative: str) -> None:
        """Stage out/'s current file, known to be unchanged."""
        target = self._root + relative
        with _reported(target):
            self._folder(target)
            self._link(self._out + relative, target)

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
def staged(claim: Claim) -> Iterator[Staging]:
    """A :class:`Staging` for a claimed ``out``, removed when the build ends, however."""
    staging = Staging(claim)
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
    # Without an atomic exchange there is a moment with no out/: a kill then leaves the old
    # tree set aside, and the next build puts it back (see _recover).
    retired = _beside(out, STAGING_SUFFIX + RETIRED_SUFFIX)
    out.rename(retired)
    staging.rename(out)
    retired.rename(staging)


def files(out: Path) -> set[str]:
    """Every file below ``out``, relative, with "/"."""
    found: set[str] = set()
    for folder, _, names in os.walk(out):
        prefix = os.path.relpath(folder, out).replace(os.sep, "/") + "/"
        found.update(name if prefix == "./" else prefix + name for name in names)
    return found


def _count_removed(out: Path, paths: set[str]) -> int:
    """Files of ``out`` that are not among ``paths`` (relative, with "/")."""
    return len(files(out) - paths)
