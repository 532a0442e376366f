"""Canonical URLs and article fingerprints: one story, one key; different stories, different keys."""

from __future__ import annotations

import random
import time

import pytest

from pipeline.dedupe import (
    fingerprint_article,
    hamming_distance,
    is_near_duplicate,
    normalize_text,
    strip_outlet_suffix,
)
from pipeline.urls import canonicalize_url, feed_url_key, is_http_url

CANONICAL = "https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?page=2"

TRACKING_VARIANTS = [
    CANONICAL,
    "https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?page=2#comments",
    "HTTPS://WWW.TheGuardian.com:443/world/2026/may/01/Cities-Migration-Compact?page=2",
    "https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?utm_source=twitter"
    "&utm_medium=social&page=2&utm_campaign=share",
    "https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?fbclid=IwAR0abc&page=2",
    "https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?page=2&gclid=Cj0K&CMP=share_btn_tw",
    "https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?mc_cid=1&mc_eid=2&page=2",
    "https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?ocid=msn&cmpid=rss&smid=tw&page=2",
    "https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?at_medium=RSS&at_campaign=x&page=2",
    "https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?ref=rss&ref_src=twsrc&page=2",
    "https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?_ga=2.1&igshid=abc&yclid=9&page=2",
    "https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?ns_mchannel=rss&ns_source=x&page=2",
    "https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?page=2&sr_share=twitter&xtor=RSS-3",
    "  https://www.theguardian.com/world/2026/may/01/Cities-Migration-Compact?page=2&  ",
]


@pytest.mark.parametrize("url", TRACKING_VARIANTS)
def test_tracking_variants_of_one_url_canonicalise_identically(url: str) -> None:
    assert canonicalize_url(url) == CANONICAL


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://example.org/a#section-2", "https://example.org/a"),
        ("https://example.org/a?utm_source=x", "https://example.org/a"),  # no dangling "?"
        ("https://example.org/a?", "https://example.org/a"),
        ("http://Example.org", "http://example.org/"),
        ("http://example.org:8080/a", "http://example.org:8080/a"),  # non-default port kept
        ("https://example.org:80/a", "https://example.org:80/a"),  # 80 is not https's default
        ("https://example.org/a?z=1&b=2&a=3", "https://example.org/a?a=3&b=2&z=1"),
        ("https://example.org/a?id=2&id=1", "https://example.org/a?id=2&id=1"),  # repeated keys keep order
        ("https://example.org/News/Article", "https://example.org/News/Article"),  # path case kept
        ("https://example.org/%7euser/caf%c3%a9", "https://example.org/~user/caf%C3%A9"),
        ("https://example.org/café", "https://example.org/caf%C3%A9"),
        ("https://example.org./a", "https://example.org/a"),
        ("http://[2001:DB8::1]:80/a", "http://[2001:db8::1]/a"),
    ],
)
def test_canonical_form(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "mailto:press@un.org", "/relative/path", "http://[::1", "http://host:port/", ""],
)
def test_unusable_input_is_returned_stripped_not_raised(url: str) -> None:
    assert canonicalize_url(f"  {url} ") == url


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://news.un.org/feed/rss.xml", True),
        ("HTTP://example.org", True),
        ("http://127.0.0.1:8080/feed", True),  # syntactically fine; the fetcher decides on addresses
        ("feed://example.org/rss", False),
        ("file:///etc/passwd", False),
        ("javascript:alert(1)", False),
        ("ftp://example.org/rss", False),
        ("//example.org/rss", False),
        ("https://", False),
        ("http://example.org:99999/", False),
        ("http://exa mple.org/", False),
        ("http://evil.example\\@good.example/", False),
        (None, False),
    ],
)
def test_is_http_url(url: object, expected: bool) -> None:
    assert is_http_url(url) is expected


def test_feed_url_key_ignores_scheme_and_trailing_slash() -> None:
    assert feed_url_key("http://Eurocities.eu:80/feed/") == feed_url_key("https://eurocities.eu/feed")
    assert feed_url_key("https://eurocities.eu/feed") != feed_url_key("https://eurocities.eu/feed/atom")


ARTICLE = """
Mayors from more than forty cities gathered in Geneva on Tuesday to press national
governments for a formal role in reviewing the Global Compact for Safe, Orderly and Regular
Migration, arguing that the agreement cannot succeed without the local authorities who
house, teach and employ new arrivals.

The meeting, convened by the Mayors Migration Council with support from United Cities and
Local Governments, came weeks before member states open negotiations on the progress
declaration of the next International Migration Review Forum. City leaders want the text to
recognise local governments as partners rather than observers, and to open a direct channel
for municipal reporting on the compact's twenty-three objectives.

"We are the ones who register children in schools on their first morning and find beds
when a bus arrives at midnight," said the mayor of Freetown, who co-chairs the council's
leadership board. "States sign the compact, but cities carry it out. We are asking for a
seat at the table, not a favour."

Several delegations have signalled sympathy. Diplomats from Ecuador, Portugal and Kenya
said in a joint statement that the review should draw on evidence from local service
providers, and the United Nations Network on Migration has promised a dedicated session on
urban integration. Others remain cautious. A negotiator from a European state, speaking on
condition of anonymity, said migration policy was a matter of national sovereignty and that
the compact was deliberately drafted as a non-binding framework among states.

The disagreement echoes the debate that surrounded the compact's adoption in Marrakech in
December 2018, when a number of governments withdrew their support amid domestic campaigns
that portrayed the text as a threat to border control. Supporters point out that the
agreement explicitly reaffirms the sovereign right of states to determine their migration
policies, and that its objectives range from better data collection to safer remittances.

City networks say the practical case is overwhelming. Eurocities estimates that its members
have received a large share of people displaced from Ukraine since 2022, often before any
national reception scheme was in place. In Latin America, municipalities along the route
through the Darien have organised shelters and health screening with little national
funding. Researchers at the Migration Policy Institute note that the most successful
integration programmes tend to be designed and delivered locally.

The Global Cities Fund for Migrants and Refugees, launched in 2021, has so far financed
projects in more than thirty cities, from job training in Amman to legal aid in Bogota.
Organisers hope the review forum will encourage donors and states to channel more money
directly to local governments. The forum's outcome document will be negotiated over the
coming months, with a first draft expected in the spring.
"""

