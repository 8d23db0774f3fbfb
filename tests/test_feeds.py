"""Feeds parsed back with feedparser and lxml: validity, identity, order, dates, content."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import feedparser
import lxml.html
import pytest
from conftest import CORPUS, SITE, build_into
from feedcheck import findings, validate
from lxml import etree

FEEDS = ("papers", "daily", "weekly")
SUFFIXES = (".atom", ".rss", ".json")
DC = "{http://purl.org/dc/elements/1.1/}"
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
ABSOLUTE = re.compile(r"^https?://", re.IGNORECASE)


def entries(out: Path, name: str) -> list[feedparser.FeedParserDict]:
    parsed = feedparser.parse(str(out / "feeds" / f"{name}.atom"))
    assert parsed.bozo == 0
    return parsed.entries


@pytest.mark.parametrize("tree", ["seeds_out", "corpus_out"])
@pytest.mark.parametrize("name", [f"{feed}.{kind}" for feed in FEEDS for kind in ("atom", "rss")])
def test_w3c_validator_accepts_feeds(request: pytest.FixtureRequest, tree: str, name: str) -> None:
    out: Path = request.getfixturevalue(tree)
    data = (out / "feeds" / name).read_bytes()
    assert validate(data, f"{SITE}feeds/{name}") == []


def entry_links(atom: bytes, rss: bytes) -> list[tuple[str, str, str]]:
    """(where, attribute, URL) of every link a reader follows from an entry or its HTML."""
    links = []
    atom_root, rss_root = etree.fromstring(atom), etree.fromstring(rss)
    for index, entry in enumerate(atom_root.iter(f"{ATOM}entry")):
        links += [
            (f"atom entry {index}", "href", a.get("href", "")) for a in entry.iter(f"{ATOM}link")
        ]
    htmls = [
        (f"atom entry {i}", e.text or "") for i, e in enumerate(atom_root.iter(f"{ATOM}content"))
    ]
    for index, item in enumerate(rss_root.iter("item")):
        htmls += [
            (f"rss item {index} {e.tag}", e.text or "")
            for e in item.iter("description", f"{CONTENT}encoded")
        ]
    for where, html in htmls:
        for element in lxml.html.fragment_fromstring(html, create_parent="div").iter():
            links += [
                (where, name, element.get(name))
                for name in ("href", "src")
                if element.get(name) is not None
            ]
    return links


def project_problems(atom: bytes, rss: bytes) -> list[str]:
    """Our own rules, which the validator does not have: every entry links to its page as
    text/html, and every link in an entry or its HTML is an absolute http(s) URL (readers
    show entries away from the site, and no other scheme is safe)."""
    problems = [
        f"{where}: {name}={url!r} is not an absolute http(s) URL"
        for where, name, url in entry_links(atom, rss)
        if not ABSOLUTE.match(url)
    ]
    for index, entry in enumerate(etree.fromstring(atom).iter(f"{ATOM}entry")):
        kinds = [(a.get("rel", "alternate"), a.get("type")) for a in entry.iter(f"{ATOM}link")]
        if kinds.count(("alternate", "text/html")) != 1:
            problems.append(f"atom entry {index}: not one text/html alternate link")
    return problems


@pytest.mark.parametrize("tree", ["seeds_out", "corpus_out"])
@pytest.mark.parametrize("name", FEEDS)
def test_feeds_parse_back_and_keep_project_rules(
    request: pytest.FixtureRequest, tree: str, name: str
) -> None:
    out: Path = request.getfixturevalue(tree)
    atom = (out / "feeds" / f"{name}.atom").read_bytes()
    rss = (out / "feeds" / f"{name}.rss").read_bytes()
    assert project_problems(atom, rss) == []
    for data in (atom, rss):
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert parsed.feed.language == "ko" or parsed.feed.get("language") == "ko"
        assert parsed.entries


BROKEN_ATOM = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<feed xmlns="http://www.w3.org/2005/Atom"><id>https://x/</id><title>t</title>'
    b'<updated>2024-01-01</updated><link rel="self" href="https://elsewhere/feed.atom"/>'
    b"<entry><id>https://x/a</id><title>t</title><updated>2024-01-01T00:00:00Z</updated>"
    b"<author><name>n</name><email>me@localhost</email></author>"
    b'<content type="html">&lt;p style="background: url(javascript:x)"&gt;'
    b'&lt;a href="/rel"&gt;x&lt;/a&gt;&lt;script&gt;1&lt;/script&gt;&lt;/p&gt;</content></entry>'
    b"<entry><id>https://x/a</id><title>t</title><updated>2024-01-01T00:00:00Z</updated>"
    b"</entry></feed>"
)


def test_validator_runs_offline_and_reports_what_it_finds() -> None:
    found = findings(BROKEN_ATOM, "https://x/feed.atom")
    kinds = {f.kind for f in found}
    for expected in (
        "SelfDoesntMatchLocation",  # the self link names another place than self_url
        "InvalidRFC3339Date",
        "MissingElement",  # the second entry has no author and the feed none either
        "DuplicateEntries",
        "DuplicateUpdated",
        "MissingContentOrAlternate",
        "SecurityRisk",  # <script>
        "DangerousStyleAttr",
        "NetworkUse",  # the validator would look up "localhost": refused, never sent
        "UnknownHost",
    ):
        assert expected in kinds, (expected, [str(f) for f in found])
    assert all(f.text.startswith("line ") for f in found if f.kind != "NetworkUse")
    assert findings(BROKEN_ATOM, "https://x/feed.atom") is found  # validated once a session


def test_project_rules_catch_what_the_validator_allows() -> None:
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="/a.html"/>'
        b'<content type="html">&lt;a href="/rel"&gt;x&lt;/a&gt;&lt;img src="data:x"&gt;</content>'
        b"</entry></feed>"
    )
    rss = (
        b'<rss version="2.0"><channel><item><description>&lt;a href="javascript:x"&gt;x&lt;/a&gt;'
        b"</description></item></channel></rss>"
    )
    assert project_problems(atom, rss) == [
        "atom entry 0: href='/a.html' is not an absolute http(s) URL",
        "atom entry 0: href='/rel' is not an absolute http(s) URL",
        "atom entry 0: src='data:x' is not an absolute http(s) URL",
        "rss item 0 description: href='javascript:x' is not an absolute http(s) URL",
        "atom entry 0: not one text/html alternate link",
    ]


def test_paper_ids_order_and_dates(seeds_out: Path) -> None:
    papers = entries(seeds_out, "papers")
    assert len(papers) == 84
    ids = [e.id for e in papers]
    assert len(set(ids)) == len(ids)
    assert all(
        i.startswith("https://arxiv.org/abs/") and "v" not in i.rsplit("/", 1)[1] for i in ids
    )
    dates = [e.published for e in papers]
    assert len(set(dates)) == len(dates)  # no two entries share an instant
    assert [d[:10] for d in dates] == sorted((d[:10] for d in dates), reverse=True)
    assert all(d.endswith("+09:00") and "T06:5" <= d[10:19] <= "T07:00:00" for d in dates)
    # A day's papers a second apart, in source order, from the edition time back.
    first_day = "2024-11-19"
    listed = [e for e in entries(seeds_out, "papers") if e.published.startswith(first_day)]
    before = sorted(
        (
            dt.datetime.fromisoformat(e.published[:10] + "T07:00:00+09:00")
            - dt.datetime.fromisoformat(e.published)
        ).seconds
        for e in listed
    )
    assert before == list(range(len(listed)))  # the whole day present in the window
    newest_day = [e for e in papers if e.published.startswith("2024-11-19")]
    votes = [
        int(e.content[0].value.split("추천 ", 1)[1].split("<", 1)[0].split(" ")[0])
        for e in newest_day
    ]
    assert votes == sorted(votes, reverse=True)


def test_paper_entry_content(seeds_out: Path) -> None:
    coder = next(e for e in entries(seeds_out, "papers") if e.id.endswith("2406.11931"))
    assert coder.title.startswith("DeepSeek-Coder-V2:") and "53" not in coder.title
    assert coder.link == "https://arxiv.org/abs/2406.11931"
    html = coder.content[0].value
    for text in (
        "What's New",
        "Performance Highlights",
        ">natural-language</strong>",
        "https://huggingface.co/papers/2406.11931",
        "https://arxiv.org/pdf/2406.11931",
        'alt="DeepSeek-Coder-V2: Breaking',
        "Zhewen Hao",
    ):
        assert text in html
    assert coder.media_thumbnail[0]["url"].endswith("2406.11931.png")
    assert [a.name for a in coder.authors][:2] == ["Zhewen Hao", "Qihao Zhu"]
    rss = feedparser.parse(str(seeds_out / "feeds" / "papers.rss"))
    item = next(e for e in rss.entries if e.id.endswith("2406.11931"))
    assert item.enclosures[0]["type"] == "image/png"
    guid = etree.parse(str(seeds_out / "feeds" / "papers.rss")).find(".//item/guid")
    assert (
        guid is not None
        and guid.get("isPermaLink") == "true"
        and guid.text.startswith("https://arxiv.org/abs/")
    )
    # One dc:creator with every name (readers show only the last of several); the channel's own.
    creators = etree.parse(str(seeds_out / "feeds" / "papers.rss")).getroot()
    items = creators.findall(".//item")
    assert all(len(i.findall(f"{DC}creator")) == 1 for i in items)
    assert item.author.startswith("Zhewen Hao, Qihao Zhu, Daya Guo") and "Zihui Gu" in item.author
    assert rss.feed.author == "newsletter"


def test_same_paper_on_two_days_is_one_entry(corpus_out: Path) -> None:
    papers = [e for e in entries(corpus_out, "papers") if e.id.endswith("2410.09342")]
    assert len(papers) == 1
    (entry,) = papers
    assert entry.published.startswith("2024-10-16")
    assert entry.updated.startswith("2024-10-18")  # its title changed on the later day
    assert entry.title.startswith("LLMtimesMapReduce")
    days = [e for e in entries(corpus_out, "daily") if "2410.09342" in e.content[0].value]
    assert [d.link.rsplit("/", 1)[1] for d in days] == ["2024-10-18.html", "2024-10-16.html"]


def test_daily_feed(corpus_out: Path) -> None:
    days = entries(corpus_out, "daily")
    assert [d.id for d in days][:2] == [
        f"{SITE}days/2025-04-11.html",
        f"{SITE}days/2025-04-02.html",
    ]
    assert len(days) == 9 and days[0].link == days[0].id
    assert "논문 15편" in days[0].title
    html = days[0].content[0].value
    titles = [t.split("</a>")[0].rsplit(">", 1)[1] for t in html.split("<h2>")[1:]]
    assert len(titles) == 15 and titles[0] == "Kimi-VL Technical Report"


def test_window_and_timezone(tmp_path: Path) -> None:
    out = build_into(tmp_path / "out", CORPUS, feed_days=2, timezone="UTC")
    days, papers = entries(out, "daily"), entries(out, "papers")
    assert len(days) == 2 and days[0].published == "2025-04-11T07:00:00+00:00"
    assert {p.published[:10] for p in papers} == {"2025-04-11", "2025-04-02"}
    assert len(papers) == 15 + 28


def test_min_votes_filters_feeds(tmp_path: Path) -> None:
    out = build_into(tmp_path / "out", min_votes=20)
    votes = [
        int(e.content[0].value.split("추천 ", 1)[1].split("<", 1)[0].split(" ")[0])
        for e in entries(out, "papers")
    ]
    assert votes and min(votes) >= 20


def test_two_builds_are_byte_identical(tmp_path: Path, seeds_out: Path) -> None:
    again = build_into(tmp_path / "again")
    for name in FEEDS:
        for kind in ("atom", "rss", "json"):
            path = f"feeds/{name}.{kind}"
            assert (again / path).read_bytes() == (seeds_out / path).read_bytes(), path


def test_new_day_changes_no_existing_entry(tmp_path: Path, corpus_out: Path) -> None:
    older = tmp_path / "older"
    shutil.copytree(CORPUS, older)
    (older / "2025-04-11.md").unlink()
    before = build_into(tmp_path / "before", older)
    old = {e.id: (e.updated, e.title) for e in entries(before, "papers")}
    new = {e.id: (e.updated, e.title) for e in entries(corpus_out, "papers")}
    assert old and all(new[i] == old[i] for i in old)
    old_days = {e.id: e.updated for e in entries(before, "daily")}
    new_days = {e.id: e.updated for e in entries(corpus_out, "daily")}
    assert all(new_days[i] == old_days[i] for i in old_days)


def test_json_feed(seeds_out: Path) -> None:
    raw = (seeds_out / "feeds" / "papers.json").read_bytes()
    assert b"DeepSeek" in raw and "논문".encode() in raw  # UTF-8, not \\u escapes
    document = json.loads(raw)
    assert list(document)[:4] == ["version", "title", "home_page_url", "feed_url"]
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == f"{SITE}feeds/papers.json"
    atom_ids = [e.id for e in entries(seeds_out, "papers")]
    assert [item["id"] for item in document["items"]] == atom_ids
    first = document["items"][0]
    assert first["date_published"].endswith("+09:00") and first["content_html"].startswith("<p>")


def test_subscribe_page_and_opml_list_every_feed(seeds_out: Path) -> None:
    """The page names every feed in every format, each link to a file the build wrote;
    the OPML parses (listparser) and holds every feed once."""
    import listparser

    page = lxml.html.parse(str(seeds_out / "feeds" / "index.html")).getroot()
    linked = {a.get("href") for a in page.iter("a")}
    feeds = sorted(p.name for p in (seeds_out / "feeds").iterdir() if p.suffix in SUFFIXES)
    assert len(feeds) == 9
    for name in feeds:
        assert f"../feeds/{name}" in linked
        assert (seeds_out / "feeds" / name).is_file()
        assert f"{SITE}feeds/{name}" in page.text_content()
    assert "../feeds/feeds.opml" in linked
    found = listparser.parse((seeds_out / "feeds" / "feeds.opml").read_bytes())
    assert not found.bozo
    assert sorted(f.url for f in found.feeds) == [
        f"{SITE}feeds/{name}.atom" for name in sorted(FEEDS)
    ]
    for other in ("index.html", "days/2024-11-19.html"):
        html = (seeds_out / other).read_text()
        assert 'feeds/index.html"' in html
    assert "feeds/index.html" in (seeds_out / "email" / "2024-11-19.txt").read_text()
