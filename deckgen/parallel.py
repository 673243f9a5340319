"""Use both cores for the per-file work (parsing, validating, rendering) of big decks.

Small decks stay in one process: starting workers costs more than it saves below a few
hundred scenarios. Workers are forked, so they start at once with deckgen and the deck
already loaded (a fork server measured slower here and no smaller). Results come back in
input order, which keeps builds deterministic.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 300  # below this a deck is done in one process
MIN_BATCH = 32  # below this a batch is done here even when workers exist (they start on first use)


def workers() -> int:
    env = os.environ.get("DECKGEN_JOBS")
    if env and env.isdigit():
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive a build killed with kill -9: it would hold the build's stdout."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL) == 0:  # PR_SET_PDEATHSIG (Linux)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:  # elsewhere: notice the parent is gone within a second
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _start_worker(parent: int, setup: Callable[..., None], *args) -> None:
    _die_with_parent(parent)
    setup(*args)


def _nothing() -> None:
    return None


def _fork_pool(jobs: int, setup: Callable[..., None] = _nothing, args: tuple = ()) -> ProcessPoolExecutor | None:
    """Forked workers that die with this process and run ``setup(*args)`` first; None for one job
    or where fork is missing."""
    if jobs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(), setup, *args),
    )


class Mapper:
    """A pool kept open across batches (or none, for small inputs): ``with Mapper(...) as m``."""

    def __init__(self, setup: Callable[..., None], args: tuple, expected: int):
        self.setup, self.args = setup, args
        self.jobs = workers() if expected >= MIN_ITEMS else 1
        self.pool: ProcessPoolExecutor | None = None
        self.ready_here = False  # whether setup() has run in this process

    def __enter__(self) -> Mapper:
        self.pool = _fork_pool(self.jobs, self.setup, self.args)
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """In order; a short list (a warm build's few misses) is done here, not shipped out."""
        if self.pool is None or len(items) < MIN_BATCH:
            if not self.ready_here:
                self.setup(*self.args)
                self.ready_here = True
            return [func(item) for item in items]
        chunk = max(8, len(items) // (self.jobs * 4))
        return list(self.pool.map(func, items, chunksize=chunk))


def start(func: Callable[[T], R], items: Sequence[T], min_items: int, fork: bool = True) -> Callable[[], list[R]]:
    """Begin ``func`` over ``items`` in worker processes and return a function that waits for the results.

    For work the caller can overlap with its own (charts drawn while notes are rendered). Below
    ``min_items``, with ``fork`` false, or without fork or a second core, the work is done in
    this process when the results are asked for.
    """
    pool = _fork_pool(min(workers(), len(items))) if fork and len(items) >= min_items else None
    if pool is None:
        return lambda: [func(item) for item in items]
    futures = [pool.submit(func, item) for item in items]

    def results() -> list[R]:
        try:
            return [f.result() for f in futures]
        finally:
            pool.shutdown(cancel_futures=True)

    return results


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
