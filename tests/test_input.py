"""Reading the archive: what a file may be and hold, and how its problems are shown."""

from __future__ import annotations

import email
import errno
import os
import subprocess
import sys
from email import policy
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner
from conftest import SEEDS, unwarned

from newsletter import archive
from newsletter.build import build
from newsletter.cli import cli
from newsletter.config import Config

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
DAYS = sorted(SEEDS.iterdir())[:2]
HEADER = "## Daily Papers (2024-06-19)\n### [A paper](https://arxiv.org/abs/2406.00001)\n"


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as cron runs it; the timeout only keeps a hang from
    hanging the suite (a build here takes about a second)."""
    return subprocess.run(
        [NEWSLETTER, *args], cwd=folder, capture_output=True, text=True, timeout=120
    )


def two_days(folder: Path) -> Path:
    seeds = folder / "seeds"
    seeds.mkdir()
    for day in DAYS:
        (seeds / day.name).write_bytes(day.read_bytes())
    return seeds


def problems(stderr: str) -> list[str]:
    return [line for line in unwarned(stderr).splitlines() if not line.startswith("Error:")]


@pytest.mark.parametrize(
    "line",
    [
        "- ['\\ud800']",
        "- ['\\udfff\\ud800x']",
        "Authors: ['a\\x00']",
        "- {'\\x0b': 'x'}",
        "- {'k': {'\\x1c\\u2028': ['\\x85']}}",
        "- [0x" + "f" * 3600 + "]",
        "- {0x" + "f" * 3600 + ": 1}",
        "- [1" + "0" * 5000 + "]",
        "- [b'\\x00', 1e999, -5, 1+2j, None, True, ..., {1, 2}, (3,)]",
        "- " + "[" * 300 + "]" * 300,
        "- [" + "'x', " * 50_000 + "]",
    ],
    ids=lambda line: line[:30],
)
def test_one_line_never_stops_the_build(tmp_path: Path, line: str) -> None:
    """Anything a literal can hold becomes text or a file:line problem, and check and build
    report the same problems."""
    seeds = two_days(tmp_path)
    day = seeds / DAYS[1].name
    day.write_text(
        day.read_text()
        .replace("\n### ", f"\n{line}\n### ", 2)
        .replace("Authors:", line if line.startswith("Authors") else "Authors:", 1)
    )
    built, checked = run(tmp_path, "build", "--no-cache"), run(tmp_path, "check")
    assert built.returncode == checked.returncode == 0, built.stderr
    assert "unexpected" not in built.stderr + checked.stderr
    assert problems(built.stderr) == checked.stdout.splitlines()[:-1]
    for path in DAYS:
        date = path.read_text().split("(", 1)[1][:10]
        assert (tmp_path / "out" / "days" / f"{date}.html").is_file()
    text = tmp_path / "out" / "days" / f"{DAYS[1].read_text().split('(', 1)[1][:10]}.html"
    if "f" * 3600 in line:  # the number as it was written, never converted
        assert "0x" + "f" * 3600 in text.read_text()


def test_literal_text_is_cleaned_and_reported() -> None:
    from newsletter.parse import parse_text

    days, found = parse_text(
        HEADER + "Authors: ['a\\x00b', 'c']\n- {'\\x0bkey': ['\\ud800ok', 7]}\n", "x.md"
    )
    [paper] = next(iter(days.values()))
    assert paper.authors == ("ab", "c")
    [section] = paper.sections
    assert section.children[0].label == "key"
    assert [c.text for c in section.children[0].children] == ["ok", "7"]
    assert [(p.line, p.message) for p in found] == [
        (3, "removed U+0000 (NULL)"),
        (4, "removed U+000B (LINE TABULATION)"),
        (4, "removed U+D800 (a lone surrogate)"),
    ]


def test_fifos_devices_and_huge_files_are_errors_not_hangs(tmp_path: Path) -> None:
    """Only regular files are read (after following links), at most MAX_FILE_BYTES."""
    seeds = two_days(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    (seeds / "fifo.md").symlink_to(tmp_path / "fifo")
    os.mkfifo(seeds / "direct-fifo.md")
    (seeds / "zero.md").symlink_to("/dev/zero")
    (seeds / "null.txt").symlink_to("/dev/null")
    with open(seeds / "huge.md", "wb") as huge:  # sparse: no disk is used
        huge.truncate(archive.MAX_FILE_BYTES + 1)
    expected = [
        "seeds/direct-fifo.md: error: not a regular file (a FIFO)",
        "seeds/fifo.md: error: not a regular file (a FIFO)",
        "seeds/huge.md: error: larger than the 64 MB limit",
        "seeds/null.txt: error: not a regular file (a device)",
        "seeds/zero.md: error: not a regular file (a device)",
    ]
    built = run(tmp_path, "build", "--no-cache")
    assert built.returncode == 1 and problems(built.stderr) == expected
    assert len(list((tmp_path / "out" / "days").iterdir())) == 2
    checked = run(tmp_path, "check")
    assert checked.returncode == 1 and checked.stdout.splitlines()[:-1] == expected


def test_a_file_that_grows_past_the_limit_while_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "MAX_FILE_BYTES", 100)
    (tmp_path / "a.md").write_text(HEADER + "- " + "x" * 200)
    with pytest.raises(archive.InputError, match="larger than the 0 MB limit"):
        archive.read_bytes(str(tmp_path / "a.md"))


@pytest.mark.parametrize(
    "name", [".#2025-05-09.md", "2025-05-09.md~", "#2025-05-09.md#", ".hidden.md", "README.md"]
)
def test_what_editors_leave_behind_is_skipped(tmp_path: Path, name: str) -> None:
    seeds = two_days(tmp_path)
    leftover = seeds / name
    if name.startswith(".#"):  # Emacs's lock: a dangling link
        leftover.symlink_to("root@host.1234:1700000000")
    else:
        leftover.write_text("not a digest at all\n")
    built = run(tmp_path, "build", "--no-cache")
    assert (built.returncode, unwarned(built.stderr)) == (0, "")
    assert archive.archive_files(str(seeds)) == [str(seeds / day.name) for day in DAYS]


def test_a_file_name_is_always_one_line_of_diagnostics(tmp_path: Path) -> None:
    seeds = two_days(tmp_path)
    (seeds / "x\nError: forged.md").write_text("not a digest\n")
    (seeds / "y\u2028z\x85.md").write_text("not a digest\n")
    (seeds / b"bad-\xff.md".decode(errors="surrogateescape")).write_text("not a digest\n")
    built = run(tmp_path, "build", "--no-cache")
    assert built.returncode == 1
    assert problems(built.stderr) == [
        "seeds/bad-\\udcff.md:1: error: not a digest: no '## Daily Papers (YYYY-MM-DD)' header",
        "seeds/x\\x0aError: forged.md:1: error: not a digest: no '## Daily Papers (YYYY-MM-DD)' "
        "header",
        "seeds/y\\u2028z\\x85.md:1: error: not a digest: no '## Daily Papers (YYYY-MM-DD)' header",
    ]


def test_the_email_budget_holds_for_any_input(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    huge = "제목 " * 50_000  # a 400 KB title, on the paper with the most votes
    (seeds / "day.md").write_text(
        "## Daily Papers (2024-06-19)\n"
        f"### [{huge}](https://arxiv.org/abs/2406.00001)\nVote: 99\n- {'요약 ' * 50_000}\n"
        + "".join(
            f"### [Paper {i}](https://arxiv.org/abs/2406.{i:05d})\nVote: {i}\n- 요약\n"
            for i in range(2, 60)
        )
    )
    build(Config(), seeds=str(seeds), out=str(tmp_path / "out"))
    html = (tmp_path / "out" / "email" / "2024-06-19.html").read_bytes()
    assert len(html) < 100_000
    preheader = lxml.html.fromstring(html).find_class("preheader")[0].text_content()
    assert len(preheader) <= 150 and preheader.endswith("…")
    page = (tmp_path / "out" / "days" / "2024-06-19.html").read_text()
    assert huge.strip() in page  # the web page keeps every word


def test_a_full_disk_leaves_no_temporary_file_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    real = os.fdopen

    def full_disk(handle: int, *args: object, **kwargs: object) -> object:
        opened = real(handle, *args, **kwargs)  # type: ignore[call-overload]
        if os.readlink(f"/proc/self/fd/{handle}").startswith(str(cache)):

            def write(data: bytes) -> int:
                raise OSError(errno.ENOSPC, "No space left on device")

            opened.write = write
        return opened

    monkeypatch.setattr(os, "fdopen", full_disk)
    for _ in range(2):
        build(Config(), seeds=str(SEEDS), out=str(tmp_path / "out"), cache_dir=str(cache))
    left = [p.name for p in cache.rglob("*") if p.is_file()]
    assert left == []  # nothing could be written, and nothing half-written stayed
    assert (tmp_path / "out" / "index.html").is_file()


def test_check_never_speaks_of_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(folder: str) -> None:
        raise RuntimeError("boom\nforged line")

    monkeypatch.setattr("newsletter.cli.read_archive", broken)
    result = CliRunner().invoke(cli, ["check", str(SEEDS)])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: unexpected RuntimeError: boom\\x0aforged line "
        "(run with NEWSLETTER_DEBUG=1 for details)\n"
    )


def test_the_budget_counts_the_bytes_as_sent(tmp_path: Path) -> None:
    """The .eml's HTML part has CRLF line ends: the budget counts those, not the file's."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "day.md").write_text(
        "## Daily Papers (2024-01-04)\n"
        + "".join(f"### [Paper {i}](https://arxiv.org/abs/2401.{i:05d})\n" for i in range(400))
    )
    build(Config(), seeds=str(seeds), out=str(tmp_path / "out"))
    for eml in (tmp_path / "out" / "email").glob("2024-*.eml"):
        message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        html = message.get_body(("html",)).get_payload(decode=True)  # type: ignore[union-attr]
        assert len(html) < 100_000, eml.name


