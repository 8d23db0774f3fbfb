"""Atom and RSS (feedgen) and JSON Feed: one entry a paper, a day or a finished week.

Items are first described format-neutrally (:class:`FeedItem`), then written
three ways. feedgen stamps ``now()`` into anything left unset, so every date is
set from the archive: a day's entries at its edition time, its papers a second
apart in source order, so no two entries share an instant. Links are added in
the order feedgen needs to keep their roles (the RSS channel link is the last
one added).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree
from markupsafe import escape

from . import __version__
from .config import Config
from .editions import Editions, Entry, Week, at_least, first_thumbnail, has_votes, rank
from .jsonfeed import json_feed
from .markup import to_text
from .model import Day, Paper
from .outputs import Context, Files, Output, Rendered, produces
from .render import korean_date, paper_anchor
from .text import clip, media_type

FEEDS = {"papers": "논문별", "daily": "일간", "weekly": "주간"}  # name: title suffix
FORMATS = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
ATOM_NS = "http://www.w3.org/2005/Atom"
SUMMARY_LENGTH = 300
PLAIN_ELEMENT = re.compile(rb"<(title|dc:creator)>[^<]*</\1>")


@dataclass(frozen=True)
class FeedItem:
    id: str
    title: str
    link: str
    published: dt.datetime
    updated: dt.datetime
    content_html: str
    summary: str
    authors: tuple[str, ...] = ()
    image: str | None = None
    enclosure: tuple[str, str] | None = None  # URL and media type
    related: str | None = None  # the web page that shows it among others


def enclosure_of(*urls: str | None) -> tuple[str, str] | None:
    """The first URL whose media type we know, with that type."""
    for url in urls:
        kind = media_type(url) if url else None
        if url and kind:
            return url, kind
    return None


@dataclass(frozen=True)
class Feed:
    name: str
    title: str
    subtitle: str
    updated: dt.datetime
    items: tuple[FeedItem, ...]


def paper_summary(paper: Paper) -> str:
    for section in paper.sections:
        text = section.text or " ".join(child.text for child in section.children)
        if text:
            return clip(to_text(text), SUMMARY_LENGTH)
    return paper.title


def paper_item(ctx: Context, entry: Entry) -> FeedItem:
    paper, config = entry.paper, ctx.config
    day_url = config.url(f"days/{entry.day.key}.html#{paper_anchor(paper)}")
    return FeedItem(
        id=paper.abs_url,
        title=paper.title,
        link=paper.abs_url,
        published=config.edition(entry.published, entry.first_position),
        updated=config.edition(entry.updated, entry.position),
        content_html=ctx.theme.render(
            "feed_paper.html", paper=paper, day=entry.day.date, day_url=day_url
        ),
        summary=paper_summary(paper),
        authors=paper.authors,
        image=paper.thumbnail,
        enclosure=enclosure_of(paper.thumbnail, paper.video),
        related=day_url,
    )


def day_item(ctx: Context, day: Day) -> FeedItem:
    config = ctx.config
    papers = at_least(rank(day.papers), min_votes=config.min_votes)
    page = config.url(f"days/{day.key}.html")
    titles = ", ".join(p.title for p in papers[:3])
    return FeedItem(
        id=page,
        title=f"{korean_date(day.date)} 논문 {len(papers)}편",
        link=page,
        published=config.edition(day.date),
        updated=config.edition(day.date),
        content_html=ctx.theme.render("feed_day.html", day=day, papers=papers, page_url=page),
        summary=clip(f"논문 {len(papers)}편: {titles}", SUMMARY_LENGTH),
        image=first_thumbnail(papers),
    )


def week_item(ctx: Context, week: Week) -> FeedItem:
    config = ctx.config
    page = config.url(f"weeks/{week.key}.html")
    papers = week.papers()
    items = [w for w in papers if has_votes(w.paper, config.min_votes)]
    top, rest = items[: config.week_top], items[config.week_top :]
    titles = ", ".join(w.paper.title for w in top[:3])
    html = ctx.theme.render(
        "feed_week.html", papers=papers, heading=week.heading, top=top, rest=rest, page_url=page
    )
    return FeedItem(
        id=page,
        title=f"{week.heading} 주간 논문 {len(items)}편",
        link=page,
        published=config.week_end(week.last),
        updated=config.week_end(week.last),
        content_html=html,
        summary=clip(f"논문 {len(items)}편: {titles}", SUMMARY_LENGTH),
        image=first_thumbnail(w.paper for w in top),
    )


def _paths(name: str) -> tuple[str, ...]:
    return tuple(f"feeds/{name}.{kind}" for kind in ("atom", "rss", "json"))


@produces
def papers_feed(editions: Editions, config: Config) -> list[Output]:
    """A paper an entry, for the papers whose text appeared in the newest feed_days days."""
    window = editions.window(config.feed_days)
    entries = tuple(
        e
        for e in editions.entries_since(window[-1].date)
        if e.votes is None or e.votes >= config.min_votes
    )
    return [Output(_paths("papers"), _papers_feed, (entries, window[0].date))]


def _papers_feed(ctx: Context, entries: tuple[Entry, ...], newest: dt.date) -> Rendered:
    return _written(ctx, "papers", tuple(paper_item(ctx, e) for e in entries), newest), ()


@produces
def daily_feed(editions: Editions, config: Config) -> list[Output]:
    """A day an entry, for the newest feed_days days."""
    return [Output(_paths("daily"), _daily_feed, (editions.window(config.feed_days),))]


def _daily_feed(ctx: Context, window: tuple[Day, ...]) -> Rendered:
    return _written(ctx, "daily", tuple(day_item(ctx, d) for d in window), window[0].date), ()


@produces
def weekly_feed(editions: Editions, config: Config) -> list[Output]:
    """A finished week an entry, for the newest feed_weeks finished weeks."""
    weeks = tuple(reversed(editions.finished_weeks()[-config.feed_weeks :]))
    # The newest day only dates a feed with no week yet: otherwise every new day would
    # change its key, and a feed of ten weeks would be rendered again for nothing.
    newest = None if weeks else editions.days[-1].date
    return [Output(_paths("weekly"), _weekly_feed, (weeks, newest))]


def _weekly_feed(ctx: Context, weeks: tuple[Week, ...], newest: dt.date | None) -> Rendered:
    items = tuple(week_item(ctx, w) for w in weeks)
    return _written(ctx, "weekly", items, newest or weeks[0].last), ()


def _written(ctx: Context, name: str, items: tuple[FeedItem, ...], newest: dt.date) -> Files:
    """One feed in Atom, RSS and JSON Feed. Its date is its newest item's, never the clock's
    (if it has none, its newest day's)."""
    config = ctx.config
    updated = max((item.updated for item in items), default=config.edition(newest))
    feed = Feed(name, f"{config.title} — {FEEDS[name]}", config.description, updated, items)
    atom = _atom(_generator(feed, config, "atom"), feed.items)
    rss = rss_profile(_generator(feed, config, "rss").rss_str(pretty=True))
    return {
        f"feeds/{name}.atom": atom,
        f"feeds/{name}.rss": rss,
        f"feeds/{name}.json": json_feed(feed, config),
    }


def rss_profile(xml: bytes) -> bytes:
    """The same document with "<" and "&" in its plain-text elements written as hexadecimal
    character references, as the RSS Best Practices Profile asks: some RSS readers decode
    ``&lt;`` in a title once too often (to XML they are the same characters)."""
    return PLAIN_ELEMENT.sub(
        lambda m: m[0].replace(b"&lt;", b"&#x3C;").replace(b"&amp;", b"&#x26;"), xml
    )


def _generator(feed: Feed, config: Config, kind: str) -> Any:
    # Imported here, like premailer: a rebuild whose feeds did not change never loads it.
    from feedgen.feed import FeedGenerator

    generator = FeedGenerator()
    generator.load_extension("media", atom=True, rss=True)
    generator.load_extension("dc", atom=False, rss=True)
    generator.id(config.url(f"feeds/{feed.name}.atom"))
    generator.title(feed.title)
    generator.subtitle(feed.subtitle)
    generator.language("ko")
    generator.author({"name": config.author})
    if kind == "rss":  # RSS has no channel author but an address; readers take this one
        generator.dc.dc_creator(config.author)
    generator.link(href=config.url(f"feeds/{feed.name}.{kind}"), rel="self", type=FORMATS[kind])
    generator.link(href=config.site_url, rel="alternate", type="text/html")
    generator.generator("newsletter", version=__version__)
    generator.updated(feed.updated)
    generator.lastBuildDate(feed.updated)
    for item in feed.items:
        _add_entry(generator, item)
    return generator


def _add_entry(generator: Any, item: FeedItem) -> None:
    entry = generator.add_entry(order="append")
    entry.id(item.id)
    entry.guid(item.id, permalink=True)
    entry.title(item.title)
    if item.enclosure:
        url, kind = item.enclosure
        entry.link(href=url, rel="enclosure", type=kind)
    entry.link(href=item.link, rel="alternate", type="text/html")
    entry.published(item.published)
    entry.updated(item.updated)
    entry.content(item.content_html, type="html")
    # RSS readers treat <description> as HTML, so the plain-text summary goes in escaped.
    entry.summary(str(escape(item.summary)), type="html")
    if item.authors:  # all at once: feedgen walks every author given so far on each call
        entry.author([{"name": name} for name in item.authors])
        # One dc:creator with every name, as arXiv's feeds write it: readers show one.
        entry.dc.dc_creator(", ".join(item.authors))
    if item.image:
        entry.media.thumbnail({"url": item.image}, group=None)


def _atom(generator: Any, items: tuple[FeedItem, ...]) -> bytes:
    """feedgen 1.0 writes entry links without their rel and type; write them ourselves."""
    parser = etree.XMLParser(remove_blank_text=True, huge_tree=True)  # a day may be huge
    root = etree.fromstring(generator.atom_str(), parser)
    for element, item in zip(root.iterfind(f"{{{ATOM_NS}}}entry"), items, strict=True):
        for link in element.findall(f"{{{ATOM_NS}}}link"):
            element.remove(link)
        etree.SubElement(
            element, f"{{{ATOM_NS}}}link", href=item.link, rel="alternate", type="text/html"
        )
        if item.related:
            etree.SubElement(
                element, f"{{{ATOM_NS}}}link", href=item.related, rel="related", type="text/html"
            )
        if item.enclosure:
            url, kind = item.enclosure
            etree.SubElement(element, f"{{{ATOM_NS}}}link", href=url, rel="enclosure", type=kind)
    return bytes(etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8"))
