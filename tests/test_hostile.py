"""Hostile and broken input: nothing crashes, nothing executable leaks out, nothing is lost."""

from __future__ import annotations

import email
import errno
import json
import os
from email import policy
from pathlib import Path

import feedparser
import lxml.html
import pytest
from click.testing import CliRunner
from conftest import SEEDS, SITE, build_into, unwarned
from feedcheck import findings, validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from newsletter import write
from newsletter.cli import cli
from newsletter.errors import NewsletterError, OutputError

EVIL = """## Daily Papers (2024-03-01)
### [<script>alert(1)</script> "><img src=x onerror=alert(1)> </title> ]]> {{ 7*7 }} {% raw %}](https://arxiv.org/abs/2403.00001)
![](javascript:alert(1))
[Watch Video](data:text/html,<script>alert(1)</script>)
Vote: 5
Authors: <b>Bold</b>, {{ config }}, ]]>
- ***What's New***: <style>body{display:none}</style> <a href="javascript:x">x</a> {% for x in y %}
- vbscript:msgbox javascript:alert(2) \u202eRTL\u202c zero\u200bwidth 😀 \U0001d538 p { color: red }
### [Normal](https://arxiv.org/abs/2403.00002)
![](https://example.org/ok.png" onerror="alert(1))
![](vbscript:msgbox)
"""
DANGEROUS_SCHEMES = ("javascript", "data", "vbscript")
CONTENT = "http://purl.org/rss/1.0/modules/content/"
FEEDS = ("papers", "daily", "weekly")


def html_problems(html: str, where: str) -> list[str]:
    found = []
    if not html.strip():
        return found
    for element in lxml.html.fromstring(html).iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in ("script", "iframe", "object", "embed"):
            found.append(f"{where}: <{element.tag}>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"{where}: {name}=")
            scheme = value.strip().split(":", 1)[0].lower()
            if name in ("href", "src") and scheme in DANGEROUS_SCHEMES:
                found.append(f"{where}: {name}={value}")
    return found


def validator_findings(out: Path) -> list[str]:
    """The W3C Feed Validation Service's errors and warnings on every feed in ``out``."""
    return [
        f"{name}: {finding}"
        for name in (f"{feed}.{kind}" for feed in FEEDS for kind in ("atom", "rss"))
        for finding in validate((out / "feeds" / name).read_bytes(), f"{SITE}feeds/{name}")
    ]


def assert_safe(out: Path) -> None:
    """Our own checks: nothing executable in any page, feed or email, and all parse."""
    problems: list[str] = []
    for page in out.rglob("*.html"):
        problems += html_problems(page.read_text(), str(page))
    for name in FEEDS:
        atom, rss = out / f"feeds/{name}.atom", out / f"feeds/{name}.rss"
        for path in (atom, rss):
            parsed = feedparser.parse(str(path))
            assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        for element in etree.parse(str(atom)).iter("{http://www.w3.org/2005/Atom}content"):
            problems += html_problems(element.text or "", str(atom))
        for element in etree.parse(str(rss)).iter("description", f"{{{CONTENT}}}encoded"):
            problems += html_problems(element.text or "", str(rss))
        for item in json.loads((out / f"feeds/{name}.json").read_text())["items"]:
            problems += html_problems(item["content_html"], f"{name}.json")
    for eml in (out / "email").glob("*.eml"):
        message = email.message_from_bytes(eml.read_bytes(), policy=policy.strict)
        assert all(not part.defects for part in message.walk()), eml
    assert problems == []


def assert_safe_and_valid(out: Path) -> None:
    assert_safe(out)
    assert validator_findings(out) == []


def build_text(tmp_path: Path, **files: str | bytes) -> tuple[int, Path, str]:
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    for name, content in files.items():
        path = seeds / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    os.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["build", "--no-cache", "--site-url", SITE])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, tmp_path / "out", unwarned(result.stderr)


