"""Feeds parsed back with feedparser and lxml: validity, identity, order, dates, content."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import feedparser
import pytest
from conftest import CORPUS, SITE, build_into
from feedcheck import check_atom, check_rss
from lxml import etree

FEEDS = ("papers", "daily", "weekly")


def entries(out: Path, name: str) -> list[feedparser.FeedParserDict]:
    parsed = feedparser.parse(str(out / "feeds" / f"{name}.atom"))
    assert parsed.bozo == 0
    return parsed.entries


@pytest.mark.parametrize("tree", ["seeds_out", "corpus_out"])
@pytest.mark.parametrize("name", FEEDS)
def test_feeds_are_valid(request: pytest.FixtureRequest, tree: str, name: str) -> None:
    out: Path = request.getfixturevalue(tree)
    atom = (out / "feeds" / f"{name}.atom").read_bytes()
    rss = (out / "feeds" / f"{name}.rss").read_bytes()
    assert check_atom(atom, f"{SITE}feeds/{name}.atom") == []
    assert check_rss(rss, f"{SITE}feeds/{name}.rss") == []
    for data in (atom, rss):
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert parsed.feed.language == "ko" or parsed.feed.get("language") == "ko"
        assert parsed.entries


def test_checker_catches_what_the_validator_would() -> None:
    bad = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title>'
        b"<updated>2024-01-01</updated>"
        b"<entry><id>a</id><title>t</title><updated>2024-01-01T00:00:00Z</updated>"
        b'<content type="html">&lt;p style="color:red"&gt;&lt;a href="/rel"&gt;x&lt;/a&gt;'
        b"&lt;script&gt;1&lt;/script&gt;&lt;/p&gt;</content></entry>"
        b"<entry><id>a</id><title>t</title><updated>2024-01-01T00:00:00Z</updated></entry></feed>"
    )
    problems = check_atom(bad, "https://x/feed.atom")
    for expected in (
        "self link",
        "no author",
        "bad RFC 3339",
        "unsafe attribute style=",
        "relative or non-http link '/rel'",
        "unsafe element <script>",
        "duplicate id a",
        "no alternate link",
    ):
        assert any(expected in p for p in problems), (expected, problems)


def test_paper_ids_order_and_dates(seeds_out: Path) -> None:
    papers = entries(seeds_out, "papers")
    assert len(papers) == 84
    ids = [e.id for e in papers]
    assert len(set(ids)) == len(ids)
    assert all(
        i.startswith("https://arxiv.org/abs/") and "v" not in i.rsplit("/", 1)[1] for i in ids
    )
    dates = [e.published for e in papers]
    assert dates == sorted(dates, reverse=True)
    assert all(d.endswith("+09:00") for d in dates)
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
    assert [a["name"] for a in item.authors][:2] == ["Zhewen Hao", "Qihao Zhu"]  # dc:creator


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
    assert len(days) == 2 and days[0].published == "2025-04-11T00:00:00+00:00"
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


def test_feeds_show_as_a_page_in_a_browser(seeds_out: Path) -> None:
    transform = etree.XSLT(etree.parse(str(seeds_out / "feeds" / "feed.xsl")))
    for name in ("papers.atom", "daily.rss"):
        data = (seeds_out / "feeds" / name).read_bytes()
        assert b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>' in data.split(b"\n")[1]
        page = str(transform(etree.fromstring(data)))
        assert "피드 리더" in page and page.count("<li>") == len(feedparser.parse(data).entries)
