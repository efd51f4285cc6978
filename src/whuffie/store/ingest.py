"""Importing files into the store: find, sniff, read, map, batch, commit, account.

The guarantees, file by file:

* **streaming**: records flow from the reader to the store in batches, so
  memory depends on the batch size, not on the file size;
* **idempotent**: every write is an upsert on ``platform:native_id`` keys, so
  importing a file twice, or two overlapping exports, stores each record once;
* **crash-safe**: each batch and the import's running counts are committed in
  one transaction; a killed import leaves whole batches only, is marked
  ``interrupted`` the next time the store is opened for writing, and a re-run
  completes it without duplicates; the import's row counts what its commits
  hold, also when the disk fills up (told as ``disk full``, naming the store),
  and the worker processes of a killed import end with it;
* **nothing lost**: a record that cannot be parsed or mapped goes to the
  ``quarantine`` table with its file, line, byte offset, reason and an excerpt,
  and the import goes on (``strict=True`` aborts instead);
* **accounted**: the ``imports`` table records path, sha256, format, options,
  counts read / stored / duplicate / quarantined and the duration; the
  :class:`IngestReport` adds the files skipped, with why, and the records kept
  without an implausible time (flagged in the quarantine, see
  :mod:`whuffie.sources.times`);
* **streams**: an input may be an open binary stream (standard input), hashed
  and measured as it is read, recorded as ``<stdin>``.
"""

from __future__ import annotations

import contextlib
import errno
import io
import itertools
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple, Protocol

import duckdb
import orjson

from whuffie.errors import SourceError, WhuffieError
from whuffie.sources import get_reader, reader_classes, sniff
from whuffie.sources.base import Bad, OptionError, Reader, did_you_mean
from whuffie.sources.io import (
    DAMAGED_INPUT,
    HEAD_SIZE,
    Input,
    LongLine,
    bounded_lines,
    compression_of,
    excerpt,
    head_bytes,
    line_count,
    loads_json_line,
    too_long,
)
from whuffie.sources.times import clear_implausible, near_epoch
from whuffie.store.writer import Batch, QuarantineRow, Tables, write_parts, write_tables
from whuffie.version import __version__
from whuffie.workers import die_with_parent

if TYPE_CHECKING:
    from whuffie.store.store import Store

#: Primary records per transaction. Large transactions let DuckDB write whole row groups
#: straight to the file instead of through its write-ahead log: measured on 160,000 tweets,
#: one transaction instead of four cut the write time from 4.4 s to 2.4 s.
BATCH_SIZE = 100_000
#: DuckDB's memory limit while importing.
INGEST_MEMORY_LIMIT = "384MB"
#: Primary records per batch of Python objects before they become Arrow tables (memory).
MAP_BATCH = 20_000


#: The path recorded for an import of standard input (``-``).
STDIN = "<stdin>"


@dataclass(slots=True)
class FileResult:
    """What one file's import did.

    ``read`` counts the records read (stored, duplicate or quarantined);
    ``flagged`` the records stored without their implausible time (see
    :mod:`whuffie.sources.times`), listed in the quarantine but not counted in
    ``quarantined``; ``relative_times`` says that the file's times count
    seconds from an arbitrary origin (noted once in the quarantine); ``size``
    is the file's size on disk (a stream's once read).
    """

    path: str
    format: str
    import_id: int
    read: int = 0
    stored: int = 0
    duplicate: int = 0
    quarantined: int = 0
    flagged: int = 0
    relative_times: bool = False
    duration_s: float = 0.0
    sha256: str | None = None
    status: str = "running"
    size: int | None = None


class Skipped(NamedTuple):
    """A file found but not imported, and why: one of :data:`SKIP_REASONS`."""

    path: str
    reason: str


#: Why a file is skipped.
SKIP_REASONS = {
    "empty": "empty file",
    "unreadable": "compressed data empty or damaged",
    "unknown": "format not recognised",
    "companion": "read together with its companion file",
}


