"""The reader contract: what every source format module provides.

A reader has two halves, as 4CAT's data sources do:

* :meth:`Reader.read` does the I/O: it splits an :class:`~whuffie.sources.io.Input`
  into raw records (a parsed JSON object, an XML element's attributes, a CSV
  row, an email), each with its location, and yields :class:`Bad` for what it
  cannot even split or parse;
* :meth:`Reader.map_record` is pure: one raw record in, canonical
  :class:`~whuffie.store.model.Records` out, no I/O. It raises
  :class:`~whuffie.errors.SourceError` for a record it cannot map; the import
  quarantines that record and goes on.

:meth:`Reader.sniff` looks at the first bytes of a file and says how sure it
is that the file is in its format; ``--format auto`` picks the surest reader.
"""

from __future__ import annotations

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
from whuffie.sources.io import Input, excerpt
from whuffie.store.model import Records


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
            return excerpt(repr(v), limit)


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


class Reader:
    """Base class of the source format readers.

    Subclasses set the class attributes, implement :meth:`sniff`, :meth:`read`
    and :meth:`map_record`, and are registered under their ``id`` in the
    ``whuffie.readers`` entry-point group.

    Parameters
    ----------
    **options : str
        Reader options (``-o key=value`` on the command line); unknown names
        raise :class:`~whuffie.errors.SourceError`.
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

    def __init__(self, **options: str) -> None:
        unknown = sorted(set(options) - set(self.options_help))
        if unknown:
            known = ", ".join(sorted(self.options_help)) or "none"
            raise SourceError(
                f"reader '{self.id}' has no option {', '.join(map(repr, unknown))} "
                f"(its options: {known})"
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


def json_lines(inp: Input) -> Iterator[Raw | Bad]:
    """Read a JSON-lines input: one :class:`Raw` per line, :class:`Bad` per broken line.

    Blank lines are skipped. This is the :meth:`Reader.read` of most API-dump
    readers.
    """
    from whuffie.sources.io import loads_json_line

    for n, offset, line in inp.lines():
        if not line.strip():
            continue
        try:
            yield Raw(loads_json_line(line), n, offset)
        except (orjson.JSONDecodeError, UnicodeDecodeError, LookupError) as exc:
            yield Bad(f"invalid JSON ({exc})", n, offset, excerpt(line))


def json_records(
    inp: Input, keys: tuple[str, ...] = (), with_header: bool = False
) -> Iterator[Raw | Bad]:
    """Read JSON that is either JSON lines, one array, or one object, streaming.

    * JSON lines (one object per line): one :class:`Raw` per line.
    * One array: one :class:`Raw` per element, ``line`` = its 1-based position.
    * One object: the elements of its first member named in ``keys`` that
      holds an array (``{"statuses": [...]}``, Telegram's ``{"messages": [...]}``),
      or the object itself when no such member exists.

    Documents are streamed with ijson, so a multi-gigabyte array does not
    have to fit in memory. With ``with_header``, each item is wrapped as
    ``{"header": {...}, "item": item}`` where ``header`` holds the object's
    members that came before the array (a chat's name and id, say).
    """
    import ijson

    stream = inp.stream
    peek = stream.peek(HEAD_PEEK) if hasattr(stream, "peek") else b""
    body = peek.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body.startswith(b"{"):
        # JSON lines of objects, or one (pretty-printed) object?
        if _looks_like_json_lines(body):
            yield from json_lines(inp)
            return
    elif not body.startswith(b"["):
        yield from json_lines(inp)
        return
    if peek.startswith(b"\xef\xbb\xbf"):
        stream.read(3)
    header: dict[str, Any] = {}
    n = 0
    try:
        events = ijson.parse(stream, use_float=True)
        if body.startswith(b"["):
            next(events)  # the opening bracket
            for n, item in enumerate(_array_items(events, ""), 1):
                yield Raw({"header": header, "item": item} if with_header else item, n)
            return
        builder_key = None
        for prefix, event, value in events:
            if prefix == "" and event == "map_key":
                builder_key = value
            elif prefix == builder_key and event == "start_array" and builder_key in keys:
                for n, item in enumerate(_array_items(events, builder_key), 1):
                    yield Raw({"header": header, "item": item} if with_header else item, n)
                # Later members of the object are not needed; stop reading.
                return
            elif prefix == builder_key and builder_key is not None:
                header[builder_key] = _build(events, event, value)
        yield Raw(header, 1, 0)
    except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())
        yield Bad(f"invalid JSON after item {n} ({reason})", None, None,
                  excerpt(repr(header)[:200]))


def _build(events, event: str, value: Any) -> Any:
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


def _looks_like_json_lines(body: bytes) -> bool:
    """True when the first or the second line of ``body`` is a whole JSON object.

    Looking at the second line too keeps a JSON-lines file whose first line is
    damaged a JSON-lines file (one bad record), not one broken document.
    """
    lines = body.split(b"\n", 2)
    for line in lines[:2]:
        line = line.strip().lstrip(b"\xef\xbb\xbf")
        if line.startswith(b"{") and line.endswith(b"}"):
            try:
                if isinstance(orjson.loads(line), dict):
                    return True
            except orjson.JSONDecodeError:
                continue
    return False


def _array_items(events, prefix: str) -> Iterator[Any]:
    """Yield the elements of the array whose start event was just consumed."""
    item_prefix = f"{prefix}.item" if prefix else "item"
    for pfx, ev, val in events:
        if ev == "end_array" and pfx == prefix:
            return
        if pfx == item_prefix:
            yield _build(events, ev, val)


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
