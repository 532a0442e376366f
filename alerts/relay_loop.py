"""Relaying until the outbox is empty, and a relay thread that a committing cycle can wake.

One relay pass claims at most a batch of due messages (50). `relay_until_done` repeats passes
while they find work, so a cycle that queued 85 alerts gets all 85 out (individually or in
burst summaries; Slack's per-channel pacing carries across passes). When it may `linger`
(`once`), it also waits for messages due again within that time (a 429's Retry-After).

`RelayLoop` is the relay of `compactwatch run`: a thread that relays on a timer and, with a
short settle delay, whenever it is woken, which the orchestrator does when it commits an
article with alerts. Alerts thus leave seconds after their poll instead of waiting for the
next timer tick, and a burst of commits still arrives in one pass (and one summary).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from alerts.relay import RelayReport
from pipeline.store import Store

log = logging.getLogger("compactwatch")

RelayPass = Callable[[dict[str, float]], RelayReport]  # one pass, given the shared pacing table
_MAX_PASSES = 10_000  # a bound on a loop that new alerts could otherwise feed for ever


def relay_until_done(
    relay_pass: RelayPass,
    store: Store,
    *,
    linger: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RelayReport:
    """Run relay passes until one finds nothing due; the reports are added up.

    With `linger` > 0, messages rescheduled to fall due within `linger` seconds of the start
    (rate limits, a short outage) are waited for; later ones (quiet hours, long backoff) stay
    pending for the next run.
    """
    total = RelayReport()
    last_post: dict[str, float] = {}
    give_up = clock() + linger
    for _ in range(_MAX_PASSES):
        report = relay_pass(last_post)
        total = total + report
        if report.claimed:
            continue
        due = store.next_alert_due()
        if due is None or linger <= 0:
            break
        wait = (due - datetime.now(UTC)).total_seconds()
        if clock() + max(wait, 0.0) > give_up:
            break
        sleep(max(wait, 0.05))
    return total


class RelayLoop:
    """A relay thread: runs on a timer and soon after `wake()`; `stop()` ends it cleanly."""

    def __init__(
        self, relay: Callable[[], object], *, interval: float, settle: float = 2.0, name: str = "relay"
    ) -> None:
        self._relay = relay
        self._interval = interval
        self._settle = settle
        self._woken = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.passes = 0

    def start(self) -> RelayLoop:
        self._thread.start()
        return self

    def wake(self) -> None:
        """Relay soon (after the settle delay): a cycle just committed alerts."""
        self._woken.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._woken.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self._woken.wait(self._interval) and not self._stopping.is_set():
                # Let the rest of a burst of commits land, so it goes out as one pass.
                self._stopping.wait(self._settle)
            self._woken.clear()
            if self._stopping.is_set():
                return
            try:
                self._relay()
            except Exception:  # the relay records its own failures; a bug must not kill the loop
                log.exception("alert relay failed; retrying on the next tick")
            self.passes += 1
