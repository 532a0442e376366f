"""Logs that fit where they go, and the one line a cycle leaves in them.

On a terminal people read Rich's coloured columns; in a file, journald or a log shipper
every record must be one line (no wrapping at 80 columns, URLs whole, tracebacks folded),
and `COMPACTWATCH_LOG_FORMAT=json` gives one JSON object per line. Each cycle is summed up
in one line an operator can grep, and a cycle in which no feed answered at all says the
likely cause (the machine is offline) instead of listing twenty DNS errors.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from datetime import UTC, datetime

from rich.logging import RichHandler

from pipeline.records import CycleSummary
from pipeline.sanitize import SafeConsole, escape_terminal

NOISY = ("apscheduler", "httpx", "httpcore", "trafilatura", "slack_sdk", "alembic", "uvicorn.error")
# Failure categories that mean "we never got an answer": when every feed fails this way,
# the network (not the feeds) is the likely problem.
UNREACHABLE = ("DNS", "connection", "timeout")


def _one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", " ⏎ ")


class PlainFormatter(logging.Formatter):
    """`2026-12-06 08:00:01 WARNING feed X: ...`: one record, one line, nothing cut."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        line = f"{when} {record.levelname} {record.getMessage()}"
        if record.exc_info:
            line += " | " + self.formatException(record.exc_info)
        return escape_terminal(_one_line(line))  # a feed's ESC sequence stays inert text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure(level: str, fmt: str = "auto") -> None:
    """Install one handler on stderr: Rich on a terminal (or `rich`), else plain or json."""
    if fmt == "auto":
        fmt = "rich" if sys.stderr.isatty() else "plain"
    handler: logging.Handler
    if fmt == "rich":
        handler = RichHandler(console=SafeConsole(stderr=True), show_path=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s", datefmt="[%X]"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter() if fmt == "json" else PlainFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def failure_category(reason: str) -> str:
    """A short family name for a feed failure, for counting (`DNS 6, timeout 2`)."""
    text = reason.lower()
    if "dns" in text or "name or service not known" in text or "getaddrinfo" in text:
        return "DNS"
    if "timed out" in text or "timeout" in text or "no time left" in text:
        return "timeout"
    if "could not connect" in text or "connection refused" in text or "connection reset" in text:
        return "connection"
    if "certificate" in text or "ssl" in text or "tls" in text:
        return "TLS"
    if "not a public address" in text or text.startswith("refused"):
        return "blocked"
    if text.startswith("http 429") or "slow down" in text:
        return "rate limited"
    if text.startswith("http "):
        return "HTTP " + text.split()[1][:3]
    if "not a feed" in text:
        return "not a feed"
    return "other"


def feeds_and_articles(summary: CycleSummary) -> str:
    """`12/20 feeds ok, 8 failed (DNS 6, timeout 2); 14 new, 3 relevant`."""
    fine = summary.feeds_ok + summary.feeds_unchanged
    total = fine + len(summary.failures)
    line = f"{fine}/{total} feeds ok"
    if summary.failures:
        kinds = Counter(failure_category(reason) for _, reason in summary.failures)
        detail = ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
        line += f", {len(summary.failures)} failed ({detail})"
    return f"{line}; {summary.new_articles} new, {summary.relevant} relevant"


def cycle_line(summary: CycleSummary, alerts_sent: int) -> str:
    """`12/20 feeds ok, 8 failed (DNS 6, timeout 2); 14 new, 3 relevant, 3 alerts sent`."""
    return f"{feeds_and_articles(summary)}, {alerts_sent} alert{'' if alerts_sent == 1 else 's'} sent"


def offline_warning(summary: CycleSummary) -> str | None:
    """The warning for a cycle in which no feed answered at all, else None."""
    total = summary.feeds_ok + summary.feeds_unchanged + len(summary.failures)
    if total == 0 or summary.feeds_ok or summary.feeds_unchanged:
        return None
    if not all(failure_category(reason) in UNREACHABLE for _, reason in summary.failures):
        return None
    return f"0/{total} feeds reachable: is this machine offline?"


def log_cycle(log: logging.Logger, summary: CycleSummary, alerts_sent: int) -> None:
    """The cycle's one summary line, and the offline warning when it applies."""
    log.info("cycle: %s", cycle_line(summary, alerts_sent))
    warning = offline_warning(summary)
    if warning:
        log.warning(warning)
