"""The reader contract: what every source format module provides.

A reader has two halves, as 4CAT's data sources do:

* :meth:`Reader.read` does the I/O: it splits an :class:`~whuffie.sources.io.Input`
  into raw records (a parsed JSON object, an XML element's attributes, a CSV
  row, an email), each with its location, and yields :class:`Bad` for what it
  cannot even split or parse;
* :meth:`Reader.map_record` is pure: one raw record in, canonical
  :class:`~whuffie.model.Records` out, no I/O. It raises
  :class:`~whuffie.errors.SourceError` for a record it cannot map; the import
  quarantines that record and goes on.

:meth:`Reader.sniff` looks at the first bytes of a file and says how sure it
is that the file is in its format; ``--format auto`` picks the surest reader.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import orjson

from whuffie.errors import SourceError
from whuffie.model import Records
from whuffie.sources.io import (
    DAMAGED_INPUT,
    MAX_RECORD_BYTES,
    DecompressionBomb,
    Input,
    LongLine,
    TextLines,
    TooDeep,
    blank_lines,
    depth_limited,
    excerpt,
    loads_json_line,
    text_lines,
    too_long,
)


@dataclass(slots=True)
class Raw:
    """One raw record and where it was found.

    ``line`` is 1-based (a line of a JSON-lines file, a row of a CSV, the
    position of an item in a JSON array); ``offset`` is a byte offset into the
    decompressed file when known.
    """

    value: Any
    line: int | None = None
    offset: int | None = None

    def excerpt(self, limit: int = 500) -> str:
        """A printable excerpt of the raw record for the quarantine."""
        v = self.value
        if isinstance(v, bytes | str):
            return excerpt(v, limit)
        try:
            return excerpt(orjson.dumps(v, default=str).decode(), limit)
        except TypeError:
            pass
        try:
            return excerpt(repr(v), limit)
        except RecursionError:
            # Readers bound the depth of what they yield; a mapper may still nest deeper.
            return f"<a {type(v).__name__} nested too deeply to show>"


@dataclass(slots=True)
class Bad:
    """A record a reader could not split or parse; it goes to quarantine."""

    reason: str
    line: int | None = None
    offset: int | None = None
    excerpt: str = ""


class Sample:
    """What a sniffer sees of a file: its path and first decompressed bytes.

    Examples
    --------
    >>> s = Sample("page.jsonl", b'{"data": [], "includes": {}}\\n')
    >>> s.first_json()
    {'data': [], 'includes': {}}
    >>> s.suffix
    '.jsonl'
    """

    def __init__(self, path: str | Path, head: bytes, name: str | None = None) -> None:
        self.path = Path(path)
        self.head = head
        self.name = name or self.path.name
        self.suffix = Path(self.name).suffix.lower()

    @cached_property
    def text(self) -> str:
        """The head decoded as UTF-8 (BOM removed, bad bytes replaced)."""
        return self.head.decode("utf-8", errors="replace").lstrip("\ufeff")

    @cached_property
    def stripped(self) -> str:
        """The head's text without leading white space."""
        return self.text.lstrip()

    def first_json(self) -> Any:
        """The first JSON value of the file, or ``None`` if it cannot be parsed.

        Works for JSON lines (the first line) and for a whole JSON document
        that fits in the head. A document longer than the head is parsed up
        to the first complete object inside its first array, which is enough to
        recognise API responses such as ``{"statuses": [{...}, ...``.
        """
        text = self.stripped
        if not text:
            return None
        lines = text.split("\n", 3)
        # The first line, else the whole head, else the second or third line (a
        # JSON-lines file whose first record is damaged).
        for candidate in (lines[0], text, *lines[1:3]):
            try:
                return json.loads(candidate)
            except ValueError:
                continue
        return _partial_json(text)

    def first_item(self) -> Any:
        """The first record of the file: the first JSON line, or the first array item."""
        value = self.first_json()
        if isinstance(value, list):
            return value[0] if value else None
        return value


def _partial_json(text: str) -> Any:
    """Decode the first object of a truncated JSON document (see Sample.first_json)."""
    decoder = json.JSONDecoder()
    if text.startswith("["):
        try:
            return [decoder.raw_decode(text[1:].lstrip())[0]]
        except ValueError:
            return None
    if text.startswith("{"):
        # {..., "key": [ {first object} ...: return {"key": [first object]} for the first
        # member holding an array of objects (search responses put "search_metadata" first).
        for m in re.finditer(r'"([^"\\]{1,64})"\s*:\s*\[\s*(?=\{)', text):
            try:
                return {m.group(1): [decoder.raw_decode(text[m.end():])[0]]}
            except ValueError:
                continue
    return None


