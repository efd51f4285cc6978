"""What every command shares: the store option, error reporting, listing output."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from whuffie.api import Result, Store
from whuffie.errors import WhuffieError
from whuffie.report.tables import to_json, write_csv
from whuffie.store.store import default_path

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="WHUFFIE_DB",
        help="The store (a DuckDB file). Default: $WHUFFIE_DB or ./whuffie.duckdb.",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print a JSON array of flat objects, one per row.")
]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV with a header row.")]
FreshOption = Annotated[bool, typer.Option(
    "--fresh", help="Compute again even when the store holds a run of the same request on the same data.")]


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn Whuffie errors into ``Error: <message>`` on stderr and exit status 1."""
    try:
        yield
    except WhuffieError as exc:
        err_console.print(f"Error: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err_console.print("Interrupted; the store keeps every completed batch.", markup=False)
        raise typer.Exit(130) from None


def open_store(db: Path | None, read_only: bool = False, analysis: bool = False) -> Store:
    """Open the store named by ``--db`` (or the default).

    ``analysis=True`` opens it read-only and takes the write lock only when a new run must be
    saved: listing a saved run does not lock out a notebook or another command reading the store.
    """
    path = db if db is not None else default_path()
    if analysis:
        return Store(path, read_only=True, writable_on_demand=True)
    return Store(path, read_only=read_only)


def noted(result: Result) -> Result:
    """Print a result's note (e.g. why it could not be saved) on stderr; return the result."""
    if result.note:
        err_console.print(f"Note: {result.note}.", markup=False, soft_wrap=True)
    return result


def emit(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    as_json: bool,
    as_csv: bool,
    title: str | None = None,
    empty: str = "Nothing to show.",
) -> None:
    """Print a listing as a rich table, a JSON array or CSV."""
    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv")
    if as_json:
        sys.stdout.write(to_json([{c: r.get(c) for c in columns} for r in rows]) + "\n")
        return
    if as_csv:
        write_csv(rows, columns, sys.stdout)
        return
    if not rows:
        console.print(empty, markup=False)
        return
    table = Table(title=title, show_lines=False)
    for c in columns:
        numeric = all(isinstance(r.get(c), int | float) or r.get(c) is None for r in rows)
        # Ids keep their end (the distinctive part) when the terminal is narrow.
        table.add_column(c, justify="right" if numeric else "left", overflow="fold",
                         ratio=3 if c in ("actor", "message", "path", "excerpt", "reason") else None)
    for r in rows:
        table.add_row(*[_cell(r.get(c)) for c in columns])
    console.print(table)


def _cell(value: Any) -> str:
    from rich.markup import escape

    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return escape(str(value))