def test_injection_is_text(tmp_path: Path) -> None:
    code, out, stderr = build_text(tmp_path, **{"evil.md": EVIL})
    assert code == 0
    assert "image ignored: not an http(s) URL: javascript:alert(1)" in stderr
    assert "image ignored: not an http(s) URL: vbscript:msgbox" in stderr
    assert_safe(out)
    page = (out / "days/2024-03-01.html").read_text()
    assert "{{ 7*7 }}" in page and "{% for x in y %}" in page and "49" not in page
    title = lxml.html.fromstring(page).find_class("paper-title")[0].text_content()
    assert title.startswith('<script>alert(1)</script> "><img src=x onerror=alert(1)> </title> ]]>')
    entries = feedparser.parse(str(out / "feeds/papers.atom")).entries
    entry = next(e for e in entries if e.id.endswith("2403.00001"))
    assert entry.title.startswith("<script>alert(1)</script>")
    message = email.message_from_bytes(
        (out / "email/2024-03-01.eml").read_bytes(), policy=policy.strict
    )
    assert "<script>alert(1)</script>" in message.get_body(("plain",)).get_content()


def test_injection_passes_the_w3c_validator(tmp_path: Path) -> None:
    """Clean but for one thing no writer can avoid: a plain-text title that reads like an
    HTML end tag ("</script>", "</title>") is flagged however it is escaped; the paper's
    title is kept as its author wrote it."""
    _, out, _ = build_text(tmp_path, **{"evil.md": EVIL})
    found = [
        (name, f)
        for name in (f"{feed}.{kind}" for feed in FEEDS for kind in ("atom", "rss"))
        for f in findings((out / "feeds" / name).read_bytes(), f"{SITE}feeds/{name}")
    ]
    assert found, "the EVIL title is flagged: this test would notice a change of rules"
    for name, finding in found:
        assert finding.kind in ("ContainsHTML", "ContainsUndeclaredHTML"), (name, finding)
        assert finding.element == "title" and finding.value in ("script", "title"), finding


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("\ufeff## Daily Papers (2024-03-04)\n### [BOM](https://arxiv.org/abs/2403.00005)\n", ""),
        (
            "## Daily Papers (2024-03-04)\n### [UTF-16 한국어](https://arxiv.org/abs/2403.00005)\n".encode(
                "utf-16"
            ),
            "",
        ),
        (
            "## Daily Papers (2024-03-04)\r\n### [CRLF](https://arxiv.org/abs/2403.00005)\r- a\r\n",
            "",
        ),
        (
            "## Daily Papers (2024-03-04)\n### [N\x00UL\x07](https://arxiv.org/abs/2403.00005)\n",
            "seeds/x.md:2: warning: removed U+0000 (NULL), U+0007 (a control character)",
        ),
        (
            "## Daily Papers (2024-03-04)\n### [\u202eRTL \u200b 😀 \U0001d538](https://arxiv.org/abs/2403.00005)\n",
            "",
        ),
        (
            "## Daily Papers (2024-03-04)\n### [A](https://arxiv.org/abs/2403.00005)\n### [B](https://arxiv.org/abs/2403.00006)\n",
            "",
        ),
    ],
    ids=["bom", "utf16", "crlf-cr", "nul", "rtl-emoji", "only-headings"],
)
def test_encodings_build(tmp_path: Path, content: str | bytes, expected: str) -> None:
    code, out, stderr = build_text(tmp_path, **{"x.md": content})
    assert code == 0 and stderr.strip() == expected
    assert_safe_and_valid(out)


