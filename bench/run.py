"""Benchmark `newsletter build` as whole processes: `python bench/run.py [--runs N]`.

For each scale (1x is about a year of days, the size of the real archive) it
makes a synthetic archive from the real sample, then reports the median wall
time over the runs, and the peak memory of the largest run, for:

* full:      a full build from an empty out/ and an empty cache;
* baseline:  the same build done the straightforward way (premailer on every
             email, no cache, one process), in the same run (1x only: it is slow);
* no change: a rebuild with nothing new (warm cache);
* new day:   a rebuild after one new day lands (warm cache).

With ``--against REV`` every case is also measured with the code of git
revision REV, run for run in turn with this code, so that the machine's drift
affects both alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from make_archive import make

ROOT = Path(__file__).resolve().parent.parent
BASELINE = (
    "import os, sys; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
    "from newsletter.build import build; from newsletter.config import Config; "
    "from newsletter.inline import inline_with_premailer as p; "
    "build(Config(), seeds=sys.argv[1], out=sys.argv[2], inline=p)"
)
Result = tuple[float, int]  # seconds, peak MB


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> Result:
    """Wall seconds and peak resident memory (MB) of one whole process (the largest of it
    and its workers: each worker is a process of its own)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 3):
        raise SystemExit(f"failed: {' '.join(command)} in {cwd}")
    return elapsed, usage.ru_maxrss // 1024


class Version:
    """One version of the code, with an archive and an out/ of its own."""

    def __init__(self, name: str, source: Path, work: Path, spare: Path) -> None:
        self.name, self.work = name, work
        self.env = {**os.environ, "PYTHONPATH": str(source)}
        self.seeds = work / "seeds"
        shutil.copytree(spare, self.seeds, copy_function=shutil.copy2)
        self.newest = sorted(self.seeds.iterdir())[-1]
        self.held = work / self.newest.name
        shutil.move(self.newest, self.held)  # the day that lands in the new-day case

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "newsletter", *args]

    def build(self) -> list[str]:
        return self.command("build", "--quiet")

    def empty(self) -> None:
        shutil.rmtree(self.work / "out", ignore_errors=True)
        shutil.rmtree(self.work / ".newsletter-cache", ignore_errors=True)

    def without_new_day(self) -> None:
        self.newest.unlink(missing_ok=True)
        subprocess.run(self.build(), cwd=self.work, env=self.env, check=False, capture_output=True)

    def with_new_day(self) -> None:
        self.without_new_day()
        shutil.copy(self.held, self.newest)  # lands now, as cron sees it


def measure(runs: int, cases: list[tuple[Version, Callable[[], None], list[str]]]) -> list[Result]:
    """Each case ``runs`` times, the cases in turn, run after run; median time, peak memory."""
    found: list[list[Result]] = [[] for _ in cases]
    for _ in range(runs):
        for results, (version, prepare, command) in zip(found, cases, strict=True):
            prepare()
            results.append(timed(command, version.work, version.env))
    return [(statistics.median(t for t, _ in r), max(m for _, m in r)) for r in found]


def scale(factor: int, runs: int, root: Path, against: Path | None) -> None:
    spare = root / f"{factor}x-archive"
    papers = make(360 * factor + 1, spare)
    versions = [Version("this", ROOT, root / f"{factor}x-this", spare)]
    if against is not None:
        versions.append(Version("against", against, root / f"{factor}x-against", spare))

    def case(
        name: str, prepare: Callable[[Version], None], command: Callable[[Version], list[str]]
    ) -> None:
        results = measure(runs, [(v, lambda v=v: prepare(v), command(v)) for v in versions])
        print(f"{name:42s}" + "".join(f"{t:8.2f} s {m:5d} MB" for t, m in results), flush=True)

    print(
        f"\n{factor}x: {360 * factor + 1} days, {papers} papers; columns: "
        + ", ".join(v.name for v in versions)
    )
    case(f"{factor}x full build", Version.empty, Version.build)
    if factor == 1:
        case(
            f"{factor}x baseline: premailer per email",
            Version.empty,
            lambda v: [sys.executable, "-c", BASELINE, str(v.seeds), str(v.work / "out")],
        )
    for version in versions:
        version.without_new_day()
    case(f"{factor}x no-change rebuild", lambda v: None, Version.build)
    case(f"{factor}x one-new-day rebuild", Version.with_new_day, Version.build)
    for version in versions:
        sizes = {p.name: p.stat().st_size for p in (version.work / "out" / "feeds").iterdir()}
        print(
            f"{factor}x feed sizes ({version.name}): "
            + ", ".join(f"{k} {v // 1024} KB" for k, v in sorted(sizes.items()))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--against", metavar="REV", help="also measure git revision REV")
    parser.add_argument(
        "--dir", help="where to make the archives and build (default: the system's temp folder)"
    )
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; median of {args.runs} runs"
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        against = None
        if args.against:
            against = Path(folder) / "against"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(against), args.against],
                check=True,
                capture_output=True,
            )
            # Its own templates, where its package looks for them (an install would put them).
            shutil.copytree(against / "templates", against / "newsletter" / "templates")
        try:
            for factor in (int(s) for s in args.scales.split(",")):
                scale(factor, args.runs, Path(folder), against)
        finally:
            if against is not None:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(against)]
                )


if __name__ == "__main__":
    main()
