"""Benchmark `newsletter build` as whole processes: `python bench/run.py [--runs N]`.

For each scale (1x is about a year of days, the size of the real archive) it
makes a synthetic archive from the real sample, then reports the median wall
time over the runs, and the peak memory of the largest run, for:

* full:      a full build from an empty out/ and an empty cache;
* baseline:  the same build done the straightforward way (premailer on every
             email, no cache, one process), in the same run (1x only: it is slow);
* no change: a rebuild with nothing new (warm cache);
* new day:   a rebuild after one new day lands (warm cache).
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

NEWSLETTER = [sys.executable, "-m", "newsletter"]
BASELINE = [
    sys.executable,
    "-c",
    (
        "import os, sys; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "from newsletter.build import build; from newsletter.config import Config; "
        "from newsletter.inline import inline_with_premailer as p; "
        "build(Config(), seeds=sys.argv[1], out=sys.argv[2], inline=p)"
    ),
]


def timed(command: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak resident memory (MB) of one whole process (the largest of it
    and its workers: each worker is a process of its own)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 3):
        raise SystemExit(f"failed: {' '.join(command)}")
    return elapsed, usage.ru_maxrss // 1024


def measure(
    runs: int, prepare: Callable[[], None], command: list[str], cwd: Path
) -> tuple[float, int]:
    results = []
    for _ in range(runs):
        prepare()
        results.append(timed(command, cwd))
    return statistics.median(t for t, _ in results), max(m for _, m in results)


def scale(factor: int, runs: int, root: Path) -> list[tuple[str, float, int]]:
    work = root / f"{factor}x"
    seeds, spare = work / "seeds", work / "spare"
    days = make(360 * factor + 1, spare)
    newest = sorted(spare.iterdir())[-1]
    seeds.mkdir(parents=True)
    for path in sorted(spare.iterdir())[:-1]:
        path.rename(seeds / path.name)
    build = [*NEWSLETTER, "build", "--quiet"]

    def empty() -> None:
        shutil.rmtree(work / "out", ignore_errors=True)
        shutil.rmtree(work / ".newsletter-cache", ignore_errors=True)

    def without_new_day() -> None:
        (seeds / newest.name).unlink(missing_ok=True)
        subprocess.run(build, cwd=work, check=False, capture_output=True)

    def with_new_day() -> None:
        without_new_day()
        shutil.copy(newest, seeds / newest.name)

    rows = [(f"{factor}x full build ({days} papers)", *measure(runs, empty, build, work))]
    if factor == 1:
        baseline = [*BASELINE, str(seeds), str(work / "out")]
        rows.append(
            (f"{factor}x baseline: premailer per email", *measure(runs, empty, baseline, work))
        )
    subprocess.run(build, cwd=work, check=False, capture_output=True)
    rows.append((f"{factor}x no-change rebuild", *measure(runs, lambda: None, build, work)))
    rows.append((f"{factor}x one-new-day rebuild", *measure(runs, with_new_day, build, work)))
    sizes = {p.name: p.stat().st_size for p in (work / "out" / "feeds").iterdir()}
    print(
        f"{factor}x feed sizes: "
        + ", ".join(f"{k} {v // 1024} KB" for k, v in sorted(sizes.items()))
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scales", default="1,10")
    parser.add_argument(
        "--dir", help="where to make the archives and build (default: the system's temp folder)"
    )
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; median of {args.runs} runs"
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        for factor in (int(s) for s in args.scales.split(",")):
            for name, seconds, memory in scale(factor, args.runs, Path(folder)):
                print(f"{name:45s} {seconds:7.2f} s  {memory:5d} MB peak")


if __name__ == "__main__":
    main()
