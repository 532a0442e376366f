"""Child process for the crash-safety test: run one cycle, then die by SIGKILL before the
relay runs (no cleanup, no atexit, exactly like an OOM kill or a power cut)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from pipeline.runtime import Runtime
from pipeline.settings import load_settings


def main() -> None:
    database_url, feeds_file, model_dir = sys.argv[1:4]
    settings = load_settings(
        database_url=database_url,
        feeds=Path(feeds_file),
        model_dir=Path(model_dir),
        allow_private_networks=True,
        per_host_delay=0.0,
    )
    runtime = Runtime.open(settings)
    orchestrator = runtime.orchestrator(extract_in_processes=False)
    summary = orchestrator.run_cycle(runtime.store.due_feeds())
    print(f"stored {summary.new_articles} queued {summary.alerts_queued}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    main()