def test_invalid_utf8_is_an_error_that_spares_the_other_days(tmp_path: Path) -> None:
    good = (SEEDS / "002_3ad8faf8001596d5.txt").read_bytes()
    code, out, stderr = build_text(tmp_path, **{"a.md": good, "b.md": b"## Daily\n\xc3\x28 x"})
    assert code == 1
    assert stderr == "seeds/b.md:2: error: not UTF-8 text (byte 0xc3)\n"
    assert (out / "days/2024-05-02.html").is_file()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("### Just a title\n", "seeds/x.md:2: error: paper heading has no arXiv link"),
        (
            "### [Open](https://arxiv.org/abs/2403.00007\n",
            "seeds/x.md:2: warning: paper link has no closing parenthesis",
        ),
        (
            "### [A](https://arxiv.org/abs/2403.00007)\n### [A](https://arxiv.org/abs/2403.00007v2)\n",
            "seeds/x.md:3: warning: paper 2403.00007 already listed at seeds/x.md:2; kept once",
        ),
        ("Vote: -4\n", None),
        (
            "### [V](https://arxiv.org/abs/2403.00007)\nVote: -4\n",
            "seeds/x.md:3: warning: vote count '-4' is not a count; treated as none",
        ),
        (
            "### [V](https://arxiv.org/abs/2403.00007)\nVote: 99999999999999999999\n",
            "seeds/x.md:3: warning: vote count '99999999999999999999' is not a count; "
            "treated as none",
        ),
        (
            "## Daily Papers (2024-02-30)\n### [D](https://arxiv.org/abs/2403.00007)\n",
            "seeds/x.md:2: error: invalid date '2024-02-30' (expected YYYY-MM-DD, 1991-2099)",
        ),
        (
            "## Daily Papers (2999-01-01)\n",
            "seeds/x.md:2: error: invalid date '2999-01-01' (expected YYYY-MM-DD, 1991-2099)",
        ),
        (
            "## Daily Papers (1900-01-01)\n",
            "seeds/x.md:2: error: invalid date '1900-01-01' (expected YYYY-MM-DD, 1991-2099)",
        ),
    ],
)
def test_structure_problems(tmp_path: Path, text: str, message: str | None) -> None:
    code, out, stderr = build_text(tmp_path, **{"x.md": "## Daily Papers (2024-03-01)\n" + text})
    if message is not None:
        assert message in stderr.splitlines()
        assert code == (1 if ": error: " in message else 0)
    assert_safe_and_valid(out)


def test_zero_paper_day_and_same_date_in_two_files(tmp_path: Path) -> None:
    empty_day = "## Daily Papers (2024-03-02)\n"
    one = "## Daily Papers (2024-03-01)\n### [A](https://arxiv.org/abs/2403.00001)\n"
    two = "## Daily Papers (2024-03-01)\n### [B](https://arxiv.org/abs/2403.00002)\n"
    code, out, stderr = build_text(tmp_path, **{"e.md": empty_day, "a.md": one, "b.md": two})
    assert code == 0
    assert stderr == "seeds/b.md:2: warning: 2024-03-01 also in seeds/a.md; the days are merged\n"
    assert (out / "days/2024-03-02.html").is_file()
    assert len(feedparser.parse(str(out / "feeds/papers.atom")).entries) == 2
    assert_safe_and_valid(out)


def test_long_line_and_50_megabyte_file(tmp_path: Path) -> None:
    lines = [
        "## Daily Papers (2024-03-01)",
        "### [" + "x](" * 100_000 + "Long](https://arxiv.org/abs/2403.00001)",
        "- " + "가" * 350_000,
    ]
    size, number = 0, 2
    block = ["- ***What's New***: " + "요약 " * 300] * 3
    while size < 50_000_000:
        lines += [
            f"### [Paper {number}](https://arxiv.org/abs/2403.{number:05d})",
            "Vote: 7",
            *block,
        ]
        size += sum(len(line.encode()) + 1 for line in lines[-5:])
        number += 1
    code, out, stderr = build_text(tmp_path, **{"big.md": "\n".join(lines)})
    assert code == 0 and unwarned(stderr) == ""
    assert (tmp_path / "seeds/big.md").stat().st_size > 50_000_000
    page = lxml.html.fromstring((out / "days/2024-03-01.html").read_bytes())
    assert len(page.find_class("paper")) == number - 1  # nothing lost
    assert len((out / "email/2024-03-01.html").read_bytes()) < 100_000


