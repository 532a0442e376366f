"""Sentence features for evidence: the article featurization, cut down to one sentence.

Evidence must be the sentence that carries the frame, so each candidate sentence is scored
with the frame's own weights. Running the full article featurization on every sentence would
cost more than classifying the article; a sentence only needs what it can have: its hashed
words and bigrams and its vocabulary counts (`classifiers.aboutness.kind_profile`), in the
same columns the frame model was trained on. The tokens and kind counts come from the split
already made for evidence (`classifiers.evidence.Sentences`), so nothing is tokenized twice.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from classifiers.aboutness import KIND_COLUMNS, N_FEATURES, kind_profile
from classifiers.features import ArticleFeatures, buckets, hash_rows, unit_rows

SentenceTokens = tuple[list[str], list[str]]  # (lower-cased word tokens, kind of each token)


def sentence_parts(
    features: ArticleFeatures, sentences: Sequence[SentenceTokens]
) -> tuple[sp.csr_matrix, np.ndarray]:
    """One row per sentence, as the two blocks of `ArticleFeatures.parts` (the reference
    definition: `sentence_decisions` computes the same scores without building them)."""
    grams = [features.ngrams("", tokens) for tokens, _ in sentences]
    words = unit_rows(hash_rows(grams, features.word_buckets))
    if not sentences:
        return words, np.zeros((0, N_FEATURES), dtype=np.float32)
    profiles = np.vstack([kind_profile(Counter(kinds), len(tokens)) for tokens, kinds in sentences])
    return words, profiles * features.profile_weight


def sentence_decisions(
    features: ArticleFeatures, weights: np.ndarray, sentences: Sequence[SentenceTokens]
) -> np.ndarray:
    """Each sentence's linear decision value (without intercept) under one label's `weights`.

    The same numbers as `sentence_parts(...)` multiplied by `weights`, computed straight from
    hashed buckets and kind counts: building two sparse matrices for ten short sentences cost
    more than scoring them (scipy's per-matrix overhead dominated evidence).
    """
    n_rows, n_words = len(sentences), features.word_buckets
    if not n_rows:
        return np.zeros(0)
    found: list[int] = []
    lengths: list[int] = []
    for tokens, _ in sentences:
        grams = buckets(features.ngrams("", tokens), n_words)
        found.extend(grams)
        lengths.append(len(grams))
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
    keys, counts = np.unique(rows * n_words + np.asarray(found, dtype=np.int64), return_counts=True)
    key_rows, columns = keys // n_words, keys % n_words
    values = np.log1p(counts.astype(np.float32))
    norms = np.sqrt(np.bincount(key_rows, weights=values.astype(np.float64) ** 2, minlength=n_rows))
    norms[norms == 0] = 1.0
    values = values / norms[key_rows].astype(np.float32)
    decisions = np.bincount(key_rows, weights=values.astype(np.float64) * weights[columns], minlength=n_rows)
    # the vocabulary block, as `kind_profile` fills it (float32 values, times profile_weight)
    kind_rows: list[int] = []
    kind_columns: list[int] = []
    kind_values: list[float] = []
    for row, (tokens, kinds) in enumerate(sentences):
        n_tokens = max(1, len(tokens))
        for kind, count in Counter(kinds).items():
            if kind:
                count_column, density_column = KIND_COLUMNS[kind]
                kind_rows += (row, row)
                kind_columns += (count_column, density_column)
                kind_values += (math.log1p(count), min(1.0, 10 * count / n_tokens))
    if kind_rows:
        scaled = np.asarray(kind_values).astype(np.float32) * np.float32(features.profile_weight)
        products = scaled.astype(np.float64) * weights[n_words:][np.asarray(kind_columns)]
        decisions += np.bincount(np.asarray(kind_rows), weights=products, minlength=n_rows)
    return decisions