@dataclass(slots=True)
class IngestReport:
    """The outcome of :func:`ingest`: per-file results and the files skipped.

    Examples
    --------
    >>> report = IngestReport(skipped=[Skipped("a/README.md", "format not recognised"),
    ...                                Skipped("a/b.csv", "empty file"),
    ...                                Skipped("a/NOTES", "format not recognised")])
    >>> report.skipped_by_reason()
    {'format not recognised': 2, 'empty file': 1}
    """

    files: list[FileResult] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def total(self, name: str) -> int:
        """Sum of a count (``read``, ``stored``, ``duplicate``, ``quarantined``, ``flagged``)."""
        return sum(getattr(f, name) for f in self.files)

    def skipped_by_reason(self) -> dict[str, int]:
        """How many files were skipped for each reason, the most frequent first."""
        counts: dict[str, int] = {}
        for s in self.skipped:
            counts[s.reason] = counts.get(s.reason, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


class Progress(Protocol):
    """What :func:`ingest` reports while it works (the CLI draws rich progress bars).

    Sizes and positions are bytes of the files as stored on disk (compressed
    or not), never decompressed bytes, so positions and totals compare.

    * ``skip(path, reason)`` for each file found but not imported, first;
    * ``begin(files, size)``: the files to read and their total size (``None``
      when an input is a stream of unknown size), before the first ``start``;
    * ``start(path, size, fmt)`` when a file starts being read (``size`` is
      ``None`` for a stream);
    * ``advance(consumed, read)``: of the file last started, ``consumed`` bytes
      read so far and ``read`` records, both never decreasing;
    * ``finish(result)`` when the file's records are committed. Small files
      are committed together, so ``finish`` may come after later files'
      ``start``: ``result.path`` and ``result.size`` say which file it is.
    """

    def begin(self, files: int, size: int | None) -> None: ...

    def start(self, path: Path, size: int | None, fmt: str) -> None: ...

    def advance(self, consumed: int, read: int) -> None: ...

    def finish(self, result: FileResult) -> None: ...

    def skip(self, path: Path, reason: str) -> None: ...


class _Silent:
    def begin(self, files, size):
        pass

    def start(self, path, size, fmt):
        pass

    def advance(self, consumed, read):
        pass

    def finish(self, result):
        pass

    def skip(self, path, reason):
        pass


Source = str | Path | BinaryIO


def expand_paths(paths: Iterable[Source]) -> Iterator[tuple[Path | Input, bool]]:
    """Yield ``(file, explicit)``: files named directly, and files under folders.

    Folders are walked recursively in name order; hidden files and folders
    (``.git``) are left out. Open binary streams, and ``-`` (standard input),
    are yielded opened as :class:`Input`.

    Raises
    ------
    SourceError
        When a path does not exist.
    """
    for p in paths:
        if hasattr(p, "read"):
            yield Input(p), True  # type: ignore[arg-type]
            continue
        if str(p) == "-":
            yield Input(sys.stdin.buffer, name=STDIN), True
            continue
        path = Path(p)  # type: ignore[arg-type]
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
    paths: Iterable[Source], format: str = "auto", options: dict[str, str] | None = None
) -> tuple[list[tuple[Path | Input, Reader]], list[Skipped]]:
    """Decide which reader reads which file, before anything is written.

    Returns
    -------
    (work, skipped)
        ``work`` pairs each file (a stream: its opened :class:`Input`) with its
        reader; ``skipped`` lists the files found by walking a folder that no
        reader recognised, empty files (when the format is detected: nothing or
        only white space), and files another file's reader reads with it
        (companions), each with the reason.

    Raises
    ------
    SourceError
        When a file named explicitly is in no known format.
    OptionError
        When an option is taken by no reader of the files.

    Examples
    --------
    >>> import io
    >>> work, skipped = plan([io.BytesIO(b"1 2\\n2 3\\n")], format="edges")
    >>> [(str(inp.path), reader.id) for inp, reader in work]
    [('<stream>', 'edges')]
    """
    options = options or {}
    fixed = None if format == "auto" else get_reader(format, **options)
    work: list[tuple[Path | Input, Reader]] = []
    skipped: list[Skipped] = []
    unknown: list[Path] = []
    readers: dict[str, Reader] = {}
    for source, explicit in expand_paths(paths):
        if fixed is not None:
            work.append((source, fixed))
            continue
        stream = isinstance(source, Input)
        # A stream is sniffed from its first bytes, which stay in it for the reader.
        head = source.head() if isinstance(source, Input) else head_bytes(source, HEAD_SIZE)
        shown = str(source.path) if isinstance(source, Input) else str(source)
        if not head.strip():
            unreadable = not stream and not head and compression_of(source)  # type: ignore[arg-type]
            skipped.append(Skipped(shown, SKIP_REASONS["unreadable" if unreadable else "empty"]))
            continue
        fmt, _score = sniff(Path(source.name) if isinstance(source, Input) else source, head)
        if fmt is None:
            if explicit:
                raise SourceError(
                    f"cannot tell the format of {shown}{' from its first bytes' if stream else ''}; "
                    "pass --format (see 'whuffie formats' for the list)"
                )
            unknown.append(source)  # type: ignore[arg-type]
            continue
        if fmt not in readers:
            readers[fmt] = get_reader(fmt, **_options_for(fmt, options))
        work.append((source, readers[fmt]))
    if fixed is None and readers:
        _check_options(options, list(readers))
    consumed: set[Path] = set()
    for source, reader in work:
        if isinstance(source, Path):
            consumed.update(p.resolve() for p in reader.companions(source))
    kept = []
    for source, reader in work:
        if isinstance(source, Path) and source.resolve() in consumed:
            skipped.append(Skipped(str(source), SKIP_REASONS["companion"]))
        else:
            kept.append((source, reader))
    for path in unknown:
        reason = "companion" if path.resolve() in consumed else "unknown"
        skipped.append(Skipped(str(path), SKIP_REASONS[reason]))
    return kept, skipped


