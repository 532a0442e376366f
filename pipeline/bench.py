"""`make bench`: what a user gets, with politeness on, beside what the CPU could do.

Pages look like real news pages (navigation, more-stories rails, comment threads, inline
scripts; 50-150 KiB each, `pipeline.demo_data`) and are served by a separate process from H
distinct loopback hosts (127.0.0.x), each answering after a configurable latency. Every cycle
runs with the default politeness (per_host_delay from the settings, 1 s) in a fresh process,
so its peak memory is its own. The bench prints:

* raw extraction: trafilatura alone, one process per core, on a sample of the same pages;
* end to end (fetch + extract + classify + store + outbox) on a CPU-bound set of feeds (many
  hosts, so politeness is not the limit), and its ratio to raw extraction (goal >= 0.8);
* on a politeness-bound set (few hosts, many articles each, the issue's 12 x 26 case) the
  politeness floor, the cycle's time and their ratio (goal <= 1.3), and the poll-to-post
  latency of its alerts with the relay woken by commits as in `compactwatch run`;
* peak memory of a cycle over 20 and over 200 feeds;
* the classifier's cost per article (`classifiers.timing`).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path

import yaml

from pipeline.demo_data.bench import bench_feeds, bench_site
from pipeline.extract import extract_article
from pipeline.localserver import LocalServer

_PLACEHOLDER = "http://bench.invalid"
_FIRST_HOST = 10  # hosts are 127.0.0.10, 127.0.0.11, ...
_MAX_HOSTS = 200


@dataclass(frozen=True)
class Scenario:
    """One set of feeds: `feeds` feeds of `articles` pages, spread round robin over `hosts`."""

    name: str
    feeds: int
    articles: int
    hosts: int
    latency: float

    def host_of(self, feed: int) -> int:
        return feed % self.hosts


# ---------------------------------------------------------------------- the site process
def _site(scenario: Scenario) -> dict[str, tuple[str, bytes]]:
    return bench_site(_PLACEHOLDER, scenario.feeds, scenario.articles)


def _serve(scenario: Scenario, out: Connection, stop: Event) -> None:
    """Child process: every host of the scenario, so serving does not compete for our GIL."""
    servers = [LocalServer(f"127.0.0.{_FIRST_HOST + h}") for h in range(scenario.hosts)]
    try:
        for path, (content_type, body) in _site(scenario).items():
            server = servers[scenario.host_of(int(path.split("/")[2]))]
            data = body.replace(_PLACEHOLDER.encode(), server.base_url.encode())
            server.route(path, body=data, content_type=content_type, delay=scenario.latency)
        out.send([s.base_url for s in servers])
        ready = time.process_time()
        stop.wait()
        out.send(time.process_time() - ready)  # CPU seconds spent serving
    finally:
        for server in servers:
            server.close()


@contextmanager
def serving(scenario: Scenario, cpu: dict[str, float] | None = None) -> Iterator[list[str]]:
    """Run the scenario's hosts in a child process; yield their base URLs.

    `cpu["server"]` receives the CPU seconds the server process spent serving."""
    if scenario.hosts > _MAX_HOSTS:
        raise ValueError(f"at most {_MAX_HOSTS} hosts")
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    stop = context.Event()
    process = context.Process(target=_serve, args=(scenario, send, stop), daemon=True)
    process.start()
    try:
        yield receive.recv()
    finally:
        stop.set()
        if cpu is not None and receive.poll(10):
            cpu["server"] = receive.recv()
        process.join(10)


def feeds_yaml(scenario: Scenario, bases: list[str]) -> list[dict]:
    """feeds.yaml entries: each feed on its host (bench_feeds gives the paths)."""
    entries = bench_feeds(_PLACEHOLDER, scenario.feeds)
    for index, entry in enumerate(entries):
        entry["url"] = entry["url"].replace(_PLACEHOLDER, bases[scenario.host_of(index)])
    return entries


# ---------------------------------------------------------------------- measurements
def _extract_one(item: tuple[bytes, str]) -> int:
    return len(extract_article(item[0], item[1]).text)


def raw_extraction_rate(pages: list[tuple[bytes, str]], workers: int) -> float:
    """Pages per second for trafilatura alone, one process per core."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        list(pool.map(_extract_one, pages[: workers * 2]))  # warm the workers up
        start = time.perf_counter()
        list(pool.map(_extract_one, pages, chunksize=4))
        return len(pages) / (time.perf_counter() - start)


