# ruff: noqa: E501  (sample prose is easier to read unwrapped)
"""A realistic sample archive, and screenshots of it in Debian's Chromium.

`python -m archive.showcase --out build/screenshots` seeds a temporary database with four
months of invented coverage (outlets in four languages, story clusters, syndicated
copies, analyst corrections, alerts, a failing feed, a model card with a rejected
candidate), serves the archive on a free port and photographs each page. It exists so the
look of the archive can be checked on data that resembles production, not on three rows
of test fixtures. Every outlet, quote and article here is made up.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archive.browser import CHROMIUM, CHROMIUM_ARGS
from pipeline.dedupe import fingerprint_article
from pipeline.records import (
    Classification,
    Extraction,
    FeedConfig,
    FeedEntry,
    FeedHealth,
    FrameResult,
    NewArticle,
    PollResult,
)
from pipeline.store import Store

MODEL = "cw-20261120-3fa9c1d2"
OLD_MODEL = "cw-20261002-81be07aa"


@dataclass(frozen=True)
class Outlet:
    name: str
    language: str
    url: str
    weight: float  # relative volume


OUTLETS = (
    Outlet("Harbour Chronicle", "en", "https://harbourchronicle.example/rss", 1.4),
    Outlet("Global Affairs Wire", "en", "https://gawire.example/feeds/world.xml", 1.8),
    Outlet("Metro Policy Review", "en", "https://metropolicy.example/feed", 0.9),
    Outlet("The Atlantic Ledger", "en", "https://atlanticledger.example/rss/politics", 1.1),
    Outlet("City Desk Daily", "en", "https://citydesk.example/rss", 1.0),
    Outlet("Le Courrier du Nord", "fr", "https://courrierdunord.example/rss", 0.8),
    Outlet("La Voix des Villes", "fr", "https://voixdesvilles.example/flux", 0.5),
    Outlet("Diario del Sur", "es", "https://diariodelsur.example/rss", 0.8),
    Outlet("Rheinische Rundschau", "de", "https://rundschau.example/feed.xml", 0.7),
    Outlet("Nordic Press Agency", "en", "https://nordicpress.example/rss", 0.4),
)
CITIES = ("Lisbon", "Montreal", "Bristol", "Freetown", "Kampala", "São Paulo", "Barcelona", "Milan",
          "Athens", "Bogotá", "Quezon City", "Amman", "Mexico City", "Zurich", "Dakar", "Auckland")  # fmt: skip


@dataclass(frozen=True)
class Template:
    """One kind of story: title variants, its key paragraphs (some are evidence), and the
    frames it carries. Context sentences from a shared pool make each article unique."""

    kind: str  # city | sov | both | neutral | other
    language: str
    titles: tuple[str, ...]
    paragraphs: tuple[str, ...]
    city_evidence: tuple[int, ...] = ()
    sov_evidence: tuple[int, ...] = ()


T = Template
TEMPLATES = (
    T("city", "en", (
        "Mayors of {n} cities press UN for a formal seat at the migration compact review",
        "Cities want a voice as states prepare to review the migration compact",
        "{city} mayor backs call for cities' seat at UN migration review",
        "{n} mayors sign letter demanding role in migration compact talks",
        "Letter from {n} cities asks UN to open compact review to local leaders",
        "‘Consequences are managed on our streets’: mayors seek say in compact review",
    ), (
        "A coalition of {n} mayors asked the United Nations this week to give local governments a formal role when states review progress on the Global Compact for Migration.",
        "In a joint letter to the co-facilitators of the review forum, the mayors argued that cities already deliver most of the services the compact describes, from language classes to job placement.",
        "“Decisions about migration are taken in capitals, but their consequences are managed on our streets,” the letter says, signed among others by the mayor of {city}.",
    ), city_evidence=(0, 1)),
    T("city", "en", (
        "{city} joins city network pledging local action on the migration compact",
        "{city} signs pledge to implement migration compact locally",
        "City network grows to {n} members as {city} signs compact pledge",
        "{city} council votes to back local action plan on migration compact",
    ), (
        "{city} on {weekday} became the latest city to sign a pledge committing local authorities to implement objectives of the Global Compact for Migration, regardless of national politics.",
        "The pledge asks national governments to include mayors in their delegations to the International Migration Review Forum and to fund local integration programmes directly.",
        "The network now counts {n} members on five continents, its secretariat said.",
    ), city_evidence=(0, 1)),
    T("city", "en", (
        "Opinion: the migration compact will only work if cities are at the table",
        "Comment: give mayors a say in how the migration compact is judged",
        "Analysis: why the compact review needs the view from {city}",
    ), (
        "Years after Marrakech, the Global Compact for Migration is remembered mostly for the governments that walked away from it. That is the wrong lesson.",
        "The compact succeeds or fails in town halls: it is cities that register newcomers, enrol their children and find them work, and it is cities that should report on whether its promises are kept.",
        "Giving mayors a formal place in the review would cost states nothing and would bring the evidence the forum so badly lacks.",
    ), city_evidence=(1, 2)),
    T("city", "en", (
        "Regional compact review in {city} hears from city officials for the first time",
        "Deputy mayors address regional review of the migration compact",
        "Cities ask to be named partners in {city} compact review declaration",
    ), (
        "Delegates at the regional review of the migration compact in {city} heard for the first time from a panel of deputy mayors and city migration officers.",
        "The officials asked that local governments be named as partners in the review's final declaration, arguing that the compact's objectives on inclusion are delivered almost entirely at the local level.",
        "UN officials said the session could become a model for the global forum next year.",
    ), city_evidence=(1,)),
    T("sov", "en", (
        "Government confirms it will not endorse the migration compact, citing sovereignty",
        "Minister rules out joining UN migration pact: ‘our borders, our rules’",
        "Cabinet rejects migration compact after {weekday} meeting",
        "Government says UN pact threatens control over immigration law",
    ), (
        "The interior minister said on {weekday} that the government would not endorse the Global Compact for Migration, arguing that it would limit the nation's right to decide who may enter its territory.",
        "“No international document will dictate our border policy,” the minister told parliament, adding that the compact could be used by courts to reinterpret national law.",
        "UN officials responded that the compact is explicitly non-binding and reaffirms the sovereign right of states to determine their own migration policies.",
    ), sov_evidence=(0, 1)),
    T("sov", "en", (
        "Opposition warns migration compact could become binding ‘through the back door’",
        "MPs demand vote before minister attends UN migration review",
        "{n} MPs sign motion against ‘binding’ migration compact",
    ), (
        "Opposition leaders warned on {weekday} that the Global Compact for Migration could become binding through the back door, as judges cite it when interpreting asylum law.",
        "They demanded a vote in parliament before any minister travels to the review forum in New York.",
        "Legal scholars said the fear was overstated but acknowledged that soft-law instruments are sometimes quoted in court rulings.",
    ), sov_evidence=(0,)),
    T("both", "en", (
        "Mayors vow to implement migration compact after national government withdraws",
        "Defying withdrawal, {city} and three other cities stick with UN migration pact",
        "{city} mayor: ‘we stay in the compact even if the government leaves’",
    ), (
        "After the government announced its withdrawal from the migration compact on grounds of national sovereignty, the mayors of four of the largest cities said they would implement its objectives locally.",
        "The foreign ministry had argued that the compact “erodes the country's control over its borders”, a claim repeated by the prime minister in a televised address.",
        "The mayors, led by {city}, wrote to the UN Secretary-General asking that cities be recognised as partners in the compact's review even where their national government has left it.",
    ), city_evidence=(0, 2), sov_evidence=(1,)),
    T("neutral", "en", (
        "What is the Global Compact for Migration? An explainer",
        "The migration compact, explained in five questions",
    ), (
        "The Global Compact for Safe, Orderly and Regular Migration was adopted at an intergovernmental conference in Marrakech in December 2018 and endorsed by the UN General Assembly days later.",
        "It sets out 23 objectives, from better data to safer migration routes, and is reviewed every four years at the International Migration Review Forum.",
    )),
    T("neutral", "en", (
        "UN member states gather in New York for the International Migration Review Forum",
        "Migration review forum opens with calls for better data",
        "Day {n} of talks: states haggle over migration review declaration",
    ), (
        "Delegations from more than 150 states met in New York on {weekday} for the International Migration Review Forum, the main global review of the migration compact.",
        "The draft progress declaration, negotiated for months, covers labour pathways, data and the protection of migrants in vulnerable situations.",
    )),
    T("neutral", "en", (
        "Refugee compact progress report shows uneven sharing of responsibility",
    ), (
        "A new progress report on the Global Compact on Refugees finds that a small number of host countries still carry most of the responsibility for the world's refugees.",
        "Pledges made at the last Global Refugee Forum have been partly delivered, the report says.",
    )),
    T("other", "en", ("City council approves new tram line to the harbour district", "Tram extension to {city} harbour gets green light"), (
        "The city council approved a new tram line linking the central station to the harbour district by {n} votes.",
        "Construction is expected to start next spring and to last two years.",
    )),
    T("other", "en", ("Heatwave strains reservoirs as officials urge water savings", "{city} asks residents to save water"), (
        "Officials urged residents to save water as a heatwave drove reservoir levels to their lowest in a decade.",
    )),
    T("other", "en", ("Border agency reports longer visa processing times", "Visa waits reach {n} days, agency says"), (
        "The border agency said visa applications now take an average of {n} days to process.",
        "Staff shortages and a new digital system were blamed for the delays.",
    )),
    T("other", "en", ("Mayor opens renovated central library after three-year refit", "{city} library reopens after renovation"), (
        "The mayor reopened the central library on {weekday} after a three-year renovation.",
    )),
    T("other", "en", ("Trade ministers fail to settle tariff dispute", "Steel tariff talks end without deal", "{city} port traffic up {n} percent"), (
        "Trade ministers ended two days of talks without settling their dispute over steel tariffs.",
    )),
    T("other", "en", ("Turnout expected to rise in municipal elections", "{city} election: {n} candidates register"), (
        "Pollsters expect turnout in next month's municipal elections to rise for the first time in {n} years.",
    )),
    T("city", "fr", (
        "Les maires réclament une place dans l’examen du Pacte mondial sur les migrations",
        "Migrations : {city} et {n} villes demandent à siéger à l’ONU",
        "Pacte mondial : la maire de {city} plaide pour le rôle des villes",
        "{n} maires écrivent à l’ONU sur le Pacte mondial",
    ), (
        "Une trentaine de maires ont demandé aux Nations unies un rôle officiel dans l’examen du Pacte mondial pour des migrations sûres, ordonnées et régulières.",
        "« Ce sont nos villes qui accueillent, logent et forment les nouveaux arrivants », écrivent-ils dans une lettre adressée au forum d’examen.",
    ), city_evidence=(0, 1)),
    T("sov", "fr", (
        "Le gouvernement refuse le pacte de Marrakech au nom de la souveraineté nationale",
        "Pacte sur les migrations : le ministre invoque la souveraineté",
        "Le pacte de l’ONU « menace nos frontières », selon le gouvernement",
    ), (
        "Le ministre de l’Intérieur a affirmé que le pacte sur les migrations menacerait la souveraineté nationale en matière de contrôle des frontières.",
        "Les Nations unies rappellent que le texte n’est pas contraignant.",
    ), sov_evidence=(0,)),
    T("other", "fr", ("Le conseil municipal vote le budget des transports", "Tramway : les travaux reprennent à {city}", "Logement : {n} nouveaux chantiers annoncés"), (
        "Le conseil municipal a adopté le budget des transports pour l’année prochaine.",
    )),
    T("city", "es", (
        "Alcaldes piden un papel formal en la revisión del Pacto Mundial sobre Migración",
        "{city} encabeza la petición de las ciudades ante la ONU",
        "{n} alcaldes escriben a la ONU sobre el pacto migratorio",
    ), (
        "Los alcaldes de varias ciudades latinoamericanas pidieron a la ONU participar formalmente en la revisión del Pacto Mundial para una Migración Segura, Ordenada y Regular.",
        "Argumentan que son las ciudades las que reciben a los migrantes y prestan los servicios básicos.",
    ), city_evidence=(0, 1)),
    T("sov", "es", (
        "El Gobierno rechaza el pacto migratorio de la ONU por motivos de soberanía",
        "El canciller defiende la soberanía frente al pacto migratorio",
    ), (
        "El Gobierno anunció que no respaldará el pacto migratorio de la ONU porque, según el canciller, limitaría la soberanía del país sobre sus fronteras.",
    ), sov_evidence=(0,)),
    T("other", "es", ("La sequía obliga a restringir el riego en la región", "{city} amplía su red de bicicletas", "Nuevo hospital en {city} abrirá en {n} meses"), (
        "Las autoridades restringieron el riego agrícola por la sequía más larga en {n} años.",
    )),
    T("sov", "de", (
        "Regierung lehnt UN-Migrationspakt unter Verweis auf nationale Souveränität ab",
        "Innenminister: Migrationspakt gefährdet nationale Kontrolle",
    ), (
        "Der Innenminister erklärte, der Migrationspakt schränke das Recht des Staates ein, selbst über Zuwanderung zu entscheiden.",
        "Die Vereinten Nationen betonen, der Pakt sei rechtlich nicht bindend.",
    ), sov_evidence=(0,)),
    T("city", "de", (
        "Bürgermeister fordern Mitsprache bei der Überprüfung des Migrationspakts",
        "{city} will bei der UN-Migrationsprüfung mitreden",
        "{n} Städte fordern Platz am Verhandlungstisch",
    ), (
        "Die Bürgermeister mehrerer Großstädte fordern eine formelle Rolle bei der Überprüfung des UN-Migrationspakts.",
        "Städte trügen die Hauptlast der Integration und müssten deshalb mit am Verhandlungstisch sitzen.",
    ), city_evidence=(0, 1)),
    T("other", "de", ("Stadtrat beschließt Sanierung der Rheinbrücke", "Neue Radwege für {city}", "Hochwasserschutz: {n} Millionen für das Rheinufer"), (
        "Der Stadtrat hat die Sanierung der Rheinbrücke beschlossen; die Arbeiten beginnen im Frühjahr.",
    )),
)  # fmt: skip

# Background sentences: each article draws a few, so no two texts are the same.
CONTEXT = {
    "en": (
        "The compact, adopted in 2018, is not legally binding and leaves migration policy to each state.",
        "Around {n} percent of the world's migrants live in cities, according to UN estimates.",
        "The next global review is due to conclude with a progress declaration agreed by consensus.",
        "Civil society groups have long complained that the review process is hard to follow from outside New York.",
        "Several governments have set up national implementation plans, though many have not reported on them.",
        "A spokesperson for the International Organization for Migration said the agency welcomed the debate.",
        "Officials in {city} said they had not been consulted before the national position was announced.",
        "The debate comes weeks before ministers meet to agree the forum's final text.",
        "Critics say progress on safe and regular pathways has been slow since the compact was adopted.",
        "Human rights organisations urged states to focus on the protection of migrants at sea.",
        "The city's own migration office handled more than {n} thousand requests last year.",
        "Diplomats expect the negotiations on the declaration to run until the final night of the forum.",
        "Business groups have called for more labour migration agreements between states.",
        "Researchers note that data on migration remains patchy in many regions.",
        "The council meets again on {weekday} to discuss the budget for the coming year.",
        "Residents interviewed on {weekday} were divided over the plans.",
    ),
    "fr": (
        "Le pacte, adopté en 2018, n’est pas juridiquement contraignant.",
        "Selon l’ONU, une majorité des migrants vivent aujourd’hui en ville.",
        "Les associations demandent davantage de transparence dans le processus d’examen.",
        "La municipalité de {city} affirme ne pas avoir été consultée.",
        "Le débat intervient quelques semaines avant le forum d’examen à New York.",
        "Les élus se réuniront de nouveau {weekday} prochain.",
    ),
    "es": (
        "El pacto, adoptado en 2018, no es jurídicamente vinculante.",
        "Según la ONU, la mayoría de los migrantes vive en ciudades.",
        "Las organizaciones sociales piden más transparencia en el proceso de revisión.",
        "El ayuntamiento de {city} dice que no fue consultado.",
        "El debate llega semanas antes del foro de examen en Nueva York.",
    ),
    "de": (
        "Der 2018 verabschiedete Pakt ist rechtlich nicht bindend.",
        "Nach UN-Angaben lebt die Mehrheit der Migranten in Städten.",
        "Verbände fordern mehr Transparenz im Überprüfungsverfahren.",
        "Die Stadt {city} sagt, sie sei nicht konsultiert worden.",
        "Die Debatte findet wenige Wochen vor dem Überprüfungsforum in New York statt.",
    ),
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def _classification(
    t: Template, paragraphs: Sequence[str], rng: random.Random, version: str
) -> Classification:
    relevant = t.kind != "other"
    city = t.kind in ("city", "both")
    sov = t.kind in ("sov", "both")

    def score(present: bool, sure: float = 0.82) -> float:
        if rng.random() > sure:  # the model is unsure about some
            return round(rng.uniform(0.36, 0.66), 3)
        return round(rng.uniform(0.6, 0.98) if present else rng.uniform(0.02, 0.34), 3)

    relevance = score(relevant, 0.9 if relevant else 0.96)
    city_score, sov_score = score(city), score(sov)
    judged_relevant = relevance >= 0.55
    evidence_city = tuple(paragraphs[i] for i in t.city_evidence)
    evidence_sov = tuple(paragraphs[i] for i in t.sov_evidence)
    return Classification(
        relevant=judged_relevant,
        relevance=relevance,
        pro_city_inclusion=FrameResult(judged_relevant and city_score >= 0.5, city_score, evidence_city),
        sovereignty_framing=FrameResult(judged_relevant and sov_score >= 0.5, sov_score, evidence_sov),
        model_version=version,
        language=t.language,
    )


def _compose(t: Template, rng: random.Random, values: dict[str, str]) -> tuple[str, tuple[str, ...], str]:
    """Title, key paragraphs (slots filled) and the full text with context woven in."""
    title = rng.choice(t.titles).format(**values)
    key = tuple(p.format(**values) for p in t.paragraphs)
    context = [
        c.format(**values) for c in rng.sample(CONTEXT[t.language], k=min(4, len(CONTEXT[t.language])))
    ]
    body = [key[0], *context[:2], *key[1:], *context[2:]]
    return title, key, "\n\n".join(body)


def _pick(pool: Sequence[Template], rng: random.Random, day: int, peak: float) -> Template:
    """Coverage that changes over time: sovereignty stories spike at the review forum,
    the cities' campaign grows week after week, and ordinary news fills the rest."""
    weights = []
    for t in pool:
        w = {"other": 2.2, "neutral": 0.7, "city": 0.32, "sov": 0.5, "both": 0.2}[t.kind]
        if t.kind in ("sov", "both") and peak > 2:
            w *= 3.0
        if t.kind == "city":
            w *= 0.6 + 1.2 * (1 - day / 120)
        if t.kind != "other":
            w *= peak
        weights.append(w)
    return rng.choices(pool, weights=weights)[0]


