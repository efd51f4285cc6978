"""Analysis results: every run recorded with its parameters, inputs, seed, engine and data snapshot.

A run writes one or more Arrow tables to ``result_<name>`` tables of the store, each row carrying
the ``run_id`` of its line in ``runs``; the ``latest_<name>`` view shows the newest run's rows.
Results are derived data: when a newer Whuffie changes a result's columns, the old table of that
name is replaced (the runs stay listed).

A run is found again by its **fingerprint**: a hash of the analysis, its parameters, the runs it
read (its inputs), what the store held (the snapshot) and the Whuffie version. Asking again for the
same analysis with the same parameters on the same data gives back the saved run (see
:mod:`whuffie.api`). A newer run with the same analysis and parameters (its ``params_key``)
**supersedes** an older one; :func:`prune` drops superseded runs that no kept run read.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from whuffie.errors import WhuffieError
from whuffie.store.catalog import comment_result
from whuffie.version import __version__

if TYPE_CHECKING:
    import duckdb

    from whuffie.store.store import Store

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise WhuffieError(f"result name {name!r} must be lower-case letters, digits and _")


def snapshot(store: Store) -> dict[str, Any]:
    """What the store held: the last import and the size of the main tables.

    Examples
    --------
    >>> import whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     snapshot(store)
    {'last_import': None, 'messages': 0, 'actors': 0, 'ratings': 0, 'ties': 0}
    """
    row = store.con.execute(
        "SELECT (SELECT max(import_id) FROM imports), (SELECT count(*) FROM messages), "
        "(SELECT count(*) FROM actors), (SELECT count(*) FROM ratings), (SELECT count(*) FROM ties)"
    ).fetchall()[0]
    return dict(zip(("last_import", "messages", "actors", "ratings", "ties"), row, strict=True))


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS)


def params_key(analysis: str, params: Mapping[str, Any]) -> str:
    """Hash of an analysis and its parameters: what a newer run must share to supersede a run.

    Examples
    --------
    >>> params_key("niches", {"seed": 0}) == params_key("niches", {"seed": 0})
    True
    >>> params_key("niches", {"seed": 0}) == params_key("niches", {"seed": 1})
    False
    """
    return hashlib.sha256(_canonical([analysis, dict(params)])).hexdigest()[:32]


def fingerprint(analysis: str, params: Mapping[str, Any], inputs: Mapping[str, Any],
                snap: Mapping[str, Any]) -> str:
    """Hash of what determines a run's result: analysis, parameters, inputs, data and version.

    Examples
    --------
    >>> a = fingerprint("influence", {"damping": 0.85}, {}, {"messages": 10})
    >>> a == fingerprint("influence", {"damping": 0.85}, {}, {"messages": 11})
    False
    """
    return hashlib.sha256(_canonical([analysis, dict(params), dict(inputs), dict(snap),
                                      __version__])).hexdigest()


def find_run(store: Store, analysis: str, print_: str) -> int | None:
    """The newest run of ``analysis`` with fingerprint ``print_`` whose tables are all still there.

    Examples
    --------
    >>> import whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     find_run(store, "influence", "0" * 64) is None
    True
    """
    rows = store.con.execute(
        "SELECT run_id, tables FROM runs WHERE analysis = ? AND fingerprint = ? ORDER BY run_id DESC",
        [analysis, print_]).fetchall()
    existing = _result_tables(store.con)
    for run_id, tables in rows:
        names = orjson.loads(tables) if tables else []
        if all(n in existing for n in names):
            return int(run_id)
    return None


def _result_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0][len("result_"):] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'result\\_%' ESCAPE '\\'").fetchall()}


def save_run(
    store: Store,
    analysis: str,
    tables: Mapping[str, pa.Table],
    params: Mapping[str, Any],
    seed: int | None = None,
    engine: str = "embedded",
    started: float | None = None,
    *,
    inputs: Mapping[str, Any] | None = None,
    summary: Mapping[str, Any] | None = None,
    snap: Mapping[str, Any] | None = None,
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
    inputs : mapping, optional
        The runs whose results the run read, by analysis (``{"voice": 5}``).
    summary : mapping, optional
        The run's headline figures (JSON-serialisable).
    snap : mapping, optional
        The :func:`snapshot` the run was computed on (taken now when not given).

    Examples
    --------
    >>> import whuffie, pyarrow as pa
    >>> with whuffie.open(":memory:") as store:
    ...     run = save_run(store, "demo", {"demo": pa.table({"actor_id": ["x:1"], "score": [1.0]})}, {})
    ...     load(store, "demo").column("score").to_pylist(), store.sql("SELECT * FROM latest_demo")
    ([1.0], [{'actor_id': 'x:1', 'score': 1.0}])
    """
    for name in tables:
        _check_name(name)
    if store.read_only and not store.make_writable():
        raise WhuffieError(f"cannot save the {analysis} run: {store.path} is open read-only")
    con = store.con
    duration = time.perf_counter() - started if started is not None else None
    snap = dict(snap) if snap is not None else snapshot(store)
    inputs = dict(inputs or {})
    con.execute("BEGIN TRANSACTION")
    try:
        run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchall()[0][0]
        con.execute(
            "INSERT INTO runs (run_id, analysis, params, seed, engine, snapshot, created_at, duration_s, "
            "version, fingerprint, params_key, inputs, summary, tables) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, analysis, orjson.dumps(dict(params), default=str).decode(), seed, engine,
             orjson.dumps(snap).decode(), datetime.now(UTC).replace(tzinfo=None), duration, __version__,
             fingerprint(analysis, params, inputs, snap), params_key(analysis, params),
             orjson.dumps(inputs).decode(), orjson.dumps(dict(summary or {}), default=str).decode(),
             orjson.dumps(list(tables)).decode()],
        )
        for name, table in tables.items():
            _append(con, name, table.add_column(
                0, "run_id", pa.array([run_id] * table.num_rows, pa.int64())))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(run_id)