def _check_options(options: dict[str, str], formats: list[str]) -> None:
    """With --format auto, every option must be taken by at least one reader of the files:
    a misspelled option would otherwise be dropped, and its default silently used."""
    classes = reader_classes()
    taken = {name for fmt in formats for name in classes[fmt].options_help}
    unknown = sorted(set(options) - taken)
    if not unknown:
        return
    which = "; ".join(f"{fmt}: {', '.join(sorted(classes[fmt].options_help)) or 'none'}"
                      for fmt in sorted(formats))
    raise OptionError(
        f"option {', '.join(map(repr, unknown))} is taken by no reader of these files "
        f"({which}){did_you_mean(unknown, taken) or '; see whuffie formats'}"
    )


def _options_for(fmt: str, options: dict[str, str]) -> dict[str, str]:
    """With --format auto, pass each reader only the options it knows."""
    if not options:
        return {}
    known = reader_classes()[fmt].options_help
    return {k: v for k, v in options.items() if k in known}


def ingest(
    store: Store,
    paths: Iterable[Source],
    format: str = "auto",
    options: dict[str, str] | None = None,
    strict: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    pseudonymise: bytes | str | os.PathLike | None = None,
    allow_returning: bool = False,
) -> IngestReport:
    """Import files and folders into the store.

    Parameters
    ----------
    store : Store
        An open, writable store.
    paths : iterable of str, Path or binary stream
        Files (plain or compressed), folders (walked recursively), open binary
        streams, and ``"-"`` for standard input (recorded as ``<stdin>``, with
        the sha256 and size of the bytes read).
    format : str
        A reader id, or ``"auto"`` to sniff each file (a stream from its first bytes).
    options : dict, optional
        Reader options (``{"platform": "higgs"}``). Each must be an option of
        the reader (with ``"auto"``: of at least one reader of the files).
    strict : bool
        Abort at the first bad record instead of quarantining it.
    batch_size : int
        Primary records per transaction.
    progress : Progress, optional
        Receives progress events.
    pseudonymise : bytes or path, optional
        A key, or a key file (created when missing): store pseudonyms instead of ids, handles and
        names (see :mod:`whuffie.privacy.pseudonyms`). A store created so needs the same key for
        every later import.
    allow_returning : bool
        Let actors erased from the store (``whuffie forget``) back in.

    Returns
    -------
    IngestReport
        Per-file counts, and the files skipped with the reason.

    Raises
    ------
    SourceError
        A missing path, an unknown format, or (with ``strict``) a bad record.
    OptionError
        An option no reader of the files takes (a :class:`SourceError`).

    Examples
    --------
    >>> import whuffie, tempfile, os, io
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "edges.txt")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("1 2\\n2 3\\n1 2\\n")
    >>> with whuffie.open(":memory:") as store:
    ...     report = store.ingest([path], format="edges", options={"platform": "demo"})
    ...     (report.total("read"), report.total("stored"), report.total("duplicate"))
    (3, 2, 1)

    An option that no reader of the files takes is refused before anything is read:

    >>> with whuffie.open(":memory:") as store:
    ...     store.ingest([path], options={"platfrom": "demo"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    whuffie.sources.base.OptionError: option 'platfrom' is taken by ... did you mean 'platform'?

    A stream is read as it comes, here with the format told by its first bytes:

    >>> data = (b'{"id": "c1", "author": "ann", "body": "hi", "created_utc": 1134000000, '
    ...         b'"link_id": "t3_x", "parent_id": "t3_x", "subreddit": "test"}\\n')
    >>> with whuffie.open(":memory:") as store:
    ...     report = store.ingest([io.BytesIO(data)])
    ...     [(f.path, f.format, f.stored, f.size == len(data)) for f in report.files]
    [('<stream>', 'reddit', 1, True)]
    """
    if store.read_only:
        raise WhuffieError(f"{store.path} is open read-only; cannot import into it")
    progress = progress or _Silent()
    work, skipped = plan(paths, format, options)
    store.use_key(pseudonymise)
    store.allow_returning = allow_returning
    report = IngestReport(skipped=skipped)
    for path, reason in skipped:
        progress.skip(Path(path), reason)
    begin = getattr(progress, "begin", None)  # optional: progress objects written before it lack it
    if begin is not None:
        sizes = [_size(source) for source, _ in work]
        begin(len(work), None if None in sizes else sum(sizes))  # type: ignore[arg-type]
    # The bounds of plausible times (sources.times) are taken from the import's start.
    started = datetime.now(UTC).replace(tzinfo=None)
    # DuckDB keeps written blocks cached up to its memory limit (80% of RAM by default);
    # an import never reads them back, so a small limit keeps memory bounded (measured on
    # 200,000 tweets: 784 MiB without, 542 MiB with 256 MiB, for 10% more time).
    limit = store.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    store.con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
    group = _SmallFiles(store, batch_size, progress, report, started)
    try:
        for source, reader in work:
            # A compressed file is never small: 4 MiB may hold 800 MiB of records.
            if (isinstance(source, Path) and source.stat().st_size <= SMALL_FILE_BYTES
                    and compression_of(source) is None):
                group.add(source, reader, strict)
            else:
                group.flush()
                report.files.append(_ingest_file(store, source, reader, strict, batch_size,
                                                 progress, started))
        group.flush()
    finally:
        for source, _ in work:
            if isinstance(source, Input):
                source.close()
        # A store invalidated by a failed write (see _rollback) refuses this: the error on its
        # way tells why.
        store.allow_returning = False
        with contextlib.suppress(duckdb.FatalException):
            store.con.execute(f"SET memory_limit = '{limit}'")
    return report


