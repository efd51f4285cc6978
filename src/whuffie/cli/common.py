"""What every command shares: the store option, error reporting, progress, listing output."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from whuffie.api import Result, Store
from whuffie.errors import WhuffieError
from whuffie.report.tables import to_json, write_csv
from whuffie.store.store import damaged, default_path, unreadable

#: What a terminal must not receive from data: C0 controls (ESC starts the sequences that clear
#: the screen or set the window title), DEL, C1 controls (0x9b is a one-byte CSI) and the bidi
#: overrides and isolates that make text read in another order than it is stored.
_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
#: Replacements: white space becomes a space, anything else the replacement character.
_TERMINAL = {c: " " if chr(c) in "\t\n\v\f\r" else "\ufffd" for c in _CONTROLS}
_TERMINAL_LINES = {**_TERMINAL, ord("\n"): "\n"}


def terminal_text(value: str, keep_newlines: bool = False) -> str:
    """``value`` made harmless to show in a terminal: control characters replaced.

    Control characters (C0, DEL, C1) and bidi overrides become U+FFFD (white space controls a
    space), so a handle cannot move the cursor, clear the screen, set the window title or reorder
    what is shown. JSON and CSV outputs keep the data as it is.

    Parameters
    ----------
    value : str
        Text that came from data.
    keep_newlines : bool
        Keep ``"\\n"`` (text printed line by line); in a table cell it becomes a space.

    Examples
    --------
    >>> terminal_text("\\x1b]0;pwned\\x07evil\\x1b[2J")
    '\ufffd]0;pwned\ufffdevil\ufffd[2J'
    >>> terminal_text("a\\tb\\u202ec"), terminal_text("one\\ntwo", keep_newlines=True)
    ('a b\ufffdc', 'one\\ntwo')
    """
    return value.translate(_TERMINAL_LINES if keep_newlines else _TERMINAL)


class _TerminalConsole(Console):
    """A console that passes every string it is given through :func:`terminal_text`.

    Tables, titles and the lines commands print all reach the terminal as strings rendered here,
    so data cannot slip a control sequence past a command that forgot to clean it.
    """

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(terminal_text(text, keep_newlines=True), **kwargs)


console = _TerminalConsole(highlight=False)
err_console = _TerminalConsole(stderr=True, highlight=False)
#: Progress bars and spinners: on stderr, so that a listing piped from stdout stays clean; silenced
#: by ``whuffie --quiet``.
progress_console = _TerminalConsole(stderr=True, highlight=False)

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
ShowPrivateOption = Annotated[bool, typer.Option(
    "--show-private", help="Show the handles of private individuals (actors below --public-reach); by "
                           "default the report and map show them as anon-… pseudonyms.")]
PublicReachOption = Annotated[int, typer.Option(
    "--public-reach", min=0, metavar="N",
    help="Actors verified, or with at least N followers or N distinct people paying them attention, "
         "are public and named; the others are private individuals.")]


#: The store the running command opened: named when DuckDB fails reading it in mid-command.
_opened: ContextVar[Path | None] = ContextVar("whuffie_store", default=None)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn Whuffie errors into ``Error: <message>`` on stderr and exit status 1.

    DuckDB's errors that mean the store's file is unreadable (corrupt blocks, failed reads, a
    missing table), met once the store is open, are said the same way, naming the store; other
    DuckDB errors are bugs and keep their traceback.
    """
    import duckdb

    opened = _opened.set(None)  # the store this command opens, not one an earlier call opened
    try:
        yield
    except WhuffieError as exc:
        _error(str(exc))
    except duckdb.Error as exc:
        _store_error(exc)
    except KeyboardInterrupt:
        err_console.print("Interrupted; the store keeps every completed batch.", markup=False)
        raise typer.Exit(130) from None
    finally:
        _opened.reset(opened)


def _error(message: str) -> None:
    err_console.print(f"Error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(1) from None


def _store_error(exc: Exception) -> None:
    """Say a DuckDB error that concerns the store's file; re-raise any other (a bug)."""
    import duckdb

    path = _opened.get()
    text = " ".join(str(exc).split())
    if path is not None and unreadable(exc):
        _error(str(damaged(path, text)))
    if path is not None and isinstance(exc, duckdb.IOException) and any(
            s in text for s in ("No space left", "Read-only file system", "Permission denied")):
        _error(f"cannot write to store {path} ({text}): free disk space or give a writable --db")
    raise exc


def open_store(db: Path | None, read_only: bool = False, analysis: bool = False) -> Store:
    """Open the store named by ``--db`` (or the default).

    ``analysis=True`` opens it read-only and takes the write lock only when a new run must be
    saved: listing a saved run does not lock out a notebook or another command reading the store.
    """
    path = db if db is not None else default_path()
    _opened.set(path)
    if analysis:
        return Store(path, read_only=True, writable_on_demand=True)
    return Store(path, read_only=read_only)


@contextmanager
def working(description: str) -> Iterator[None]:
    """Show a spinner, the phase the library reports (:mod:`whuffie.progress`) and the time elapsed.

    The display goes to stderr and disappears when the work ends (the command then prints what it
    found); ``whuffie --quiet`` hides it.
    """
    from rich.markup import escape
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
            # The phase may name a file; the description is markup, rendered without render_str.
            bars.update(task, description=f"{description}: {escape(terminal_text(what))}", total=total,
                        completed=done or 0, count=f"{done:,}/{total:,}" if total else "")

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
    table = Table(title=title and terminal_text(title), show_lines=False)
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
    return escape(terminal_text(str(value)))
