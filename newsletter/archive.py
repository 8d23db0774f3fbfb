"""The input stage: a folder of digest files to the archive's days.

The folder is listed and every file stat'ed. A file whose stat is what the
previous build recorded (size, times, inode: git's index does the same) is not
read again, unless its time is within the timestamps' resolution of when that
build looked at it, when an edit could hide behind an unchanged stat ("racily
clean", in git's words) and it is hashed to be sure. The files that changed are
read, decoded and parsed on every core; each parse is kept in the cache, and its
outline (what each day lists) in the index the build saves.

What this stage hands on are days as outlines, each with a hash of its content;
a day's papers are read back on first use, from the checked cache entry, or by
parsing its files again, which must still be what was listed.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from .cache import Cache, digest
from .errors import Changed, InputError, Problem, Severity
from .model import Day, Mention, Origin, Paper, Section, text_of

DIGEST_SUFFIXES = (".md", ".txt")
# A day of the real archive is about 40 KB; a file this large is a mistake, not a day.
MAX_FILE_BYTES = 64 * 1024 * 1024
# How close to the moment a build looked at a file an edit may hide behind an unchanged
# stat: the coarsest file times in use (FAT's two seconds) are covered.
RACY_NS = 2_000_000_000
LOADED_FILES = 32  # parsed files a process keeps: a week's days, or a feed window's

Signature = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
Parsed = tuple[dict[dt.date, list[Paper]], list[Problem]]  # one file's days and problems


@dataclass(frozen=True)
class Record:
    """What the index knows of one file: its stat, a hash of the parser's code, its name and
    its bytes (None if it cannot be read), the days it lists, and its problems."""

    path: str
    signature: Signature | None
    key: str | None
    days: Mapping[dt.date, tuple[Mention, ...]]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Archive:
    """Everything read from an archive folder: its days in date order, what went wrong,
    and the index to save for the next build."""

    days: tuple[Day, ...]
    problems: tuple[Problem, ...]
    records: Mapping[str, Record]

    @property
    def files(self) -> int:
        return len(self.records)

    @property
    def papers(self) -> int:
        return sum(len(d.mentions) for d in self.days)

    def count(self, severity: Severity) -> int:
        return sum(1 for p in self.problems if p.severity == severity)


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
        names = sorted(entry.name for entry in os.scandir(root))
    except OSError as error:
        raise InputError(f"cannot list folder: {error.strerror}", file=folder) from None
    # Anything else with such a name (a folder, a FIFO, a broken link) is reported.
    return [os.path.join(folder, name) for name in names if is_digest_name(name)]


def _kind(mode: int) -> str:
    kinds = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket"}
    return next((name for test, name in kinds.items() if test(mode)), "a device")


def _unreadable(error: OSError) -> str:
    return f"cannot read: {error.strerror}"


def _readable(file: str, status: os.stat_result) -> None:
    """Only regular files (after following links) of at most MAX_FILE_BYTES are read, so
    a FIFO or a device can neither block nor exhaust the build."""
    if not stat.S_ISREG(status.st_mode):
        raise InputError(f"not a regular file ({_kind(status.st_mode)})", file=file)
    if status.st_size > MAX_FILE_BYTES:
        raise InputError(f"larger than the {MAX_FILE_BYTES >> 20} MB limit", file=file)


def signature(file: str) -> Signature:
    """A file's stat as the index keeps it; InputError if it is not a file to read."""
    try:
        status = os.stat(file)
    except OSError as error:
        raise InputError(_unreadable(error), file=file) from None
    _readable(file, status)
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


