"""Incremental equals clean: after any sequence of changes, a build with the cache writes
exactly the bytes a --no-cache build of the same input writes.

A hypothesis state machine changes the archive (adds, removes, renames and edits days, puts
two files on one date), the settings, the templates and the package's code, and after every
step compares the whole out/ of a cached build with that of a clean build. CI runs a few
sequences; a long run is one variable away (see the README):

    NEWSLETTER_INCREMENTAL_STEPS=2000 .venv/bin/pytest tests/test_incremental.py
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from pathlib import Path

from conftest import CORPUS, SEEDS
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import newsletter.build
import newsletter.render
from newsletter.build import build
from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.render import Theme

STEPS = int(os.environ.get("NEWSLETTER_INCREMENTAL_STEPS", "60"))
STEPS_A_RUN = 12
PAPER = re.compile(r"^### ", re.MULTILINE)
HEADER = re.compile(r"^## Daily Papers \((\d{4}-\d{2}-\d{2})\)", re.MULTILINE)
VOTE = re.compile(r"^(Votes?: *)(\d+)", re.MULTILINE)
SUMMARY = re.compile(r"^(- .{10})", re.MULTILINE)
START = dt.date(2024, 3, 4)  # a Monday


def shortened(text: str, papers: int) -> str:
    """A real day cut to its first papers, so a build takes a fraction of a second."""
    cuts = [m.start() for m in PAPER.finditer(text)]
    return text if len(cuts) <= papers else text[: cuts[papers]]


SOURCES = [shortened(p.read_text(), 6) for p in sorted(SEEDS.iterdir()) + sorted(CORPUS.iterdir())]
BASE = Theme()
TEMPLATE_CHANGES = {
    "site.css": BASE.source("site.css") + ".paper { margin: 0; }\n",
    "day.html": BASE.source("day.html").replace("추천순", "추천 많은 순"),
    "email.css": BASE.source("email.css") + ".lead { color: #111111; }\n",
    "email.html": BASE.source("email.html").replace(
        "{{ paper | votes }}",
        '{% if paper.votes is none %}<span class="novote">-</span>{% else %}'
        "{{ paper | votes }}{% endif %}",
    ),
    "feed_paper.html": BASE.source("feed_paper.html") + "<p>끝</p>\n",
    "_paper.html": BASE.source("_paper.html").replace("영상", "동영상"),
}
SETTINGS = {
    "title": st.sampled_from(["Daily Papers", "논문 소식", "A & <B>"]),
    "min_votes": st.sampled_from([0, 5, 30]),
    "feed_days": st.sampled_from([1, 2, 3, 14]),
    "email_full_papers": st.sampled_from([0, 1, 3, 20]),
    "week_top": st.sampled_from([1, 2, 10]),
}


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


class Archive(RuleBasedStateMachine):
    """An archive folder, its settings, templates and code, changed one step at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.work = Path(tempfile.mkdtemp(prefix="incremental-"))
        self.seeds = self.work / "seeds"
        self.seeds.mkdir()
        (self.work / "theme").mkdir()
        self.settings: dict[str, object] = {}
        self.version = 0
        self.clock = 1_000_000_000  # files look written long ago, one second apart
        self.real_digest = newsletter.build.code_digest
        self.real_date = newsletter.render.korean_date

    def files(self) -> list[Path]:
        return sorted(self.seeds.iterdir())

    def write(self, path: Path, text: str) -> None:
        """As an editor would, with the file's time in the past: only the stat, never the
        clock, tells the build that it changed (git's racy rule is tested elsewhere)."""
        path.write_text(text)
        self.clock += 1
        os.utime(path, (self.clock, self.clock))

    def day(self, source: int, date: dt.date) -> str:
        return HEADER.sub(f"## Daily Papers ({date.isoformat()})", SOURCES[source], count=1)

    def dates(self) -> list[dt.date]:
        return sorted(
            dt.date.fromisoformat(found.group(1))
            for path in self.files()
            if (found := HEADER.search(path.read_text()))
        )

    @initialize(
        days=st.lists(st.integers(0, 20), min_size=1, max_size=5, unique=True),
        chosen=st.fixed_dictionaries({}, optional=SETTINGS),
    )
    def start(self, days: list[int], chosen: dict[str, object]) -> None:
        for number, offset in enumerate(sorted(days)):
            date = START + dt.timedelta(days=offset)
            self.write(self.seeds / f"{number:03d}.md", self.day(number % len(SOURCES), date))
        self.settings.update(chosen)

    @rule(source=st.integers(0, len(SOURCES) - 1), gap=st.sampled_from([1, 1, 1, 2, 3]))
    def next_day(self, source: int, gap: int) -> None:
        """What cron sees most: the day after the newest lands."""
        date = self.dates()[-1] + dt.timedelta(days=gap)
        self.write(self.seeds / f"{date.isoformat()}.md", self.day(source, date))

    @rule(source=st.integers(0, len(SOURCES) - 1), offset=st.integers(-10, 40))
    def add_day(self, source: int, offset: int) -> None:
        date = START + dt.timedelta(days=offset)
        self.write(self.seeds / f"new-{date.isoformat()}-{source}.md", self.day(source, date))

    @rule(data=st.data())
    def two_files_one_date(self, data: st.DataObject) -> None:
        existing = data.draw(st.sampled_from(self.files()))
        found = HEADER.search(existing.read_text())
        if found:
            source = data.draw(st.integers(0, len(SOURCES) - 1))
            text = self.day(source, dt.date.fromisoformat(found.group(1)))
            self.write(self.seeds / f"twin-{existing.name}", text)

    @precondition(lambda self: len(self.files()) > 1)
    @rule(data=st.data())
    def remove_day(self, data: st.DataObject) -> None:
        data.draw(st.sampled_from(self.files())).unlink()

    @rule(data=st.data())
    def rename_file(self, data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(self.files()))
        path.rename(self.seeds / f"renamed-{path.name}")

    @rule(data=st.data(), votes=st.integers(0, 99))
    def edit_vote(self, data: st.DataObject, votes: int) -> None:
        path = data.draw(st.sampled_from(self.files()))
        text = path.read_text()
        matches = list(VOTE.finditer(text))
        if matches:
            found = data.draw(st.sampled_from(matches))
            text = text[: found.start(2)] + str(votes) + text[found.end(2) :]
            self.write(path, text)

    @rule(data=st.data(), words=st.sampled_from(["새로운 ", "edited ", "**굵게** "]))
    def edit_summary(self, data: st.DataObject, words: str) -> None:
        path = data.draw(st.sampled_from(self.files()))
        text = path.read_text()
        matches = list(SUMMARY.finditer(text))
        if matches:
            found = data.draw(st.sampled_from(matches))
            self.write(path, text[: found.start()] + "- " + words + text[found.start() + 2 :])

    @rule(data=st.data())
    def change_setting(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(SETTINGS)))
        self.settings[key] = data.draw(SETTINGS[key])

    @rule(name=st.sampled_from(sorted(TEMPLATE_CHANGES)), keep=st.booleans())
    def change_template(self, name: str, keep: bool) -> None:
        override = self.work / "theme" / name
        if keep:
            override.write_text(TEMPLATE_CHANGES[name])
        else:
            override.unlink(missing_ok=True)

    @rule()
    def change_code(self) -> None:
        """The test hook for a new release of the package: its code hash and what one of
        its functions writes change together."""
        self.version += 1
        version, digest, date = self.version, self.real_digest, self.real_date
        newsletter.build.code_digest = lambda: digest() + f"+{version}"  # type: ignore[assignment]
        newsletter.render.korean_date = lambda d: date(d) + "*" * version  # type: ignore[assignment]

    @invariant()
    def cached_build_equals_clean_build(self) -> None:
        config = Config(**self.settings)  # type: ignore[arg-type]
        theme = Theme(self.work / "theme")
        outcomes = []
        for out, cache in (("out", str(self.work / "cache")), ("clean", None)):
            shutil.rmtree(self.work / "clean", ignore_errors=True)
            try:
                build(
                    config,
                    seeds=str(self.seeds),
                    out=str(self.work / out),
                    cache_dir=cache,
                    theme=theme,
                )
                outcomes.append(tree(self.work / out))
            except NewsletterError as error:
                outcomes.append(str(error))
        assert outcomes[0] == outcomes[1]

    def teardown(self) -> None:
        newsletter.build.code_digest = self.real_digest  # type: ignore[assignment]
        newsletter.render.korean_date = self.real_date  # type: ignore[assignment]
        shutil.rmtree(self.work, ignore_errors=True)


Archive.TestCase.settings = settings(
    max_examples=max(1, STEPS // STEPS_A_RUN),
    stateful_step_count=STEPS_A_RUN,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestIncrementalEqualsClean = Archive.TestCase