def _latest_view(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f"CREATE OR REPLACE VIEW latest_{name} AS SELECT * EXCLUDE (run_id) FROM result_{name} "
                f"WHERE run_id = (SELECT max(run_id) FROM result_{name})")


def _append(con: duckdb.DuckDBPyConnection, name: str, data: pa.Table) -> None:
    table = f"result_{name}"
    con.register("_result", data)
    try:
        existing = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position", [table]).fetchall()]
        if existing and existing != data.column_names:
            con.execute(f"DROP VIEW IF EXISTS latest_{name}")
            con.execute(f"DROP TABLE {table}")
            existing = []
        if not existing:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM _result")
            _latest_view(con, name)
            comment_result(con, name)
        else:
            con.execute(f"INSERT INTO {table} SELECT * FROM _result")
    finally:
        con.unregister("_result")


def describe_results(con: duckdb.DuckDBPyConnection) -> None:
    """Give every result table its ``latest_<name>`` view and its descriptions (older stores)."""
    for name in sorted(_result_tables(con)):
        _latest_view(con, name)
        comment_result(con, name)


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
    _check_name(name)
    table = f"result_{name}"
    if name not in _result_tables(store.con):
        raise WhuffieError(f"no '{name}' results in {store.path} yet; run the analysis first")
    if run_id is None:
        run_id = store.con.execute(f"SELECT max(run_id) FROM {table}").fetchall()[0][0]
    return store.arrow(f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ?", [run_id])


def find(store: Store, name: str) -> pa.Table | None:
    """The newest result table of that name, or ``None`` when no run wrote it (see :func:`load`).

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
    """The ``runs`` row of a run, with its JSON columns decoded."""
    rows = store.sql("SELECT * FROM runs WHERE run_id = ?", [run_id])
    if not rows:
        raise WhuffieError(f"no run {run_id} in {store.path}")
    row = rows[0]
    for key in ("params", "snapshot", "inputs", "summary", "tables"):
        row[key] = orjson.loads(row[key]) if row.get(key) else None
    return row


def run_tables(store: Store, run_id: int) -> dict[str, pa.Table]:
    """Every result table a run wrote, by name."""
    info = run_info(store, run_id)
    return {name: load(store, name, run_id) for name in info["tables"] or []}


def list_runs(store: Store) -> list[dict[str, Any]]:
    """Every run, oldest first, with the rows it wrote and whether a newer run supersedes it.

    ``superseded`` names the newer run with the same analysis and parameters; ``kept_for`` the
    runs that read a superseded run (which :func:`prune` therefore keeps).
    """
    rows = store.sql("SELECT run_id, analysis, created_at, duration_s, engine, version, params, params_key, "
                     "inputs, tables FROM runs ORDER BY run_id")
    existing = _result_tables(store.con)
    newest: dict[str, int] = {}
    for r in rows:
        if r["params_key"]:
            newest[r["params_key"]] = r["run_id"]
        r["inputs"] = orjson.loads(r["inputs"]) if r["inputs"] else {}
        r["tables"] = orjson.loads(r["tables"]) if r["tables"] else []
        r["rows"] = sum(store.con.execute(f"SELECT count(*) FROM result_{t} WHERE run_id = ?",
                                          [r["run_id"]]).fetchall()[0][0]
                        for t in r["tables"] if t in existing)
    for r in rows:
        later = newest.get(r["params_key"])
        r["superseded_by"] = later if later is not None and later != r["run_id"] else None
    kept = {r["run_id"] for r in rows if r["superseded_by"] is None}
    readers: dict[int, list[int]] = {}
    # Inputs always point at older runs: walking newest first reaches every run a kept run read.
    for r in reversed(rows):
        if r["run_id"] in kept:
            for run in r["inputs"].values():
                if isinstance(run, int):
                    kept.add(run)
                    readers.setdefault(run, []).append(r["run_id"])
    for r in rows:
        r["kept_for"] = sorted(readers.get(r["run_id"], [])) if r["superseded_by"] is not None else []
        r["prunable"] = r["run_id"] not in kept
    return rows


def prune(store: Store) -> list[int]:
    """Drop the superseded runs that no kept run read, with their result rows; return their ids.

    Examples
    --------
    >>> import whuffie, pyarrow as pa
    >>> with whuffie.open(":memory:") as store:
    ...     t = pa.table({"x": [1]})
    ...     first = save_run(store, "demo", {"demo": t}, {"p": 1})
    ...     second = save_run(store, "demo", {"demo": t}, {"p": 1})
    ...     prune(store), [r["run_id"] for r in list_runs(store)]
    ([1], [2])
    """
    runs = [r for r in list_runs(store) if r["prunable"]]
    if not runs:
        return []
    ids = [r["run_id"] for r in runs]
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        for name in sorted(_result_tables(con)):
            con.execute(f"DELETE FROM result_{name} WHERE run_id IN (SELECT unnest(?))", [ids])
        con.execute("DELETE FROM runs WHERE run_id IN (SELECT unnest(?))", [ids])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return ids