def _size(source: Path | Input) -> int | None:
    return source.stat().st_size if isinstance(source, Path) else source.size


@dataclass(slots=True)
class Flag(QuarantineRow):
    """A record stored without an implausible time: listed in the quarantine, not lost."""

    severity = "flag"


@dataclass(slots=True)
class RelativeNote(QuarantineRow):
    """The one note of a file whose times count from an arbitrary origin."""

    severity = "note"


class _Clock:
    """The time rules of one file's mapping: when the import started, and the first line
    whose times count from an arbitrary origin (:meth:`Reader.relative_times`)."""

    __slots__ = ("flags", "relative_line", "started")

    def __init__(self, started: datetime) -> None:
        self.started = started
        self.relative_line: int | None = None
        #: Records flagged in the batch being built (they are read, not quarantined).
        self.flags = 0


def _relative_note(path: str, line: int | None) -> RelativeNote:
    return RelativeNote(path, line, None,
                "times are relative (seconds on an arbitrary clock, as the format allows): "
                "stored from 1970-01-01, compare them with each other, not with dates", "")


def _counts(tables: Tables) -> tuple[int, int, bool]:
    """Of a part's quarantine rows: records quarantined, records flagged, a relative note."""
    flagged = sum(1 for q in tables.quarantine if isinstance(q, Flag))
    note = any(isinstance(q, RelativeNote) for q in tables.quarantine)
    bad = sum(q.records for q in tables.quarantine if q.severity == "error")
    return bad, flagged, note


def _ingest_file(
    store: Store, source: Path | Input, reader: Reader, strict: bool, batch_size: int,
    progress: Progress, started_at: datetime,
) -> FileResult:
    con = store.con
    started = time.perf_counter()
    inp = source if isinstance(source, Input) else Input(source)
    shown = str(inp.path)
    import_id = store.begin_import(shown, reader.id, inp.size, reader.options)
    result = FileResult(shown, reader.id, import_id, size=inp.size)
    progress.start(inp.path, inp.size, reader.id)

    # Parts are written as they come, inside a transaction that is committed (with the
    # import's counts) every ``batch_size`` primary records: only one part is held in
    # memory, and the transaction is large enough for DuckDB to write whole row groups to
    # the file. ``committed`` is what the store holds if a later part fails.
    committed = FileResult(shown, reader.id, import_id)
    in_transaction = False
    since_commit = 0
    counted = ("read", "stored", "duplicate", "quarantined", "flagged", "relative_times")

    def write(tables: Tables) -> None:
        nonlocal in_transaction, since_commit
        if not in_transaction:
            con.execute("BEGIN TRANSACTION")
            in_transaction = True
        tables = store.prepare(tables, shown)
        stored, duplicate = write_tables(con, tables, import_id)
        bad, flagged, note = _counts(tables)
        result.stored += stored
        result.duplicate += duplicate
        result.read += tables.primary_seen
        result.quarantined += bad
        result.flagged += flagged
        result.relative_times |= note
        since_commit += tables.primary_seen + bad

    def commit() -> None:
        nonlocal in_transaction, since_commit
        if not in_transaction:
            return
        con.execute(
            "UPDATE imports SET read = ?, stored = ?, duplicate = ?, quarantined = ? "
            "WHERE import_id = ?",
            [result.read + result.quarantined, result.stored, result.duplicate,
             result.quarantined, import_id],
        )
        # A COMMIT that fails (a full disk) has rolled the transaction back already.
        in_transaction = False
        con.execute("COMMIT")
        since_commit = 0
        for name in counted:
            setattr(committed, name, getattr(result, name))

    def rollback() -> None:
        nonlocal in_transaction
        # The counts go back to what the store holds first, whatever the ROLLBACK does.
        for name in counted:
            setattr(result, name, getattr(committed, name))
        if in_transaction:
            in_transaction = False
            _rollback(con)

    def tick(consumed: int, read_so_far: int) -> None:
        progress.advance(consumed, result.read + result.quarantined + read_so_far)

    clock = _Clock(started_at)
    try:
        workers = _workers()
        if workers > 1 and _splittable(reader, inp):
            p = getattr(store, "_pseudonymiser", None)
            batches = _parallel_tables(reader, inp, shown, strict, workers, clock,
                                       p.key if p is not None else None)
        else:
            batches = _serial_tables(reader, inp, shown, strict, min(batch_size, MAP_BATCH), clock,
                                     tick)
        try:
            for tables, consumed in batches:
                write(tables)
                if since_commit >= batch_size:
                    commit()
                tick(consumed, 0)
            commit()
        except BaseException:
            rollback()
            raise
        result.sha256 = inp.sha256()
        result.size = inp.size
    except KeyboardInterrupt:
        inp.close()
        _close_failed(store, result, "interrupted", started, "interrupted by the user")
        raise
    except BaseException as exc:
        inp.close()
        full = _disk_full(exc)
        _close_failed(store, result, "failed", started, full or str(exc))
        if full:
            raise WhuffieError(_disk_full_message(store, shown, result.stored)) from exc
        raise
    inp.close()
    _close_import(store, result, "complete", started, None)
    progress.finish(result)
    return result


