"""`python -m classifiers.train_cli [--force]`: retrain from the corpus (= `compactwatch train`).

The command-line entry of `classifiers.train`, kept apart from it: it calls
`classifiers.commands.run_training` (which reads analysts' corrections through the app's
runtime), and the training module must not import the app shell above it (an import circle).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import CompactwatchError


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m classifiers.train_cli`: retrain from classifiers/data/corpus.jsonl."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--force", action="store_true", help="retrain even if the card is current")
    parser.add_argument("--out", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    from classifiers.commands import run_training

    try:
        run_training(force=args.force, out_dir=args.out)
    except CompactwatchError as exc:  # one line for users, like the main CLI
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
