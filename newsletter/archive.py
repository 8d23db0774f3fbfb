"""Reading an archive folder: files to text, text to days, days merged by date."""

from __future__ import annotations

import codecs
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, Problem, Severity
from .model import Digest, Paper
from .parse import parse_text

DIGEST_SUFFIXES = (".md", ".txt")


@dataclass(frozen=True)
class Archive:
    """Everything read from an archive folder: days in date order, and what went wrong."""

    digests: tuple[Digest, ...]
    problems: tuple[Problem, ...]
    files: int

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
    parsed: list[tuple[str, dict[dt.date, list[Paper]]]],
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
        and entry.is_file()
    ]


def read_archive(folder: str) -> Archive:
    """Read every digest file of ``folder``; a bad file is a problem, not a stop."""
    files = archive_files(folder)
    parsed: list[tuple[str, dict[dt.date, list[Paper]]]] = []
    problems: list[Problem] = []
    for file in files:
        try:
            text = decode(Path(file).read_bytes(), file)
        except InputError as error:
            problems.append(Problem.from_error(error))
            continue
        except OSError as error:
            problems.append(Problem(file, None, "error", f"cannot read: {error.strerror}"))
            continue
        days, found = parse_text(text, file)
        parsed.append((file, days))
        problems.extend(found)
    digests, merged = merge_days(parsed)
    return Archive(digests, tuple(problems + merged), len(files))
