"""What the last build into one ``out/`` folder did, as the cache keeps it.

Two entries, so that a build with nothing to do reads only the small one: the
state (the hash of the code, templates and settings it ran with, when it looked
at the archive, each archive file's stat, each ``out/`` file's size and mtime,
what it reported) and the index (each archive file's key, outline and problems,
and each output's key, files and notes). Either one that does not validate,
field by field, or that does not belong with the other, is no record at all:
the next build does everything again, never less.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .archive import Record, Signature
from .cache import Cache, digest
from .errors import Problem
from .model import Mention, Origin

Stamp = tuple[int, int]  # size, mtime_ns


@dataclass(frozen=True)
class Made:
    """One output as a build made it: its key, its files, its notes."""

    key: str
    paths: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class State:
    salt: str = ""  # the code, templates and settings the build ran with
    looked: int = 0  # when it looked at the archive (a file time, ns)
    signatures: Mapping[str, Signature | None] = field(default_factory=dict)
    stamps: Mapping[str, Stamp] = field(default_factory=dict)
    summary: Mapping[str, Any] = field(default_factory=dict)

    def intact(self, out: Path, paths: tuple[str, ...] | list[str]) -> bool:
        """Whether these files of ``out`` are what the build left there."""
        for path in paths:
            try:
                status = os.stat(os.path.join(out, path))
            except OSError:
                return False
            if self.stamps.get(path) != (status.st_size, status.st_mtime_ns):
                return False
        return True


@dataclass(frozen=True)
class Index:
    records: Mapping[str, Record] = field(default_factory=dict)
    made: Mapping[str, Made] = field(default_factory=dict)


def stamp(out: Path, path: str) -> Stamp:
    status = os.stat(os.path.join(out, path))
    return (status.st_size, status.st_mtime_ns)


def _names(out: Path) -> tuple[str, str]:
    name = digest(str(out))[:16]
    return f"state-{name}", f"index-{name}"


def save(cache: Cache, out: Path, state: State, index: Index) -> None:
    """Record a build; a cache that cannot be written is skipped quietly."""
    state_name, index_name = _names(out)
    records = {
        path: [
            r.key,
            {
                d.isoformat(): [[m.arxiv_id, m.origin.line, m.votes, m.text] for m in mentions]
                for d, mentions in r.days.items()
            },
            [[p.line, p.severity, p.message] for p in r.problems],
        ]
        for path, r in index.records.items()
    }
    made = {name: [m.key, list(m.paths), list(m.notes)] for name, m in index.made.items()}
    tag = [state.salt, state.looked]  # what ties the two entries together
    cache.put(index_name, {"of": tag, "records": records, "made": made})
    cache.put(
        state_name,
        {
            "of": tag,
            "signatures": {p: list(s) if s else None for p, s in state.signatures.items()},
            "stamps": {path: list(s) for path, s in state.stamps.items()},
            "summary": state.summary,
        },
    )


def load_state(cache: Cache, out: Path) -> State:
    """The last build's state, or an empty one if it is missing or does not validate."""
    try:
        return _state(cache.get(_names(out)[0]))
    except (ValueError, TypeError, KeyError, AttributeError):
        return State()


def load_index(cache: Cache, out: Path, state: State) -> Index:
    """The last build's index, if it is the one of ``state``, else an empty one."""
    try:
        return _index(cache.get(_names(out)[1]), state)
    except (ValueError, TypeError, KeyError, AttributeError):
        return Index()


def _check(condition: bool) -> None:
    if not condition:
        raise ValueError("not a state")


def _strs(values: Any) -> tuple[str, ...]:
    _check(isinstance(values, list) and all(isinstance(v, str) for v in values))
    return tuple(values)


def _ints(values: Any, count: int) -> tuple[int, ...]:
    _check(isinstance(values, list) and len(values) == count)
    _check(all(isinstance(v, int) and not isinstance(v, bool) for v in values))
    return tuple(values)


def _state(data: Any) -> State:
    salt, looked = data["of"]
    _check(isinstance(salt, str) and isinstance(looked, int) and not isinstance(looked, bool))
    signatures: dict[str, Signature | None] = {
        path: None if value is None else _ints(value, 4)  # type: ignore[misc]
        for path, value in data["signatures"].items()
    }
    stamps: dict[str, Stamp] = {p: _ints(v, 2) for p, v in data["stamps"].items()}  # type: ignore[misc]
    summary = data["summary"]
    _check(isinstance(summary, dict))
    return State(salt, looked, signatures, stamps, summary)


def _mention(path: str, data: Any) -> Mention:
    arxiv_id, line, votes, text = data
    _check(isinstance(arxiv_id, str) and isinstance(text, str) and isinstance(line, int))
    _check(votes is None or (isinstance(votes, int) and not isinstance(votes, bool)))
    return Mention(arxiv_id, Origin(path, line), votes, text)


def _problem(path: str, data: Any) -> Problem:
    line, severity, message = data
    _check(line is None or (isinstance(line, int) and not isinstance(line, bool)))
    _check(severity in ("error", "warning") and isinstance(message, str))
    return Problem(path, line, severity, message)


def _record(path: str, data: Any, signature: Signature | None) -> Record:
    key, days, problems = data
    _check(isinstance(key, str) or key is None)
    return Record(
        path,
        signature,
        key,
        {
            dt.date.fromisoformat(date): tuple(_mention(path, m) for m in mentions)
            for date, mentions in days.items()
        },
        tuple(_problem(path, p) for p in problems),
    )


def _index(data: Any, state: State) -> Index:
    _check(data["of"] == [state.salt, state.looked])
    records = {
        path: _record(path, record, state.signatures[path])
        for path, record in data["records"].items()
    }
    _check(set(records) == set(state.signatures))
    made = {}
    for name, (key, paths, notes) in data["made"].items():
        _check(isinstance(key, str))
        made[name] = Made(key, _strs(paths), _strs(notes))
    _check(set(state.stamps) == {p for m in made.values() for p in m.paths})
    return Index(records, made)
