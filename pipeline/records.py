"""Plain typed records passed between pipeline stages.

Every stage takes and returns these frozen dataclasses; none of them knows about the
database, the scheduler or the network. The store converts them to and from rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FeedConfig:
    """One entry of feeds.yaml, validated."""

    name: str
    url: str
    interval: int = 30  # minutes between polls
    tags: tuple[str, ...] = ()
    language: str = "en"
    enabled: bool = True
    conditional_get: bool = True
    max_entries: int = 50
    outlet: str | None = None  # the outlet's one name, when the feed sets `outlet:`


@dataclass(frozen=True)
class FeedState:
    """What the store remembers about a feed between polls (validators and health)."""

    feed_id: int
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    consecutive_failures: int = 0
    last_success_at: datetime | None = None


@dataclass(frozen=True)
class HttpResponse:
    """A fully read, size-capped response from the guarded fetcher."""

    url: str  # final URL after redirects
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float = 0.0


@dataclass(frozen=True)
class FeedEntry:
    """One item of a parsed feed, with untrusted text exactly as the feed gave it."""

    link: str
    title: str
    summary: str
    guid: str | None = None
    published: datetime | None = None
    author: str | None = None
    source: str | None = None  # the entry's <source> outlet (news-search feeds name one per item)


@dataclass(frozen=True)
class PollResult:
    """Outcome of polling one feed.

    `status` is one of: ok, not_modified, unchanged (same body hash), failed.
    `failure_kind` grades failures for backoff: hard (4xx other than 429, not a feed),
    soft (5xx, timeouts, network), rate_limited (429).
    """

    status: str
    entries: tuple[FeedEntry, ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    http_status: int | None = None
    error: str | None = None
    failure_kind: str | None = None
    retry_after: float | None = None  # seconds, already capped
    feed_title: str | None = None
    bozo: str | None = None  # name of a survivable parser warning, if any


@dataclass(frozen=True)
class FeedHealth:
    """Health fields written to the feed row after each poll."""

    status: str  # ok | failing | never_polled
    last_attempt_at: datetime
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    next_due_at: datetime


@dataclass(frozen=True)
class Extraction:
    """Main text and metadata extracted from an article page.

    `status` is one of: ok, fetch_failed, extract_failed, too_short, timeout, not_html,
    summary_only (no page fetched: the feed's own title and summary were used).
    """

    status: str
    title: str
    text: str
    author: str | None = None
    published: datetime | None = None
    site_name: str | None = None
    language: str | None = None
    detail: str | None = None  # why extraction fell back, for users


@dataclass(frozen=True)
class Fingerprint:
    """Keys used to find duplicates and near-duplicates of an article."""

    text_hash: str  # sha256 of normalised text: exact duplicates
    title_key: str  # normalised title
    simhash: int  # 64-bit near-duplicate fingerprint (signed for SQL storage)


@dataclass(frozen=True)
class FrameResult:
    """One frame's decision for one text."""

    present: bool
    score: float
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Classification:
    """The classifier's verdict on one text."""

    relevant: bool
    relevance: float
    pro_city_inclusion: FrameResult
    sovereignty_framing: FrameResult
    model_version: str
    language: str | None = None
    status: str = "ok"  # ok | empty_text | language_unsupported

    def as_output(self) -> dict[str, object]:
        """The stable JSON shape of `compactwatch classify`."""
        return {
            "relevant": self.relevant,
            "relevance": round(self.relevance, 4),
            "pro_city_inclusion": self.pro_city_inclusion.present,
            "pro_city_inclusion_score": round(self.pro_city_inclusion.score, 4),
            "sovereignty_framing": self.sovereignty_framing.present,
            "sovereignty_framing_score": round(self.sovereignty_framing.score, 4),
            "evidence": {
                name: list(frame.evidence)
                for name, frame in (
                    ("pro_city_inclusion", self.pro_city_inclusion),
                    ("sovereignty_framing", self.sovereignty_framing),
                )
                if frame.present and frame.evidence
            },
            "model_version": self.model_version,
            "language": self.language,
            "status": self.status,
        }


@dataclass(frozen=True)
class NewArticle:
    """Everything the orchestrator learned about one article, ready to store."""

    feed_id: int
    url: str  # original link from the feed
    canonical_url: str
    entry: FeedEntry
    extraction: Extraction
    fingerprint: Fingerprint
    classification: Classification


BLOCKED_ADDRESS = "blocked_address"  # extraction status: the page's address was refused


@dataclass(frozen=True)
class StoredArticle:
    """An article as read back from the store, for alerts, the digest and the UI."""

    id: int
    feed_id: int
    feed_name: str
    url: str
    canonical_url: str
    title: str
    text: str
    outlet: str | None
    published_at: datetime | None
    fetched_at: datetime
    language: str | None
    extraction_status: str
    relevant: bool
    relevance: float
    pro_city_inclusion: bool
    pro_city_inclusion_score: float
    sovereignty_framing: bool
    sovereignty_framing_score: float
    evidence: dict[str, list[str]] = field(default_factory=dict)
    model_version: str = ""
    duplicate_of: int | None = None
    story_id: int | None = None
    corrections: dict[str, bool] = field(default_factory=dict)  # analysts' latest values
    classification_status: str = "ok"
    extraction_detail: str | None = None

    @property
    def link_refused(self) -> bool:
        """The page fetch was refused as a private/internal address (extraction status
        `blocked_address`): alerts, the digest and the archive never link it."""
        return self.extraction_status == BLOCKED_ADDRESS

    def label(self, name: str) -> bool:
        """The label as users should see it: an analyst's correction wins over the model."""
        if name in self.corrections:
            return self.corrections[name]
        return bool(getattr(self, name))

    def is_corrected(self, name: str) -> bool:
        return name in self.corrections


@dataclass(frozen=True)
class AlertTarget:
    """One Slack channel an article should be announced in, decided by routing."""

    channel: str
    route: str = "default"
    not_before: datetime | None = None  # quiet hours: hold the message until then


@dataclass(frozen=True)
class AlertMessage:
    """An outbox row claimed by the relay, with the article it is about.

    kind: article (the story's first alert) | story_update (edit the first alert: "also in")
    | frame_reply (thread reply: a later copy changed the frames) | feed_warning |
    feed_recovered (ops messages; `payload` carries their text).
    """

    alert_id: int
    channel: str
    article: StoredArticle | None
    attempts: int
    kind: str = "article"
    story_id: int | None = None
    payload: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class CycleSummary:
    """What one polling cycle did, for the CLI summary table and logs."""

    feeds_ok: int = 0
    feeds_failed: int = 0
    feeds_unchanged: int = 0
    new_articles: int = 0
    duplicates: int = 0
    relevant: int = 0
    alerts_queued: int = 0
    alerts_sent: int = 0
    alerts_pending: int = 0
    failures: tuple[tuple[str, str], ...] = ()  # (feed name, reason)
