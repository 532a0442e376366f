"""The Celery runner against the real services: RabbitMQ (and Redis), PostgreSQL, real workers.

Workers, schedulers and relays are started as real processes (`compactwatch worker ...`),
articles come from a loopback feed farm (one 127.0.0.x host per feed) and alerts go to the
local Slack-API server. Each test gets its own PostgreSQL schema and its own queue names, so
concurrent runs never share work. Under CI=true a missing service fails the test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from alerts.local_slack import LocalSlack
from pipeline.celery_runner.app import QUEUES
from pipeline.celery_runner.farm import FeedFarm
from pipeline.store import Store, open_store
from pipeline.store.distributed import acquire_lease, lease_holder, release_lease
from pipeline.urls import canonicalize_url
from tests.conftest import REPO
from tests.factories import add_feed, stored_article

pytestmark = pytest.mark.postgres

COMPACTWATCH = str(Path(sys.executable).with_name("compactwatch"))
AMQP = "amqp://guest:guest@127.0.0.1:5672//"
REDIS = "redis://127.0.0.1:6379/0"
ROUTES = """alerts:
  burst: {max_messages: 1000, window_seconds: 60}
  routes:
    - name: everything
      channel: "#compact-alerts"
"""


def require_service(name: str, port: int) -> None:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=3).close()
    except OSError:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{name} is required under CI and is not reachable on 127.0.0.1:{port}")
        pytest.skip(f"{name} not reachable on 127.0.0.1:{port}")


class Proc:
    """A compactwatch process in its own process group, its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._log = log.open("wb")
        self.popen = subprocess.Popen(
            [COMPACTWATCH, *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill9(self) -> None:
        """kill -9 the process and its pool children at once (a machine losing power)."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        self._log.close()


@pytest.fixture
def procs() -> Iterator[Callable[..., Proc]]:
    started: list[Proc] = []
    counter = iter(range(1000))

    def start(args: list[str], env: dict[str, str], tmp: Path) -> Proc:
        proc = Proc(args, env, tmp / f"{args[0]}-{next(counter)}.log")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def wait_until(predicate: Callable[[], bool], what: str, *procs: Proc, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for proc in procs:
            if proc.popen.poll() is not None:
                pytest.fail(f"{proc.log_path.name} exited while waiting for {what}:\n{proc.log()[-3000:]}")
        time.sleep(0.2)
    logs = "\n".join(f"--- {p.log_path.name}\n{p.log()[-2500:]}" for p in procs)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def scale_env(db_url: str, broker: str, tmp: Path, slack: LocalSlack, prefix: str) -> dict[str, str]:
    routes = tmp / "alerts.yaml"
    routes.write_text(ROUTES)
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": broker,
        "COMPACTWATCH_ENGINE": "celery",
        "COMPACTWATCH_CELERY_QUEUE_PREFIX": prefix,
        "COMPACTWATCH_FEEDS": str(tmp / "feeds.yaml"),
        "COMPACTWATCH_ROUTES": str(routes),
        "COMPACTWATCH_MODEL_DIR": os.environ.get("COMPACTWATCH_MODEL_DIR", str(REPO / "models")),
        "COMPACTWATCH_ALLOW_PRIVATE_NETWORKS": "true",
        "COMPACTWATCH_PER_HOST_DELAY": "0",
        "COMPACTWATCH_RELAY_INTERVAL": "1",
        "COMPACTWATCH_LOG_LEVEL": "INFO",
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_URL": slack.api_url,
        "SLACK_CHANNEL": "#compact-alerts",
    }


@pytest.fixture
def prefix() -> Iterator[str]:
    """Queue names of this test only; the queues are deleted from both brokers afterwards."""
    name = f"cwtest-{uuid.uuid4().hex[:10]}"
    yield name
    queues = [f"{name}.{q}" for q in QUEUES]
    try:
        from kombu import Connection

        with Connection(AMQP, connect_timeout=3) as conn:
            channel = conn.channel()
            for queue in queues:
                channel.queue_delete(queue)
            channel.exchange_delete(queues[0])  # celery's default exchange is named after the first queue
    except Exception:
        pass
    try:
        import redis

        client = redis.Redis.from_url(REDIS, socket_timeout=3)
        client.delete(*queues, f"_kombu.binding.{queues[0]}", f"_kombu.binding_permanent.{queues[0]}")
    except Exception:
        pass


def write_feeds(tmp: Path, farm: FeedFarm) -> None:
    (tmp / "feeds.yaml").write_text(yaml.safe_dump({"feeds": farm.feed_entries()}))


def settled(store: Store, articles: int) -> Callable[[], bool]:
    """Every farm article stored and no alert left pending or in flight."""

    def check() -> bool:
        if store.count_articles() < articles:
            return False
        counts = store.alert_counts()
        return not (counts.get("pending", 0) or counts.get("sending", 0))

    return check


def assert_stored_once_and_alerted_once(store: Store, farm: FeedFarm, slack: LocalSlack) -> int:
    expected = {canonicalize_url(url) for url in farm.page_urls}
    assert store.count_articles() == len(expected)
    assert store.known_urls(expected) == expected
    rows = store.alerts(limit=10_000)
    assert {r["status"] for r in rows} <= {"sent"}, rows
    posted = Counter(
        (m.metadata or {}).get("event_payload", {}).get("alert_id") for m in slack.posts() if m.metadata
    )
    assert all(n == 1 for n in posted.values()), f"alerts posted more than once: {posted}"
    assert set(posted) == {r["id"] for r in rows if r["kind"] == "article"}
    return len(posted)


# ---------------------------------------------------------------------- fast checks, no broker
def test_a_feed_lease_is_held_by_one_token_until_released_or_expired(store: Store) -> None:
    now = datetime.now(UTC)
    assert acquire_lease(store, "feed:1", "first", seconds=60, now=now)
    assert not acquire_lease(store, "feed:1", "second", seconds=60, now=now + timedelta(seconds=1))
    assert acquire_lease(store, "feed:1", "first", seconds=60, now=now + timedelta(seconds=2))  # redelivered
    assert acquire_lease(store, "feed:1", "second", seconds=60, now=now + timedelta(seconds=63))  # expired
    assert not release_lease(store, "feed:1", "first")
    assert lease_holder(store, "feed:1", now=now + timedelta(seconds=64)) == "second"
    assert release_lease(store, "feed:1", "second")
    assert acquire_lease(store, "feed:1", "third", seconds=60, now=now + timedelta(seconds=65))


def test_celery_engine_with_a_sqlite_database_refuses_to_start_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "COMPACTWATCH_ENGINE": "celery", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    for command in (["worker"], ["run"]):  # `run` with ENGINE=celery is the scheduler
        done = subprocess.run([COMPACTWATCH, *command], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "needs PostgreSQL" in lines[0] and "SQLite" in lines[0], done.stderr


# ---------------------------------------------------------------------- real services
def test_a_cycle_on_celery_workers_stores_every_article_once_and_posts_every_alert_once(
    pg_url: str, tmp_path: Path, slack: LocalSlack, prefix: str, procs: Callable[..., Proc]
) -> None:
    require_service("RabbitMQ", 5672)
    store = open_store(pg_url)  # migrated before any process starts
    with FeedFarm(feeds=4, articles=5, latency=0.05) as farm:
        write_feeds(tmp_path, farm)
        env = scale_env(pg_url, AMQP, tmp_path, slack, prefix)
        worker = procs(["worker", "--queues", "feeds,cpu,relay", "--concurrency", "2"], env, tmp_path)
        scheduler = procs(["scheduler", "--tick", "0.5"], env, tmp_path)
        wait_until(settled(store, len(farm.page_urls)), "every article stored", worker, scheduler)
        time.sleep(1.5)  # one more relay tick and scheduler tick: nothing may be posted twice
        sent = assert_stored_once_and_alerted_once(store, farm, slack)
        assert sent > 0, "the farm's articles are about the compacts: some must alert"
        assert farm.page_requests() == len(farm.page_urls)  # each page fetched once
    # the model is loaded once per worker process, not per task
    assert worker.log().count("model loaded in worker process") == 2, worker.log()[-3000:]
    store.close()


def test_a_second_scheduler_is_refused_in_one_line(
    pg_url: str, tmp_path: Path, slack: LocalSlack, prefix: str, procs: Callable[..., Proc]
) -> None:
    require_service("RabbitMQ", 5672)
    open_store(pg_url).close()
    with FeedFarm(feeds=1, articles=1) as farm:
        write_feeds(tmp_path, farm)
        env = scale_env(pg_url, AMQP, tmp_path, slack, prefix)
        first = procs(["scheduler", "--tick", "1"], env, tmp_path)
        wait_until(lambda: "holding the scheduler lock" in first.log(), "the first scheduler", first)
        second = subprocess.run(
            [COMPACTWATCH, "scheduler"], env=env, capture_output=True, text=True, timeout=60
        )
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "another compactwatch scheduler is already running" in lines[0], second.stderr
    assert first.popen.poll() is None  # the first one carries on


def test_a_worker_killed_during_an_article_task_loses_nothing_and_duplicates_no_alert(
    pg_url: str, tmp_path: Path, slack: LocalSlack, prefix: str, procs: Callable[..., Proc]
) -> None:
    require_service("RabbitMQ", 5672)
    store = open_store(pg_url)
    with FeedFarm(feeds=2, articles=4, latency=0.05) as farm:
        slow = farm.page_urls[1]
        farm.slow_down(slow, 4.0)  # the task fetching this page is in flight for 4 s
        write_feeds(tmp_path, farm)
        env = scale_env(pg_url, AMQP, tmp_path, slack, prefix)
        first = procs(["worker", "--queues", "feeds,cpu", "--concurrency", "1"], env, tmp_path)
        relay = procs(["relay"], env, tmp_path)
        scheduler = procs(["scheduler", "--tick", "0.5"], env, tmp_path)
        wait_until(lambda: farm.page_requests(slow) >= 1, "the slow page's task", first, scheduler)
        first.kill9()
        assert canonicalize_url(slow) not in store.known_urls([canonicalize_url(slow)])
        second = procs(["worker", "--queues", "feeds,cpu", "--concurrency", "2"], env, tmp_path)
        wait_until(settled(store, len(farm.page_urls)), "every article stored", second, relay, scheduler)
        time.sleep(1.5)
        assert farm.page_requests(slow) >= 2  # the killed task was delivered again
        assert_stored_once_and_alerted_once(store, farm, slack)
    store.close()


def test_two_relays_running_at_once_post_each_alert_once(
    pg_url: str, tmp_path: Path, slack: LocalSlack, prefix: str, procs: Callable[..., Proc]
) -> None:
    store = open_store(pg_url)
    feed_id = add_feed(store, "https://news.example.org/feed")
    channels = ("#compact-alerts", "#cities-team", "#sovereignty-watch")
    for i in range(12):
        stored_article(store, feed_id, channels=(channels[i % 3],))
    assert store.alert_counts() == {"pending": 12}
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    env = scale_env(pg_url, AMQP, tmp_path, slack, prefix)
    relays = [procs(["relay"], env, tmp_path) for _ in range(2)]
    wait_until(lambda: store.alert_counts() == {"sent": 12}, "all alerts sent", *relays, timeout=60)
    posted = Counter(m.metadata["event_payload"]["alert_id"] for m in slack.posts() if m.metadata)
    assert len(posted) == 12 and set(posted.values()) == {1}, posted
    store.close()


def test_a_cycle_with_redis_as_the_broker_stores_and_alerts_once(
    pg_url: str, tmp_path: Path, slack: LocalSlack, prefix: str, procs: Callable[..., Proc]
) -> None:
    require_service("Redis", 6379)
    store = open_store(pg_url)
    with FeedFarm(feeds=2, articles=3, latency=0.05) as farm:
        write_feeds(tmp_path, farm)
        env = scale_env(pg_url, REDIS, tmp_path, slack, prefix)
        worker = procs(["worker", "--queues", "feeds,cpu,relay", "--concurrency", "2"], env, tmp_path)
        scheduler = procs(["scheduler", "--tick", "0.5"], env, tmp_path)
        wait_until(settled(store, len(farm.page_urls)), "every article stored", worker, scheduler)
        time.sleep(1.5)
        assert_stored_once_and_alerted_once(store, farm, slack)
    assert "Connected to redis://" in worker.log()  # the work really went through Redis
    store.close()


def test_an_entry_sent_to_a_worker_arrives_whole_including_its_source_outlet() -> None:
    import json

    from pipeline.celery_runner.tasks import entry_from_json, entry_to_json
    from pipeline.records import FeedEntry

    entry = FeedEntry(
        link="https://news.example.org/a",
        title="Mayors ask for a seat",
        summary="A letter from forty mayors.",
        guid="tag:news.example.org,2026:a",
        published=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        author="Lena Park",
        source="Common Ground Newsroom",
    )
    assert entry_from_json(json.loads(json.dumps(entry_to_json(entry)))) == entry
