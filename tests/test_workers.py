"""Jobs spread over forked workers: same results as one process, and failures come home."""

from __future__ import annotations

import os
import signal
import time

import pytest

from newsletter.errors import NewsletterError, OutputError
from newsletter.workers import MIN_JOBS, cores, run_jobs

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
