"""``whuffie demo`` and ``whuffie report``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer

from whuffie.cli.common import DbOption, console, open_store, reported_errors
from whuffie.cli.ingest import RichProgress, _summary
from whuffie.errors import WhuffieError

DEMO_DB = Path("whuffie-demo.duckdb")
REPORT_DIR = Path("whuffie-report")

OutOption = Annotated[Path, typer.Option("--out", help="Folder of the HTML report.")]


def sample_files() -> list[Path]:
    """The bundled, licence-clean real sample (a Stack Exchange dump, CC BY-SA 3.0)."""
    folder = Path(str(files("whuffie.data") / "sample" / "conlang.meta.stackexchange.com"))
    return sorted(folder.glob("*.xml.gz"))


def demo(
    db: Annotated[Path, typer.Option("--db", help="The demo store; created afresh.")] = DEMO_DB,
    out: OutOption = REPORT_DIR,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing store at --db.")] = False,
) -> None:
    """Ingest the bundled real sample into a fresh store and write the HTML report."""
    from rich.progress import BarColumn, Progress, TextColumn

    from whuffie.report.html import write_report

    with reported_errors():
        if db.exists():
            if db != DEMO_DB and not force:
                raise WhuffieError(f"{db} exists; the demo needs a fresh store (use --force to "
                                   "replace it, or another --db)")
            db.unlink()
            Path(str(db) + ".wal").unlink(missing_ok=True)
        store = open_store(db)
        try:
            with Progress(TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.fields[records]:,} records"), console=console) as bars:
                report = store.ingest(sample_files(), progress=RichProgress(bars))
            _summary(report, db)
            with console.status("Writing the report"):
                index = write_report(store, out, title="Whuffie demo: Constructed Languages Meta")
        finally:
            store.close()
        console.print(f"Report: {index.resolve()}", markup=False)
        console.print(f"Explore the store: whuffie status --db {db}", markup=False)


def report(db: DbOption = None, out: OutOption = REPORT_DIR) -> None:
    """Write the HTML report of a store (index.html and its offline assets)."""
    from whuffie.report.html import write_report

    with reported_errors():
        with open_store(db, read_only=True) as store, console.status("Writing the report"):
            index = write_report(store, out)
        console.print(f"Report: {index.resolve()}", markup=False)
