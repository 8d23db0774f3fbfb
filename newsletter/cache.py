"""What makes a rebuild cheap; a folder the user may delete at any time.

Two things are kept, and both are only ever a shortcut to the same result:

* parsed files, named by a hash of their path and bytes, so unchanged days are not
  parsed again and a new day adds one entry; each file is kept twice, in full and
  as an outline (its mentions), so a build holds the outline of every day but the
  papers of only the days it renders;
* what the last build into an ``out/`` folder rendered: for every unit of
  output (a day's page, a day's email, the feeds…) the hash of everything it
  depends on and the files it wrote, and for every file its size and mtime.
  A unit whose inputs hash the same and whose files in ``out/`` are untouched
  is neither rendered nor read again.

Anything unreadable or from another version is ignored, as if the folder were empty.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from . import __version__

T = TypeVar("T")
FORMAT = f"newsletter-cache-7-{__version__}"
PARSED = "parsed"  # folder of parsed files


class _Hasher(io.RawIOBase):
    def __init__(self) -> None:
        self.sha = hashlib.sha256()

    def write(self, data: Any) -> int:
        self.sha.update(data)
        return len(data)


def digest(*parts: object) -> str:
    """A hash of values made of frozen dataclasses, tuples, strings and numbers.

    Pickling is many times faster than repr and, for such values, gives the same bytes in
    every process. The pickler runs without its memo ("fast" mode), so two equal values
    hash the same whether or not they share objects (a freshly parsed day and the same day
    loaded from the cache do not).
    """
    hasher = _Hasher()
    pickler = pickle.Pickler(hasher, protocol=5)
    pickler.fast = True  # no memo: the bytes depend on values only
    for part in parts:
        if isinstance(part, bytes):
            hasher.write(part)
        else:
            pickler.dump(part)
        hasher.write(b"\0")
    return hasher.sha.hexdigest()


@dataclass
class State:
    """What the last build wrote into one ``out/`` folder."""

    units: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # key -> files, notes
    stamps: dict[str, list[int]] = field(default_factory=dict)  # path -> [size, mtime_ns]
    inputs: str = ""  # hash of every input byte, the configuration and the templates
    summary: dict[str, Any] = field(default_factory=dict)  # what that build reported

    def intact(self, out: Path, path: str) -> bool:
        stamp = self.stamps.get(path)
        try:
            return stamp == _stamp(os.path.join(out, path))
        except OSError:
            return False


def _stamp(path: str) -> list[int]:
    status = os.stat(path)  # not pathlib: a build stamps thousands of files
    return [status.st_size, status.st_mtime_ns]


class Cache:
    """Without a folder, parses are kept in memory for the one build, and nothing else is kept."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.parsed_used: set[str] = set()
        self._memory: dict[tuple[str, str], object] = {}

    @property
    def persistent(self) -> bool:
        return self.folder is not None

    def load(self, key: str, kind: str) -> Any:
        """A stored parse of one file's bytes (``key`` hashes them), or None.

        ``kind`` is "full" (its papers) or "outline" (its mentions only)."""
        self.parsed_used.add(key)
        if self.folder is None:
            return self._memory.get((key, kind))
        try:
            stored_format, value = pickle.loads(
                (self.folder / PARSED / f"{key}.{kind}").read_bytes()
            )
        except Exception:  # absent, damaged or foreign: parse again
            return None
        return value if stored_format == FORMAT else None

    def keep(self, key: str, **kinds: object) -> None:
        """Store parses at once: they stay right even if the build fails later."""
        for kind, value in kinds.items():
            if self.folder is None:
                self._memory[(key, kind)] = value
                continue
            try:
                (self.folder / PARSED).mkdir(parents=True, exist_ok=True)
                _replace(self.folder / PARSED / f"{key}.{kind}", pickle.dumps((FORMAT, value)))
            except OSError:
                pass

    def _small(self, name: str, key: str) -> Path | None:
        return self.folder / f"{name}-{key[:32]}.pickle" if self.folder else None

    def recall(self, name: str, key: str) -> Any:
        """A small value kept by :meth:`remember` (the email inliner for a stylesheet), or None."""
        if (path := self._small(name, key)) is None:
            return None
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except Exception:  # absent, damaged or foreign: computed again
            return None

    def remember(self, name: str, key: str, value: T) -> T:
        """Keep ``value`` for ``key``, in place of what was kept under older keys."""
        if (path := self._small(name, key)) is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                _replace(path, pickle.dumps(value))
                for older in path.parent.glob(f"{name}-*.pickle"):
                    if older != path:
                        older.unlink(missing_ok=True)
            except OSError:
                pass
        return value

    def _state_path(self, out: Path) -> Path:
        assert self.folder is not None
        return self.folder / f"state-{digest(str(out.absolute()))[:16]}.json"

    def state(self, out: Path) -> State:
        if self.folder is None:
            return State()
        try:
            stored = json.loads(self._state_path(out).read_text())
        except (OSError, ValueError):
            return State()
        if not isinstance(stored, dict) or stored.get("format") != FORMAT:
            return State()
        try:
            return State(stored["units"], stored["stamps"], stored["inputs"], stored["summary"])
        except (KeyError, TypeError):
            return State()

    def save(
        self,
        out: Path,
        units: dict[str, dict[str, list[str]]],
        *,
        inputs: str,
        summary: dict[str, Any],
    ) -> None:
        """Record the build just written; a cache that cannot be written is skipped quietly."""
        if self.folder is None:
            return
        paths = {path for unit in units.values() for path in unit["files"]}
        state = {
            "format": FORMAT,
            "units": units,
            "stamps": {path: _stamp(os.path.join(out, path)) for path in sorted(paths)},
            "inputs": inputs,
            "summary": summary,
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _replace(self._state_path(out), json.dumps(state).encode())
            self._forget_unused_parses()
        except OSError:
            pass

    def _forget_unused_parses(self) -> None:
        """Entries of files that changed or left the archive would only fill the folder."""
        assert self.folder is not None
        for entry in os.scandir(self.folder / PARSED):
            if entry.name.split(".")[0] not in self.parsed_used:
                os.unlink(entry.path)


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all; a failed write (a full disk) leaves nothing behind."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
