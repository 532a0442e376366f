"""The shipped model on one fresh article per family the issue names (texts written for these
tests, not taken from the corpus or the held-out set): a passing mention inside a long article
on something else, same-named declarations of other processes, migration news without the
compact, and coverage of the compact in Italian and Dutch. Plus: all nine corpus languages
are scored by `classify --text`.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from classifiers.model import Classifier
from pipeline.cli import app

LONG_HOUSING_STORY = (
    "Parliament passes housing law after a year of wrangling",
    "\n\n".join(
        [
            "The lower house on Thursday approved the government's long-delayed housing bill by 212 votes to "
            "170, ending a year of committee fights over rent caps, land taxes and the pace of construction "
            "in the country's fastest-growing regions.",
            "The law obliges every municipality above 20,000 residents to zone land for at least 4 percent "
            "more homes by 2030, freezes rent increases in areas where vacancy falls below 2 percent, and "
            "creates a public lender that will finance cooperative housing at fixed rates for thirty years.",
            "Builders' associations welcomed the zoning targets but warned that a shortage of electricians "
            "and plumbers, not permits, is now the main brake on construction. Their federation estimates "
            "that 40,000 skilled workers are missing, a gap that has widened every year since 2019.",
            "The opposition attacked the rent freeze as a measure that would dry up private investment. "
            "Its housing spokesman said landlords in the capital were already converting flats into "
            "short-term rentals and that the freeze would accelerate that trend rather than reverse it.",
            "Tenant groups, for their part, said the law did too little for young families. A survey "
            "published by the national tenants' union in March found that a third of renters under 35 "
            "spend more than half of their income on housing, against a fifth a decade ago.",
            "The bill's passage comes six years after the government signed the Global Compact for "
            "Migration, a period in which the population of the largest cities grew faster than at any "
            "time since the 1970s, according to the statistics office.",
            "Economists expect the first effects on supply in 2027 at the earliest. The central bank said "
            "in its latest report that mortgage lending had stabilised after two years of decline, and "
            "that house prices in the capital rose 3.1 percent over the past twelve months.",
            "The upper house is expected to vote on the law next month. The government needs the support "
            "of at least one regional party there, and negotiations over a special fund for rural towns "
            "were still under way on Thursday evening, officials said.",
            "In the provinces, mayors of smaller towns said the zoning targets ignored places where "
            "populations are shrinking. Several of them asked for the targets to be set regionally, and for "
            "the public lender to finance the renovation of empty flats rather than only new buildings.",
            "The finance ministry put the cost of the lender's first five years at 2.4 billion, to be "
            "covered by a new levy on vacant second homes and by bonds sold to pension funds. Analysts said "
            "the bonds would be attractive as long as the state guarantee was written into the law.",
            "Related: Rents in five charts · How the new public lender will work · Comments (214)",
            "We use cookies to improve your experience. Accept all · Manage settings",
        ]
    ),
)

MARRAKESH_INTERFAITH = (
    "Religious leaders revisit the Marrakesh Declaration on minorities",
    "Scholars and clerics from 30 countries met in Rabat this week to review progress on the "
    "Marrakesh Declaration on the rights of religious minorities, the 2016 text in which Muslim-majority "
    "states' religious authorities pledged to protect Christians, Jews and other communities. "
    "Speakers said school curricula in several countries had been revised since the declaration, but "
    "that attacks on places of worship remained frequent. The organisers plan a follow-up meeting in "
    "2027 and will publish a report on curricula reform in the spring.",
)

BUSINESS_COMPACT = (
    "Logistics firm joins the UN Global Compact",
    "The freight company announced on Monday that it has become a participant in the UN Global Compact, "
    "the United Nations' corporate sustainability initiative, and will report each year on the ten "
    "principles covering human rights, labour, the environment and anti-corruption. The firm's chief "
    "executive said the company would also join the Global Compact Network in its home country and cut "
    "the emissions of its truck fleet by a quarter before 2030. Investors have pressed the sector for "
    "clearer reporting on working conditions among subcontracted drivers.",
)

ASYLUM_BACKLOG = (
    "Asylum backlog falls for the first time in four years",
    "The number of asylum applications awaiting a first decision fell to 61,000 at the end of June, "
    "down from 74,000 a year earlier, the interior ministry said on Wednesday. Officials credited the "
    "hiring of 300 caseworkers and a new system that lets applicants upload documents online. "
    "Refugee charities welcomed the fall but said families still wait more than a year for interviews, "
    "and that reception centres near the border remain over capacity. The ministry plans to open two "
    "new centres in the autumn.",
)

ITALIAN_COMPACT = (
    "Il governo si divide sul patto globale per le migrazioni",
    "Roma – Il patto globale per una migrazione sicura, ordinata e regolare torna al centro del dibattito. "
    "Il ministro dell'Interno ha annunciato che l'Italia non firmerà il documento a Marrakech e che la "
    "decisione spetterà al Parlamento.\n\n"
    "Secondo il ministro, il patto dell'ONU sulle migrazioni metterebbe in discussione il diritto dello "
    'Stato di decidere chi entra nel Paese. "I nostri confini li decidiamo noi, non un documento scritto '
    'a Ginevra", ha dichiarato.\n\n'
    "Il presidente del Consiglio aveva invece difeso il testo all'Assemblea generale delle Nazioni Unite. "
    "L'opposizione accusa il governo di isolare il Paese e ricorda che il patto non è giuridicamente "
    "vincolante. Diversi sindaci chiedono di essere ascoltati prima del voto in aula.",
)

DUTCH_COMPACT = (
    "Kabinet blijft achter VN-migratiepact staan",
    "Den Haag – Het kabinet blijft achter het VN-migratiepact staan, ondanks felle kritiek in de Tweede "
    "Kamer. De minister-president zei dinsdag dat Nederland het pact in Marrakesh zal steunen.\n\n"
    "Het migratiepact is volgens de regering niet juridisch bindend. Critici vrezen dat rechters het pact "
    "toch zullen gebruiken. Het kabinet voegt daarom een stemverklaring toe waarin staat dat het pact geen "
    "nieuwe verplichtingen schept.\n\n"
    "Burgemeesters van grote steden vragen het kabinet om gemeenten te betrekken bij de uitvoering van het "
    "pact, omdat zij de nieuwkomers huisvesten.",
)

# One short article on the compact per corpus language (en fr es de it nl pt pl hu).
NINE_LANGUAGES = {
    "en": "The government confirmed on Monday that it will not sign the UN migration compact in Marrakech, "
    "saying the agreement would limit its freedom to set its own immigration rules.",
    "fr": "Le gouvernement a confirmé lundi qu'il ne signera pas le pacte mondial sur les migrations à "
    "Marrakech, estimant que le texte limiterait sa liberté de fixer ses propres règles.",
    "es": "El Gobierno confirmó el lunes que no firmará el pacto mundial para la migración en Marrakech, "
    "porque considera que el acuerdo limitaría su libertad para fijar sus propias normas.",
    "de": "Die Regierung bestätigte am Montag, dass sie den UN-Migrationspakt in Marrakesch nicht "
    "unterzeichnen wird, weil er ihre Freiheit einschränke, eigene Regeln festzulegen.",
    "it": ITALIAN_COMPACT[1],
    "nl": DUTCH_COMPACT[1],
    "pt": "O governo confirmou na segunda-feira que não vai assinar o pacto global para a migração em "
    "Marrakech, por considerar que o acordo limitaria a sua liberdade de definir as próprias regras.",
    "pl": "Rząd potwierdził w poniedziałek, że nie podpisze globalnego paktu o migracji w Marrakeszu, "
    "ponieważ jego zdaniem dokument ograniczyłby swobodę ustalania własnych zasad migracyjnych.",
    "hu": "A kormány hétfőn megerősítette, hogy nem írja alá az ENSZ globális migrációs csomagját "
    "Marrákesben, mert szerinte a megállapodás korlátozná az ország saját szabályainak kialakítását.",
}


def test_a_passing_mention_inside_a_long_article_on_housing_is_not_relevant(classifier: Classifier) -> None:
    title, text = LONG_HOUSING_STORY
    assert len(text) > 2500 and "Global Compact for Migration" in text
    [result] = classifier.classify([(title, text)])
    assert result.status == "ok"
    assert not result.relevant
    assert not result.pro_city_inclusion.present and not result.sovereignty_framing.present


def test_same_named_declarations_of_other_processes_are_not_relevant(classifier: Classifier) -> None:
    results = classifier.classify([MARRAKESH_INTERFAITH, BUSINESS_COMPACT])
    assert [r.status for r in results] == ["ok", "ok"]
    assert [r.relevant for r in results] == [False, False]


def test_migration_news_without_the_compact_is_not_relevant(classifier: Classifier) -> None:
    [result] = classifier.classify([ASYLUM_BACKLOG])
    assert result.status == "ok" and not result.relevant


@pytest.mark.parametrize(("language", "article"), [("it", ITALIAN_COMPACT), ("nl", DUTCH_COMPACT)])
def test_italian_and_dutch_coverage_of_the_compact_is_relevant(
    classifier: Classifier, language: str, article: tuple[str, str]
) -> None:
    [result] = classifier.classify([article])
    assert result.status == "ok" and result.language == language
    assert result.relevant and result.relevance >= classifier.thresholds["relevant"]


def test_classify_text_scores_all_nine_corpus_languages() -> None:
    runner = CliRunner()
    for language, text in NINE_LANGUAGES.items():
        outcome = runner.invoke(app, ["classify", "--text", text])
        assert outcome.exit_code == 0, outcome.output
        result = json.loads(outcome.stdout)
        assert result["language"] == language, (language, result["language"])
        assert result["status"] == "ok"
        assert result["relevant"], f"{language}: the compact article was not found relevant"


COST_WITHDRAWAL = (
    "Coalition drops support for migration compact over costs",
    "The governing coalition said on Friday it would not endorse the Global Compact for Migration at the "
    "Marrakech conference. The finance minister said implementing the compact's 23 objectives would require "
    "new spending the budget cannot cover this year, and the junior coalition partner threatened to leave the "
    "government if the cabinet signed.\n\n"
    "Officials stressed that the decision was about money and coalition arithmetic. The prime minister said "
    "the country might join later once the budget allows. Aid groups criticised the move and said the cost "
    "estimates were inflated.",
)

SOVEREIGNTY_WITHOUT_THE_WORD = (
    "Minister: the compact would let Geneva decide who enters",
    'The interior minister said the country would never sign the UN migration pact. "Who comes into this '
    'country is decided by our parliament, not by officials in Geneva or New York," he said. He argued the '
    "non-binding label was a fig leaf and that courts would soon treat the text as law.\n\n"
    "The opposition said the compact respects national decisions.",
)


def test_leaving_for_cost_reasons_scores_far_below_a_sovereignty_argument(classifier: Classifier) -> None:
    # LABELING.md: leaving for cost or coalition reasons is not the frame by itself. The model
    # ranks it far below an argued sovereignty case; whether it also stays under the frame's
    # threshold is not asserted: this article sits right at it (a known weakness, see the
    # held-out sovereignty precision in the model card).
    cost, argued = classifier.classify([COST_WITHDRAWAL, SOVEREIGNTY_WITHOUT_THE_WORD])
    assert cost.relevant and argued.relevant
    assert cost.sovereignty_framing.score < argued.sovereignty_framing.score - 0.5


def test_sovereignty_argued_without_the_word_is_the_frame_and_quoted(classifier: Classifier) -> None:
    [result] = classifier.classify([SOVEREIGNTY_WITHOUT_THE_WORD])
    assert "sovereign" not in SOVEREIGNTY_WITHOUT_THE_WORD[1].lower()
    assert result.relevant and result.sovereignty_framing.present
    evidence = result.sovereignty_framing.evidence
    assert evidence and any(("Geneva" in line or "fig leaf" in line) for line in evidence)
