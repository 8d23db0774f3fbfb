"""Atom and RSS (feedgen) and JSON Feed, one entry a paper and one entry a day.

Items are first described format-neutrally (:class:`FeedItem`), then written
three ways. feedgen stamps ``now()`` into anything left unset, so every date is
set from the archive; links are added in the order feedgen needs to keep their
roles (the RSS channel link is the last one added).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lxml import etree
from markupsafe import escape

from . import __version__
from .config import Config
from .editions import Day, Editions, Entry, Week, at_least, first_thumbnail, has_votes
from .jsonfeed import json_feed
from .model import Paper
from .render import korean_date, render
from .text import clip

FEEDS = {"papers": "논문별", "daily": "일간", "weekly": "주간"}  # name: title suffix
FORMATS = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
STYLESHEET = "feed.xsl"
ATOM_NS = "http://www.w3.org/2005/Atom"
SUMMARY_LENGTH = 300
MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
}


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
            return clip(text, SUMMARY_LENGTH)
    return paper.title


def paper_item(entry: Entry, config: Config) -> FeedItem:
    paper = entry.paper
    return FeedItem(
        id=paper.abs_url,
        title=paper.title,
        link=paper.abs_url,
        published=config.midnight(entry.published),
        updated=config.midnight(entry.updated),
        content_html=render("feed_paper.html", paper=paper),
        summary=paper_summary(paper),
        authors=paper.authors,
        image=paper.thumbnail,
        enclosure=enclosure_of(paper.thumbnail, paper.video),
    )


def day_item(day: Day, config: Config) -> FeedItem:
    papers = at_least(day.papers, min_votes=config.min_votes)
    page = config.url(f"days/{day.key}.html")
    titles = ", ".join(p.title for p in papers[:3])
    return FeedItem(
        id=page,
        title=f"{korean_date(day.date)} 논문 {len(papers)}편",
        link=page,
        published=config.midnight(day.date),
        updated=config.midnight(day.date),
        content_html=render("feed_day.html", day=day, papers=papers, page_url=page),
        summary=clip(f"논문 {len(papers)}편: {titles}", SUMMARY_LENGTH),
        image=first_thumbnail(papers),
    )


def week_item(week: Week, config: Config) -> FeedItem:
    page = config.url(f"weeks/{week.key}.html")
    items = [w for w in week.papers if has_votes(w.paper, config.min_votes)]
    top, rest = items[: config.week_top], items[config.week_top :]
    titles = ", ".join(w.paper.title for w in top[:3])
    return FeedItem(
        id=page,
        title=f"{week.heading} 주간 논문 {len(items)}편",
        link=page,
        published=config.midnight(week.days[-1].date),
        updated=config.midnight(week.days[-1].date),
        content_html=render(
            "feed_week.html", week=week, heading=week.heading, top=top, rest=rest, page_url=page
        ),
        summary=clip(f"논문 {len(items)}편: {titles}", SUMMARY_LENGTH),
        image=first_thumbnail(w.paper for w in top),
    )


def _items(name: str, editions: Editions, config: Config, start: dt.date) -> tuple[FeedItem, ...]:
    if name == "papers":
        entries = map(editions.entry, editions.entries_since(start))
        return tuple(paper_item(e, config) for e in entries if has_votes(e.paper, config.min_votes))
    if name == "daily":
        window = editions.window(config.feed_days)
        return tuple(day_item(editions.day(day), config) for day in window)
    weeks = editions.complete_weeks_since(start)
    return tuple(week_item(editions.week(week), config) for week in weeks)


def make_feed(name: str, editions: Editions, config: Config) -> Feed:
    """One of FEEDS over the window: the newest ``feed_days`` days of the archive."""
    window = editions.window(config.feed_days)
    items = _items(name, editions, config, window[-1].date)
    return _feed(name, f"{config.title} — {FEEDS[name]}", items, window[0].date, config)


def _feed(
    name: str, title: str, items: tuple[FeedItem, ...], newest: dt.date, config: Config
) -> Feed:
    """The feed's date is its newest item's, never the clock's (if empty, its newest day's)."""
    updated = max((item.updated for item in items), default=config.midnight(newest))
    return Feed(name, title, config.description, updated, items)


def media_type(url: str) -> str | None:
    """From the URL's extension, by our own table: the system's differs between machines."""
    path = url.split("?", 1)[0].lower()
    return next((kind for ext, kind in MEDIA_TYPES.items() if path.endswith(ext)), None)


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
        entry.dc.dc_creator(list(item.authors))
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
        if item.enclosure:
            url, kind = item.enclosure
            etree.SubElement(element, f"{{{ATOM_NS}}}link", href=url, rel="enclosure", type=kind)
    return bytes(etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8"))


def with_stylesheet(xml: bytes) -> bytes:
    """Let a browser that opens the feed show a readable page."""
    declaration, rest = xml.split(b"\n", 1)
    instruction = f'<?xml-stylesheet type="text/xsl" href="{STYLESHEET}"?>'.encode()
    return declaration + b"\n" + instruction + b"\n" + rest


def render_feed(name: str, editions: Editions, config: Config) -> dict[str, bytes]:
    """One feed in Atom, RSS and JSON Feed."""
    feed = make_feed(name, editions, config)
    atom = _atom(_generator(feed, config, "atom"), feed.items)
    rss = _generator(feed, config, "rss").rss_str(pretty=True)
    return {
        f"feeds/{name}.atom": with_stylesheet(atom),
        f"feeds/{name}.rss": with_stylesheet(rss),
        f"feeds/{name}.json": json_feed(feed, config),
    }


def render_feed_stylesheet(config: Config) -> dict[str, bytes]:
    """The XSLT that lets a browser opening a feed show a readable page."""
    return {f"feeds/{STYLESHEET}": render(STYLESHEET, config=config).encode()}
