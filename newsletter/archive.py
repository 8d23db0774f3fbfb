"""Reading an archive folder: files to text, text to days, days merged by date."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from . import __version__
from .cache import Cache, digest
from .errors import InputError, Problem, Severity
from .model import Digest, Mention, Origin, Outline, Paper
from .parse import parse_text
from .workers import run_jobs

DIGEST_SUFFIXES = (".md", ".txt")
# A day of the real archive is about 40 KB; a file this large is a mistake, not a day.
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Archive:
    """Everything read from an archive folder: each day's outline in date order, what went
    wrong, and the way back to each day's papers."""

    days: tuple[Outline, ...]
    problems: tuple[Problem, ...]
    files: int
    fingerprints: Mapping[str, str] = field(default_factory=dict)  # file -> hash of its bytes
    cache: Cache = field(default_factory=lambda: Cache(None), compare=False)

    def fingerprint(self, day: Outline) -> str:
        """Changes whenever any file that contributes to this day changes."""
        return digest(day.date, *(self.fingerprints[file] for file in day.sources))

    @property
    def papers(self) -> int:
        return sum(len(d.mentions) for d in self.days)

    def count(self, severity: Severity) -> int:
        return sum(1 for p in self.problems if p.severity == severity)

    def digest(self, day: Outline) -> Digest:
        """The day with its papers, read back from the parses of its files."""
        parsed = [(file, self._parsed(file)) for file in day.sources]
        merged, _ = merge_days((file, {day.date: days.get(day.date, [])}) for file, days in parsed)
        [(date, papers, sources)] = merged
        return Digest(date, papers, sources)

    @property
    def digests(self) -> tuple[Digest, ...]:
        """Every day with its papers (for a small archive: all of them are in memory)."""
        return tuple(self.digest(day) for day in self.days)

    def _parsed(self, file: str) -> dict[dt.date, list[Paper]]:
        key = self.fingerprints[file]
        parsed: Parsed | None = self.cache.load(key, "full")
        if parsed is None:  # the cache folder was deleted during the build
            data = read_bytes(file)
            if _key(file, data) != key:
                raise InputError("changed during the build; build again", file=file)
            parsed = read_file(file, data)
        return parsed[0]


def decode(data: bytes, file: str) -> str:
    """Bytes of one file as text: UTF-8 (BOM allowed) or UTF-16 with a BOM."""
    if not data.strip():
        raise InputError("empty file", file=file)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError("not valid UTF-16 text", file=file) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start]
        raise InputError(f"not UTF-8 text (byte 0x{bad:02x})", file=file, line=line) from None


class _Listed(Protocol):
    """A paper or a mention of one: what merging days looks at."""

    @property
    def arxiv_id(self) -> str: ...

    @property
    def origin(self) -> Origin: ...


Item = TypeVar("Item", bound=_Listed)
Merged = tuple[dt.date, tuple[Item, ...], tuple[str, ...]]  # date, items, source files


def merge_days(
    parsed: Iterable[tuple[str, Mapping[dt.date, Sequence[Item]]]],
) -> tuple[list[Merged[Item]], list[Problem]]:
    """Join files into one list a date; a paper twice in a day is kept once."""
    problems: list[Problem] = []
    by_date: dict[dt.date, tuple[list[str], dict[str, Item]]] = {}
    for file, days in parsed:
        for date, papers in days.items():
            sources, kept = by_date.setdefault(date, ([], {}))
            if sources and file not in sources and papers:
                where = papers[0].origin
                note = f"{date} also in {sources[0]}; the days are merged"
                problems.append(Problem(where.file, where.line, "warning", note))
            if file not in sources:
                sources.append(file)
            for paper in papers:
                first = kept.setdefault(paper.arxiv_id, paper)
                if first is not paper:
                    note = f"paper {paper.arxiv_id} already listed at {first.origin}; kept once"
                    problems.append(Problem(paper.origin.file, paper.origin.line, "warning", note))
    merged = [
        (date, tuple(kept.values()), tuple(sources))
        for date, (sources, kept) in sorted(by_date.items())
    ]
    return merged, problems


def is_digest_name(name: str) -> bool:
    """``*.md`` and ``*.txt``, but not README nor what editors leave behind: hidden files
    (Emacs's ``.#name`` lock links among them), ``name~`` backups, ``#name#`` autosaves."""
    return (
        name.lower().endswith(DIGEST_SUFFIXES)
        and not name.upper().startswith("README")
        and not name.startswith((".", "#"))
        and not name.endswith("~")
    )


def archive_files(folder: str) -> list[str]:
    """The digest files of a folder, sorted by name; see :func:`is_digest_name`."""
    root = Path(folder)
    if not root.exists():
        raise InputError("no such folder", file=folder)
    if not root.is_dir():
        raise InputError("not a folder", file=folder)
    try:
        entries = sorted(root.iterdir(), key=lambda p: p.name)
    except OSError as error:
        raise InputError(f"cannot list folder: {error.strerror}", file=folder) from None
    # Anything else with such a name (a folder, a FIFO, a broken link) is reported when read.
    return [str(entry) for entry in entries if is_digest_name(entry.name)]


