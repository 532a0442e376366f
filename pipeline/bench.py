"""`make bench`: end-to-end articles/second beside the raw extraction rate, in one run.

Serves N feeds × M realistic news pages from a local server, measures trafilatura alone
over the same pages with a process per core (the ceiling: extraction is the CPU-bound
stage), then runs one real `once` cycle (fetch, extract, classify, store, outbox) and
reports articles/second end to end, the ratio of the two, and peak memory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path

import yaml

from pipeline.demo_data.bench import bench_feeds, bench_site
from pipeline.extract import extract_article
from pipeline.localserver import LocalServer
from pipeline.runtime import Runtime, configure_logging
from pipeline.settings import load_settings


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


def _serve(feeds: int, articles: int, port_out: Connection, stop: Event) -> None:
    """Child process: the bench site, so serving pages does not compete for our GIL."""
    with LocalServer() as server:
        for path, (content_type, body) in bench_site(server.base_url, feeds, articles).items():
            server.route(path, body=body, content_type=content_type)
        port_out.send(server.base_url)
        stop.wait()


def peak_memory_mib() -> tuple[float, float]:
    """(this process, largest child) peak resident memory in MiB (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--articles", type=int, default=25, help="articles per feed")
    args = parser.parse_args()
    workers = os.cpu_count() or 2
    configure_logging("WARNING")
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    stop = context.Event()
    server_process = context.Process(target=_serve, args=(args.feeds, args.articles, send, stop), daemon=True)
    server_process.start()
    base_url = receive.recv()
    try:
        run_bench(base_url, args.feeds, args.articles, workers)
    finally:
        stop.set()
        server_process.join(10)


def run_bench(base_url: str, feeds: int, articles: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = bench_site(base_url, feeds, articles)  # the same pages the server serves
        pages = [(body, base_url + path) for path, (ctype, body) in site.items() if "html" in ctype]
        total_kib = sum(len(b) for b, _ in pages) / 1024
        print(
            f"bench: {feeds} feeds × {articles} articles = {len(pages)} pages "
            f"({total_kib / max(1, len(pages)):.0f} KiB average), {workers} cores"
        )

        raw = raw_extraction_rate(pages, workers)

        feeds_file = Path(tmp) / "feeds.yaml"
        feeds_file.write_text(yaml.safe_dump({"feeds": bench_feeds(base_url, feeds)}))
        settings = load_settings(
            database_url=f"sqlite:///{tmp}/bench.db",
            feeds=feeds_file,
            allow_private_networks=True,
            per_host_delay=0.0,
            max_entries_per_feed=max(50, articles),
            workers=8,
            log_level="WARNING",
        )
        runtime = Runtime.open(settings)
        with runtime.orchestrator() as orchestrator:
            orchestrator.classify([("warm-up", "warm up the model")])
            start = time.perf_counter()
            summary = orchestrator.run_cycle(runtime.store.due_feeds())
            elapsed = time.perf_counter() - start
        end_to_end = summary.new_articles / elapsed
        own, child = peak_memory_mib()
        print(f"raw extraction (trafilatura, {workers} processes): {raw:8.1f} pages/s")
        print(
            f"end to end (fetch+extract+classify+store):    {end_to_end:8.1f} articles/s "
            f"({summary.new_articles} articles in {elapsed:.1f} s, {summary.feeds_failed} feeds failed)"
        )
        print(f"ratio end-to-end / raw extraction:            {end_to_end / raw:8.2f}")
        print(f"peak memory: main process {own:.0f} MiB, largest worker {child:.0f} MiB")


if __name__ == "__main__":
    main()
