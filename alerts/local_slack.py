"""A small server on 127.0.0.1 speaking the part of Slack's Web API compactwatch uses.

The real slack-sdk client talks to it through `base_url`, so tests and `compactwatch demo`
exercise the real request/response path with no Slack workspace and no internet. It keeps
every message it accepted, and can be told to fail the next calls the ways Slack fails:
rate limits, server errors, API errors, and accepting a post but losing the response.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

VALID_TOKEN_PREFIX = "xoxb-"


@dataclass
class Failure:
    kind: str  # ratelimited | server_error | api_error | drop_after_accept | hang_after_accept
    code: str = ""
    retry_after: int = 1


@dataclass
class SlackMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)


class LocalSlack:
    """Context manager: `with LocalSlack() as slack: WebClient(base_url=slack.api_url)`."""

    def __init__(self, channels: tuple[str, ...] = ()) -> None:
        self.messages: list[SlackMessage] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.unknown_channels: set[str] = set()
        self.known_channels = set(channels)
        self._failures: dict[str, deque[Failure]] = {}
        self._lock = threading.Lock()
        self._counter = 0
        self.stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle --------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def __enter__(self) -> LocalSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    # -- scripting --------------------------------------------------------------------
    def fail_next(self, method: str, failure: Failure, times: int = 1) -> None:
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            for _ in range(times):
                queue.append(failure)

    def posts(self, channel: str | None = None) -> list[SlackMessage]:
        with self._lock:
            return [
                m for m in self.messages if m.thread_ts is None and (channel is None or m.channel == channel)
            ]

    def replies(self, ts: str) -> list[SlackMessage]:
        with self._lock:
            return [m for m in self.messages if m.thread_ts == ts]

    # -- API --------------------------------------------------------------------------
    def _next_failure(self, method: str) -> Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            return queue.popleft() if queue else None

    def _next_ts(self) -> str:
        with self._lock:
            self._counter += 1
            return f"{int(time.time())}.{self._counter:06d}"

    def _channel_error(self, channel: str) -> str | None:
        if not channel or channel in self.unknown_channels:
            return "channel_not_found"
        return None

    def handle(self, method: str, args: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
        """Answer one API call; returns (HTTP status, JSON body). Raises ConnectionAbortedError
        to simulate a response lost after the request was accepted."""
        with self._lock:
            self.calls.append((method, args))
        failure = self._next_failure(method)
        if failure and failure.kind == "ratelimited":
            return 429, {"ok": False, "error": "ratelimited", "_retry_after": failure.retry_after}
        if failure and failure.kind == "server_error":
            return 500, {"ok": False, "error": "internal_error"}
        if failure and failure.kind == "api_error":
            return 200, {"ok": False, "error": failure.code}
        if not token.startswith(VALID_TOKEN_PREFIX):
            return 200, {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return 200, {"ok": True, "team": "local", "user": "compactwatch", "bot_id": "B1"}
        if method == "chat.postMessage":
            channel = str(args.get("channel", ""))
            error = self._channel_error(channel)
            if error:
                return 200, {"ok": False, "error": error}
            message = SlackMessage(
                channel=channel,
                ts=self._next_ts(),
                text=str(args.get("text", "")),
                blocks=_as_list(args.get("blocks")),
                metadata=_as_dict(args.get("metadata")),
                thread_ts=args.get("thread_ts"),
            )
            with self._lock:
                self.messages.append(message)
            if failure and failure.kind == "drop_after_accept":
                raise ConnectionAbortedError("response lost after the post was accepted")
            if failure and failure.kind == "hang_after_accept":
                self.stopping.wait(120)  # the client (a relay about to be killed) waits forever
                raise ConnectionAbortedError("server shutting down")
            return 200, {"ok": True, "channel": channel, "ts": message.ts, "message": {}}
        if method == "chat.update":
            channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
            with self._lock:
                found = next((m for m in self.messages if m.ts == ts and m.channel == channel), None)
                if found is None:
                    return 200, {"ok": False, "error": "message_not_found"}
                found.updates.append({"text": args.get("text"), "blocks": _as_list(args.get("blocks"))})
                found.text = str(args.get("text", found.text))
                found.blocks = _as_list(args.get("blocks")) or found.blocks
            return 200, {"ok": True, "channel": channel, "ts": ts}
        if method == "conversations.history":
            channel = str(args.get("channel", ""))
            with self._lock:
                history = [
                    {"ts": m.ts, "text": m.text, "metadata": m.metadata}
                    for m in reversed(self.messages)
                    if m.channel == channel and m.thread_ts is None
                ]
            return 200, {"ok": True, "messages": history[: int(args.get("limit", 100))]}
        return 200, {"ok": False, "error": "unknown_method"}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        slack = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_POST(self) -> None:
                method = self.path.rsplit("/", 1)[-1]
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                args = _parse_args(raw, self.headers.get("Content-Type", ""))
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
                token = token or str(args.get("token", ""))
                try:
                    status, body = slack.handle(method, args, token)
                except ConnectionAbortedError:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                retry_after = body.pop("_retry_after", None)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                if retry_after is not None:
                    self.send_header("Retry-After", str(retry_after))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

        return Handler


def _parse_args(raw: bytes, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        try:
            value = json.loads(raw or b"{}")
            return value if isinstance(value, dict) else {}
        except ValueError:
            return {}
    return {key: values[-1] for key, values in parse_qs(raw.decode("utf-8", "replace")).items()}


def _as_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []


def _as_dict(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None
