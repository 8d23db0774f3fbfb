"""Sending: every edition exactly once, through any SMTP tool.

An edition is one email in ``out/``: a day's or a finished week's, of the main
list or of a channel, and it is named by its date or ISO week, never by its
bytes. ``send`` pipes each edition the ledger does not hold yet into COMMAND,
oldest first, and writes it to the ledger (a line of JSON, synced to disk) only
once COMMAND has exited 0: a COMMAND that fails is tried again next time, with
the editions after it; no later edit, vote change, setting change or deletion
sends an edition the ledger holds; a second ``send`` waits for the first.

With nothing in the ledger yet for a kind of edition, only its newest edition
is sent; the ones before the oldest the ledger holds are the back catalogue,
sent only when asked (``backfill``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import IO, Any

from .errors import InputError, NewsletterError, OutputError, shown
from .write import hold, reading

EDITION = re.compile(r"^(?:(?P<day>\d{4}-\d{2}-\d{2})|(?P<week>\d{4}-W\d{2}))\.eml$")
KINDS = ("daily", "weekly")


class SendError(NewsletterError):
    """A COMMAND that did not take an edition."""


@dataclass(frozen=True, order=True)
class Edition:
    date: dt.date  # its day, or its week's Sunday: the order editions go out in
    channel: str  # "" for the main list
    kind: str  # "daily" or "weekly"
    key: str  # 2024-11-19, 2024-W47
    path: Path

    @property
    def name(self) -> str:
        """How the ledger and the messages name it: ``2024-11-19``, ``llm/2024-W47``."""
        return f"{self.channel}/{self.key}" if self.channel else self.key


def editions(out: Path) -> list[Edition]:
    """Every edition in ``out/``: its emails, and each channel's."""
    folders = [("", out / "email")]
    folders += [(c.name, c / "email") for c in sorted((out / "channels").glob("*")) if c.is_dir()]
    found = []
    for channel, folder in folders:
        for path in sorted(folder.glob("*.eml")):
            if match := EDITION.match(path.name):
                if match["day"]:
                    date, kind = dt.date.fromisoformat(match["day"]), "daily"
                else:
                    year, week = match["week"].split("-W")
                    date, kind = dt.date.fromisocalendar(int(year), int(week), 7), "weekly"
                found.append(Edition(date, channel, kind, path.name[:-4], path))
    return sorted(found)


@dataclass(frozen=True)
class Entry:
    """A ledger line: an edition sent."""

    channel: str
    kind: str
    key: str


def _entry(data: Any) -> Entry:
    if not isinstance(data, dict):
        raise ValueError("not an object")
    channel, kind, key = data.get("channel", ""), data.get("kind"), data.get("edition")
    if not isinstance(channel, str) or kind not in KINDS or not isinstance(key, str):
        raise ValueError("no edition, kind and channel")
    return Entry(channel, kind, key)


def _json(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        raise ValueError("not JSON") from None


def read_ledger(handle: IO[str], name: str) -> set[Entry]:
    handle.seek(0)
    sent = set()
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            sent.add(_entry(_json(line)))
        except ValueError as error:
            raise InputError(
                f"not a ledger line ({error}); mend or remove it, nothing was sent",
                file=name,
                line=number,
            ) from None
    return sent


def due(
    found: Sequence[Edition], sent: set[Entry], kinds: Sequence[str], backfill: bool
) -> list[Edition]:
    """The editions to send: not in the ledger, of the kinds asked for; without
    ``backfill``, none older than the oldest the ledger holds of its kind, and with
    nothing in the ledger for a kind, only its newest."""
    todo = []
    for channel, kind in sorted({(e.channel, e.kind) for e in found if e.kind in kinds}):
        these = [e for e in found if (e.channel, e.kind) == (channel, kind)]
        done = {e.key for e in sent if (e.channel, e.kind) == (channel, kind)}
        if not backfill:
            these = [e for e in these if e.key > min(done)] if done else these[-1:]
        todo += [e for e in these if e.key not in done]
    return sorted(todo)


@dataclass(frozen=True)
class Delivered:
    edition: Edition
    message_id: str
    size: int


@contextmanager
def _ledger(path: Path, wait: float) -> Iterator[IO[str]]:
    """The ledger, opened to append, held against a second ``send`` for as long as this one
    runs: up to ``wait`` seconds for it, then an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (closed below)
    except OSError as error:
        raise OutputError(f"cannot open the ledger: {error.strerror}", file=str(path)) from None
    with handle:
        hold(handle.fileno(), wait, "another send is using this ledger", str(path))
        yield handle


def _message_id(data: bytes) -> str:
    return str(BytesHeaderParser().parsebytes(data).get("Message-ID", "")).strip()


def _record(handle: IO[str], delivered: Delivered) -> None:
    """One line for the edition, on disk before the next edition is sent."""
    edition = delivered.edition
    line = {
        "edition": edition.key,
        "kind": edition.kind,
        "channel": edition.channel,
        "message_id": delivered.message_id,
        "sent": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "bytes": delivered.size,
    }
    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def _pipe(command: list[str], data: bytes, edition: Edition, timeout: float) -> None:
    """``command`` with the edition's email on its standard input; SendError unless it
    takes it (exits 0)."""
    try:
        ran = subprocess.run(command, input=data, capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise SendError(f"{edition.name}: no such command: {command[0]}") from None
    except subprocess.TimeoutExpired:
        raise SendError(f"{edition.name}: {command[0]} took more than {timeout:g} s") from None
    if ran.returncode != 0:
        said = ran.stderr.decode(errors="replace").strip().splitlines()
        last = f": {shown(said[-1])}" if said else ""
        raise SendError(f"{edition.name}: {command[0]} exited {ran.returncode}{last}")


@dataclass(frozen=True)
class Sending:
    """What a send did: the editions COMMAND took, and the failure that stopped it, if any."""

    delivered: tuple[Delivered, ...]
    failed: SendError | None = None


def send(
    out: Path,
    command: str | None,
    ledger: Path,
    *,
    kinds: Sequence[str] = KINDS,
    backfill: bool = False,
    dry_run: bool = False,
    wait: float = 60.0,
    timeout: float = 300.0,
) -> Sending:
    """Send what is due (see :func:`due`); with ``dry_run``, only say what that is."""
    if not out.is_dir():
        raise InputError("no such folder; build first", file=str(out))
    real = Path(os.path.realpath(ledger))
    if Path(os.path.realpath(out)) in real.parents:
        raise InputError(
            "the ledger must live outside out/ (a new out/ would send again)", file=str(ledger)
        )
    words = shlex.split(command) if command else []
    if not words and not dry_run:
        raise InputError("nothing to send with: give --via COMMAND")
    delivered: list[Delivered] = []
    with _ledger(ledger, wait) as handle:
        sent = read_ledger(handle, str(ledger))
        with reading(str(out), wait) as folder:  # not while a build swaps it
            todo = due(editions(folder), sent, kinds, backfill)
            emails = [edition.path.read_bytes() for edition in todo]
        for edition, data in zip(todo, emails, strict=True):
            done = Delivered(edition, _message_id(data), len(data))
            if not dry_run:
                try:
                    _pipe(words, data, edition, timeout)
                except SendError as error:  # this one, and the ones after it, next time
                    return Sending(tuple(delivered), error)
                _record(handle, done)
            delivered.append(done)
    return Sending(tuple(delivered))
