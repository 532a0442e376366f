"""Features and classifiers, shared by training, evaluation and the live classifier.

Everything here is built from scikit-learn's own estimators so the saved model contains no
custom Python types: skops rebuilds it without running any code of ours. That is why the
domain cues are a `TfidfVectorizer` with a fixed vocabulary rather than a custom transformer,
and why title and body are routed by a `ColumnTransformer` over a plain object array rather
than by a function.

Why hashing (`HashingVectorizer` + `TfidfTransformer`) rather than `TfidfVectorizer`: skops
writes a fitted vocabulary as one JSON node per n-gram (~400 bytes each), which made a
three-label model 80 MB; hashed features are plain arrays, a few MB, and the size no longer
grows with the corpus. With ~10^5 distinct n-grams per block, 2^18 buckets mostly merge rare
n-grams with each other, which a regularised linear model tolerates well.

Each label has its own pipeline (features + calibrated classifier) because the best blocks
differ by label (see `classifiers.train.DESIGNS` and design_selection.json). The three
pipelines are kept in one dict in one skops file.

Input layout (see `to_inputs`): one row per article, columns
    0 = title, 1 = body (truncated), 2 = title + body.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

LABELS: tuple[str, ...] = ("relevant", "pro_city_inclusion", "sovereignty_framing")

# Articles are scored on their first MAX_CHARS characters. The corpus tops out around 8,000
# characters and the subject of a news article is set in its first paragraphs; reading more
# only costs time (a 5 MB page must not stall the pipeline) and dilutes the TF-IDF vector.
MAX_CHARS = 12_000
MAX_TITLE_CHARS = 400
RANDOM_STATE = 0

COL_TITLE, COL_BODY, COL_ALL = 0, 1, 2

# Domain cues: multi-word names of the compact process in the corpus languages, and the
# look-alikes that share its words (so the model can weigh them against each other). Word
# bigrams already see two-word cues; these add the longer names as single features, counted
# with sublinear tf so that "mentioned once in passing" and "the subject" differ.
# Written accent-stripped and lower-case, as the vectorizer normalises text that way.
RELEVANCE_CUES: tuple[str, ...] = (
    # the process (en)
    "global compact for migration",
    "global compact for safe orderly and regular migration",
    "safe orderly and regular migration",
    "global compact on refugees",
    "global compact on migration",
    "migration compact",
    "refugee compact",
    "refugees compact",
    "global compacts",
    "un migration pact",
    "migration pact",
    "new york declaration",
    "new york declaration for refugees and migrants",
    "marrakech",
    "intergovernmental conference",
    "international migration review forum",
    "imrf",
    "gcm",
    "gcr",
    "mayors migration council",
    "mayors mechanism",
    "marrakech mayors declaration",
    "global forum on migration and development",
    "gfmd",
    "regional review",
    "compact on migration",
    # fr / es / de
    "pacte mondial",
    "pacte de marrakech",
    "pacte sur les migrations",
    "pacte migratoire",
    "pacte de l onu",
    "declaration de new york",
    "pacto mundial",
    "pacto migratorio",
    "pacto de marrakech",
    "pacto global",
    "declaracion de nueva york",
    "migrationspakt",
    "un migrationspakt",
    "globaler pakt",
    "globale pakt",
    "fluchtlingspakt",
    "marrakesch",
    # look-alikes
    "pact on migration and asylum",
    "eu pact",
    "eu migration pact",
    "un global compact",
    "global compact network",
    "corporate sustainability",
    "compact of free association",
    "interstate compact",
    "global covenant of mayors",
    "paris agreement",
    "pandemic treaty",
    "pandemic agreement",
)

FRAME_CUES: dict[str, tuple[str, ...]] = {
    "pro_city_inclusion": (
        "mayor",
        "mayors",
        "city",
        "cities",
        "municipal",
        "municipalities",
        "local government",
        "local governments",
        "local authorities",
        "city hall",
        "city council",
        "city networks",
        "seat at the table",
        "at the table",
        "front line",
        "front lines",
        "frontline",
        "mayors migration council",
        "mayors mechanism",
        "mayors declaration",
        "united cities and local governments",
        "uclg",
        "alcalde",
        "alcaldes",
        "alcaldesa",
        "ciudades",
        "municipios",
        "maire",
        "maires",
        "villes",
        "collectivites",
        "burgermeister",
        "burgermeisterin",
        "stadte",
        "kommunen",
    ),
    "sovereignty_framing": (
        "sovereignty",
        "sovereign",
        "sovereign right",
        "national sovereignty",
        "our sovereignty",
        "control our borders",
        "control its borders",
        "control of our borders",
        "own immigration",
        "legally binding",
        "binding",
        "non binding",
        "back door",
        "soft law",
        "customary law",
        "national interest",
        "self determination",
        "globalist",
        "foreign bureaucrats",
        "dictate",
        "souverainete",
        "souverain",
        "soberania",
        "soberano",
        "souveranitat",
        "souveran",
        "selbstbestimmung",
    ),
}


ALL_CUES: tuple[str, ...] = tuple(
    dict.fromkeys(RELEVANCE_CUES + FRAME_CUES["pro_city_inclusion"] + FRAME_CUES["sovereignty_framing"])
)


@dataclass(frozen=True)
class FeatureDesign:
    """Hyper-parameters of the shared feature extractor (stored in the model card)."""

    char: bool = True  # char_wb 2-5 grams on title + body: robust to inflection and typos
    title: bool = True  # separate word 1-2 grams of the title: headlines state the subject
    cues: bool = True  # fixed-vocabulary domain cues (multi-word names of the process)
    word_buckets: int = 2**18
    char_buckets: int = 2**18
    title_buckets: int = 2**16

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly copy for the model card."""
        return asdict(self)