#: Files up to this size are read whole and written together with other small files:
#: every write costs a fixed ~50 ms of SQL statements, more than such a file's records.
SMALL_FILE_BYTES = 4 * 2**20
#: At most this many small files per transaction.
SMALL_FILES_PER_WRITE = 500


class _SmallFiles:
    """Small files read completely, waiting to be written in one transaction.

    Measured on the 179 topic files of a Discourse export: 10.5 s one transaction per
    file, where reading and mapping them takes 0.3 s. Each file keeps its own import row
    and counts; a group is committed whole or not at all.
    """

    def __init__(self, store: Store, batch_size: int, progress: Progress,
                 report: IngestReport, started: datetime) -> None:
        self.store, self.batch_size, self.progress, self.report = store, batch_size, progress, report
        self.started = started
        self.pending: list[tuple[FileResult, Reader, list[Tables]]] = []

    def add(self, path: Path, reader: Reader, strict: bool) -> None:
        started = time.perf_counter()
        inp = Input(path)
        shown = str(path)
        result = FileResult(shown, reader.id, 0, size=inp.size)
        self.progress.start(path, inp.size, reader.id)
        try:
            parts = [t for t, _ in _serial_tables(reader, inp, shown, strict, MAP_BATCH,
                                                   _Clock(self.started), lambda _c, _n: None)]
            result.sha256 = inp.sha256()
        except BaseException as exc:
            inp.close()
            # What was read before stays; the failing file gets its own failed import row.
            self.flush()
            import_id = self.store.begin_import(shown, reader.id, inp.size, reader.options)
            result.import_id = import_id
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            _close_import(self.store, result, status, started,
                          "interrupted by the user" if status == "interrupted" else str(exc))
            raise
        inp.close()
        # The file is read: its bytes and records are done as far as progress goes.
        self.progress.advance(inp.size, sum(t.primary_seen + _counts(t)[0] for t in parts))
        result.duration_s = time.perf_counter() - started
        self.pending.append((result, reader, parts))
        if (len(self.pending) >= SMALL_FILES_PER_WRITE
                or sum(t.primary_seen for _, _, ps in self.pending for t in ps) >= self.batch_size):
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        con = self.store.con
        con.execute("BEGIN TRANSACTION")
        try:
            first = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchall()[0][0]
            parts: list[Tables] = []
            owners: list[int] = []
            for k, (result, _reader, file_parts) in enumerate(self.pending):
                result.import_id = first + k
                parts.extend(file_parts)
                owners.extend([k] * len(file_parts))
            parts = [self.store.prepare(p, self.pending[k][0].path)
                     for p, k in zip(parts, owners, strict=True)]
            counts = write_parts(con, parts, [first + k for k in owners])
            for (stored, duplicate), part, k in zip(counts, parts, owners, strict=True):
                result = self.pending[k][0]
                bad, flagged, note = _counts(part)
                result.stored += stored
                result.duplicate += duplicate
                result.read += part.primary_seen
                result.quarantined += bad
                result.flagged += flagged
                result.relative_times |= note
            now = datetime.now(UTC).replace(tzinfo=None)
            rows = []
            for result, reader, _parts in self.pending:
                result.read += result.quarantined
                result.status = "complete"
                rows.append((result.import_id, self.store._shown_path(result.path), result.sha256,
                             result.size, reader.id,
                             orjson.dumps(reader.options).decode(), "complete", now, now,
                             result.duration_s, result.read, result.stored, result.duplicate,
                             result.quarantined, __version__))
            con.executemany(
                "INSERT INTO imports (import_id, path, sha256, size, format, options, status, "
                "started_at, finished_at, duration_s, read, stored, duplicate, quarantined, version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            con.execute("COMMIT")
        except BaseException as exc:
            # A failed COMMIT (a full disk) has rolled back already; nothing of the group is stored.
            _rollback(con)
            for result, *_ in self.pending:
                result.read = result.stored = result.duplicate = result.quarantined = 0
                result.flagged, result.relative_times = 0, False
            if _disk_full(exc):
                paths = [result.path for result, *_ in self.pending]
                shown = paths[0] if len(paths) == 1 else f"{paths[0]} and {len(paths) - 1} more files"
                self.pending = []
                raise WhuffieError(_disk_full_message(self.store, shown, 0)) from exc
            raise
        for result, *_ in self.pending:
            self.progress.finish(result)
            self.report.files.append(result)
        self.pending = []


def _map_into(batch: Batch, reader: Reader, value, line, offset, raw_excerpt, path: str,
              strict: bool, clock: _Clock) -> None:
    """Map one raw record into the batch; quarantine it (or raise, when strict) if it fails.

    Implausible times are emptied and the record flagged (see :mod:`whuffie.sources.times`);
    a record whose times count from an arbitrary origin only marks the file as such.
    """
    try:
        records = reader.map_record(value)
    except SourceError as exc:
        _bad(batch, path, line, offset, exc.reason, raw_excerpt(), strict)
        return
    except Exception as exc:  # noqa: BLE001 - one bad record must not stop the import
        _bad(batch, path, line, offset, f"cannot map record ({type(exc).__name__}: {exc})",
             raw_excerpt(), strict)
        return
    for problem in records.problems:
        _bad(batch, path, line, offset, problem.reason, problem.excerpt, strict)
    relative = reader.relative_times(value)
    flagged = clear_implausible(records, clock.started, relative)
    if flagged is not None:
        batch.add_bad(Flag(path, line, offset, flagged, raw_excerpt()))
        clock.flags += 1
    if relative and clock.relative_line is None and near_epoch(records):
        clock.relative_line = line if line is not None else 0
    batch.add(records)


def _bad(batch: Batch, path: str, line, offset, reason: str, text: str, strict: bool) -> None:
    if strict:
        raise SourceError(reason, path=path, line=line, offset=offset)
    batch.add_bad(QuarantineRow(path, line, offset, reason, text))


def _serial_tables(reader: Reader, inp: Input, path: str, strict: bool, batch_size: int,
                   clock: _Clock, tick) -> Iterator[tuple[Tables, int]]:
    """Read, map and convert in this process, one batch at a time; yield each batch with
    the bytes of the file consumed so far."""
    batch = Batch()
    since_tick = 0
    try:
        for item in reader.read(inp):
            if isinstance(item, Bad):
                _bad(batch, path, item.line, item.offset, item.reason, item.excerpt, strict)
            else:
                _map_into(batch, reader, item.value, item.line, item.offset, item.excerpt, path,
                          strict, clock)
            if len(batch) >= batch_size:
                yield batch.tables(), inp.consumed
                batch, clock.flags = Batch(), 0
            since_tick += 1
            if since_tick >= 256:
                since_tick = 0
                tick(inp.consumed, batch.primary_seen + len(batch.quarantine) - clock.flags)
    except (SourceError, *DAMAGED_INPUT) as exc:
        _unreadable_rest(batch, inp, path, exc, strict)
    if clock.relative_line is not None:
        batch.add_bad(_relative_note(path, clock.relative_line or None))
    yield batch.tables(), inp.consumed


def _unreadable_rest(batch: Batch, inp: Input, path: str, exc: BaseException, strict: bool) -> None:
    """The rest of a file cannot be read (damaged compression, a broken document):
    keep what was read, quarantine the rest with the reason, and finish the import."""
    if strict or (isinstance(exc, OSError) and not _looks_damaged(exc)):
        raise exc
    reason = exc.reason if isinstance(exc, SourceError) else (
        f"the rest of the file cannot be read ({type(exc).__name__}: {exc}); "
        "the records before this point were imported")
    batch.add_bad(QuarantineRow(path, getattr(exc, "line", None), inp.consumed, reason, ""))


def _looks_damaged(exc: OSError) -> bool:
    # gzip/bz2 report damaged data as OSError subclasses or with these words; a disk
    # error (EIO, ENOSPC) is not the data's fault and must stop the import.
    return exc.errno is None


# -- parallel mapping -------------------------------------------------------------------------
#
# Parsing and mapping are pure Python and CPU-bound; writing is DuckDB's. For large JSON-lines
# files whose reader maps each line on its own (Reader.parallel_lines), the main process reads
# and decompresses the file, hands chunks of lines to worker processes that parse, map and
# convert them to Arrow tables, and writes the results in file order. At most a few chunks are
# in flight, so memory stays bounded.

#: Files smaller than this are mapped in this process: starting workers would cost more.
PARALLEL_MIN_BYTES = 32 * 2**20
#: Bytes of lines per worker task.
CHUNK_BYTES = 16 * 2**20


def _workers() -> int:
    env = os.environ.get("WHUFFIE_WORKERS")
    if env:
        return max(1, int(env))
    return min(4, os.cpu_count() or 1)


def _splittable(reader: Reader, inp: Input) -> bool:
    # A stream's size is unknown until its end: a piped dump is mapped in parallel.
    if not reader.parallel_lines or (inp.size is not None and inp.size < PARALLEL_MIN_BYTES):
        return False
    head = inp.stream.peek(HEAD_SIZE) if hasattr(inp.stream, "peek") else b""
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
    if not first.startswith(b"{"):
        return False
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    return True


def _chunks(inp: Input, size: int, damaged: list) -> Iterator[tuple[int, int, bytes | list[bytes], int]]:
    """Chunks of about ``size`` bytes of whole lines: (first line, its offset, bytes, the
    bytes of the file on disk consumed once the chunk is read). A line over the record limit
    is a chunk of its own, ``[LongLine]``, so the offsets of the lines after it stay true."""
    lines: list[bytes] = []
    total = 0
    first_line = first_offset = 0
    try:
        for n, offset, line in inp.lines():
            if isinstance(line, LongLine):
                if lines:
                    yield first_line, first_offset, b"".join(lines), inp.consumed
                    lines, total = [], 0
                yield n, offset, [line], inp.consumed
                continue
            if not lines:
                first_line, first_offset = n, offset
            lines.append(line)
            total += len(line)
            if total >= size:
                yield first_line, first_offset, b"".join(lines), inp.consumed
                lines, total = [], 0
    except DAMAGED_INPUT as exc:
        damaged.append(exc)
    if lines:
        yield first_line, first_offset, b"".join(lines), inp.consumed


_WORKER_READER: Reader | None = None
#: The store's pseudonymiser (see whuffie.privacy.pseudonyms), when the store is pseudonymised: the
#: workers pseudonymise what they map, on the cores the writer leaves free.
_WORKER_PSEUDONYMISER = None


def _init_worker(reader: Reader, parent: int, key: bytes | None = None) -> None:
    global _WORKER_READER, _WORKER_PSEUDONYMISER
    _WORKER_READER = reader
    if key is not None:
        from whuffie.privacy.pseudonyms import pseudonymiser

        _WORKER_PSEUDONYMISER = pseudonymiser(key)
    die_with_parent(parent)


def _map_lines(path: str, strict: bool, started: datetime, first_line: int, first_offset: int,
               data: bytes | list[bytes], reader: Reader | None = None) -> tuple[Tables, int, int | None]:
    """Parse and map JSON lines into Arrow tables; return them, the number of lines and
    the first line whose times count from an arbitrary origin (or ``None``).

    ``data`` is the lines' bytes, or the lines, where a :class:`LongLine` (a line over the
    record limit, of which only the head was kept) is quarantined. Runs in a worker (the
    worker's reader), or here when given the reader.
    """
    in_worker = reader is None
    reader = reader or _WORKER_READER
    assert reader is not None
    batch = Batch()
    clock = _Clock(started)
    n, offset = first_line, first_offset
    for line in io.BytesIO(data) if isinstance(data, bytes) else data:
        if isinstance(line, LongLine):
            _bad(batch, path, n, offset, too_long(line, n), excerpt(line), strict)
            n += 1
            offset += line.length
            continue
        if not line.strip():  # a run of empty lines (see bounded_lines)
            n += line_count(line)
            offset += len(line)
            continue
        try:
            value = loads_json_line(line)
        except (orjson.JSONDecodeError, UnicodeDecodeError, LookupError) as exc:
            _bad(batch, path, n, offset, f"invalid JSON ({exc})", excerpt(line), strict)
        else:
            _map_into(batch, reader, value, n, offset, lambda line=line: excerpt(line), path,
                      strict, clock)
        n += 1
        offset += len(line)
    tables = batch.tables()
    if in_worker and _WORKER_PSEUDONYMISER is not None:
        tables = _WORKER_PSEUDONYMISER.tables(tables)
    return tables, n - first_line, clock.relative_line


def _map_range(path: str, strict: bool, started: datetime, start: int,
               end: int) -> tuple[Tables, int, int | None]:
    """Worker: read a byte range of an uncompressed file (whole lines) and map it.

    Line numbers are counted from 1 within the range; the writer shifts them.
    """
    # Read line by line with the record limit: a range holds a whole over-long line, which is
    # skipped in bounded chunks instead of read.
    with open(path, "rb", buffering=0) as fh:
        fh.seek(start)
        lines = list(bounded_lines(io.BufferedReader(_Window(fh, end - start), 1 << 20)))
    return _map_lines(path, strict, started, 1, start, lines)


class _Window(io.RawIOBase):
    """The next ``size`` bytes of a raw file, and no more (a worker's byte range)."""

    def __init__(self, fh, size: int) -> None:
        self._fh, self._left = fh, size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer).cast("B")[:self._left]
        got = self._fh.readinto(view) or 0
        self._left -= got
        return got


