"""Tasks on every core: results in order, errors whole, dead workers reported."""

from __future__ import annotations

import os
import signal
from functools import partial

import pytest

from newsletter.errors import InputError, NewsletterError
from newsletter.parallel import cores, run


def where(number: int) -> tuple[int, int]:
    return number, os.getpid()


def test_results_in_order_and_work_is_shared() -> None:
    results = run([partial(where, n) for n in range(40)])
    assert [n for n, _ in results] == list(range(40))
    if cores() > 1:  # forked workers did the work, not this process
        assert os.getpid() not in {pid for _, pid in results}


def test_one_task_runs_here() -> None:
    assert run([partial(where, 7)]) == [(7, os.getpid())]


def test_progress_reaches_the_total() -> None:
    seen: list[tuple[int, int]] = []
    run([partial(where, n) for n in range(9)], lambda done, total: seen.append((done, total)))
    assert seen[-1] == (9, 9) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def fails() -> None:
    raise InputError("changed during the build", file="seeds/a.md", line=3)


def test_our_error_in_a_worker_arrives_whole() -> None:
    with pytest.raises(InputError) as caught:
        run([partial(where, 1), fails, partial(where, 2)])
    assert str(caught.value) == "seeds/a.md:3: changed during the build"


def dies() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.skipif(cores() < 2, reason="one core: tasks run in this process")
def test_a_worker_killed_is_an_error() -> None:
    with pytest.raises(NewsletterError, match="a worker process died"):
        run([partial(where, 1), dies, partial(where, 2)])