def politeness_floor(scenario: Scenario, delay: float) -> float:
    """The least time politeness allows: the busiest host's requests, one `delay` apart
    (its feeds and their pages; hosts work in parallel), plus one answer's latency."""
    per_host = [0] * scenario.hosts
    for feed in range(scenario.feeds):
        per_host[scenario.host_of(feed)] += 1 + scenario.articles
    return (max(per_host) - 1) * delay + scenario.latency


def run_cycle(scenario: Scenario, bases: list[str], relay: bool) -> dict[str, float]:
    """Fresh process: one `once` cycle (politeness on), optionally with the relay of `run`."""
    from alerts.local_slack import LocalSlack
    from alerts.relay import SlackSender
    from alerts.slack import make_client
    from pipeline.runtime import Runtime, configure_logging
    from pipeline.settings import load_settings

    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp, LocalSlack() as slack:
        feeds_file = Path(tmp) / "feeds.yaml"
        feeds_file.write_text(yaml.safe_dump({"feeds": feeds_yaml(scenario, bases)}))
        settings = load_settings(
            database_url=f"sqlite:///{tmp}/bench.db",
            feeds=feeds_file,
            allow_private_networks=True,
            max_entries_per_feed=max(50, scenario.articles),
            log_level="WARNING",
        )
        runtime = Runtime.open(settings)
        sender = SlackSender(make_client("xoxb-bench", slack.api_url))
        loop = runtime.relay_loop(sender) if relay else None
        with runtime.orchestrator(on_commit=loop.wake if loop else None) as orchestrator:
            orchestrator.classify([("warm-up", "warm up the model")])
            for _ in orchestrator.cpu_pool.map(_warm, range(8)):  # start the worker processes
                pass
            if loop:
                loop.start()
            start, cpu_start = time.perf_counter(), time.process_time()
            summary = orchestrator.run_cycle(runtime.store.due_feeds())
            elapsed = time.perf_counter() - start
            main_cpu = time.process_time() - cpu_start
        result = {
            "articles": float(summary.new_articles),
            "elapsed": elapsed,
            "failed": float(summary.feeds_failed + len(summary.failures)),
            "delay": settings.per_host_delay,
            "main_cpu": main_cpu,
        }
        if loop:
            runtime.relay(sender, linger=60.0)  # what is left once the cycle is over
            loop.stop()
            result.update(_latencies(runtime))
        runtime.store.close()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {**result, "rss_main": own, "rss_worker": workers}


def _warm(_: int) -> None:
    time.sleep(0.05)