#: The longest text stored (a message's text, a profile's description), in characters.
MAX_TEXT_CHARS = 16 << 20
#: The longest other string stored (an id, a name, a title, a URL, a tag), in characters.
#: The store imports with a bounded memory (384 MB): a 100 MB string exhausts it.
MAX_FIELD_CHARS = 1 << 20
_TEXT_FIELDS = frozenset({"text", "description"})


def check_sizes(records: Records) -> Records:
    """Return ``records``, or raise a :class:`SourceError` when a string field is too long.

    The limits are :data:`MAX_TEXT_CHARS` for texts and :data:`MAX_FIELD_CHARS`
    for the other fields; the import quarantines such a record.

    Examples
    --------
    >>> from whuffie.model import Message
    >>> r = Records(messages=[Message("x:1", "x", "x:" + "a" * (2 << 20), None)])
    >>> check_sizes(r)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    whuffie.errors.SourceError: field 'actor_id' of message 'x:1' is 2097154 characters long, ...
    """
    for group in (records.messages, records.context, records.actors, records.profiles,
                  records.mentions, records.links, records.tags, records.recipients,
                  records.ratings, records.ties):
        for item in group:
            for name in item.__slots__:
                value = getattr(item, name)
                if type(value) is str and len(value) > MAX_FIELD_CHARS:
                    limit = MAX_TEXT_CHARS if name in _TEXT_FIELDS else MAX_FIELD_CHARS
                    if len(value) > limit:
                        what = type(item).__name__.lower()
                        ident = getattr(item, "id", getattr(item, "message_id", ""))
                        ident = ident if len(ident) <= 200 else ident[:200] + "..."
                        raise SourceError(
                            f"field '{name}' of {what} {ident!r} is {len(value)} characters long, "
                            f"more than the limit of {limit >> 20} MiB for such a field; "
                            "the record is not stored")
    return records


class Reader:
    """Base class of the source format readers.

    Subclasses set the class attributes, implement :meth:`sniff`, :meth:`read`
    and :meth:`map_record`, and are registered under their ``id`` in the
    ``whuffie.readers`` entry-point group. What a subclass's :meth:`map_record`
    returns passes :func:`check_sizes`, so no reader stores a string larger than
    the store's import can hold.

    Parameters
    ----------
    **options : str
        Reader options (``-o key=value`` on the command line); unknown names
        raise :class:`OptionError` (a :class:`~whuffie.errors.SourceError`).
    """

    #: kebab-case identifier used by ``--format``.
    id: ClassVar[str] = ""
    #: The platform prefix of the ids this reader produces.
    platform: ClassVar[str] = ""
    #: One line describing the formats read.
    title: ClassVar[str] = ""
    #: Option name -> help text.
    options_help: ClassVar[dict[str, str]] = {}
    #: True when, on JSON-lines input, :meth:`read` yields one ``Raw(json.loads(line))``
    #: per line and :meth:`map_record` needs nothing else from the file: large files
    #: are then parsed and mapped by several worker processes.
    parallel_lines: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("map_record")
        if own is None or getattr(own, "_checked", False):
            return

        # Wrapped here rather than in each reader: external readers get the same limits.
        @functools.wraps(own)
        def map_record(self, raw: Any) -> Records:
            return check_sizes(own(self, raw))

        map_record._checked = True  # type: ignore[attr-defined]
        cls.map_record = map_record  # type: ignore[method-assign]

    def __init__(self, **options: str) -> None:
        unknown = sorted(set(options) - set(self.options_help))
        if unknown:
            raise OptionError(
                f"reader '{self.id}' has no option {', '.join(map(repr, unknown))} "
                f"(its options: {', '.join(sorted(self.options_help)) or 'none'})"
                f"{did_you_mean(unknown, self.options_help)}"
            )
        self.options = options

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """How sure this reader is that the file is in its format (0 to 1)."""
        return 0.0

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """Split the input into raw records; yield :class:`Bad` for unparseable ones."""
        raise NotImplementedError

    def map_record(self, raw: Any) -> Records:
        """Map one raw record to canonical records. Pure: no I/O."""
        raise NotImplementedError

    def companions(self, path: Path) -> list[Path]:
        """Other files this reader reads when it reads ``path`` (see :class:`Reader`).

        A reader that combines sibling files (a thread structure beside its
        posts) lists them here; the ingest then skips them as separate inputs.
        """
        return []

    def relative_times(self, raw: Any) -> bool:
        """Whether the times of ``raw`` count from an arbitrary origin, not from the epoch.

        Such times (the coordination-network-toolkit's "seconds on any
        consistent offset") are kept as seconds from 1970-01-01 instead of
        being flagged one by one as implausible (see :mod:`whuffie.sources.times`).
        """
        return False


