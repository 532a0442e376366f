"""Wiring: turn Settings into the objects a command needs (store, feeds, model, sender).

Commands, the scheduler, the demo and the benchmark all build their world here, so the
embedded default (SQLite, console alerts without a Slack token) is assembled in one place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

from alerts.feed_health import check_feed_health
from alerts.relay import AlertSender, ConsoleSender, RelayReport, SlackSender, relay_alerts
from alerts.routing import AlertsConfig, alert_targets, load_alerts_config
from alerts.slack import make_client
from pipeline.feeds_config import load_feeds
from pipeline.fetcher import FetchOptions
from pipeline.orchestrator import ChannelsFn, CycleOptions, Orchestrator, single_channel
from pipeline.records import FeedConfig
from pipeline.settings import Settings
from pipeline.store import Store, open_store

console = Console(stderr=False)
log = logging.getLogger("compactwatch")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(console=Console(stderr=True), show_path=False, markup=False)],
        force=True,
    )
    for noisy in ("apscheduler", "httpx", "httpcore", "trafilatura", "slack_sdk", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def fetch_options(settings: Settings) -> FetchOptions:
    """The guarded fetcher's limits, as configured."""
    return FetchOptions(
        timeout=settings.fetch_timeout,
        connect_timeout=settings.connect_timeout,
        max_bytes=settings.max_body_bytes,
        max_redirects=settings.max_redirects,
        user_agent=settings.user_agent,
        allow_private_networks=settings.allow_private_networks,
        per_host_delay=settings.per_host_delay,
    )


@dataclass
class Runtime:
    settings: Settings
    store: Store
    feeds: list[FeedConfig]

    @classmethod
    def open(cls, settings: Settings, *, feeds_file: Path | None = None) -> Runtime:
        store = open_store(settings.database_url)
        feeds = load_feeds(feeds_file or settings.feeds)
        store.sync_feeds(feeds)
        return cls(settings, store, feeds)

    def classifier(self):  # type: ignore[no-untyped-def]
        from classifiers.model import load_classifier

        return load_classifier(self.settings.model_dir)

    def alerts_config(self) -> AlertsConfig:
        """Routes from the routing file, or one route to SLACK_CHANNEL when there is none."""
        config = load_alerts_config(self.settings.routes, self.settings.slack_channel)
        if config.ops_channel is None:
            config = replace(config, ops_channel=self.settings.ops_channel or self.settings.slack_channel)
        return config

    def orchestrator(self, *, extract_in_processes: bool = True) -> Orchestrator:
        classifier = self.classifier()
        config = self.alerts_config()
        channels: ChannelsFn = alert_targets(config)  # type: ignore[assignment]
        if not self.settings.routes.exists() and self.settings.alert_min_relevance is not None:
            channels = single_channel(self.settings.slack_channel, self.settings.alert_min_relevance)
        return Orchestrator(
            self.store,
            classifier.classify,
            CycleOptions.from_settings(self.settings, fetch_options(self.settings)),
            channels,
            extract_in_processes=extract_in_processes,
            worker_model_dir=self.settings.model_dir,
        )

    def sender(self) -> AlertSender:
        token = self.settings.slack_bot_token
        if token is None or not token.get_secret_value():
            return ConsoleSender(console)
        return SlackSender(make_client(token.get_secret_value(), self.settings.slack_api_url))

    def relay(self, sender: AlertSender, *, channel_interval: float = 1.0) -> RelayReport:
        config = self.alerts_config()
        check_feed_health(self.store, config)
        return relay_alerts(
            self.store,
            sender,
            max_attempts=self.settings.alert_max_attempts,
            channel_interval=channel_interval,
            burst=config.burst,
        )

    def slack_mode(self) -> str:
        token = self.settings.slack_bot_token
        if token is None or not token.get_secret_value():
            return "console (no SLACK_BOT_TOKEN set: alerts are printed here and kept in the database)"
        return f"Slack {self.settings.slack_channel} via {self.settings.slack_api_url}"
