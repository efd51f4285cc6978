"""Parsing the time stamps of every platform into :class:`datetime.datetime`.

One function, :func:`parse_time`, accepts what real exports contain: ISO 8601
(with ``Z``, offsets, milliseconds, a space instead of ``T``), epoch seconds /
milliseconds / microseconds as numbers or strings, RFC 2822 (mail and RSS) and
the classic Twitter format. It returns an aware datetime when the source gave
an offset (so the original offset can be kept) and a naive one, meaning UTC,
when it did not.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta, timezone

from whuffie.errors import SourceError

_EPOCH = datetime(1970, 1, 1)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# "Sat Mar 10 14:03:15 +0000 2018": Twitter v1.1.
_TWITTER = re.compile(
    r"^[A-Z][a-z]{2} ([A-Z][a-z]{2}) (\d{1,2}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d) (\d{4})$"
)
_MIN_YEAR, _MAX_YEAR = 1900, 2200


def from_epoch(value: float) -> datetime:
    """Convert an epoch number to a naive UTC datetime, guessing its unit.

    Values above 1e11 are milliseconds, above 1e14 microseconds, above 1e17
    nanoseconds (1e11 seconds is the year 5138, so the guess is safe for real
    data).

    Examples
    --------
    >>> from_epoch(1289241912)
    datetime.datetime(2010, 11, 8, 18, 45, 12)
    >>> from_epoch(1289241912000)
    datetime.datetime(2010, 11, 8, 18, 45, 12)
    """
    v = float(value)
    a = abs(v)
    if a >= 1e17:
        v /= 1e9
    elif a >= 1e14:
        v /= 1e6
    elif a >= 1e11:
        v /= 1e3
    return _EPOCH + timedelta(seconds=v)


def parse_time(value: object, field: str = "created_at") -> datetime | None:
    """Parse a time stamp from any of the formats real exports use.

    Parameters
    ----------
    value : str, int, float or None
        The raw value. ``None`` and the empty string give ``None``.
    field : str
        The field name, used in the error message.

    Returns
    -------
    datetime or None
        Aware when the value carried an offset, naive (UTC) otherwise.

    Raises
    ------
    SourceError
        When the value is not a time stamp or is out of range (years 1900-2200).

    Examples
    --------
    >>> parse_time("2021-09-22T16:39:00.000Z")
    datetime.datetime(2021, 9, 22, 16, 39, tzinfo=datetime.timezone.utc)
    >>> parse_time("Sat Mar 10 14:03:15 +0000 2018").isoformat()
    '2018-03-10T14:03:15+00:00'
    >>> parse_time("Tue, 27 Nov 2018 09:01:02 +0100").utcoffset()
    datetime.timedelta(seconds=3600)
    >>> parse_time("1388534400")
    datetime.datetime(2014, 1, 1, 0, 0)
    >>> parse_time("yesterday")
    Traceback (most recent call last):
    ...
    whuffie.errors.SourceError: field 'created_at' is 'yesterday', expected ISO 8601, RFC 2822 or epoch
    """
    if value is None or value == "":
        return None
    result: datetime | None = None
    if isinstance(value, bool):
        result = None
    elif isinstance(value, int | float):
        result = _epoch_or_none(value)
    elif isinstance(value, str):
        s = value.strip()
        result = _epoch_or_none(float(s)) if _NUMBER.match(s) else _parse_text(s)
    if result is None or not (_MIN_YEAR <= result.year <= _MAX_YEAR):
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise SourceError(
            f"field '{field}' is {shown}, expected ISO 8601, RFC 2822 or epoch"
        )
    return result


def _epoch_or_none(value: float) -> datetime | None:
    if value != value:  # NaN
        return None
    try:
        return from_epoch(value)
    except (OverflowError, ValueError):
        return None


def _parse_text(s: str) -> datetime | None:
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        pass
    m = _TWITTER.match(s)
    if m:
        mon, day, hh, mm, ss, sign, oh, om, year = m.groups()
        month = _MONTHS.get(mon)
        if month is None:
            return None
        offset = (int(oh) * 60 + int(om)) * (1 if sign == "+" else -1)
        try:
            return datetime(
                int(year), month, int(day), int(hh), int(mm), int(ss),
                tzinfo=UTC if offset == 0 else timezone(timedelta(minutes=offset)),
            )
        except ValueError:
            return None
    try:
        return email.utils.parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def to_utc(value: datetime | None) -> tuple[datetime | None, int | None]:
    """Split a datetime into a naive UTC datetime and its original offset in minutes.

    Examples
    --------
    >>> to_utc(parse_time("2020-01-01T10:00:00+02:00"))
    (datetime.datetime(2020, 1, 1, 8, 0), 120)
    >>> to_utc(datetime(2020, 1, 1))
    (datetime.datetime(2020, 1, 1, 0, 0), None)
    """
    if value is None:
        return None, None
    offset = value.utcoffset()
    if offset is None:
        return value, None
    return (value - offset).replace(tzinfo=None), int(offset.total_seconds() // 60)
