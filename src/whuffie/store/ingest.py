"""Importing files into the store: find, sniff, read, map, batch, commit, account.

The guarantees, file by file:

* **streaming**: records flow from the reader to the store in batches, so
  memory depends on the batch size, not on the file size;
* **idempotent**: every write is an upsert on ``platform:native_id`` keys, so
  importing a file twice, or two overlapping exports, stores each record once;
* **crash-safe**: each batch and the import's running counts are committed in
  one transaction; a killed import leaves whole batches only, is marked
  ``interrupted`` the next time the store is opened for writing, and a re-run
  completes it without duplicates;
* **nothing lost**: a record that cannot be parsed or mapped goes to the
  ``quarantine`` table with its file, line, byte offset, reason and an excerpt,
  and the import goes on (``strict=True`` aborts instead);
* **accounted**: the ``imports`` table records path, sha256, format, options,
  counts read / stored / duplicate / quarantined and the duration.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from whuffie.errors import SourceError, WhuffieError
from whuffie.sources import get_reader, sniff
from whuffie.sources.base import Bad, Reader
from whuffie.sources.io import Input
from whuffie.store.writer import Batch, QuarantineRow

if TYPE_CHECKING:
    from whuffie.store.store import Store

#: Primary records per transaction.
BATCH_SIZE = 20_000


@dataclass(slots=True)
class FileResult:
    """What one file's import did."""

    path: str
    format: str
    import_id: int
    read: int = 0
    stored: int = 0
    duplicate: int = 0
    quarantined: int = 0
    duration_s: float = 0.0
    sha256: str | None = None
    status: str = "running"


