"""``whuffie ingest`` and ``whuffie formats``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from whuffie.cli.common import (
    DbOption,
    JsonOption,
    NlOption,
    console,
    emit,
    open_store,
    progress_console,
    reported_errors,
)
from whuffie.errors import SourceError
from whuffie.sources.base import OptionError
from whuffie.store.ingest import FileResult, IngestReport


class RichProgress:
    """Progress of :func:`whuffie.store.ingest.ingest`: one bar per file for a few files; for
    many, one bar over all their bytes (a thousand bars would cost more than the import).

    Bytes are those of the files on disk, against their total size on disk. Small files are
    committed in groups, after later files started: each event is booked to its own file.
    """

    MANY = 12

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.overall = None
        self.files = self.done_files = 0
        self.current: str | None = None
        #: Per file: task (one bar per file), size, bytes done, records read.
        self.tasks: dict[str, TaskID] = {}
        self.sizes: dict[str, int | None] = {}
        self.done: dict[str, int] = {}
        self.read: dict[str, int] = {}
        self.all_done = self.all_read = 0

    def begin(self, files: int, size: int | None) -> None:
        self.files = files
        if files > self.MANY:
            self.overall = self.progress.add_task(f"0/{files:,} files", total=size, records=0)

    def start(self, path: Path, size: int | None, fmt: str) -> None:
        key = self.current = str(path)
        self.sizes[key], self.done[key], self.read[key] = size, 0, 0
        if self.overall is None:
            self.tasks[key] = self.progress.add_task(f"{path.name} [{fmt}]", total=size, records=0)

    def advance(self, consumed: int, read: int) -> None:
        if self.current is not None:
            self._book(self.current, consumed, read)

    def finish(self, result: FileResult) -> None:
        key = result.path
        if key not in self.done:
            return
        if self.sizes[key] is None and result.size is not None:  # a stream, now measured
            self.sizes[key] = result.size
            if self.overall is None:
                self.progress.update(self.tasks[key], total=result.size)
        self._book(key, result.size if result.size is not None else self.done[key], result.read)
        if self.overall is not None:
            self.done_files += 1
            self.progress.update(self.overall,
                                 description=f"{self.done_files:,}/{self.files:,} files")

    def _book(self, key: str, consumed: int, read: int) -> None:
        size = self.sizes[key]
        consumed = min(consumed, size) if size is not None else consumed
        self.all_done += consumed - self.done[key]
        self.all_read += read - self.read[key]
        self.done[key], self.read[key] = consumed, read
        if self.overall is None:
            self.progress.update(self.tasks[key], completed=consumed, records=read)
        else:
            self.progress.update(self.overall, completed=self.all_done, records=self.all_read)

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
    paths: Annotated[list[Path], typer.Argument(
        help="Files (plain or compressed) and folders; '-' reads standard input.",
        show_default=False)],
    format: Annotated[str, typer.Option(
        "--format", "-f",
        help="A reader id (see 'whuffie formats') or 'auto' (standard input: from its first bytes)."
    )] = "auto",
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="Reader option KEY=VALUE (repeatable), e.g. -o platform=higgs.")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Abort at the first bad record instead of quarantining it.")] = False,
    show_skipped: Annotated[bool, typer.Option(
        "--show-skipped", help="List every file skipped (format not recognised, empty...) and why.")
    ] = False,
    pseudonymise: Annotated[Path | None, typer.Option(
        "--pseudonymise", metavar="KEYFILE",
        help="Store keyed pseudonyms instead of ids, handles and names, and mask e-mail addresses and "
             "phone numbers in texts (KEYFILE is created when missing: keep it, and keep it apart "
             "from the store). A store created so needs the same key for every import.")] = None,
    allow_returning: Annotated[bool, typer.Option(
        "--allow-returning", help="Let actors erased with 'whuffie forget' back in.")] = False,
    db: DbOption = None,
) -> None:
    """Import exports into the store: idempotent, resumable, bad records quarantined."""
    if sum(str(p) == "-" for p in paths) > 1:
        raise typer.BadParameter("standard input ('-') can be read once only", param_hint="PATHS")
    if any(str(p) == "-" for p in paths) and sys.stdin.isatty():
        raise typer.BadParameter("'-' reads standard input, which is a terminal here: pipe an export "
                                 "in (e.g. zstdcat RC_2024-01.zst | whuffie ingest -)", param_hint="PATHS")
    with reported_errors():
        options = _parse_options(option or [])
        store = open_store(db)
        try:
            with Progress(
                TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                TransferSpeedColumn(), TextColumn("{task.fields[records]:,} records"),
                TimeRemainingColumn(), console=progress_console, transient=False,
            ) as bars:
                try:
                    created = pseudonymise is not None and not pseudonymise.exists()
                    report = store.ingest(paths, format=format, options=options, strict=strict,
                                          progress=RichProgress(bars), pseudonymise=pseudonymise,
                                          allow_returning=allow_returning)
                except OptionError as exc:
                    raise typer.BadParameter(str(exc), param_hint="'--option' / '-o'") from None
        finally:
            store.close()
        _summary(report, store.path, show_skipped)
        if pseudonymise is not None:
            console.print(f"Pseudonymised with the key in {pseudonymise}"
                          + (" (created now: keep it apart from the store; without it no pseudonym "
                             "maps back, and later imports into this store need it)" if created else "")
                          + ".", markup=False)


def _summary(report: IngestReport, db: Path, show_skipped: bool = False) -> None:
    if show_skipped and report.skipped:
        listing = Table(title=f"Skipped {len(report.skipped):,} file(s)")
        listing.add_column("file", overflow="fold")
        listing.add_column("reason")
        for path, reason in report.skipped:
            listing.add_row(escape(path), reason)
        console.print(listing)
    if not report.files and report.skipped:
        raise SourceError(
            f"no file imported: {len(report.skipped)} skipped ({_reasons(report)}); "
            + ("" if show_skipped else "--show-skipped lists them; ")
            + "pass --format to read files in a format not recognised (see 'whuffie formats')"
        )
    table = Table(title=f"Imported into {db}")
    for col in ("file", "format", "read", "stored", "duplicate", "quarantined", "seconds"):
        table.add_column(col, justify="left" if col in ("file", "format") else "right")
    shown = report.files if len(report.files) <= 20 else sorted(
        report.files, key=lambda f: (-f.quarantined, -f.read))[:15]
    for f in shown:
        table.add_row(escape(Path(f.path).name), f.format, f"{f.read:,}", f"{f.stored:,}",
                      f"{f.duplicate:,}", f"{f.quarantined:,}", f"{f.duration_s:.1f}")
    if len(shown) < len(report.files):
        table.add_row(f"... {len(report.files) - len(shown):,} more files", "", "", "", "", "", "")
    if len(report.files) > 1:
        table.add_row("total", "", *(f"{report.total(k):,}" for k in
                                     ("read", "stored", "duplicate", "quarantined")),
                      f"{sum(f.duration_s for f in report.files):.1f}", style="bold")
    console.print(table)
    if report.skipped:
        hint = "" if show_skipped else "; --show-skipped lists them"
        console.print(f"Skipped {len(report.skipped):,} file(s): {_reasons(report)}{hint}.",
                      markup=False)
    bad = report.total("quarantined")
    if bad:
        console.print(f"{bad:,} record(s) quarantined: see 'whuffie quarantine'.", markup=False)
    flagged = report.total("flagged")
    if flagged:
        console.print(f"{flagged:,} record(s) stored without their implausible time (before 1971 or "
                      "in the future: placeholders?): see 'whuffie quarantine'.", markup=False)
    relative = [Path(f.path).name for f in report.files if f.relative_times]
    if relative:
        console.print(f"Times are relative (seconds from an arbitrary origin, stored from 1970) in "
                      f"{len(relative):,} file(s): {', '.join(relative[:3])}"
                      f"{', ...' if len(relative) > 3 else ''}.", markup=False)


def _reasons(report: IngestReport) -> str:
    return ", ".join(f"{n:,} {reason}" for reason, n in report.skipped_by_reason().items())


def formats(
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    markdown: Annotated[bool, typer.Option(
        "--markdown", help="Print the full documentation of every reader as Markdown.")] = False,
) -> None:
    """List the readers: their ids, what they read, and their options."""
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
