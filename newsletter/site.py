"""The static web archive: a page per day and per week, and an index.

Links between pages are relative, so ``out/`` works from any host or from
disk; only canonical and Open Graph URLs use the configured site URL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from .config import Config
from .editions import Editions, Week, WeekNumber, first_thumbnail, ranked
from .feeds import FEEDS, FORMATS
from .model import Day
from .outputs import Context, Output, Rendered, produces
from .render import korean_date

FEED_KINDS = (*FORMATS.items(), ("json", "application/feed+json"))


@dataclass(frozen=True)
class FeedLink:
    path: str
    type: str
    title: str
    label: str


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    description: str
    image: str | None = None

    @property
    def root(self) -> str:
        """The relative way back to the top of ``out/``."""
        return "../" * self.path.count("/")


@dataclass(frozen=True)
class Month:
    label: str
    days: tuple[Day, ...]
    weeks: tuple[Week, ...]


def feed_links(config: Config) -> tuple[FeedLink, ...]:
    return tuple(
        FeedLink(f"feeds/{name}.{kind}", media, f"{config.title} — {label} ({kind.upper()})", label)
        for name, label in FEEDS.items()
        for kind, media in FEED_KINDS
    )


def _page(ctx: Context, template: str, page: Page, **context: object) -> Rendered:
    """Every page gets its metadata, the settings and the feed links for its <head>."""
    html = ctx.theme.render(
        template, page=page, config=ctx.config, feeds=feed_links(ctx.config), **context
    )
    return {page.path: html.encode()}, ()


@produces
def day_pages(editions: Editions, config: Config) -> Iterator[Output]:
    """A page a day, every paper in full; it links to the days before and after."""
    days = editions.days
    week_of = {day.date: week for week in editions.weeks for day in week.days}
    for index, day in enumerate(days):
        before = days[index - 1].date if index > 0 else None
        after = days[index + 1].date if index + 1 < len(days) else None
        week = week_of[day.date]
        yield Output(
            (f"days/{day.key}.html",),
            _day_page,
            (day, before, after, WeekNumber(week.year, week.number)),
            group=week.key,
        )


def _day_page(
    ctx: Context,
    day: Day,
    before: dt.date | None,
    after: dt.date | None,
    week: WeekNumber,
) -> Rendered:
    shown = ranked(day)
    titles = ", ".join(p.title for p in shown.papers[:3])
    page = Page(
        f"days/{day.key}.html",
        f"{korean_date(day.date)} · {ctx.config.title}",
        f"논문 {len(shown.papers)}편: {titles}",
        first_thumbnail(shown.papers),
    )
    return _page(ctx, "day.html", page, day=shown, week=week, previous=before, next=after)


@produces
def week_pages(editions: Editions, config: Config) -> Iterator[Output]:
    """A page an ISO week: its top papers in full, then the rest."""
    for week in editions.weeks:
        yield Output((f"weeks/{week.key}.html",), _week_page, (week,), group=week.key)


def _week_page(ctx: Context, week: Week) -> Rendered:
    top_count = ctx.config.week_top
    papers = week.papers()
    top, rest = papers[:top_count], papers[top_count:]
    heading = week.heading
    titles = ", ".join(w.paper.title for w in top[:3])
    page = Page(
        f"weeks/{week.key}.html",
        f"{heading} · {ctx.config.title}",
        f"이번 주 논문 {len(papers)}편: {titles}",
        first_thumbnail(w.paper for w in top),
    )
    return _page(
        ctx,
        "week.html",
        page,
        week=week,
        papers=papers,
        heading=heading,
        top=top,
        rest=[w.paper for w in rest],
        days={w.paper.arxiv_id: w.date for w in papers},
    )


def months(days: tuple[Day, ...], weeks: tuple[Week, ...]) -> tuple[Month, ...]:
    grouped: dict[tuple[int, int], tuple[list[Day], list[Week]]] = {}
    for day in days:
        grouped.setdefault((day.date.year, day.date.month), ([], []))[0].append(day)
    for week in weeks:
        first = week.days[0].date
        grouped[(first.year, first.month)][1].append(week)
    return tuple(
        Month(f"{year}년 {month}월", tuple(reversed(days)), tuple(reversed(weeks)))
        for (year, month), (days, weeks) in sorted(grouped.items(), reverse=True)
    )


@produces
def index_page(editions: Editions, config: Config) -> list[Output]:
    """The home page: the newest day, every day and week by month, the feeds."""
    return [Output(("index.html",), _index_page, (editions.days, editions.weeks))]


def _index_page(ctx: Context, days: tuple[Day, ...], weeks: tuple[Week, ...]) -> Rendered:
    latest = ranked(days[-1])
    config = ctx.config
    page = Page("index.html", config.title, config.description, first_thumbnail(latest.papers))
    return _page(ctx, "index.html", page, latest=latest, months=months(days, weeks))


@produces
def stylesheet(editions: Editions, config: Config) -> list[Output]:
    """The pages' stylesheet."""
    return [Output(("style.css",), _stylesheet, ())]


def _stylesheet(ctx: Context) -> Rendered:
    return {"style.css": ctx.theme.source("site.css").encode()}, ()
