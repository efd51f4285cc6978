"""Tabular output shared by the CLI and the exports: JSON arrays and safe CSV.

CSV files are opened in spreadsheets, where a cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is run as a formula, also after
leading white space or control characters. Every value that came from data and
starts so is prefixed with a single quote (the OWASP recommendation), and every
field holding a line break (``\\r`` included) is quoted, so an export never
executes anything nor starts a row of its own.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TextIO

import orjson

#: A formula start: ``= + - @`` after any white space or control characters (spreadsheets skip
#: them), or a value opening with a tab or a line break.
_FORMULA = re.compile(r"[\s\x00-\x1f\x7f-\x9f]*[=+\-@]|[\t\r\n]")


def safe_cell(value: Any) -> Any:
    """Neutralise a value that a spreadsheet would read as a formula.

    Numbers are left alone (a negative number is not a formula).

    Examples
    --------
    >>> safe_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> safe_cell(-3), safe_cell("-3"), safe_cell("hello")
    (-3, "'-3", 'hello')
    >>> safe_cell("\\r=1+1"), safe_cell("  @SUM(A1)"), safe_cell("a=b")
    ("'\\r=1+1", "'  @SUM(A1)", 'a=b')
    """
    if isinstance(value, str) and _FORMULA.match(value):
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
    >>> buf = io.StringIO()
    >>> write_csv([{"actor": "x:1", "note": "a\\rb"}], ["actor", "note"], buf)
    >>> buf.getvalue()
    'actor,note\\nx:1,"a\\rb"\\n'
    """
    # The csv module quotes a field when it holds a character of the line terminator, and Python
    # before 3.13 looks no further: with "\n" rows a bare "\r" went out unquoted, and every
    # spreadsheet and csv reader took it as the end of the row. So rows are formatted with "\r\n"
    # (both quoted), and written with the "\n" this module's outputs end their rows with.
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    writer.writerow(columns)
    out.write(line.text[:-2] + "\n")
    for row in rows:
        writer.writerow([safe_cell(_plain(row.get(c))) for c in columns])
        out.write(line.text[:-2] + "\n")


class _Line:
    """The file object of a csv writer that keeps the one line a ``writerow`` writes."""

    text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def to_json(value: Any) -> str:
    """JSON text with datetimes as ISO 8601 strings (UTC, as the store keeps them).

    Examples
    --------
    >>> to_json([{"a": 1, "at": datetime(2024, 5, 1, 10)}])
    '[{"a":1,"at":"2024-05-01T10:00:00Z"}]'
    """
    return orjson.dumps(value, default=_plain,
                        option=orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z).decode()
