"""The cycle as a person sees it: a progress bar while it runs and a summary table after.

Shared by `compactwatch once` (pipeline.cli) and `compactwatch demo` (pipeline.demo), which
is why it lives in neither: the demo must not import the CLI that registers it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the runtime (store, fetcher, orchestrator) is imported only when a cycle runs
    from pipeline.records import CycleSummary
    from pipeline.runtime import Runtime


def run_cycle_with_progress(runtime: Runtime, due: list) -> CycleSummary:  # type: ignore[type-arg]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pipeline.runtime import console

    with (
        runtime.orchestrator() as orchestrator,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("polling feeds", total=len(due))
        return orchestrator.run_cycle(due, on_feed_done=lambda _o: progress.advance(task))


def print_summary(summary: CycleSummary, sent: int, pending: int) -> None:
    from rich.table import Table

    from pipeline.runtime import console

    # Feeds, articles and alerts as three short rows: readable in 80 columns (eight columns
    # side by side would cut their headings).
    table = Table(title="compactwatch cycle", show_header=False)
    for _ in range(3):
        table.add_column("what")
        table.add_column("count", justify="right")
    table.add_row("feeds ok", str(summary.feeds_ok), "unchanged", str(summary.feeds_unchanged),
                  "failed", str(summary.feeds_failed))  # fmt: skip
    table.add_row("new articles", str(summary.new_articles), "duplicates", str(summary.duplicates),
                  "relevant", str(summary.relevant))  # fmt: skip
    table.add_row("alerts sent", str(sent), "pending", str(pending), "", "")
    console.print(table)
    for name, reason in summary.failures:
        console.print(f"[red]failed[/] {name}: ", end="")
        console.print(reason, markup=False)
