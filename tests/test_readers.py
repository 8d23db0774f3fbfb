"""What readers see: summaries as their authors wrote them, papers and feeds shown right.

Each numbered case of the archive's review has a minimal input here, built with the
real command; the last tests check the whole sample archive at once.
"""

from __future__ import annotations

import email
import itertools
import re
from email import policy
from pathlib import Path

import feedparser
import lxml.html
import pytest
from conftest import CORPUS, SITE, build_into, unflowed, unwarned
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from newsletter.cli import cli
from newsletter.markup import MARKUP, to_html, to_text
from newsletter.text import FLOWED_WIDTH, columns, flowed

ATOM = "{http://www.w3.org/2005/Atom}"
HEAD = "## Daily Papers ({date})\n"
LONG_URL = "https://x.org/" + "y" * 80


def paper(
    number: int,
    title: str = "A paper",
    *lines: str,
    votes: int = 5,
    authors: str = "Ann Lee, Bo Kim",
) -> str:
    head = f"### [{title}](https://arxiv.org/abs/2403.{number:05d})\n"
    return head + f"Vote: {votes}\nAuthors: {authors}\n" + "".join(f"{x}\n" for x in lines)


def build(tmp_path: Path, *days: str, **settings: object) -> tuple[Path, list[str]]:
    """Each day's text its own file, the settings in a configuration file; the build's
    warnings."""
    from click.testing import CliRunner

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for index, text in enumerate(days):
        (seeds / f"{index}.md").write_text(text)
    config = tmp_path / "newsletter.toml"
    config.write_text("".join(f"{key} = {value!r}\n" for key, value in settings.items()))
    args = ["--no-cache", "--seeds", str(seeds), "--out", str(tmp_path / "out")]
    args += ["--config", str(config), "--site-url", SITE]
    result = CliRunner().invoke(cli, ["build", *args])
    assert result.exit_code == 0, result.output
    return tmp_path / "out", unwarned(result.stderr).splitlines()


def day_page(out: Path, date: str) -> lxml.html.HtmlElement:
    return lxml.html.parse(str(out / "days" / f"{date}.html")).getroot()


def plain_part(out: Path, key: str) -> str:
    message = email.message_from_bytes(
        (out / "email" / f"{key}.eml").read_bytes(), policy=policy.default
    )
    plain = next(message.iter_parts())
    assert plain.get_param("format") == "flowed"
    return plain.get_content()


# 1, 2: bare URLs and inline Markdown


def test_bare_url_is_a_link_that_stops_before_korean(tmp_path: Path) -> None:
    out, _ = build(
        tmp_path,
        HEAD.format(date="2024-03-04")
        + paper(
            1,
            "T",
            "- 코드는 https://github.com/LHBuilder/SA-Segment-Anything에서 확인 (https://x.org/a).",
        ),
    )
    links = [(a.get("href"), a.text) for a in day_page(out, "2024-03-04").iter("a")]
    assert ("https://github.com/LHBuilder/SA-Segment-Anything",) * 2 in links
    assert ("https://x.org/a", "https://x.org/a") in links
    html = (out / "email" / "2024-03-04.html").read_text()
    assert "SA-Segment-Anything</a>에서" in html
    text = unflowed(plain_part(out, "2024-03-04"))
    assert "<https://github.com/LHBuilder/SA-Segment-Anything>에서" in text


def test_inline_markdown_is_rendered_raw_html_is_text(tmp_path: Path) -> None:
    line = (
        "- ***Technical Details*: **굵게**, `code`, *기울임*, _밑줄_, [글](https://e.org/p) "
        "[https://e.org/q](https://e.org/q) <b>raw</b> [x](javascript:alert(1)) [y](ftp://e.org)"
    )
    out, _ = build(tmp_path, HEAD.format(date="2024-03-04") + paper(1, "T", line))
    for where in (out / "days" / "2024-03-04.html", out / "email" / "2024-03-04.html"):
        html = where.read_text()
        section = html[html.index("Technical Details") - 200 :]
        for shown in ("굵게</strong>", "<code", ">code</code>", "기울임</em>", "밑줄</em>"):
            assert shown in section, (where, shown)
        assert 'href="https://e.org/p"' in section and ">글</a>" in section
        assert section.count("https://e.org/q") == 2  # the href, and the label once
        assert "&lt;b&gt;raw&lt;/b&gt;" in section and "<b>raw" not in section
        assert "javascript:" not in section.split("javascript:alert")[0][-30:] + 'href="javascript'
        assert 'href="javascript' not in section and 'href="ftp' not in section
        for literal in ("**", "`", "](http"):
            assert literal not in section.split("</ul>")[0], (where, literal)
    text = unflowed(plain_part(out, "2024-03-04"))
    assert (
        "Technical Details: 굵게, code, 기울임, 밑줄, 글 (https://e.org/p) https://e.org/q" in text
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=80))
def test_markup_fast_path_renders_as_the_renderer_would(text: str) -> None:
    """Lines without Markdown skip the renderer; it would have written the same."""
    from newsletter.markup import _renderer

    text = text.replace("\n", " ").replace("\r", " ")
    rendered = _renderer().renderInline(text)
    if MARKUP.search(text) is None:
        assert to_html(text) == rendered
    assert '<a href="javascript' not in to_html(text)
    assert to_text(text) is not None