def test_a_flood_of_bad_lines_is_counted_not_listed(tmp_path: Path) -> None:
    seeds = two_days(tmp_path)
    (seeds / "flood.md").write_text("## Daily Papers (2024-01-05)\n" + "x\n" * 200_000)
    built = run(tmp_path, "build", "--no-cache")
    assert built.returncode == 0
    flood = [line for line in problems(built.stderr) if line.startswith("seeds/flood.md")]
    assert len(flood) == 101
    assert flood[-1] == (
        "seeds/flood.md: warning: and 199900 more problems not shown (0 of them errors)"
    )
    checked = run(tmp_path, "check")
    assert checked.stdout.splitlines()[-1].endswith("0 errors, 101 warnings")


def test_long_literals_take_linear_time_and_say_nothing_of_python(tmp_path: Path) -> None:
    """A 100,000-character literal of numbers (one leaf each), and literals Python warns
    about: no stray line on stderr, the same problems from check and build."""
    seeds = two_days(tmp_path)
    day = seeds / DAYS[1].name
    lines = ["- [" + "1," * 50_000 + "]", "- [1if 1else 2]", "- [0x1for]"]
    text = day.read_text()
    after_first_heading = text.index("\n", text.index("\n### ") + 1)
    day.write_text(
        text[:after_first_heading] + "\n" + "\n".join(lines) + text[after_first_heading:]
    )
    built = run(tmp_path, "build", "--no-cache")
    assert (built.returncode, unwarned(built.stderr)) == (0, "")
    assert run(tmp_path, "check").stdout.splitlines()[-1].endswith("0 errors, 0 warnings")


