"""Reading an archive folder: files to text, text to days, days merged by date."""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .cache import Cache, digest
from .errors import InputError, Problem, Severity
from .model import Digest, Paper
from .parse import parse_text
from .workers import run_jobs

DIGEST_SUFFIXES = (".md", ".txt")


@dataclass(frozen=True)
class Archive:
    """Everything read from an archive folder: days in date order, and what went wrong."""

    digests: tuple[Digest, ...]
    problems: tuple[Problem, ...]
    files: int
    fingerprints: Mapping[str, str] = field(default_factory=dict)  # file -> hash of its bytes

    def fingerprint(self, digest_: Digest) -> str:
        """Changes whenever any file that contributes to this day changes."""
        return digest(digest_.date, *(self.fingerprints[file] for file in digest_.sources))

    @property
    def papers(self) -> int:
        return sum(len(d.papers) for d in self.digests)

    def count(self, severity: Severity) -> int:
        return sum(1 for p in self.problems if p.severity == severity)


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


def merge_days(
    parsed: Iterable[tuple[str, dict[dt.date, list[Paper]]]],
) -> tuple[tuple[Digest, ...], list[Problem]]:
    """Join files into one digest a date; a paper twice in a day is kept once."""
    problems: list[Problem] = []
    by_date: dict[dt.date, tuple[list[str], dict[str, Paper]]] = {}
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
    digests = tuple(
        Digest(date, tuple(kept.values()), tuple(sources))
        for date, (sources, kept) in sorted(by_date.items())
    )
    return digests, problems


def archive_files(folder: str) -> list[str]:
    """The digest files of a folder (``*.md``, ``*.txt``; not README), sorted by name."""
    root = Path(folder)
    if not root.exists():
        raise InputError("no such folder", file=folder)
    if not root.is_dir():
        raise InputError("not a folder", file=folder)
    try:
        entries = sorted(root.iterdir(), key=lambda p: p.name)
    except OSError as error:
        raise InputError(f"cannot list folder: {error.strerror}", file=folder) from None
    return [
        str(entry)
        for entry in entries
        if entry.suffix.lower() in DIGEST_SUFFIXES
        and not entry.name.upper().startswith("README")
        and (entry.is_file() or entry.is_symlink())  # a broken link is reported, not skipped
    ]


Parsed = tuple[dict[dt.date, list[Paper]], list[Problem]]  # one file's days and problems


def read_file(file: str, data: bytes) -> Parsed:
    try:
        return parse_text(decode(data, file), file)
    except InputError as error:
        return {}, [Problem.from_error(error)]


def read_sources(folder: str) -> list[tuple[str, bytes | str]]:
    """Each digest file with its bytes, or the reason it cannot be read."""
    sources: list[tuple[str, bytes | str]] = []
    for file in archive_files(folder):
        try:
            sources.append((file, Path(file).read_bytes()))
        except OSError as error:
            sources.append((file, f"cannot read: {error.strerror}"))
    return sources


def _parse_and_keep(cache: Cache, key: str, file: str, data: bytes) -> Parsed:
    parsed = read_file(file, data)
    cache.keep_parsed(key, parsed)
    return parsed


def read_archive(
    folder: str, cache: Cache | None = None, sources: list[tuple[str, bytes | str]] | None = None
) -> Archive:
    """Read every digest file of ``folder``; a bad file is a problem, not a stop.

    Files the cache knows are loaded from it; the others are parsed on every core."""
    sources = read_sources(folder) if sources is None else sources
    cache = cache or Cache(None)
    readable = [(file, data) for file, data in sources if isinstance(data, bytes)]
    fingerprints = {file: digest(__version__, file, data) for file, data in readable}
    known = {file: cache.parsed(fingerprints[file]) for file, _ in readable}
    missing = [(file, data) for file, data in readable if known[file] is None]
    fresh = run_jobs(
        len(missing),
        lambda i: _parse_and_keep(cache, fingerprints[missing[i][0]], *missing[i]),
    )
    known.update((file, parsed) for (file, _), parsed in zip(missing, fresh, strict=True))
    problems: list[Problem] = []
    for file, data in sources:
        if isinstance(data, str):  # why it could not be read
            problems.append(Problem(file, None, "error", data))
        else:
            problems.extend(known[file][1])
    digests, merged = merge_days((file, known[file][0]) for file, _ in readable)
    return Archive(digests, tuple(problems + merged), len(sources), fingerprints)
