"""From days of the archive to what is published: ranked days, weeks, paper entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from .model import Day, Paper

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


@dataclass(frozen=True)
class Ranked:
    """A day as pages and emails show it: its papers ranked by votes."""

    date: dt.date
    papers: tuple[Paper, ...]

    @property
    def key(self) -> str:
        return self.date.isoformat()


def ranked(day: Day) -> Ranked:
    return Ranked(day.date, rank(day.papers))


@dataclass(frozen=True)
class WeekPaper:
    paper: Paper  # as the newest day of the week lists it: its newest text and votes
    date: dt.date  # the day of the week it first appeared


@dataclass(frozen=True)
class WeekNumber:
    """An ISO week, by its number."""

    year: int
    number: int

    @property
    def key(self) -> str:
        return f"{self.year}-W{self.number:02d}"


@dataclass(frozen=True)
class Week(WeekNumber):
    """An ISO week of the archive and its days."""

    days: tuple[Day, ...]

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

    def papers(self) -> tuple[WeekPaper, ...]:
        """Each paper of the week once, dated the first day it appeared, ranked by the votes
        of the newest day that lists it (ties in the order they were first seen)."""
        seen: dict[str, WeekPaper] = {}
        for day in self.days:
            for paper in rank(day.papers):
                first = seen.get(paper.arxiv_id)
                seen[paper.arxiv_id] = WeekPaper(paper, first.date if first else day.date)
        return rank_by(seen.values(), lambda w: w.paper.votes)


@dataclass(frozen=True)
class Entry:
    """One paper as the papers feed shows it, once, however many days list it: as ``day``
    lists it, the first day its current text appeared."""

    arxiv_id: str
    published: dt.date  # the first day it appeared
    first_position: int  # its place in that day's source order
    day: Day
    position: int  # its place in ``day``'s source order
    votes: int | None  # on that day

    @property
    def updated(self) -> dt.date:
        return self.day.date

    @property
    def paper(self) -> Paper:
        return next(p for p in self.day.papers if p.arxiv_id == self.arxiv_id)


class Seen(NamedTuple):
    """A paper's history as the papers feed needs it."""

    published: dt.date  # the first day it appeared
    position: int  # its place in that day's source order
    updated: int  # the index of the day its current text first appeared
    order: int  # when it was first seen among all papers: ties keep that order


@dataclass(frozen=True)
class Editions:
    """What is published: the days, the weeks, and each paper's history."""

    days: tuple[Day, ...]  # oldest first
    weeks: tuple[Week, ...]  # oldest first
    seen: Mapping[str, Seen]

    def window(self, days: int) -> tuple[Day, ...]:
        """The newest ``days`` days present in the archive, newest first."""
        return tuple(reversed(self.days[-days:]))

    def entries_since(self, start: dt.date) -> tuple[Entry, ...]:
        """The papers feed's entries whose current text appeared on ``start`` or later:
        newest day first, then by votes (ties in the order the papers were first seen)."""
        found: list[Entry] = []
        for index in range(len(self.days) - 1, -1, -1):
            day = self.days[index]
            if day.date < start:
                break
            here = [
                (
                    vote_key(m.votes, seen.order),
                    Entry(m.arxiv_id, seen.published, seen.position, day, at, m.votes),
                )
                for at, m in enumerate(day.mentions)
                if (seen := self.seen[m.arxiv_id]).updated == index
            ]
            found += [entry for _, entry in sorted(here, key=lambda pair: pair[0])]
        return tuple(found)

    def finished_weeks(self) -> tuple[Week, ...]:
        """Weeks that can no longer change: a later day exists, or their Sunday does."""
        newest = self.days[-1].date
        return tuple(w for w in self.weeks if w.last < newest or w.days[-1].date == w.last)


def history(days: Sequence[Day]) -> dict[str, Seen]:
    """A paper seen on several days is one entry: published on its first day, showing its
    latest text, updated on the day that text first appeared."""
    seen: dict[str, Seen] = {}
    texts: dict[str, str] = {}
    for index, day in enumerate(days):
        for position, mention in enumerate(day.mentions):
            known = seen.get(mention.arxiv_id)
            if known is None:
                seen[mention.arxiv_id] = Seen(day.date, position, index, len(seen))
            elif texts[mention.arxiv_id] != mention.text:
                seen[mention.arxiv_id] = known._replace(updated=index)
            texts[mention.arxiv_id] = mention.text
    return seen


def make_weeks(days: Sequence[Day]) -> tuple[Week, ...]:
    grouped: dict[tuple[int, int], list[Day]] = {}
    for day in days:
        year, number, _ = day.date.isocalendar()
        grouped.setdefault((year, number), []).append(day)
    return tuple(
        Week(year, number, tuple(members)) for (year, number), members in sorted(grouped.items())
    )


def make_editions(days: tuple[Day, ...]) -> Editions:
    return Editions(days, make_weeks(days), history(days))