class OptionError(SourceError):
    """A reader option that no reader of the input takes (a misspelling, most often)."""


def did_you_mean(unknown: list[str], known) -> str:
    """A hint naming the known option closest to a misspelled one, or ``""``.

    Examples
    --------
    >>> did_you_mean(["platfrom"], ["platform", "map"])
    "; did you mean 'platform'?"
    """
    import difflib

    for name in unknown:
        close = difflib.get_close_matches(name, list(known), n=1)
        if close:
            return f"; did you mean {close[0]!r}?"
    return ""


def json_lines(inp: Input) -> Iterator[Raw | Bad]:
    """Read a JSON-lines input: one :class:`Raw` per line, :class:`Bad` per broken line.

    Blank lines are skipped. This is the :meth:`Reader.read` of most API-dump
    readers.
    """
    from whuffie.sources.io import loads_json_line

    for n, offset, line in inp.lines():
        if isinstance(line, LongLine):
            yield Bad(too_long(line, n), n, offset, excerpt(line))
            continue
        if not line.strip():
            continue
        try:
            yield Raw(loads_json_line(line), n, offset)
        except (orjson.JSONDecodeError, UnicodeDecodeError, LookupError) as exc:
            yield Bad(f"invalid JSON ({exc})", n, offset, excerpt(line))


def csv_rows(inp: Input | TextLines, delimiter: str = ",") -> Iterator[tuple[int, list[str]] | Bad]:
    """The rows of a CSV input, each with the line of the file it starts on; a row that cannot
    be read is a :class:`Bad` and the rows after it are read on.

    The text comes from :class:`~whuffie.sources.io.TextLines`, so memory and time stay
    bounded: a row on a line longer than the record limit is quarantined with its length,
    a field over the :mod:`csv` module's limit (128 KiB) or damaged compressed data too.

    Examples
    --------
    >>> import io
    >>> text = 'id,text\\n1,"two\\nlines"\\n2,' + "x" * 40 + "\\n3,ok\\n"
    >>> for row in csv_rows(TextLines(io.StringIO(text), limit=30)):
    ...     print(row)
    (1, ['id', 'text'])
    (2, ['1', 'two\\nlines'])
    Bad(reason='line 4 is 43 characters long, more than the limit of one record (30 characters); \
it was skipped', line=4, offset=None, excerpt='2,xxxxxxxxxxxxxxxxxxxxxxxxxxx')
    (5, ['3', 'ok'])
    """
    lines = inp if isinstance(inp, TextLines) else text_lines(inp)
    rows = csv.reader(lines, delimiter=delimiter)
    done = 0  # the items of ``lines`` read so far
    while True:
        first = done + 1
        try:
            row = next(rows)
        except StopIteration:
            return
        except DAMAGED_INPUT as exc:
            yield Bad(_damaged(exc), lines.line_of(first), None, "")
            return
        except csv.Error as exc:
            # A field over the csv module's size limit, a quote out of place: skip the record.
            yield Bad(f"invalid CSV ({exc})", lines.line_of(first), None, "")
            if rows.line_num <= done:  # no progress: give up rather than loop
                return
            done = rows.line_num
            lines.cut(first, done)
            continue
        done = rows.line_num
        line = lines.line_of(first)
        length = lines.cut(first, done)
        if length is not None:
            yield Bad(lines.too_long(line, length), line, None, excerpt(delimiter.join(row), 200))
            continue
        yield line, row


#: A first line longer than this is taken for a one-line document and streamed, not loaded.
LINE_LIMIT = 8 << 20
_FIRST_KEY = re.compile(rb'^\s*\{\s*"([A-Za-z_]\w{0,63})"\s*:\s*\[')




class _Prefixed:
    """A binary stream that first returns ``prefix``, then the rest of ``stream``."""

    def __init__(self, prefix: bytes, stream) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size is None or size < 0:
                data, self._prefix = self._prefix + self._stream.read(), b""
                return data
            data, self._prefix = self._prefix[:size], self._prefix[size:]
            return data
        return self._stream.read(size)


