"""What cron relies on: atomic, deterministic, incremental builds with meaningful exit codes."""

from __future__ import annotations

import datetime as dt
import gc
import os
import pty
import shutil
import signal
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import CORPUS, SEEDS

from newsletter.archive import read_archive
from newsletter.build import build
from newsletter.cache import Cache
from newsletter.config import Config
from newsletter.editions import LOADED_DAYS, make_editions
from newsletter.errors import InputError

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from make_archive import make  # noqa: E402

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def mtimes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSLETTER, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_exit_codes_and_quiet_success(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    first = run("build", cwd=tmp_path)
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout.count("\n") == 1 and "new edition 2024-11-19" in first.stdout
    again = run("build", cwd=tmp_path)
    assert again.returncode == 3 and "no new edition" in again.stdout and again.stderr == ""
    quiet = run("build", "--quiet", cwd=tmp_path)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (3, "", "")
    newer = (seeds / "000_ea7a9bed611c629f.txt").read_text().replace("2024-11-01", "2024-11-20")
    (seeds / "new.md").write_text(newer)
    assert run("build", cwd=tmp_path).returncode == 0
    (seeds / "bad.md").write_text("not a digest\n")
    broken = run("build", cwd=tmp_path)
    assert broken.returncode == 1 and "bad.md:1: error: not a digest" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_progress_bar_on_a_terminal_only(big_archive: Path, tmp_path: Path) -> None:
    """stderr on a terminal shows the rendering progress, to the end; cron sees none."""
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [NEWSLETTER, "build", "--no-cache", "--out", str(tmp_path / "out")],
        cwd=big_archive,
        stdout=subprocess.PIPE,
        stderr=follower,
    ) as process:
        os.close(follower)
        shown = b""
        with suppress(OSError):  # EIO once the build has closed the terminal
            while chunk := os.read(leader, 4096):
                shown += chunk
        os.close(leader)
        assert process.wait() == 0
    assert b"rendering" in shown and b"100%" in shown
    assert (
        b"rendering"
        not in run(
            "build", "--no-cache", "--out", str(tmp_path / "x"), cwd=big_archive
        ).stderr.encode()
    )


def test_days_are_read_back_even_if_the_cache_goes_away(tmp_path: Path) -> None:
    """A build holds outlines and reads a day's papers back when it renders that day."""
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    expected = read_archive(str(seeds)).digests
    archive = read_archive(str(seeds), Cache(tmp_path / "cache"))
    assert len(list((tmp_path / "cache" / "parsed").iterdir())) == 2 * len(expected)
    shutil.rmtree(tmp_path / "cache")  # the user may delete it at any time
    assert archive.digests == expected
    (seeds / "2025-04-11.md").write_text("## Daily Papers (2025-04-11)\n")
    with pytest.raises(InputError, match=r"2025-04-11\.md: changed during the build"):
        archive.digest(archive.days[-1])


def test_a_build_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    """The archive is frozen out of the collector only while a build runs, even one that
    stops: a process that builds again and again must not keep it frozen."""
    for strict in (False, True):
        try:
            build(Config(), seeds=str(CORPUS), out=str(tmp_path / "out"), strict=strict)
        except InputError:
            assert strict
        assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_build_keeps_few_days_in_memory() -> None:
    editions = make_editions(read_archive(str(CORPUS)))
    for day in editions.days:
        assert editions.day(day).papers
    assert len(editions.loaded) == len(editions.days) < LOADED_DAYS
    many = replace(editions, days=editions.days * 5, loaded={})
    for index, day in enumerate(many.days):
        many.day(replace(day, date=day.date + dt.timedelta(days=1000 * index)))
    assert len(many.loaded) == LOADED_DAYS


