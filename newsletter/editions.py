"""From days of the archive to what is published: ranked days, weeks, paper entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from .model import Digest, Paper

T = TypeVar("T")


def vote_key(paper: Paper, index: int) -> tuple[int, int, int]:
    """Most votes first; papers with no vote after those with one; then source order."""
    if paper.votes is None:
        return (1, 0, index)
    return (0, -paper.votes, index)


def rank_by(items: Iterable[T], paper: Callable[[T], Paper]) -> tuple[T, ...]:
    """Items ordered by their paper's votes, ties kept in the order given."""
    indexed = sorted(enumerate(items), key=lambda pair: vote_key(paper(pair[1]), pair[0]))
    return tuple(item for _, item in indexed)


def rank(papers: Iterable[Paper]) -> tuple[Paper, ...]:
    return rank_by(papers, lambda paper: paper)


def has_votes(paper: Paper, min_votes: int) -> bool:
    """At least ``min_votes``; a paper whose votes are unknown stays in."""
    return paper.votes is None or paper.votes >= min_votes


def at_least(papers: Iterable[Paper], *, min_votes: int) -> tuple[Paper, ...]:
    return tuple(p for p in papers if has_votes(p, min_votes))


def first_thumbnail(papers: Iterable[Paper]) -> str | None:
    """The image that stands for a list of papers: the first one that has any."""
    return next((p.thumbnail for p in papers if p.thumbnail), None)


def content_key(paper: Paper) -> tuple[object, ...]:
    """What a reader sees as the paper's text; votes change daily and are not part of it."""
    return (
        paper.title,
        paper.authors,
        paper.authors_elided,
        paper.sections,
        paper.thumbnail,
        paper.video,
    )


@dataclass(frozen=True, slots=True)
class Day:
    date: dt.date
    papers: tuple[Paper, ...]  # ranked by votes

    @property
    def key(self) -> str:
        return self.date.isoformat()


@dataclass(frozen=True, slots=True)
class WeekPaper:
    paper: Paper
    date: dt.date  # the day of the week it first appeared


@dataclass(frozen=True, slots=True)
class Week:
    year: int
    number: int
    days: tuple[Day, ...]
    papers: tuple[WeekPaper, ...]  # each paper once, ranked by votes

    @property
    def key(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def heading(self) -> str:
        first, last = self.first, self.last
        return f"{self.year}년 {self.number}주 ({first.month}/{first.day}~{last.month}/{last.day})"

    @property
    def first(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.number, 1)

    @property
    def last(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.number, 7)


@dataclass(frozen=True, slots=True)
class Entry:
    """One paper as the papers feed shows it, once, however many days list it."""

    paper: Paper
    published: dt.date  # the first day it appeared
    updated: dt.date  # the first day its current text appeared


@dataclass(frozen=True, slots=True)
class Editions:
    days: tuple[Day, ...]  # oldest first
    weeks: tuple[Week, ...]  # oldest first
    entries: tuple[Entry, ...]  # newest first

    def window(self, days: int) -> tuple[Day, ...]:
        """The newest ``days`` days present in the archive, newest first."""
        return tuple(reversed(self.days[-days:]))

    def entries_since(self, start: dt.date) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.updated >= start)

    def complete_weeks_since(self, start: dt.date) -> tuple[Week, ...]:
        """Weeks that can no longer change (a later day exists, or their Sunday does), newest
        first, that end on or after ``start``."""
        newest = self.days[-1].date
        return tuple(
            week
            for week in reversed(self.weeks)
            if (week.last < newest or week.days[-1].date == week.last) and week.last >= start
        )


def make_entries(digests: Sequence[Digest]) -> tuple[Entry, ...]:
    """A paper seen on several days is one entry: published on its first day,
    showing its latest text, updated on the day that text first appeared."""
    first: dict[str, Entry] = {}
    for digest in digests:
        for paper in digest.papers:
            seen = first.get(paper.arxiv_id)
            if seen is None:
                first[paper.arxiv_id] = Entry(paper, digest.date, digest.date)
            elif content_key(seen.paper) != content_key(paper):
                first[paper.arxiv_id] = Entry(paper, seen.published, digest.date)
    by_day: dict[dt.date, list[Entry]] = {}
    for entry in first.values():
        by_day.setdefault(entry.updated, []).append(entry)
    return tuple(
        entry
        for day in sorted(by_day, reverse=True)
        for entry in rank_by(by_day[day], lambda e: e.paper)
    )


def make_weeks(days: Sequence[Day]) -> tuple[Week, ...]:
    grouped: dict[tuple[int, int], list[Day]] = {}
    for day in days:
        year, number, _ = day.date.isocalendar()
        grouped.setdefault((year, number), []).append(day)
    return tuple(
        _week(year, number, members) for (year, number), members in sorted(grouped.items())
    )


def _week(year: int, number: int, days: list[Day]) -> Week:
    seen: dict[str, WeekPaper] = {}
    for day in days:
        for paper in day.papers:
            seen.setdefault(paper.arxiv_id, WeekPaper(paper, day.date))
    return Week(year, number, tuple(days), rank_by(seen.values(), lambda w: w.paper))


def make_editions(digests: Sequence[Digest]) -> Editions:
    days = tuple(Day(d.date, rank(d.papers)) for d in digests)
    return Editions(days=days, weeks=make_weeks(days), entries=make_entries(digests))
