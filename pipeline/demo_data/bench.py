"""Benchmark content: N feeds x M realistic news pages built from the demo layouts.

Each bench feed takes the page and feed templates of one demo outlet (round robin) from
`site/_layouts/`, and each article recombines paragraphs of the demo articles deterministically
(one source article's paragraphs in order, plus a few from elsewhere), so pages carry the same
boilerplate as the demo (nav, share buttons, related stories, comments, footer), padded the way
real news pages are (mega-menu, more-stories rails, long comment threads, inline scripts) to
50-150 KiB each (`pipeline.demo_data.padding`).
"""

from __future__ import annotations

import html
import json
import random
import re
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from string import Template

from pipeline.demo_data import OUTLETS, _site, content_type, demo_site
from pipeline.demo_data.padding import pad_page

_BODY = re.compile(r"<!-- article-body:start -->(.*?)<!-- article-body:end -->", re.S)
_BLOCK = re.compile(r"<(p|h2)>.*?</\1>", re.S)
_META = re.compile(
    r'<meta (?:name|property)="(og:title|og:description|author|article:section)" '
    r'content="([^"]*)">'
)
_PLACES = (
    "Port Alder",
    "Kessing",
    "Halvern",
    "Velgrad",
    "Solaria",
    "Geneva",
    "Vallo",
    "Dravno",
    "Millbrook",
    "San Aurelio",
    "Eastgate",
    "Brussels",
    "New York",
    "Lakemouth",
)


def display_date(dt: datetime, fmt: str) -> str:
    """strftime with the GNU-style %-d / %-I (no leading zero) made portable."""
    return dt.strftime(fmt.replace("%-d", str(dt.day)).replace("%-I", str(dt.hour % 12 or 12)))


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _json_str(text: str) -> str:
    """A string's JSON form without quotes, safe inside <script>."""
    return json.dumps(text)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def post_id(path: str) -> int:
    return 1000 + zlib.crc32(path.encode()) % 9000


def page_values(
    outlet: str,
    path: str,
    title: str,
    description: str,
    author: str,
    section: str,
    published: datetime,
    body_html: str,
    caption: str,
) -> dict[str, object]:
    """Template values of one article page (raw text in, escaped values out)."""
    esc = html.escape
    words = len(re.sub(r"<[^>]+>", " ", body_html).split())
    return {
        "title": esc(title),
        "title_json": _json_str(title),
        "desc": esc(description),
        "desc_json": _json_str(description),
        "author": esc(author),
        "author_json": _json_str(author),
        "author_slug": slugify(author),
        "date_iso": published.isoformat(),
        "date_display": display_date(published, OUTLETS[outlet]["date_format"]),
        "date_long": display_date(published, "%A, %B %-d, %Y"),
        "url": "{base}" + path,
        "slug": path.rsplit("/", 1)[-1].removesuffix(".html"),
        "section": esc(section),
        "section_slug": slugify(section),
        "caption": esc(caption),
        "body": body_html,
        "readtime": max(1, round(words / 230)),
        "post_id": post_id(path),
    }


def item_values(
    outlet: str,
    path: str,
    title: str,
    summary: str,
    author: str,
    section: str,
    published: datetime,
    n_comments: int = 0,
    link: str | None = None,
) -> dict[str, object]:
    """Template values of one feed item; `link` overrides the page path (e.g. tracking parameters)."""
    x = html.escape
    slug = path.rsplit("/", 1)[-1].removesuffix(".html")
    return {
        "title": x(title),
        "link": x("{base}" + (link or path)),
        "slug": slug,
        "date_rfc": format_datetime(published),
        "date_iso": published.isoformat(),
        "author": x(author),
        "section": x(section),
        "summary": x(summary),
        "summary_html": x(x(summary)),
        "image": x(f"{{base}}/{outlet}/img/{slug}-1200.jpg"),
        "post_id": post_id(path),
        "n_comments": n_comments,
    }


