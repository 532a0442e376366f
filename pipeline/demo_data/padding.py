"""Make a bench page as heavy as a real news page: 50-150 KiB of mostly not-the-article.

Real article pages carry far more than the story: a mega-menu of every section, rails of
"more stories" teasers, long reader-comment threads, cookie/consent markup, and inline
scripts (analytics config, ad slots, JSON state). Extraction cost grows with that markup,
so a bench on lean pages would flatter the pipeline. Everything here is generated from a
seeded RNG and short phrases written for this file, so pages are deterministic.
"""

from __future__ import annotations

import html
import json
import random
import re

_SECTIONS = (
    "World", "Europe", "Americas", "Africa", "Asia", "Cities", "Politics", "Business", "Markets",
    "Climate", "Science", "Health", "Education", "Culture", "Books", "Film", "Music", "Sport",
    "Football", "Cycling", "Opinion", "Letters", "Obituaries", "Travel", "Food", "Property",
    "Motoring", "Technology", "Weather", "Puzzles", "Podcasts", "Video", "Photography", "Data",
)  # fmt: skip
_COMMENT_NAMES = (
    "harbourwatcher", "M. Okonkwo", "Reader from Eastgate", "tramfan77", "J. Lindqvist", "Pat R.",
    "old_sailor", "Concerned parent", "Dee", "Valley resident", "K. Haddad", "Night shift nurse",
    "retired teacher", "anon", "Bruno V.", "Sam", "economist_in_exile", "Lakemouth local",
)  # fmt: skip
_COMMENT_PHRASES = (
    "Has anyone asked the people who actually live there?",
    "Good reporting, as usual.",
    "I read this twice and still do not know what changes on Monday.",
    "The photo caption is wrong, that bridge is further north.",
    "Same story every winter.",
    "Thanks for explaining the numbers rather than just quoting them.",
    "My neighbour works at the port and says the opposite.",
    "Who is paying for this, though?",
    "Subscribed again just for the local coverage.",
    "This comment section never disappoints.",
    "Is there a link to the full report somewhere?",
    "Correct me if I am wrong, but the council voted on this last year.",
    "Not sure the headline matches the article.",
    "Finally some good news from the valley.",
    "The paywall popped up halfway through, annoying.",
    "We need more of this kind of follow-up.",
)
_TEASER_WORDS = (
    "council", "harbour", "budget", "festival", "tram", "election", "storm", "bridge", "museum",
    "school", "market", "ferry", "stadium", "library", "clinic", "airport", "river", "orchard",
)  # fmt: skip


def pad_page(page: str, rng: random.Random, prefix: str, teaser_titles: list[str]) -> str:
    """`page` with realistic boilerplate added until it weighs 50-150 KiB."""
    target = rng.randint(50, 150) * 1024
    menu = _mega_menu(rng, prefix)
    rail = _more_stories(rng, prefix, teaser_titles)
    gap = max(0, target - len(page.encode()) - len(menu) - len(rail))
    scripts = _scripts(rng, gap * 40 // 100)
    comments = _comments(rng, max(2000, gap - len(scripts)))
    page = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + "\n" + menu, page, count=1)
    # After the article (inside <main> where the layout has one), as sites place them.
    anchor = "</main>" if "</main>" in page else "<footer"
    page = page.replace(anchor, rail + comments + "\n" + anchor, 1)
    return page.replace("</body>", scripts + "\n</body>", 1)


def _mega_menu(rng: random.Random, prefix: str) -> str:
    columns = []
    for section in _SECTIONS:
        slug = section.lower()
        links = "".join(
            f'<li><a href="{prefix}/{slug}/{word}/">{word.title()}</a></li>'
            for word in rng.sample(_TEASER_WORDS, 6)
        )
        columns.append(
            f'<div class="mm-col"><h4><a href="{prefix}/{slug}/">{section}</a></h4><ul>{links}</ul></div>'
        )
    return f'<nav class="mega-menu" aria-label="All sections" hidden>{"".join(columns)}</nav>'


def _more_stories(rng: random.Random, prefix: str, titles: list[str]) -> str:
    items = []
    for i in range(24):
        title = (
            titles[i % len(titles)]
            if i < len(titles)
            else " ".join(rng.sample(_TEASER_WORDS, 4)).capitalize()
        )
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
        items.append(
            f'<li class="teaser"><a href="{prefix}/more/{slug}-{i}.html"><img src="{prefix}/img/t{i}.jpg" '
            f'alt="" loading="lazy" width="160" height="90">'
            f'<span class="teaser-title">{html.escape(title)}</span>'
            f'</a><span class="teaser-meta">{rng.randint(1, 23)} hours ago</span></li>'
        )
    return (
        f'<aside class="more-stories"><h2>More stories</h2><ul class="teasers">{"".join(items)}</ul></aside>'
    )


def _comments(rng: random.Random, size: int) -> str:
    parts: list[str] = []
    used = 0
    n = 0
    while used < size:
        n += 1
        name = rng.choice(_COMMENT_NAMES)
        text = " ".join(rng.sample(_COMMENT_PHRASES, rng.randint(1, 3)))
        reply = f' data-reply-to="c{rng.randint(1, n)}"' if n > 1 and rng.random() < 0.3 else ""
        block = (
            f'<li class="comment" id="c{n}"{reply}><div class="comment-head"><b class="comment-author">'
            f"{html.escape(name)}</b> <time>{rng.randint(1, 59)} minutes ago</time></div>"
            f'<div class="comment-body"><p>{html.escape(text)}</p></div><div class="comment-actions">'
            f'<button class="like">Like ({rng.randint(0, 90)})</button><button class="reply">Reply</button>'
            f'<a class="report" href="#report-c{n}">Report</a></div></li>'
        )
        parts.append(block)
        used += len(block)
    return f'<section class="reader-comments"><h2>{n} reader comments</h2><ol>{"".join(parts)}</ol></section>'


def _scripts(rng: random.Random, size: int) -> str:
    """Inline JSON state and ad-slot config, as page builders and ad tech leave them."""
    slots = []
    used = 0
    while used < size:
        slot = {
            "id": f"slot-{len(slots)}",
            "sizes": [[300, 250], [728, 90], [970, 250]][: rng.randint(1, 3)],
            "targeting": {"section": rng.choice(_SECTIONS).lower(), "kw": rng.sample(_TEASER_WORDS, 5)},
            "lazy": rng.random() < 0.5,
            "refresh": rng.randint(0, 60),
        }
        used += len(json.dumps(slot)) + 2
        slots.append(slot)
    state = json.dumps({"adSlots": slots, "consent": {"version": 7, "vendors": list(range(40))}})
    return (
        '<script type="application/json" id="page-state">' + state.replace("<", "\\u003c") + "</script>"
        '<script>window.dataLayer=window.dataLayer||[];dataLayer.push({"event":"pageview"});</script>'
    )
