"""Independent tasks on every core: the standard library's process pool, forked.

Forked workers see what this process has loaded (the archive's outline, the
outputs to render) without it being pickled; only each task's number goes to a
worker and only its small result comes back. Where ``fork`` is missing, or
there is one core, or one task, the tasks run in this process.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import TypeVar

from .errors import NewsletterError

T = TypeVar("T")
Progress = Callable[[int, int], None]  # told (tasks finished, tasks in all) as work goes on
PR_SET_PDEATHSIG = 1
CHUNKS_A_WORKER = 8

_tasks: Sequence[Callable[[], object]] = ()  # the tasks of the pool being run, for its workers


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _die_with(parent: int) -> None:
    """A worker must not outlive a build that was killed: it would write into its folder."""
    import ctypes
    import ctypes.util

    libc = ctypes.util.find_library("c")
    if libc is not None:
        with suppress(OSError, AttributeError):
            ctypes.CDLL(libc).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the build died before prctl took effect
        os._exit(1)


def _run(index: int) -> object:
    return _tasks[index]()


def run(tasks: Sequence[Callable[[], T]], progress: Progress | None = None) -> list[T]:
    """``[task() for task in tasks]``, on every core when that pays."""
    # Imported here: a build with nothing to do never needs them (30 ms).
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _tasks
    workers = min(cores(), len(tasks))
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        here = []
        for done, task in enumerate(tasks, start=1):
            here.append(task())
            if progress:
                progress(done, len(tasks))
        return here
    _tasks = tasks
    # Tasks go to the workers in chunks, a few dozen a core: one at a time, the pool's
    # queues cost 0.15 ms a task (400 small ones took 75 ms; chunked, 20 ms).
    chunk = max(1, len(tasks) // (workers * CHUNKS_A_WORKER))
    results: list[T] = []
    try:
        with ProcessPoolExecutor(
            workers, multiprocessing.get_context("fork"), _die_with, (os.getpid(),)
        ) as pool:
            try:
                for result in pool.map(_run, range(len(tasks)), chunksize=chunk):
                    results.append(result)  # type: ignore[arg-type]
                    if progress:
                        progress(len(results), len(tasks))
            except BaseException:
                pool.shutdown(cancel_futures=True)  # the first failure stops the rest
                raise
    except BrokenProcessPool:
        raise NewsletterError("a worker process died (killed, or out of memory)") from None
    finally:
        _tasks = ()
    return results
