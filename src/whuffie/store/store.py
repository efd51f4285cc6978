"""The store: one embedded DuckDB file holding the canonical tables.

Open it with :func:`whuffie.open`; every analysis reads from it and every
import writes to it. The file is created on first use, migrated when an older
Whuffie wrote it, and refused when a newer one did.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from whuffie.errors import SchemaError, WhuffieError
from whuffie.model import Records
from whuffie.sources.times import EARLIEST
from whuffie.store.schema import CANONICAL_TABLES, INTERACTION_KINDS, MIGRATIONS, SCHEMA_VERSION
from whuffie.version import __version__

#: Where the store lives when neither ``--db`` nor ``WHUFFIE_DB`` says otherwise.
DEFAULT_DB = "whuffie.duckdb"
#: The DuckDB storage format a new store is written in: the one DuckDB 1.0 introduced, which every
#: DuckDB from 1.0 on reads (the command-line client and R or Python packages users already have),
#: where the newest format would be readable by the newest DuckDB only.
STORAGE_VERSION = "v1.0.0"
#: DuckDB settings of every connection: the storage version, used only when the file is created.
_CONFIG = {"storage_compatibility_version": STORAGE_VERSION}


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    # DuckDB draws a progress bar on stdout for queries over two seconds, where a command may be
    # printing JSON or CSV; and it reads aware times in the machine's zone, where the store's
    # times are UTC.
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    return con


def default_path() -> Path:
    """The store path from ``WHUFFIE_DB``, or ``./whuffie.duckdb``."""
    return Path(os.environ.get("WHUFFIE_DB") or DEFAULT_DB)


#: What every store of the current schema holds; one missing means the file was damaged or edited.
_REQUIRED = (*CANONICAL_TABLES, "meta", "runs", "interactions")


def damaged(path: str | os.PathLike, detail: str) -> SchemaError:
    """The error for a store file that cannot be read as a Whuffie store.

    Examples
    --------
    >>> str(damaged("x.duckdb", "table 'actors' is missing"))
    "store x.duckdb is damaged or not a Whuffie store (table 'actors' is missing): restore it from a \
copy or re-import"
    """
    detail = " ".join(str(detail).split())  # DuckDB's messages span lines
    return SchemaError(f"store {path} is damaged or not a Whuffie store ({detail}): restore it from a copy "
                       "or re-import")


def unreadable(exc: BaseException) -> bool:
    """Whether a DuckDB error says the store's file cannot be read: damaged blocks, a failed read,
    a missing table; not a full disk, a lock held by another process or a bug in a query.

    Examples
    --------
    >>> unreadable(duckdb.Error("Corrupt database file: computed checksum 5381 does not match"))
    True
    >>> unreadable(duckdb.IOException("Could not write file: No space left on device"))
    False
    >>> unreadable(duckdb.ParserException("syntax error at or near SELEC"))
    False
    """
    if isinstance(exc, duckdb.IOException):
        text = str(exc).lower()
        return not any(s in text for s in ("no space left", "read-only file system", "permission denied",
                                           "lock"))
    return isinstance(exc, duckdb.CatalogException | duckdb.InternalException
                      | duckdb.SerializationException) or type(exc) is duckdb.Error


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Store:
    """An open Whuffie store.

    Parameters
    ----------
    path : str or Path, optional
        The DuckDB file; ``WHUFFIE_DB`` or ``./whuffie.duckdb`` by default.
        ``":memory:"`` gives a throw-away in-memory store.
    read_only : bool
        Open without taking the write lock (no migration, no import).
    writable_on_demand : bool
        With ``read_only``: take the write lock when something must be written (a new analysis
        run), so that a command that mostly reads does not lock out other readers.

    Examples
    --------
    >>> import whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     store.status()["messages"]
    {}
    """

    def __init__(self, path: str | os.PathLike | None = None, read_only: bool = False,
                 writable_on_demand: bool = False) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.read_only = read_only
        self.writable_on_demand = writable_on_demand and read_only
        target = str(self.path)
        if target != ":memory:":
            if read_only and not self.path.exists():
                raise WhuffieError(
                    f"no store at {self.path}; create one with 'whuffie ingest PATH --db {self.path}'"
                )
            if not read_only and self.path.parent and not self.path.parent.exists():
                raise WhuffieError(f"cannot create {self.path}: folder {self.path.parent} does not exist")
        self.con = self._connect(target, read_only)
        if read_only and target != ":memory:" and self._version() < SCHEMA_VERSION:
            # An older store opened for reading is migrated first, once, for writing.
            self.con.close()
            self.con = self._connect(target, False)
            try:
                self._migrate(writable=True)
            finally:
                self.con.close()
            self.con = self._connect(target, True)
        try:
            self._migrate()
            self._check_tables()
            if not read_only:
                self._mark_interrupted()
        except duckdb.Error as exc:
            self.con.close()
            if unreadable(exc):
                raise damaged(self.path, exc) from exc
            raise
        except BaseException:
            self.con.close()
            raise

    # -- lifecycle -----------------------------------------------------------------------

    def _connect(self, target: str, read_only: bool) -> duckdb.DuckDBPyConnection:
        try:
            # The storage version only matters when the file is created; existing files keep theirs.
            return _quiet(duckdb.connect(target, read_only=read_only, config=_CONFIG))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WhuffieError(
                    f"cannot open store {self.path}: {exc}. Is another whuffie process using it?"
                ) from exc
            if "not a valid DuckDB database file" in str(exc) or "read enough bytes" in str(exc):
                raise damaged(self.path, exc) from exc
            raise WhuffieError(f"cannot open store {self.path}: {exc}") from exc
        except duckdb.Error as exc:
            raise WhuffieError(f"cannot open store {self.path}: {exc}") from exc

    def _check_tables(self) -> None:
        present = {r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        missing = [t for t in _REQUIRED if t not in present]
        if missing:
            raise damaged(self.path, f"{'tables' if len(missing) > 1 else 'table'} "
                                     f"{', '.join(repr(t) for t in missing)} missing")

    def _version(self) -> int:
        has_meta = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
        ).fetchall()[0][0]
        if not has_meta:
            tables = self.con.execute("SELECT count(*) FROM information_schema.tables").fetchall()[0][0]
            if tables:
                raise SchemaError(
                    f"{self.path} is a DuckDB file but not a Whuffie store (no 'meta' table); "
                    "choose another --db path"
                )
            return 0
        rows = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        return int(rows[0][0]) if rows else 0

    def _migrate(self, writable: bool | None = None) -> None:
        version = self._version()
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"{self.path} has schema version {version}, newer than this Whuffie "
                f"understands ({SCHEMA_VERSION}); upgrade whuffie to read it"
            )
        if version == SCHEMA_VERSION:
            return
        if not (writable if writable is not None else not self.read_only):
            raise SchemaError(
                f"{self.path} has schema version {version} and is read-only here; open it once "
                f"with write access (e.g. 'whuffie ingest') to migrate it to {SCHEMA_VERSION}"
            )
        self.con.execute("BEGIN TRANSACTION")
        try:
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    if callable(statement):
                        statement(self.con)
                    else:
                        self.con.execute(statement)
            from whuffie.store.results import describe_results

            describe_results(self.con)
            self.con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('created_by', ?)",
                [str(SCHEMA_VERSION), f"whuffie {__version__}"],
            )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def _mark_interrupted(self) -> None:
        # DuckDB lets one process write a file; an import still 'running' when we
        # get the write lock was killed before it finished.
        self.con.execute(
            "UPDATE imports SET status = 'interrupted' WHERE status = 'running'"
        )

    def close(self) -> None:
        """Close the store (checkpointing DuckDB's write-ahead log)."""
        self.con.close()

    def make_writable(self) -> bool:
        """Take the write lock of a store opened read-only with ``writable_on_demand``.

        Returns whether the store is now writable: ``False`` when it was opened read-only for
        good, or when another process holds the file (a notebook, another command).
        """
        if not self.read_only:
            return True
        if not self.writable_on_demand or str(self.path) == ":memory:":
            return False
        self.con.close()
        try:
            self.con = _quiet(duckdb.connect(str(self.path), read_only=False, config=_CONFIG))
        except duckdb.Error:
            self.con = self._connect(str(self.path), True)
            return False
        self.read_only = False
        self._engine = None
        self._mark_interrupted()
        return True

    @property
    def engine(self):
        """The :class:`~whuffie.engines.embedded.EmbeddedEngine` serving this store's tables."""
        from whuffie.engines.embedded import EmbeddedEngine

        if getattr(self, "_engine", None) is None or self._engine.store is not self:
            self._engine = EmbeddedEngine(self)
        return self._engine

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- queries -------------------------------------------------------------------------

    def sql(self, query: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Run a SQL query and return its rows as dictionaries.

        Examples
        --------
        >>> import whuffie
        >>> with whuffie.open(":memory:") as store:
        ...     store.sql("SELECT 1 AS one")
        [{'one': 1}]
        """
        cur = self.con.execute(query, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def arrow(self, query: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run a SQL query and return its result as an Arrow table (no row-by-row copy).

        Examples
        --------
        >>> import whuffie
        >>> with whuffie.open(":memory:") as store:
        ...     store.arrow("SELECT 41 + ? AS answer", [1]).column("answer").to_pylist()
        [42]
        """
        rel = self.con.sql(query, params=list(params) if params else None)
        fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
        return fetch()

    @property
    def schema_version(self) -> int:
        """The schema version of the open store."""
        return self._version()

    def status(self) -> dict[str, Any]:
        """Counts that describe the store.

        Returns
        -------
        dict
            ``messages`` and ``actors``: counts per platform (stubs excluded
            from messages, counted under ``stubs``); ``interactions``: count per
            kind; ``imports`` and ``quarantined`` (records left out): totals;
            ``flagged``: records stored without a value they could not trust
            (listed in the quarantine); ``tables``: row count
            of every canonical table; ``span``: first and last message date, and how many
            messages have a time on a relative clock instead (``relative``).
        """
        q = self.con.execute
        messages = dict(q(
            "SELECT platform, count(*) FROM messages WHERE NOT is_stub GROUP BY 1 ORDER BY 1"
        ).fetchall())
        stubs = dict(q(
            "SELECT platform, count(*) FROM messages WHERE is_stub GROUP BY 1 ORDER BY 1"
        ).fetchall())
        actors = dict(q("SELECT platform, count(*) FROM actors GROUP BY 1 ORDER BY 1").fetchall())
        kinds = dict(q("SELECT kind, count(*) FROM interactions GROUP BY 1 ORDER BY 1").fetchall())
        interactions = {k: int(kinds.pop(k, 0)) for k in INTERACTION_KINDS}
        interactions.update({k: int(v) for k, v in sorted(kinds.items())})
        imports = q(
            "SELECT count(*), count(*) FILTER (WHERE status = 'complete'), "
            "count(*) FILTER (WHERE status IN ('interrupted', 'failed')), "
            "coalesce(sum(read), 0), coalesce(sum(stored), 0), coalesce(sum(duplicate), 0) "
            "FROM imports"
        ).fetchall()[0]
        quarantined, flagged = q(
            "SELECT count(*) FILTER (WHERE severity = 'error'), count(*) FILTER (WHERE severity = 'flag') "
            "FROM quarantine").fetchall()[0]
        tables = {
            t: q(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("actors", "messages", "mentions", "links", "tags", "recipients",
                      "ratings", "ties")
        }
        # Times before 1971 are on a relative clock (see whuffie.sources.times): not dates.
        span = q(
            "SELECT min(created_at) FILTER (WHERE created_at >= ?), max(created_at) FILTER "
            "(WHERE created_at >= ?), count(*) FILTER (WHERE created_at < ?) FROM messages "
            "WHERE NOT is_stub", [EARLIEST] * 3
        ).fetchall()[0]
        return {
            "db": str(self.path),
            "schema_version": self.schema_version,
            "messages": {k: int(v) for k, v in messages.items()},
            "stubs": {k: int(v) for k, v in stubs.items()},
            "actors": {k: int(v) for k, v in actors.items()},
            "interactions": interactions,
            "ratings": int(tables["ratings"]),
            "ties": int(tables["ties"]),
            "imports": {
                "total": int(imports[0]), "complete": int(imports[1]),
                "interrupted": int(imports[2]), "read": int(imports[3]),
                "stored": int(imports[4]), "duplicate": int(imports[5]),
            },
            "quarantined": int(quarantined),
            "flagged": int(flagged),
            "tables": {k: int(v) for k, v in tables.items()},
            "span": {
                "first": span[0].isoformat() if span[0] else None,
                "last": span[1].isoformat() if span[1] else None,
                "relative": int(span[2]),
            },
        }

    def handles(self, actors: Sequence[str], names: bool = False) -> dict[str, str]:
        """The handle of each actor that has one (``names=True``: else its display name).

        Examples
        --------
        >>> import whuffie
        >>> with whuffie.open(":memory:") as store:
        ...     _ = store.con.execute("INSERT INTO actors (actor_id, platform, handle, name) VALUES "
        ...                           "('x:1', 'x', 'ann', 'Ann'), ('x:2', 'x', NULL, 'Bob')")
        ...     store.handles(["x:1", "x:2", "x:3"]), store.handles(["x:2"], names=True)
        ({'x:1': 'ann'}, {'x:2': 'Bob'})
        """
        if not len(actors):
            return {}
        shown = "coalesce(handle, name)" if names else "handle"
        return {a: h for a, h in self.con.execute(
            f"SELECT actor_id, {shown} FROM actors WHERE actor_id IN (SELECT unnest(?))",
            [list(actors)]).fetchall() if h is not None}

    def imports(self) -> list[dict[str, Any]]:
        """Every import, newest last."""
        rows = self.sql(
            "SELECT import_id, path, format, status, read, stored, duplicate, quarantined, "
            "duration_s, sha256, size, started_at, error FROM imports ORDER BY import_id"
        )
        for r in rows:
            r["started_at"] = r["started_at"].isoformat() if r["started_at"] else None
        return rows

    def quarantine(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Quarantined records: file, line, byte offset, reason and a raw excerpt."""
        sql = (
            "SELECT q.import_id, q.path, q.line, q.byte_offset, i.format, q.severity, q.reason, q.excerpt "
            "FROM quarantine q LEFT JOIN imports i USING (import_id) "
            "ORDER BY q.path, q.line NULLS LAST, q.byte_offset NULLS LAST"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self.sql(sql)

    def quarantine_reasons(self, limit: int = 20) -> list[dict[str, Any]]:
        """Quarantined records counted by reason, most frequent first, with an example file."""
        return self.sql("SELECT reason, count(*) AS records, min(path) AS example_file FROM quarantine "
                        "GROUP BY reason ORDER BY records DESC, reason LIMIT ?", [int(limit)])

    # -- imports -------------------------------------------------------------------------

    def begin_import(self, path: str, fmt: str, size: int, options: dict[str, str]) -> int:
        """Record the start of an import and return its id."""
        import_id = self.con.execute(
            "SELECT coalesce(max(import_id), 0) + 1 FROM imports"
        ).fetchall()[0][0]
        self.con.execute(
            "INSERT INTO imports (import_id, path, size, format, options, status, started_at, "
            "version) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
            [import_id, self._shown_path(path), size, fmt, orjson.dumps(options).decode(), _now(),
             __version__],
        )
        return int(import_id)

    # -- privacy ---------------------------------------------------------------------------

    @property
    def pseudonymised(self) -> bool:
        """Whether the store was created by a pseudonymised import (see
        :mod:`whuffie.privacy.pseudonyms`): every later import needs the same key."""
        return self._meta("pseudonymised") is not None

    def _meta(self, key: str) -> str | None:
        rows = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return rows[0][0] if rows else None

    def use_key(self, key: bytes | str | os.PathLike | None) -> None:
        """Pseudonymise what this store is given from now on, with ``key`` (bytes, or a key file:
        created when missing, see :func:`~whuffie.privacy.pseudonyms.load_key`).

        A store holding plain records cannot become pseudonymised, and a pseudonymised store
        takes records only with the key it was created with; ``key=None`` checks that the store
        needs no key.

        Raises
        ------
        WhuffieError
            The store needs a key and none was given, the key is not the store's, or the store
            already holds plain records.

        Examples
        --------
        >>> import whuffie
        >>> with whuffie.open(":memory:") as store:
        ...     store.use_key(b"0" * 32)
        ...     store.pseudonymised
        True
        """
        from whuffie.privacy.pseudonyms import load_key, pseudonymiser

        known = self._meta("pseudonymised")
        if key is None:
            if known is not None:
                raise WhuffieError(
                    f"{self.path} is a pseudonymised store: import into it with --pseudonymise KEYFILE "
                    "(the key it was created with); plain records would mix real names with pseudonyms")
            self._pseudonymiser = None
            return
        p = pseudonymiser(key if isinstance(key, bytes) else load_key(key))
        if known is None:
            held = self.con.execute(
                "SELECT (SELECT count(*) FROM actors) + (SELECT count(*) FROM messages) + "
                "(SELECT count(*) FROM ratings) + (SELECT count(*) FROM ties)").fetchall()[0][0]
            if held:
                raise WhuffieError(
                    f"{self.path} already holds {held:,} plain records: pseudonymise into a new store "
                    "(--db NEW.duckdb), so that no real name stays beside the pseudonyms")
            if self.read_only:
                raise WhuffieError(f"{self.path} is open read-only; cannot pseudonymise into it")
            self.con.execute("INSERT OR REPLACE INTO meta VALUES ('pseudonymised', ?)", [p.fingerprint])
        elif known != p.fingerprint:
            raise WhuffieError(
                f"this key is not the one {self.path} was pseudonymised with: its pseudonyms would "
                "not match the stored ones (and overlapping records would be stored twice)")
        self._pseudonymiser = p

    def prepare(self, tables, path: str = ""):
        """A batch of the writer (of file ``path``) as the store keeps it: pseudonymised when the
        store is, without the actors erased from it (see :mod:`whuffie.privacy`)."""
        p = getattr(self, "_pseudonymiser", None)
        if p is None and self.pseudonymised:
            self.use_key(None)  # raises: the store needs its key
        if p is not None and not tables.pseudonymised:
            tables = p.tables(tables)
        from whuffie.privacy.erasure import exclusion

        found = exclusion(self)
        return found.apply(tables, self._shown_path(path)) if found is not None else tables

    def _shown_path(self, path: str) -> str:
        p = getattr(self, "_pseudonymiser", None)
        return p.path(path) if p is not None else path

    def add(self, records: Records) -> tuple[int, int]:
        """Store records built in Python (outside any import), in one transaction.

        Returns ``(stored, duplicate)``: records new to the store and records it already held.

        Examples
        --------
        >>> import whuffie
        >>> from whuffie.model import Message, Records
        >>> with whuffie.open(":memory:") as store:
        ...     store.add(Records(messages=[Message("x:1", "x", "x:a", None, text="hello")]))
        (1, 0)
        """
        from whuffie.store.writer import Batch, write_tables

        batch = Batch()
        batch.add(records)
        self.con.execute("BEGIN TRANSACTION")
        try:
            done = write_tables(self.con, self.prepare(batch.tables()), None)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return done

    def ingest(self, paths, format: str = "auto", **kwargs):
        """Import files or folders; see :func:`whuffie.store.ingest.ingest`."""
        from whuffie.store.ingest import ingest

        return ingest(self, paths, format=format, **kwargs)
