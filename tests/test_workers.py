"""Work spread over forked processes: same results as one process, and failures come home."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from newsletter.errors import NewsletterError, OutputError
from newsletter.workers import MIN_JOBS, cores, in_background, run_jobs

pytestmark = pytest.mark.skipif(cores() < 2, reason="needs two cores to fork workers")
PARENT = os.getpid()


def slow(index: int) -> tuple[int, int]:
    """A job long enough that a worker forked after the start gets some too."""
    time.sleep(0.002)
    return index, os.getpid()


def test_results_in_order_and_work_is_shared() -> None:
    pids = run_jobs(200, slow)
    assert [i for i, _ in pids] == list(range(200))
    assert len({pid for _, pid in pids}) == 2  # this process and a worker both took jobs


def test_few_jobs_stay_in_this_process() -> None:
    assert {pid for pid in run_jobs(MIN_JOBS - 1, lambda _: os.getpid())} == {PARENT}


def test_progress_reaches_the_total() -> None:
    seen: list[tuple[int, int]] = []
    run_jobs(50, lambda i: i, lambda done, total: seen.append((done, total)))
    assert seen[-1] == (50, 50)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_an_error_in_a_worker_is_raised_here() -> None:
    def job(index: int) -> int:
        if slow(index)[1] != PARENT:
            raise OutputError("cannot write: No space left on device", file="out/x.html")
        return index

    with pytest.raises(OutputError) as caught:
        run_jobs(100, job)
    assert str(caught.value) == "out/x.html: cannot write: No space left on device"


def test_a_worker_killed_is_an_error() -> None:
    def job(index: int) -> int:
        if slow(index)[1] != PARENT:
            os.kill(os.getpid(), signal.SIGKILL)
        return index

    with pytest.raises(NewsletterError, match="killed by signal 9"):
        run_jobs(100, job)


def _wait_for(path: Path) -> str:
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return path.read_text()


def test_background_work_starts_at_once_in_another_process(tmp_path: Path) -> None:
    runs = tmp_path / "runs"

    def work() -> int:
        with runs.open("a") as log:
            log.write(f"{os.getpid()}\n")
        return os.getpid()

    with in_background(work) as result:
        started = _wait_for(runs)  # before anyone asks for the result
        pid = result()
    assert pid != PARENT
    assert result() == pid
    assert started == runs.read_text() == f"{pid}\n"  # ran once, though asked twice


def test_background_error_is_raised_when_asked() -> None:
    def work() -> None:
        raise OutputError("cannot write: Read-only file system", file="cache/x")

    with in_background(work) as result, pytest.raises(OutputError, match="Read-only"):
        result()


def test_background_work_never_asked_for_is_stopped(tmp_path: Path) -> None:
    started = tmp_path / "pid"

    def work() -> None:
        started.write_text(str(os.getpid()))
        time.sleep(60)

    with in_background(work):
        pid = int(_wait_for(started))
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left running
        os.kill(pid, 0)
