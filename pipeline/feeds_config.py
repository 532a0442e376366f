"""feeds.yaml: load and validate the list of feeds, or write one back.

The file is edited by hand by the comms team, so a mistake must be reported once, on one
line, at the place it was made: `feeds.yaml:14: feed 'UN News': interval must be ...`.
Loading stops at the first problem (fail fast) rather than polling a half-understood list.

Line numbers come from `yaml.compose`: we walk the node tree and construct each value with
PyYAML's safe constructor, so values mean exactly what `yaml.safe_load` would make of them
(including YAML 1.1 surprises such as `language: no` becoming False, which we explain).
Keys repeated inside one mapping are errors, not "last one wins".

The same per-field checks validate feeds that come from an OPML import (`feed_problem`).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError
from pipeline.records import FeedConfig
from pipeline.urls import feed_url_key, is_http_url

__all__ = [
    "FEED_KEYS",
    "INTERVAL_MAX",
    "INTERVAL_MIN",
    "ISO_639_1",
    "MAX_ENTRIES_MAX",
    "NAME_MAX",
    "dump_feeds",
    "feed_problem",
    "load_feeds",
]

INTERVAL_MIN, INTERVAL_MAX = 5, 1440  # minutes: no hammering, at least daily
MAX_ENTRIES_MAX = 2000  # Media Cloud's per-fetch cap; a bigger feed is an archive dump
NAME_MAX = 120
URL_MAX = 2048
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_FILE_BYTES = 1024 * 1024

_DEFAULTS = FeedConfig(name="", url="")
FEED_KEYS = tuple(f.name for f in fields(FeedConfig))
REQUIRED_KEYS = ("name", "url")

_ISO_639_1_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy"
    " da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht"
    " hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky"
    " la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny"
    " oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss"
    " st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo"
    " za zh zu"
)
ISO_639_1 = frozenset(_ISO_639_1_CODES.split())
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class _Invalid(ValueError):
    """A field value was rejected; the message is the reason, without location."""


# --- field checks: each returns the cleaned value or raises _Invalid(reason) -------------


def _check_name(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f'name must be text (quote it: name: "{value}")')
    name = value.strip()
    if not name:
        raise _Invalid("name must not be empty")
    if _CONTROL.search(name):
        raise _Invalid("name must be a single line without control characters")
    if len(name) > NAME_MAX:
        raise _Invalid(f"name is longer than {NAME_MAX} characters")
    return name


def _check_outlet(value: Any) -> str | None:
    """`outlet:` names the outlet every article of the feed is filed under (one name)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(f'outlet must be text (quote it: outlet: "{value}")')
    outlet = value.strip()
    if not outlet:
        raise _Invalid("outlet must not be empty (leave the key out to use the pages' own site name)")
    if _CONTROL.search(outlet):
        raise _Invalid("outlet must be a single line without control characters")
    if len(outlet) > NAME_MAX:
        raise _Invalid(f"outlet is longer than {NAME_MAX} characters")
    return outlet


