"""Run independent jobs on every core, in forked processes that share what is already loaded.

A build's rendering is hundreds of independent jobs over one large, read-only
archive. Forked workers see that archive without copying or pickling it; each
takes the next job from a shared counter, so a slow job (the feeds) does not
hold the others back, and only the jobs' small results travel back by pipe.
The calling process works too. Where ``fork`` is missing, or there is one
core, or too few jobs to be worth it, the jobs simply run in this process.
One long computation can also run in the background, beside such jobs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import cache, partial
from typing import Any, TypeVar, cast

from .errors import NewsletterError

T = TypeVar("T")
Progress = Callable[[int, int], None]  # told (jobs finished, jobs in all) as work goes on
MIN_JOBS = 4  # below this, forking costs more than it saves
PR_SET_PDEATHSIG = 1


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class _Counter:
    """The next job number, shared by forked processes."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.value = multiprocessing.RawValue("q", 0)
        self.lock = multiprocessing.Lock()

    def claim(self) -> int:
        with self.lock:
            index = int(self.value.value)
            self.value.value = index + 1
        return index

    def jobs(self) -> Iterator[int]:
        while (index := self.claim()) < self.count:
            yield index

    def finished(self) -> int:
        """Jobs claimed so far, a close enough measure of progress."""
        return min(int(self.value.value), self.count)

    def stop(self) -> None:
        with self.lock:
            self.value.value = self.count


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive a build that was killed: it would write into its folder."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is not None:
        with suppress(OSError, AttributeError):
            ctypes.CDLL(libc_name).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _worker(work: Callable[[], object], stop: Callable[[], None], pipe: int, parent: int) -> None:
    """The body of a forked worker: ``work()`` sent back by ``pipe``; never returns."""
    code = 0
    try:
        _die_with_parent(parent)
        payload = pickle.dumps(("done", work()))
    except BaseException as error:  # handed to the parent, which raises it
        stop()
        try:
            payload = pickle.dumps(("failed", error))
        except Exception:
            payload = pickle.dumps(("failed", NewsletterError(f"worker failed: {error!r}")))
    try:
        with os.fdopen(pipe, "wb") as output:
            output.write(payload)
    except BaseException:
        code = 1
    os._exit(code)


def _collect(pid: int, pipe: int) -> tuple[str, Any]:
    with os.fdopen(pipe, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        code = os.waitstatus_to_exitcode(status)
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        return "failed", NewsletterError(f"a worker process {how}")
    kind, value = pickle.loads(data)
    return kind, value


def _fork(work: Callable[[], object], stop: Callable[[], None]) -> tuple[int, int]:
    """A worker doing ``work``: its pid, and the pipe its result comes back by."""
    read, write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _worker(work, stop, write, parent)
    os.close(write)
    return pid, read


def _results(job: Callable[[int], T], counter: _Counter) -> dict[int, T]:
    return {index: job(index) for index in counter.jobs()}


@contextmanager
def _forked(job: Callable[[int], T], counter: _Counter, workers: int) -> Iterator[list[Any]]:
    work = partial(_results, job, counter)
    children = [_fork(work, counter.stop) for _ in range(workers)]
    outcomes: list[Any] = []
    try:
        yield outcomes
    except BaseException:
        counter.stop()
        raise
    finally:
        outcomes.extend(_collect(pid, read) for pid, read in children)


def run_jobs(count: int, job: Callable[[int], T], done: Progress | None = None) -> list[T]:
    """``[job(0), …, job(count - 1)]``, computed on every core when that pays."""
    workers = cores() - 1 if hasattr(os, "fork") and count >= MIN_JOBS else 0
    try:
        counter = _Counter(count) if workers > 0 else None
    except OSError:  # no shared memory for the counter (/dev/shm missing): one process
        counter = None
    if counter is None:
        results = []
        for index in range(count):
            results.append(job(index))
            if done:
                done(index + 1, count)
        return results
    found: dict[int, T] = {}
    with _forked(job, counter, workers) as outcomes:
        for index in counter.jobs():
            found[index] = job(index)
            if done:
                done(counter.finished(), count)
    for kind, value in outcomes:
        if kind == "failed":
            raise value
        found.update(value)
    if done:
        done(count, count)
    return [found[index] for index in range(count)]


@contextmanager
def in_background(compute: Callable[[], T]) -> Iterator[Callable[[], T]]:
    """Start ``compute()`` in a forked process at once, so it runs alongside what this
    process does next; the block gets a function that waits for its result (raising its
    error, if it failed). A result never asked for is abandoned when the block ends.
    Where ``fork`` is missing, or there is one core, ``compute`` runs when first asked."""
    if not hasattr(os, "fork") or cores() < 2:
        yield cache(compute)
        return
    pid, read = _fork(compute, lambda: None)
    outcome: list[tuple[str, Any]] = []

    def result() -> T:
        if not outcome:
            outcome.append(_collect(pid, read))
        kind, value = outcome[0]
        if kind == "failed":
            raise value
        return cast(T, value)

    try:
        yield result
    finally:
        if not outcome:
            os.kill(pid, signal.SIGKILL)
            os.close(read)
            os.waitpid(pid, 0)
