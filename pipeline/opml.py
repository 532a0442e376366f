"""OPML import and export, so the feed list can move to and from other readers.

Import (`parse_opml`) reads OPML 1.0 and 2.0 as other readers write them: feeds are
`<outline xmlUrl=...>` elements, nested inside category outlines to any depth. Categories
are flattened into tags (outer to inner) because compactwatch routes alerts by tag, not by
folder. Outlines whose xmlUrl is not http(s) (`feed://`, `file:///`, `javascript:`) are
skipped and counted, never passed on to the fetcher.

An OPML file comes from outside, so it is parsed defensively: a size cap, no network, no DTD
loading, no entity resolution, and the DOCTYPE (where entity bombs and XXE live) removed
before lxml sees the document. Entity references that are not XML's five predefined ones are
kept as literal text, and a bare `&` (common in hand-made OPML: `?q=a&hl=en`) is read as the
character the author meant, not silently dropped as lxml's `recover` mode would.

Export (`export_opml`) writes OPML 2.0 with feeds grouped by their first tag, and keeps
compactwatch's own settings in a private namespace (as Miniflux and FreshRSS do), so that
export → import gives back the same FeedConfig list: other readers ignore the attributes.

`merge_feeds` adds imported feeds to an existing list, skipping feeds already present by
URL (scheme, host case, default port and trailing slash ignored) or by name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from lxml import etree

from pipeline.errors import ConfigError
from pipeline.feeds_config import ISO_639_1, NAME_MAX, feed_problem
from pipeline.records import FeedConfig
from pipeline.urls import feed_url_key, is_http_url

__all__ = [
    "CW_NS",
    "MAX_OPML_BYTES",
    "MergeResult",
    "OpmlFeeds",
    "export_opml",
    "merge_feeds",
    "parse_opml",
]

CW_NS = "https://example.org/compactwatch/opml"
MAX_OPML_BYTES = 5 * 1024 * 1024
MAX_OUTLINES = 20_000
_DEFAULTS = FeedConfig(name="", url="")
_XML_URL_ATTRS = ("xmlurl",)  # compared case-insensitively: OPML 1 files write xmlurl/xmlURL

_DOCTYPE_END = re.compile(rb"\]\s*>")
# "&" that does not start one of XML's predefined or numeric references.
_LOOSE_AMPERSAND = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class OpmlFeeds(list[FeedConfig]):
    """The feeds of one OPML document, plus what was skipped and why.

    A list, so callers that only want the feeds can ignore the rest; `merge_feeds` reads
    `skipped_invalid` to report one total.
    """

    def __init__(self, feeds: Iterable[FeedConfig] = (), skipped: Iterable[str] = ()) -> None:
        super().__init__(feeds)
        self.skipped: tuple[str, ...] = tuple(skipped)

    @property
    def skipped_invalid(self) -> int:
        """How many feed outlines were dropped (bad URL, bad compactwatch settings)."""
        return len(self.skipped)


@dataclass(frozen=True)
class MergeResult:
    """Existing feeds followed by the newly added ones, with counts for the CLI summary."""

    feeds: tuple[FeedConfig, ...]
    added: int
    skipped_duplicates: int
    skipped_invalid: int
    notes: tuple[str, ...] = ()  # one line per skipped feed, for `--verbose` output


# --- import ---------------------------------------------------------------------------------


def parse_opml(data: bytes, *, max_bytes: int = MAX_OPML_BYTES) -> OpmlFeeds:
    """Feeds listed in an OPML document; raises ConfigError if it is not usable OPML.

    Feed outlines with a non-http(s) URL or broken compactwatch settings are skipped and
    listed in `.skipped`; duplicates are kept (the merge decides what is a duplicate).
    """
    if len(data) > max_bytes:
        raise ConfigError(f"OPML file is larger than {max_bytes / 1048576:g} MiB; refusing to parse it")
    root = _parse_xml(data)
    if _local_name(root.tag) != "opml":
        raise ConfigError(f"not an OPML document (root element is <{_local_name(root.tag)}>)")
    body = next((child for child in root if _local_name(child.tag) == "body"), None)
    if body is None:
        raise ConfigError("OPML document has no <body>")

    feeds: list[FeedConfig] = []
    skipped: list[str] = []
    seen = 0
    # Depth-first, in document order, carrying the tags of the enclosing categories.
    stack: list[tuple[etree._Element, tuple[str, ...]]] = [(child, ()) for child in reversed(_outlines(body))]
    while stack:
        outline, category_tags = stack.pop()
        seen += 1
        if seen > MAX_OUTLINES:
            raise ConfigError(f"OPML document has more than {MAX_OUTLINES} outlines")
        url = _xml_url(outline)
        children = _outlines(outline)
        if url is not None:
            feed, problem = _feed_from_outline(outline, url, category_tags)
            if feed is not None:
                feeds.append(feed)
            else:
                skipped.append(problem or "invalid outline")
        inner_tags = category_tags
        if url is None and children:
            tag = _slug(_outline_title(outline))
            if tag and tag not in category_tags:
                inner_tags = (*category_tags, tag)
        stack.extend((child, inner_tags) for child in reversed(children))
    return OpmlFeeds(feeds, skipped)


def _parse_xml(data: bytes) -> etree._Element:
    cleaned = _LOOSE_AMPERSAND.sub(b"&amp;", _without_doctype(data))
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(cleaned, parser)
    except etree.XMLSyntaxError as exc:
        line = f" at line {exc.lineno}" if exc.lineno else ""
        message = " ".join(str(exc.msg or exc).split())
        raise ConfigError(f"OPML is not well-formed XML{line}: {message}") from None
    if root is None:
        raise ConfigError("OPML document is empty")
    return root


def _without_doctype(data: bytes) -> bytes:
    """`data` with its DOCTYPE declaration (and any internal subset) cut out.

    OPML has no DTD; a DOCTYPE in an imported file only ever carries entity declarations,
    which is where billion-laughs and XXE payloads live. A linear scan, not a regex with
    nested repetition, so a hostile unterminated DOCTYPE cannot cause backtracking.
    """
    start = data.find(b"<!DOCTYPE")
    if start < 0:
        return data
    close = data.find(b">", start)
    bracket = data.find(b"[", start)
    if bracket != -1 and (close == -1 or bracket < close):
        end = _DOCTYPE_END.search(data, bracket)
        if end is None:
            raise ConfigError("OPML has an unterminated DOCTYPE declaration")
        return data[:start] + data[end.end() :]
    if close == -1:
        raise ConfigError("OPML has an unterminated DOCTYPE declaration")
    return data[:start] + data[close + 1 :]


def _outlines(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str) and _local_name(child.tag) == "outline"]


def _local_name(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _xml_url(outline: etree._Element) -> str | None:
    for key, value in outline.attrib.items():
        if isinstance(key, str) and not key.startswith("{") and key.lower() in _XML_URL_ATTRS:
            return str(value).strip()
    return None


def _outline_title(outline: etree._Element) -> str:
    return _clean_text(outline.get("text") or outline.get("title") or "")


def _feed_from_outline(
    outline: etree._Element, url: str, category_tags: tuple[str, ...]
) -> tuple[FeedConfig | None, str | None]:
    """A validated FeedConfig, or None with the reason it was skipped."""
    title = _outline_title(outline)
    label = f"outline {title or url!r}"
    if not is_http_url(url):
        return None, f"{label}: xmlUrl {url[:200]!r} is not an http(s) URL"
    name = title or _host(url)
    if len(name) > NAME_MAX:
        name = name[: NAME_MAX - 1].rstrip() + "…"
    try:
        feed = FeedConfig(
            name=name,
            url=url,
            interval=_int_attr(outline, "interval", _DEFAULTS.interval),
            tags=_tags(outline, category_tags),
            language=_language(outline),
            enabled=_bool_attr(outline, "enabled", _DEFAULTS.enabled),
            conditional_get=_bool_attr(outline, "conditional_get", _DEFAULTS.conditional_get),
            max_entries=_int_attr(outline, "max_entries", _DEFAULTS.max_entries),
        )
    except ValueError as exc:
        return None, f"{label}: {exc}"
    problem = feed_problem(feed)
    if problem:
        return None, f"{label}: {problem}"
    return feed, None


def _cw(outline: etree._Element, key: str) -> str | None:
    value = outline.get(f"{{{CW_NS}}}{key}")
    return value.strip() if value is not None else None


def _int_attr(outline: etree._Element, key: str, default: int) -> int:
    raw = _cw(outline, key)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,6}", raw):
        raise ValueError(f"compactwatch:{key} must be a whole number (got {raw[:40]!r})")
    return int(raw)


def _bool_attr(outline: etree._Element, key: str, default: bool) -> bool:
    raw = _cw(outline, key)
    if raw is None:
        return default
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"compactwatch:{key} must be true or false (got {raw[:40]!r})")


def _tags(outline: etree._Element, category_tags: tuple[str, ...]) -> tuple[str, ...]:
    """compactwatch:tags when present (our own export), else categories from the structure.

    The OPML 2.0 `category` attribute ("/News/Migration,/UN") adds its path segments too.
    """
    own = _cw(outline, "tags")
    if own is not None:
        return tuple(dict.fromkeys(tag.strip() for tag in own.split(",") if tag.strip()))
    tags = list(category_tags)
    for path in (outline.get("category") or "").split(","):
        for segment in path.split("/"):
            tag = _slug(segment)
            if tag and tag not in tags:
                tags.append(tag)
    return tuple(tags)


def _language(outline: etree._Element) -> str:
    """compactwatch:language, else the standard `language` attribute's primary subtag."""
    own = _cw(outline, "language")
    if own is not None:
        return own.lower()
    standard = (outline.get("language") or "").strip().lower()
    primary = re.split(r"[-_]", standard, maxsplit=1)[0]
    return primary if primary in ISO_639_1 else _DEFAULTS.language