@pytest.mark.parametrize(
    ("out", "what"),
    [
        (".", "the current folder"),
        ("", "the current folder"),
        ("..", "the current folder"),
        ("/", "the current folder"),
        ("seeds", "the archive (--seeds)"),
        (".newsletter-cache", "the cache (--cache-dir)"),
        ("conf", "the settings (--config)"),
    ],
)
def test_out_never_replaces_what_the_build_reads(tmp_path: Path, out: str, what: str) -> None:
    seeds = two_days(tmp_path)
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "settings.toml").write_text('title = "x"\n')
    before = sorted(p.name for p in tmp_path.rglob("*"))
    built = run(tmp_path, "build", "--out", out, "--config", "conf/settings.toml")
    shown = out or "''"
    assert (built.returncode, unwarned(built.stderr)) == (
        1,
        f"Error: {shown}: would replace {what}; choose a folder of its own\n",
    )
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert len(list(seeds.iterdir())) == 2


def test_a_reader_that_leaves_early_is_no_error(tmp_path: Path) -> None:
    two_days(tmp_path)
    reader = subprocess.Popen(
        [NEWSLETTER, "check"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()  # like `| head -0`
    assert b"unexpected" not in reader.stderr.read()
    reader.wait(timeout=120)


def test_a_file_changed_under_a_build_that_lost_its_cache_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first time a day is read back, it is as if its file had changed under a
    build whose cache was deleted: the build reads the archive once more, and succeeds."""
    from newsletter.errors import Changed

    marker = tmp_path / "change once"
    marker.touch()
    real = archive.Papers.__call__

    def changing(self: archive.Papers, day: archive.Day) -> tuple[archive.Paper, ...]:
        try:  # a file, so that every worker process sees the first time, and one unlinks it
            marker.unlink()
        except FileNotFoundError:
            return real(self, day)
        raise Changed("changed during the build; build again", file="x.md")

    monkeypatch.setattr(archive.Papers, "__call__", changing)
    build(Config(), seeds=str(SEEDS), out=str(tmp_path / "out"), cache_dir=str(tmp_path / "c"))
    monkeypatch.setattr(archive.Papers, "__call__", real)
    build(Config(), seeds=str(SEEDS), out=str(tmp_path / "clean"))
    assert not marker.exists()
    for path in (tmp_path / "clean").rglob("*"):
        if path.is_file():
            assert (
                path.read_bytes()
                == (tmp_path / "out" / path.relative_to(tmp_path / "clean")).read_bytes()
            )
