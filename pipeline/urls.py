"""Canonical URLs: one spelling per article, so the same link is stored and alerted once.

The same story reaches us as `https://Site.org:443/a?utm_source=x#top` from a newsletter
feed and `https://site.org/a` from the outlet's own feed. The canonical form lowercases the
scheme and host, drops default ports, fragments and tracking parameters, and sorts what
remains of the query, so both become one key. The path keeps its case (servers may treat
`/Article` and `/article` differently) and nothing here ever raises: a URL we cannot parse
is returned stripped, because a feed's odd link must not stop a cycle.

These helpers are syntactic only. Whether a host may be contacted (private addresses,
redirects) is decided by the guarded fetcher at connect time.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote, unquote, unquote_plus, urlsplit, urlunsplit

from courlan.clean import clean_query as _courlan_clean_query

HTTP_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Tracking parameters are recognised by courlan (installed with trafilatura), whose rules
# follow AdGuard's, ClearURLs' and Firefox's query-stripping lists (utm_*, fbclid, gclid,
# mc_*, pk_*, xtor, ref, ...). These are the ones news sites send that courlan does not
# know: the Guardian's CMP, Microsoft's ocid, the NYT's smid, HubSpot, comScore and AT
# Internet (the BBC's at_medium/at_campaign) families, and a few share/click ids.
EXTRA_TRACKING_PARAMS = frozenset(
    {
        "cmp", "cmpid", "ocid", "ncid", "smid", "icid", "ito", "mbid", "spm", "sr_share",
        "soc_src", "soc_trk", "wt_mc", "wt_zmc", "s_kwcid", "li_fat_id", "ttclid", "rb_clickid",
        "guccounter", "_hsenc", "_hsmi", "__twitter_impression",
    }
)  # fmt: skip
EXTRA_TRACKING_PREFIXES = ("ns_", "hsa_", "at_")

# Characters left alone when re-quoting a path or query: RFC 3986 reserved and unreserved
# characters plus '%' (existing escapes are normalised separately, never double-encoded).
_SAFE = "!#$&'()*+,/:;=?@[]~-._%"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


def is_http_url(url: object) -> bool:
    """True for an absolute http(s) URL with a host and a valid port.

    Feeds hand us `javascript:`, `feed://`, `file:///` and relative links, and those must
    never reach the fetcher, a Slack message or an `href`. Whitespace, control characters
    and backslashes are refused because browsers and servers disagree on how to read them.
    """
    if not isinstance(url, str):
        return False
    candidate = url.strip()
    if not candidate or _BAD_CHARS.search(candidate):
        return False
    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in HTTP_SCHEMES and bool(parts.hostname)


def canonicalize_url(url: str) -> str:
    """The canonical spelling of an article URL, used as its identity in the store.

    Non-http(s) or unparsable input is returned stripped and otherwise untouched: the
    caller decides what to do with it, this function never raises.
    """
    stripped = url.strip() if isinstance(url, str) else ""
    try:
        parts = urlsplit(stripped)
        scheme = parts.scheme.lower()
        if scheme not in HTTP_SCHEMES or not parts.hostname:
            return stripped
        port = parts.port
    except ValueError:
        return stripped
    host = _canonical_host(parts.hostname)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if userinfo:
        netloc = f"{userinfo}@{netloc}"
    path = _normalise_escapes(parts.path) or "/"
    query = _canonical_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def feed_url_key(url: str) -> str:
    """Identity of a feed URL, for spotting the same feed listed twice.

    Stricter than `canonicalize_url` about what counts as equal: the scheme is ignored
    (an OPML from an old reader lists `http://` for a feed now served over https) and a
    trailing slash on the path is dropped (`/feed/` and `/feed` are one WordPress feed).
    """
    canonical = canonicalize_url(url)
    try:
        parts = urlsplit(canonical)
    except ValueError:
        return canonical
    if parts.scheme not in HTTP_SCHEMES:
        return canonical
    path = parts.path.rstrip("/")
    return urlunsplit(("", parts.netloc, path, parts.query, ""))


def is_tracking_param(name: str) -> bool:
    """True when a query parameter name only tracks the click (compared case-insensitively)."""
    key = name.lower()
    if not key:
        return False
    return key in EXTRA_TRACKING_PARAMS or key.startswith(EXTRA_TRACKING_PREFIXES) or _courlan_tracker(key)


@lru_cache(maxsize=4096)
def _courlan_tracker(key: str) -> bool:
    """courlan's verdict on one parameter name: it drops trackers from a query it cleans."""
    try:
        return not _courlan_clean_query(f"{quote(key, safe='')}=1")
    except ValueError:  # courlan's language filter (not used here) signals with ValueError
        return False


def _canonical_host(hostname: str) -> str:
    """Lowercase, no trailing dot, IDNA (punycode) form when the name allows it."""
    host = hostname.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _normalise_escapes(component: str) -> str:
    """Percent-encode what must be encoded and spell existing escapes one way.

    `%7e` and `~`, `%c3%a9` and `é`, a raw space and `%20` are the same URL; without this
    the same article would get two canonical forms depending on which feed linked it.
    """
    quoted = quote(component, safe=_SAFE)

    def _fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    return _ESCAPE.sub(_fix, quoted)


def _canonical_query(query: str) -> str:
    """Drop tracking parameters and sort the rest by name.

    The sort is stable, so repeated parameters keep their relative order (`a=2&a=1` may
    mean something different from `a=1&a=2`); parameters are otherwise kept verbatim.
    """
    kept: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        raw_name = piece.split("=", 1)[0]
        try:
            name = unquote_plus(raw_name)
        except ValueError:
            name = unquote(raw_name)
        if is_tracking_param(name):
            continue
        kept.append((name, _normalise_escapes(piece)))
    kept.sort(key=lambda pair: pair[0])
    return "&".join(piece for _, piece in kept)