def _slug(text: str) -> str:
    """A category title as a tag: "Médias & Presse" → "medias-presse"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:40].rstrip("-")


def _clean_text(text: str) -> str:
    """Outline titles are untrusted: one line, no control characters."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


# --- merge ----------------------------------------------------------------------------------


def merge_feeds(existing: Sequence[FeedConfig], imported: Iterable[FeedConfig]) -> MergeResult:
    """Existing feeds unchanged, then each imported feed not already present.

    A feed is already present when its URL matches (see `urls.feed_url_key`) or its name
    matches case-insensitively: feeds.yaml requires both to be unique, so the merged list
    can be written back with `dump_feeds` as it is. Existing feeds win; like Miniflux, an
    import never changes settings of a feed that is already configured.
    """
    by_url = {feed_url_key(feed.url): feed for feed in existing}
    by_name = {feed.name.casefold(): feed for feed in existing}
    skipped_invalid = imported.skipped_invalid if isinstance(imported, OpmlFeeds) else 0
    notes: list[str] = list(imported.skipped) if isinstance(imported, OpmlFeeds) else []
    added: list[FeedConfig] = []
    duplicates = 0
    for feed in imported:
        problem = feed_problem(feed)
        if problem:
            skipped_invalid += 1
            notes.append(f"feed {feed.name!r}: {problem}")
            continue
        key = feed_url_key(feed.url)
        same = by_url.get(key) or by_name.get(feed.name.casefold())
        if same is not None:
            duplicates += 1
            notes.append(f"feed {feed.name!r} ({feed.url}) duplicates {same.name!r} ({same.url})")
            continue
        by_url[key] = feed
        by_name[feed.name.casefold()] = feed
        added.append(feed)
    return MergeResult(
        feeds=(*existing, *added),
        added=len(added),
        skipped_duplicates=duplicates,
        skipped_invalid=skipped_invalid,
        notes=tuple(notes),
    )


