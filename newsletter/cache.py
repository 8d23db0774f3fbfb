"""What makes rebuilds fast: a folder of data the user may delete at any time.

Every entry is JSON, written whole or not at all, behind a first line that holds
the cache's format and a hash of the JSON. An entry that is absent, damaged,
edited or from another version is a miss, and the work it would have spared is
done again: nothing read from here is ever obeyed unchecked, and nothing in it
can run as code. JSON is written and read with orjson: a parsed day takes 0.06 ms
to write, where the standard library's json takes 1.1 ms (0.4 s of a full build).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import orjson

FORMAT = b"newsletter-cache-9"


def digest(*parts: object) -> str:
    """A hash of values made of frozen dataclasses, tuples, strings, numbers and dates.

    Pickling is many times faster than repr and, for such values, gives the same bytes in
    every process. The pickler runs without its memo ("fast" mode), so two equal values
    hash the same whether or not they share objects. It is only ever used to hash: nothing
    is unpickled. What an output reads is hashed with :func:`fingerprint` instead.
    """
    return _hashed(parts)


def fingerprint(*parts: object) -> str:
    """A hash of what an output reads: values that may hold days, each day standing in as
    its own hash. The values are first made plain (a dataclass, a named tuple or a day
    as its type's name and its fields, or its hash), then hashed as their repr, which is
    injective for these types and written in C: 8 us a day page's values, where pickling
    them took 15 (the classes and dates are looked up again and again)."""
    return hashlib.sha256(repr(_plain(parts)).encode()).hexdigest()[:32]


ATOMS = frozenset({str, int, float, bool, type(None), dt.date, dt.datetime})


def _plain(value: object) -> object:
    kind = type(value)
    if kind in ATOMS:
        return value
    if kind is tuple or kind is list:
        return tuple(map(_plain, value))  # type: ignore[call-overload]
    if (digest := getattr(kind, "__digest__", None)) is not None:
        return (kind.__qualname__, digest(value))
    if isinstance(value, tuple):  # a named tuple
        return (kind.__qualname__, tuple(map(_plain, value)))
    if hasattr(value, "__dataclass_fields__"):
        return (kind.__qualname__, tuple(map(_plain, vars(value).values())))
    raise TypeError(f"an output's values are data, not {kind.__qualname__}")


def _hashed(parts: tuple[object, ...]) -> str:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True  # no memo: the bytes depend on values only
    for part in parts:
        if isinstance(part, bytes):
            buffer.write(part)
        else:
            pickler.dump(part)
        buffer.write(b"\0")
    return hashlib.sha256(buffer.getbuffer()).hexdigest()[:32]  # 128 bits: no collision


class Cache:
    """Without a folder, a cache that keeps nothing."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def path(self, name: str) -> Path | None:
        return self.folder / f"{name}.json" if self.folder is not None else None

    def get(self, name: str) -> Any:
        """The value stored under ``name``, or None if there is none that checks out."""
        payload = self.get_bytes(name)
        try:
            return loads(payload) if payload is not None else None
        except ValueError:
            return None

    def get_bytes(self, name: str) -> bytes | None:
        """The bytes stored under ``name`` if their hash checks out, else None."""
        if (path := self.path(name)) is None:
            return None
        try:
            with open(path, "rb") as handle:
                head, payload = handle.readline().split(), handle.read()
        except (OSError, ValueError):
            return None
        return payload if head == [FORMAT, hashlib.sha256(payload).hexdigest().encode()] else None

    def put(self, name: str, value: object) -> None:
        """Store ``value``; a cache that cannot be written (a full disk) is skipped."""
        if self.folder is not None:
            self.put_bytes(name, dumps(value))

    def put_bytes(self, name: str, payload: bytes) -> None:
        if (path := self.path(name)) is None:
            return
        head = FORMAT + b" " + hashlib.sha256(payload).hexdigest().encode() + b"\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            replace(path, head + payload)
        except OSError:
            pass

    def prune(self, prefix: str, keep: set[str]) -> None:
        """Remove the entries named ``prefix…`` but those in ``keep`` (names like ``get``
        takes), and what a write that was interrupted left beside them."""
        if self.folder is None:
            return
        folder, _, start = prefix.rpartition("/")
        try:
            for entry in os.scandir(self.folder / folder):
                name = f"{folder}/{entry.name}" if folder else entry.name
                temporary = entry.name.startswith("." + start)
                if temporary or (
                    entry.name.startswith(start) and name.removesuffix(".json") not in keep
                ):
                    os.unlink(entry.path)
        except OSError:
            pass


def dumps(value: object) -> bytes:
    """JSON, with orjson; a file name that is not UTF-8 (held as lone surrogates, which
    orjson refuses) with the standard library, which escapes them."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()


def loads(data: bytes) -> Any:
    """What :func:`dumps` wrote; ValueError if it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # lone surrogates, escaped: only json reads them back
        return json.loads(data)


def replace(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all; a failed write (a full disk) leaves nothing behind."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
