"""Emails: vote order, size budget, plain text, and an .eml that strict parsers accept."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

import lxml.html
import pytest
from conftest import ALL_DAY_FILES, CORPUS, SITE, archive_of, build_into

from newsletter.config import Config
from newsletter.editions import Ranked, rank, ranked
from newsletter.inline import inline_with_premailer, learn
from newsletter.mail import HTML_BUDGET, day_mail, fit
from newsletter.model import Origin, Paper
from newsletter.outputs import Context
from newsletter.render import Theme, author_line

TITLE = re.compile(r'<a class="title-link" href="https://arxiv.org/abs/([^"]+)"')


def paper(votes: int | None, n: int = 0, authors: int = 0, elided: bool = False) -> Paper:
    names = tuple(f"Author {i}" for i in range(authors))
    return Paper(
        arxiv_id=f"2401.{n:05d}",
        title=f"P{n}",
        origin=Origin("x", n),
        votes=votes,
        authors=names,
        authors_elided=elided,
    )


def corpus_day(key: str) -> Ranked:
    return ranked(next(d for d in archive_of(CORPUS).days if d.key == key))


def context(config: Config, theme: Theme | None = None) -> Context:
    theme = theme or Theme()
    return Context(config, theme, learn(theme))


def test_rank_votes_first_unvoted_last_stable_ties() -> None:
    papers = [paper(3, 1), paper(None, 2), paper(9, 3), paper(3, 4), paper(0, 5), paper(None, 6)]
    assert [p.arxiv_id[-1] for p in rank(papers)] == ["3", "1", "4", "5", "2", "6"]


def test_long_author_lists_are_shortened() -> None:
    assert author_line(paper(1, authors=12), 8).endswith("Author 7 외 4명")
    assert author_line(paper(1, authors=3), 8) == "Author 0, Author 1, Author 2"
    assert author_line(paper(1, authors=3, elided=True), 8).endswith("Author 2 외")


@pytest.fixture(scope="module")
def corpus_mail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_into(
        tmp_path_factory.mktemp("mail") / "out",
        CORPUS,
        list_unsubscribe=("https://papers.example.org/unsubscribe",),
        email_from="매일 논문 소식 <papers@example.org>",
        email_to=("readers@example.org",),
        reply_to="editor@example.org",
    )


@pytest.mark.parametrize("path", ALL_DAY_FILES, ids=lambda p: p.name)
def test_every_day_fits_and_parses_strictly(path: Path, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / path.name).write_bytes(path.read_bytes())
    out = build_into(tmp_path / "out", seeds)
    (eml,) = (out / "email").glob("????-??-??.eml")
    html = eml.with_suffix(".html").read_bytes()
    assert len(html) < HTML_BUDGET
    raw = eml.read_bytes()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF throughout, as SMTP wants
    message = email.message_from_bytes(raw, policy=policy.strict)
    assert all(not part.defects for part in message.walk())
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.iter_parts()
    assert (plain.get_content_type(), rich.get_content_type()) == ("text/plain", "text/html")
    assert plain["Content-Transfer-Encoding"] == rich["Content-Transfer-Encoding"] == "base64"
    assert rich.get_content().replace("\r\n", "\n").encode() == html  # text/* travels as CRLF
    assert (out / "email" / "latest.eml").read_bytes() == raw


def test_headers(corpus_mail: Path) -> None:
    message = email.message_from_bytes(
        (corpus_mail / "email/2025-04-11.eml").read_bytes(), policy=policy.default
    )
    assert message["Subject"] == "[Daily Papers 한국어 요약] 2025년 4월 11일 (금) 논문 15편"
    assert message["From"] == "매일 논문 소식 <papers@example.org>"
    assert message["To"] == "readers@example.org" and message["Reply-To"] == "editor@example.org"
    assert message["Date"] == "Fri, 11 Apr 2025 07:00:00 +0900"  # edition_time
    assert message["Message-ID"] == "<2025-04-11.newsletter@papers.example.org>"
    assert message["List-Id"] == "Daily Papers 한국어 요약 <newsletter.papers.example.org>"
    assert message["List-Unsubscribe"] == "<https://papers.example.org/unsubscribe>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_default_headers_keep_the_file_valid(tmp_path: Path) -> None:
    out = build_into(tmp_path / "out")
    message = email.message_from_bytes(
        (out / "email/latest.eml").read_bytes(), policy=policy.strict
    )
    assert message["From"] == message["To"] == "newsletter@localhost"
    assert "List-Unsubscribe" not in message


def test_html_in_vote_order_with_budget_and_links(corpus_mail: Path) -> None:
    html = (corpus_mail / "email/2025-02-19.html").read_text()
    day = corpus_day("2025-02-19")
    assert TITLE.findall(html) == [p.arxiv_id for p in day.papers]  # full, then listed
    assert html.count('class="cell paper"') == 20 and 'class="compact-item"' in html
    assert f'href="{SITE}days/2025-02-19.html"' in html
    assert f'href="{SITE}feeds/index.html"' in html  # the subscribe page
    assert "https://papers.example.org/unsubscribe" in html
    assert "<video" not in html and 'lang="ko"' in html and "color-scheme" in html
    for img in lxml.html.fromstring(html).iter("img"):
        assert img.get("src").startswith("https://") and img.get("alt")
        assert (img.get("width"), img.get("height")) == ("552", "298")


def test_plain_text_part_same_order_full_links(corpus_mail: Path) -> None:
    text = (corpus_mail / "email/2025-02-19.txt").read_text()
    html = (corpus_mail / "email/2025-02-19.html").read_text()
    order = re.findall(r"https://arxiv.org/abs/([\d.]+)\n", text)
    assert list(dict.fromkeys(order)) == TITLE.findall(html)
    assert "&#39;" not in text and "What's New: " in text
    assert "<" not in text.split("\n", 3)[2]


def test_video_paper_gets_a_link_not_a_video(corpus_mail: Path) -> None:
    html = (corpus_mail / "email/2023-11-21.html").read_text()
    assert "D-WQoAl7gR1AwRZ0RXNkW.mp4" in html and "<video" not in html


def test_build_says_when_a_day_was_shortened(chdir_tmp: Path) -> None:
    from click.testing import CliRunner

    from newsletter.cli import cli

    args = ["build", "--seeds", str(CORPUS), "--out", "o"]
    quiet = CliRunner().invoke(cli, args).stdout  # not a terminal: one summary line
    assert quiet.count("\n") == 1 and "8 emails shortened" in quiet  # days, finished weeks
    listed = CliRunner().invoke(cli, [*args, "--verbose"]).stdout
    assert "email 2025-02-19: 20 of 68 papers in full, the rest listed" in listed


def test_size_budget_shrinks_full_papers() -> None:
    day = corpus_day("2025-02-19")
    config = Config(site_url=SITE)
    shown, html = fit(day_mail(day, config), context(config), full=68)
    assert 0 < len(shown.full) < 68 and len(html.encode()) < HTML_BUDGET
    assert len(shown.full) + len(shown.listed) + shown.unlisted == 68


def premailer_agrees(ctx: Context, mail: object) -> int:
    """The email the build renders (from stamped templates) is styled, element by element,
    exactly as premailer styles the whole email; returns how many elements were compared."""
    theme, config = ctx.theme, ctx.config
    ours = ctx.stamped.render("email.html", mail=mail, config=config, css=theme.source("email.css"))
    raw = theme.render("email.html", mail=mail, config=config, css=theme.source("email.css"))
    mine = lxml.html.document_fromstring(ours)
    theirs = lxml.html.document_fromstring(inline_with_premailer(raw))
    pairs = list(zip(mine.body.iter(), theirs.body.iter(), strict=True))
    for element, reference in pairs:
        assert dict(element.attrib) == dict(reference.attrib), element.tag
    assert mine.find(".//style").text.split() == theirs.find(".//style").text.split()
    return len(pairs)


def test_inliner_matches_premailer_on_a_whole_email() -> None:
    config = Config(site_url=SITE, list_unsubscribe=("mailto:u@example.org",))
    ctx = context(config)
    shown, _ = fit(day_mail(corpus_day("2025-04-11"), config), ctx, full=20)
    assert premailer_agrees(ctx, shown) > 200
    style = ctx.inliner.head_style if ctx.inliner else ""
    assert "!important" in style and "@media" in style