def test_file_system_trouble(tmp_path: Path) -> None:
    runner = CliRunner()
    os.chdir(tmp_path)
    assert unwarned(runner.invoke(cli, ["build"]).stderr) == "Error: seeds: no such folder\n"
    (tmp_path / "seeds").mkdir()
    empty = runner.invoke(cli, ["build"])
    assert (empty.exit_code, unwarned(empty.stderr)) == (1, "Error: seeds: no digest to build\n")
    (tmp_path / "seeds" / "dir.md").mkdir()
    (tmp_path / "seeds" / "notes.json").write_text("{}")
    (tmp_path / "seeds" / "broken.md").symlink_to(tmp_path / "nowhere")
    (tmp_path / "real.md").write_bytes((SEEDS / "002_3ad8faf8001596d5.txt").read_bytes())
    (tmp_path / "seeds" / "link.md").symlink_to(tmp_path / "real.md")
    result = runner.invoke(cli, ["build", "--no-cache"])
    assert result.exit_code == 1
    assert unwarned(result.stderr).splitlines() == [
        "seeds/broken.md: error: cannot read: No such file or directory",
        "seeds/dir.md: error: not a regular file (a folder)",
    ]
    assert (tmp_path / "out/days/2024-05-02.html").is_file()
    (tmp_path / "blocker").write_text("a file where a folder should be")
    blocked = runner.invoke(cli, ["build", "--no-cache", "--out", "blocker"])
    assert blocked.exit_code == 1 and blocked.stderr.endswith(
        "blocker: exists and is not a folder\n"
    )
    nested = runner.invoke(cli, ["build", "--no-cache", "--out", "blocker/out"])
    assert nested.exit_code == 1 and "Error: " in nested.stderr and "Traceback" not in nested.output


def test_disk_full_keeps_the_previous_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = build_into(tmp_path / "out")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    class Full:
        """A file on a disk that fills up after its first bytes."""

        def __init__(self, path: str, mode: str) -> None:
            self.path = path

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device", self.path)

    def filling(path: str, mode: str) -> object:  # the staging folder's new files
        return Full(path, mode) if mode == "xb" else open(path, mode)

    monkeypatch.setattr(write, "open", filling, raising=False)
    with pytest.raises(OutputError) as caught:
        build_into(out, title="Changed everything")
    assert "cannot write: No space left on device" in str(caught.value)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]


REAL_LINES = (SEEDS / "001_6e58d990c1298778.txt").read_text().splitlines()
HOSTILE = [
    "<script>x</script>",
    "]]>",
    "{{ x }}",
    "{% if %}",
    "\x00",
    "\r",
    "Vote: -1",
    "Authors: ['a', ",
    "- **X**: {'a': [",
    "### [t](javascript:x)",
    "![](data:x)",
    "## Daily Papers (2024-13-01)",
    "### ",
    "[Watch Video](",
    "\ud7ff\U0001f600",
]


@settings(
    max_examples=int(os.environ.get("NEWSLETTER_FUZZ_EXAMPLES", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.one_of(st.sampled_from(REAL_LINES), st.sampled_from(HOSTILE), st.text(max_size=40)),
        min_size=1,
        max_size=80,
    )
)
def test_mutated_days_build_or_fail_cleanly(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "seeds").mkdir()
    (folder / "seeds" / "day.md").write_text(
        "## Daily Papers (2024-06-19)\n" + "\n".join(lines),
        encoding="utf-8",
        errors="surrogatepass",
    )
    try:
        out = build_into(folder / "out", folder / "seeds")
    except NewsletterError:
        return
    assert_safe_and_valid(out)