# 3, 4: LaTeX, and LaTeX eaten upstream


def test_latex_in_titles_and_summaries_becomes_unicode(tmp_path: Path) -> None:
    out, warnings = build(
        tmp_path,
        HEAD.format(date="2024-03-04")
        + paper(
            1, "LLM$\\times$MapReduce", "- M$^{2}$UGen and \\textsc{AIEV-Instruct}, cost $5 and $10"
        )
        + paper(
            2,
            "PanGu-$π$: \\url{https://e.org/x}",
            "- $\x0crac{1}{2}$ and \textit{x} and \x08enchbench",
        ),
    )
    titles = [e.title for e in feedparser.parse(str(out / "feeds" / "papers.atom")).entries]
    assert sorted(titles) == ["LLM\N{MULTIPLICATION SIGN}MapReduce", "PanGu-π: https://e.org/x"]
    page = day_page(out, "2024-03-04").text_content()
    assert "M²UGen and AIEV-Instruct, cost $5 and $10" in page
    assert "1/2 and x and enchbench" in page
    assert "$\\" not in page
    notes = [w.split(": warning: ", 1)[1] for w in warnings if ": warning: " in w]
    assert "form feed before 'rac' restored as '\\frac'" in notes
    assert "tab before 'extit' restored as '\\textit'" in notes
    assert "removed U+0008 (BACKSPACE)" in notes


# 5: numbered lists and continuation lines


def test_numbered_lists_and_continuation_lines(tmp_path: Path) -> None:
    out, _ = build(
        tmp_path,
        HEAD.format(date="2024-03-04")
        + paper(1, "T", "- **Steps**: 세 단계", "  1) 하나", "  2) 둘", "이어지는 줄", "- 다음"),
    )
    page = day_page(out, "2024-03-04")
    (numbered,) = page.iter("ol")
    assert numbered.get("start") == "1"
    assert [li.text_content().strip() for li in numbered.iter("li")] == ["하나", "둘 이어지는 줄"]
    text = unflowed(plain_part(out, "2024-03-04"))
    assert "  1. 하나\n" in text and "  2. 둘 이어지는 줄\n" in text and "- 다음" in text


# 6, 7, 8: videos, repeated and elided authors


def test_video_in_the_image_line_is_the_papers_video(tmp_path: Path) -> None:
    video = "https://cdn.example.org/clip.qt"
    out, warnings = build(
        tmp_path, HEAD.format(date="2024-03-04") + paper(1, "T", f"![]({video})", "- 요약")
    )
    assert any("the image is a video" in w and ":5:" in w for w in warnings)
    for where in (out / "days" / "2024-03-04.html", out / "email" / "2024-03-04.html"):
        tree = lxml.html.parse(str(where)).getroot()
        assert not [img for img in tree.iter("img") if img.get("src") == video]
        assert video in [a.get("href") for a in tree.iter("a")]
    (entry,) = feedparser.parse(str(out / "feeds" / "papers.rss")).entries
    assert entry.enclosures[0]["type"] == "video/quicktime" and "media_thumbnail" not in entry


