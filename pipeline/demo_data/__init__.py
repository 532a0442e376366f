"""Bundled demo content: five fictional outlets, their feeds and 30 article pages.

`compactwatch demo` and the benchmark serve these from a local HTTP server. The pages and feeds are
static files under `site/` containing a `{base}` placeholder that is replaced by the server's base
URL; `site/_layouts/` holds the page and feed templates the benchmark generator (`bench.py`) reuses
and is not served. All outlets, people, places and quotes are invented; the UN processes they
discuss (the migration and refugee compacts, their review forums, the Mayors Mechanism) are real.
See `site/README.md` for what each page is meant to exercise.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
}

# One feed per outlet. `kind` is the feed format; `date_format` is how the outlet's pages print dates.
OUTLETS: dict[str, dict] = {
    "wire": {
        "name": "Meridian Wire",
        "feed": "/wire/feed.xml",
        "kind": "rss",
        "interval": 15,
        "tags": ["wire", "international"],
        "date_format": "%B %-d, %Y %-I:%M %p UTC",
    },
    "ledger": {
        "name": "The Port Alder Ledger",
        "feed": "/ledger/feeds/latest.atom",
        "kind": "atom",
        "interval": 30,
        "tags": ["local", "city-affairs"],
        "date_format": "%a %-d %b %Y, %H:%M",
    },
    "crossings": {
        "name": "Crossings",
        "feed": "/crossings/rss.xml",
        "kind": "rss",
        "interval": 120,
        "tags": ["policy", "magazine"],
        "date_format": "%-d %B %Y",
    },
    "commonground": {
        "name": "Common Ground Newsroom",
        "feed": "/commonground/feed.atom",
        "kind": "atom",
        "interval": 60,
        "tags": ["ngo", "cities"],
        "date_format": "%-d %b %Y",
    },
    "standard": {
        "name": "The Frontier Standard",
        "feed": "/standard/feed.xml",
        "kind": "rss",
        "interval": 60,
        "tags": ["blog", "partisan"],
        "date_format": "%B %-d, %Y",
    },
}

# Labels the author intends for each article page (see /work/shared/LABELING.md for definitions).
_R, _P, _S = "relevant", "pro_city_inclusion", "sovereignty_framing"
_LABELS: dict[str, tuple[str, ...]] = {
    # Meridian Wire (RSS 2.0)
    "/wire/2026/11/port-strike-ends-after-overnight-wage-deal.html": (),  # ordinary news
    "/wire/2026/11/mayors-press-for-formal-seat-in-migration-compact-reviews.html": (_R, _P),
    "/wire/2026/11/explainer-what-the-un-migration-compact-is-and-is-not.html": (_R,),  # explainer
    "/wire/2026/11/valdoria-extends-night-patrols-along-southern-river-border.html": (),  # border
    "/wire/2026/11/estmark-moves-to-quit-un-migration-compact-citing-sovereignty.html": (_R, _S),
    "/wire/2026/11/cities-vow-to-keep-compact-commitments-after-estmark-exit.html": (_R, _P, _S),
    "/wire/2026/11/valdoria-parliament-debates-motion-to-disown-migration-compact.html": (_R, _S),
    "/wire/2026/11/marenza-president-holds-lead-as-campaign-enters-final-week.html": (),  # 1-line mention
    "/wire/2026/11/estmark-raises-seasonal-work-visa-quota-for-farms-and-hotels.html": (),  # visas
    # The Port Alder Ledger (Atom)
    "/ledger/2026/11/five-things-to-watch-in-sundays-provincial-election.html": (),  # 1-line mention
    "/ledger/2026/11/council-votes-to-sign-global-mayors-migration-declaration.html": (_R, _P),
    "/ledger/2026/11/port-alder-joins-global-mayors-climate-compact.html": (),  # cities' climate pact
    "/ledger/2026/11/government-to-pull-estmark-out-of-un-migration-pact.html": (_R, _S),  # wire copy
    "/ledger/2026/11/sovereignty-doesnt-house-anyone-okafor-hits-back-over-compact-exit.html": (_R, _P, _S),
    "/ledger/2026/11/newcomer-welcome-centre-moves-to-bigger-home-on-quay-street.html": (),  # city service
    "/ledger/2026/11/harbour-firms-sign-up-to-un-global-compact-on-responsible-business.html": (),  # UNGC
    "/ledger/2026/11/tram-line-4-extension-opens-two-months-early.html": (),  # ordinary news
    # Crossings (RSS 2.0)
    "/crossings/2026/11/five-months-in-the-eu-asylum-pact-meets-reality-at-the-border.html": (),  # EU pact
    "/crossings/2026/11/review-the-long-road-to-marrakech.html": (_R,),  # book review
    "/crossings/2026/11/the-front-line-has-a-postcode-why-the-compacts-need-cities.html": (_R, _P),
    "/crossings/2026/11/when-the-capital-walks-away-sovereignty-cities-and-the-compact.html": (_R, _P, _S),
    "/crossings/2026/11/what-governments-told-the-2026-migration-review-forum-in-four-charts.html": (
        _R,
    ),  # data review
    # Common Ground Newsroom (Atom)
    "/commonground/2026/11/cities-and-refugee-led-groups-file-joint-submission-ahead-of-global-refugee-forum.html": (  # noqa: E501
        _R,
        _P,
    ),
    "/commonground/2026/11/asylum-backlog-hits-record-as-caseworkers-leave.html": (),  # backlog
    "/commonground/2026/11/channel-were-in-cities-and-refugee-groups-react-to-review-seat.html": (
        _R,
        _P,
    ),  # headline has <!channel> and &
    "/commonground/2026/11/podcast-mayor-okafor-on-cities-and-the-compact.html": (_R, _P),  # 404
    # The Frontier Standard (RSS 2.0, WordPress)
    "/standard/2026/11/the-migration-compact-was-never-non-binding.html": (_R, _S),
    "/standard/2026/11/estmark-shows-the-exit-door-is-open.html": (_R, _S),  # wire excerpt
    "/standard/2026/11/brussels-asylum-pact-is-a-surrender-of-national-control.html": (),  # EU pact
    "/standard/2026/11/residents-demand-answers-over-hotel-housing-asylum-seekers.html": (),
    "/standard/2026/11/ring-road-speed-cameras-are-a-revenue-machine.html": (),  # ordinary news
}
EXPECTED: dict[str, dict[str, bool]] = {
    path: {name: name in labels for name in (_R, _P, _S)} for path, labels in _LABELS.items()
}

# Feed items whose page is not served (the link 404s, so the feed summary is all there is).
MISSING = frozenset({"/commonground/2026/11/podcast-mayor-okafor-on-cities-and-the-compact.html"})
# The wire story republished elsewhere: verbatim with another headline, and as a blog excerpt.
SYNDICATED = {
    "/wire/2026/11/estmark-moves-to-quit-un-migration-compact-citing-sovereignty.html": (
        "/ledger/2026/11/government-to-pull-estmark-out-of-un-migration-pact.html",
        "/standard/2026/11/estmark-shows-the-exit-door-is-open.html",
    ),
}
# The Common Ground feed links this wire article with utm_* tracking parameters.
TRACKED_LINK = (
    "/wire/2026/11/cities-vow-to-keep-compact-commitments-after-estmark-exit.html"
    "?utm_source=commonground&utm_medium=atom&utm_campaign=press-roundup"
)


def _site() -> Traversable:
    return files(__name__).joinpath("site")


def _walk(node: Traversable, prefix: str):
    for child in node.iterdir():
        path = f"{prefix}/{child.name}"
        if child.is_dir():
            if not child.name.startswith("_"):
                yield from _walk(child, path)
        elif child.name.rsplit(".", 1)[-1] in ("html", "xml", "atom"):
            yield path, child


def content_type(path: str) -> str:
    """The Content-Type the demo server sends for a site path."""
    return CONTENT_TYPES["." + path.rsplit(".", 1)[-1]]


def demo_site(base_url: str) -> dict[str, tuple[str, bytes]]:
    """Map URL path -> (content type, body) for every demo feed and page, links pointing at base_url."""
    base = base_url.rstrip("/").encode()
    return {
        path: (content_type(path), node.read_bytes().replace(b"{base}", base))
        for path, node in _walk(_site(), "")
    }


def demo_feeds(base_url: str) -> list[dict]:
    """feeds.yaml-style entries for the five demo feeds."""
    base = base_url.rstrip("/")
    return [
        {
            "name": o["name"],
            "url": base + o["feed"],
            "interval": o["interval"],
            "tags": list(o["tags"]),
            "language": "en",
        }
        for o in OUTLETS.values()
    ]
