# ruff: noqa: E501  (term lists read best one language group per line, even when long)
"""The multilingual term lexicon behind the aboutness features, in nine languages.

Why a hand-written lexicon next to learned word weights: the corpus has a few dozen articles
per language outside English, too few for a model to learn on its own that "migratiepact",
"pakt z Marrakeszu" and "ENSZ migrációs csomag" name the same process. The lexicon names the
process once per language; the model learns from all languages together how much a mention
in the title, in many sentences, or in one subordinate clause is worth.

Every group is its own feature, so look-alikes are never folded into the compact: the
business-sector UN Global Compact, the EU Pact on Migration and Asylum (which Polish and
Hungarian coverage also calls "pakt migracyjny" / "migrációs paktum"), the Marrakesh treaty,
agreement and declaration of other processes, the New York Declaration on Forests, interstate
compacts, the Global Covenant of Mayors. An occurrence claimed by a look-alike is not
counted as a compact mention (see `classifiers.aboutness`).

Two kinds of entries, for speed (Python's `re` tries every alternative at every position, so
one big alternation over a 10,000-character text costs ~30 ms):
- PHRASE groups (names of the process, look-alikes, generic references) are multi-word
  patterns. They are only run on the sentences where the cheap ANCHOR regex (a handful of
  literals: pact, compact, pakt, marrak, ...) found something.
- TOKEN kinds (process verbs, subordinators, sovereignty and pro-city vocabulary, migration
  words, EU, cost/coalition reasons) are single-word stems, looked up per token through a
  memo, so each distinct word is classified by regex once per process.
Look-alike groups come first in the phrase alternation so they win at the same position.
Patterns are written lower-case and tolerate missing accents where writers drop them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

# Group kinds. CORE = names of the GCM/GCR process; LOOK = look-alikes; the rest are context.
CORE, LOOK, GENERIC, PROCESS, SUBORDINATE, SOVEREIGNTY, PRO_CITY, OTHER_REASON, MIGRATION, EU = (
    "core",
    "look",
    "generic",
    "process",
    "subordinate",
    "sovereignty",
    "pro_city",
    "other_reason",
    "migration",
    "eu",
)

# (group name, kind, pattern). Order matters only between overlapping groups: earlier wins.
GROUPS: tuple[tuple[str, str, str], ...] = (
    # --- look-alikes -----------------------------------------------------------------------
    (
        "look_business_compact",
        LOOK,
        r"(?:un|u\.n\.|united nations|uno|onu|onz|vn|ensz)[- ]global compact(?! (?:for|on) (?:safe|migration|refugees))"
        r"|global compact (?:network|local network|lead|principles|participants?|signator\w*|office)"
        r"|ten principles of the (?:un |united nations )?global compact"
        r"|global compact(?: italia| netherlands| nederland| deutschland| france| españa| polska| brasil)",
    ),
    (
        "look_eu_pact",
        LOOK,
        r"pact on migration and asylum|migration and asylum pact|asylum pact|eu migration pact"
        r"|pacte (?:européen )?sur la migration et l['’]asile|pacte (?:européen|de l['’]ue|de l['’]union)"
        r" (?:sur la migration|migratoire)"
        r"|pacto (?:europeo )?(?:de|sobre) (?:la )?migraci[oó]n y (?:el )?asilo|pacto (?:europeo|de la ue) de migraci"
        r"|eu-(?:migrations|asyl)pakt|asyl- und migrationspakt|europäische[rn]? (?:migrations|asyl)pakt|geas-reform"
        r"|patto (?:europeo |ue )?(?:su|sulla|per la) migrazione e (?:l['’])?asilo|patto (?:europeo|ue) (?:sull[ae]|sui|per)"
        r" (?:la )?migra"
        r"|eu-migratiepact|europees migratiepact|migratie- en asielpact|asielpact"
        r"|pacto (?:europeu )?(?:sobre|de|para) (?:a )?migra[cç][aã]o e (?:o )?asilo"
        r"|pakt(?:u|em)? (?:o )?migracji i azylu|unijn\w+ pakt\w* migracyjn|pakt\w* migracyjn\w* (?:ue|unii)"
        r"|(?:uniós|eu-s|brüsszeli|európai) migrációs paktum|migrációs és menekültügyi paktum",
    ),
    (
        "look_marrakesh_other",
        LOOK,
        r"marrake(?:s|ch|sh|sch)(?:-| )(?:treaty|vertrag|tratado|traité|trattato|verdrag|agreement|abkommen"
        r"|accord|acuerdo|climate|cop ?22|declaration on (?:the rights of )?religious)"
        r"|(?:treaty|agreement|traité|tratado|vertrag) of marrake(?:s|ch|sh)|cop22|cop 22",
    ),
    (
        "look_other_declaration",
        LOOK,
        r"new york declaration on forests|déclaration de new york sur les forêts"
        r"|declaración de nueva york sobre los bosques|new yorker waldschutzerklärung",
    ),
    (
        "look_other_compact",
        LOOK,
        r"compact of free association|interstate compact|global covenant of mayors|covenant of mayors"
        r"|convention des maires|pacto de los alcaldes|konvent der bürgermeister|patto dei sindaci"
        r"|burgemeestersconvenant|pacto de autarcas|porozumienie burmistrzów|polgármesterek szövetsége"
        r"|green deal|stability and growth pact|stabilit\w+ (?:und|et|y|e) (?:wachstumspakt|croissance|crecimiento)"
        r"|pacte de stabilité|pacto de estabilidad|patto di stabilità|warsaw pact|pakt warszawski"
        r"|pact for the future|pacte pour l['’]avenir|pacto para el futuro|zukunftspakt|patto sul futuro"
        r"|digital compact|climate pact|klimapakt|pacte climatique|compact with africa|compact mit afrika"
        r"|education compact|energy compact|pandemic (?:treaty|agreement|accord)",
    ),
    # --- the compact process ---------------------------------------------------------------
    (
        "core_name",
        CORE,
        # en
        r"global compacts? (?:for|on) (?:safe|migration|refugees)|compact (?:for|on) (?:safe,? orderly|migration"
        r"|refugees)|safe,? orderly and regular migration|(?:migration|refugee|refugees|migrants'?) compact"
        r"|(?:un|u\.n\.|united nations|global) (?:migration|refugee) pact|migration pact|global compacts\b"
        r"|marrake(?:s|ch|sh)h? (?:compact|pact|migration)"
        # fr
        r"|pacte (?:mondial|global|de l['’]onu|des nations unies|onusien) (?:sur|pour|relatif aux) (?:les |des )?"
        r"(?:migrations?|réfugiés|refugies)|pacte de marrakech|pacte (?:de l['’]onu )?sur les migrations"
        r"|pacte migratoire (?:de l['’]onu|onusien|mondial|de marrakech)|pacte (?:mondial|global) sur les réfugiés"
        # es / pt
        r"|pacto (?:mundial|global|de la onu|de naciones unidas|da onu|das nações unidas) (?:para|sobre|de) (?:la |a |"
        r"los |os )?(?:migraci[oó]n|migra[cç][aã]o|refugiados)|pacto migratori[oa] (?:de la onu|de naciones unidas|"
        r"mundial|global|da onu|das nações unidas)|pacto de marrak(?:ech|esh|exe)|pacto de marraquexe"
        # de
        r"|migrationspakt|flüchtlingspakt|fluchtlingspakt|globale[rnm]? pakt(?:es)? für (?:sichere|migration|flücht)"
        r"|marrakesch-pakt|pakt von marrakesch"
        # it
        r"|patt[oi] (?:globale|mondiale|dell['’]onu|onu|delle nazioni unite) (?:per|sulle|sulla|su|sui|per i) (?:la |le "
        r"|i )?(?:migrazion|rifugiat)|global compact (?:sull[ae]|per la|per le|sui) (?:migrazion|rifugiat)"
        r"|patto (?:di|da) marrakech|patto migratorio (?:dell['’]onu|onu|globale|mondiale)"
        # nl
        r"|migratiepact|vluchtelingenpact|marrake(?:s|ch|sh)h?-?pact|(?:vn-)?pact (?:voor|over|inzake) (?:veilige|migratie)"
        r"|mondiaal pact (?:voor|over|inzake)"
        # pl
        r"|globaln\w+ pakt\w* (?:o|w sprawie|na rzecz|dotycząc\w*) (?:bezpiecznej|migracji|uchodźc)|pakt\w* (?:onz )?"
        r"(?:o|w sprawie|dotycząc\w*) (?:migracji|uchodźc)|pakt\w* migracyjn\w* onz|onz-owsk\w* pakt|pakt\w* z marrakesz"
        # hu
        r"|globális migrációs (?:csomag|paktum|megállapodás|egyezmény)|ensz(?:-es)? migrációs (?:csomag|paktum"
        r"|megállapodás)|migrációs csomag|marrákes\w* (?:paktum|csomag|egyezmény|megállapodás)|marrakesh?i (?:paktum"
        r"|csomag)|menekültügyi (?:paktum|megállapodás|globális)|globális (?:paktum|megállapodás) a (?:biztonságos"
        r"|migráció|menekült)|migrációról szóló globális (?:megállapodás|paktum)|(?:nemzetközi )?migrációs "
        r"felülvizsgálati fórum",
    ),
    ("core_acronym", CORE, r"\bgcm\b|\bgcr\b|\bimrf\b|\bpmm\b|\bpmr\b"),
    (
        "core_review",
        CORE,
        r"international migration review forum|migration review forum|forum d['’]examen des migrations"
        r"|foro de examen de la migración|überprüfungsforum|forum di revisione delle migrazioni"
        r"|new york declaration for refugees|déclaration de new york pour les réfugiés|declaración de nueva york para"
        r"|new yorker erklärung für flüchtlinge|dichiarazione di new york|verklaring van new york"
        r"|declaração de nova iorque|deklaracj\w+ nowojorsk|new york-i nyilatkozat"
        r"|fórum internacional de revisão das migrações|fórum de revisão d\w+ (?:migrações|onu)"
        r"|forum przeglądow\w* (?:onz|migracji)|międzynarodow\w+ forum przeglądu migracji"
        r"|forum internazionale di revisione|forum zur überprüfung der migration",
    ),
    (
        "core_cities",
        CORE,
        r"mayors migration council|mayors mechanism|marrake(?:s|ch|sh)h? mayors declaration"
        r"|déclaration des maires de marrakech|declaración de alcaldes de marrakech|bürgermeistererklärung von marrakesch"
        r"|global mayoral forum on (?:human )?mobility",
    ),
    ("marrakesh_place", GENERIC, r"marrak(?:e|ec|á)(?:s|ch|sh|sch|sz|xe)\w*|marraquexe"),
    (
        "generic_ref",
        GENERIC,
        r"\b(?:the|this|that) (?:compact|pact)s?\b|\b(?:le|ce) pacte\b|\b(?:el|este|ese|o) pacto\b|\b(?:der|den|dem|des)"
        r" paktes?\b|\b(?:il|questo|del|al) patto\b|\bglobal compact\b|\bhet pact\b|\bpakt(?:u|em|cie)?\b|\bpaktum\w*"
        r"|\bcsomag\w*|migrációs megállapodás",
    ),
)

PHRASE_NAMES: tuple[str, ...] = tuple(name for name, _, _ in GROUPS)
PHRASE_KIND: dict[str, str] = {name: kind for name, kind, _ in GROUPS}
CORE_GROUPS: frozenset[str] = frozenset(n for n, k, _ in GROUPS if k == CORE)
LOOK_GROUPS: frozenset[str] = frozenset(n for n, k, _ in GROUPS if k == LOOK)
PHRASES = re.compile("|".join(f"(?P<{name}>{pattern})" for name, _, pattern in GROUPS))

# Literals that every alternative of every phrase group contains at least one of (a test checks
# this). A phrase is only looked for in a window around an occurrence of one of its literals,
# with a small regex holding just the alternatives that contain that literal: ~100x cheaper
# than running every alternative at every position of the text.
ANCHOR_LITERALS: tuple[str, ...] = (
    "compact", "pact", "pakt", "patt", "csomag", "marrak", "marraquexe", "gcm", "gcr", "imrf", "pmm", "pmr",
    "review forum", "forum d", "foro de examen", "überprüfungsforum", "forum di", "new york", "nueva york",
    "nova iorque", "nowojorsk", "mayors", "mayoral forum", "maires", "alcaldes", "covenant", "convention des",
    "konvent", "convenant", "porozumienie", "szövetség", "green deal", "cop22", "cop 22", "orderly and regular",
    "migrációs", "menekültügyi", "globális", "felülvizsgálati", "fórum", "przegląd", "forum internazionale",
    "forum zur", "pandemic", "geas",
)  # fmt: skip
ANCHOR = re.compile("|".join(re.escape(literal) for literal in ANCHOR_LITERALS))
# Characters around an anchor (within its sentence) a phrase may span: the longest prefix
# before an anchor ("ten principles of the united nations global compact") is ~40 characters.
ANCHOR_BEFORE = 44
ANCHOR_WINDOW = 64
_MEMO_LIMIT = 400_000  # bound on the memory a stream of odd tokens can take (per memo)


# Which tokens can hold an anchor: those containing a one-word literal, or the word of a
# multi-word literal that is least common in ordinary text.
_ANCHOR_PARTS: tuple[str, ...] = tuple(literal for literal in ANCHOR_LITERALS if " " not in literal)
_ANCHOR_WORDS: frozenset[str] = frozenset(
    {"york", "forum", "foro", "iorque", "mayoral", "convention", "deal", "cop", "orderly"}
)
_MULTIWORD: dict[str, tuple[tuple[str, int], ...]] = {
    word: tuple(
        (literal, literal.index(word))
        for literal in ANCHOR_LITERALS
        if " " in literal and word in literal.split()
    )
    for word in _ANCHOR_WORDS
}
_anchor_memo: dict[str, bool] = {}


def is_anchor_token(token: str) -> bool:
    """Whether a lower-cased token may be (part of) an anchor literal, memoised."""
    found = _anchor_memo.get(token)
    if found is None:
        found = token in _ANCHOR_WORDS or any(part in token for part in _ANCHOR_PARTS)
        if len(_anchor_memo) >= _MEMO_LIMIT:
            _anchor_memo.clear()
        _anchor_memo[token] = found
    return found


def find_anchors(lowered: str, tokens: Iterable[str] | None = None) -> list[tuple[int, str]]:
    """(offset, literal) of every anchor literal in a lower-cased text.

    With the text's `tokens` (already computed by the caller), only the few tokens that can
    hold an anchor are located (`str.find`), and the literals are read off each occurrence
    with plain string operations: much cheaper than running ANCHOR over the whole text. Where literals overlap ("compact"
    holds "pact"), the one starting first wins, as a left-to-right alternation would choose.
    """
    if tokens is None:
        return [(m.start(), m.group()) for m in ANCHOR.finditer(lowered)]
    hits: set[tuple[int, str]] = set()
    for token in tokens:
        if not is_anchor_token(token):
            continue
        parts = [(token.find(part), part) for part in _ANCHOR_PARTS if part in token]
        phrases = _MULTIWORD.get(token, ())
        position = lowered.find(token)
        while position >= 0:
            for offset, part in parts:
                hits.add((position + offset, part))
            for literal, offset in phrases:
                if lowered.startswith(literal, position - offset):
                    hits.add((position - offset, literal))
            position = lowered.find(token, position + len(token))
    anchors: list[tuple[int, str]] = []
    covered = -1
    for position, literal in sorted(hits, key=lambda hit: (hit[0], -len(hit[1]))):
        if position >= covered:
            anchors.append((position, literal))
            covered = position + len(literal)
    return anchors


def split_alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regex source (respecting groups, classes, escapes)."""
    parts, depth, in_class, current, index = [], 0, False, [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            current.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append("".join(current))
            current = []
            index += 1
            continue
        current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def _keyed_phrases() -> tuple[dict[str, re.Pattern[str]], list[str]]:
    """Per anchor literal, one regex of the alternatives containing it (group order kept);
    plus the alternatives that contain no literal (must be none)."""
    by_literal: dict[str, list[str]] = {literal: [] for literal in ANCHOR_LITERALS}
    orphans: list[str] = []
    for name, _, pattern in GROUPS:
        per_literal: dict[str, list[str]] = {}
        for alternative in split_alternatives(pattern):
            literals = [literal for literal in ANCHOR_LITERALS if literal in alternative]
            if not literals:
                orphans.append(alternative)
            for literal in literals:
                per_literal.setdefault(literal, []).append(alternative)
        for literal, alternatives in per_literal.items():
            by_literal[literal].append(f"(?P<{name}>{'|'.join(alternatives)})")
    compiled = {literal: re.compile("|".join(parts)) for literal, parts in by_literal.items() if parts}
    return compiled, orphans


KEYED_PHRASES, UNANCHORED = _keyed_phrases()


# Single-word stems per kind; a token is classified by the first kind whose pattern matches it whole.
TOKEN_KINDS: tuple[tuple[str, str], ...] = (
    (
        SUBORDINATE,
        r"after|since|before|following|like|including|echoing|recalling|besides|après|depuis|avant|comme|notamment"
        r"|tras|después|desde|antes|como|incluido|nach|seit|wie|etwa|darunter|dopo|prima|tra|sinds|zoals|waaronder"
        r"|após|depois|incluindo|przed|jak|után|óta|előtt|például|mint",
    ),
    (
        SOVEREIGNTY,
        r"sovereign\w*|souverain\w*|soberan\w*|souverän\w*|souveran\w*|sovran\w*|soevere\w*|suweren\w*|szuverén\w*"
        r"|selbstbestimmung\w*|autodétermination|autodeterminaci\w+|autodeterminazion\w|zelfbeschikking\w*"
        r"|autodetermina[cç]\w+|samostanowien\w*|önrendelkez\w*|dictat\w*|diktat\w*|diktál\w*|dettat\w*|dictad\w*"
        r"|ditad\w*|dyktat\w*|dicté\w*|backdoor|hintertür\w*|binding|contraignant\w*|vinculant\w*|verbindlich\w*"
        r"|vincolant\w*|bindend\w*|wiążąc\w*|kötelező\w*|unelected|globalist\w*|globalis\w*|interfer\w*|ingérence"
        r"|injerencia|einmischung|ingerenz\w*|inmenging|ingerência|ingerencj\w*|beavatkoz\w*|brussels|bruxelles"
        r"|bruselas|brüssel|bruxelas|brukseli|brüsszel\w*|bruxelles|genf|genève|geneva|ginevra|genebra|genewie"
        r"|borders|frontières|fronteras|grenzen|confini|fronteiras|granic\w*|határ\w*|frontiere",
    ),
    (
        PRO_CITY,
        r"mayors?|mayoral|maires?|alcald\w*|bürgermeister\w*|oberbürgermeister\w*|sindac\w*|burgemeester\w*"
        r"|prefeit\w*|autarca\w*|burmistrz\w*|polgármester\w*|cities|city|villes?|ciudades|städte|città|steden"
        r"|cidades|miast\w*|város\w*|municipal\w*|municipios|municípios|kommun\w*|comuni|gemeenten|gmin\w*"
        r"|collectivités|samorząd\w*|önkormányzat\w*|eurocities|uclg|local|locales|lokale|locali|locais|lokaln\w*"
        r"|helyi",
    ),
    (
        PROCESS,
        r"withdr[ae]w\w*|quit\w*|sign(?:ed|ing|s|atory|atories)?|adopt\w*|endors\w*|vot(?:e|ed|es|ing)|reject\w*"
        r"|join(?:ed|ing|s)?|negotiat\w*|ratif\w*|implement\w*|intergovernmental|retir\w*|sign[ée]\w*|signature"
        r"|adopt[ée]\w*|rejet\w*|adhé\w*|négoci\w*|firm(?:ar|ó|a|an|ado|ato|ata|ati)\w*|rechaz\w*|adher\w*|negoci\w*"
        r"|austr(?:itt|eten|at)\w*|unterzeichn\w*|unterschr\w*|abstimm\w*|ablehn\w*|beitr(?:itt|eten)\w*|verhandl\w*"
        r"|angenommen|ritir\w*|adott\w*|votat\w*|rifiut\w*|aderi\w*|negozi\w*|terugtr\w*|ondertek\w*|aangenomen"
        r"|stemm\w*|verwerp\w*|onderhandel\w*|assin\w*|adot\w*|rejeit\w*|wycof\w*|podpis\w*|przyj\w*|głosow\w*"
        r"|odrzuc\w*|przystąp\w*|negocj\w*|kilép\w*|aláír\w*|elfogad\w*|szavaz\w*|elutasít\w*|csatlakoz\w*"
        r"|tárgyal\w*",
    ),
    (
        MIGRATION,
        r"migra\w*|refugee\w*|réfugié\w*|refugiad\w*|flüchtling\w*|rifugiat\w*|vluchteling\w*|uchodźc\w*|menekült\w*"
        r"|asyl\w*|asile|asilo|asiel\w*|azyl\w*|menedék\w*|immigra\w*|imigra\w*|bevándorl\w*|migrán\w*|migrác\w*",
    ),
    (EU, r"eu|ue|unii|unió\w*|brüsszel"),
    (
        OTHER_REASON,
        r"costs?|budget\w*|coalition\w*|koalition\w*|coalizion\w*|coalitie\w*|coligação|koalicj\w*|koalíci\w*"
        r"|expens\w*|coût\w*|costo\w*|kosten|costi|custos?|koszt\w*|költség\w*|money|financ\w*",
    ),
)
TOKEN_KIND_NAMES: tuple[str, ...] = tuple(kind for kind, _ in TOKEN_KINDS)
_TOKEN_PATTERNS = tuple((kind, re.compile(pattern)) for kind, pattern in TOKEN_KINDS)
WORD = re.compile(r"\w\w+")

_memo: dict[str, str] = {}


def token_kind(token: str) -> str:
    """The kind of one lower-cased token ("" for none), memoised per process."""
    kind = _memo.get(token)
    if kind is None:
        kind = next((k for k, pattern in _TOKEN_PATTERNS if pattern.fullmatch(token)), "")
        if len(_memo) >= _MEMO_LIMIT:  # bound the memory a stream of odd tokens can take
            _memo.clear()
        _memo[token] = kind
    return kind


def describe_tokens(counts: Counter[str]) -> tuple[dict[str, int], list[str]]:
    """(count per kind, tokens that may hold an anchor) of a text's token counts.

    One pass over the distinct tokens (a few hundred per article) through both memos,
    instead of one per token occurrence.
    """
    kinds: dict[str, int] = {}
    anchors: list[str] = []
    kind_of, anchor_of = _memo.get, _anchor_memo.get
    for token, count in counts.items():
        kind = kind_of(token)
        if kind is None:
            kind = token_kind(token)
        if kind:
            kinds[kind] = kinds.get(kind, 0) + count
        anchor = anchor_of(token)
        if anchor is None:
            anchor = is_anchor_token(token)
        if anchor:
            anchors.append(token)
    return kinds, anchors


def token_kinds(tokens: list[str]) -> list[str]:
    """The kinds of many tokens: one C-level pass over the memo, regexes only for new words."""
    kinds = list(map(_memo.get, tokens))
    if None in kinds:
        kinds = [
            kind if kind is not None else token_kind(token) for token, kind in zip(tokens, kinds, strict=True)
        ]
    return kinds  # type: ignore[return-value]


# The gate: a text with none of these literals cannot be about the compact process in any of
# the nine languages, so the models are skipped for it (see `classifiers.model`). Deliberately
# much broader than the CORE names (any pact/compact word, Marrakesh in any spelling, the
# acronyms, the review forum and the New York Declaration). Plain substring tests (`in`, C
# speed, ~0.15 ms for 10,000 characters) instead of one regex alternation (~0.9 ms).
GATE_LITERALS: tuple[str, ...] = (
    "compact", " pact", "-pact", "\npact", "pakt", "patto", "patti ", "csomag", "marrak", "marraquexe",
    "gcm", "gcr", "imrf", "review forum", "new york decl", "mayors migration", "mayors mechanism",
    "nova iorque", "new yorker erkl", "nowojorsk", "new york-i", "di new york", "van new york",
    "de new york", "de nueva york", "examen des migrations", "foro de examen", "überprüfungsforum",
    "forum di revisione", "migratiepact", "vluchtelingenpact", "asielpact", "migrációs megállapodás",
    "globális megállapodás", "felülvizsgálati fórum", "migrációs fórum", "fórum de revisão",
    "fórum internacional de revisão", "forum przegląd", "forum internazionale di revisione", "forum zur überprüfung",
)  # fmt: skip


def passes_gate(lowered: str) -> bool:
    """Whether a lower-cased text names anything of the compact family at all."""
    return lowered.startswith("pact") or any(literal in lowered for literal in GATE_LITERALS)
