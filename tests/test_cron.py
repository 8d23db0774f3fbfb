"""What cron relies on: atomic, deterministic, incremental builds with meaningful exit codes."""

from __future__ import annotations

import gc
import os
import pty
import shutil
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest
from conftest import CORPUS, SEEDS, unwarned

from newsletter.archive import LOADED_FILES, Papers, read_archive
from newsletter.build import build
from newsletter.cache import Cache
from newsletter.config import Config
from newsletter.errors import InputError
from newsletter.render import Theme

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
    assert (first.returncode, unwarned(first.stderr)) == (0, "")
    assert first.stdout.count("\n") == 1 and "new edition 2024-11-19" in first.stdout
    again = run("build", cwd=tmp_path)
    assert (
        again.returncode == 3 and "no new edition" in again.stdout and unwarned(again.stderr) == ""
    )
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
    """A build holds outlines and reads a day's papers back when it renders that day: from
    the checked cache entry, or by parsing the file again if it is still what was listed."""
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    expected = [day.papers for day in read_archive(str(seeds))[0].days]
    archive, _ = read_archive(str(seeds), Cache(tmp_path / "cache"), code="x")
    assert len(list((tmp_path / "cache" / "parsed").iterdir())) == len(expected)
    shutil.rmtree(tmp_path / "cache")  # the user may delete it at any time
    assert [day.papers for day in archive.days] == expected
    archive, _ = read_archive(str(seeds), Cache(tmp_path / "cache"), code="x")
    shutil.rmtree(tmp_path / "cache")
    (seeds / "2025-04-11.md").write_text("## Daily Papers (2025-04-11)\n")
    with pytest.raises(InputError, match=r"2025-04-11\.md: changed during the build"):
        assert archive.days[-1].papers


def test_a_build_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    """The archive is frozen out of the collector only while a build runs, even one that
    stops: a process that builds again and again must not keep it frozen."""
    for strict in (False, True):
        try:
            build(Config(), seeds=str(CORPUS), out=str(tmp_path / "out"), strict=strict)
        except InputError:
            assert strict
        assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_build_keeps_few_files_in_memory(tmp_path: Path) -> None:
    make(LOADED_FILES + 8, tmp_path / "seeds")
    archive, _ = read_archive(str(tmp_path / "seeds"), Cache(tmp_path / "cache"), code="x")
    loader = archive.days[0].load
    assert isinstance(loader, Papers) and not loader.memory  # all in the cache
    assert all(day.papers for day in archive.days)
    assert len(archive.days) > LOADED_FILES == len(loader.loaded)


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
    cache = tmp_path / "cache"
    theme = tmp_path / "theme"
    theme.mkdir()
    build(Config(), seeds=str(CORPUS), out=str(tmp_path / "out"), cache_dir=str(cache))
    first = sorted(cache.glob("inliner-*"))
    (theme / "email.css").write_text(Theme().source("email.css") + ".lead { color: #000; }\n")
    build(
        Config(),
        seeds=str(CORPUS),
        out=str(tmp_path / "out"),
        cache_dir=str(cache),
        theme=Theme(theme),
    )
    second = sorted(cache.glob("inliner-*"))
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
    """A killed build's workers die with it: they would otherwise keep writing beside out/.
    (The kernel kills them at once; the limit only keeps a failure from hanging the suite.)"""
    deadline = time.monotonic() + 30
    while _processes_in(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _processes_in(folder)


# Runs the command with a hook that SIGKILLs the build at one chosen moment, the n-th time
# the hooked function is called in any of its processes.
KILLER = """
import os, pathlib, signal, sys
import newsletter.archive, newsletter.cache, newsletter.write
BUILD = os.getpid()
point, n, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
calls = [0]

def kill(function, before=True):
    def hooked(*a, **k):
        calls[0] += 1
        if before and calls[0] >= n:
            os.kill(BUILD, signal.SIGKILL)
        result = function(*a, **k)
        if not before and calls[0] >= n:
            os.kill(BUILD, signal.SIGKILL)
        return result
    return hooked

if point == "parse":
    newsletter.archive._read = kill(newsletter.archive._read)
elif point == "render":
    newsletter.write.Staging.put = kill(newsletter.write.Staging.put)
elif point == "swap":
    newsletter.write._swap_in = kill(newsletter.write._swap_in)
elif point == "swapped":
    newsletter.write._swap_in = kill(newsletter.write._swap_in, before=False)
elif point == "save":
    newsletter.cache.replace = kill(newsletter.cache.replace)
elif point == "renames":  # a file system without RENAME_EXCHANGE, killed between renames
    newsletter.write._exchange = lambda a, b: False
    pathlib.Path.rename = kill(pathlib.Path.rename, before=False)
sys.argv = ["newsletter", *args]
from newsletter.cli import main
main()
"""


@pytest.mark.parametrize(
    ("point", "n"),
    [
        ("parse", 3),
        ("render", 1),
        ("render", 150),
        ("swap", 1),
        ("swapped", 1),
        ("save", 1),
        ("save", 2),
        ("renames", 1),
    ],
)
def test_sigkill_at_any_moment_leaves_a_whole_out(big_archive: Path, point: str, n: int) -> None:
    """Killed at each stage, a build leaves the previous out/ or the new one, whole; its
    workers die with it; the next build cleans up and writes what a clean build writes."""
    work = big_archive
    expected = work / "expected"
    if not expected.exists():
        build(Config(title="Renamed"), seeds=str(work / "seeds"), out=str(expected))
    renamed = tree(expected)
    for leftover in (".newsletter-cache", "out", ".out.staging", ".out.staging.old"):
        shutil.rmtree(work / leftover, ignore_errors=True)
    assert run("build", cwd=work).returncode == 0
    previous = tree(work / "out")
    for day in (work / "seeds").iterdir():
        os.utime(day)  # every file is read again (and found unchanged)
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, point, str(n), "build", "--title", "Renamed"],
        cwd=work,
        capture_output=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _no_stray_worker(work)
    if point in ("swapped", "save"):
        assert tree(work / "out") == renamed
    elif point != "renames":  # there, out/ is gone until the next build puts it back
        assert tree(work / "out") == previous
    again = run("build", "--title", "Renamed", cwd=work)
    assert again.returncode in (0, 3), again.stderr
    assert tree(work / "out") == renamed
    assert sorted(p.name for p in work.iterdir()) == [
        ".expected.lock",
        ".newsletter-cache",
        ".out.lock",
        "expected",
        "out",
        "seeds",
    ]
    assert not [p for p in (work / ".newsletter-cache").rglob(".*")]  # no temporary file left
