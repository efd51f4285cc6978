"""``whuffie ingest`` and ``whuffie formats``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from whuffie.cli.common import (
    DbOption,
    JsonOption,
    console,
    emit,
    open_store,
    reported_errors,
)
from whuffie.errors import SourceError
from whuffie.store.ingest import FileResult, IngestReport


class RichProgress:
    """Progress of :func:`whuffie.store.ingest.ingest`: one bar per file for a few files; for
    many, one bar over all their bytes (a thousand bars would cost more than the import)."""

    MANY = 12

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = None
        self.overall = None
        self.done_bytes = 0
        self.files = self.done_files = 0
        self.records = 0
        self.size = 0

    def begin(self, files: int, size: int) -> None:
        self.files = files
        if files > self.MANY:
            self.overall = self.progress.add_task(f"0/{files:,} files", total=size or None, records=0)

    def start(self, path: Path, size: int, fmt: str) -> None:
        self.size = size
        if self.overall is None:
            self.task = self.progress.add_task(f"{path.name} [{fmt}]", total=size or None, records=0)

    def advance(self, consumed: int, read: int) -> None:
        if self.overall is None:
            self.progress.update(self.task, completed=consumed, records=read)
        else:
            self.progress.update(self.overall, completed=self.done_bytes + min(consumed, self.size),
                                 records=self.records + read)

    def finish(self, result: FileResult) -> None:
        if self.overall is None:
            self.progress.update(self.task, completed=self.progress.tasks[-1].total or 0,
                                 records=result.read)
            return
        self.done_files += 1
        self.done_bytes += self.size
        self.records += result.read
        self.progress.update(self.overall, description=f"{self.done_files:,}/{self.files:,} files",
                             completed=self.done_bytes, records=self.records)

    def skip(self, path: Path, reason: str) -> None:
        pass


def _parse_options(values: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for v in values:
        if "=" not in v:
            raise typer.BadParameter(f"option {v!r} is not KEY=VALUE (e.g. -o platform=twitter)")
        k, _, val = v.partition("=")
        options[k.strip()] = val.strip()
    return options


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files (plain or compressed) and folders.",
                                                show_default=False)],
    format: Annotated[str, typer.Option("--format", "-f",
                                        help="A reader id (see 'whuffie formats') or 'auto'.")] = "auto",
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="Reader option KEY=VALUE (repeatable), e.g. -o platform=higgs.")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Abort at the first bad record instead of quarantining it.")] = False,
    db: DbOption = None,
) -> None:
    """Import exports into the store: idempotent, resumable, bad records quarantined."""
    with reported_errors():
        options = _parse_options(option or [])
        store = open_store(db)
        try:
            with Progress(
                TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                TransferSpeedColumn(), TextColumn("{task.fields[records]:,} records"),
                TimeRemainingColumn(), console=console, transient=False,
            ) as bars:
                report = store.ingest(paths, format=format, options=options, strict=strict,
                                      progress=RichProgress(bars))
        finally:
            store.close()
        _summary(report, store.path)


def _summary(report: IngestReport, db: Path) -> None:
    if not report.files and report.skipped:
        raise SourceError(
            f"no file in a known format among {len(report.skipped)} file(s); "
            "pass --format (see 'whuffie formats')"
        )
    table = Table(title=f"Imported into {db}")
    for col in ("file", "format", "read", "stored", "duplicate", "quarantined", "seconds"):
        table.add_column(col, justify="left" if col in ("file", "format") else "right")
    shown = report.files if len(report.files) <= 20 else sorted(
        report.files, key=lambda f: (-f.quarantined, -f.read))[:15]
    for f in shown:
        table.add_row(Path(f.path).name, f.format, f"{f.read:,}", f"{f.stored:,}",
                      f"{f.duplicate:,}", f"{f.quarantined:,}", f"{f.duration_s:.1f}")
    if len(shown) < len(report.files):
        table.add_row(f"... {len(report.files) - len(shown):,} more files", "", "", "", "", "", "")
    if len(report.files) > 1:
        table.add_row("total", "", *(f"{report.total(k):,}" for k in
                                     ("read", "stored", "duplicate", "quarantined")),
                      f"{sum(f.duration_s for f in report.files):.1f}", style="bold")
    console.print(table)
    if report.skipped:
        console.print(f"Skipped {len(report.skipped)} file(s) in no known format or read with "
                      "their companion (e.g. "
                      f"{Path(report.skipped[0][0]).name}: {report.skipped[0][1]}).", markup=False)
    bad = report.total("quarantined")
    if bad:
        console.print(f"{bad:,} record(s) quarantined: see 'whuffie quarantine'.", markup=False)


def formats(
    as_json: JsonOption = False,
    markdown: Annotated[bool, typer.Option(
        "--markdown", help="Print the full documentation of every reader as Markdown.")] = False,
) -> None:
    """List the readers: their ids, what they read, and their options."""
    import sys

    from whuffie.sources import BROKEN, reader_classes

    with reported_errors():
        if markdown:
            from whuffie.sources.docs import formats_markdown

            sys.stdout.write(formats_markdown())
            return
        rows = [
            {"format": rid, "platform": cls.platform, "reads": cls.title,
             "options": ", ".join(f"{k}: {v}" for k, v in cls.options_help.items())}
            for rid, cls in reader_classes().items()
        ]
        rows += [{"format": rid, "platform": "", "reads": f"BROKEN: {err}", "options": ""}
                 for rid, err in BROKEN.items()]
        emit(rows, ["format", "platform", "reads", "options"], as_json=as_json, as_csv=False,
             title="Readers")