def _ranges(path: Path, size: int, chunk: int) -> Iterator[tuple[int, int]]:
    """Byte ranges of about ``chunk`` bytes that end at line ends."""
    with open(path, "rb") as fh:
        start = 0
        while start < size:
            end = min(start + chunk, size)
            if end < size:
                fh.seek(end)
                # To the end of the line, in bounded chunks (a line may be gigabytes long).
                LongLine.skip_rest(b"", fh.readline)
                end = fh.tell()
            yield start, end
            start = end


def _parallel_tables(reader: Reader, inp: Input, path: str, strict: bool, workers: int,
                     clock: _Clock, key: bytes | None = None) -> Iterator[tuple[Tables, int]]:
    """Map a large JSON-lines file in worker processes; yield the results in file order,
    each with the bytes of the file on disk it completes.

    An uncompressed file is split into byte ranges that the workers read
    themselves; a compressed file or a stream is decompressed here and sent in
    chunks. A stream (whose size is unknown) that fits in one chunk is mapped
    here: starting workers would cost more than they save.
    """
    damaged: list[BaseException] = []
    by_range = inp.compression is None and not inp.is_stream
    chunks: Iterator[tuple[int, int, bytes, int]] = iter(())
    if not by_range:
        chunks = _chunks(inp, CHUNK_BYTES, damaged)
        first = list(itertools.islice(chunks, 2))
        chunks = itertools.chain(first, chunks)
        if len(first) < 2 and inp.is_stream:
            for line, offset, data, at in first:
                tables, _n, relative_line = _map_lines(path, strict, clock.started, line, offset,
                                                       data, reader)
                clock.relative_line = relative_line
                yield tables, at
            yield from _rest(inp, path, strict, damaged, clock)
            return
    # fork on Linux: workers start at once and a script calling whuffie needs no
    # ``if __name__ == "__main__"`` guard; they never touch the parent's DuckDB connection.
    # Elsewhere fork is unsafe (macOS) and spawn is used.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    ctx = multiprocessing.get_context(method)
    window: deque[tuple[Future, int]] = deque()
    lines_before = 0
    hashing = None
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(reader, os.getpid(), key)) as pool:
        if by_range:
            # The workers read the file; hash it meanwhile (hashlib releases the GIL). The
            # hashing runs ahead of the mapping, so progress is told by the ranges mapped.
            hashing = threading.Thread(target=inp.sha256, daemon=True)
            hashing.start()
            tasks = ((pool.submit(_map_range, path, strict, clock.started, a, b), b)
                     for a, b in _ranges(inp.path, inp.size, CHUNK_BYTES))
        else:
            tasks = ((pool.submit(_map_lines, path, strict, clock.started, line, offset, data), at)
                     for line, offset, data, at in chunks)

        def done(future: Future) -> Tables:
            nonlocal lines_before
            tables, n_lines, relative_line = future.result()
            if by_range:
                for q in tables.quarantine:
                    if q.line is not None:
                        q.line += lines_before
                    if q.last_line is not None:
                        q.last_line += lines_before
                if relative_line is not None:
                    relative_line += lines_before
            if relative_line is not None and clock.relative_line is None:
                clock.relative_line = relative_line
            lines_before += n_lines
            return tables

        try:
            for task in tasks:
                window.append(task)
                # A few tasks queue behind the running ones, so workers keep busy while a
                # large transaction commits.
                if len(window) > 2 * workers:
                    future, at = window.popleft()
                    yield done(future), at
            while window:
                future, at = window.popleft()
                yield done(future), at
            yield from _rest(inp, path, strict, damaged, clock)
        finally:
            for f, _ in window:
                f.cancel()
            if hashing is not None:
                hashing.join()


