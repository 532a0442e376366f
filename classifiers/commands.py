"""CLI commands of the classifier, registered on the main `compactwatch` app by pipeline.cli.

    compactwatch classify --jsonl IN [--out OUT]   one output line per input line
    compactwatch classify --text "..."             print one result
    compactwatch classify --url URL                fetch (guarded), extract, classify
    compactwatch train [--force]                   = make train
    compactwatch eval                              = make eval

Errors users can act on are raised as CompactwatchError (the main CLI prints one line and
exits 1); a bad input line in --jsonl becomes an output line with status "error", never a
traceback, so one broken record cannot lose the other thousand.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from pipeline.errors import CompactwatchError, FetchError

# scikit-learn, scipy and skops come in through classifiers.model/train/promote: they are
# imported by the commands that classify or train, not when the CLI starts.
if TYPE_CHECKING:
    from rich.console import Console

    from classifiers.model import Classifier
    from classifiers.train import TrainReport
    from pipeline.records import Classification

BATCH = 64
OUTPUT_KEYS = (
    "relevant",
    "relevance",
    "pro_city_inclusion",
    "pro_city_inclusion_score",
    "sovereignty_framing",
    "sovereignty_framing_score",
    "evidence",
    "model_version",
    "language",
    "status",
)


def _model_dir() -> Path:
    from pipeline.settings import load_settings

    return load_settings().model_dir


def _error_line(item_id: object, model_version: str, message: str) -> dict[str, Any]:
    """An output line for an input that could not be classified (same keys, nulls)."""
    line: dict[str, Any] = {"id": item_id}
    line.update(dict.fromkeys(OUTPUT_KEYS))
    line.update({"evidence": {}, "model_version": model_version, "status": "error", "error": message})
    return line


def _parse_line(number: int, raw: str) -> tuple[object, tuple[str, str] | None, str | None]:
    """(id, (title, text) or None, error) for one input line."""
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, None, f"line {number}: invalid JSON ({exc.msg})"
    if not isinstance(record, dict):
        return None, None, f"line {number}: not a JSON object"
    item_id = record.get("id")
    if isinstance(item_id, (dict, list)):
        return None, None, f"line {number}: id must be a string or a number"
    if item_id is None:
        return None, None, f"line {number}: missing id"
    title = record.get("title", "")
    text = record.get("text")
    if title is None:
        title = ""
    if not isinstance(title, str) or not isinstance(text, str):
        return item_id, None, f"line {number}: title and text must be strings"
    return item_id, (title, text), None


def classify_jsonl(classifier: Classifier, source: IO[str], sink: IO[str]) -> dict[str, int]:
    """Stream `source` lines to `sink` results in input order, classifying in batches."""
    counts = {"lines": 0, "relevant": 0, "errors": 0}
    pending: list[tuple[object, tuple[str, str] | None, str | None]] = []

    def classify_each(pairs: list[tuple[str, str]]) -> list[Classification | str]:
        """Batch first; if the batch fails unexpectedly, item by item so only the culprit fails."""
        try:
            return list(classifier.classify(pairs))
        except Exception:  # an unforeseen input must not lose the rest of the batch
            out: list[Classification | str] = []
            for pair in pairs:
                try:
                    out.append(classifier.classify([pair])[0])
                except Exception as exc:
                    out.append(f"classification failed: {type(exc).__name__}: {exc}"[:300])
            return out

    def flush() -> None:
        results = iter(classify_each([pair for _, pair, _ in pending if pair is not None]))
        for item_id, pair, error in pending:
            result = next(results) if pair is not None else (error or "invalid line")
            if isinstance(result, str):
                line = _error_line(item_id, classifier.model_version, result)
                counts["errors"] += 1
            else:
                line = {"id": item_id, **result.as_output()}
                counts["relevant"] += int(result.relevant)
            sink.write(json.dumps(line, ensure_ascii=False) + "\n")
        pending.clear()

    for number, raw in enumerate(source, start=1):
        if not raw.strip():
            continue
        counts["lines"] += 1
        pending.append(_parse_line(number, raw))
        if len(pending) >= BATCH:
            flush()
    flush()
    return counts


def _open_input(path: Path) -> Iterator[IO[str]]:
    if str(path) == "-":
        yield sys.stdin
        return
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CompactwatchError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        yield handle


def _fetch_and_extract(url: str) -> tuple[str, str, str]:
    """Fetch `url` through the guarded fetcher and extract it: (title, text, extraction status)."""
    from pipeline.extract import extract_article
    from pipeline.fetcher import GuardedFetcher
    from pipeline.runtime import fetch_options
    from pipeline.settings import load_settings

    settings = load_settings()
    with GuardedFetcher(fetch_options(settings)) as fetcher:
        response = fetcher.fetch(url)
    if response.status >= 400:
        raise FetchError(f"HTTP {response.status} for {url}", url=url, status=response.status)
    extraction = extract_article(response.body, response.url, timeout=settings.extraction_timeout)
    return extraction.title, extraction.text, extraction.status


def classify(
    jsonl: Annotated[
        Path | None,
        typer.Option("--jsonl", help='Input JSON lines {"id","title","text"} ("-" = stdin).'),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output JSON lines (default: standard output).")
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="Classify this text and print the result.")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Fetch this page, extract it and classify it.")
    ] = None,
) -> None:
    """Classify texts: relevance, the two frames with evidence, and the model version."""
    chosen = [
        name for name, value in (("--jsonl", jsonl), ("--text", text), ("--url", url)) if value is not None
    ]
    if len(chosen) != 1:
        raise typer.BadParameter("give exactly one of --jsonl, --text or --url")
    from classifiers.model import get_classifier

    classifier = get_classifier(_model_dir())
    if jsonl is not None:
        for source in _open_input(jsonl):
            if out is None:
                counts = classify_jsonl(classifier, source, sys.stdout)
            else:
                try:
                    sink = out.open("w", encoding="utf-8")
                except OSError as exc:
                    raise CompactwatchError(f"cannot write {out}: {exc.strerror}") from None
                with sink:
                    counts = classify_jsonl(classifier, source, sink)
            target = out if out is not None else "stdout"
            print(
                f"classified {counts['lines']} lines: {counts['relevant']} relevant, "
                f"{counts['errors']} errors → {target}",
                file=sys.stderr,
            )
        return
    if text is not None:
        result = classifier.classify([("", text)])[0]
        print(json.dumps(result.as_output(), ensure_ascii=False, indent=2))
        return
    assert url is not None
    title, body, extraction_status = _fetch_and_extract(url)
    result = classifier.classify([(title, body)])[0]
    output = {"url": url, "title": title, "extraction_status": extraction_status, **result.as_output()}
    print(json.dumps(output, ensure_ascii=False, indent=2))


def run_training(
    *, force: bool = False, out_dir: Path | None = None, console: Console | None = None
) -> TrainReport:
    """Rebuild the corpus from its parts, retrain if needed, record the evaluation."""
    from rich.console import Console
    from rich.table import Table

    from classifiers.corpus import PARTS_DIR, build_corpus, load_corpus
    from classifiers.evaluate import evaluate
    from classifiers.heldout import load_heldout
    from classifiers.promote import retrain_with_gate
    from classifiers.train import CARD_FILE, MODEL_FILE

    console = console or Console()
    out_dir = out_dir or _model_dir()
    if PARTS_DIR.is_dir() and any(PARTS_DIR.glob("*.jsonl")):
        _, _, digest = build_corpus()
        console.print(f"corpus rebuilt from {PARTS_DIR.name}/ (sha256 {digest[:12]})")
    items = load_corpus()
    extra, tolerance = _analyst_labels(console)
    with console.status("training a candidate (5-fold validation + final fit) and comparing…"):
        report, decision = retrain_with_gate(items, extra, out_dir, tolerance=tolerance, force=force)
    table = Table(title=f"model {report.model_version}", title_justify="left")
    for column in ("label", "threshold", "test F1"):
        table.add_column(column, justify="right" if column != "label" else "left")
    for label, threshold in report.thresholds.items():
        table.add_row(label, f"{threshold:.3f}", f"{report.test_f1.get(label, 0.0):.3f}")
    console.print(table)
    console.print(
        f"train {report.items_train} · test {report.items_test} · analyst corrections used "
        f"{report.extra_labels_used} (skipped {report.extra_labels_skipped})"
    )
    for note in report.notes:
        console.print(f"[yellow]{note}[/]")
    colour = "green" if decision.promoted else ("yellow" if decision.decision == "unchanged" else "red")
    console.print(f"[{colour}]{decision.decision}[/]: ", end="")
    console.print(decision.reason, markup=False)
    if not decision.promoted:
        return report
    # the report's paths point into the candidate directory, which is gone once promoted
    card_path, model_path = out_dir / CARD_FILE, out_dir / MODEL_FILE
    card = json.loads(card_path.read_text(encoding="utf-8"))
    if (report.retrained or "evaluation" not in card) and load_heldout():
        with console.status("evaluating against the keyword baseline…"):
            evaluate(items, out_dir, console=Console(file=io.StringIO()), write=True)
        console.print(f"evaluation written to {card_path} (see it with `compactwatch eval`)")
    console.print(f"model: {model_path}  card: {card_path}")
    return report


def _analyst_labels(console: Console) -> tuple[list[tuple[str, str, str, bool]], float]:
    """Analysts' corrections from the store (Slack buttons and the archive), and the gate's
    tolerance; training still runs on the corpus alone when the database is unreachable."""
    from pipeline.errors import CompactwatchError
    from pipeline.settings import load_settings
    from pipeline.store import open_store

    settings = load_settings()
    try:
        store = open_store(settings.database_url)
        labels = store.analyst_labels()
        store.close()
    except CompactwatchError as error:
        console.print(f"[yellow]analyst labels not read ({error}); training on the corpus alone[/]")
        return [], settings.retrain_tolerance
    console.print(f"analyst corrections found in the store: {len(labels)}")
    return labels, settings.retrain_tolerance


def train(
    force: Annotated[
        bool,
        typer.Option("--force", help="Retrain even if current, and promote even if a label's F1 drops."),
    ] = False,
) -> None:
    """Train the classifier on classifiers/data (deterministic) and write models/ + card."""
    run_training(force=force)


def eval_command() -> None:
    """Evaluate the model against the keyword baseline on the held-out test set (and, secondary,
    the in-house split): per label, per family, per language."""
    from classifiers.evaluate import evaluate

    evaluate(model_dir=_model_dir())


# pipeline.cli registers `commands.eval`; the name shadows the builtin only inside this module.
eval = eval_command
