"""The labelled corpus: load the writers' parts, validate them, split them, merge them.

The corpus is written by several people into `classifiers/data/parts/*.jsonl`. This module is
the single place that turns those parts into the file training and evaluation read:
`classifiers/data/corpus.jsonl`, sorted by id, with a `split` field added.

Why the split is a hash of the id: the corpus keeps growing, and a test item that silently
moves into train (or back) would make every comparison between two model versions meaningless.
Hashing `seed:id` gives each item a fixed side forever, independent of what else is in the
corpus. Every label combination is split by the same rule, so each gets ~20% test in
expectation (stratified in expectation); `python -m classifiers.corpus` prints the per-stratum
shares so a badly unbalanced stratum is visible.

Run `python -m classifiers.corpus` to rebuild the merged file and print its sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import CompactwatchError

DATA_DIR = Path(__file__).resolve().parent / "data"
PARTS_DIR = DATA_DIR / "parts"
CORPUS_PATH = DATA_DIR / "corpus.jsonl"

LABELS: tuple[str, ...] = ("relevant", "pro_city_inclusion", "sovereignty_framing")
FRAMES: tuple[str, ...] = ("pro_city_inclusion", "sovereignty_framing")
ORDINARY_CATEGORY = "ordinary_news"
# The languages of the governments that debated or left the compact (issue 9).
CORPUS_LANGUAGES: frozenset[str] = frozenset({"en", "fr", "es", "de", "it", "nl", "pt", "pl", "hu"})

# The families the held-out test set reports on (`classifiers.heldout`), and which corpus
# categories (v1 names and the v2 writers' names) fall into each. A relevant item is in the
# "relevant" family whatever its category.
FAMILIES: tuple[str, ...] = (
    "relevant",
    "passing_mention",
    "look_alike",
    "migration_adjacent",
    "ordinary_news",
    "sovereignty_other",
)
CATEGORY_FAMILY: dict[str, str] = {
    "passing_mention": "passing_mention",
    "look_alike": "look_alike",
    "lookalike": "look_alike",
    "city_diplomacy_other": "look_alike",
    "un_other": "look_alike",
    "migration_adjacent": "migration_adjacent",
    "immigration_no_compact": "migration_adjacent",
    "ordinary_news": "ordinary_news",
    "sovereignty_other": "sovereignty_other",
}

# Changing the seed or the share re-deals every item: only do it with a written reason.
SPLIT_SEED = "compactwatch-split-v1"
TEST_SHARE = 0.20

FIELDS: tuple[str, ...] = (
    "id",
    "title",
    "text",
    "outlet_style",
    "date",
    "language",
    "relevant",
    "pro_city_inclusion",
    "sovereignty_framing",
    "category",
)
_STRING_FIELDS = ("id", "title", "text", "outlet_style", "date", "language", "category")
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


class CorpusError(CompactwatchError):
    """The corpus files are missing or an item breaks the labelling rules."""


@dataclass(frozen=True)
class CorpusProblem:
    """One reason an item was rejected, with where it came from (file:line)."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def split_for(item_id: str) -> str:
    """The fixed split of one item: a pure function of its id (see the module docstring)."""
    digest = hashlib.sha256(f"{SPLIT_SEED}:{item_id}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if fraction < TEST_SHARE else "train"


def label_key(item: dict[str, object]) -> str:
    """The label combination of an item, e.g. `R+P-S` (used for stratification and reports)."""
    if not item["relevant"]:
        return "irrelevant"
    pro = "P" if item["pro_city_inclusion"] else "-"
    sov = "S" if item["sovereignty_framing"] else "-"
    return f"R{pro}{sov}"


def family_of(item: dict[str, object]) -> str:
    """The test-set family of an item (see FAMILIES); "other" for an unknown category."""
    if item.get("relevant"):
        return "relevant"
    return CATEGORY_FAMILY.get(str(item.get("category", item.get("family", ""))), "other")


def validate_item(raw: object, where: str) -> tuple[dict[str, object] | None, list[CorpusProblem]]:
    """Check one parsed line against LABELING.md; return the cleaned item or the problems."""
    problems: list[CorpusProblem] = []
    if not isinstance(raw, dict):
        return None, [CorpusProblem(where, "line is not a JSON object")]
    for name in FIELDS:
        if name not in raw:
            problems.append(CorpusProblem(where, f"missing field {name!r}"))
    if problems:
        return None, problems
    for name in _STRING_FIELDS:
        if not isinstance(raw[name], str):
            problems.append(CorpusProblem(where, f"{name} must be a string"))
    for name in LABELS:
        if not isinstance(raw[name], bool):
            problems.append(CorpusProblem(where, f"{name} must be true or false"))
    if problems:
        return None, problems
    if not raw["id"].strip():
        problems.append(CorpusProblem(where, "empty id"))
    if not raw["text"].strip():
        problems.append(CorpusProblem(where, "empty text"))
    if raw["language"] not in CORPUS_LANGUAGES:
        problems.append(CorpusProblem(where, f"language {raw['language']!r} not in corpus set"))
    if not _DATE.match(raw["date"]):
        problems.append(CorpusProblem(where, f"date {raw['date']!r} is not YYYY-MM[-DD]"))
    if not raw["relevant"] and (raw["pro_city_inclusion"] or raw["sovereignty_framing"]):
        problems.append(CorpusProblem(where, "irrelevant item with a frame set (frames need relevant)"))
    if raw["category"] == ORDINARY_CATEGORY and raw["relevant"]:
        problems.append(CorpusProblem(where, "ordinary_news item marked relevant"))
    if problems:
        return None, problems
    item = {name: raw[name] for name in FIELDS}
    item["split"] = split_for(str(item["id"]))
    return item, []


def read_parts(
    parts_dir: Path = PARTS_DIR,
) -> tuple[list[dict[str, object]], list[CorpusProblem]]:
    """Read and validate every part; return the valid items (sorted by id) and all problems.

    Problems are collected rather than raised at the first one so a writer sees every bad
    line of a batch in one run.
    """
    files = sorted(parts_dir.glob("*.jsonl"))
    if not files:
        raise CorpusError(f"no corpus parts found in {parts_dir}")
    items: list[dict[str, object]] = []
    problems: list[CorpusProblem] = []
    seen_ids: dict[str, str] = {}
    seen_texts: dict[str, str] = {}
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                where = f"{path.name}:{number}"
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                except json.JSONDecodeError as exc:
                    problems.append(CorpusProblem(where, f"invalid JSON ({exc.msg})"))
                    continue
                item, item_problems = validate_item(raw, where)
                problems.extend(item_problems)
                if item is None:
                    continue
                item_id = str(item["id"])
                if item_id in seen_ids:
                    problems.append(
                        CorpusProblem(where, f"duplicate id {item_id!r} (first at {seen_ids[item_id]})")
                    )
                    continue
                text_key = normalise_for_identity(str(item["title"]), str(item["text"]))
                if text_key in seen_texts:
                    problems.append(CorpusProblem(where, f"same title and text as {seen_texts[text_key]}"))
                    continue
                seen_ids[item_id] = where
                seen_texts[text_key] = item_id
                items.append(item)
    items.sort(key=lambda it: str(it["id"]))
    return items, problems


def normalise_for_identity(title: str, text: str) -> str:
    """Whitespace- and case-insensitive key used to spot exact copies (and analyst corrections)."""
    return " ".join(f"{title}\n{text}".lower().split())


def serialise(items: Iterable[dict[str, object]]) -> bytes:
    """The canonical bytes of the merged corpus: one JSON object per line, fixed field order."""
    lines = [
        json.dumps({name: item[name] for name in (*FIELDS, "split")}, ensure_ascii=False) for item in items
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def data_hash(path: Path = CORPUS_PATH) -> str:
    """sha256 of the merged corpus file: the identity of the training data in model cards."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_corpus(
    parts_dir: Path = PARTS_DIR, out: Path = CORPUS_PATH, *, skip_invalid: bool = False
) -> tuple[list[dict[str, object]], list[CorpusProblem], str]:
    """Rebuild the merged corpus file; return (items, problems, sha256).

    Refuses to write when any item is invalid unless `skip_invalid` (useful while writers are
    still appending and a half-written line may sit at the end of a part).
    """
    items, problems = read_parts(parts_dir)
    if problems and not skip_invalid:
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        raise CorpusError(f"{len(problems)} invalid corpus item(s): {shown}{more}")
    payload = serialise(items)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".jsonl.tmp")
    tmp.write_bytes(payload)
    tmp.replace(out)
    return items, problems, hashlib.sha256(payload).hexdigest()


def load_corpus(path: Path = CORPUS_PATH) -> list[dict[str, object]]:
    """Read the merged corpus (built by `python -m classifiers.corpus`), re-checking each item."""
    if not path.exists():
        raise CorpusError(f"{path} not found: run `python -m classifiers.corpus` first")
    items: list[dict[str, object]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{where}: invalid JSON ({exc.msg})") from exc
            item, problems = validate_item(raw, where)
            if item is None:
                raise CorpusError(str(problems[0]))
            if raw.get("split") != item["split"]:
                raise CorpusError(f"{where}: split {raw.get('split')!r} differs from the hash rule")
            items.append(item)
    return items


def by_split(items: Sequence[dict[str, object]], split: str) -> list[dict[str, object]]:
    """The items of one split, in corpus order."""
    return [item for item in items if item["split"] == split]


def cross_split_near_duplicates(
    items: Sequence[dict[str, object]], threshold: float = 0.6
) -> list[tuple[str, str, float]]:
    """Pairs (train id, test id, Jaccard) whose word 5-shingles overlap heavily.

    A repost in train and its original in test would flatter the test score; this is
    reported by the corpus command so writers can rename one of the pair's ids.
    """

    def shingles(item: dict[str, object]) -> set[int]:
        words = re.findall(r"\w+", str(item["text"]).lower())
        return {hash(tuple(words[i : i + 5])) for i in range(max(1, len(words) - 4))}

    train = [(str(it["id"]), shingles(it)) for it in items if it["split"] == "train"]
    test = [(str(it["id"]), shingles(it)) for it in items if it["split"] == "test"]
    index: dict[int, list[int]] = defaultdict(list)
    for position, (_, sh) in enumerate(train):
        for value in sh:
            index[value].append(position)
    pairs: list[tuple[str, str, float]] = []
    for test_id, sh in test:
        overlap: Counter[int] = Counter()
        for value in sh:
            overlap.update(index.get(value, ()))
        for position, shared in overlap.items():
            train_id, train_sh = train[position]
            jaccard = shared / len(sh | train_sh)
            if jaccard >= threshold:
                pairs.append((train_id, test_id, round(jaccard, 3)))
    return sorted(pairs)


def summary_rows(items: Sequence[dict[str, object]]) -> list[tuple[str, int, int, float]]:
    """Per label combination: (key, train count, test count, test share) for the report."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        counts[label_key(item)][str(item["split"])] += 1
    rows = []
    for key in sorted(counts):
        train, test = counts[key]["train"], counts[key]["test"]
        rows.append((key, train, test, test / max(1, train + test)))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m classifiers.corpus`: rebuild corpus.jsonl and print its hash and balance."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--parts", type=Path, default=PARTS_DIR)
    parser.add_argument("--out", type=Path, default=CORPUS_PATH)
    parser.add_argument("--skip-invalid", action="store_true", help="drop invalid lines instead of failing")
    args = parser.parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    console = Console()
    try:
        items, problems, digest = build_corpus(args.parts, args.out, skip_invalid=args.skip_invalid)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        console.print(f"[yellow]skipped[/] {problem}")
    table = Table(title=f"corpus: {len(items)} items, sha256 {digest[:12]}")
    for column in ("labels", "train", "test", "test share"):
        table.add_column(column, justify="right" if column != "labels" else "left")
    for key, train, test, share in summary_rows(items):
        table.add_row(key, str(train), str(test), f"{share:.0%}")
    console.print(table)
    languages = Counter(str(item["language"]) for item in items)
    categories = Counter(str(item["category"]) for item in items)
    console.print("languages: " + ", ".join(f"{k} {v}" for k, v in sorted(languages.items())))
    console.print("categories: " + ", ".join(f"{k} {v}" for k, v in sorted(categories.items())))
    families = Counter(family_of(item) for item in items)
    console.print("families: " + ", ".join(f"{k} {v}" for k, v in sorted(families.items())))
    for train_id, test_id, jaccard in cross_split_near_duplicates(items):
        console.print(f"[yellow]near-duplicate across splits[/] {train_id} ~ {test_id} ({jaccard})")
    console.print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
