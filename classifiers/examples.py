"""Training examples: corpus items and analysts' corrections, merged into one list.

Kept apart from fitting so the rules for corrections (which label wins, which texts are
off-limits) live in one small place that tests can read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from classifiers.corpus import FRAMES, LABELS, label_key, normalise_for_identity


@dataclass(frozen=True)
class Example:
    """One training article. A label is None when unknown (partial analyst corrections)."""

    title: str
    text: str
    labels: dict[str, bool | None]
    source: str = "corpus"  # corpus | analyst
    category: str = ""
    language: str = ""

    def trains(self, label: str) -> bool:
        """Whether this example teaches `label` (frames are learnt on relevant items only)."""
        if self.labels.get(label) is None:
            return False
        return label == "relevant" or self.labels.get("relevant") is not False

    @property
    def stratum(self) -> str:
        """Label combination used to stratify the folds."""
        return label_key({k: bool(v) for k, v in self.labels.items()})


def corpus_example(item: dict[str, object]) -> Example:
    """A corpus (or held-out) item as a fully labelled example."""
    return Example(
        title=str(item["title"]),
        text=str(item["text"]),
        labels={label: bool(item[label]) for label in LABELS},
        category=str(item.get("category", item.get("family", ""))),
        language=str(item.get("language", "")),
    )


def merge_extra_labels(
    train_items: Sequence[dict[str, object]],
    test_items: Sequence[dict[str, object]],
    extra_labels: Iterable[tuple[str, str, str, bool]],
) -> tuple[list[Example], int, int, list[str]]:
    """Fold analyst corrections (title, text, label, value) into the training examples.

    A correction of a corpus text overrides that item's label; a correction of a new text adds
    an example. A frame marked present implies the article is relevant; `relevant` = false
    clears the frames. Corrections of a test text (`test_items`: the in-house split and the
    held-out set) are skipped: training on them would leak into the test figures.
    Returns (examples, used, skipped, reasons).
    """
    examples = [corpus_example(item) for item in train_items]
    by_key = {normalise_for_identity(e.title, e.text): i for i, e in enumerate(examples)}
    test_keys = {normalise_for_identity(str(i["title"]), str(i["text"])) for i in test_items}
    used, skipped, reasons = 0, 0, []
    for number, extra in enumerate(extra_labels, start=1):
        try:
            title, text, label, value = extra
        except (TypeError, ValueError):
            skipped += 1
            reasons.append(f"correction {number}: not a (title, text, label, value) tuple")
            continue
        if label not in LABELS or not isinstance(value, bool):
            skipped += 1
            reasons.append(f"correction {number}: unknown label {label!r} or non-boolean value")
            continue
        if not str(text).strip():
            skipped += 1
            reasons.append(f"correction {number}: empty text")
            continue
        key = normalise_for_identity(str(title), str(text))
        if key in test_keys:
            skipped += 1
            reasons.append(f"correction {number}: text is in a test set")
            continue
        if key in by_key:
            index = by_key[key]
            old = examples[index]
            labels = dict(old.labels)
            source = old.source
        else:
            index = len(examples)
            labels = {name: None for name in LABELS}
            source = "analyst"
            examples.append(Example(str(title), str(text), labels, source))
            by_key[key] = index
        labels[label] = value
        if label == "relevant" and not value:
            labels.update({frame: False for frame in FRAMES})
        elif label in FRAMES and value:
            labels["relevant"] = True
        old = examples[index]
        examples[index] = Example(old.title, old.text, labels, source, old.category, old.language)
        used += 1
    return examples, used, skipped, reasons
