"""The web archive: every internal link resolves, every page is valid HTML5, rollups are right."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path
from urllib.parse import unquote, urlsplit

import html5lib
import lxml.html
import pytest
from conftest import SITE, layout

from newsletter.mail import HTML_BUDGET

FEED_FILES = [
    f"feeds/{n}.{k}" for n in ("papers", "daily", "weekly") for k in ("atom", "rss", "json")
]


def pages(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.html") if "email" not in p.parts)


def internal_references(page: Path) -> list[str]:
    tree = lxml.html.fromstring(page.read_bytes())
    found = []
    for element in tree.iter():
        for attribute in ("href", "src"):
            value = element.get(attribute)
            if value and not urlsplit(value).scheme and not value.startswith("#"):
                found.append(value)
    return found


@pytest.mark.parametrize("tree", ["seeds_out", "corpus_out"])
def test_no_broken_internal_link(request: pytest.FixtureRequest, tree: str) -> None:
    out: Path = request.getfixturevalue(tree)
    checked = 0
    for page in pages(out):
        for reference in internal_references(page):
            target = (page.parent / unquote(urlsplit(reference).path)).resolve()
            assert target.is_file() and out.resolve() in target.parents, f"{page}: {reference}"
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("tree", ["seeds_out", "corpus_out"])
def test_pages_are_valid_html5_with_metadata(request: pytest.FixtureRequest, tree: str) -> None:
    out: Path = request.getfixturevalue(tree)
    for page in pages(out):
        data = page.read_bytes()
        html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(
            data
        )  # raises on errors
        document = lxml.html.fromstring(data)
        assert document.get("lang") == "ko"
        assert document.findtext(".//title").strip()
        assert document.find(".//meta[@charset='utf-8']") is not None
        relative = str(page.relative_to(out))
        assert document.find(".//link[@rel='canonical']").get("href") == SITE + relative
        alternates = [link.get("href") for link in document.iterfind(".//link[@rel='alternate']")]
        root = "../" * relative.count("/")
        assert alternates == [root + feed for feed in FEED_FILES]
        assert all((page.parent / href).is_file() for href in alternates)
        assert document.find(".//meta[@property='og:title']") is not None


def test_day_page_is_never_shortened(corpus_out: Path) -> None:
    page = lxml.html.fromstring((corpus_out / "days/2025-02-19.html").read_bytes())
    papers = page.find_class("paper")
    assert len(papers) == 68
    first = papers[0]
    assert first.find(".//img").get("loading") == "lazy"
    links = [a.get("href") for a in first.iterfind(".//p[@class='links']/a")]
    assert links == [
        "https://arxiv.org/abs/2502.11089",
        "https://arxiv.org/pdf/2502.11089",
        "https://huggingface.co/papers/2502.11089",
    ]
    nav = {a.get("rel"): a.get("href") for a in page.iterfind(".//nav[@class='pager']/a")}
    assert nav == {
        "prev": "2024-10-18.html",
        None: "../weeks/2025-W08.html",
        "next": "2025-04-02.html",
    }


def test_week_page_top_papers_then_the_rest(corpus_out: Path) -> None:
    page = lxml.html.fromstring((corpus_out / "weeks/2025-W14.html").read_bytes())
    assert len(page.find_class("paper")) == 10  # week_top
    rest = page.find_class("compact")[0].findall("li")
    assert len(rest) == 28 - 10
    assert (
        page.find_class("paper")[0].find(".//p[@class='rank']/a").get("href")
        == "../days/2025-04-02.html"
    )
    assert [a.get("href") for a in page.find_class("days")[0]] == ["../days/2025-04-02.html"]


def test_index_lists_latest_then_months(corpus_out: Path) -> None:
    page = lxml.html.fromstring((corpus_out / "index.html").read_bytes())
    assert page.find(".//h1/a").get("href") == "days/2025-04-11.html"
    months = [h.text for h in page.iterfind(".//section[@class='archive']/h3")]
    assert months[0] == "2025년 4월" and months[-1] == "2023년 11월" and len(months) == 6
    assert len(page.find_class("archive-days")[0].findall("li")) == 2


def test_weekly_email_follows_the_daily_rules(corpus_out: Path) -> None:
    html = (corpus_out / "email/2025-W08.html").read_bytes()
    assert len(html) < HTML_BUDGET and f"{SITE}weeks/2025-W08.html".encode() in html
    message = email.message_from_bytes(
        (corpus_out / "email/2025-W08.eml").read_bytes(), policy=policy.strict
    )
    assert message["Subject"].endswith("주간 논문 68편")
    assert message["Message-ID"] == "<2025-W08.newsletter@papers.example.org>"


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("page", ["index.html", "days/2025-02-19.html", "weeks/2025-W08.html"])
def test_pages_in_a_browser(
    browser, corpus_out: Path, tmp_path: Path, width: int, page: str
) -> None:  # type: ignore[no-untyped-def]
    shot = tmp_path / f"{page.replace('/', '-')}-{width}.png"
    result = layout(
        browser, (corpus_out / page).as_uri(), width, ".paper-title, .compact li, h1", shot
    )
    assert result["scroll"] <= result["inner"], "horizontal scrolling"
    assert result["titles"] and result["hidden"] == []
    assert shot.stat().st_size > 10_000