def json_records(inp: Input, keys: tuple[str, ...] = ()) -> Iterator[Raw | Bad]:
    """Split any JSON input into top-level units, streaming what can be streamed.

    This is the :meth:`Reader.read` of most API-dump readers:

    * **JSON lines**: one :class:`Raw` per line (whatever the line holds: an
      object, an array, a page), :class:`Bad` per broken line, with line
      numbers and byte offsets. A file counts as JSON lines when its first or
      second line is a complete JSON value and another line follows, however
      long the lines are.
    * **an array** (one line or pretty-printed): one :class:`Raw` per element,
      ``line`` = its 1-based position, streamed with ijson.
    * **an object**: the elements of its top-level members named in
      ``keys`` that hold arrays, streamed (``line`` = position); when it
      has none, the object itself as one :class:`Raw` (line 1).

    A document cut short yields the elements before the damage and a
    :class:`Bad` naming the position of the element that broke.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as fh:
    ...     _ = fh.write(b'{"statuses": [{"id": 1},\\n {"id": 2}, {"id"')
    >>> with Input(fh.name) as inp:
    ...     [(u.value, u.line) if isinstance(u, Raw) else u.line for u in json_records(inp, ("statuses",))]
    [({'id': 1}, 1), ({'id': 2}, 2), 3]
    >>> os.remove(fh.name)
    """
    try:
        yield from _units(inp, keys)
    except DAMAGED_INPUT as exc:
        yield Bad(_damaged(exc), None, None, "")
    except SourceError as exc:  # Input.lines() reports damaged compressed data so
        yield Bad(exc.reason, exc.line, exc.offset, "")


def _damaged(exc: BaseException) -> str:
    if isinstance(exc, DecompressionBomb):
        return f"{exc}; the records before it were read"
    return f"the compressed data is damaged ({exc}); the records before it were read"


def _units(inp: Input, stream_keys: tuple[str, ...]) -> Iterator[Raw | Bad]:
    stream = inp.stream
    head = stream.peek(HEAD_PEEK) if hasattr(stream, "peek") else b""
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        # Arrays are streamed straight away: a one-line array may be the whole (large) file.
        if head.startswith(b"\xef\xbb\xbf"):
            stream.read(3)
        yield from _document(stream, stream_keys, b"[")
        return
    # The first two non-blank lines, each read up to LINE_LIMIT bytes: a longer "line" is a
    # one-line document, to be streamed rather than loaded.
    taken: list[tuple[int, int, bytes]] = []
    n = offset = 0
    while len(taken) < 2:
        line = stream.readline(LINE_LIMIT)
        if not line:
            break
        n += 1
        if line.strip():
            taken.append((n, offset, line))
        elif hasattr(stream, "peek"):  # a flood of blank lines is crossed at once
            more = blank_lines(stream)
            n += more.count(b"\n")
            offset += len(more)
        offset += len(line)
        if len(line) >= LINE_LIMIT and not line.endswith(b"\n"):
            if len(taken) == 2 and _parse_line(taken[0][2]) is not _BROKEN:
                # JSON lines whose second line is long: read it as a line, within the limit.
                line += stream.readline(MAX_RECORD_BYTES - len(line))
                if len(line) >= MAX_RECORD_BYTES and not line.endswith(b"\n"):
                    line = LongLine.skip_rest(line, stream.readline)
                offset = taken[1][1] + (line.length if isinstance(line, LongLine) else len(line))
                taken[1] = (n, taken[1][1], line)
                break
            prefix = b"".join(x[2] for x in taken).lstrip(b"\xef\xbb\xbf")
            yield from _document(_Prefixed(prefix, stream), stream_keys, prefix)
            return
    if not taken:
        return
    first, second = taken[0], (taken[1] if len(taken) > 1 else None)
    value = _parse_line(first[2])
    if value is not _BROKEN:
        if second is None:  # a one-line document: the whole file
            yield from _split_document(value, stream_keys)
            return
        yield Raw(value, first[0], first[1])
    elif second is not None and isinstance(_parse_line(second[2]), dict | list):
        yield Bad("invalid JSON", first[0], first[1], excerpt(first[2]))
    else:
        # A pretty-printed (or broken) document: parse it from its first byte.
        prefix = (first[2] + (second[2] if second else b"")).lstrip(b"\xef\xbb\xbf")
        yield from _document(_Prefixed(prefix, stream), stream_keys, prefix)
        return
    for k, (ln, off, line) in enumerate(_chain(second, inp.lines())):
        if k:  # inp.lines() counts from where the two lines above stopped
            ln, off = ln + n, off + offset
        if isinstance(line, LongLine):
            yield Bad(too_long(line, ln), ln, off, excerpt(line))
            continue
        if not line.strip():
            continue
        parsed = _parse_line(line)
        if parsed is _BROKEN:
            yield Bad("invalid JSON", ln, off, excerpt(line))
        else:
            yield Raw(parsed, ln, off)


_BROKEN = object()


def _parse_line(line: bytes) -> Any:
    try:
        return loads_json_line(line)
    except (orjson.JSONDecodeError, UnicodeDecodeError, LookupError):
        return _BROKEN