def test_authors_once_each_and_a_ninth_name_instead_of_one_more(tmp_path: Path) -> None:
    nine = ", ".join(f"Author {n}" for n in range(1, 10))
    out, warnings = build(
        tmp_path,
        HEAD.format(date="2024-03-04")
        + paper(1, "Repeats", "- 요약", authors="Moab Arar, Moab Arar, Moab Arar, Andrey Voynov")
        + paper(2, "Nine", "- 요약", authors=nine)
        + paper(3, "Ten", "- 요약", authors=nine + ", Author 10"),
    )
    assert any("2 repeated author names left out" in w for w in warnings)
    atom = etree.parse(str(out / "feeds" / "papers.atom")).getroot()
    for entry in atom.iter(f"{ATOM}entry"):
        names = [n.text for n in entry.iter(f"{ATOM}name")]
        assert len(names) == len(set(names))
    html = (out / "email" / "2024-03-04.html").read_text()
    assert "Moab Arar, Andrey Voynov<" in html
    assert "Author 8, Author 9<" in html and "외 1명" not in html
    assert "Author 8 외 2명" in html


# 9: the week ranks by the newest vote count


def test_week_ranks_a_paper_by_its_newest_votes(tmp_path: Path) -> None:
    out, _ = build(
        tmp_path,
        HEAD.format(date="2024-10-14")
        + paper(1, "Early", "- a", votes=15)
        + paper(2, "Other", "- b", votes=20),
        HEAD.format(date="2024-10-16") + paper(1, "Early", "- a", votes=34),
        HEAD.format(date="2024-10-21") + paper(3, "Next week", "- c"),
    )
    page = lxml.html.parse(str(out / "weeks" / "2024-W42.html")).getroot()
    titles = [h.text_content() for h in page.iter("h2") if h.get("class") == "paper-title"]
    assert titles == ["Early", "Other"]
    assert "2024년 10월 14일" in page.text_content()  # dated the first day it appeared


# 10: pictures an email client cannot show


def test_svg_picture_on_the_page_not_in_the_email(tmp_path: Path) -> None:
    svg = "/avatars/2b6d2d0625741b28f326459acad55b69.svg"
    out, _ = build(
        tmp_path, HEAD.format(date="2024-03-04") + paper(1, "T", f"![]({svg})", "- 요약")
    )
    assert "https://huggingface.co" + svg in (out / "days" / "2024-03-04.html").read_text()
    assert ".svg" not in (out / "email" / "2024-03-04.html").read_text()


# 12, 13, 15: the weekly window, edition time, links back to the day


def test_weekly_feed_has_feed_weeks_entries_and_edition_time(tmp_path: Path) -> None:
    days = [HEAD.format(date=f"2024-{m:02d}-05") + paper(m, f"P{m}", "- a") for m in range(1, 8)]
    out, _ = build(tmp_path, *days, feed_weeks=4, edition_time="06:30", feed_days=2)
    weekly = feedparser.parse(str(out / "feeds" / "weekly.atom"))
    assert len(weekly.entries) == 4 and weekly.bozo == 0
    daily = feedparser.parse(str(out / "feeds" / "daily.atom"))
    assert [e.published for e in daily.entries] == [
        "2024-07-05T06:30:00+09:00",
        "2024-06-05T06:30:00+09:00",
    ]
    (entry,) = feedparser.parse(str(out / "feeds" / "papers.atom")).entries[:1]
    related = [link.href for link in entry.links if link.rel == "related"]
    assert related == [f"{SITE}days/2024-07-05.html#paper-2403.00007"]
    assert related[0] in entry.content[0].value
    assert (out / "days" / "2024-07-05.html").read_text().count('id="paper-2403.00007"') == 1


@pytest.mark.parametrize("value", ["7", "25:00", "07:00:00", "7:00", "noon", ""])
def test_edition_time_must_be_hh_mm(tmp_path: Path, value: str) -> None:
    (tmp_path / "newsletter.toml").write_text(f'edition_time = "{value}"\n')
    from newsletter.config import load_config
    from newsletter.errors import ConfigError

    with pytest.raises(ConfigError, match="edition_time"):
        load_config(cwd=tmp_path)


# 16: the text part, format=flowed


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from(["a", "b", " ", "가", "나", ">", "-", "F", ".", ":", "/"]),
            max_size=200,
        ),
        max_size=6,
    )
)
def test_flowed_text_joins_back_and_fits(lines: list[str]) -> None:
    lines = [line.replace("F", "From ").replace("/", LONG_URL) for line in lines]
    text = "\n".join(lines)
    wrapped = flowed(text)
    assert unflowed(wrapped) == "\n".join(x if x == "-- " else x.rstrip(" ") for x in lines)
    for line in wrapped.split("\n"):
        words = line.strip(" ").split(" ")
        assert (
            columns(line) <= FLOWED_WIDTH + 2
            or len(words) == 1
            or columns(line.rstrip(" ")) - columns(words[-1]) <= FLOWED_WIDTH
        ), line


