"""``whuffie status``, ``whuffie quarantine`` and ``whuffie imports``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from whuffie.cli.common import (
    CsvOption,
    DbOption,
    JsonOption,
    NlOption,
    console,
    emit,
    open_store,
    reported_errors,
)
from whuffie.errors import WhuffieError
from whuffie.report.tables import to_json


def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Summarise the store: messages and actors per platform, interactions per kind, imports."""
    with reported_errors():
        with open_store(db, read_only=True) as store:
            st = store.status()
        if as_json:
            sys.stdout.write(to_json(st) + "\n")
            return
        console.print(f"Store {st['db']} (schema {st['schema_version']})", markup=False)
        t = Table(title="Platforms")
        for c in ("platform", "messages", "actors", "stubs"):
            t.add_column(c, justify="left" if c == "platform" else "right")
        for p in sorted(set(st["messages"]) | set(st["actors"])):
            t.add_row(escape(p), f"{st['messages'].get(p, 0):,}", f"{st['actors'].get(p, 0):,}",
                      f"{st['stubs'].get(p, 0):,}")
        console.print(t)
        k = Table(title="Interactions")
        k.add_column("kind")
        k.add_column("count", justify="right")
        for kind, n in st["interactions"].items():
            k.add_row(escape(kind), f"{n:,}")
        console.print(k)
        imp = st["imports"]
        console.print(
            f"Imports: {imp['total']:,} ({imp['complete']:,} complete, {imp['interrupted']:,} "
            f"interrupted or failed); records read {imp['read']:,}, stored {imp['stored']:,}, "
            f"duplicate {imp['duplicate']:,}; quarantined {st['quarantined']:,}"
            + (f"; flagged {st['flagged']:,} (stored, see whuffie quarantine)" if st["flagged"] else "")
            + ".",
            markup=False,
        )
        relative = st["span"]["relative"]
        clock = f"{relative:,} message(s) with times on a relative clock (stored from 1970-01-01)"
        if st["span"]["first"]:
            console.print(f"Messages from {st['span']['first']} to {st['span']['last']} (UTC)"
                          + (f"; {clock} not counted in these dates." if relative else "."), markup=False)
        elif relative:
            console.print(f"No calendar dates: {clock}.", markup=False)


def quarantine(
    db: DbOption = None,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
    limit: Annotated[int | None, typer.Option(help="Show at most this many records.")] = None,
) -> None:
    """List the records that could not be read: file, line, byte offset, reason, excerpt."""
    with reported_errors():
        with open_store(db, read_only=True) as store:
            rows = store.quarantine(limit)
        emit(rows, ["path", "line", "byte_offset", "format", "severity", "reason", "excerpt"],
             as_json=as_json, as_csv=as_csv, as_nl=as_nl, title="Quarantined records",
             empty="No quarantined records.")


def imports(db: DbOption = None, as_json: JsonOption = False, as_nl: NlOption = False,
            as_csv: CsvOption = False) -> None:
    """List every import: file, format, status, counts, sha256 and duration."""
    with reported_errors():
        with open_store(db, read_only=True) as store:
            rows = store.imports()
        emit(rows, ["import_id", "path", "format", "status", "read", "stored", "duplicate",
                    "quarantined", "duration_s", "sha256"],
             as_json=as_json, as_csv=as_csv, as_nl=as_nl, title="Imports", empty="No imports yet.")


def runs(
    db: DbOption = None,
    prune: Annotated[bool, typer.Option(
        "--prune", help="Drop the superseded runs (a newer run has the same analysis and parameters) "
                        "that no kept run read, with their result rows.")] = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List the saved analysis runs (newest last); --prune drops the superseded ones."""
    with reported_errors():
        with open_store(db, read_only=not prune) as store:
            dropped = store.prune() if prune else []
            rows = store.runs()
        if prune:
            console.print(f"Dropped {len(dropped):,} superseded run(s)"
                          + (f": {', '.join(str(r) for r in dropped)}." if dropped else "."), markup=False)
        for r in rows:
            r["run"] = r.pop("run_id")
            r["main_table"] = r["tables"][0] if r["tables"] else None
            r["seconds"] = round(r["duration_s"], 2) if r["duration_s"] is not None else None
        columns = ["run", "analysis", "created_at", "seconds", "rows", "inputs", "superseded_by"]
        if as_json or as_csv or as_nl:
            columns += ["main_table", "tables", "engine", "version", "params", "prunable"]
        emit(rows, columns, as_json=as_json, as_csv=as_csv, as_nl=as_nl, title="Runs", empty="No run yet.")


def sql(
    query: Annotated[str, typer.Argument(
        help="A SQL query (DuckDB dialect) over the store's tables and views.", show_default=False)],
    db: DbOption = None,
    nl: Annotated[bool, typer.Option("--nl", help="Print one JSON object per line.")] = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Run a read-only SQL query on the store (see docs/store.md for the tables) and print the rows."""
    import duckdb

    with reported_errors():
        with open_store(db, read_only=True) as store:
            try:
                cur = store.con.execute(query)
                columns = [d[0] for d in cur.description] if cur.description else []
                rows = [dict(zip(columns, r, strict=True)) for r in cur.fetchall()] if columns else []
            except duckdb.Error as exc:
                raise WhuffieError(f"the query failed: {exc}") from None
        if nl:
            for r in rows:
                sys.stdout.write(to_json(r) + "\n")
            return
        emit(rows, columns, as_json=as_json, as_csv=as_csv, as_nl=as_nl, title=None, empty="No rows.")