def _latencies(runtime) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Seconds from the poll that found each alerted article to its post in Slack."""
    polled = {row["name"]: row["last_success_at"] for row in runtime.store.feed_rows()}
    waits = []
    for alert in runtime.store.alerts(limit=100_000):
        if alert["kind"] != "article" or alert["sent_at"] is None:
            continue
        article = runtime.store.article(int(alert["article_id"]))
        when = polled.get(article.feed_name) if article else None
        if when is not None:
            sent = alert["sent_at"]
            sent = sent if sent.tzinfo else sent.replace(tzinfo=UTC)
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            waits.append((sent - when).total_seconds())
    if not waits:
        return {"alerts": 0.0}
    waits.sort()
    p95 = waits[min(len(waits) - 1, round(0.95 * (len(waits) - 1)))]
    return {"alerts": float(len(waits)), "p50": statistics.median(waits), "p95": p95}


def in_fresh_process(scenario: Scenario, relay: bool = False) -> dict[str, float]:
    cpu: dict[str, float] = {}
    with serving(scenario, cpu) as bases:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            result = pool.submit(run_cycle, scenario, bases, relay).result()
    return {**result, "server_cpu": cpu.get("server", float("nan"))}


def classification_line(pages: list[tuple[bytes, str]]) -> str:
    """`classify: X ms/article (N articles, mean chars C)` from classifiers.timing."""
    try:
        from classifiers.timing import time_classification
    except ImportError as error:
        return f"classify: unavailable ({error})"
    texts = [extract_article(body, url).text for body, url in pages]
    try:
        timing = time_classification([t for t in texts if t])
    except Exception as error:  # the model may be mid-retraining; say so, keep the bench
        return f"classify: unavailable ({type(error).__name__}: {error})"
    return (
        f"classify: {timing.ms_per_article:.1f} ms/article "
        f"({timing.articles} articles, mean chars {timing.mean_chars:.0f})"
    )


# ---------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=12, help="hosts of the politeness-bound run")
    parser.add_argument("--articles", type=int, default=26, help="articles per feed, politeness-bound run")
    parser.add_argument("--cpu-hosts", type=int, default=200, help="hosts (= feeds) of the CPU-bound run")
    parser.add_argument("--cpu-articles", type=int, default=3, help="articles per feed, CPU-bound run")
    parser.add_argument("--latency", type=float, default=0.05, help="server latency per answer, seconds")
    parser.add_argument("--raw-sample", type=int, default=400, help="pages timed for raw extraction")
    args = parser.parse_args()
    cores = os.cpu_count() or 2
    polite = Scenario("politeness-bound", args.hosts, args.articles, args.hosts, args.latency)
    cpu = Scenario("CPU-bound", args.cpu_hosts, args.cpu_articles, args.cpu_hosts, args.latency)
    small = Scenario("20 feeds", 20, args.cpu_articles, 20, args.latency)

    site = _site(cpu)
    pages = [(body, _PLACEHOLDER + path) for path, (ct, body) in site.items() if "html" in ct]
    sample = pages[:: max(1, len(pages) // args.raw_sample)][: args.raw_sample]
    kib = sum(len(b) for b, _ in pages) / 1024 / len(pages)
    sizes = sorted(len(b) / 1024 for b, _ in pages)
    print(
        f"pages: {len(pages)} news pages of {sizes[0]:.0f}-{sizes[-1]:.0f} KiB ({kib:.0f} KiB mean), "
        f"served with {args.latency:g} s latency; {cores} cores; load {_load()}"
    )
    raw = raw_extraction_rate(sample, cores)
    print(f"raw extraction (trafilatura, {cores} processes, {len(sample)} of the pages): {raw:7.1f} pages/s")
    print(classification_line(sample[:60]))

    run = in_fresh_process(cpu)
    rate = run["articles"] / run["elapsed"]
    floor = politeness_floor(cpu, run["delay"])
    print(
        f"end to end, {cpu.name} ({cpu.feeds} feeds on {cpu.hosts} hosts x {cpu.articles} articles, "
        f"per-host delay {run['delay']:g} s): {rate:7.1f} articles/s "
        f"({run['articles']:.0f} articles in {run['elapsed']:.1f} s; politeness floor {floor:.1f} s; "
        f"{run['failed']:.0f} feeds failed)"
    )
    print(f"ratio end-to-end / raw extraction: {rate / raw:.2f} (goal >= 0.8)")
    per = 1000 / run["articles"]
    print(
        f"CPU per article beside extraction: main process {run['main_cpu'] * per:.1f} ms "
        f"(fetching, feeds, store), page server {run['server_cpu'] * per:.1f} ms; "
        f"trafilatura alone {cores * 1000 / raw:.1f} ms"
    )
    big_memory = (run["rss_main"], run["rss_worker"])

    run = in_fresh_process(polite, relay=True)
    floor = politeness_floor(polite, run["delay"])
    print(
        f"{polite.name} cycle ({polite.feeds} feeds on {polite.hosts} hosts x {polite.articles} articles, "
        f"per-host delay {run['delay']:g} s): {run['elapsed']:.1f} s for {run['articles']:.0f} articles "
        f"({run['articles'] / run['elapsed']:.1f} articles/s); politeness floor {floor:.1f} s; "
        f"ratio {run['elapsed'] / floor:.2f} (goal <= 1.3)"
    )
    if run.get("alerts"):
        print(
            f"poll-to-post latency ({run['alerts']:.0f} alerts, relay woken on commit): "
            f"p50 {run['p50']:.1f} s, p95 {run['p95']:.1f} s"
        )
    else:
        print("poll-to-post latency: no alerts were posted")

    run = in_fresh_process(small)
    print(
        f"peak memory, {small.feeds} feeds: main {run['rss_main']:.0f} MiB, "
        f"largest worker {run['rss_worker']:.0f} MiB"
    )
    print(
        f"peak memory, {cpu.feeds} feeds: main {big_memory[0]:.0f} MiB, "
        f"largest worker {big_memory[1]:.0f} MiB"
    )
    print(f"load after the bench: {_load()} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


if __name__ == "__main__":
    main()
