"""Per-host scheduling of fetches: politeness without head-of-line blocking.

A plain thread pool gives each fetch a worker, and a worker whose host is not ready yet
(politeness delay, a 429 pause) sleeps while holding that slot, so a few pages of one host
stall every other host. `HostQueue` keeps one FIFO queue per host and a fixed set of workers
that only ever take work whose host is ready now: not busy (per-host concurrency 1) and past
its next allowed start in `HostPacing`. When no host is ready the workers wait, without a
task, until the earliest host becomes ready or new work arrives.

A `group` (the feed a page belongs to) can be limited to `group_limit` running tasks, so a
feed whose links lead to many hosts that never answer ties up some workers, never all.

Tasks marked `holds=True` (article pages) also take one of `max_held` slots that stays taken
after the task returns, until the caller releases it (when the page has been extracted). That
bounds the pages waiting in memory for the CPU stage, whatever the number of feeds.

The queue knows nothing about feeds or articles; it runs callables keyed by host.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

Release = Callable[[], None]
_IDLE_WAIT = 1.0  # longest wait without any event: a safety net, not a schedule


@dataclass
class _Task:
    fn: Callable[..., Any]
    future: Future[Any]
    holds: bool
    seq: int  # submission order, to serve ready hosts oldest-first
    group: object | None = None  # e.g. the feed a page belongs to, for `group_limit`


@dataclass
class _Host:
    tasks: deque[_Task] = field(default_factory=deque)
    busy: bool = False


class HostQueue:
    """A worker pool that runs at most one task per host at a time, never waiting on a host.

    `ready_at(host)` gives the clock time from which a host may be contacted (the fetcher's
    `HostPacing.ready_at`); the queue re-reads it after every task, so a 429 pause recorded by
    the fetcher delays that host's next task only. `clock` and `wait` are injectable so tests
    can drive the queue with a fake clock: `wait(condition, seconds)` is called to wait for a
    paced host and must release the lock held on `condition` while it waits (Condition.wait
    does); a fake advances its clock instead of sleeping.
    """

    def __init__(
        self,
        workers: int,
        ready_at: Callable[[str], float],
        *,
        max_held: int | None = None,
        group_limit: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[threading.Condition, float], object] | None = None,
        name: str = "fetch",
    ) -> None:
        if workers < 1:
            raise ValueError("a HostQueue needs at least one worker")
        self._ready_at = ready_at
        self._max_held = max_held
        self._clock = clock
        self._wait = wait or (lambda condition, seconds: condition.wait(min(seconds, _IDLE_WAIT)))
        self._cond = threading.Condition()
        self._hosts: dict[str, _Host] = {}
        self._held = 0
        self._group_limit = group_limit
        self._group_running: dict[object, int] = {}
        self._seq = 0
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    # ------------------------------------------------------------------ public
    def submit(
        self, host: str, fn: Callable[..., Any], *, holds: bool = False, group: object | None = None
    ) -> Future[Any]:
        """Queue `fn` behind earlier work for `host`; its result arrives in the returned Future.

        With `holds=True`, `fn` is called with a `release` callable and keeps one of the
        `max_held` slots until it (or a callback it registers) calls `release`; if `fn` raises
        the slot is released for it. At most `group_limit` tasks of one `group` run at once
        (queued ones wait without holding a worker). Cancelling the Future before the task
        starts drops it.
        """
        future: Future[Any] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the host queue is closed")
            self._seq += 1
            task = _Task(fn, future, holds, self._seq, group)
            self._hosts.setdefault(host, _Host()).tasks.append(task)
            self._cond.notify()
        return future

    def queued(self) -> int:
        """Tasks waiting (not started, not cancelled), for progress displays and tests."""
        with self._cond:
            return sum(not t.future.cancelled() for h in self._hosts.values() for t in h.tasks)

    def close(self) -> None:
        """Stop the workers after their current task; queued tasks are cancelled."""
        with self._cond:
            self._closed = True
            for host in self._hosts.values():
                for task in host.tasks:
                    task.future.cancel()
                host.tasks.clear()
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)

    # ------------------------------------------------------------------ workers
    def _release(self) -> None:
        with self._cond:
            self._held -= 1
            self._cond.notify_all()

    def _next(self) -> tuple[str, _Task] | None:
        """The oldest task of a ready host (called with the lock held), or None."""
        now = self._clock()
        best: tuple[str, _Task] | None = None
        for name, host in list(self._hosts.items()):
            while host.tasks and host.tasks[0].future.cancelled():
                host.tasks.popleft()
            if not host.tasks:
                if not host.busy:
                    del self._hosts[name]
                continue
            if host.busy or self._ready_at(name) > now:
                continue
            task = host.tasks[0]
            if task.holds and self._max_held is not None and self._held >= self._max_held:
                continue
            if self._group_full(task.group):
                continue
            # Among ready hosts: pages for the CPU stage first (while slots are free, so the
            # extraction processes start early instead of waiting for every feed's poll), then
            # the task queued first.
            if best is None or (not task.holds, task.seq) < (not best[1].holds, best[1].seq):
                best = (name, task)
        return best

    def _pause(self) -> float | None:
        """Seconds until the earliest paced host with work is ready (lock held), or None
        when no queued work is waiting on pacing (only on busy hosts, held slots, or none)."""
        now = self._clock()
        waits = [
            self._ready_at(name) - now for name, host in self._hosts.items() if host.tasks and not host.busy
        ]
        paced = [w for w in waits if w > 0]
        return min(paced) if paced else None

    def _work(self) -> None:
        while True:
            with self._cond:
                picked = self._next()
                while picked is None:
                    if self._closed:
                        return
                    pause = self._pause()
                    if pause is None:  # woken by new work, a finished task or a released slot
                        self._cond.wait(_IDLE_WAIT)
                    else:
                        self._wait(self._cond, pause)
                    picked = self._next()
                name, task = picked
                self._hosts[name].tasks.popleft()
                if not task.future.set_running_or_notify_cancel():
                    continue
                self._hosts[name].busy = True
                if task.holds:
                    self._held += 1
                if task.group is not None:
                    self._group_running[task.group] = self._group_running.get(task.group, 0) + 1
            self._run(task)
            with self._cond:
                self._hosts[name].busy = False
                if task.group is not None:
                    left = self._group_running.pop(task.group) - 1
                    if left:
                        self._group_running[task.group] = left
                self._cond.notify_all()

    def _group_full(self, group: object | None) -> bool:
        """True when `group` already runs `group_limit` tasks (lock held)."""
        if group is None or self._group_limit is None:
            return False
        return self._group_running.get(group, 0) >= self._group_limit

    def _run(self, task: _Task) -> None:
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                self._release()

        try:
            result = task.fn(release) if task.holds else task.fn()
        except BaseException as error:  # delivered to whoever waits on the future
            if task.holds:
                release()
            task.future.set_exception(error)
        else:
            task.future.set_result(result)