def _rest(inp: Input, path: str, strict: bool, damaged: list[BaseException],
          clock: _Clock) -> Iterator[tuple[Tables, int]]:
    """The end of a file mapped in chunks: its damaged rest and its note on relative times."""
    rest = Batch()
    if damaged:
        _unreadable_rest(rest, inp, path, damaged[0], strict)
    if clock.relative_line is not None:
        rest.add_bad(_relative_note(path, clock.relative_line or None))
    if rest.quarantine:
        yield rest.tables(), inp.consumed


def _rollback(con) -> None:
    """Roll back the open transaction, if DuckDB has not already (a failed COMMIT rolls back)."""
    # No transaction left, or a database DuckDB invalidated (a checkpoint that failed on a
    # full disk): the error that brought us here is the one to tell.
    with contextlib.suppress(duckdb.TransactionException, duckdb.FatalException):
        con.execute("ROLLBACK")


#: What DuckDB and the system say when the disk is full.
_DISK_FULL_WORDS = ("no space left on device", "disk is full", "not enough space")


def _disk_full(exc: BaseException) -> str | None:
    """The system's words when ``exc`` (or an exception it comes from) is a full disk, else None.

    DuckDB reports a full disk as its own exception type with the system's message inside,
    so the message is what tells; an ``OSError`` tells by its errno.
    """
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return str(e)
        if isinstance(e, (duckdb.Error, OSError)) and any(w in str(e).lower() for w in _DISK_FULL_WORDS):
            return str(e)
        e = e.__cause__ or e.__context__
    return None


def _disk_full_message(store: Store, path: str, stored: int) -> str:
    return (f"disk full: the store {store.path} cannot grow, so the import of {path} stopped with "
            f"{stored:,} records stored; free some space and run the same import again to "
            "complete it")


def _close_failed(store: Store, result: FileResult, status: str, started: float,
                  error: str) -> None:
    """Close a failed import's row; when even that cannot be written (a full disk), the row
    keeps the counts of its last commit, and the next writer marks it interrupted."""
    try:
        _close_import(store, result, status, started, error)
    except duckdb.Error:
        _rollback(store.con)


def _close_import(store: Store, result: FileResult, status: str, started: float,
                  error: str | None) -> None:
    result.status = status
    result.duration_s = time.perf_counter() - started
    result.read += result.quarantined
    store.con.execute(
        "UPDATE imports SET status = ?, sha256 = ?, size = ?, finished_at = ?, duration_s = ?, "
        "read = ?, stored = ?, duplicate = ?, quarantined = ?, error = ? WHERE import_id = ?",
        [status, result.sha256, result.size, datetime.now(UTC).replace(tzinfo=None),
         result.duration_s, result.read, result.stored, result.duplicate, result.quarantined,
         error, result.import_id],
    )
