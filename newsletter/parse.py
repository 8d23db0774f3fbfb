"""Digest text -> model.

The format drifted over the archive's life, so parsing follows the structure of
the whole family (a date header, ``###`` paper headings, metadata lines, bullet
summaries) rather than any one file's quirks. Everything that cannot be read is
reported as a :class:`Problem` with file and line; nothing is dropped silently.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

from .errors import Problem, Severity, describe
from .latex import restore_escapes, to_unicode
from .model import Origin, Paper, Section
from .text import XML_ILLEGAL, clean, clip, media_type

DATE_HEADER = re.compile(r"^##\s*Daily\s+Papers\s*\((?P<date>[^)]*)\)\s*$", re.IGNORECASE)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UPPER_HEADING = re.compile(r"^#{1,2}(?!#)")
PAPER_HEADING = re.compile(r"^###(?!#)\s*(?P<rest>.*)$")
URL_TEXT = re.compile(r"[^\s()]*")
ARXIV_URL = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|huggingface\.co/papers/)"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z.-]{0,30}/\d{7})(?:v\d+)?",
    re.IGNORECASE,
)
IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<url>.*)\)$")
VIDEO_TAG = re.compile(r"<video\b[^>]{0,500}?\bsrc\s*=\s*[\"']?(?P<url>[^\"'\s>]+)", re.IGNORECASE)
WATCH_VIDEO = re.compile(r"^\[Watch Video\]\(?(?P<url>[^\s()]+)\)?$", re.IGNORECASE)
VOTE = re.compile(r"^Votes?\s*:\s*(?P<value>.*)$", re.IGNORECASE)
AUTHORS = re.compile(r"^Authors?\s*:\s*(?P<value>.*)$", re.IGNORECASE)
BULLET = re.compile(r"^(?P<indent>[ \t]*)(?P<mark>[-*+]|\d{1,3}[.)])[ \t]+(?P<body>.*)$")
# ``**Label**:``, ``***Label***:``, and the archive's one ``***Label*:``.
LABELLED = re.compile(r"^\*{2,3}(?P<label>[^*]{1,80}?)\*{1,3}\s*:\s*(?P<text>.*)$")
HTTP_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
LINE_BREAK = re.compile(r"\r\n|\r|\n")

# Relative thumbnails in the archive (``/avatars/…``) are paths on the site it was made from.
SOURCE_SITE = "https://huggingface.co"
ELISION_MARK = "+"
MAX_VOTES = 10**9
MAX_LITERAL = 200_000
QUOTED_LENGTH = 60  # of input quoted in a diagnostic
MAX_PROBLEMS = 100  # listed for one file; the rest are counted in one more line
# arXiv began in 1991; a date outside these years is a typo, and feed readers distrust it.
FIRST_DATE, LAST_DATE = dt.date(1991, 1, 1), dt.date(2099, 12, 31)


@dataclass
class _Item:
    """A top-level summary item while its block is being read."""

    label: str | None
    text: str
    number: int | None
    children: list[Section]

    def freeze(self) -> Section:
        return Section(self.label, self.text, tuple(self.children), self.number)

    def go_on(self, more: str) -> None:
        """A line that continues the item's last line (CommonMark's lazy continuation)."""
        if self.children:
            last = self.children[-1]
            self.children[-1] = replace(last, text=_joined(last.text, more))
        else:
            self.text = _joined(self.text, more)


def _joined(text: str, more: str) -> str:
    return f"{text} {more}" if text else more


@dataclass
class _Draft:
    """A paper while its block is being read."""

    origin: Origin
    arxiv_id: str
    title: str
    thumbnail: str | None = None
    video: str | None = None
    votes: int | None = None
    authors: tuple[str, ...] = ()
    authors_elided: bool = False
    sections: list[_Item] = field(default_factory=list)

    def freeze(self) -> Paper:
        return Paper(
            arxiv_id=self.arxiv_id,
            title=self.title,
            origin=self.origin,
            thumbnail=self.thumbnail,
            video=self.video,
            votes=self.votes,
            authors=self.authors,
            authors_elided=self.authors_elided,
            sections=tuple(item.freeze() for item in self.sections),
        )


class _FileParser:
    """Reads one file's lines; collects day sections and problems."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.days: dict[dt.date, list[Paper]] = {}
        self.day_lines: dict[dt.date, int] = {}
        self.date: dt.date | None = None
        self.seen_header = False
        self.draft: _Draft | None = None
        self.orphans: list[int] = []
        self.unshown: Counter[str] = Counter()

    def report(self, line: int | None, severity: Severity, message: str) -> None:
        """Record a problem; past MAX_PROBLEMS a file's problems are only counted."""
        last = self.problems[-1] if self.problems else None
        if last is not None and (last.line, last.severity, last.message) == (
            line,
            severity,
            message,
        ):
            return  # the same problem twice on one line says nothing more
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(self.file, line, severity, message))
        else:
            self.unshown[severity] += 1

    def run(self, text: str) -> None:
        # Rare: then line by line, LaTeX that escape processing upstream turned into control
        # characters is restored, and what no output can carry is removed.
        dirty = XML_ILLEGAL.search(text) is not None or "\t" in text
        for number, line in enumerate(_lines(text), start=1):
            if dirty:
                line = self.cleaned(number, line)
            self.feed(number, line)
        self.finish_paper()
        if not self.seen_header:
            # Not a digest at all: one clear error says more than a warning a line.
            self.problems = [Problem(self.file, 1, "error", _not_a_digest(len(self.orphans)))]
            return
        for number in self.orphans:
            self.report(number, "error", "paper heading outside a valid date section")
        if unshown := sum(self.unshown.values()):
            errors = self.unshown["error"]
            severity: Severity = "error" if errors else "warning"
            note = f"and {unshown} more problems not shown ({errors} of them errors)"
            self.problems.append(Problem(self.file, None, severity, note))

    def cleaned(self, number: int, line: str) -> str:
        line, notes = restore_escapes(line)
        for note in notes:
            self.report(number, "warning", note)
        line, removed = clean(line)
        if removed:
            self.report(number, "warning", cleaned_note(removed))
        return line

    def feed(self, number: int, line: str) -> None:
        stripped = line.strip()
        if stripped.startswith("#") and self.heading(number, stripped):
            return
        if self.draft is not None:
            _read_paper_line(self, self.draft, number, line)
        elif stripped:
            self.report(number, "warning", f"text outside any paper ignored: {_clip(stripped)}")

    def heading(self, number: int, stripped: str) -> bool:
        """Act on a heading line; False if the line is not a heading after all."""
        if header := DATE_HEADER.match(stripped):
            self.finish_paper()
            self.start_day(number, header["date"].strip())
        elif heading := PAPER_HEADING.match(stripped):
            self.finish_paper()
            self.start_paper(number, heading["rest"].strip())
        elif UPPER_HEADING.match(stripped):
            self.finish_paper()
            self.report(number, "warning", f"unexpected heading ignored: {_clip(stripped)}")
        else:
            return False
        return True

    def start_day(self, number: int, value: str) -> None:
        self.seen_header = True
        self.date = _parse_date(value)
        if self.date is None:
            self.report(
                number,
                "error",
                f"invalid date {_clip(value)!r} (expected YYYY-MM-DD, "
                f"{FIRST_DATE.year}-{LAST_DATE.year})",
            )
            return
        self.days.setdefault(self.date, [])
        self.day_lines.setdefault(self.date, number)

    def start_paper(self, number: int, rest: str) -> None:
        if self.date is None:
            self.orphans.append(number)
            return
        title, url, problem = _split_heading(rest)
        arxiv_id = _arxiv_id(url) if url else None
        if arxiv_id is None:
            what = f"link is not an arXiv paper: {_clip(url)}" if url else "has no arXiv link"
            self.report(number, "error", f"paper heading {what}")
            return
        if problem:
            self.report(number, "warning", problem)
        if not title:
            self.report(number, "warning", "paper heading has an empty title; using the arXiv id")
        origin = Origin(self.file, number)
        self.draft = _Draft(origin=origin, arxiv_id=arxiv_id, title=to_unicode(title) or arxiv_id)

    def finish_paper(self) -> None:
        if self.draft is not None and self.date is not None:
            self.days[self.date].append(self.draft.freeze())
        self.draft = None