@dataclass(slots=True)
class IngestReport:
    """The outcome of :func:`ingest`: per-file results and the files skipped."""

    files: list[FileResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def total(self, name: str) -> int:
        """Sum of a count (``read``, ``stored``, ``duplicate``, ``quarantined``) over files."""
        return sum(getattr(f, name) for f in self.files)


class Progress(Protocol):
    """What :func:`ingest` reports while it works (the CLI draws rich progress bars)."""

    def start(self, path: Path, size: int, fmt: str) -> None: ...

    def advance(self, consumed: int, read: int) -> None: ...

    def finish(self, result: FileResult) -> None: ...

    def skip(self, path: Path, reason: str) -> None: ...


class _Silent:
    def start(self, path, size, fmt):
        pass

    def advance(self, consumed, read):
        pass

    def finish(self, result):
        pass

    def skip(self, path, reason):
        pass


def expand_paths(paths: Iterable[str | Path]) -> Iterator[tuple[Path, bool]]:
    """Yield ``(file, explicit)``: files named directly, and files under folders.

    Folders are walked recursively in name order; hidden files and folders
    (``.git``) are left out.

    Raises
    ------
    SourceError
        When a path does not exist.
    """
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield child, False
        elif path.is_file():
            yield path, True
        elif path.exists():
            raise SourceError(f"{path} is neither a file nor a folder")
        else:
            raise SourceError(f"{path} does not exist; check the path")


def plan(
    paths: Iterable[str | Path], format: str = "auto", options: dict[str, str] | None = None
) -> tuple[list[tuple[Path, Reader]], list[tuple[str, str]]]:
    """Decide which reader reads which file, before anything is written.

    Returns
    -------
    (work, skipped)
        ``work`` pairs each file with its reader; ``skipped`` lists files no
        reader recognised (found by walking a folder) or that another file's
        reader consumes (companions), with the reason.

    Raises
    ------
    SourceError
        When a file named explicitly is in no known format.
    """
    options = options or {}
    fixed = None if format == "auto" else get_reader(format, **options)
    work: list[tuple[Path, Reader]] = []
    skipped: list[tuple[str, str]] = []
    readers: dict[str, Reader] = {}
    for path, explicit in expand_paths(paths):
        if fixed is not None:
            work.append((path, fixed))
            continue
        fmt, _score = sniff(path)
        if fmt is None:
            if explicit:
                raise SourceError(
                    f"cannot tell the format of {path}; pass --format "
                    "(see 'whuffie formats' for the list)"
                )
            skipped.append((str(path), "format not recognised"))
            continue
        if fmt not in readers:
            readers[fmt] = get_reader(fmt, **_options_for(fmt, options))
        work.append((path, readers[fmt]))
    consumed: set[Path] = set()
    for path, reader in work:
        consumed.update(p.resolve() for p in reader.companions(path))
    kept = []
    for path, reader in work:
        if path.resolve() in consumed:
            skipped.append((str(path), "read together with its companion file"))
        else:
            kept.append((path, reader))
    return kept, skipped


def _options_for(fmt: str, options: dict[str, str]) -> dict[str, str]:
    """With --format auto, pass each reader only the options it knows."""
    if not options:
        return {}
    from whuffie.sources import reader_classes

    known = reader_classes()[fmt].options_help
    return {k: v for k, v in options.items() if k in known}


def ingest(
    store: Store,
    paths: Iterable[str | Path],
    format: str = "auto",
    options: dict[str, str] | None = None,
    strict: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> IngestReport:
    """Import files and folders into the store.

    Parameters
    ----------
    store : Store
        An open, writable store.
    paths : iterable of str or Path
        Files (plain or compressed) and folders (walked recursively).
    format : str
        A reader id, or ``"auto"`` to sniff each file.
    options : dict, optional
        Reader options (``{"platform": "higgs"}``).
    strict : bool
        Abort at the first bad record instead of quarantining it.
    batch_size : int
        Primary records per transaction.
    progress : Progress, optional
        Receives progress events.

    Returns
    -------
    IngestReport

    Raises
    ------
    SourceError
        A missing path, an unknown format, or (with ``strict``) a bad record.

    Examples
    --------
    >>> import whuffie, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "edges.txt")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("1 2\\n2 3\\n1 2\\n")
    >>> with whuffie.open(":memory:") as store:
    ...     report = store.ingest([path], format="edges", options={"platform": "demo"})
    ...     (report.total("read"), report.total("stored"), report.total("duplicate"))
    (3, 2, 1)
    """
    if store.read_only:
        raise WhuffieError(f"{store.path} is open read-only; cannot import into it")
    progress = progress or _Silent()
    work, skipped = plan(paths, format, options)
    report = IngestReport(skipped=skipped)
    for path, reason in skipped:
        progress.skip(Path(path), reason)
    for path, reader in work:
        report.files.append(_ingest_file(store, path, reader, strict, batch_size, progress))
    return report


def _ingest_file(
    store: Store, path: Path, reader: Reader, strict: bool, batch_size: int, progress: Progress
) -> FileResult:
    con = store.con
    started = time.perf_counter()
    inp = Input(path)
    shown = str(path)
    import_id = store.begin_import(shown, reader.id, inp.size, reader.options)
    result = FileResult(shown, reader.id, import_id)
    progress.start(path, inp.size, reader.id)
    batch = Batch()
    since_tick = 0

    def quarantine(reason: str, line, offset, text: str) -> None:
        if strict:
            raise SourceError(reason, path=shown, line=line, offset=offset)
        batch.add_bad(QuarantineRow(shown, line, offset, reason, text))
        result.quarantined += 1

    def commit() -> None:
        nonlocal batch
        con.execute("BEGIN TRANSACTION")
        try:
            stored, duplicate = batch.flush(con, import_id)
            result.stored += stored
            result.duplicate += duplicate
            result.read += batch.primary_seen
            con.execute(
                "UPDATE imports SET read = ?, stored = ?, duplicate = ?, quarantined = ? "
                "WHERE import_id = ?",
                [result.read + result.quarantined, result.stored, result.duplicate,
                 result.quarantined, import_id],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        batch = Batch()

    try:
        for item in reader.read(inp):
            if isinstance(item, Bad):
                quarantine(item.reason, item.line, item.offset, item.excerpt)
                continue
            try:
                records = reader.map_record(item.value)
            except SourceError as exc:
                quarantine(exc.reason, item.line, item.offset, item.excerpt())
                continue
            except Exception as exc:
                quarantine(f"cannot map record ({type(exc).__name__}: {exc})",
                           item.line, item.offset, item.excerpt())
                continue
            for problem in records.problems:
                quarantine(problem.reason, item.line, item.offset, problem.excerpt)
            batch.add(records)
            if len(batch) >= batch_size:
                commit()
            since_tick += 1
            if since_tick >= 256:
                since_tick = 0
                progress.advance(inp.consumed, result.read + batch.primary_seen)
        commit()
        result.sha256 = inp.sha256()
    except KeyboardInterrupt:
        _close_import(store, result, "interrupted", started, "interrupted by the user")
        inp.close()
        raise
    except BaseException as exc:
        _close_import(store, result, "failed", started, str(exc))
        inp.close()
        raise
    inp.close()
    _close_import(store, result, "complete", started, None)
    progress.finish(result)
    return result


def _close_import(store: Store, result: FileResult, status: str, started: float,
                  error: str | None) -> None:
    result.status = status
    result.duration_s = time.perf_counter() - started
    result.read += result.quarantined
    store.con.execute(
        "UPDATE imports SET status = ?, sha256 = ?, finished_at = ?, duration_s = ?, read = ?, "
        "stored = ?, duplicate = ?, quarantined = ?, error = ? WHERE import_id = ?",
        [status, result.sha256, datetime.now(UTC).replace(tzinfo=None), result.duration_s,
         result.read, result.stored, result.duplicate, result.quarantined, error,
         result.import_id],
    )
