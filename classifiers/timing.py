"""How long classification takes: the figure `make bench` prints as its `classify:` line.

`time_classification(texts)` loads the shipped model (outside the timed part), warms it up,
then classifies the texts one at a time, as the pipeline's workers do, with everything the
pipeline pays for: language identification, the compact gate, the three labels and evidence
for present frames. It measures the CPU time of this process (`time.process_time`), which on
one thread is time on one core, and unlike wall-clock time is not inflated when other
processes share the machine; each article's fastest of `repeat` runs is kept.

`python -m classifiers.timing` times synthetic 10,000-character articles built from the
corpus (relevant with frames, a passing mention in ordinary news, ordinary news), the size
issue 9's budget is set for.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from classifiers.model import DEFAULT_MODEL_DIR, load_classifier

WARM_UP = 3


@dataclass(frozen=True)
class ClassifyTiming:
    """Mean CPU milliseconds per article, over how many articles of what mean length."""

    ms_per_article: float
    articles: int
    mean_chars: float

    def line(self) -> str:
        """The line `make bench` prints."""
        return (
            f"classify: {self.ms_per_article:.2f} ms/article ({self.articles} articles, "
            f"mean chars {self.mean_chars:.0f})"
        )


def time_classification(
    texts: Sequence[str], model_dir: Path = DEFAULT_MODEL_DIR, repeat: int = 3
) -> ClassifyTiming:
    """Time classifying each text (title-less) with the model in `model_dir`, on one core.

    Each article is classified `repeat` times and its fastest run counts: on a machine shared
    with other work, the slower runs measure the neighbours, not the classifier.
    """
    if not texts:
        return ClassifyTiming(0.0, 0, 0.0)
    classifier = load_classifier(model_dir)
    for text in list(texts)[:WARM_UP]:
        classifier.classify([("", text)])
    total = 0.0
    for text in texts:
        best = float("inf")
        for _ in range(max(1, repeat)):
            started = time.process_time()
            classifier.classify([("", text)])
            best = min(best, time.process_time() - started)
        total += best
    return ClassifyTiming(1000 * total / len(texts), len(texts), sum(len(t) for t in texts) / len(texts))


SYNTHETIC_KINDS = ("relevant", "passing_mention", "ordinary_news")


def synthetic_articles(chars: int = 10_000, kind: str = "relevant", count: int = 60) -> list[str]:
    """`count` texts of exactly `chars` characters glued from corpus items.

    relevant: relevant items carrying a frame, back to back (the worst case: every paragraph
    mentions the compact, both frames and evidence are computed); passing_mention: one
    passing-mention item followed by ordinary news; ordinary_news: ordinary news only.
    """
    from classifiers.corpus import family_of, load_corpus

    items = load_corpus()
    ordinary = [i for i in items if i["category"] == "ordinary_news"]
    if kind == "relevant":
        leads = [i for i in items if i["pro_city_inclusion"] or i["sovereignty_framing"]]
        filler = leads
    elif kind == "passing_mention":
        leads, filler = [i for i in items if family_of(i) == "passing_mention"], ordinary
    else:
        leads, filler = ordinary, ordinary
    texts = []
    for start in range(count):
        parts = [str(leads[start % len(leads)]["text"])]
        size, index = len(parts[0]), start
        while size < chars:
            index += 7
            text = str(filler[index % len(filler)]["text"])
            parts.append(text)
            size += len(text) + 2
        texts.append("\n\n".join(parts)[:chars])
    return texts


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m classifiers.timing`: ms/article on 10,000-character articles."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--chars", type=int, default=10_000)
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args(argv)
    for kind in SYNTHETIC_KINDS:
        texts = synthetic_articles(args.chars, kind, args.count)
        timing = time_classification(texts, args.model_dir, repeat=args.repeat)
        print(f"{kind:>16}: {timing.line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