def cleaned_note(removed: str) -> str:
    return "removed " + ", ".join(describe(character) for character in removed)


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time (a list of them all would hold a second copy)."""
    start = 0
    for found in LINE_BREAK.finditer(text):
        yield text[start : found.start()]
        start = found.end()
    yield text[start:]


def _not_a_digest(headings: int) -> str:
    lost = f" ({headings} paper headings not read)" if headings else ""
    return f"not a digest: no '## Daily Papers (YYYY-MM-DD)' header{lost}"


def _clip(text: str) -> str:
    return clip(text, QUOTED_LENGTH)


def _parse_date(value: str) -> dt.date | None:
    """A real calendar date in the years the archive can cover, else None."""
    if not ISO_DATE.match(value):
        return None
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return date if FIRST_DATE <= date <= LAST_DATE else None


def _split_heading(rest: str) -> tuple[str, str | None, str | None]:
    """Split ``[title](url)`` into title and url; a bare heading is all title.

    The title may itself hold brackets, so the link starts at the last ``](``; found
    with rfind, not a regex, so a megabyte-long heading costs linear time.
    """
    cut = rest.rfind("](") if rest.startswith("[") else -1
    if cut > 0:
        tail = rest[cut + 2 :]
        closed = tail.endswith(")")
        url = tail[:-1] if closed else tail
        if URL_TEXT.fullmatch(url):
            problem = None if closed else "paper link has no closing parenthesis"
            return rest[1:cut].strip(), url, problem
    found = ARXIV_URL.search(rest)
    return rest, (found.group(0) if found else None), None


def _arxiv_id(url: str) -> str | None:
    found = ARXIV_URL.search(url)
    return found["id"] if found else None


def _read_paper_line(parser: _FileParser, draft: _Draft, number: int, line: str) -> None:
    stripped = line.strip()
    if not stripped:
        return
    # Cheap tests first: each pattern below needs "!", "[", "<" or a leading V/A.
    if stripped[0] == "!" and (image := IMAGE.match(stripped)):
        _set_thumbnail(parser, draft, number, image["url"])
    elif stripped[0] == "[" and (watch := WATCH_VIDEO.match(stripped)):
        _set_video(parser, draft, number, watch["url"])
    elif "<" in stripped and (video := VIDEO_TAG.search(stripped)):
        _set_video(parser, draft, number, video["url"])
    elif not draft.sections and (vote := VOTE.match(stripped)):
        draft.votes = _parse_votes(parser, number, vote["value"].strip())
    elif not draft.sections and (authors := AUTHORS.match(stripped)):
        draft.authors, draft.authors_elided = _parse_authors(parser, number, authors["value"])
    else:
        _add_summary_line(parser, number, draft, line)


def _absolute(url: str) -> str | None:
    if url.startswith("/") and not url.startswith("//"):
        url = SOURCE_SITE + url
    return url if HTTP_URL.match(url) else None


def _set_thumbnail(parser: _FileParser, draft: _Draft, number: int, url: str) -> None:
    absolute = _absolute(url)
    if absolute is None:
        parser.report(number, "warning", f"image ignored: not an http(s) URL: {_clip(url)}")
    elif (media_type(absolute) or "").startswith("video/"):
        parser.report(
            number, "warning", f"the image is a video; shown as the paper's video: {_clip(url)}"
        )
        _set_video(parser, draft, number, url)
    elif draft.thumbnail is None:
        draft.thumbnail = absolute
    elif draft.thumbnail != absolute:
        parser.report(number, "warning", f"second image ignored: {_clip(url)}")


def _set_video(parser: _FileParser, draft: _Draft, number: int, url: str) -> None:
    absolute = _absolute(url)
    if absolute is None:
        parser.report(number, "warning", f"video ignored: not an http(s) URL: {_clip(url)}")
    elif draft.video is None:
        draft.video = absolute


def _parse_votes(parser: _FileParser, number: int, value: str) -> int | None:
    if value in ("", "-"):
        return None
    if value.isascii() and value.isdigit() and int(value) <= MAX_VOTES:
        return int(value)
    parser.report(number, "warning", f"vote count {_clip(value)!r} is not a count; treated as none")
    return None


def _parse_authors(parser: _FileParser, number: int, value: str) -> tuple[tuple[str, ...], bool]:
    value = value.strip()
    names: list[str]
    if value.startswith("["):
        literal = _literal(value)
        strings = literal.elts if isinstance(literal, ast.List) else ()
        if strings and all(_is_text(n) for n in strings):
            names = [_Leaves(parser, number, value).text(n) for n in strings]
        else:
            parser.report(number, "warning", "author list is not a valid list; read as text")
            names = value.strip("[]").replace("'", "").split(",")
    else:
        names = value.split(",")
    names = [n.strip() for n in names]
    kept = tuple(dict.fromkeys(n for n in names if n and n != ELISION_MARK))
    repeated = sum(1 for n in names if n and n != ELISION_MARK) - len(kept)
    if repeated:
        parser.report(number, "warning", f"{repeated} repeated author names left out")
    return kept, ELISION_MARK in names


def _literal(text: str) -> ast.expr | None:
    """The syntax tree of a Python literal from the archive, or None; never evaluates code.

    Only the tree, never its value: a value could be a number no text can hold (the
    interpreter refuses to print an int of 4,300 digits), and a string could hold
    characters no output can carry. The walk below turns every leaf into text."""
    if len(text) > MAX_LITERAL:
        return None
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" and such: not ours to say
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval").body
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    try:
        return tree if _is_literal(tree) else None
    except RecursionError:
        return None


def _is_literal(node: ast.expr) -> bool:
    """What ``ast.literal_eval`` accepts: constants, signed numbers, and containers of them."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        return _is_number(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return _is_number(node.left) and _is_number(node.right)  # complex: 1+2j
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_is_literal(item) for item in node.elts)
    if isinstance(node, ast.Dict):
        keys = node.keys
        return all(k is not None and _is_literal(k) for k in keys) and all(
            _is_literal(v) for v in node.values
        )
    return False


