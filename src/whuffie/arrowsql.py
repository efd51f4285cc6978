"""SQL over Arrow tables, in process: the relational kernel the analyses compute with.

An analysis receives its inputs as Arrow tables (from an engine, see :mod:`whuffie.engines`) and
some of its steps are joins, window functions and aggregations that DuckDB runs in parallel and
without a Python object per row. :func:`query` gives an analysis that power over *its own tables
only*: each call opens a fresh in-memory DuckDB database, registers the tables it is given under
the names given, runs one statement and closes the database. It never sees the store, so an
analysis written with it runs the same whichever engine produced its inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa


def query(sql: str, params: Sequence[Any] | None = None,
          **tables: pa.Table | pa.RecordBatchReader) -> pa.Table:
    """Run one SQL statement over the given Arrow tables and return the result as an Arrow table.

    Parameters
    ----------
    sql : str
        A DuckDB SQL statement; it refers to the tables by the keyword names they are passed under.
    params : sequence, optional
        Values for the statement's ``?`` placeholders (user values never go into ``sql`` itself).
    **tables : pyarrow.Table
        The tables the statement reads.

    Returns
    -------
    pyarrow.Table

    Examples
    --------
    >>> t = pa.table({"who": ["a", "b", "a"], "n": [1, 2, 3]})
    >>> query("SELECT who, sum(n)::BIGINT AS n FROM t GROUP BY who ORDER BY who", t=t).to_pylist()
    [{'who': 'a', 'n': 4}, {'who': 'b', 'n': 2}]
    >>> query("SELECT count(*) AS c FROM t WHERE n > ?", [1], t=t).column("c").to_pylist()
    [2]
    """
    # DuckDB draws a progress bar on stdout for queries over two seconds: not in a library's output.
    con = duckdb.connect()
    try:
        # No progress bar on stdout; times are UTC whatever the machine's zone (as in the store).
        con.execute("SET enable_progress_bar = false")
        con.execute("SET TimeZone = 'UTC'")
        for name, table in tables.items():
            con.register(name, table)
        rel = con.sql(sql, params=list(params) if params else None)
        # Relation API: the rows are not copied once more through Python (DuckDB 2 renamed arrow()).
        return (getattr(rel, "to_arrow_table", None) or rel.arrow)()
    finally:
        con.close()


def scalar(sql: str, params: Sequence[Any] | None = None, **tables: pa.Table) -> Any:
    """The single value of a one-row, one-column :func:`query`.

    Examples
    --------
    >>> scalar("SELECT max(n) FROM t", t=pa.table({"n": [3, 9, 4]}))
    9
    """
    return query(sql, params, **tables).column(0)[0].as_py()
