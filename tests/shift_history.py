"""Synthetic coverage histories for the shift tests, stored through the test factories.

Stories arrive as a Poisson process (exponential gaps) over simulated weeks that end a day
before the real clock, so every article's date is its (past) published time. Each story is
one article unless `copies` says otherwise; frames are drawn with fixed probabilities, so a
"steady" history is steady by construction and any finding on it is a false alarm.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from pipeline.store import Store
from tests.factories import add_feed, classification, stored_article

OUTLETS = (("Harbour Herald", "en"), ("Capital Courier", "en"), ("Le Veilleur", "fr"))


@dataclass(frozen=True)
class Phase:
    """A stretch of simulated time with its story rate and frame probabilities."""

    days: float
    per_day: float
    sovereignty: float = 0.2
    city: float = 0.45


def end_of_history() -> datetime:
    """Where simulated time ends: a day before now, on the hour (so replays are reproducible)."""
    return (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)


def build_history(
    store: Store,
    phases: list[Phase],
    *,
    seed: int = 7,
    end: datetime | None = None,
    copies: Callable[[int], int] = lambda _n: 1,
) -> tuple[datetime, datetime, int]:
    """Store the phases back to back, ending at `end`; returns (start, end, stories)."""
    rng = random.Random(seed)
    end = end or end_of_history()
    start = end - timedelta(days=sum(p.days for p in phases))
    feed = add_feed(store, "https://feeds.example.org/history", name="History")
    t, stories = start, 0
    for phase in phases:
        phase_end = t + timedelta(days=phase.days)
        while True:
            t += timedelta(days=rng.expovariate(phase.per_day))
            if t >= phase_end:
                t = phase_end
                break
            stories += 1
            sov, city = rng.random() < phase.sovereignty, rng.random() < phase.city
            outlet, language = OUTLETS[rng.randrange(len(OUTLETS))]
            cls = replace(classification(city=city, sovereignty=sov), language=language)
            text = f"history story {stories} " + " ".join(rng.choice(WORDS) for _ in range(80))
            for copy in range(copies(stories)):
                stored_article(
                    store,
                    feed,
                    title=f"Compact story {stories}",
                    text=text,
                    url=f"https://news.example.org/h{seed}-{stories}-{copy}",
                    cls=cls,
                    channels=(),
                    published=t + timedelta(minutes=copy),
                    outlet=OUTLETS[(OUTLETS.index((outlet, language)) + copy) % len(OUTLETS)][0],
                )
    return start, end, stories


WORDS = tuple(
    [
        "mayor",
        "council",
        "compact",
        "review",
        "forum",
        "sovereignty",
        "border",
        "treaty",
        "city",
        "shelter",
        "housing",
        "school",
        "minister",
        "parliament",
        "vote",
        "summit",
        "declaration",
        "migrants",
        "refugees",
        "asylum",
        "integration",
        "budget",
        "election",
        "court",
        "appeal",
        "province",
        "region",
        "harbour",
        "ferry",
        "rail",
        "clinic",
        "library",
        "market",
    ]
)
