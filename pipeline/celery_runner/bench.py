"""`make bench-scale`: articles/s of the Celery runner with 1, 2 and 4 worker processes.

The same loopback feed farm each time (one 127.0.0.x host per feed, every article page
answering after `--latency` seconds), a fresh PostgreSQL schema and fresh queue names per
run, and real `compactwatch worker` processes on RabbitMQ. The clock starts when the polls
are enqueued (workers are up and their models loaded) and stops when every article is
stored. Needs the PostgreSQL (`--pg`) and RabbitMQ (`--broker`) of the machine.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import yaml

from pipeline.celery_runner.app import QUEUES, app, configure
from pipeline.celery_runner.farm import FeedFarm
from pipeline.celery_runner.processes import enqueue_due_feeds
from pipeline.feeds_config import load_feeds
from pipeline.settings import load_settings
from pipeline.store import open_store

REPO = Path(__file__).resolve().parents[2]


def _worker(env: dict[str, str], processes: int, log: Path) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).with_name("compactwatch")), "worker", "--queues", "feeds,cpu"]
    return subprocess.Popen(
        [*command, "--concurrency", str(processes)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _wait(predicate, what: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:]
            raise SystemExit(f"bench-scale: gave up waiting for {what}\n{tail}")
        time.sleep(0.05)


def run_once(farm: FeedFarm, processes: int, pg: str, broker: str, tmp: Path) -> tuple[int, float]:
    """One measured run: (articles stored, seconds)."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = pg.replace("postgresql://", "postgresql+psycopg://", 1) + f"?options=-csearch_path%3D{schema}"
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": broker,
        "COMPACTWATCH_ENGINE": "celery",
        "COMPACTWATCH_CELERY_QUEUE_PREFIX": prefix,
        "COMPACTWATCH_FEEDS": str(tmp / "feeds.yaml"),
        "COMPACTWATCH_ROUTES": str(tmp / "no-routes.yaml"),
        "COMPACTWATCH_MODEL_DIR": os.environ.get("COMPACTWATCH_MODEL_DIR", str(REPO / "models")),
        "COMPACTWATCH_ALLOW_PRIVATE_NETWORKS": "true",
        "COMPACTWATCH_PER_HOST_DELAY": "0",
        "COMPACTWATCH_LOG_LEVEL": "WARNING",
    }
    settings = load_settings(
        database_url=url, celery_broker_url=broker, celery_queue_prefix=prefix, log_level="WARNING"
    )
    store = open_store(url)
    store.sync_feeds(load_feeds(tmp / "feeds.yaml"))
    log = tmp / f"worker-{processes}.log"
    worker = _worker({**env, "COMPACTWATCH_LOG_LEVEL": "INFO"}, processes, log)
    try:
        loaded = lambda: log.read_text(errors="replace").count("model loaded in worker process")  # noqa: E731
        _wait(lambda: loaded() >= processes, "the workers' models", worker, log, 120)
        configure(settings)
        start = time.perf_counter()
        enqueue_due_feeds(
            store,
            lambda name, token: app.send_task("compactwatch.poll_feed", args=(name, token), task_id=token),
        )
        total = len(farm.page_urls)
        _wait(lambda: store.count_articles() >= total, "every article", worker, log, 900)
        elapsed = time.perf_counter() - start
        return store.count_articles(), elapsed
    finally:
        _stop(worker)
        store.close()
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        with app.connection_for_write() as conn:
            channel = conn.channel()
            for queue in QUEUES:
                channel.queue_delete(f"{prefix}.{queue}")
            channel.exchange_delete(f"{prefix}.{QUEUES[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=8, help="feeds, each on its own 127.0.0.x host")
    parser.add_argument("--articles", type=int, default=10, help="articles per feed")
    parser.add_argument("--latency", type=float, default=0.25, help="seconds before each page answers")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts to compare")
    parser.add_argument(
        "--pg", default=os.environ.get("COMPACTWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument(
        "--broker", default=os.environ.get("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp_name, FeedFarm(args.feeds, args.articles, args.latency) as farm:
        tmp = Path(tmp_name)
        (tmp / "feeds.yaml").write_text(yaml.safe_dump({"feeds": farm.feed_entries()}))
        print(
            f"bench-scale: {args.feeds} feeds on {args.feeds} loopback hosts × {args.articles} articles, "
            f"{args.latency:g} s latency per page, {os.cpu_count()} cores, "
            f"broker {args.broker.split('@')[-1]}"
        )
        base = None
        for processes in counts:
            stored, seconds = run_once(farm, processes, args.pg, args.broker, tmp)
            rate = stored / seconds
            base = base or rate
            print(
                f"{processes} worker process{'es' if processes > 1 else '  '}: {rate:7.1f} articles/s "
                f"({stored} articles in {seconds:5.1f} s), speed-up ×{rate / base:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
