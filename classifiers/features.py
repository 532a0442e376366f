"""One shared featurization for the three labels, and the linear classifiers on top of it.

Why this shape (issue 9):
- Speed. The old design ran three pipelines, each with pure-Python char n-gram analyzers, at
  ~20 ms an article. Now an article is featurized ONCE (`ArticleFeatures`) and the three
  labels are three dot products on the same sparse row: hashed word uni/bigrams of the title
  and the first `lexical_chars` characters, plus the dense aboutness profile of the whole
  (≤ MAX_CHARS) text from `classifiers.aboutness`.
- Aboutness. The profile describes whether the compact is the article's subject or a passing
  mention, in any of the nine languages, with look-alikes as their own features; the weights
  of those features are learned like every other weight.
- Safety. The saved model holds scikit-learn objects plus `ArticleFeatures`, a plain
  transformer of ours whose state is a few numbers; skops loads it only because its type is
  on the reviewed trusted list in `classifiers.persist`.

Why hashing: a fitted vocabulary costs ~400 bytes per n-gram in skops and grows with the
corpus; 2^18 hashed buckets are a fixed 1 MB per label and a regularised linear model
tolerates the rare collisions.

Each label's `Pipeline` is (`features` → `clf`), and the three pipelines share the very same
`ArticleFeatures` instance, so the live classifier (`classifiers.model`) featurizes once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils import murmurhash3_32

from classifiers.aboutness import FEATURE_NAMES, N_FEATURES, analyse
from classifiers.lexicon import WORD

LABELS: tuple[str, ...] = ("relevant", "pro_city_inclusion", "sovereignty_framing")

# Articles are read up to MAX_CHARS characters: the subject of a news article is set in its
# first paragraphs and a 5 MB page must not stall the pipeline. The aboutness profile reads
# all of it (regex, cheap); word hashing reads the first LEXICAL_CHARS (Python, the cost).
MAX_CHARS = 12_000
LEXICAL_CHARS = 4_000
MAX_TITLE_CHARS = 400
RANDOM_STATE = 0
WORD_BUCKETS = 2**18


@dataclass(frozen=True)
class FeatureDesign:
    """Hyper-parameters of the shared featurization (stored in the model card)."""

    word_buckets: int = WORD_BUCKETS
    ngram_max: int = 2
    lexical_chars: int = LEXICAL_CHARS
    profile_weight: float = 1.0  # scale of the aboutness block against the unit-norm words

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly copy for the model card."""
        return asdict(self)


@dataclass(frozen=True)
class ClassifierDesign:
    """Hyper-parameters of one label's classifier (stored in the model card)."""

    classifier: str = "logreg"
    C: float = 4.0

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly copy for the model card."""
        return asdict(self)


def normalise(text: str) -> str:
    """NFKC-normalise (full-width forms, ligatures, non-breaking spaces) so they match.

    Most texts already are NFKC: the C-level check is ~10x cheaper than normalising again."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def to_inputs(pairs: Sequence[tuple[str, str]], max_chars: int = MAX_CHARS) -> list[tuple[str, str]]:
    """(title, text) pairs → normalised, truncated (title, body) pairs the featurizer reads."""
    return [
        (normalise(title[:MAX_TITLE_CHARS]).strip(), normalise(text[:max_chars]).strip())
        for title, text in pairs
    ]


