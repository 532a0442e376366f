"""The Celery application and its configuration, built from Settings.

Delivery is at least once and every task is idempotent, so a message is acknowledged only
after its task ran (`acks_late`) and is handed back to the broker when the worker process
dies under it (`reject_on_worker_lost`). Each worker process takes one message at a time
(prefetch 1): article tasks are long, and a prefetched message would wait behind them while
another worker sits idle.

Queues, named `<prefix>.<name>` so several deployments (or test runs) can share a broker:

    feeds   IO-bound: poll one feed, hand its new entries to `cpu`   (scale with concurrency)
    cpu     fetch + extract + classify + store one article            (scale with cores)
    relay   one pass of the alert relay
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from pipeline.settings import Settings

QUEUES = ("feeds", "cpu", "relay")
TASK_QUEUES = {
    "compactwatch.poll_feed": "feeds",
    "compactwatch.process_entry": "cpu",
    "compactwatch.relay": "relay",
}

app = Celery("compactwatch", include=["pipeline.celery_runner.tasks"])


def queue_name(settings: Settings, queue: str) -> str:
    return f"{settings.celery_queue_prefix}.{queue}"


def configure(settings: Settings) -> Celery:
    """Point the app at the configured broker and queues (every process does this once)."""
    queues = [Queue(queue_name(settings, q), routing_key=queue_name(settings, q)) for q in QUEUES]
    app.conf.update(
        broker_url=settings.celery_broker_url,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=10,
        broker_transport_options={"visibility_timeout": 3600},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_queues=queues,
        task_default_queue=queue_name(settings, "feeds"),
        task_routes={name: {"queue": queue_name(settings, q)} for name, q in TASK_QUEUES.items()},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
    )
    return app