def test_email_text_is_wrapped_with_a_signature(tmp_path: Path) -> None:
    out = build_into(tmp_path / "out", CORPUS)
    text = plain_part(out, "2025-02-19")
    lines = text.splitlines()
    assert "-- " in lines
    long = [line for line in lines if columns(line) > 78 and " " in line.strip()]
    assert long == []
    assert max(columns(line) for line in unflowed(text).splitlines()) > 300  # joined back


# The whole sample archive


def test_sample_archive_shows_no_raw_markup(corpus_out: Path) -> None:
    pages = sorted((corpus_out / "days").glob("*.html")) + sorted(
        (corpus_out / "email").glob("*.html")
    )
    url = re.compile(r"https?://[^\s<>\"']+")
    for path in pages:
        tree = lxml.html.parse(str(path)).getroot()
        for block in tree.find_class("sections"):
            shown = block.text_content()
            for literal in ("**", "`", "](http", "$\\"):
                assert literal not in shown, (path.name, literal)
            linked = {a.get("href") for a in block.iter("a")}
            for found in url.finditer(shown):
                assert found.group(0).rstrip(".,)") in linked or any(
                    found.group(0).startswith(href) for href in linked
                ), (path.name, found.group(0))
        for img in tree.iter("img"):
            assert not re.search(r"\.(qt|mov|mp4|webm)$", img.get("src", "")), path.name
        for link in tree.iter("a"):
            assert not re.search("[\uac00-\ud7a3]", link.get("href", "")), (
                path.name,
                link.get("href"),
            )
        titles = [h.text_content() for h in tree.iter("h2")]
        assert not any("$\\" in t for t in titles)
    atom = etree.parse(str(corpus_out / "feeds" / "papers.atom")).getroot()
    for entry in atom.iter(f"{ATOM}entry"):
        names = [n.text for n in entry.iter(f"{ATOM}name")]
        assert len(names) == len(set(names))


# What an attack on the above found


def test_entities_cannot_put_control_characters_or_lines_anywhere(tmp_path: Path) -> None:
    out, _ = build(
        tmp_path,
        HEAD.format(date="2024-03-04")
        + paper(1, "T", "- a&#12;b cr&#13;x nul&#0;y *x* first&#10;-- &#10;From here", "- next"),
    )
    for path in out.rglob("*"):
        if path.is_file() and path.suffix != ".eml":
            text = path.read_text()
            assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]", text), path
    lines = unflowed(plain_part(out, "2024-03-04")).splitlines()
    assert lines.count("-- ") == 1 and lines.index("-- ") > lines.index("   - next")


def test_a_url_cut_before_korean_keeps_its_host_or_is_no_link() -> None:
    assert "<a" not in to_html("https://한국.kr/x 도메인")
    assert 'href="https://github.com/a/b"' in to_html("https://github.com/a/b(코드) 괄호")


def test_huge_lines_are_shown_as_text() -> None:
    """The renderer's cost grows with the square of a run of URLs; such lines stay text."""
    line = "(https://a.b/" * 6000
    assert to_html(line) == line.replace("&", "&amp;") and to_text(line) == line
    assert "<a" not in to_html("[a](" * 2000)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["--", "-- ", "a", " ", "가나다", "x" * 70]), max_size=40))
def test_wrapping_never_makes_a_signature_line(words: list[str]) -> None:
    text = "".join(words)
    assert [line for line in flowed(text).split("\n") if line == "-- "] == (
        ["-- "] if text == "-- " else []
    )


def test_papers_keep_their_order_across_a_clock_change() -> None:
    import datetime as dt

    from newsletter.config import Config

    config = Config(timezone="America/New_York", edition_time="03:00")
    instants = [config.edition(dt.date(2024, 3, 10), n) for n in range(3)]
    utc = [instant.astimezone(dt.UTC) for instant in instants]
    assert [b - a for a, b in itertools.pairwise(utc)] == [dt.timedelta(seconds=-1)] * 2


def test_numbered_items_at_the_top_are_siblings(tmp_path: Path) -> None:
    out, _ = build(tmp_path, HEAD.format(date="2024-03-04") + paper(1, "T", "1. a", "2. b", "3. c"))
    page = day_page(out, "2024-03-04")
    (numbered,) = page.iter("ol")
    assert [li.text_content().strip() for li in numbered.iter("li")] == ["a", "b", "c"]
    text = unflowed(plain_part(out, "2024-03-04"))
    assert "   1. a\n   2. b\n   3. c\n" in text
