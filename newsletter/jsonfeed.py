"""JSON Feed 1.1, written by hand (feedgen has none): fixed key order, UTF-8 unescaped."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .config import Config

if TYPE_CHECKING:
    from .feeds import Feed, FeedItem

VERSION = "https://jsonfeed.org/version/1.1"


def _item(item: FeedItem) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.id,
        "url": item.link,
        "title": item.title,
        "content_html": item.content_html,
        "summary": item.summary,
        "date_published": item.published.isoformat(),
        "date_modified": item.updated.isoformat(),
        "language": "ko",
    }
    if item.image:
        data["image"] = item.image
    if item.authors:
        data["authors"] = [{"name": name} for name in item.authors]
    if item.enclosure:
        url, kind = item.enclosure
        data["attachments"] = [{"url": url, "mime_type": kind}]
    return data


def json_feed(feed: Feed, config: Config) -> bytes:
    document = {
        "version": VERSION,
        "title": feed.title,
        "home_page_url": config.site_url,
        "feed_url": config.url(f"feeds/{feed.name}.json"),
        "description": feed.subtitle,
        "language": "ko",
        "authors": [{"name": config.author}],
        "items": [_item(item) for item in feed.items],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
