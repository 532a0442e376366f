"""Sentence features for evidence: the article featurization, cut down to one sentence.

Evidence must be the sentence that carries the frame, so each candidate sentence is scored
with the frame's own weights. Running the full article featurization on every sentence would
cost more than classifying the article; a sentence only needs what it can have: its hashed
words and bigrams and its vocabulary counts (`classifiers.aboutness.kind_profile`), in the
same columns the frame model was trained on. The tokens and kind counts come from the split
already made for evidence (`classifiers.evidence.Sentences`), so nothing is tokenized twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from classifiers.aboutness import N_FEATURES, kind_profile
from classifiers.features import ArticleFeatures, hash_rows, unit_rows

SentenceTokens = tuple[list[str], list[str]]  # (lower-cased word tokens, kind of each token)


def sentence_parts(
    features: ArticleFeatures, sentences: Sequence[SentenceTokens]
) -> tuple[sp.csr_matrix, np.ndarray]:
    """One row per sentence, as the two blocks of `ArticleFeatures.parts`."""
    grams = [features.ngrams("", tokens) for tokens, _ in sentences]
    words = unit_rows(hash_rows(grams, features.word_buckets))
    if not sentences:
        return words, np.zeros((0, N_FEATURES), dtype=np.float32)
    profiles = np.vstack([kind_profile(Counter(kinds), len(tokens)) for tokens, kinds in sentences])
    return words, profiles * features.profile_weight