class ArticleFeatures(TransformerMixin, BaseEstimator):
    """(title, body) pairs → [hashed word n-grams (sublinear, L2) | aboutness profile].

    Stateless: `fit` learns nothing and exists so the object follows scikit-learn's
    conventions inside a `Pipeline`.
    """

    def __init__(
        self,
        word_buckets: int = WORD_BUCKETS,
        ngram_max: int = 2,
        lexical_chars: int = LEXICAL_CHARS,
        profile_weight: float = 1.0,
    ) -> None:
        self.word_buckets = word_buckets
        self.ngram_max = ngram_max
        self.lexical_chars = lexical_chars
        self.profile_weight = profile_weight

    def fit(self, X: Sequence[tuple[str, str]], y: object = None) -> ArticleFeatures:
        """Nothing is learnt from X (hashing needs no vocabulary); records the output width."""
        self.n_features_out_ = self.word_buckets + N_FEATURES
        return self

    def ngrams(self, title: str, tokens: list[str]) -> list[str]:
        """Title words (twice: headlines state the subject), lead-text words and bigrams."""
        title_tokens = WORD.findall(title.lower())
        grams = title_tokens + title_tokens + tokens
        if self.ngram_max >= 2:
            grams += [f"{a} {b}" for a, b in pairwise(tokens)]
        return grams

    def parts(self, X: Sequence[tuple[str, str]]) -> tuple[sp.csr_matrix, np.ndarray]:
        """The two blocks of the feature matrix: hashed words (sparse) and profiles (dense).

        The live classifier applies each label's weights to the blocks directly, which saves
        building the combined sparse matrix for every article.
        """
        profiles = np.zeros((len(X), N_FEATURES), dtype=np.float32)
        grams: list[list[str]] = []
        for row, (title, body) in enumerate(X):
            profile, tokens = analyse(str(title), str(body), self.lexical_chars)
            profiles[row] = profile
            grams.append(self.ngrams(str(title), tokens))
        return unit_rows(hash_rows(grams, self.word_buckets)), profiles * self.profile_weight

    def row(self, title: str, body: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One article's features as (word columns, word values, profile): the live path."""
        return self.row_and_tokens(title, body)[0]

    def row_and_tokens(
        self, title: str, body: str
    ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], list[str]]:
        """`row`, and the lower-cased word tokens of the body's first `lexical_chars`
        characters, which evidence reuses rather than tokenizing the same text again."""
        profile, tokens = analyse(title, body, self.lexical_chars)
        columns, values = unit_row(self.ngrams(title, tokens), self.word_buckets)
        return (columns, values, profile * self.profile_weight), tokens

    def transform(self, X: Sequence[tuple[str, str]]) -> sp.csr_matrix:
        """The feature matrix: one row per (title, body) pair."""
        words, profiles = self.parts(X)
        return sp.hstack([words, sp.csr_matrix(profiles)], format="csr")

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Bucket numbers for the words, then the aboutness feature names."""
        return np.array(
            [f"word_bucket_{i}" for i in range(self.word_buckets)] + list(FEATURE_NAMES), dtype=object
        )


_bucket_memo: dict[str, int] = {}
_BUCKET_MEMO_LIMIT = 500_000  # ~60 MB at most; cleared (not grown) beyond that


def bucket(gram: str, n_features: int) -> int:
    """The hash bucket of a word or bigram: exactly scikit-learn's `FeatureHasher` rule
    (signed murmurhash3 with seed 0, absolute value modulo n_features), so the model's
    columns mean what they meant when it was trained (a test compares the two)."""
    value = murmurhash3_32(gram, seed=0)
    if value == -(2**31):
        return (2**31 - 1 - (n_features - 1)) % n_features
    return abs(value) % n_features


def buckets(grams: list[str], n_features: int) -> list[int]:
    """The hash bucket of each gram: a memo for words already seen, murmurhash for new ones."""
    memo = _bucket_memo if n_features == WORD_BUCKETS else {}
    found = list(map(memo.get, grams))
    if None in found:
        if len(memo) >= _BUCKET_MEMO_LIMIT:
            memo.clear()
        found = [
            index if index is not None else memo.setdefault(gram, bucket(gram, n_features))
            for gram, index in zip(grams, found, strict=True)
        ]
    return found  # type: ignore[return-value]


def unit_row(grams: list[str], n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """One document's hashed grams as (columns, values): log1p counts scaled to unit norm.

    The same numbers as one row of `unit_rows(hash_rows(...))`, without building a sparse
    matrix: the live classifier scores one article at a time and needs only these two arrays.
    """
    columns, counts = np.unique(np.asarray(buckets(grams, n_features), dtype=np.int32), return_counts=True)
    values = np.log1p(counts.astype(np.float32))
    norm = float(np.sqrt(np.dot(values.astype(np.float64), values)))
    return columns, (values / norm if norm else values)


def hash_rows(gram_lists: Sequence[list[str]], n_features: int) -> sp.csr_matrix:
    """Counts of hashed grams, one row per list (like `FeatureHasher`, ~2x faster per article:
    buckets of words already seen come from a memo instead of a Python generator per gram)."""
    columns: list[int] = []
    lengths: list[int] = []
    for grams in gram_lists:
        found = buckets(grams, n_features)
        columns.extend(found)
        lengths.append(len(found))
    n_rows = len(gram_lists)
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
    keys, counts = np.unique(rows * n_features + np.asarray(columns, dtype=np.int64), return_counts=True)
    indptr = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(keys // n_features, minlength=n_rows), out=indptr[1:])
    return sp.csr_matrix(
        (counts.astype(np.float32), (keys % n_features).astype(np.int32), indptr), shape=(n_rows, n_features)
    )


def unit_rows(counts: sp.csr_matrix) -> sp.csr_matrix:
    """Sublinear term frequencies (log1p), each row scaled to unit L2 norm (in place)."""
    np.log1p(counts.data, out=counts.data)
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(rows, weights=counts.data.astype(np.float64) ** 2, minlength=counts.shape[0]))
    norms[norms == 0] = 1.0
    counts.data /= norms[rows].astype(np.float32)
    return counts


def build_features(design: FeatureDesign) -> ArticleFeatures:
    """The shared featurizer for a design."""
    return ArticleFeatures(design.word_buckets, design.ngram_max, design.lexical_chars, design.profile_weight)


def build_classifier(design: ClassifierDesign, n_splits: int = 5) -> CalibratedClassifierCV:
    """A class-weighted logistic regression wrapped in sigmoid calibration.

    Why calibrate: thresholds and the Brier score need probabilities that mean what they say,
    which class-weighted models do not give. `ensemble=False` keeps one final classifier (one
    coefficient vector), with the sigmoid fitted on cross-validated decision values. Sigmoid
    rather than isotonic: a few hundred positives are too few for isotonic steps.
    """
    base = LogisticRegression(
        C=design.C,
        class_weight="balanced",
        solver="liblinear",
        dual=True,  # n_features (2^18) >> n_samples: the dual is much faster, same optimum
        random_state=RANDOM_STATE,
        max_iter=5_000,
    )
    return CalibratedClassifierCV(
        base,
        method="sigmoid",
        cv=StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=RANDOM_STATE),
        ensemble=False,
    )


def build_base(design: ClassifierDesign) -> LogisticRegression:
    """The uncalibrated classifier (ranking needs no calibration)."""
    return build_classifier(design).estimator  # type: ignore[return-value]


def assemble(
    features: ArticleFeatures, classifiers: dict[str, CalibratedClassifierCV]
) -> dict[str, Pipeline]:
    """One `Pipeline` per label, all sharing the same fitted featurizer instance."""
    return {label: Pipeline([("features", features), ("clf", classifiers[label])]) for label in LABELS}


def shared_features(container: dict[str, Pipeline]) -> ArticleFeatures:
    """The featurizer shared by a container's pipelines."""
    return container["relevant"].steps[0][1]


def predict_scores(container: dict[str, Pipeline], pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
    """Calibrated probabilities per label (frames: P(frame | relevant)), featurizing once."""
    matrix = shared_features(container).transform(pairs)
    return {label: container[label].steps[-1][1].predict_proba(matrix)[:, 1] for label in LABELS}
