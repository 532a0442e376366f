"""Child process for the kill-during-send test: one relay pass (it will be SIGKILLed)."""

from __future__ import annotations

import sys

from alerts.relay import SlackSender, relay_alerts
from alerts.slack import make_client
from pipeline.store import open_store

if __name__ == "__main__":
    database_url, api_url = sys.argv[1:3]
    store = open_store(database_url)
    relay_alerts(store, SlackSender(make_client("xoxb-test", api_url, timeout=300)), channel_interval=0.0)
