"""Saving and loading the model file with skops, safely and reproducibly.

Why this module exists (see ../shared/reference/reliability.md §5):
- never pickle/joblib: loading a pickle executes whatever the file says;
- skops loads only types on an explicit, reviewed trusted list, and we check the file's
  sha256 against the model card and the scikit-learn major.minor before loading at all;
- skops names the arrays in its zip after Python object ids and stamps the current time on
  every entry, so two identical trainings give different bytes. `canonical_skops` renumbers the
  ids in order of appearance and fixes the timestamps (and `_drop_volatile` removes a cache
  holding an object id), so `make train` on the same data reproduces the committed file byte
  for byte, and its sha256 in the card stays meaningful.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import skops.io as sio

from pipeline.errors import ModelError

# Reviewed: scikit-learn's own calibration internals (coefficient arrays and a reference to
# the fitted linear model), the splitter object kept as CalibratedClassifierCV's `cv`
# parameter (two ints, a bool and a seed), and our shared featurizer, whose state is five
# numbers (its code is this repository's, not the file's). None of them
# runs code on construction.
TRUSTED_TYPES: tuple[str, ...] = (
    "classifiers.features.ArticleFeatures",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
)

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_ID_FILE = re.compile(r"^(\d+)\.npy$")


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def canonical_skops(data: bytes) -> bytes:
    """Rewrite a skops archive so that equal models give equal bytes (see module doc)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    schema = json.loads(source.read("schema.json"))
    ids: dict[int, int] = {}
    renamed: dict[str, str] = {}

    def new_id(old: int) -> int:
        if old not in ids:
            ids[old] = len(ids) + 1
        return ids[old]

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "__id__" and isinstance(value, int):
                    out[key] = new_id(value)
                elif key == "file" and isinstance(value, str):
                    match = _ID_FILE.match(value)
                    if match:
                        name = f"{new_id(int(match.group(1)))}.npy"
                    else:
                        name = renamed.get(value, f"b{len(renamed) + 1}.bin")
                    renamed[value] = name
                    out[key] = name
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    new_schema = walk(schema)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        entries = [("schema.json", json.dumps(new_schema, indent=2).encode())]
        entries += sorted((renamed[name], source.read(name)) for name in renamed)
        for name, payload in entries:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            target.writestr(info, payload, compresslevel=9)
    return buffer.getvalue()


# Caches that scikit-learn keeps on fitted objects and that hold a Python object id, i.e. a
# different number in every process (a vectorizer remembers id(stop_words) to skip a check).
# Dropping them only means the check runs again after loading, which it does anyway.
_VOLATILE_ATTRIBUTES = ("_stop_words_id",)


def _drop_volatile(obj: object, seen: set[int] | None = None) -> None:
    """Remove process-specific caches from a fitted model, recursively (see above)."""
    seen = seen if seen is not None else set()
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, dict):
        children: list[object] = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        children = list(obj)
    elif type(obj).__module__.startswith("sklearn") and hasattr(obj, "__dict__"):
        for name in _VOLATILE_ATTRIBUTES:
            obj.__dict__.pop(name, None)
        children = list(vars(obj).values())
    else:
        return
    for child in children:
        _drop_volatile(child, seen)


def dump_model(obj: object, path: Path) -> str:
    """Write `obj` as a canonical skops file; return its sha256.

    Refuses to write a model that `load_model` would refuse (an untrusted type inside),
    so a bad model is caught at training time, not at the next deployment.
    """
    _drop_volatile(obj)
    data = canonical_skops(sio.dumps(obj))
    unexpected = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelError(f"model would need untrusted types: {', '.join(unexpected)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return sha256_bytes(data)


def sklearn_minor(version: str) -> str:
    """'1.9.1' → '1.9' (scikit-learn promises nothing about models across minor versions)."""
    return ".".join(version.split(".")[:2])


def load_model(path: Path, *, expected_sha256: str, trained_sklearn: str) -> Any:
    """Load a skops model after checking its hash, its sklearn version and its types."""
    import sklearn

    if not path.is_file():
        raise ModelError(f"model file {path} not found: run `make train`")
    data = path.read_bytes()
    actual = sha256_bytes(data)
    if actual != expected_sha256:
        raise ModelError(
            f"model file {path} does not match its model card (sha256 {actual[:12]}, "
            f"card says {expected_sha256[:12]}): restore it or run `make train`"
        )
    if sklearn_minor(trained_sklearn) != sklearn_minor(sklearn.__version__):
        raise ModelError(
            f"model {path.name} was trained with scikit-learn {trained_sklearn}, this is "
            f"{sklearn.__version__}: retrain with `make train` or install {trained_sklearn}"
        )
    try:
        unexpected = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
        if unexpected:
            raise ModelError(f"model file {path} needs untrusted types: {', '.join(unexpected)}")
        return sio.loads(data, trusted=list(TRUSTED_TYPES))
    except ModelError:
        raise
    except Exception as exc:  # corrupt zip, unknown skops protocol, ...
        raise ModelError(f"model file {path} cannot be loaded: {type(exc).__name__}: {exc}") from exc