@dataclass(frozen=True)
class ClassifierDesign:
    """Hyper-parameters of one label's classifier (stored in the model card)."""

    classifier: str = "logreg"  # logreg | svm
    C: float = 4.0

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly copy for the model card."""
        return asdict(self)


def normalise(text: str) -> str:
    """NFKC-normalise (full-width forms, ligatures, non-breaking spaces) so they match."""
    return unicodedata.normalize("NFKC", text)


def to_inputs(pairs: Sequence[tuple[str, str]], max_chars: int = MAX_CHARS) -> np.ndarray:
    """(title, text) pairs → the (n, 3) object array the extractor reads (see module doc)."""
    array = np.empty((len(pairs), 3), dtype=object)
    for index, (title, text) in enumerate(pairs):
        title_n = normalise(title[:MAX_TITLE_CHARS]).strip()
        body_n = normalise(text[:max_chars]).strip()
        array[index, :] = (title_n, body_n, f"{title_n}\n\n{body_n}")
    return array


def _hashed(buckets: int, **options: object) -> Pipeline:
    """Hashed counts → sublinear TF-IDF, the stateless equivalent of `TfidfVectorizer`."""
    return Pipeline(
        [
            (
                "hash",
                HashingVectorizer(
                    n_features=buckets,
                    alternate_sign=False,
                    norm=None,
                    strip_accents="unicode",
                    dtype=np.float32,
                    **options,  # type: ignore[arg-type]
                ),
            ),
            ("tfidf", TfidfTransformer(sublinear_tf=True)),
        ]
    )


def build_features(design: FeatureDesign) -> ColumnTransformer:
    """The shared feature extractor, built only from scikit-learn estimators."""
    parts: list[tuple[str, object, int]] = [
        ("words", _hashed(design.word_buckets, ngram_range=(1, 2)), COL_ALL)
    ]
    if design.char:
        parts.append(("chars", _hashed(design.char_buckets, analyzer="char_wb", ngram_range=(2, 5)), COL_ALL))
    if design.title:
        parts.append(("title", _hashed(design.title_buckets, ngram_range=(1, 2)), COL_TITLE))
    if design.cues:
        parts.append(
            (
                "cues",
                TfidfVectorizer(
                    vocabulary=list(ALL_CUES),
                    ngram_range=(1, max(len(cue.split()) for cue in ALL_CUES)),
                    use_idf=False,
                    sublinear_tf=True,
                    strip_accents="unicode",
                    dtype=np.float32,
                ),
                COL_ALL,
            )
        )
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=1.0)


def build_classifier(design: ClassifierDesign, n_splits: int = 5) -> CalibratedClassifierCV:
    """A class-weighted linear classifier wrapped in sigmoid calibration.

    Why calibrate: thresholds and the Brier score need probabilities that mean what they say,
    and class-weighted linear models (or SVM margins) do not give that. `ensemble=False` keeps
    one final classifier (one coefficient vector, a small model file), with the sigmoid fitted
    on cross-validated decision values. Sigmoid rather than isotonic: a few hundred positives
    are too few for isotonic steps.
    """
    if design.classifier == "svm":
        base: LogisticRegression | LinearSVC = LinearSVC(
            C=design.C, class_weight="balanced", random_state=RANDOM_STATE, max_iter=20_000
        )
    else:
        base = LogisticRegression(
            C=design.C,
            class_weight="balanced",
            solver="liblinear",
            dual=True,  # n_features (2^18+) >> n_samples: the dual is ~8x faster, same optimum
            random_state=RANDOM_STATE,
            max_iter=5_000,
        )
    return CalibratedClassifierCV(
        base,
        method="sigmoid",
        cv=StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=RANDOM_STATE),
        ensemble=False,
    )


def build_base(design: ClassifierDesign) -> LogisticRegression | LinearSVC:
    """The uncalibrated classifier: used for design selection (ranking needs no calibration)."""
    return build_classifier(design).estimator  # type: ignore[return-value]


def build_pipeline(
    feature_design: FeatureDesign, classifier_design: ClassifierDesign, n_splits: int = 5
) -> Pipeline:
    """One label's pipeline: features → calibrated linear classifier."""
    return Pipeline(
        [
            ("features", build_features(feature_design)),
            ("clf", build_classifier(classifier_design, n_splits)),
        ]
    )


def predict_scores(container: dict[str, Pipeline], inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Calibrated probabilities per label for `to_inputs` rows (frames: P(frame | relevant))."""
    return {label: container[label].predict_proba(inputs)[:, 1] for label in LABELS}