def _chain(first, rest) -> Iterator:
    yield first
    yield from rest


def _split_document(value: Any, stream_keys: tuple[str, ...]) -> Iterator[Raw]:
    """The units of a document parsed whole (see :func:`json_records`)."""
    if isinstance(value, list):
        for n, item in enumerate(value, 1):
            yield Raw(item, n)
        return
    if isinstance(value, dict):
        lists = [value[k] for k in stream_keys if isinstance(value.get(k), list)]
        if lists:
            n = 0
            for items in lists:
                for item in items:
                    n += 1
                    yield Raw(item, n)
            return
    yield Raw(value, 1)


def _document(src, stream_keys: tuple[str, ...], head: bytes) -> Iterator[Raw | Bad]:
    """Stream the units of one or more JSON documents with ijson."""
    import ijson

    src = depth_limited(src)
    n = 0
    # ijson builds the items of an array in C when told their path: ~8x faster than building
    # them from events here. That works for an array, and for an object whose first member is
    # a streamed array (API pages: {"posts": [...], "cursor": ...}).
    path = None
    if head.lstrip().startswith(b"["):
        path = "item"
    else:
        first_key = _FIRST_KEY.match(head)
        if first_key and first_key.group(1).decode() in stream_keys:
            path = first_key.group(1).decode() + ".item"
    try:
        if path is not None:
            for item in ijson.items(src, path, use_float=True, multiple_values=True):
                n += 1
                yield Raw(item, n)
            return
        events = ijson.parse(src, use_float=True, multiple_values=True)
        for prefix, event, value in events:
            if prefix != "":
                continue
            if event == "start_array":
                for item in array_items(events, ""):
                    n += 1
                    yield Raw(item, n)
            elif event == "start_map":
                doc: dict[str, Any] = {}
                key = None
                streamed = False
                for pfx, ev, val in events:
                    if pfx == "" and ev == "map_key":
                        key = val
                    elif pfx == "" and ev == "end_map":
                        break
                    elif pfx == key and ev == "start_array" and key in stream_keys:
                        streamed = True
                        for item in array_items(events, key):
                            n += 1
                            yield Raw(item, n)
                    elif pfx == key:
                        doc[key] = build_value(events, ev, val)
                if not streamed:
                    n += 1
                    yield Raw(doc, n)
            else:
                n += 1
                yield Bad(f"expected a JSON object or array, found {value!r}"[:200], n, None, "")
    except DAMAGED_INPUT as exc:
        yield Bad(_damaged(exc), n + 1, None, "")
    except TooDeep as exc:
        yield Bad(f"item {n + 1}: {exc}; the rest of the document cannot be read", n + 1, None, "")
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:200]
        yield Bad(f"invalid JSON in item {n + 1} ({reason})", n + 1, None, "")


def build_value(events, event: str, value: Any) -> Any:
    """Build one JSON value from ijson events, starting at ``event``."""
    import ijson

    if event not in ("start_map", "start_array"):
        return value
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1
    for _prefix, ev, val in events:
        builder.event(ev, val)
        if ev in ("start_map", "start_array"):
            depth += 1
        elif ev in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                break
    return builder.value


def array_items(events, prefix: str) -> Iterator[Any]:
    """Yield the elements of the array whose ``start_array`` ijson event was just consumed.

    ``prefix`` is the array's ijson path (``""`` for a top-level array).
    """
    item_prefix = f"{prefix}.item" if prefix else "item"
    for pfx, ev, val in events:
        if ev == "end_array" and pfx == prefix:
            return
        if pfx == item_prefix:
            yield build_value(events, ev, val)


HEAD_PEEK = 4096


def host_of(url: str | None) -> str | None:
    """The lower-case host of a URL without ``www.``, or ``None``.

    Examples
    --------
    >>> host_of("https://WWW.Example.com:443/a?b")
    'example.com'
    >>> host_of("not a url") is None
    True
    """
    if not url or "://" not in url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def require(record: dict, key: str, what: str = "record") -> Any:
    """Return ``record[key]`` or raise a :class:`SourceError` naming the missing field.

    Examples
    --------
    >>> require({"id": "1"}, "id")
    '1'
    >>> require({}, "id", "tweet")
    Traceback (most recent call last):
    ...
    whuffie.errors.SourceError: tweet has no 'id'
    """
    if not isinstance(record, dict):
        raise SourceError(f"{what} is {type(record).__name__}, expected a JSON object")
    value = record.get(key)
    if value is None or value == "":
        raise SourceError(f"{what} has no '{key}'")
    return value