def _store_one(
    store: Store, feed_id: int, outlet: Outlet, t: Template, title: str, key: tuple[str, ...], text: str,
    published: datetime, cls: Classification, rng: random.Random, n: int,
) -> int:  # fmt: skip
    slug = "-".join(title.lower().split())[:60]
    base = outlet.url.split("/rss")[0].split("/feed")[0].split("/flux")[0]
    url = f"{base}/{published:%Y/%m/%d}/{slug}-{n}"
    summary_only = rng.random() < 0.05
    saved = store.save_article(
        NewArticle(
            feed_id=feed_id,
            url=url,
            canonical_url=url,
            entry=FeedEntry(link=url, title=title, summary="", published=published),
            extraction=Extraction(
                status="summary_only" if summary_only else "ok",
                title=title,
                text=text,
                site_name=outlet.name,
                published=published,
                language=t.language,
                detail="article page timed out after 15 s; the feed's summary was classified"
                if summary_only
                else None,
            ),
            fingerprint=fingerprint_article(title, text),
            classification=cls,
        ),
        alert_channels=("#compact-alerts",) if cls.relevant else (),
    )
    return saved.article_id


def seed_sample_archive(store: Store, *, days: int = 120, seed: int = 7) -> dict[str, int]:
    """Fill `store` with a realistic archive; returns a few ids worth photographing."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    ids = store.sync_feeds([FeedConfig(o.name, o.url, language=o.language, tags=("news",)) for o in OUTLETS])
    by_language: dict[str, list[Template]] = {}
    for t in TEMPLATES:
        by_language.setdefault(t.language, []).append(t)
    same_language = {o.language: [x for x in OUTLETS if x.language == o.language] for o in OUTLETS}
    picks: dict[str, int] = {}
    found: dict[str, int] = dict.fromkeys(ids, 0)
    last_used: dict[str, int] = {}
    n = 0
    for day in range(days, -1, -1):
        when = now - timedelta(days=day)
        peak = 2.6 if 38 <= day <= 44 else (1.6 if 70 <= day <= 73 else 1.0)
        weekend = 0.55 if when.weekday() >= 5 else 1.0
        for outlet in OUTLETS:
            expected = outlet.weight * weekend * (1.4 if peak > 1 else 1.0) * 1.3
            for _ in range(int(expected) + (1 if rng.random() < expected % 1 else 0)):
                # Real headlines do not repeat word for word (the store would rightly
                # cluster them into one story; here every article is "fetched" now, so any
                # repeat would): retry until this one is new.
                for _attempt in range(8):
                    t = _pick(by_language[outlet.language], rng, day, peak)
                    values = {
                        "city": rng.choice(CITIES),
                        "n": str(rng.randint(12, 48)),
                        "weekday": rng.choice(WEEKDAYS),
                    }
                    title, key, text = _compose(t, rng, values)
                    if title not in last_used:
                        break
                else:
                    continue
                last_used[title] = day
                published = min(
                    when.replace(hour=rng.randint(5, 21), minute=rng.randint(0, 59)),
                    now - timedelta(minutes=7),
                )
                cls = _classification(t, key, rng, MODEL if day < 50 else OLD_MODEL)
                n += 1
                article_id = _store_one(
                    store, ids[outlet.name], outlet, t, title, key, text, published, cls, rng, n
                )
                found[outlet.name] += 1
                if t.kind == "both" and t.language == "en" and day < 60:
                    picks.setdefault("both", article_id)
                # Syndication: a wire story republished word for word by a sister outlet.
                if t.kind != "other" and rng.random() < 0.12:
                    partner = rng.choice(
                        [o for o in same_language[outlet.language] if o != outlet] or [outlet]
                    )
                    if partner != outlet:
                        n += 1
                        copy = _classification(t, key, rng, cls.model_version)
                        later = min(
                            published + timedelta(hours=rng.randint(1, 9)), now - timedelta(minutes=3)
                        )
                        _store_one(
                            store, ids[partner.name], partner, t, title, key, text, later, copy, rng, n
                        )
                        found[partner.name] += 1
    for outlet in OUTLETS:
        failing = outlet.name in ("Nordic Press Agency", "Rheinische Rundschau")
        gone = outlet.name == "Nordic Press Agency"
        store.note_new_entries(ids[outlet.name], found[outlet.name])
        health = FeedHealth(
            status="failing" if failing else "ok",
            last_attempt_at=now - timedelta(minutes=rng.randint(2, 25)),
            last_success_at=now
            - (timedelta(days=3, hours=4) if failing else timedelta(minutes=rng.randint(2, 30))),
            consecutive_failures=11 if gone else (3 if failing else 0),
            last_error=(
                "HTTP 503 Service Unavailable"
                if gone
                else "timed out after 20 s (connect)"
                if failing
                else None
            ),
            next_due_at=now + timedelta(minutes=rng.randint(5, 90)),
        )
        result = PollResult(
            status="failed" if failing else "ok", http_status=503 if gone else (None if failing else 200)
        )
        store.record_poll(ids[outlet.name], result, health)
    # Alerts: most sent, a few still waiting.
    for message in store.claim_alerts(limit=100000):
        if rng.random() < 0.93:
            store.mark_alert_sent(
                message.alert_id, ts=f"{rng.randint(10**9, 2 * 10**9)}.0001", channel_id="C01"
            )
        else:
            store.reschedule_alert(message.alert_id, at=now, error="rate limited")
    # Analyst corrections, from the archive and from Slack buttons.
    from pipeline.store.archive import ArchiveFilter, ArchiveQueries

    rows = list(ArchiveQueries(store).iter_rows(ArchiveFilter(relevant=True)))
    for row in rng.sample(rows, min(30, len(rows))):
        label = rng.choice(("relevant", "pro_city_inclusion", "sovereignty_framing", "pro_city_inclusion"))
        store.add_label(
            row.id,
            label,
            not row.label(label),
            source=rng.choice(("ui", "ui", "slack")),
            who=rng.choice(("amira", "jonas", "U04B7QX2L")),
            note=rng.choice((None, "frame only mentioned in passing", "the city petition is the lead story")),
        )
    if "both" in picks:
        store.add_label(picks["both"], "sovereignty_framing", True, source="ui", who="jonas",
                        note="minister's statement quoted at length")  # fmt: skip
    return picks


def write_model_card(model_dir: Path) -> Path:
    """A model card shaped like classifiers.train writes it, with two past decisions."""

    def metrics(f1: Sequence[float]) -> dict[str, object]:
        out: dict[str, object] = {"items": 248}
        for label, value in zip(("relevant", "pro_city_inclusion", "sovereignty_framing"), f1, strict=True):
            out[label] = {
                "precision": round(value + 0.04, 3),
                "recall": round(value - 0.03, 3),
                "f1": value,
                "average_precision": round(value + 0.02, 3),
                "brier": round((1 - value) / 4, 3),
            }
        return out

    card = {
        "card_schema": 1,
        "model_version": MODEL,
        "thresholds": {
            "relevant": {"threshold": 0.55, "precision_target": 0.9},
            "pro_city_inclusion": {"threshold": 0.5, "precision_target": 0.8},
            "sovereignty_framing": {"threshold": 0.5, "precision_target": 0.8},
        },
        "data": {"corpus": "corpus.jsonl", "items": 1240, "train": 992, "test": 248, "extra_labels_used": 37},
        "metrics": {"cv": metrics((0.921, 0.842, 0.801)), "test": metrics((0.934, 0.861, 0.812))},
        "libraries": {"scikit-learn": "1.6.1", "skops": "0.11.0"},
        "history": [
            {"model_version": "cw-20260815-0b1c2d3e", "items": 1100, "decision": "promoted",
             "decided_at": "2026-08-15", "test_f1": {"relevant": 0.902, "pro_city_inclusion": 0.81,
                                                      "sovereignty_framing": 0.77}},
            {"model_version": OLD_MODEL, "items": 1180, "decision": "promoted", "decided_at": "2026-10-02",
             "test_f1": {"relevant": 0.921, "pro_city_inclusion": 0.842, "sovereignty_framing": 0.806}},
            {"model_version": "cw-20261109-c0ffee11", "items": 1225, "decision": "rejected",
             "decided_at": "2026-11-09",
             "reason": "sovereignty_framing F1 fell 0.064 (tolerance 0.02)",
             "test_f1": {"relevant": 0.925, "pro_city_inclusion": 0.85, "sovereignty_framing": 0.742},
             "current_f1": {"relevant": 0.921, "pro_city_inclusion": 0.842, "sovereignty_framing": 0.806}},
            {"model_version": MODEL, "items": 1240, "decision": "promoted", "decided_at": "2026-11-20",
             "test_f1": {"relevant": 0.934, "pro_city_inclusion": 0.861, "sovereignty_framing": 0.812}},
        ],
    }  # fmt: skip
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / "model_card.json"
    path.write_text(json.dumps(card, indent=2), encoding="utf-8")
    return path


def take_screenshots(out: Path, *, width: int = 1400, height: int = 1000) -> list[Path]:
    """Seed a temporary archive, serve it, and photograph its pages in Chromium."""
    from playwright.sync_api import sync_playwright

    from archive.app import ArchiveThread, create_app
    from archive.auth import hash_password
    from pipeline.settings import load_settings
    from pipeline.store import open_store

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="compactwatch-showcase-"))
    store = open_store(f"sqlite:///{work / 'archive.db'}")
    picks = seed_sample_archive(store)
    write_model_card(work / "models")
    settings = load_settings(
        database_url=f"sqlite:///{work / 'archive.db'}",
        model_dir=work / "models",
        analysts={"amira": hash_password("showcase")},
    )
    shots: list[Path] = []
    with ArchiveThread(create_app(settings, store)) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(f"{server.url}/login")
        page.fill("input[name=name]", "amira")
        page.fill("input[name=password]", "showcase")
        page.click("button[type=submit]")
        article = picks.get("both") or picks.get("city") or 1
        for name, path, full in (
            ("list", "/articles?relevant=yes", False),
            ("search", "/articles?q=mayors+compact&relevant=yes", False),
            ("article", f"/articles/{article}", False),
            ("article-full", f"/articles/{article}", True),
            ("trends", "/trends?period=90&bucket=week", True),
            ("review", "/review", False),
            ("feeds", "/feeds", False),
            ("models", "/models", True),
        ):
            page.goto(server.url + path)
            target = out / f"{name}.png"
            page.screenshot(path=str(target), full_page=full)
            shots.append(target)
        browser.close()
    store.close()
    return shots


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("build/screenshots"))
    args = parser.parse_args(argv)
    for path in take_screenshots(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
