"""The configured app for Celery's own tools: `celery -A pipeline.celery_runner.celery_app inspect active`.

`compactwatch worker` configures the app itself; this module does the same from the
environment (CELERY_BROKER_URL, COMPACTWATCH_CELERY_QUEUE_PREFIX) for `celery inspect`,
`celery events` and Flower.
"""

from __future__ import annotations

from pipeline.celery_runner import tasks as _tasks  # noqa: F401  (registers the tasks)
from pipeline.celery_runner.app import configure
from pipeline.settings import load_settings

app = configure(load_settings())
