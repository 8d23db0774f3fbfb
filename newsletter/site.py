"""The static web archive: a page per day and per week, an index, and a page that lists
every feed (with an OPML file of them, for feed readers to import).

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
OPML = "feeds/feeds.opml"


@dataclass(frozen=True)
class FeedLink:
    path: str
    type: str
    title: str
    label: str
    name: str  # papers, daily, weekly
    kind: str  # atom, rss, json


@dataclass(frozen=True)
class Subscription:
    """One feed, in all its formats, as the subscribe page shows it."""

    name: str
    title: str
    holds: str  # what an entry is, and how many there are
    formats: tuple[FeedLink, ...]


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
        FeedLink(
            f"feeds/{name}.{kind}",
            media,
            f"{config.title} — {label} ({kind.upper()})",
            label,
            name,
            kind,
        )
        for name, label in FEEDS.items()
        for kind, media in FEED_KINDS
    )


def subscriptions(config: Config) -> tuple[Subscription, ...]:
    holds = {
        "papers": f"논문 한 편이 글 하나. 최근 {config.feed_days}일 동안 나온 논문",
        "daily": f"하루치 호가 글 하나. 최근 {config.feed_days}일",
        "weekly": f"끝난 한 주의 추천순 모음이 글 하나. 최근 {config.feed_weeks}주",
    }
    links = feed_links(config)
    return tuple(
        Subscription(
            name,
            f"{config.title} — {label}",
            holds[name],
            tuple(link for link in links if link.name == name),
        )
        for name, label in FEEDS.items()
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


@produces
def subscribe_page(editions: Editions, config: Config) -> list[Output]:
    """What each feed holds, its address in each format, and an OPML file of them all."""
    return [Output(("feeds/index.html", OPML), _subscribe_page, ())]


def _subscribe_page(ctx: Context) -> Rendered:
    config = ctx.config
    page = Page("feeds/index.html", f"구독 · {config.title}", f"{config.title}의 피드 구독 안내")
    listed = subscriptions(config)
    files, notes = _page(ctx, "feeds.html", page, subscriptions=listed, opml=OPML)
    files[OPML] = opml(config, listed)
    return files, notes


def opml(config: Config, listed: tuple[Subscription, ...]) -> bytes:
    """OPML 2.0: each feed once, in Atom, for a feed reader to import."""
    from xml.etree import ElementTree as ET

    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = config.title
    ET.SubElement(head, "ownerName").text = config.author
    group = ET.SubElement(ET.SubElement(root, "body"), "outline", text=config.title)
    for feed in listed:
        atom = next(link for link in feed.formats if link.kind == "atom")
        ET.SubElement(
            group,
            "outline",
            type="rss",  # what OPML calls every feed
            text=feed.title,
            title=feed.title,
            xmlUrl=config.url(atom.path),
            htmlUrl=config.site_url,
            description=feed.holds,
        )
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"
