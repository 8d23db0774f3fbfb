"""Properties: the parser raises nothing but our error, and loses no heading."""

from __future__ import annotations

import re

from conftest import ALL_DAY_FILES
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.archive import decode
from newsletter.errors import InputError
from newsletter.parse import parse_text

REAL_LINES = sorted({line for path in ALL_DAY_FILES for line in path.read_text().splitlines()})
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
PRINTABLE_LINE = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=80)
LINES = st.lists(st.one_of(st.sampled_from(REAL_LINES), PRINTABLE_LINE), max_size=60)
NOT_READ = re.compile(r"\((\d+) paper headings not read\)")


def headings(lines: list[str]) -> int:
    return sum(1 for line in lines if re.match(r"^###(?!#)", line.strip()))


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_any_text_parses_without_raising(text: str) -> None:
    _, problems = parse_text(text, "x.md")
    for problem in problems:
        assert problem.file == "x.md"
        assert problem.line is None or 1 <= problem.line <= text.count("\n") + text.count("\r") + 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_decode_or_raise_our_error(data: bytes) -> None:
    try:
        text = decode(data, "x.md")
    except InputError as error:
        assert str(error).startswith("x.md")
    else:
        parse_text(text, "x.md")


@settings(max_examples=300, deadline=None)
@given(LINES)
def test_every_heading_is_a_paper_or_a_problem(lines: list[str]) -> None:
    days, problems = parse_text("\n".join(lines), "x.md")
    papers = sum(len(papers) for papers in days.values())
    messages = [p.message for p in problems if p.severity == "error"]
    not_read = [int(m[1]) for msg in messages if (m := NOT_READ.search(msg))]
    heading_errors = [m for m in messages if m.startswith("paper heading")]
    assert papers + len(heading_errors) + sum(not_read) == headings(lines)
