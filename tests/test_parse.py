"""The parser on real days and on inline examples of every format variant."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import ALL_DAY_FILES, CORPUS, SEEDS, archive_of

from newsletter.archive import decode, merge_days
from newsletter.model import Paper, Section
from newsletter.parse import parse_text


def parse_one(text: str) -> tuple[list[Paper], list[str]]:
    days, problems = parse_text(text, "x.md")
    papers = [p for papers in days.values() for p in papers]
    return papers, [str(p) for p in problems]


def only(text: str) -> Paper:
    papers, problems = parse_one(text)
    assert len(papers) == 1, problems
    return papers[0]


@pytest.mark.parametrize("path", ALL_DAY_FILES, ids=lambda p: p.name)
def test_every_heading_becomes_a_paper(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    headings = sum(1 for line in text.splitlines() if line.startswith("### "))
    days, problems = parse_text(text, str(path))
    assert sum(len(papers) for papers in days.values()) == headings
    assert not [p for p in problems if p.severity == "error"]


def test_archive_totals() -> None:
    seeds, corpus = archive_of(SEEDS), archive_of(CORPUS)
    assert (seeds.files, seeds.papers, len(seeds.days)) == (5, 84, 5)
    assert (corpus.files, corpus.papers, len(corpus.days)) == (9, 193, 9)
    assert [str(p) for p in corpus.problems] == [
        f"{CORPUS}/2023-12-12.md:51: warning: the image is a video; shown as the paper's video: "
        "https://cdn-uploads.huggingface.co/production/uploads/60f1a…",
        f"{CORPUS}/2024-07-19.md:182: warning: removed U+0008 (BACKSPACE)",
    ]


def test_date_comes_from_header_not_name() -> None:
    seeds = archive_of(SEEDS)
    assert [d.date.isoformat() for d in seeds.days] == [
        "2024-05-02",
        "2024-06-19",
        "2024-10-23",
        "2024-11-01",
        "2024-11-19",
    ]


def test_bold_italic_labels_image_votes_plain_authors() -> None:
    day = archive_of(SEEDS).days[3]
    delta = day.papers[0]
    assert delta.arxiv_id == "2410.24211"
    assert delta.title == "DELTA: Dense Efficient Long-range 3D Tracking for any video"
    assert delta.thumbnail == (
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2410.24211.png"
    )
    assert delta.votes == 3
    assert delta.authors[:2] == ("Chaoyang Wang", "Peiye Zhuang")
    assert len(delta.authors) == 7 and not delta.authors_elided
    assert [s.label for s in delta.sections] == [
        "What's New",
        "Technical Details",
        "Performance Highlights",
    ]
    assert delta.sections[0].text.startswith("DELTA는 동영상에서")
    assert delta.origin.line == 3
    assert delta.abs_url == "https://arxiv.org/abs/2410.24211"
    assert delta.pdf_url == "https://arxiv.org/pdf/2410.24211"
    assert delta.hf_url == "https://huggingface.co/papers/2410.24211"


def test_bold_labels_dict_highlights_and_elided_authors() -> None:
    coder = archive_of(SEEDS).days[1].papers[0]
    assert coder.arxiv_id == "2406.11931" and coder.votes == 53
    assert coder.authors_elided
    assert "+" not in coder.authors and "Dejian Yang" in coder.authors
    assert len(coder.authors) == 22
    highlights = coder.sections[2]
    assert highlights.label == "Performance Highlights" and highlights.text == ""
    assert [c.label for c in highlights.children] == ["code", "math", "natural-language"]
    assert highlights.children[0].text.startswith("DeepSeek-Coder-V2는 HumanEval(90.2%)")


def test_list_literal_authors_and_zero_votes() -> None:
    paper = archive_of(SEEDS).days[2].papers[1]
    assert paper.authors == ("Xi Liu", "Siyu Huang", "Chaoyi Zhou")
    assert paper.votes == 0


def test_plain_bullets_no_image_no_votes_no_blank_lines() -> None:
    day = archive_of(CORPUS).days[0]
    first, second = day.papers[0], day.papers[1]
    assert (first.thumbnail, first.video, first.votes, first.authors) == (None, None, None, ())
    assert len(first.sections) == 7 and all(s.label is None for s in first.sections)
    assert second.title.startswith("Emu Video") and second.origin.line == 12


def test_nested_bullets_become_children() -> None:
    day = archive_of(CORPUS).days[0]
    unified = next(
        p
        for p in day.papers
        if "UnifiedVisionGPT" in p.sections[-1].text
        or any("UnifiedVisionGPT" in s.text for s in p.sections)
    )
    parent = next(s for s in unified.sections if s.children)
    assert parent.text.endswith("차별화한다:")
    assert [c.text[:3] for c in parent.children] == ["(1)", "(2)", "(3)", "(4)"]


def test_video_tag_and_watch_video_link() -> None:
    corpus = archive_of(CORPUS)
    dance = next(p for p in corpus.days[1].papers if p.arxiv_id == "2311.10982")
    assert dance.video and dance.video.endswith("D-WQoAl7gR1AwRZ0RXNkW.mp4")
    assert dance.thumbnail is None
    sherpa = corpus.days[2].papers[0]
    assert sherpa.video and sherpa.video.endswith("3X51nAmSqVYpWXFc4aZO2.mp4")
    assert sherpa.votes == 16


def test_watch_video_without_parentheses_and_dash_vote() -> None:
    paper = only(
        "## Daily Papers (2024-01-02)\n"
        "### [T](https://arxiv.org/abs/2401.00001)\n"
        "[Watch Video]https://cdn.example.org/v.mp4\n"
        "Vote: -\n"
        "- text\n"
    )
    assert paper.video == "https://cdn.example.org/v.mp4"
    assert paper.votes is None


def test_contributions_list_literal() -> None:
    day = archive_of(CORPUS).days[3]
    motion = next(p for p in day.papers if p.arxiv_id == "2407.13764")
    contributions = motion.sections[-1]
    assert contributions.label == "Contributions"
    assert contributions.text == "" and len(contributions.children) >= 2
    assert all(c.label is None for c in contributions.children)


def test_two_sections_of_one_day_merge() -> None:
    day = next(d for d in archive_of(CORPUS).days if d.date == dt.date(2025, 2, 19))
    assert len(day.papers) == 68


def test_control_characters_removed_with_warning() -> None:
    day = next(d for d in archive_of(CORPUS).days if d.date == dt.date(2024, 7, 19))
    text = " ".join(s.text for p in day.papers for s in p.sections)
    assert "enchbench" in text and "\x08" not in text


def test_markup_in_title_is_text() -> None:
    day = archive_of(CORPUS).days[-1]
    assert any(
        p.title == "DeepSeek-R1 Thoughtology: Let's <think> about LLM Reasoning" for p in day.papers
    )


def test_relative_thumbnail_resolved_on_source_site() -> None:
    paper = next(p for d in archive_of(SEEDS).days for p in d.papers if p.arxiv_id == "2406.12831")
    assert paper.thumbnail == "https://huggingface.co/avatars/2b6d2d0625741b28f326459acad55b69.svg"


def test_numbered_sublist_and_term_lines_inside_a_section() -> None:
    paper = only(
        "## Daily Papers (2024-01-02)\n"
        "### [T](https://arxiv.org/abs/2401.00001v2)\n"
        "- **Technical Details**: three parts:\n"
        "1. first\n"
        "2. second\n"
        "**Encoder**: reads the input\n"
        "- **Performance Highlights**: fast\n"
    )
    assert paper.arxiv_id == "2401.00001"
    details, highlights = paper.sections
    assert details == Section(
        "Technical Details",
        "three parts:",
        (
            Section(None, "first", number=1),
            Section(None, "second", number=2),
            Section("Encoder", "reads the input"),
        ),
    )
    assert highlights == Section("Performance Highlights", "fast")


def test_missing_optional_parts_is_still_a_paper() -> None:
    paper = only("## Daily Papers (2024-01-02)\n### [Bare](https://arxiv.org/abs/2401.00002)\n")
    assert (paper.title, paper.sections, paper.authors, paper.votes) == ("Bare", (), (), None)


def test_duplicate_in_a_day_is_one_paper_with_a_warning() -> None:
    text = (
        "## Daily Papers (2024-01-02)\n### [A](https://arxiv.org/abs/2401.00001)\n"
        "## Daily Papers (2024-01-02)\n### [A again](https://arxiv.org/abs/2401.00001v3)\n"
    )
    days, _ = parse_text(text, "x.md")
    [(_, papers, _)], problems = merge_days([("x.md", days)])
    assert [p.title for p in papers] == ["A"]
    assert [str(p) for p in problems] == [
        "x.md:4: warning: paper 2401.00001 already listed at x.md:2; kept once"
    ]


def test_same_date_in_two_files_merges_with_warning() -> None:
    one, _ = parse_text(
        "## Daily Papers (2024-01-02)\n### [A](https://arxiv.org/abs/2401.00001)\n", "a.md"
    )
    two, _ = parse_text(
        "## Daily Papers (2024-01-02)\n### [B](https://arxiv.org/abs/2401.00002)\n", "b.md"
    )
    merged, problems = merge_days([("a.md", one), ("b.md", two)])
    [(_, papers, sources)] = merged
    assert [p.title for p in papers] == ["A", "B"] and sources == ("a.md", "b.md")
    assert [str(p) for p in problems] == [
        "b.md:2: warning: 2024-01-02 also in a.md; the days are merged"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "# Notes\nhello\n",
            "x.md:1: error: not a digest: no '## Daily Papers (YYYY-MM-DD)' header",
        ),
        (
            "## Daily Papers (2024-02-30)\n",
            "x.md:1: error: invalid date '2024-02-30' (expected YYYY-MM-DD, 1991-2099)",
        ),
        (
            "## Daily Papers (2024-01-02)\n### Just a title\n",
            "x.md:2: error: paper heading has no arXiv link",
        ),
        (
            "## Daily Papers (2024-01-02)\n### [T](https://example.org/x)\n",
            "x.md:2: error: paper heading link is not an arXiv paper: https://example.org/x",
        ),
        (
            "## Daily Papers (2024-01-02)\n### [T](https://arxiv.org/abs/2401.00001\n",
            "x.md:2: warning: paper link has no closing parenthesis",
        ),
        (
            "### [T](https://arxiv.org/abs/2401.00001)\n## Daily Papers (2024-01-02)\n",
            "x.md:1: error: paper heading outside a valid date section",
        ),
        (
            "## Daily Papers (2024-01-02)\n### [T](https://arxiv.org/abs/2401.00001)\nVote: lots\n",
            "x.md:3: warning: vote count 'lots' is not a count; treated as none",
        ),
        (
            "## Daily Papers (2024-01-02)\n### [T](https://arxiv.org/abs/2401.00001)\n"
            "![](javascript:alert(1))\n",
            None,
        ),
    ],
)
def test_problems_name_file_and_line(text: str, expected: str | None) -> None:
    _, problems = parse_text(text, "x.md")
    if expected is None:
        assert problems and all(p.severity == "warning" for p in problems)
    else:
        assert expected in [str(p) for p in problems]


def test_heading_without_date_section_counts_headings() -> None:
    _, problems = parse_text("### [A](https://arxiv.org/abs/2401.00001)\n", "x.md")
    assert [str(p) for p in problems] == [
        "x.md:1: error: not a digest: no '## Daily Papers (YYYY-MM-DD)' header "
        "(1 paper headings not read)"
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "x.md: empty file"),
        (b"  \n\n", "x.md: empty file"),
        (b"## Daily Papers (2024-01-02)\n\xff\xfe\x00oops", "x.md:2: not UTF-8 text (byte 0xff)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "x.md:1: not UTF-8 text (byte 0x89)"),
    ],
)
def test_decode_errors(data: bytes, message: str) -> None:
    from newsletter.errors import InputError

    with pytest.raises(InputError) as caught:
        decode(data, "x.md")
    assert str(caught.value) == message


def test_decode_bom_and_utf16() -> None:
    text = "## Daily Papers (2024-01-02)\n"
    assert decode(b"\xef\xbb\xbf" + text.encode(), "x") == text
    assert decode(text.encode("utf-16"), "x") == text


def test_crlf_and_lone_cr_keep_line_numbers() -> None:
    text = "## Daily Papers (2024-01-02)\r\n### [A](https://arxiv.org/abs/2401.00001)\r- a\r- b\r\n"
    papers, problems = parse_one(text)
    assert problems == [] and papers[0].origin.line == 2
    assert [s.text for s in papers[0].sections] == ["a", "b"]


def test_archive_skips_readme_and_reports_bad_files(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# About\n")
    (tmp_path / "notes.json").write_text("{}")
    (tmp_path / "a.md").write_text(
        "## Daily Papers (2024-01-02)\n### [A](https://arxiv.org/abs/2401.00001)\n"
    )
    (tmp_path / "b.md").write_bytes(b"\xfa\xfb")
    (tmp_path / "c.txt").write_text("")
    archive = archive_of(tmp_path)
    assert archive.files == 3 and archive.papers == 1
    assert [str(p) for p in archive.problems] == [
        f"{tmp_path}/b.md:1: error: not UTF-8 text (byte 0xfa)",
        f"{tmp_path}/c.txt: error: empty file",
    ]
