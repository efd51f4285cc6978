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

import io
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
from typing import TYPE_CHECKING, Protocol

import orjson

from whuffie.errors import SourceError, WhuffieError
from whuffie.sources import get_reader, sniff
from whuffie.sources.base import Bad, Reader
from whuffie.sources.io import DAMAGED_INPUT, HEAD_SIZE, Input, excerpt, loads_json_line
from whuffie.store.writer import Batch, QuarantineRow, Tables, write_parts, write_tables
from whuffie.version import __version__

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
    """What :func:`ingest` reports while it works (the CLI draws rich progress bars).

    ``begin`` announces the files to read (count and bytes) before the first ``start``.
    """

    def begin(self, files: int, size: int) -> None: ...

    def start(self, path: Path, size: int, fmt: str) -> None: ...

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
    unknown: list[Path] = []
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
            unknown.append(path)
            continue
        if fmt not in readers:
            readers[fmt] = get_reader(fmt, **_options_for(fmt, options))
        work.append((path, readers[fmt]))
    consumed: set[Path] = set()
    for path, reader in work:
        consumed.update(p.resolve() for p in reader.companions(path))
    skipped: list[tuple[str, str]] = []
    kept = []
    for path, reader in work:
        if path.resolve() in consumed:
            skipped.append((str(path), "read together with its companion file"))
        else:
            kept.append((path, reader))
    for path in unknown:
        reason = ("read together with its companion file" if path.resolve() in consumed
                  else "format not recognised")
        skipped.append((str(path), reason))
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
    begin = getattr(progress, "begin", None)  # optional: progress objects written before it lack it
    if begin is not None:
        begin(len(work), sum(p.stat().st_size for p, _ in work))
    # DuckDB keeps written blocks cached up to its memory limit (80% of RAM by default);
    # an import never reads them back, so a small limit keeps memory bounded (measured on
    # 200,000 tweets: 784 MiB without, 542 MiB with 256 MiB, for 10% more time).
    limit = store.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    store.con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
    group = _SmallFiles(store, batch_size, progress, report)
    try:
        for path, reader in work:
            if path.stat().st_size <= SMALL_FILE_BYTES:
                group.add(path, reader, strict)
            else:
                group.flush()
                report.files.append(_ingest_file(store, path, reader, strict, batch_size, progress))
        group.flush()
    finally:
        store.con.execute(f"SET memory_limit = '{limit}'")
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

    # Parts are written as they come, inside a transaction that is committed (with the
    # import's counts) every ``batch_size`` primary records: only one part is held in
    # memory, and the transaction is large enough for DuckDB to write whole row groups to
    # the file. ``committed`` is what the store holds if a later part fails.
    committed = FileResult(shown, reader.id, import_id)
    in_transaction = False
    since_commit = 0

    def write(tables: Tables) -> None:
        nonlocal in_transaction, since_commit
        if not in_transaction:
            con.execute("BEGIN TRANSACTION")
            in_transaction = True
        stored, duplicate = write_tables(con, tables, import_id)
        result.stored += stored
        result.duplicate += duplicate
        result.read += tables.primary_seen
        result.quarantined += len(tables.quarantine)
        since_commit += tables.primary_seen

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
        con.execute("COMMIT")
        in_transaction, since_commit = False, 0
        for name in ("read", "stored", "duplicate", "quarantined"):
            setattr(committed, name, getattr(result, name))

    def rollback() -> None:
        nonlocal in_transaction
        if in_transaction:
            con.execute("ROLLBACK")
            in_transaction = False
        for name in ("read", "stored", "duplicate", "quarantined"):
            setattr(result, name, getattr(committed, name))

    def tick(read_so_far: int) -> None:
        progress.advance(inp.consumed, result.read + read_so_far)

    try:
        workers = _workers()
        if workers > 1 and _splittable(reader, inp):
            batches = _parallel_tables(reader, inp, shown, strict, workers, tick)
        else:
            batches = _serial_tables(reader, inp, shown, strict, min(batch_size, MAP_BATCH), tick)
        try:
            for tables in batches:
                write(tables)
                if since_commit >= batch_size:
                    commit()
                tick(0)
            commit()
        except BaseException:
            rollback()
            raise
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
                 report: IngestReport) -> None:
        self.store, self.batch_size, self.progress, self.report = store, batch_size, progress, report
        self.pending: list[tuple[FileResult, Reader, list[Tables], int]] = []

    def add(self, path: Path, reader: Reader, strict: bool) -> None:
        started = time.perf_counter()
        inp = Input(path)
        shown = str(path)
        result = FileResult(shown, reader.id, 0)
        self.progress.start(path, inp.size, reader.id)
        try:
            parts = list(_serial_tables(reader, inp, shown, strict, MAP_BATCH, lambda _n: None))
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
        result.duration_s = time.perf_counter() - started
        self.pending.append((result, reader, parts, inp.size))
        if (len(self.pending) >= SMALL_FILES_PER_WRITE
                or sum(t.primary_seen for _, _, ps, _ in self.pending for t in ps) >= self.batch_size):
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
            for k, (result, _reader, file_parts, _size) in enumerate(self.pending):
                result.import_id = first + k
                parts.extend(file_parts)
                owners.extend([k] * len(file_parts))
            counts = write_parts(con, parts, [first + k for k in owners])
            for (stored, duplicate), part, k in zip(counts, parts, owners, strict=True):
                result = self.pending[k][0]
                result.stored += stored
                result.duplicate += duplicate
                result.read += part.primary_seen
                result.quarantined += len(part.quarantine)
            now = datetime.now(UTC).replace(tzinfo=None)
            rows = []
            for result, reader, _parts, size in self.pending:
                result.read += result.quarantined
                result.status = "complete"
                rows.append((result.import_id, result.path, result.sha256, size, reader.id,
                             orjson.dumps(reader.options).decode(), "complete", now, now,
                             result.duration_s, result.read, result.stored, result.duplicate,
                             result.quarantined, __version__))
            con.executemany(
                "INSERT INTO imports (import_id, path, sha256, size, format, options, status, "
                "started_at, finished_at, duration_s, read, stored, duplicate, quarantined, version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            for result, *_ in self.pending:
                result.read = result.stored = result.duplicate = result.quarantined = 0
            raise
        for result, *_ in self.pending:
            self.progress.finish(result)
            self.report.files.append(result)
        self.pending = []


def _map_into(batch: Batch, reader: Reader, value, line, offset, raw_excerpt, path: str,
              strict: bool) -> None:
    """Map one raw record into the batch; quarantine it (or raise, when strict) if it fails."""
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
    batch.add(records)


def _bad(batch: Batch, path: str, line, offset, reason: str, text: str, strict: bool) -> None:
    if strict:
        raise SourceError(reason, path=path, line=line, offset=offset)
    batch.add_bad(QuarantineRow(path, line, offset, reason, text))


def _serial_tables(reader: Reader, inp: Input, path: str, strict: bool, batch_size: int,
                   tick) -> Iterator[Tables]:
    """Read, map and convert in this process, one batch at a time."""
    batch = Batch()
    since_tick = 0
    try:
        for item in reader.read(inp):
            if isinstance(item, Bad):
                _bad(batch, path, item.line, item.offset, item.reason, item.excerpt, strict)
            else:
                _map_into(batch, reader, item.value, item.line, item.offset, item.excerpt, path,
                          strict)
            if len(batch) >= batch_size:
                yield batch.tables()
                batch = Batch()
            since_tick += 1
            if since_tick >= 256:
                since_tick = 0
                tick(batch.primary_seen)
    except (SourceError, *DAMAGED_INPUT) as exc:
        _unreadable_rest(batch, inp, path, exc, strict)
    yield batch.tables()


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
    if not reader.parallel_lines or inp.size < PARALLEL_MIN_BYTES:
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


def _chunks(inp: Input, size: int, damaged: list) -> Iterator[tuple[int, int, bytes]]:
    lines: list[bytes] = []
    total = 0
    first_line = first_offset = 0
    try:
        for n, offset, line in inp.lines():
            if not lines:
                first_line, first_offset = n, offset
            lines.append(line)
            total += len(line)
            if total >= size:
                yield first_line, first_offset, b"".join(lines)
                lines, total = [], 0
    except DAMAGED_INPUT as exc:
        damaged.append(exc)
    if lines:
        yield first_line, first_offset, b"".join(lines)


_WORKER_READER: Reader | None = None


def _init_worker(reader: Reader) -> None:
    global _WORKER_READER
    _WORKER_READER = reader


def _map_lines(path: str, strict: bool, first_line: int, first_offset: int,
               data: bytes) -> tuple[Tables, int]:
    """Parse and map JSON lines into Arrow tables; return them and the number of lines."""
    reader = _WORKER_READER
    assert reader is not None
    batch = Batch()
    n, offset = first_line, first_offset
    for line in io.BytesIO(data):
        if line.strip():
            try:
                value = loads_json_line(line)
            except (orjson.JSONDecodeError, UnicodeDecodeError, LookupError) as exc:
                _bad(batch, path, n, offset, f"invalid JSON ({exc})", excerpt(line), strict)
            else:
                _map_into(batch, reader, value, n, offset, lambda line=line: excerpt(line), path,
                          strict)
        n += 1
        offset += len(line)
    return batch.tables(), n - first_line


def _map_range(path: str, strict: bool, start: int, end: int) -> tuple[Tables, int]:
    """Worker: read a byte range of an uncompressed file (whole lines) and map it.

    Line numbers are counted from 1 within the range; the writer shifts them.
    """
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    return _map_lines(path, strict, 1, start, data)


def _ranges(path: Path, size: int, chunk: int) -> Iterator[tuple[int, int]]:
    """Byte ranges of about ``chunk`` bytes that end at line ends."""
    with open(path, "rb") as fh:
        start = 0
        while start < size:
            end = min(start + chunk, size)
            if end < size:
                fh.seek(end)
                fh.readline()
                end = fh.tell()
            yield start, end
            start = end


def _parallel_tables(reader: Reader, inp: Input, path: str, strict: bool, workers: int,
                     tick) -> Iterator[Tables]:
    """Map a large JSON-lines file in worker processes; yield the results in file order.

    An uncompressed file is split into byte ranges that the workers read
    themselves; a compressed one is decompressed here and sent in chunks.
    """
    # fork on Linux: workers start at once and a script calling whuffie needs no
    # ``if __name__ == "__main__"`` guard; they never touch the parent's DuckDB connection.
    # Elsewhere fork is unsafe (macOS) and spawn is used.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    ctx = multiprocessing.get_context(method)
    window: deque[tuple[Future, int]] = deque()
    damaged: list[BaseException] = []
    lines_before = 0
    hashing = None
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(reader,)) as pool:
        if inp.compression is None:
            # The workers read the file; hash it meanwhile (hashlib releases the GIL).
            hashing = threading.Thread(target=inp.sha256, daemon=True)
            hashing.start()
            tasks = ((pool.submit(_map_range, path, strict, a, b), b)
                     for a, b in _ranges(inp.path, inp.size, CHUNK_BYTES))
        else:
            tasks = ((pool.submit(_map_lines, path, strict, line, offset, data), offset + len(data))
                     for line, offset, data in _chunks(inp, CHUNK_BYTES, damaged))

        def done(future: Future, relative: bool) -> Tables:
            nonlocal lines_before
            tables, n_lines = future.result()
            if relative:
                for q in tables.quarantine:
                    if q.line is not None:
                        q.line += lines_before
            lines_before += n_lines
            return tables

        relative = inp.compression is None
        try:
            for task in tasks:
                window.append(task)
                # A few tasks queue behind the running ones, so workers keep busy while a
                # large transaction commits.
                if len(window) > 2 * workers:
                    yield done(window.popleft()[0], relative)
            while window:
                yield done(window.popleft()[0], relative)
            if damaged:
                rest = Batch()
                _unreadable_rest(rest, inp, path, damaged[0], strict)
                yield rest.tables()
        finally:
            for f, _ in window:
                f.cancel()
            if hashing is not None:
                hashing.join()


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
