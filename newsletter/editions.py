"""From days of the archive to what is published: ranked days, weeks, paper entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from .archive import Archive
from .model import Outline, Paper

T = TypeVar("T")


def vote_key(votes: int | None, index: int) -> tuple[int, int, int]:
    """Most votes first; papers with no vote after those with one; then source order."""
    if votes is None:
        return (1, 0, index)
    return (0, -votes, index)


def rank_by(items: Iterable[T], votes: Callable[[T], int | None]) -> tuple[T, ...]:
    """Items ordered by their votes, ties kept in the order given."""
    indexed = sorted(enumerate(items), key=lambda pair: vote_key(votes(pair[1]), pair[0]))
    return tuple(item for _, item in indexed)


def rank(papers: Iterable[Paper]) -> tuple[Paper, ...]:
    return rank_by(papers, lambda paper: paper.votes)


def has_votes(paper: Paper, min_votes: int) -> bool:
    """At least ``min_votes``; a paper whose votes are unknown stays in."""
    return paper.votes is None or paper.votes >= min_votes


def at_least(papers: Iterable[Paper], *, min_votes: int) -> tuple[Paper, ...]:
    return tuple(p for p in papers if has_votes(p, min_votes))


def first_thumbnail(papers: Iterable[Paper]) -> str | None:
    """The image that stands for a list of papers: the first one that has any."""
    return next((p.thumbnail for p in papers if p.thumbnail), None)


@dataclass(frozen=True, slots=True)
class Day:
    """A day with its papers, ranked by votes."""

    date: dt.date
    papers: tuple[Paper, ...]

    @property
    def key(self) -> str:
        return self.date.isoformat()


@dataclass(frozen=True, slots=True)
class WeekPaper:
    paper: Paper
    date: dt.date  # the day of the week it first appeared


@dataclass(frozen=True, slots=True)
class WeekOutline:
    """An ISO week of the archive and its days, without their papers."""

    year: int
    number: int
    days: tuple[Outline, ...]

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
class Week(WeekOutline):
    papers: tuple[WeekPaper, ...]  # each paper once, ranked by votes


@dataclass(frozen=True, slots=True)
class EntryOutline:
    """A paper in the papers feed, before its text is read."""

    arxiv_id: str
    published: dt.date  # the first day it appeared
    updated: dt.date  # the first day its current text appeared
    votes: int | None  # on that day
    text: str  # hash of that text


@dataclass(frozen=True, slots=True)
class Entry:
    """One paper as the papers feed shows it, once, however many days list it."""

    paper: Paper  # as listed on the day its current text appeared
    published: dt.date
    updated: dt.date


LOADED_DAYS = 32  # days a process keeps with their papers: a week's, or a feed window's


@dataclass(frozen=True)
class Editions:
    """What is published, as outlines; a day's papers are read when a page needs them."""

    days: tuple[Outline, ...]  # oldest first
    weeks: tuple[WeekOutline, ...]  # oldest first
    entries: tuple[EntryOutline, ...]  # newest first
    archive: Archive = field(compare=False)
    loaded: dict[dt.date, Day] = field(default_factory=dict, compare=False, repr=False)

    def day(self, outline: Outline) -> Day:
        if (day := self.loaded.get(outline.date)) is None:
            if len(self.loaded) >= LOADED_DAYS:
                del self.loaded[next(iter(self.loaded))]
            day = Day(outline.date, rank(self.archive.digest(outline).papers))
            self.loaded[outline.date] = day
        return day

    def week(self, week: WeekOutline) -> Week:
        seen: dict[str, WeekPaper] = {}
        for day in map(self.day, week.days):
            for paper in day.papers:
                seen.setdefault(paper.arxiv_id, WeekPaper(paper, day.date))
        papers = rank_by(seen.values(), lambda w: w.paper.votes)
        return Week(week.year, week.number, week.days, papers)

    def window(self, days: int) -> tuple[Outline, ...]:
        """The newest ``days`` days present in the archive, newest first."""
        return tuple(reversed(self.days[-days:]))

    def entries_since(self, start: dt.date) -> tuple[EntryOutline, ...]:
        return tuple(e for e in self.entries if e.updated >= start)

    def entry(self, outline: EntryOutline) -> Entry:
        """The entry with its paper, from the day its text appeared."""
        day = self.day(next(d for d in reversed(self.days) if d.date == outline.updated))
        paper = next(p for p in day.papers if p.arxiv_id == outline.arxiv_id)
        return Entry(paper, outline.published, outline.updated)

    def complete_weeks_since(self, start: dt.date) -> tuple[WeekOutline, ...]:
        """Weeks that can no longer change (a later day exists, or their Sunday does), newest
        first, that end on or after ``start``."""
        newest = self.days[-1].date
        return tuple(
            week
            for week in reversed(self.weeks)
            if (week.last < newest or week.days[-1].date == week.last) and week.last >= start
        )


def make_entries(days: Sequence[Outline]) -> tuple[EntryOutline, ...]:
    """A paper seen on several days is one entry: published on its first day,
    showing its latest text, updated on the day that text first appeared."""
    first: dict[str, EntryOutline] = {}
    for day in days:
        for mention in day.mentions:
            seen = first.get(mention.arxiv_id)
            if seen is None or seen.text != mention.text:
                published = seen.published if seen else day.date
                first[mention.arxiv_id] = EntryOutline(
                    mention.arxiv_id, published, day.date, mention.votes, mention.text
                )
    by_day: dict[dt.date, list[EntryOutline]] = {}
    for entry in first.values():
        by_day.setdefault(entry.updated, []).append(entry)
    return tuple(
        entry
        for day in sorted(by_day, reverse=True)
        for entry in rank_by(by_day[day], lambda e: e.votes)
    )


def make_weeks(days: Sequence[Outline]) -> tuple[WeekOutline, ...]:
    grouped: dict[tuple[int, int], list[Outline]] = {}
    for day in days:
        year, number, _ = day.date.isocalendar()
        grouped.setdefault((year, number), []).append(day)
    return tuple(
        WeekOutline(year, number, tuple(members))
        for (year, number), members in sorted(grouped.items())
    )


def make_editions(archive: Archive) -> Editions:
    days = archive.days
    return Editions(days, make_weeks(days), make_entries(days), archive)
