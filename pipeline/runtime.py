"""Wiring: turn Settings into the objects a command needs (store, feeds, model, sender).

Commands, the scheduler, the demo and the benchmark all build their world here, so the
embedded default (SQLite, console alerts without a Slack token) is assembled in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from alerts.feed_health import check_feed_health
from alerts.relay import AlertSender, ConsoleSender, RelayReport, SlackSender, relay_alerts
from alerts.relay_loop import RelayLoop, relay_until_done
from alerts.routing import AlertsConfig, alert_styles, alert_targets, load_alerts_config
from alerts.slack import make_client
from pipeline.feeds_config import load_feeds
from pipeline.fetcher import FetchOptions
from pipeline.orchestrator import ChannelsFn, CycleOptions, Orchestrator, single_channel
from pipeline.records import FeedConfig
from pipeline.sanitize import SafeConsole
from pipeline.settings import Settings
from pipeline.store import Store, open_store

# soft_wrap: printed lines are never broken at 80 columns when stdout is a pipe or a file
# (URLs and tokens stay whole); tables still fit the terminal, or 80 columns elsewhere.
# SafeConsole: text from feeds and pages in tables and alert lines cannot drive the terminal.
console = SafeConsole(stderr=False, soft_wrap=True)
log = logging.getLogger("compactwatch")


def configure_logging(level: str, fmt: str = "auto") -> None:
    """Rich on a terminal, plain one-line records elsewhere, or JSON (see pipeline.logs)."""
    from pipeline.logs import configure

    configure(level, fmt)


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
        store = open_store(settings.database_url, connect_timeout=settings.database_connect_timeout)
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

    def channels_for(self) -> ChannelsFn:
        """Which channels an article alerts: the routing file, or SLACK_CHANNEL above a bar."""
        channels: ChannelsFn = alert_targets(self.alerts_config())  # type: ignore[assignment]
        if not self.settings.routes.exists() and self.settings.alert_min_relevance is not None:
            channels = single_channel(self.settings.slack_channel, self.settings.alert_min_relevance)
        return channels

    def orchestrator(
        self, *, extract_in_processes: bool = True, on_commit: Callable[[], None] | None = None
    ) -> Orchestrator:
        """`on_commit` is called when an article with alerts is committed (wakes the relay)."""
        classifier = self.classifier()
        return Orchestrator(
            self.store,
            classifier.classify,
            replace(
                CycleOptions.from_settings(self.settings, fetch_options(self.settings)),
                outlets={f.name: f.outlet for f in self.feeds if f.outlet},
            ),
            self.channels_for(),
            extract_in_processes=extract_in_processes,
            worker_model_dir=self.settings.model_dir,
            on_commit=on_commit,
        )

    def sender(self) -> AlertSender:
        token = self.settings.slack_bot_token
        if token is None or not token.get_secret_value():
            return ConsoleSender(console)
        return SlackSender(make_client(token.get_secret_value(), self.settings.slack_api_url))

    def relay(
        self, sender: AlertSender, *, channel_interval: float = 1.0, linger: float = 0.0
    ) -> RelayReport:
        """Relay until nothing due is left (passes of 50; pacing and bursts still apply).

        `linger`: also wait up to this many seconds for alerts held back briefly (a 429).
        """
        config = self.alerts_config()
        check_feed_health(self.store, config)
        style = alert_styles(config, self.settings.archive_url)

        def one_pass(last_post: dict[str, float]) -> RelayReport:
            return relay_alerts(
                self.store,
                sender,
                max_attempts=self.settings.alert_max_attempts,
                channel_interval=channel_interval,
                burst=config.burst,
                style=style,
                last_post=last_post,
            )

        return relay_until_done(one_pass, self.store, linger=linger)

    def relay_loop(self, sender: AlertSender) -> RelayLoop:
        """The relay thread of `run`: every relay_interval seconds, and soon after `wake()`."""
        return RelayLoop(lambda: self.relay(sender), interval=self.settings.relay_interval)

    def slack_mode(self) -> str:
        token = self.settings.slack_bot_token
        if token is None or not token.get_secret_value():
            return "console (no SLACK_BOT_TOKEN set: alerts are printed here and kept in the database)"
        return f"Slack {self.settings.slack_channel} via {self.settings.slack_api_url}"