def test_unchanged_files_are_not_rewritten(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    (seeds / "2025-04-11.md").rename(tmp_path / "later.md")
    assert run("build", cwd=tmp_path).returncode == 0
    out = tmp_path / "out"
    for path in out.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # as if written long ago
    before = mtimes(out)
    assert run("build", cwd=tmp_path).returncode == 3
    assert mtimes(out) == before
    (tmp_path / "later.md").rename(seeds / "2025-04-11.md")
    assert run("build", cwd=tmp_path).returncode == 0
    after = mtimes(out)
    rewritten = {path for path, stamp in after.items() if before.get(path) != stamp}
    assert "days/2025-04-11.html" in rewritten and "email/latest.eml" in rewritten
    assert "days/2024-07-19.html" not in rewritten and "email/2025-02-19.eml" not in rewritten
    assert len(rewritten) < len(after) / 3


def test_deleting_the_cache_changes_nothing(tmp_path: Path) -> None:
    shutil.copytree(CORPUS, tmp_path / "seeds")
    run("build", cwd=tmp_path)
    built = tree(tmp_path / "out")
    shutil.rmtree(tmp_path / ".newsletter-cache")
    assert run("build", cwd=tmp_path).returncode == 3
    assert tree(tmp_path / "out") == built
    fresh = run("build", "--no-cache", "--out", "fresh", cwd=tmp_path)
    assert fresh.returncode == 0 and tree(tmp_path / "fresh") == built


def test_the_cache_keeps_the_email_styles_of_the_current_templates_only(tmp_path: Path) -> None:
    shutil.copytree(CORPUS, tmp_path / "seeds")
    cache = tmp_path / ".newsletter-cache"
    run("build", cwd=tmp_path)
    first = sorted(cache.glob("inliner-*.pickle"))
    assert run("build", "--title", "Renamed", cwd=tmp_path).returncode == 0
    second = sorted(cache.glob("inliner-*.pickle"))
    assert len(first) == len(second) == 1 and first != second


def test_same_bytes_whatever_the_clock_locale_zone_hash_seed_or_file_order(tmp_path: Path) -> None:
    assert shutil.which("faketime"), "faketime is not installed (see README)"
    forward, backward = tmp_path / "a" / "seeds", tmp_path / "b" / "seeds"
    forward.mkdir(parents=True)
    backward.mkdir(parents=True)
    files = sorted(CORPUS.iterdir())
    for path in files:
        shutil.copy(path, forward / path.name)
    for path in reversed(files):  # another creation order, so another directory order
        shutil.copy(path, backward / path.name)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "TZ", "PYTHONHASH"))}
    settings = [
        ({"TZ": "UTC", "LC_ALL": "C", "PYTHONHASHSEED": "1"}, "2030-01-01 00:00:00"),
        (
            {"TZ": "America/Los_Angeles", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "4242"},
            "2001-06-15 23:59:59",
        ),
    ]
    trees = []
    for (env, clock), folder in zip(settings, (forward, backward), strict=True):
        result = subprocess.run(
            ["faketime", clock, NEWSLETTER, "build", "--no-cache"],
            cwd=folder.parent,
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        trees.append(tree(folder.parent / "out"))
    assert trees[0] == trees[1]


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    make(120, folder / "seeds")
    return folder


def _processes_in(folder: Path) -> list[int]:
    """Processes whose working folder is ``folder`` (a build's workers would be)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and Path(os.readlink(entry / "cwd")) == folder:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _no_stray_worker(folder: Path) -> bool:
    """A killed build's workers die with it: they would otherwise keep writing beside out/."""
    deadline = time.monotonic() + 0.3
    while _processes_in(folder) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not _processes_in(folder)


def test_sigkill_at_any_moment_leaves_the_previous_out_whole(big_archive: Path) -> None:
    work = big_archive
    assert (
        run("build", "--no-cache", "--title", "Renamed", "--out", "expected", cwd=work).returncode
        == 0
    )
    renamed = tree(work / "expected")
    shutil.rmtree(work / "expected")
    (work / ".expected.lock").unlink()
    start = time.monotonic()
    assert run("build", "--no-cache", cwd=work).returncode == 0
    duration = time.monotonic() - start
    previous = tree(work / "out")
    finished = killed = 0
    # Kill at moments spread over a whole build: start-up, parsing, rendering, the swap.
    for fraction in (0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2):
        process = subprocess.Popen(
            [NEWSLETTER, "build", "--no-cache", "--title", "Renamed"],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGKILL)
        code = process.wait()
        assert _no_stray_worker(work)
        now = tree(work / "out")
        if code == -signal.SIGKILL and now == previous:
            killed += 1
            continue
        # Killed after the swap, or finished: then out/ is the whole new tree, nothing less.
        assert now == renamed, f"killed at {fraction:.0%}: out/ is neither the old nor the new tree"
        finished += 1
        break
    assert finished <= 1 and killed >= 6
    # A build after the kills cleans up whatever the killed ones left beside out/.
    assert run("build", "--no-cache", cwd=work).returncode in (0, 3)
    assert sorted(p.name for p in work.iterdir()) == [".out.lock", "out", "seeds"]
