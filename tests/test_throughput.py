"""Throughput a user actually gets: per-host politeness without head-of-line blocking, and
feed budgets that bound a cycle while keeping every good article.

The servers are real loopback servers on distinct 127.0.0.x addresses (distinct hosts for
politeness), the fetcher is the real guarded fetcher, the store is real SQLite. Pacing runs on
a fake clock where a test needs long delays, so nothing here asserts on wall-clock time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future

import pytest

from classifiers.baseline import keyword_labels
from pipeline.fetcher import FetchOptions, GuardedFetcher, HostPacing, host_key
from pipeline.hostqueue import HostQueue
from pipeline.localserver import LocalServer
from pipeline.orchestrator import CycleOptions, Orchestrator, single_channel
from pipeline.records import Classification, FeedConfig, FrameResult
from pipeline.store import Store
from tests.factories import CITY_STORY, add_feed, news_page, rss


def keyword_classify(pairs: Sequence[tuple[str, str]]) -> list[Classification]:
    """The keyword baseline as a classifier: cheap and deterministic, enough to route alerts."""
    out = []
    for title, text in pairs:
        labels = keyword_labels(title, text)
        out.append(
            Classification(
                relevant=labels["relevant"],
                relevance=1.0 if labels["relevant"] else 0.0,
                pro_city_inclusion=FrameResult(labels["pro_city_inclusion"], 0.0, ()),
                sovereignty_framing=FrameResult(labels["sovereignty_framing"], 0.0, ()),
                model_version="keyword-baseline",
                language="en",
            )
        )
    return out


class FakePacing(HostPacing):
    """Politeness on a fake clock: waiting for a paced host advances time instead of sleeping.

    Before jumping ahead it gives other threads a real moment to add work, so a host that is
    ready now is always preferred to jumping the clock for a paced one.
    """

    def __init__(self, delay: float) -> None:
        self.now = 1000.0
        super().__init__(delay, clock=lambda: self.now, sleep=self._advance)

    def _advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    def wait(self, condition: threading.Condition, seconds: float) -> None:
        if not condition.wait(0.2):
            self._advance(seconds)


@pytest.fixture
def hosts() -> Iterator[tuple[LocalServer, LocalServer]]:
    with LocalServer("127.0.0.2") as a, LocalServer("127.0.0.3") as b:
        yield a, b


def page(title: str) -> str:
    return news_page(title, CITY_STORY, ["Good to see the city speak up.", "About time."])


def paths(server: LocalServer) -> list[str]:
    return [r.path for r in server.requests]


def test_while_one_host_is_paced_another_hosts_article_is_fetched(
    hosts: tuple[LocalServer, LocalServer],
) -> None:
    a, b = hosts
    for server, name in ((a, "a1"), (a, "a2"), (b, "b1")):
        server.route(
            f"/{name}", body=page(f"Mayors and the migration compact ({name})"), content_type="text/html"
        )
    pacing = FakePacing(delay=60.0)
    fetcher = GuardedFetcher(FetchOptions(allow_private_networks=True, timeout=5.0), pacing=pacing)
    started: dict[str, float] = {}

    def fetch(url: str) -> None:
        started[url.rsplit("/", 1)[1]] = pacing.now
        fetcher.fetch(url)

    queue = HostQueue(1, pacing.ready_at, clock=pacing.clock, wait=pacing.wait)  # ONE worker
    try:
        futures: list[Future[None]] = [
            queue.submit(host_key(url), lambda url=url: fetch(url))
            for url in (a.url("/a1"), a.url("/a2"), b.url("/b1"))
        ]
        for future in futures:
            future.result(timeout=30)
    finally:
        queue.close()
        fetcher.close()
    # a2 was queued before b1, but host a was paced after a1: the single worker served b.
    assert sorted(started, key=started.__getitem__) == ["a1", "b1", "a2"]
    assert started["b1"] < started["a1"] + 60 <= started["a2"]
    assert paths(a) == ["/a1", "/a2"] and paths(b) == ["/b1"]


def test_a_cycle_fetches_other_hosts_while_one_host_is_paced(
    hosts: tuple[LocalServer, LocalServer], sqlite_store: Store
) -> None:
    a, b = hosts
    feeds = []
    for server, prefix, count in ((a, "a", 3), (b, "b", 3)):
        items = []
        for i in range(count):
            title = f"City council and the migration compact, {prefix}{i}"
            server.route(f"/{prefix}{i}", body=page(title), content_type="text/html")
            items.append((title, server.url(f"/{prefix}{i}"), "Summary."))
        server.route("/feed", body=rss(server.base_url, items), content_type="application/rss+xml")
        feeds.append(FeedConfig(name=f"Feed {prefix}", url=server.url("/feed")))
    sqlite_store.sync_feeds(feeds)
    pacing = FakePacing(delay=60.0)
    fetcher = GuardedFetcher(FetchOptions(allow_private_networks=True, timeout=5.0), pacing=pacing)
    options = CycleOptions(fetch=fetcher.options, workers=1, feed_budget=10_000, cycle_budget=10_000)
    with Orchestrator(
        sqlite_store, keyword_classify, options, single_channel("#alerts"), extract_in_processes=False,
        fetcher=fetcher,
    ) as orchestrator:  # fmt: skip
        summary = orchestrator.run_cycle(sqlite_store.due_feeds())
    assert summary.new_articles == 6
    # With one worker and 60 s between requests to a host, the two hosts' pages interleave:
    # neither host's queue waited for the other's pacing.
    order = [(server, r.path) for server in (a, b) for r in server.requests]
    assert len(order) == 8
    assert {r.path for r in a.requests} == {"/feed", "/a0", "/a1", "/a2"}
    # Politeness held: 4 requests per host need at least 3 delays on the fake clock, and the
    # whole cycle took no more than that (hosts in parallel), not 6 delays (hosts in turn).
    assert 3 * 60 <= pacing.now - 1000.0 < 4 * 60


def test_feed_with_hung_links_finishes_within_its_budget_and_keeps_its_good_articles(
    hosts: tuple[LocalServer, LocalServer], sqlite_store: Store
) -> None:
    a, _ = hosts
    items = []
    for i in range(3):
        title = f"Mayors seek a seat at the migration compact review, part {i}"
        a.route(f"/good{i}", body=page(title), content_type="text/html")
        items.append((title, a.url(f"/good{i}"), "Cities want a formal role."))
    for i in range(6):
        a.route(f"/hung{i}", hang=True)
        items.append((f"Story that never loads {i}", a.url(f"/hung{i}"), "The feed's own summary."))
    a.route("/feed", body=rss(a.base_url, items), content_type="application/rss+xml")
    add_feed(sqlite_store, a.url("/feed"), name="Hung links")
    options = CycleOptions(
        fetch=FetchOptions(allow_private_networks=True, timeout=60.0, connect_timeout=5.0),
        workers=4,
        feed_budget=2.0,
        cycle_budget=600.0,
    )
    done = []
    commits_with_alerts = []  # `run` wakes its relay here rather than waiting for its timer
    with Orchestrator(
        sqlite_store,
        keyword_classify,
        options,
        single_channel("#alerts"),
        extract_in_processes=False,
        on_commit=lambda: commits_with_alerts.append(len(sqlite_store.articles())),
    ) as orchestrator:
        summary = orchestrator.run_cycle(sqlite_store.due_feeds(), on_feed_done=done.append)
    assert summary.new_articles == 9 and summary.feeds_ok == 1
    [outcome] = done
    statuses = {a.url: a.extraction_status for a in sqlite_store.articles()}
    assert [statuses[a.url(f"/good{i}")] for i in range(3)] == ["ok"] * 3
    # The hung pages (one in flight, the rest queued behind it on the same host) were not
    # waited for past the budget: each fell back to the feed's summary, recorded as such.
    hung = [a for a in sqlite_store.articles() if "/hung" in a.url]
    assert len(hung) == 6 == outcome.over_budget
    assert {a.extraction_status for a in hung} == {"over_budget"}
    assert all("budget" in (a.extraction_detail or "") for a in hung)
    assert all(a.text == "The feed's own summary." for a in hung)
    # Every good article was classified from its page and committed, with its alert rows,
    # even though its feed hit the budget.
    assert summary.relevant == 3 and summary.alerts_queued >= 1
    # Each article with alerts woke the relay as soon as it was committed, before the feed's
    # remaining (hung) pages were given up on at the end of its budget.
    assert len(commits_with_alerts) == summary.alerts_queued
    assert commits_with_alerts[0] < 9


def test_feeds_not_polled_within_the_cycle_budget_stay_due(
    hosts: tuple[LocalServer, LocalServer], sqlite_store: Store
) -> None:
    a, _ = hosts
    a.route("/slow", hang=True)
    a.route("/feed2", body=rss(a.base_url, []), content_type="application/rss+xml")
    sqlite_store.sync_feeds(
        [
            FeedConfig(name="Slow feed", url=a.url("/slow")),
            FeedConfig(name="Second feed on the same host", url=a.url("/feed2")),
        ]
    )
    options = CycleOptions(
        fetch=FetchOptions(allow_private_networks=True, timeout=60.0, connect_timeout=5.0),
        workers=2,
        feed_budget=60.0,
        cycle_budget=1.5,
    )
    with Orchestrator(
        sqlite_store, keyword_classify, options, single_channel("#alerts"), extract_in_processes=False
    ) as orchestrator:
        summary = orchestrator.run_cycle(sqlite_store.due_feeds())
    reasons = dict(summary.failures)
    assert "budget" in reasons["Second feed on the same host"]
    assert "Second feed on the same host" in {f.name for f, _ in sqlite_store.due_feeds()}


def test_a_429_pauses_only_the_host_that_sent_it(hosts: tuple[LocalServer, LocalServer]) -> None:
    a, b = hosts
    a.route("/a1", status=429, headers={"Retry-After": "120"}, body="slow down")
    for server, name in ((a, "a2"), (b, "b1"), (b, "b2"), (b, "b3")):
        server.route(f"/{name}", body=page(f"Compact story {name}"), content_type="text/html")
    pacing = FakePacing(delay=1.0)
    fetcher = GuardedFetcher(FetchOptions(allow_private_networks=True, timeout=5.0), pacing=pacing)
    started: dict[str, float] = {}

    def fetch(url: str) -> int:
        started[url.rsplit("/", 1)[1]] = pacing.now
        return fetcher.fetch(url).status

    queue = HostQueue(1, pacing.ready_at, clock=pacing.clock, wait=pacing.wait)
    try:
        urls = [a.url("/a1"), a.url("/a2"), b.url("/b1"), b.url("/b2"), b.url("/b3")]
        futures = [queue.submit(host_key(url), lambda url=url: fetch(url)) for url in urls]
        statuses = [future.result(timeout=30) for future in futures]
    finally:
        queue.close()
        fetcher.close()
    assert statuses == [429, 200, 200, 200, 200]
    # Host a waits the 120 s it asked for; host b keeps its normal 1 s pace meanwhile.
    assert started["a2"] - started["a1"] >= 120
    assert started["b3"] - started["b1"] < 10
    assert max(started["b1"], started["b2"], started["b3"]) < started["a2"]


def test_one_host_never_gets_two_requests_at_once_even_with_idle_workers(
    hosts: tuple[LocalServer, LocalServer],
) -> None:
    a, _ = hosts
    active, peak, lock = [0], [0], threading.Lock()
    gate = threading.Event()

    def probe(_request: object) -> tuple[int, dict[str, str], bytes]:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        gate.wait(0.05)  # hold the request open a moment so overlaps would show
        with lock:
            active[0] -= 1
        return 200, {"Content-Type": "text/plain"}, b"ok"

    a.handler("/p", probe)
    fetcher = GuardedFetcher(FetchOptions(allow_private_networks=True, timeout=5.0))  # no delay at all
    queue = HostQueue(4, fetcher.pacing.ready_at)
    try:
        futures = [
            queue.submit(host_key(a.url("/p")), lambda n=n: fetcher.fetch(a.url(f"/p?n={n}")))
            for n in range(6)
        ]
        assert [f.result(timeout=30).status for f in futures] == [200] * 6
    finally:
        queue.close()
        fetcher.close()
    assert peak[0] == 1 and len(a.requests) == 6


def test_pages_held_for_extraction_are_bounded_whatever_the_number_of_hosts() -> None:
    holding: list[object] = []
    most = [0]
    lock = threading.Lock()
    queue = HostQueue(4, lambda _host: float("-inf"), max_held=3)

    def keep(release: object) -> None:
        with lock:
            holding.append(release)
            most[0] = max(most[0], len(holding))

    try:
        futures = [queue.submit(f"host{n}.example", keep, holds=True) for n in range(12)]
        released = 0
        while released < 12:
            with lock:
                batch, holding[:] = list(holding), []
            for release in batch:
                release()  # type: ignore[operator]
                released += 1
            threading.Event().wait(0.01)
        for future in futures:
            future.result(timeout=30)
    finally:
        queue.close()
    assert most[0] <= 3


def test_a_feed_linking_to_many_hung_hosts_leaves_fetch_workers_for_other_feeds(
    hosts: tuple[LocalServer, LocalServer], sqlite_store: Store
) -> None:
    a, b = hosts
    hung_hosts = [LocalServer(f"127.0.0.{10 + n}") for n in range(6)]
    try:
        for server in hung_hosts:
            server.route("/story", hang=True)
        hostile = [(f"Never loads {n}", s.url("/story"), "Its summary.") for n, s in enumerate(hung_hosts)]
        a.route("/feed", body=rss(a.base_url, hostile), content_type="application/rss+xml")
        good = []
        for i in range(3):
            title = f"Mayors and the migration compact review, report {i}"
            b.route(f"/g{i}", body=page(title), content_type="text/html")
            good.append((title, b.url(f"/g{i}"), "Summary."))
        b.route("/feed", body=rss(b.base_url, good), content_type="application/rss+xml")
        sqlite_store.sync_feeds(
            [FeedConfig(name="Hostile", url=a.url("/feed")), FeedConfig(name="Good", url=b.url("/feed"))]
        )
        options = CycleOptions(
            fetch=FetchOptions(allow_private_networks=True, timeout=60.0, connect_timeout=5.0),
            workers=4,
            feed_budget=3.0,
        )
        with Orchestrator(
            sqlite_store, keyword_classify, options, single_channel("#alerts"), extract_in_processes=False
        ) as orchestrator:
            orchestrator.run_cycle(sqlite_store.due_feeds())
    finally:
        for server in hung_hosts:
            server.close()
    statuses = {a.url: a.extraction_status for a in sqlite_store.articles()}
    # The hostile feed could tie up two of the four workers, never all of them, so the good
    # feed's pages were fetched within its budget...
    assert [statuses[b.url(f"/g{i}")] for i in range(3)] == ["ok"] * 3
    # ...while the hung pages fell back to their summaries when the hostile feed's budget ended.
    assert {statuses[s.url("/story")] for s in hung_hosts} == {"over_budget"}