# --- export ---------------------------------------------------------------------------------


def export_opml(
    feeds: Iterable[FeedConfig], *, title: str = "compactwatch feeds", created: datetime | None = None
) -> str:
    """OPML 2.0 text: one category outline per first tag, untagged feeds at the top level.

    Every setting goes into compactwatch: attributes, including those equal to the default,
    so an import reproduces the feed exactly even if our defaults change later.
    """
    root = etree.Element("opml", version="2.0", nsmap={"compactwatch": CW_NS})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = _xml_safe(title)
    etree.SubElement(head, "dateCreated").text = format_datetime(created or datetime.now(UTC))
    body = etree.SubElement(root, "body")
    categories: dict[str, etree._Element] = {}
    for feed in feeds:
        parent = body
        if feed.tags:
            category = feed.tags[0]
            if category not in categories:
                categories[category] = etree.SubElement(body, "outline", text=category, title=category)
            parent = categories[category]
        _feed_outline(parent, feed)
    xml = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    return xml.decode("utf-8")


def _feed_outline(parent: etree._Element, feed: FeedConfig) -> None:
    outline = etree.SubElement(parent, "outline")
    outline.set("type", "rss")
    outline.set("text", _xml_safe(feed.name))
    outline.set("title", _xml_safe(feed.name))
    outline.set("xmlUrl", _xml_safe(feed.url))
    settings = {
        "interval": str(feed.interval),
        "language": feed.language,
        "tags": ",".join(feed.tags),
        "enabled": _bool_text(feed.enabled),
        "conditional_get": _bool_text(feed.conditional_get),
        "max_entries": str(feed.max_entries),
    }
    for key, value in settings.items():
        outline.set(f"{{{CW_NS}}}{key}", _xml_safe(value))


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (lxml would raise on them)."""
    return _XML_INVALID.sub("", text)