def read_bytes(file: str) -> bytes:
    """A digest file's bytes, checked as :func:`signature` checks its stat."""
    try:
        # O_NONBLOCK: opening a FIFO waits for a writer; with it, opening returns at once.
        handle = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as error:
        raise InputError(_unreadable(error), file=file) from None
    try:
        _readable(file, os.fstat(handle))
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES and (chunk := os.read(handle, 1 << 20)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise InputError(_unreadable(error), file=file) from None
    finally:
        os.close(handle)
    if size > MAX_FILE_BYTES:  # it grew while it was read
        raise InputError(f"larger than the {MAX_FILE_BYTES >> 20} MB limit", file=file)
    return b"".join(chunks)


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


def read_file(file: str, data: bytes) -> Parsed:
    from .parse import parse_text  # here: a build with nothing to do never parses

    try:
        return parse_text(decode(data, file), file)
    except InputError as error:
        return {}, [Problem.from_error(error)]


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


def outline(parsed: Parsed) -> dict[dt.date, tuple[Mention, ...]]:
    """A parsed file's days as mentions."""
    return {
        date: tuple(Mention(p.arxiv_id, p.origin, p.votes, digest(text_of(p))) for p in papers)
        for date, papers in parsed[0].items()
    }


def _section_data(section: Section) -> list[Any]:
    children = [_section_data(s) for s in section.children]
    return [section.label, section.text, children, section.number]


def _section(data: Any) -> Section:
    label, text, children, number = data
    if not (
        (label is None or type(label) is str)
        and type(text) is str
        and (number is None or type(number) is int)
    ):
        raise ValueError("not a section")
    return Section(label, text, tuple(map(_section, children)), number)


def parsed_data(parsed: Parsed) -> dict[str, Any]:
    """A parse as JSON data, for the cache."""
    days, problems = parsed
    return {
        "days": {
            date.isoformat(): [
                [
                    p.arxiv_id,
                    p.title,
                    p.origin.line,
                    p.thumbnail,
                    p.video,
                    p.votes,
                    list(p.authors),
                    p.authors_elided,
                    [_section_data(s) for s in p.sections],
                ]
                for p in papers
            ]
            for date, papers in days.items()
        },
        "problems": [[p.line, p.severity, p.message] for p in problems],
    }


def _paper(file: str, data: Any) -> Paper:
    arxiv_id, title, line, thumbnail, video, votes, authors, elided, sections = data
    if not (
        type(arxiv_id) is str
        and type(title) is str
        and type(line) is int
        and (thumbnail is None or type(thumbnail) is str)
        and (video is None or type(video) is str)
        and (votes is None or type(votes) is int)
        and type(elided) is bool
        and all(type(a) is str for a in authors)
    ):
        raise ValueError("not a paper")
    return Paper(
        arxiv_id,
        title,
        Origin(file, line),
        thumbnail,
        video,
        votes,
        tuple(authors),
        elided,
        tuple(map(_section, sections)),
    )


def _problem(file: str, data: Any) -> Problem:
    line, severity, message = data
    if not (
        (line is None or type(line) is int)
        and severity in ("error", "warning")
        and type(message) is str
    ):
        raise ValueError("not a problem")
    return Problem(file, line, severity, message)


def parsed_from(data: Any, file: str) -> Parsed:
    """A parse read back from the cache; ValueError (a miss) if it is not one."""
    try:
        days = {
            dt.date.fromisoformat(date): [_paper(file, p) for p in papers]
            for date, papers in data["days"].items()
        }
        return days, [_problem(file, p) for p in data["problems"]]
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(str(error)) from None


class Papers:
    """Reads a day's papers back: from memory, from the checked cache entry of each of its
    files, or by parsing the file again, which must not have changed since it was listed.
    Keeps the last LOADED_FILES files it read."""

    def __init__(
        self, records: Mapping[str, Record], cache: Cache, code: str, memory: dict[str, Parsed]
    ) -> None:
        self.records, self.cache, self.code, self.memory = records, cache, code, memory
        self.loaded: dict[str, Parsed] = {}

    def __call__(self, day: Day) -> tuple[Paper, ...]:
        parsed = [(file, self._parsed(file)[0]) for file in day.sources]
        merged, _ = merge_days((file, {day.date: days.get(day.date, [])}) for file, days in parsed)
        [(_, papers, _)] = merged
        return papers

    def _parsed(self, file: str) -> Parsed:
        key = self.records[file].key
        assert key is not None  # a day has only files that could be read
        if (found := self.memory.get(key) or self.loaded.get(key)) is not None:
            return found
        try:
            parsed = parsed_from(self.cache.get(f"parsed/{key}"), file)
        except ValueError:  # absent (the cache folder was deleted), damaged or edited
            data = read_bytes(file)
            if digest(self.code, file, data) != key:
                raise Changed("changed during the build; build again", file=file) from None
            parsed = read_file(file, data)
        if len(self.loaded) >= LOADED_FILES:
            del self.loaded[next(iter(self.loaded))]
        self.loaded[key] = parsed
        return parsed


def _read(
    file: str, stat: Signature, old: Record | None, cache: Cache, code: str, keep: bool
) -> tuple[Record, Parsed | None]:
    """One file read, and parsed unless the index or the cache knows its bytes; the parse
    is kept in the cache (and handed back, if ``keep``)."""
    try:
        data = read_bytes(file)
    except InputError as error:
        return Record(file, None, None, {}, (Problem.from_error(error),)), None
    key = digest(code, file, data)
    if old is not None and old.key == key and not keep:  # touched, not changed
        return Record(file, stat, key, old.days, old.problems), None
    try:
        parsed = parsed_from(cache.get(f"parsed/{key}"), file)
    except ValueError:
        parsed = read_file(file, data)
        cache.put(f"parsed/{key}", parsed_data(parsed))
    return Record(file, stat, key, outline(parsed), tuple(parsed[1])), parsed if keep else None


def unchanged_since(folder: str, signatures: Mapping[str, Signature | None], looked: int) -> bool:
    """Whether ``folder`` holds exactly these files, each with the stat recorded, and none
    changed so close to ``looked`` that an edit could hide behind its stat."""
    try:
        files = archive_files(folder)
    except InputError:
        return False
    if files != list(signatures):
        return False
    for file in files:
        try:
            now = signature(file)
        except InputError:
            return False
        if now != signatures[file] or now[1] >= looked - RACY_NS:
            return False
    return True


def read_archive(
    folder: str,
    cache: Cache | None = None,
    index: Mapping[str, Record] | None = None,
    *,
    code: str = "",
    looked: int = 0,
    alongside: Sequence[Callable[[], object]] = (),
) -> tuple[Archive, list[object]]:
    """Read every digest file of ``folder``; a bad file is a problem, not a stop.

    ``index`` is the previous build's, which looked at the files at ``looked`` (a file
    time, in ns); ``alongside`` are tasks to run on the cores with the parsing, whose
    results come back beside the archive."""
    cache = cache or Cache(None)
    index = index or {}
    keep = cache.folder is None  # no cache folder: the parses stay in memory
    records: dict[str, Record] = {}
    todo: list[Callable[[], tuple[Record, Parsed | None]]] = []
    for file in archive_files(folder):
        try:
            stat_now = signature(file)
        except InputError as error:
            records[file] = Record(file, None, None, {}, (Problem.from_error(error),))
            continue
        old = index.get(file)
        if old is not None and old.signature == stat_now and stat_now[1] < looked - RACY_NS:
            records[file] = old
        else:
            records[file] = old or Record(file, None, None, {}, ())  # keeps the order
            todo.append(partial(_read, file, stat_now, old, cache, code, keep))
    from .parallel import run  # here: a build with nothing to do never forks

    results = run([*alongside, *todo])
    memory: dict[str, Parsed] = {}
    read: list[tuple[Record, Parsed | None]] = results[len(alongside) :]  # type: ignore[assignment]
    for record, parsed in read:
        records[record.path] = record
        if parsed is not None and record.key is not None:
            memory[record.key] = parsed
    loader = Papers(records, cache, code, memory)
    merged, merge_problems = merge_days(
        (file, r.days) for file, r in records.items() if r.key is not None
    )
    # A day's papers are a function of its date and its files' keys (their names, bytes
    # and the parser's code): so is its fingerprint.
    days = tuple(
        Day(date, mentions, files, digest(date, [(f, records[f].key) for f in files]), loader)
        for date, mentions, files in merged
    )
    problems = [p for record in records.values() for p in record.problems] + merge_problems
    return Archive(days, tuple(problems), records), results[: len(alongside)]