def _is_number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex))


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


@dataclass(frozen=True)
class _Leaves:
    """Turns a literal's leaves into text, reporting what had to be cleaned on its line."""

    parser: _FileParser
    number: int
    source: str

    @cached_property
    def encoded(self) -> bytes:
        return self.source.encode()

    def text(self, node: ast.expr) -> str:
        """A string cleaned like any line; anything else exactly as it was written."""
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            # The literal is one line, and its nodes' columns are UTF-8 byte offsets:
            # a slice, where ast.get_source_segment would split the line for every leaf.
            return self.encoded[node.col_offset : node.end_col_offset].decode()
        text, removed = clean(node.value)
        if removed:
            self.parser.report(self.number, "warning", cleaned_note(removed))
        return text

    def sections(self, node: ast.expr) -> tuple[str, tuple[Section, ...]]:
        """Nested dicts and lists from the archive's literals, as text and sub-sections."""
        if isinstance(node, ast.Dict):
            return "", tuple(
                Section(self.text(k), *self.sections(v))
                for k, v in zip(node.keys, node.values, strict=True)
                if k is not None
            )
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            children: list[Section] = []
            for item in node.elts:
                if isinstance(item, ast.Dict):
                    children.extend(self.sections(item)[1])
                else:
                    children.append(Section(None, *self.sections(item)))
            return "", tuple(children)
        return to_unicode(self.text(node), markdown=True), ()