# A partner site's copy: its own intro and footer, two edits.
REPUBLICATION = (
    "This article was originally published by our partner news agency and is republished "
    "with permission. "
    + ARTICLE.replace("on Tuesday", "this week").replace("Several delegations", "A number of delegations")
    + " Read more coverage of migration and cities in our weekly newsletter."
)

# Same beat, same vocabulary ("Global Compact", "states", "migration"), different story.
DIFFERENT_STORY = """
The United Nations refugee agency warned on Monday that funding cuts are forcing it to
reduce food rations in camps across East Africa, as the number of people fleeing the war in
Sudan continues to rise. The agency said it had received less than a third of the money it
needs this year and that aid workers were being laid off in several countries. Officials in
Chad described overcrowded reception sites near the border, where new arrivals wait days
for water and shelter. Donor governments have been asked to release emergency funds before
the rainy season makes roads impassable, and the agency appealed to states to honour the
commitments they made under the Global Compact on Refugees to share responsibility for
hosting people forced to flee. Humanitarian groups said the cuts would fall hardest on
children and on women travelling alone, and urged neighbouring countries to keep borders open.
"""


def test_typography_and_case_differences_are_exact_duplicates() -> None:
    retyped = (
        ARTICLE.upper()
        .replace('"', "\u201c")
        .replace("'", "\u2019")
        .replace(" ", "\u00a0  ")
        .replace("fi", "\ufb01")  # ligature
    )
    assert fingerprint_article("x", retyped).text_hash == fingerprint_article("y", ARTICLE).text_hash
    assert normalize_text("Pacte mondial\u00a0: «\u00a0les villes\u00a0»") == "pacte mondial les villes"


def test_republication_with_own_intro_and_footer_is_a_near_duplicate() -> None:
    original = fingerprint_article("Cities demand a seat at the table", ARTICLE)
    copy = fingerprint_article("Cities demand a seat at the table - Partner News", REPUBLICATION)
    assert original.text_hash != copy.text_hash
    assert is_near_duplicate(original, copy)


def test_excerpt_of_most_of_the_article_is_a_near_duplicate() -> None:
    words = ARTICLE.split()
    excerpt = " ".join(words[: int(len(words) * 0.9)])
    assert is_near_duplicate(fingerprint_article("a", ARTICLE), fingerprint_article("b", excerpt))


def test_different_story_on_the_same_beat_is_not_a_near_duplicate() -> None:
    a = fingerprint_article("Cities demand a seat", ARTICLE)
    b = fingerprint_article("UNHCR cuts rations", DIFFERENT_STORY)
    assert not is_near_duplicate(a, b)
    assert hamming_distance(a.simhash, b.simhash) > 16


def test_articles_without_text_are_never_duplicates_of_each_other() -> None:
    a = fingerprint_article("Mayors meet in Geneva", "")
    b = fingerprint_article("UN agency cuts food rations", "   \n ")
    assert a.text_hash == b.text_hash == ""
    assert a.simhash != b.simhash  # taken from the title, so stories stay apart in the store
    assert not is_near_duplicate(a, a)


@pytest.mark.parametrize(
    "title",
    [
        "UN migration pact: cities want a seat at the table",
        "UN migration pact: cities want a seat at the table - Reuters",
        "UN migration pact: cities want a seat at the table | World news | The Guardian",
        "UN Migration Pact: Cities Want a Seat at the Table — France 24",
        "UN migration pact: cities want a seat at the table - news.un.org",
        "  UN migration pact:  cities want a seat at the table · DW  ",
    ],
)
def test_outlet_suffixes_do_not_change_the_title_key(title: str) -> None:
    assert fingerprint_article(title, "").title_key == "un migration pact cities want a seat at the table"


@pytest.mark.parametrize(
    "title",
    [
        "Pact signed in Marrakech - cities left out",
        "Pacte mondial : les villes réclament une place",
        "Compact review - what mayors want",
    ],
)
def test_a_clause_that_is_not_an_outlet_name_is_kept(title: str) -> None:
    assert strip_outlet_suffix(title) == title


def test_simhash_is_a_signed_64_bit_integer_that_fits_a_sql_bigint() -> None:
    rng = random.Random(7)
    vocabulary = ARTICLE.split() + DIFFERENT_STORY.split()
    values = [fingerprint_article("t", " ".join(rng.choices(vocabulary, k=200))).simhash for _ in range(200)]
    assert all(-(2**63) <= value < 2**63 for value in values)
    assert any(value < 0 for value in values) and any(value > 0 for value in values)


def test_hamming_distance_treats_signed_and_unsigned_forms_alike() -> None:
    assert hamming_distance(-1, 2**64 - 1) == 0
    assert hamming_distance(-1, 0) == 64
    assert hamming_distance(0b1011, 0b0001) == 2


def test_fingerprint_of_a_2000_word_article_is_fast() -> None:
    text = " ".join(random.Random(1).choices(ARTICLE.split(), k=2000))
    started = time.perf_counter()
    for _ in range(10):
        fingerprint_article("t", text)
    assert (time.perf_counter() - started) / 10 < 0.05
