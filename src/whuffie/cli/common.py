"""What every command shares: the store option, error reporting, progress, listing output."""

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
#: Progress bars and spinners: on stderr, so that a listing piped from stdout stays clean; silenced
#: by ``whuffie --quiet``.
progress_console = Console(stderr=True, highlight=False)

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
    bool, typer.Option("--json", help="Print a JSON array of objects, one per row (lists as arrays).")
]
NlOption = Annotated[
    bool, typer.Option("--nl", help="Print one JSON object per line (NDJSON), one per row.")
]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV with a header row (lists joined by ';').")]
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


@contextmanager
def working(description: str) -> Iterator[None]:
    """Show a spinner, the phase the library reports (:mod:`whuffie.progress`) and the time elapsed.

    The display goes to stderr and disappears when the work ends (the command then prints what it
    found); ``whuffie --quiet`` hides it.
    """
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from whuffie.progress import reporting

    if not progress_console.is_terminal or progress_console.quiet:
        yield  # a spinner is for a person watching a terminal; a log or a pipe gets the result only
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.fields[count]}"), TimeElapsedColumn(),
                  console=progress_console, transient=True) as bars:
        task = bars.add_task(description, total=None, count="")

        def listen(what: str, done: int | None, total: int | None) -> None:
            bars.update(task, description=f"{description}: {what}", total=total, completed=done or 0,
                        count=f"{done:,}/{total:,}" if total else "")

        with reporting(listen):
            yield


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
    as_nl: bool = False,
    title: str | None = None,
    empty: str = "Nothing to show.",
) -> None:
    """Print a listing as a rich table, a JSON array, NDJSON or CSV.

    A list value stays a JSON array in JSON and NDJSON; CSV joins it with ``";"`` and the table
    with ``", "``.
    """
    if as_json + as_csv + as_nl > 1:
        raise typer.BadParameter("choose one of --json, --nl and --csv")
    if as_json or as_nl:
        objects = [{c: r.get(c) for c in columns} for r in rows]
        if as_json:
            sys.stdout.write(to_json(objects) + "\n")
        else:
            sys.stdout.writelines(to_json(o) + "\n" for o in objects)
        return
    if as_csv:
        write_csv(({c: _joined(r.get(c), ";") for c in columns} for r in rows), columns, sys.stdout)
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
        table.add_row(*[_cell(_joined(r.get(c), ", ")) for c in columns])
    console.print(table)


def _joined(value: Any, sep: str) -> Any:
    if isinstance(value, list | tuple):
        return sep.join("" if v is None else str(v) for v in value)
    if isinstance(value, Mapping):
        return sep.join(f"{k} {v}" for k, v in value.items() if v is not None)
    return value


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