def _add_summary_line(parser: _FileParser, number: int, draft: _Draft, line: str) -> None:
    """A bullet starts an item: at the top level if it is an unindented ``-``, ``*`` or
    ``+``, or an unindented number after a numbered item; else under the item before it
    (a numbered one keeps its number). A line that
    is no bullet continues the item before it, unless it is a labelled line of its own
    (``**Encoder**: …``), which goes under it."""
    bullet = BULLET.match(line)
    if bullet is None and draft.sections and not LABELLED.match(line.strip()):
        draft.sections[-1].go_on(line.strip())
        return
    mark = bullet["mark"] if bullet else ""
    place = int(mark[:-1]) if mark[:1].isdigit() else None
    body = bullet["body"].strip() if bullet else line.strip()
    label, text, children = _section_parts(parser, number, body)
    after_numbered = bool(draft.sections) and draft.sections[-1].number is not None
    top = bullet is not None and not bullet["indent"] and (place is None or after_numbered)
    if top or not draft.sections:
        draft.sections.append(_Item(label, text, place, list(children)))
    else:
        draft.sections[-1].children.append(Section(label, text, children, place))


def _section_parts(
    parser: _FileParser, number: int, body: str
) -> tuple[str | None, str, tuple[Section, ...]]:
    labelled = LABELLED.match(body)
    label, text = (
        (labelled["label"].strip(), labelled["text"].strip()) if labelled else (None, body)
    )
    if text[:1] in ("[", "{") and text[-1:] in ("]", "}"):
        literal = _literal(text)
        if isinstance(literal, (ast.List, ast.Dict)):
            return label, *_Leaves(parser, number, text).sections(literal)
    return label, to_unicode(text, markdown=True), ()


def parse_text(text: str, file: str) -> tuple[dict[dt.date, list[Paper]], list[Problem]]:
    """Parse one file's text into its days (papers in source order) and its problems."""
    parser = _FileParser(file)
    parser.run(text)
    return parser.days, parser.problems