def read_bytes(file: str) -> bytes:
    """A digest file's bytes: a regular file (after following links) of at most
    MAX_FILE_BYTES, so a FIFO or a device can neither block nor exhaust the build."""
    try:
        # O_NONBLOCK: opening a FIFO waits for a writer; with it, opening returns at once.
        handle = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as error:
        raise InputError(_unreadable(error), file=file) from None
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            raise InputError(f"not a regular file ({_kind(status.st_mode)})", file=file)
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES and (chunk := os.read(handle, 1 << 20)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise InputError(_unreadable(error), file=file) from None
    finally:
        os.close(handle)
    if size > MAX_FILE_BYTES:
        raise InputError(f"larger than the {MAX_FILE_BYTES >> 20} MB limit", file=file)
    return b"".join(chunks)


def _kind(mode: int) -> str:
    kinds = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket"}
    return next((name for test, name in kinds.items() if test(mode)), "a device")


Parsed = tuple[dict[dt.date, list[Paper]], list[Problem]]  # one file's days and problems
Outlined = tuple[dict[dt.date, list[Mention]], list[Problem]]  # the same days as mentions


def read_file(file: str, data: bytes) -> Parsed:
    try:
        return parse_text(decode(data, file), file)
    except InputError as error:
        return {}, [Problem.from_error(error)]


@dataclass(frozen=True, slots=True)
class Source:
    """A digest file: a hash of its path and bytes, or why it cannot be read."""

    file: str
    key: str | None
    problem: str | None = None


def _unreadable(error: OSError) -> str:
    return f"cannot read: {error.strerror}"


def _key(file: str, data: bytes) -> str:
    return digest(__version__, file, data)


def read_sources(folder: str) -> list[Source]:
    """Every digest file of ``folder``, hashed; its bytes are read again if it is parsed."""
    sources: list[Source] = []
    for file in archive_files(folder):
        try:
            sources.append(Source(file, _key(file, read_bytes(file))))
        except InputError as error:
            sources.append(Source(file, None, error.message))
    return sources


def text_key(paper: Paper) -> tuple[object, ...]:
    """What a reader sees as the paper's text; votes change daily and are not part of it."""
    return (
        paper.title,
        paper.authors,
        paper.authors_elided,
        paper.sections,
        paper.thumbnail,
        paper.video,
    )


def outline(parsed: Parsed) -> Outlined:
    """A parsed file's days as mentions, and its problems."""
    # The text key is hashed as one value: a third faster than as six, paper after paper.
    days, problems = parsed
    mentions = {
        date: [Mention(p.arxiv_id, p.origin, p.votes, digest(text_key(p))) for p in papers]
        for date, papers in days.items()
    }
    return mentions, problems


def _parse_and_keep(cache: Cache, file: str) -> tuple[str, Outlined, Parsed | None]:
    """Parse one file and store it: its hash, its outline, and, if the cache is in memory
    (a forked worker's memory is not this process's), its parse."""
    try:
        data = read_bytes(file)
    except InputError as error:
        data = b""
        parsed: Parsed = ({}, [Problem.from_error(error)])
    else:
        parsed = read_file(file, data)
    key = _key(file, data)  # the file may have changed since it was hashed: this is it now
    outlined = outline(parsed)
    cache.keep(key, full=parsed, outline=outlined)
    return key, outlined, None if cache.persistent else parsed


def read_archive(
    folder: str, cache: Cache | None = None, sources: list[Source] | None = None
) -> Archive:
    """Read every digest file of ``folder``; a bad file is a problem, not a stop.

    Files the cache knows are outlined from it; the others are parsed on every core."""
    sources = read_sources(folder) if sources is None else sources
    cache = cache or Cache(None)
    fingerprints = {s.file: s.key for s in sources if s.key is not None}
    outlines: dict[str, Outlined] = {}
    for file, key in fingerprints.items():
        if (found := cache.load(key, "outline")) is not None:
            outlines[file] = found
    missing = [file for file in fingerprints if file not in outlines]
    fresh = run_jobs(len(missing), lambda i: _parse_and_keep(cache, missing[i]))
    for file, (key, outlined, parsed) in zip(missing, fresh, strict=True):
        fingerprints[file], outlines[file] = key, outlined
        cache.parsed_used.add(key)  # a file changed since it was hashed has a new key
        if parsed is not None:
            cache.keep(key, full=parsed, outline=outlined)
    problems: list[Problem] = []
    for source in sources:
        if source.problem is not None:
            problems.append(Problem(source.file, None, "error", source.problem))
        else:
            problems.extend(outlines[source.file][1])
    merged, merge_problems = merge_days((file, outlines[file][0]) for file in fingerprints)
    days = tuple(Outline(date, mentions, files) for date, mentions, files in merged)
    return Archive(days, tuple(problems + merge_problems), len(sources), fingerprints, cache)
