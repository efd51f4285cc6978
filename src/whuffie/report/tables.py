"""Tabular output shared by the CLI and the exports: JSON arrays and safe CSV.

CSV files are opened in spreadsheets, where a cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is run as a formula. Every value that
came from data and starts with one of those is prefixed with a single quote
(the OWASP recommendation), so an export never executes anything.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TextIO

import orjson

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise a value that a spreadsheet would read as a formula.

    Numbers are left alone (a negative number is not a formula).

    Examples
    --------
    >>> safe_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> safe_cell(-3), safe_cell("-3"), safe_cell("hello")
    (-3, "'-3", 'hello')
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    """Times in ISO 8601 with their zone: the store's times are UTC, written with ``Z``."""
    if isinstance(value, datetime):
        return value.isoformat() + "Z" if value.tzinfo is None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], out: TextIO) -> None:
    """Write rows as CSV with a header, every text cell made formula-safe.

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> write_csv([{"actor": "x:1", "note": "=1+1"}], ["actor", "note"], buf)
    >>> buf.getvalue().splitlines()
    ['actor,note', "x:1,'=1+1"]
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(_plain(row.get(c))) for c in columns])


def to_json(value: Any) -> str:
    """JSON text with datetimes as ISO 8601 strings (UTC, as the store keeps them).

    Examples
    --------
    >>> to_json([{"a": 1, "at": datetime(2024, 5, 1, 10)}])
    '[{"a":1,"at":"2024-05-01T10:00:00Z"}]'
    """
    return orjson.dumps(value, default=_plain,
                        option=orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z).decode()
