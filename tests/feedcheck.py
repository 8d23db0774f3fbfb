"""The W3C Feed Validation Service's rules that apply to our feeds, checked with lxml.

The validator itself is not installable here, so its checks are restated:
required elements, feed author, a self link that matches where the file is
published, RFC 3339 (Atom) and RFC 822 (RSS) dates, unique ids, at most one
alternate link per type, enclosures with url/length/type, authors in RSS only
as email addresses (names go in dc:creator), and entry HTML that the validator
accepts: known safe elements and attributes, no style attributes, no scripts,
no relative links, no characters that betray mis-decoding. media:group only
with alternatives.
"""

from __future__ import annotations

import re
from collections import Counter

import lxml.html
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d\d:\d\d:\d\d [+-]\d{4}$"
)
SAFE_ELEMENTS = {
    "a",
    "p",
    "img",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "h2",
    "h3",
    "h4",
    "br",
    "span",
    "div",
    "small",
    "code",
    "blockquote",
}
SAFE_ATTRIBUTES = {
    "href",
    "src",
    "alt",
    "title",
    "class",
    "width",
    "height",
    "lang",
    "dir",
    "rel",
    "start",
}
BAD_CHARACTERS = re.compile("[\x80-\x9f\ufffd]")
ABSOLUTE = re.compile(r"^https?://", re.IGNORECASE)


def check_html(html: str, where: str) -> list[str]:
    problems = []
    if BAD_CHARACTERS.search(html):
        problems.append(f"{where}: bad characters")
    for element in lxml.html.fragments_fromstring(f"<div>{html}</div>")[0].iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag not in SAFE_ELEMENTS:
            problems.append(f"{where}: unsafe element <{element.tag}>")
        for name, value in element.attrib.items():
            if name not in SAFE_ATTRIBUTES:
                problems.append(f"{where}: unsafe attribute {name}= on <{element.tag}>")
            if name in ("href", "src") and not ABSOLUTE.match(value):
                problems.append(f"{where}: relative or non-http link {value!r}")
    return problems


def _one(parent: etree._Element, tag: str, where: str) -> list[str]:
    count = len(parent.findall(tag))
    return [] if count == 1 else [f"{where}: {count} <{tag}> elements, want 1"]


def _duplicates(values: list[str], what: str) -> list[str]:
    return [f"duplicate {what} {v}" for v, n in Counter(values).items() if n > 1]


def _media_groups(root: etree._Element) -> list[str]:
    return [
        "media:group without alternatives"
        for group in root.iter(f"{MEDIA}group")
        if len(group.findall(f"{MEDIA}content")) < 2
    ]


def check_atom(xml: bytes, self_url: str) -> list[str]:
    root = etree.fromstring(xml)
    problems = [p for tag in ("id", "title", "updated") for p in _one(root, ATOM + tag, "feed")]
    selfs = [link.get("href") for link in root.findall(ATOM + "link") if link.get("rel") == "self"]
    if selfs != [self_url]:
        problems.append(f"feed: self link {selfs} does not match {self_url}")
    entries = root.findall(ATOM + "entry")
    if root.find(ATOM + "author") is None and any(e.find(ATOM + "author") is None for e in entries):
        problems.append("feed: no author")
    for date in root.iter(ATOM + "updated", ATOM + "published"):
        if not RFC3339.match(date.text or ""):
            problems.append(f"bad RFC 3339 date {date.text!r}")
    for index, entry in enumerate(entries):
        where = f"entry {index}"
        problems += [
            p for tag in ("id", "title", "updated") for p in _one(entry, ATOM + tag, where)
        ]
        links = entry.findall(ATOM + "link")
        kinds = [(link.get("rel", "alternate"), link.get("type")) for link in links]
        problems += [f"{where}: {p}" for p in _duplicates([str(k) for k in kinds], "link")]
        if ("alternate", "text/html") not in kinds:
            problems.append(f"{where}: no alternate link")
        problems += [
            f"{where}: relative link" for link in links if not ABSOLUTE.match(link.get("href", ""))
        ]
        content = entry.find(ATOM + "content")
        if content is not None and content.get("type") == "html":
            problems += check_html(content.text or "", where)
    problems += _duplicates([e.findtext(ATOM + "id") or "" for e in entries], "id")
    return problems + _media_groups(root)


def check_rss(xml: bytes, self_url: str) -> list[str]:
    root = etree.fromstring(xml)
    channel = root.find("channel")
    if root.tag != "rss" or root.get("version") != "2.0" or channel is None:
        return ["not an RSS 2.0 document"]
    problems = [
        p for tag in ("title", "link", "description") for p in _one(channel, tag, "channel")
    ]
    selfs = [
        link.get("href") for link in channel.findall(ATOM + "link") if link.get("rel") == "self"
    ]
    if selfs != [self_url]:
        problems.append(f"channel: self link {selfs} does not match {self_url}")
    for date in root.iter("pubDate", "lastBuildDate"):
        if not RFC822.match(date.text or ""):
            problems.append(f"bad RFC 822 date {date.text!r}")
    items = channel.findall("item")
    for index, item in enumerate(items):
        where = f"item {index}"
        if item.find("title") is None and item.find("description") is None:
            problems.append(f"{where}: neither title nor description")
        problems += [
            f"{where}: <author> without email"
            for a in item.findall("author")
            if "@" not in (a.text or "")
        ]
        for enclosure in item.findall("enclosure"):
            if not (
                enclosure.get("url")
                and (enclosure.get("length") or "").isdigit()
                and enclosure.get("type")
            ):
                problems.append(f"{where}: enclosure needs url, length and type")
        for tag in ("description", CONTENT + "encoded"):
            problems += check_html(item.findtext(tag) or "", f"{where} {tag}")
        problems += _one(item, "guid", where)
    problems += _duplicates([i.findtext("guid") or "" for i in items], "guid")
    return problems + _media_groups(root)
