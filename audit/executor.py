"""The one place that decides where work runs: :func:`make_executor` returns a
``concurrent.futures.Executor``. ``jobs=1`` runs everything in this process (no pickling,
easy to debug); more jobs use a process pool. A distributed executor (dask, ray...) can be
plugged in here without touching the stages that submit work.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, Callable

__all__ = ["CoreSlots", "InProcessExecutor", "ShardedExecutor", "default_jobs", "make_executor"]


class InProcessExecutor(Executor):
    """Runs each submitted call at once in the calling process."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as a pool would
            future.set_exception(exc)
        return future


class ShardedExecutor(Executor):
    """``jobs`` single-worker process pools, addressable one by one.

    ``submit_to(shard, fn, ...)`` runs ``fn`` in worker ``shard``; ``submit`` picks one in
    turn. The map sends a file to the same worker in each of its stages, so the worker that
    parsed a file still holds its tree when the rules run (re-parsing and re-indexing every
    file in the second stage cost about a quarter of the analysis)."""

    def __init__(self, pools: list[Executor]) -> None:
        self._pools = pools
        self._turn = 0

    @property
    def shards(self) -> int:
        return len(self._pools)

    def submit_to(self, shard: int, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._pools[shard % len(self._pools)].submit(fn, *args, **kwargs)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        self._turn += 1
        return self.submit_to(self._turn - 1, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for pool in self._pools:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def make_executor(jobs: int | None) -> Executor:
    """An executor for ``jobs`` parallel workers (None: all cores): in this process for one
    job, else a :class:`ShardedExecutor` of ``jobs`` worker processes."""
    jobs = default_jobs() if jobs is None else max(1, jobs)
    if jobs == 1:
        return InProcessExecutor()
    # forkserver: safe while the map's tool threads run (plain fork with threads can deadlock),
    # and cheap because the server preloads the analysis modules once.
    methods = multiprocessing.get_all_start_methods()
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file and not os.path.exists(main_file) and "fork" in methods:
        # A script read from stdin (or similar): forkserver/spawn would try to re-import
        # a main module that does not exist; fork needs no re-import.
        return _sharded(jobs, multiprocessing.get_context("fork"))
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["audit.mapping"])
    else:
        ctx = multiprocessing.get_context("spawn")
    return _sharded(jobs, ctx)


def _sharded(jobs: int, ctx: Any) -> ShardedExecutor:
    return ShardedExecutor([ProcessPoolExecutor(max_workers=1, mp_context=ctx) for _ in range(jobs)])


class CoreSlots:
    """How many processes the external tools may run at once, so that no more processes are
    runnable than there are cores: two processes sharing a core by turns both run slower (the
    map's own analysis took 18% more CPU time sharing a core with bandit than beside it).

    ``hold(n)`` waits for ``n`` slots (granted in order of request; a request for more slots
    than there will ever be is granted alone); ``set_capacity`` changes how many there are
    (the map gives the tools more when its own analysis is done)."""

    def __init__(self, capacity: int) -> None:
        import threading

        self._cond = threading.Condition()
        self._capacity = max(1, capacity)
        self._used = 0
        self._queue: list[int] = []
        self._tickets = 0

    def set_capacity(self, capacity: int) -> None:
        with self._cond:
            self._capacity = max(1, capacity)
            self._cond.notify_all()

    def hold(self, n: int = 1) -> "_Held":
        return _Held(self, max(1, n))

    def _acquire(self, n: int) -> None:
        with self._cond:
            ticket = self._tickets
            self._tickets += 1
            self._queue.append(ticket)
            while self._queue[0] != ticket or (self._used and self._used + n > self._capacity):
                self._cond.wait()
            self._queue.pop(0)
            self._used += n
            self._cond.notify_all()  # (the next in line may fit too)

    def _release(self, n: int) -> None:
        with self._cond:
            self._used -= n
            self._cond.notify_all()


class _Held:
    def __init__(self, slots: CoreSlots, n: int) -> None:
        self.slots, self.n = slots, n

    def __enter__(self) -> "_Held":
        self.slots._acquire(self.n)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.slots._release(self.n)
