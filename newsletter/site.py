"""The static web archive: a page per day and per week, and an index.

Links between pages are relative, so ``out/`` works from any host or from
disk; only canonical and Open Graph URLs use the configured site URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import Config
from .editions import Editions, Week, WeekOutline, first_thumbnail
from .feeds import FEEDS, FORMATS
from .model import Outline
from .render import korean_date, render, source

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
    days: tuple[Outline, ...]
    weeks: tuple[WeekOutline, ...]


def feed_links(config: Config) -> tuple[FeedLink, ...]:
    return tuple(
        FeedLink(f"feeds/{name}.{kind}", media, f"{config.title} — {label} ({kind.upper()})", label)
        for name, label in FEEDS.items()
        for kind, media in FEED_KINDS
    )


def _render_page(template: str, page: Page, config: Config, **context: object) -> str:
    """Every page gets its metadata, the settings and the feed links for its <head>."""
    return render(template, page=page, config=config, feeds=feed_links(config), **context)


def day_page(editions: Editions, index: int, week: WeekOutline, config: Config) -> str:
    day = editions.day(editions.days[index])
    titles = ", ".join(p.title for p in day.papers[:3])
    page = Page(
        f"days/{day.key}.html",
        f"{korean_date(day.date)} · {config.title}",
        f"논문 {len(day.papers)}편: {titles}",
        first_thumbnail(day.papers),
    )
    previous = editions.days[index - 1] if index > 0 else None
    following = editions.days[index + 1] if index + 1 < len(editions.days) else None
    return _render_page(
        "day.html", page, config, day=day, week=week, previous=previous, next=following
    )


def week_page(week: Week, config: Config) -> str:
    top, rest = week.papers[: config.week_top], week.papers[config.week_top :]
    heading = week.heading
    titles = ", ".join(w.paper.title for w in top[:3])
    page = Page(
        f"weeks/{week.key}.html",
        f"{heading} · {config.title}",
        f"이번 주 논문 {len(week.papers)}편: {titles}",
        first_thumbnail(w.paper for w in top),
    )
    days = {w.paper.arxiv_id: w.date for w in week.papers}
    return _render_page(
        "week.html",
        page,
        config,
        week=week,
        heading=heading,
        top=top,
        rest=[w.paper for w in rest],
        days=days,
    )


def months(editions: Editions) -> tuple[Month, ...]:
    grouped: dict[tuple[int, int], tuple[list[Outline], list[WeekOutline]]] = {}
    for day in editions.days:
        grouped.setdefault((day.date.year, day.date.month), ([], []))[0].append(day)
    for week in editions.weeks:
        first = week.days[0].date
        grouped[(first.year, first.month)][1].append(week)
    return tuple(
        Month(f"{year}년 {month}월", tuple(reversed(days)), tuple(reversed(weeks)))
        for (year, month), (days, weeks) in sorted(grouped.items(), reverse=True)
    )


def index_page(editions: Editions, config: Config) -> str:
    latest = editions.day(editions.days[-1])
    page = Page("index.html", config.title, config.description, first_thumbnail(latest.papers))
    return _render_page("index.html", page, config, latest=latest, months=months(editions))


def render_style() -> dict[str, bytes]:
    return {"style.css": source("site.css").encode()}