def _check_url(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("url must be text")
    url = value.strip()
    if not is_http_url(url):
        raise _Invalid(f"url must be an absolute http:// or https:// URL (got {url!r})")
    if len(url) > URL_MAX:
        raise _Invalid(f"url is longer than {URL_MAX} characters")
    return url


def _check_interval(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (INTERVAL_MIN <= value <= INTERVAL_MAX):
        raise _Invalid(
            f"interval must be a whole number of minutes between {INTERVAL_MIN} and "
            f"{INTERVAL_MAX} (got {value!r})"
        )
    return value


def _check_tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise _Invalid(f"tags must be a list such as [un, press] (got {value!r})")
    tags: list[str] = []
    for tag in value:
        if not isinstance(tag, str) or not TAG_PATTERN.match(tag):
            raise _Invalid(
                f"tag {tag!r} must be 1-40 lowercase letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _check_language(value: Any) -> str:
    if isinstance(value, bool):
        raise _Invalid(
            "language must be an ISO 639-1 code; YAML read this value as true/false, "
            'quote it (language: "no")'
        )
    if not isinstance(value, str) or value.strip().lower() not in ISO_639_1:
        raise _Invalid(f"language must be a two-letter ISO 639-1 code such as 'en' (got {value!r})")
    return value.strip().lower()


def _check_bool(key: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise _Invalid(f"{key} must be true or false (got {value!r})")
        return value

    return check


def _check_max_entries(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (1 <= value <= MAX_ENTRIES_MAX):
        raise _Invalid(f"max_entries must be a whole number between 1 and {MAX_ENTRIES_MAX} (got {value!r})")
    return value


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "name": _check_name,
    "url": _check_url,
    "interval": _check_interval,
    "tags": _check_tags,
    "language": _check_language,
    "enabled": _check_bool("enabled"),
    "conditional_get": _check_bool("conditional_get"),
    "max_entries": _check_max_entries,
    "outlet": _check_outlet,
}
assert set(_CHECKS) == set(FEED_KEYS), "every FeedConfig field needs a check"


def feed_problem(feed: FeedConfig) -> str | None:
    """The first reason `feed` could not have come from a valid feeds.yaml, or None.

    Used for feeds built elsewhere (OPML import) so they obey the same rules as the file.
    """
    for key, check in _CHECKS.items():
        try:
            if check(getattr(feed, key)) != getattr(feed, key):
                return f"{key} is not in its normal form"
        except _Invalid as exc:
            return str(exc)
    return None


# --- loading ------------------------------------------------------------------------------


def load_feeds(path: Path) -> list[FeedConfig]:
    """Read and validate feeds.yaml; any problem is a one-line ConfigError `FILE:LINE: reason`."""
    label = str(path)
    text = _read_text(path, label)
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise ConfigError(_yaml_error_message(label, exc)) from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{label}: invalid YAML: {_one_line(str(exc))}") from None
        return _load_root(label, root, loader)
    finally:
        loader.dispose()


def _read_text(path: Path, label: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        hint = "" if path.is_absolute() else f" in {Path.cwd()} (set COMPACTWATCH_FEEDS to use another file)"
        raise ConfigError(f"{label}: feeds file not found{hint}") from None
    except IsADirectoryError:
        raise ConfigError(f"{label}: is a directory, expected a feeds YAML file") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read feeds file: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{label}: feeds file is larger than {MAX_FILE_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{label}:{line}: not valid UTF-8 text") from None


def _load_root(label: str, root: yaml.Node | None, loader: yaml.SafeLoader) -> list[FeedConfig]:
    if root is None:
        raise ConfigError(f"{label}:1: file is empty; expected a top-level 'feeds:' list")
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{label}:{_line(root)}: expected a top-level mapping with a 'feeds:' list")
    top, repeats = _mapping_items(label, root, loader)
    _raise_repeats(label, "", repeats)
    unknown = [key for key in top if key != "feeds"]
    if unknown:
        key_node = top[unknown[0]][0]
        raise ConfigError(f"{label}:{_line(key_node)}: unknown top-level key {unknown[0]!r} (allowed: feeds)")
    if "feeds" not in top:
        raise ConfigError(f"{label}:{_line(root)}: missing the top-level 'feeds:' list")
    feeds_node = top["feeds"][1]
    if not isinstance(feeds_node, yaml.SequenceNode):
        raise ConfigError(f"{label}:{_line(feeds_node)}: 'feeds' must be a list of feed entries")

    feeds: list[FeedConfig] = []
    names: dict[str, tuple[str, int]] = {}
    urls: dict[str, tuple[str, int]] = {}
    for index, entry in enumerate(feeds_node.value, start=1):
        feed = _load_feed(label, index, entry, loader)
        line = _line(entry)
        where = f"{label}:{line}: feed {feed.name!r}"
        first = names.get(feed.name.casefold())
        if first:
            raise ConfigError(f"{where}: duplicate name, first used at line {first[1]}")
        first = urls.get(feed_url_key(feed.url))
        if first:
            raise ConfigError(f"{where}: same URL as feed {first[0]!r} at line {first[1]} ({feed.url})")
        names[feed.name.casefold()] = (feed.name, line)
        urls[feed_url_key(feed.url)] = (feed.name, line)
        feeds.append(feed)
    return feeds


def _load_feed(label: str, index: int, node: yaml.Node, loader: yaml.SafeLoader) -> FeedConfig:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{label}:{_line(node)}: feed #{index} must be a mapping with name: and url:")
    items, repeats = _mapping_items(label, node, loader)
    who = f"feed #{index}"
    if "name" in items:
        value_node = items["name"][1]
        try:
            who = f"feed {_check_name(_construct(label, loader, value_node))!r}"
        except _Invalid as exc:
            raise ConfigError(f"{label}:{_line(value_node)}: {who}: {exc}") from None
    _raise_repeats(label, who, repeats)
    for key, (key_node, _) in items.items():
        if key not in _CHECKS:
            raise ConfigError(
                f"{label}:{_line(key_node)}: {who}: unknown key {key!r} (allowed: {', '.join(FEED_KEYS)})"
            )
    for key in REQUIRED_KEYS:
        if key not in items:
            raise ConfigError(f"{label}:{_line(node)}: {who}: missing required key '{key}'")
    values: dict[str, Any] = {}
    for key, (_, value_node) in items.items():
        raw = _construct(label, loader, value_node)
        try:
            values[key] = _CHECKS[key](raw)
        except _Invalid as exc:
            raise ConfigError(f"{label}:{_line(value_node)}: {who}: {exc}") from None
    return FeedConfig(**values)


def _mapping_items(
    label: str, node: yaml.MappingNode, loader: yaml.SafeLoader
) -> tuple[dict[str, tuple[yaml.Node, yaml.Node]], list[tuple[str, int, int]]]:
    """Keys of a mapping with their key and value nodes, and any repeated keys.

    PyYAML silently keeps the last of two equal keys; in a hand-edited file that hides a
    mistake, so repeats (key, line, first line) are returned for the caller to report.
    """
    items: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    repeats: list[tuple[str, int, int]] = []
    for key_node, value_node in node.value:
        key = _construct(label, loader, key_node)
        if not isinstance(key, str):
            raise ConfigError(f"{label}:{_line(key_node)}: keys must be text (got {key!r})")
        if key in items:
            repeats.append((key, _line(key_node), _line(items[key][0])))
        else:
            items[key] = (key_node, value_node)
    return items, repeats


def _raise_repeats(label: str, where: str, repeats: list[tuple[str, int, int]]) -> None:
    if repeats:
        key, line, first = repeats[0]
        prefix = f"{where}: " if where else ""
        raise ConfigError(f"{label}:{line}: {prefix}key {key!r} repeated (first at line {first})")


def _construct(label: str, loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """The Python value `yaml.safe_load` would give this node."""
    try:
        return loader.construct_object(node, deep=True)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(_yaml_error_message(label, exc)) from None
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        raise ConfigError(f"{label}:{_line(node)}: invalid value: {_one_line(str(exc))}") from None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _yaml_error_message(label: str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = exc.problem or exc.context or "could not be parsed"
    context = f" ({_one_line(exc.context)})" if exc.context and exc.problem else ""
    return f"{label}{line}: invalid YAML: {_one_line(problem)}{context}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- writing ------------------------------------------------------------------------------

_HEADER = """\
# compactwatch feeds. One entry per feed:
#   name, url            required; names and URLs must be unique
#   interval             minutes between polls, {imin}-{imax} (default {interval})
#   tags                 list of lowercase labels used for alert routing, e.g. [un, press]
#   language             ISO 639-1 code of the feed's articles (default {language})
#   enabled              false pauses polling (default true)
#   conditional_get      false when a server answers 304 wrongly (default true)
#   max_entries          newest entries taken per poll, 1-{emax} (default {max_entries})
#   outlet               the outlet's name for every article (default: each page's site name)
"""


class _FlowList(list[str]):
    """Marker: dump this list inline (`tags: [un, press]`) so each feed stays compact."""


class _FeedsDumper(yaml.SafeDumper):
    """SafeDumper that indents list items under their key (`feeds:` then `  - name:`)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_FeedsDumper.add_representer(
    _FlowList,
    lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True),
)


def dump_feeds(feeds: Iterable[FeedConfig], path: Path) -> None:
    """Write feeds as a clean feeds.yaml that `load_feeds` reads back to the same list.

    Refuses (ConfigError) to write a file that would not load. Optional switches are written
    only when they differ from the default, to keep the file short for hand editing. The
    file is replaced atomically so a crash never leaves a half-written feeds.yaml.
    """
    entries: list[dict[str, Any]] = []
    seen_names: set[str] = set()
    seen_urls: set[str] = set()
    for feed in feeds:
        problem = feed_problem(feed)
        if problem:
            raise ConfigError(f"{path}: cannot write feed {feed.name!r}: {problem}")
        if feed.name.casefold() in seen_names or feed_url_key(feed.url) in seen_urls:
            raise ConfigError(f"{path}: cannot write feed {feed.name!r}: duplicate name or URL")
        seen_names.add(feed.name.casefold())
        seen_urls.add(feed_url_key(feed.url))
        entry: dict[str, Any] = {
            "name": feed.name,
            "url": feed.url,
            "interval": feed.interval,
            "tags": _FlowList(feed.tags),
            "language": feed.language,
        }
        for key in ("enabled", "conditional_get", "max_entries", "outlet"):
            if getattr(feed, key) != getattr(_DEFAULTS, key):
                entry[key] = getattr(feed, key)
        entries.append(entry)
    body = yaml.dump(
        {"feeds": entries},
        Dumper=_FeedsDumper,
        sort_keys=False,
        allow_unicode=True,
        width=10_000,
        default_flow_style=False,
    )
    # A blank line between feeds, as a person would write it.
    body = body.replace("\n  - ", "\n\n  - ").replace("feeds:\n\n", "feeds:\n", 1)
    header = _HEADER.format(
        imin=INTERVAL_MIN,
        imax=INTERVAL_MAX,
        emax=MAX_ENTRIES_MAX,
        interval=_DEFAULTS.interval,
        language=_DEFAULTS.language,
        max_entries=_DEFAULTS.max_entries,
    )
    _write_atomically(path, header + "\n" + body)


def _write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename over it, keeping its mode."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o644  # mkstemp's 0600 would hide a new feeds.yaml from the service user
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