def render_feed(
    feed_template: str,
    item_template: str,
    items: list[dict],
    feed_path: str,
    site_path: str,
    channel_title: str,
) -> str:
    """Fill a feed template with items (newest first)."""
    items = sorted(items, key=lambda v: v["date_iso"], reverse=True)
    newest = datetime.fromisoformat(str(items[0]["date_iso"])) if items else datetime(2026, 11, 1, tzinfo=UTC)
    return Template(feed_template).substitute(
        channel_title=html.escape(channel_title),
        site_url="{base}" + site_path,
        feed_url="{base}" + feed_path,
        feed_key=slugify(feed_path),
        updated_rfc=format_datetime(newest),
        updated_iso=newest.isoformat(),
        items="\n".join(Template(item_template).substitute(v) for v in items),
    )


def _layout(name: str) -> str:
    return _site().joinpath("_layouts", name).read_text(encoding="utf-8")


@cache
def _sources() -> tuple[dict, ...]:
    """The demo articles as (title, description, author, section, paragraph HTML blocks)."""
    out = []
    for path, (_ctype, body) in sorted(demo_site("").items()):
        if not path.endswith(".html"):
            continue
        page = body.decode()
        meta = {k: html.unescape(v) for k, v in _META.findall(page)}
        blocks = [m.group(0) for m in _BLOCK.finditer(_BODY.search(page).group(1))]
        out.append(
            {
                "title": meta["og:title"],
                "desc": meta["og:description"],
                "author": meta["author"],
                "section": meta["article:section"],
                "blocks": blocks,
            }
        )
    return tuple(out)


def _feed_path(index: int) -> tuple[str, str]:
    outlet = list(OUTLETS)[index % len(OUTLETS)]
    ext = "atom" if OUTLETS[outlet]["kind"] == "atom" else "xml"
    return outlet, f"/bench/{index:03d}/feed.{ext}"


def bench_site(
    base_url: str, feeds: int, articles_per_feed: int, seed: int = 7
) -> dict[str, tuple[str, bytes]]:
    """Map URL path -> (content type, body) for `feeds` feeds of `articles_per_feed` pages each."""
    rng = random.Random(seed)
    base = base_url.rstrip("/")
    sources = _sources()
    pool = [b for s in sources for b in s["blocks"]]
    seen: set[str] = set()
    site: dict[str, tuple[str, bytes]] = {}
    for f in range(feeds):
        outlet, feed_path = _feed_path(f)
        page_t = Template(_layout(f"{outlet}.html"))
        prefix, items = f"/bench/{f:03d}", []
        for j in range(articles_per_feed):
            src = rng.choice(sources)
            n = len(src["blocks"])
            keep = sorted(rng.sample(range(n), rng.randint(min(5, n), min(10, n))))
            blocks = [src["blocks"][i] for i in keep] + rng.sample(pool, rng.randint(6, 16))
            title = f"{rng.choice(_PLACES)}: {src['title']}"
            if title in seen:
                title = f"{title} (update {len(seen)})"
            seen.add(title)
            published = datetime(2026, 11, 1, 6, tzinfo=UTC) + timedelta(minutes=rng.randrange(22 * 24 * 60))
            path = f"{prefix}/2026/11/{slugify(title)[:70]}-{j}.html"
            values = page_values(
                outlet,
                path,
                title,
                src["desc"],
                src["author"],
                src["section"],
                published,
                "\n".join(blocks),
                src["desc"],
            )
            page = page_t.safe_substitute(values).replace("{base}", base)
            page = pad_page(page, rng, prefix, [s["title"] for s in rng.sample(sources, 8)])
            site[path] = (content_type(path), page.encode())
            items.append(
                item_values(outlet, path, title, src["desc"], src["author"], src["section"], published)
            )
        feed = render_feed(
            _layout(f"{outlet}.feed.xml"),
            _layout(f"{outlet}.item.xml"),
            items,
            feed_path,
            prefix + "/",
            f"{OUTLETS[outlet]['name']} (bench {f:03d})",
        )
        site[feed_path] = (content_type(feed_path), feed.replace("{base}", base).encode())
    return site


def bench_feeds(base_url: str, feeds: int) -> list[dict]:
    """feeds.yaml-style entries matching bench_site(base_url, feeds, ...)."""
    base = base_url.rstrip("/")
    out = []
    for f in range(feeds):
        outlet, feed_path = _feed_path(f)
        out.append(
            {
                "name": f"Bench {f:03d} ({OUTLETS[outlet]['name']})",
                "url": base + feed_path,
                "interval": 30,
                "tags": ["bench", outlet],
                "language": "en",
            }
        )
    return out
