"""Analysis results: every run recorded with its parameters, seed, engine and data snapshot.

A run writes one or more Arrow tables to ``result_<name>`` tables of the store,
each row carrying the ``run_id`` of its line in ``runs``. Results are derived
data: when a newer Whuffie changes a result's columns, the old table of that
name is replaced (the runs stay listed).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from whuffie import __version__
from whuffie.errors import WhuffieError

if TYPE_CHECKING:
    from whuffie.store.store import Store

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


def snapshot(store: Store) -> dict[str, Any]:
    """What the store held: the last import and the size of the main tables."""
    q = store.con.execute
    return {
        "last_import": q("SELECT max(import_id) FROM imports").fetchall()[0][0],
        "messages": q("SELECT count(*) FROM messages").fetchall()[0][0],
        "actors": q("SELECT count(*) FROM actors").fetchall()[0][0],
        "ratings": q("SELECT count(*) FROM ratings").fetchall()[0][0],
        "ties": q("SELECT count(*) FROM ties").fetchall()[0][0],
    }


def save_run(
    store: Store,
    analysis: str,
    tables: Mapping[str, pa.Table],
    params: Mapping[str, Any],
    seed: int | None = None,
    engine: str = "embedded",
    started: float | None = None,
) -> int:
    """Record a run and its result tables; return the run id.

    Parameters
    ----------
    store : Store
        A writable store.
    analysis : str
        What ran (``influence``, ``niches``...).
    tables : mapping of str to pyarrow.Table
        Result tables by name; stored in ``result_<name>``.
    params : mapping
        Every parameter of the run (JSON-serialisable).
    seed : int, optional
        The random seed, for analyses that use one.
    engine : str
        Where it ran.
    started : float, optional
        ``time.perf_counter()`` at the start, for the duration.

    Examples
    --------
    >>> import whuffie, pyarrow as pa
    >>> with whuffie.open(":memory:") as store:
    ...     run = save_run(store, "demo", {"demo": pa.table({"actor_id": ["x:1"], "score": [1.0]})}, {})
    ...     load(store, "demo").column("score").to_pylist()
    [1.0]
    """
    for name in tables:
        if not _NAME.match(name):
            raise WhuffieError(f"result name {name!r} must be lower-case letters, digits and _")
    con = store.con
    duration = time.perf_counter() - started if started is not None else None
    con.execute("BEGIN TRANSACTION")
    try:
        run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchall()[0][0]
        con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, analysis, orjson.dumps(dict(params), default=str).decode(), seed, engine,
             orjson.dumps(snapshot(store)).decode(), datetime.now(UTC).replace(tzinfo=None),
             duration, __version__],
        )
        for name, table in tables.items():
            _append(con, f"result_{name}", table.add_column(
                0, "run_id", pa.array([run_id] * table.num_rows, pa.int64())))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(run_id)


def _append(con, table: str, data: pa.Table) -> None:
    con.register("_result", data)
    try:
        existing = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position", [table]).fetchall()]
        if existing and existing != data.column_names:
            con.execute(f"DROP TABLE {table}")
            existing = []
        if not existing:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM _result")
        else:
            con.execute(f"INSERT INTO {table} SELECT * FROM _result")
    finally:
        con.unregister("_result")


def latest_run(store: Store, analysis: str) -> int | None:
    """The id of the newest run of an analysis, or ``None``."""
    rows = store.con.execute(
        "SELECT max(run_id) FROM runs WHERE analysis = ?", [analysis]).fetchall()
    return rows[0][0] if rows and rows[0][0] is not None else None


def load(store: Store, name: str, run_id: int | None = None) -> pa.Table:
    """A result table of one run (the newest run that wrote it by default), without ``run_id``.

    Raises
    ------
    WhuffieError
        When no run wrote that result.
    """
    if not _NAME.match(name):
        raise WhuffieError(f"result name {name!r} must be lower-case letters, digits and _")
    table = f"result_{name}"
    exists = store.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchall()[0][0]
    if not exists:
        raise WhuffieError(f"no '{name}' results in {store.path} yet; run the analysis first")
    if run_id is None:
        run_id = store.con.execute(f"SELECT max(run_id) FROM {table}").fetchall()[0][0]
    return store.arrow(f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ?", [run_id])


def find(store: Store, name: str) -> pa.Table | None:
    """The newest result table of that name, or ``None`` when no run wrote it (see :func:`load`).

    For the analyses that use another's results when they exist (the report, niche ranks in
    the inbox...).

    Examples
    --------
    >>> import whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     find(store, "influence") is None
    True
    """
    try:
        return load(store, name)
    except WhuffieError:
        return None


def run_info(store: Store, run_id: int) -> dict[str, Any]:
    """The ``runs`` row of a run, with params and snapshot decoded."""
    rows = store.sql("SELECT * FROM runs WHERE run_id = ?", [run_id])
    if not rows:
        raise WhuffieError(f"no run {run_id} in {store.path}")
    row = rows[0]
    for key in ("params", "snapshot"):
        row[key] = orjson.loads(row[key]) if row[key] else None
    return row
