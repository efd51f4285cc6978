"""How every reader reads time stamps, and which ones it sets aside.

What is read
------------
ISO 8601 (with ``Z``, offsets, milliseconds, a space instead of ``T``), epoch
seconds, milliseconds, microseconds or nanoseconds as numbers or strings (the
unit is told by the magnitude), RFC 2822 (mail and RSS) and the classic
Twitter format. Times are stored in UTC and the offset the source gave is kept
(``utc_offset``); a time without an offset is taken as UTC. A value that is
not a time stamp at all (``yesterday``) quarantines its record.

Implausible times
-----------------
A time before **1971-01-01** (UTC) or more than **a day after the import
started** cannot be when a record was written: it is a placeholder an export
wrote for a missing time (epoch 0, shown as 1970-01-01 or, shifted by a time
zone, 1969-12-31; a negative epoch; ``0001-01-01``; ``9999-12-31``) or a unit
error (a date such as ``20201127`` read as epoch seconds). Network e-mail
began in 1971 and Usenet in 1980, so real mailing-list, newsgroup and 1990s
e-mail archives are never caught; the day after the import leaves room for
clocks that drift and for a local time written as UTC (at most 14 hours
ahead).

Such a record is **kept without its time**: ``created_at`` is empty, the
value read is in the record's ``extra`` under ``original_created_at``
(messages and actors; ratings and network ties have no ``extra``, so the
value is in the reason only), and the import lists it in the quarantine,
beside the records it could not read, with a reason such as ``time
1970-01-01T00:00:00 of message csv:3 is implausible (before 1971: a
placeholder?): kept without a time``. Those rows count in ``whuffie status``
and show in ``whuffie quarantine``, but not in an import's ``quarantined``
count: the record itself was stored.

A format that counts time from an arbitrary origin (the
coordination-network-toolkit's CSV: "seconds on any consistent offset", 0,
59, 60...: see ``csv`` above) says so for the records concerned: their times
are kept as seconds from 1970-01-01, so that intervals between them stay
exact, and the import says it once, with a reason starting ``times are
relative``, instead of flagging every record. Only the lower bound is lifted:
a time more than a day after the import is still a placeholder.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from whuffie.errors import SourceError
from whuffie.model import Records

#: The earliest plausible time of a record (see "Implausible times" above): network e-mail
#: began in 1971, so this keeps every real archive and catches epoch 0 in any time zone.
EARLIEST = datetime(1971, 1, 1)
#: How far after the start of an import a record's time may lie: clocks drift, and a local
#: time written as UTC is up to 14 hours ahead; beyond a day it is a placeholder.
LEEWAY = timedelta(days=1)
#: The ``extra`` key that keeps an implausible time.
ORIGINAL_KEY = "original_created_at"

_EPOCH = datetime(1970, 1, 1)
_MIN_DATETIME = datetime(1, 1, 2)
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
        When the value is not a time stamp (or lies beyond what a datetime holds,
        years 1 to 9999). A time stamp that parses but cannot be when a record was
        written (epoch 0, ``9999-12-31``) is returned: see :func:`implausible`.

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
    if result is None:
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


def implausible(when: datetime | None, started: datetime, relative: bool = False) -> str | None:
    """Say why ``when`` cannot be the time of a record imported at ``started``, or ``None``.

    Parameters
    ----------
    when : datetime or None
        The time read (aware or naive UTC).
    started : datetime
        When the import started (naive UTC).
    relative : bool
        The source counts time from an arbitrary origin: only the upper bound applies.

    Returns
    -------
    str or None
        A short reason (``"before 1971: a placeholder?"``), ``None`` when plausible.

    Examples
    --------
    >>> started = datetime(2025, 1, 1)
    >>> implausible(parse_time(0), started)
    'before 1971: a placeholder?'
    >>> implausible(parse_time("Wed, 31 Dec 1969 19:00:00 -0500"), started)
    'before 1971: a placeholder?'
    >>> implausible(parse_time("9999-12-31T23:59:59Z"), started)
    'more than a day after the import started: a placeholder?'
    >>> implausible(parse_time("1989-03-01T10:00:00"), started) is None
    True
    >>> implausible(parse_time(59), started, relative=True) is None
    True
    """
    if when is None:
        return None
    try:
        utc = to_utc(when)[0]
    except OverflowError:  # 0001-01-01 with a positive offset, 9999-12-31 with a negative one
        return "before 1971: a placeholder?" if when.year < 1971 else \
            "more than a day after the import started: a placeholder?"
    if utc is None:
        return None
    if utc < EARLIEST and not relative:
        return "before 1971: a placeholder?"
    if utc > started + LEEWAY:
        return "more than a day after the import started: a placeholder?"
    return None


def clear_implausible(records: Records, started: datetime, relative: bool = False) -> str | None:
    """Empty the implausible times of one raw record's records; say what was done.

    Each time that :func:`implausible` rejects becomes ``None``; messages and
    actors keep the value in ``extra["original_created_at"]``.

    Parameters
    ----------
    records : Records
        What a reader mapped from one raw record; changed in place.
    started : datetime
        When the import started (naive UTC).
    relative : bool
        The record's times count from an arbitrary origin (see the module notes).

    Returns
    -------
    str or None
        The reason to record in the quarantine, ``None`` when every time is plausible.

    Examples
    --------
    >>> from whuffie.model import Message
    >>> r = Records(messages=[Message("csv:3", "csv", "csv:u", parse_time("0"))])
    >>> print(clear_implausible(r, datetime(2025, 1, 1)))  # doctest: +ELLIPSIS
    time 1970-01-01T00:00:00 of message csv:3 is implausible (before 1971: a placeholder?): kept ...
    >>> r.messages[0].created_at, r.messages[0].extra
    (None, {'original_created_at': '1970-01-01T00:00:00'})
    """
    # Every record of every import passes here: compare with bounds computed once per import
    # and call implausible() only for a time outside them.
    low, high, low_aware, high_aware = _bounds(started, relative)
    found: list[tuple[str, str, str]] = []
    for what, items in (("message", records.messages), ("message", records.context),
                        ("actor", records.profiles), ("actor", records.actors),
                        ("rating", records.ratings), ("tie", records.ties)):
        for item in items:
            when = item.created_at
            if when is None:
                continue
            if when.tzinfo is None:
                if low <= when <= high:
                    continue
            elif low_aware <= when <= high_aware:
                continue
            why = implausible(when, started, relative)
            if why is None:
                continue
            shown = when.isoformat()
            item.created_at = None
            if what in ("message", "actor"):
                item.extra = {**(item.extra or {}), ORIGINAL_KEY: shown}
            found.append((f"{what} {item.id}", shown, why))
    if not found:
        return None
    parts = [f"time {shown} of {who} is implausible ({why})" for who, shown, why in found[:3]]
    if len(found) > 3:
        parts.append(f"{len(found) - 3} more")
    return "; ".join(parts) + ": kept without a time"


@lru_cache(maxsize=8)
def _bounds(started: datetime, relative: bool) -> tuple[datetime, datetime, datetime, datetime]:
    low = _MIN_DATETIME if relative else EARLIEST
    high = started + LEEWAY
    return low, high, low.replace(tzinfo=UTC), high.replace(tzinfo=UTC)


def near_epoch(records: Records) -> bool:
    """Whether a message of the records is dated before 1971 (relative times look so).

    Examples
    --------
    >>> from whuffie.model import Message
    >>> near_epoch(Records(messages=[Message("csv:1", "csv", None, parse_time(59))]))
    True
    """
    for m in records.messages:
        when = m.created_at
        if when is not None and when.replace(tzinfo=None) < EARLIEST:
            return True
    return False
