"""Five weeks of earlier coverage for the demo's shift alerts (issue 14), written for the demo.

The sample pages cover 3-23 November 2026: too few stories on their own for a shift to be
measurable. This history is the rest of what the five outlets ran before and around them: a
quiet October in which sovereignty framing is rare, then the day Estmark announces its exit
from the migration compact (10 November), when reactions pile up within hours and the
sovereignty frame takes over the week's coverage, and a calmer week after.

Each entry is (UTC time, outlet key, labels, headline, one-sentence summary). The labels are
the author's, not the model's: the demo stores them with model version `demo-history` so the
archive shows where they came from. Every outlet, person and place is invented.
"""

from __future__ import annotations

from datetime import UTC, datetime

P, S = "pro_city_inclusion", "sovereignty_framing"

HISTORY: tuple[tuple[str, str, tuple[str, ...], str, str], ...] = (
    # --- a quiet October: about ten stories a week, sovereignty framing rare
    (
        "2026-10-05 08:10",
        "wire",
        (),
        "UN migration network publishes its progress survey ahead of the review",
        "The survey asks governments and cities which compact objectives they have acted on since 2022.",
    ),
    (
        "2026-10-05 15:30",
        "ledger",
        (P,),
        "Port Alder opens a one-stop desk for newcomers at the town hall",
        "The council says the desk puts its compact pledges on registration and schooling into practice.",
    ),
    (
        "2026-10-06 09:00",
        "commonground",
        (P,),
        "Refugee-led groups ask cities to co-write their compact pledges",
        "Twelve organisations want a say in the pledges cities will bring to the refugee forum.",
    ),
    (
        "2026-10-07 11:45",
        "crossings",
        (),
        "What the first review forum changed, four years on",
        "A look back at the declaration states adopted in 2022 and which of its promises were followed up.",
    ),
    (
        "2026-10-08 07:20",
        "wire",
        (P,),
        "Mayors' network counts 300 local pledges under the migration compact",
        "The network says cities now report more compact-related commitments than most national governments.",
    ),
    (
        "2026-10-09 13:10",
        "standard",
        (S,),
        "Who signed us up to this? The compact nobody voted on",
        "A column arguing that the migration compact was endorsed without a vote in parliament.",
    ),
    (
        "2026-10-10 10:00",
        "ledger",
        (),
        "Council publishes the questions it will put to the UN review",
        "A short list of the data the city wants to see in the next progress report on the compacts.",
    ),
    (
        "2026-10-12 08:30",
        "commonground",
        (P,),
        "Cities' shelter network joins the refugee compact's support platform",
        "The network will share housing models with towns receiving refugees for the first time.",
    ),
    (
        "2026-10-13 16:00",
        "wire",
        (),
        "UN envoy names co-facilitators for the migration review declaration",
        "Two ambassadors will steer negotiations on the text states are due to adopt next year.",
    ),
    (
        "2026-10-14 09:40",
        "crossings",
        (P,),
        "Local first: how three towns turned the compact into bus passes and classes",
        "A reported piece on what compact implementation looks like at the scale of a municipality.",
    ),
    (
        "2026-10-15 12:15",
        "ledger",
        (P,),
        "Welcome centre volunteers to brief UN visitors on the compact",
        "Visitors from the review secretariat will tour the city's services for newcomers next month.",
    ),
    (
        "2026-10-16 07:50",
        "wire",
        (),
        "Migration compact review: regional consultations open in three capitals",
        "Governments, cities and civil society are invited to the consultations ahead of the global forum.",
    ),
    (
        "2026-10-18 10:30",
        "commonground",
        (),
        "Explainer: the difference between the migration and refugee compacts",
        "Two agreements, two processes: a short guide to which forum reviews what, and when.",
    ),
    (
        "2026-10-19 14:00",
        "standard",
        (),
        "Week in review: the UN compacts and the budget row",
        "A round-up post that lists the week's compact news alongside the national budget debate.",
    ),
    (
        "2026-10-20 08:05",
        "wire",
        (P,),
        "City networks ask for observer status at the migration review",
        "The request would let mayors speak in the plenary rather than only at side events.",
    ),
    (
        "2026-10-21 11:20",
        "ledger",
        (P,),
        "Port Alder's compact report: languages, jobs and a new clinic",
        "The city's first voluntary report lists what it has done under the migration compact this year.",
    ),
    (
        "2026-10-22 09:15",
        "crossings",
        (),
        "Reading the draft: what the new review declaration says so far",
        "An annotated tour of the zero draft circulated to member states last week.",
    ),
    (
        "2026-10-23 15:40",
        "commonground",
        (P,),
        "Refugee forum pledges: cities lead on housing and school places",
        "An analysis of pledges registered so far finds local authorities behind most housing commitments.",
    ),
    (
        "2026-10-24 07:30",
        "wire",
        (),
        "UN agencies publish joint data on safe pathways under the compacts",
        "The figures cover resettlement, family reunion and labour pathways in the past two years.",
    ),
    (
        "2026-10-26 10:10",
        "ledger",
        (),
        "Letters: what the compact means for our harbour town",
        "Readers write in about the council's compact report and the new clinic.",
    ),
    (
        "2026-10-27 13:30",
        "wire",
        (P,),
        "Mayors press regional body to fund compact commitments",
        "City leaders say pledges on integration will stall without money from regional budgets.",
    ),
    (
        "2026-10-28 08:45",
        "crossings",
        (P,),
        "The mayors' mechanism, explained by the people who run it",
        "Interviews with the staff who bring city reports into the UN migration review.",
    ),
    (
        "2026-10-29 12:00",
        "commonground",
        (),
        "Civil society sets out its asks for the migration review",
        "A coalition statement lists ten priorities for the declaration, from data to detention.",
    ),
    (
        "2026-10-30 09:20",
        "standard",
        (),
        "The compacts: a reading list for the long weekend",
        "Links to the texts of both compacts and to commentary from several sides of the debate.",
    ),
    (
        "2026-10-31 16:15",
        "wire",
        (P,),
        "Cities' compact pledges to be showcased at the regional review",
        "Organisers say a session on local implementation was added after requests from city networks.",
    ),
    (
        "2026-11-01 10:40",
        "ledger",
        (P,),
        "Council and refugee groups agree a shared compact action plan",
        "The plan names who does what on housing, language classes and work permits over two years.",
    ),
    (
        "2026-11-02 08:00",
        "crossings",
        (S,),
        "Sovereignty and the compact: an old argument returns",
        "An essay on why a non-binding text keeps being debated as a loss of national control.",
    ),
    # --- the first sample week
    (
        "2026-11-04 14:30",
        "commonground",
        (P,),
        "Town twinning: two cities swap notes on compact pledges",
        "Officials from two partner cities compare how they report progress to the UN review.",
    ),
    (
        "2026-11-06 09:10",
        "wire",
        (),
        "Review forum agenda published, with a session on data gaps",
        "The draft programme for the review gives a full day to the state of migration statistics.",
    ),
    (
        "2026-11-07 11:00",
        "ledger",
        (P,),
        "Newcomers' job fair draws record crowd at the quay",
        "The council links the fair to its pledges under the migration compact.",
    ),
    # --- 10 November: Estmark announces its exit; reactions within hours
    (
        "2026-11-10 06:10",
        "wire",
        (S,),
        "Estmark cabinet says compact 'undermines national control of borders'",
        "A cabinet statement gives sovereignty over admissions as the reason for leaving the compact.",
    ),
    (
        "2026-11-10 06:55",
        "standard",
        (S,),
        "Finally: Estmark takes back control from the UN",
        "A post welcoming the exit as a return of migration decisions to the national parliament.",
    ),
    (
        "2026-11-10 07:40",
        "ledger",
        (S,),
        "What Estmark's compact exit means for the port city",
        "The Ledger asks what changes for local services now the government is leaving the agreement.",
    ),
    (
        "2026-11-10 08:25",
        "wire",
        (P, S),
        "Estmark's mayors split over compact exit",
        "Some mayors back the sovereignty argument; others say their cities will keep their pledges.",
    ),
    (
        "2026-11-10 09:15",
        "crossings",
        (S,),
        "Instant analysis: can a country leave a non-binding compact?",
        "A legal scholar explains what withdrawing from a political declaration means in practice.",
    ),
    (
        "2026-11-10 09:50",
        "commonground",
        (P, S),
        "Refugee groups: 'leaving the compact will not stop cities from acting'",
        "Organisations say local commitments stand whatever the national government decides.",
    ),
    (
        "2026-11-10 10:30",
        "wire",
        (S,),
        "Neighbours watch Estmark: will others follow it out of the compact?",
        "Diplomats say two governments are weighing similar moves citing border sovereignty.",
    ),
    (
        "2026-11-10 11:05",
        "standard",
        (S,),
        "The sovereignty case, in five points",
        "A list post setting out the arguments for leaving the compact on grounds of national control.",
    ),
    # --- the rest of the Estmark week
    (
        "2026-11-11 13:20",
        "wire",
        (S,),
        "Estmark opposition demands a parliamentary vote on compact exit",
        "Opposition leaders say a decision on sovereignty of this kind belongs to parliament.",
    ),
    (
        "2026-11-12 10:00",
        "ledger",
        (P,),
        "Quay Street welcome centre: 'our doors stay open'",
        "Staff at the city's welcome centre say nothing changes for the people they serve.",
    ),
    (
        "2026-11-13 08:35",
        "crossings",
        (S,),
        "Borders, votes and the compact: the week sovereignty came back",
        "A weekly column on how the exit turned the debate from implementation to national control.",
    ),
    (
        "2026-11-15 12:10",
        "standard",
        (S,),
        "After Estmark, who is next to leave?",
        "A post ranking governments by how likely they are to quit the compact.",
    ),
    (
        "2026-11-16 09:30",
        "wire",
        (),
        "UN migration network 'regrets' Estmark decision, keeps review timetable",
        "The network says the review will go ahead as planned with the remaining governments.",
    ),
    # --- a calmer week after
    (
        "2026-11-18 10:45",
        "commonground",
        (P,),
        "City pledges keep coming despite Estmark's exit",
        "Nine more cities registered compact pledges this week, according to the mayors' network.",
    ),
    (
        "2026-11-19 08:20",
        "ledger",
        (P,),
        "Council renews its compact action plan for another two years",
        "Councillors voted to extend the plan agreed with refugee groups at the start of the month.",
    ),
    (
        "2026-11-20 14:00",
        "wire",
        (),
        "Review declaration talks resume after a week of Estmark headlines",
        "Negotiators return to the text, with data and pathways still the main open questions.",
    ),
    (
        "2026-11-21 09:00",
        "crossings",
        (P,),
        "Letter from a border town that kept its pledges",
        "A mayor writes about running services for newcomers while the national debate rages.",
    ),
    (
        "2026-11-22 15:30",
        "commonground",
        (),
        "What's next for the migration review: dates and documents",
        "A calendar of the meetings and drafts due before the review forum convenes.",
    ),
)


def history_entries() -> list[tuple[datetime, str, tuple[str, ...], str, str]]:
    """The entries with their times parsed (UTC)."""
    return [
        (datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=UTC), outlet, labels, title, summary)
        for when, outlet, labels, title, summary in HISTORY
    ]
