"""`compactwatch scheduler | worker | relay`: the scale-out processes (registered by pipeline.cli).

Imported only when one of these commands runs, so the local default never loads Celery.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from pipeline.settings import Settings


def _settings() -> Settings:
    from pipeline.runtime import configure_logging
    from pipeline.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level)
    return settings


def scheduler(
    tick: Annotated[
        float, typer.Option(min=0.2, max=300, help="Seconds between two looks for due feeds.")
    ] = 5.0,
) -> None:
    """Scale-out: the one scheduler (enqueues due feeds, the relay tick, the weekly digest)."""
    from pipeline.celery_runner.processes import run_scheduler

    run_scheduler(_settings(), tick=tick)


def worker(
    queues: Annotated[
        str, typer.Option(help="Comma-separated queues: feeds (IO), cpu (extract+classify), relay.")
    ] = "feeds,cpu,relay",
    concurrency: Annotated[int, typer.Option(min=0, max=256, help="Pool processes (0: one per core).")] = 0,
) -> None:
    """Scale-out: a Celery worker for some queues (start as many as you like, on any machine)."""
    from pipeline.celery_runner.processes import parse_queues, run_worker

    run_worker(_settings(), parse_queues(queues), concurrency or os.cpu_count() or 1)


def relay(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
) -> None:
    """Scale-out: the alert relay as a process of its own (several never post one alert twice)."""
    from pipeline.celery_runner.processes import run_relay

    run_relay(_settings(), once=once)
