"""Generic tables of messages: CSV (``csv``) and JSON lines (``jsonl``).

What it reads
-------------
Any table with one message per row, such as the input format of QUT's
coordination-network-toolkit, a labelled data set, or your own export. Columns
are mapped to these **canonical fields**:

``message_id``
    the message's id (required: a row without one is quarantined)
``user_id``, ``username``, ``name``
    the author's stable id, handle and display name
``repost_id``, ``quote_id``, ``reply_id``
    the id of the reposted, quoted or replied-to message: the row's kind is
    ``reshare``, else ``quote``, else ``reply``, else ``post``
``repost_user_id``, ``quote_user_id``, ``reply_user_id``
    the author of that target message, when the file gives it: the target
    becomes a stub, so the interaction resolves even when the target is not in
    the file
``message``, ``title``, ``lang``, ``url``
    the text and what they say
``timestamp``
    ISO 8601, epoch seconds / milliseconds, RFC 2822 (no zone means UTC); in
    the toolkit's layout, seconds on any consistent offset (see below)
``thread_id``
    the conversation root
``urls``, ``mentions``, ``hashtags``
    links, handles and tags: a JSON list, a Python list repr (``['a', 'b']``,
    read safely, never evaluated) or a space-delimited string (mentions and
    hashtags: commas too)
``likes``, ``reshares``, ``replies``, ``score``, ``views``
    counts (whole numbers)

Every other column (labels, sentiment, ...) goes to ``extra`` under its
header name (cells beyond the header's width under ``_overflow``), so nothing
is lost. Empty strings are null.

**CSV** (``csv``): the delimiter is the ``delimiter`` option, else sniffed among
``,`` ``;`` tab and ``|``; the encoding is detected (BOM, UTF-8, legacy); quoted
fields may hold newlines (a quarantined row is reported at the line where it
starts). The first row is the header. Columns are mapped

1. by position with ``-o columns=message_id,user_id,,message`` (empty = skip);
2. else by name: with ``-o map=message_id=comment_id,reply_id=parent_comment_id``
   (canonical=column pairs), plus every header cell that is a canonical name
   (case-insensitive, BOM stripped) or a common alias (``id``, ``text``,
   ``content``, ``body``, ``created_at``, ``date``, ``author``, ``author_id``,
   ``screen_name``), when the header holds ``message_id`` or at least three
   canonical names;
3. else by position as the coordination-network-toolkit does ("the names of the
   columns don't matter but the order does"): ``message_id, user_id, username,
   repost_id, reply_id, message, timestamp, urls``.

A ``map`` naming a column the header lacks quarantines the file at line 1 (a
README in a folder read with ``--format csv`` is skipped that way). A cell
longer than the :mod:`csv` module's limit (128 KiB) quarantines its row.

Times: the toolkit documents ``timestamp`` as "seconds on any consistent
offset", and its own examples count 0, 59, 60... seconds. So in the toolkit's
layout (its header, or columns taken by position) times are **relative**:
kept as seconds from 1970-01-01, which keeps every interval between messages
exact (what coordination detection compares), and the import notes once that
the file's times are relative instead of flagging each 1970 time as a
placeholder. Every other layout has **absolute** times, where 0 or a date
before 1971 is a placeholder (the record is kept without a time and flagged:
see "Times" at the end of this page). ``-o times=absolute`` or
``-o times=relative`` decides instead.

**JSON lines** (``jsonl``): one object per line whose keys are the canonical
names; ``-o map=user_id=user.id,message=text`` maps canonical names to dotted
paths into the object. Unmapped top-level keys go to ``extra``.

Identifiers
-----------
``<platform>:<message_id>`` for messages and ``<platform>:<user_id>`` for
actors, where ``<platform>`` is the ``platform`` option or, by default, the
slugged name of the folder holding the file (``qut_coordination_csv`` ->
``qut-coordination-csv``); pass ``-o platform=twitter`` when the ids are tweet
ids, so they merge with other Twitter imports. A file without ``user_id`` keys
authors by handle (``<platform>:@<username>``); mentioned accounts are always
keyed by handle (``<platform>:@<handle>``, lower-cased), since a handle is all
such a column gives. Ids written as floats by pandas (``540.0``) are read as
the integer they are; an id with control characters is refused. Files in one
folder share one id space: two unrelated tables whose ids overlap (the
toolkit's two sample files both number their rows from 0 or 1) need
different ``platform`` options, or the second one's rows count as duplicates.

Examples
--------
>>> split_list("['http://a.org/1', 'http://b.org/2']")
['http://a.org/1', 'http://b.org/2']
>>> split_list("http://a.org http://b.org")
['http://a.org', 'http://b.org']
"""

from __future__ import annotations

import ast
import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from whuffie.errors import SourceError
from whuffie.model import Actor, Link, Mention, Message, Records, Tag
from whuffie.sources.base import Bad, Raw, Reader, Sample, csv_rows, host_of, json_lines
from whuffie.sources.edges import slug
from whuffie.sources.io import DAMAGED_INPUT, Input, excerpt, text_lines
from whuffie.sources.times import parse_time

#: What a damaged compressed stream raises while it is read.
#: The toolkit's columns, in order.
TOOLKIT_COLUMNS = ("message_id", "user_id", "username", "repost_id", "reply_id", "message",
                   "timestamp", "urls")
#: Every canonical field.
CANONICAL = (
    "message_id", "user_id", "username", "name", "repost_id", "reply_id", "quote_id",
    "repost_user_id", "reply_user_id", "quote_user_id", "message", "title", "lang", "url",
    "timestamp", "thread_id", "urls", "mentions", "hashtags", "likes", "reshares", "replies",
    "score", "views",
)
_CANONICAL = frozenset(CANONICAL)
#: Names specific enough to recognise a file by (``title``, ``lang``, ``url``, ``score``
#: and friends occur in every platform's records).
_DISTINCTIVE = frozenset((
    "message_id", "user_id", "username", "repost_id", "reply_id", "quote_id", "repost_user_id",
    "reply_user_id", "quote_user_id", "message", "timestamp", "thread_id", "urls", "mentions",
    "hashtags",
))
#: Header aliases used when mapping by name (never for sniffing).
ALIASES = {
    "id": "message_id", "text": "message", "content": "message", "body": "message",
    "created_at": "timestamp", "date": "timestamp", "author": "username",
    "author_id": "user_id", "screen_name": "username",
}
_COUNTS = ("likes", "reshares", "replies", "score", "views")
_DELIMITERS = ",;\t|"
_FLOAT_ID = re.compile(r"^-?\d+\.0+$")
_NUMBER = re.compile(r"^[+-]?\d+(\.0*)?$")
_LIST_SPLIT = re.compile(r"[\s,]+")
#: Python list reprs longer than this are split as text rather than parsed.
_MAX_LITERAL = 100_000


def split_list(value: Any, commas: bool = False) -> list[str]:
    """Split a list-valued cell: JSON list, Python list repr or delimited text.

    Parameters
    ----------
    value : str, list or None
        The cell (a JSON value for JSON lines).
    commas : bool
        Also split plain text on commas (handles, hashtags; never URLs, which
        may contain commas).

    Returns
    -------
    list of str
        The non-empty items, stripped, in order.

    Examples
    --------
    >>> split_list('["#a", "#b"]')
    ['#a', '#b']
    >>> split_list("@ann, @bob", commas=True)
    ['@ann', '@bob']
    >>> split_list("[]"), split_list(None)
    ([], [])
    """
    if value is None:
        return []
    if isinstance(value, list | tuple):
        items: list[Any] = list(value)
    elif isinstance(value, str):
        s = value.strip()
        if not s:
            return []
        items = []
        if s.startswith("["):
            parsed = _parse_list(s) if s.endswith("]") else None
            if parsed is not None:
                items = parsed
            else:
                # A damaged repr ("['http://a.org/1', 'http://b"): split what is there.
                s = s.strip("[]")
                items = _LIST_SPLIT.split(s) if commas else s.split()
        else:
            items = _LIST_SPLIT.split(s) if commas else s.split()
    else:
        items = [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            # {"url": ...} / {"expanded_url": ...} / {"username": ...} objects of JSON exports.
            item = next((item[k] for k in ("expanded_url", "url", "username", "screen_name", "tag",
                                           "text") if isinstance(item.get(k), str)), None)
        if item is None or isinstance(item, bool | list | tuple | dict):
            continue
        text = str(item).strip().strip("'\",")
        if text:
            out.append(text)
    return out


def _parse_list(s: str) -> list[Any] | None:
    try:
        v = orjson.loads(s)
    except orjson.JSONDecodeError:
        if len(s) > _MAX_LITERAL:
            return None
        try:
            v = ast.literal_eval(s)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
    return list(v) if isinstance(v, list | tuple) else None


def _norm_id(value: Any, field: str) -> str | None:
    """An id as text: ``None`` for empty, the integer for ``540.0`` (a pandas artefact)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if value != value:  # NaN from pandas
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise SourceError(f"field '{field}' is {_show(value)}, expected an id")
    s = value.strip()
    if not s or s.lower() in ("nan", "none", "null"):
        return None
    if not s.isprintable():
        raise SourceError(f"field '{field}' is {_show(value)}, expected an id")
    if _FLOAT_ID.match(s):
        s = s.split(".", 1)[0]
    return s


def _show(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 80 else r[:77] + "..."


def _count(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise SourceError(f"field '{field}' is {value!r}, expected a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return int(value.strip().split(".", 1)[0])
    raise SourceError(f"field '{field}' is {_show(value)}, expected a whole number")


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def map_fields(platform: str, f: dict[str, Any], extra: dict[str, Any] | None) -> Records:
    """Map one row's canonical fields to records (shared by the CSV and JSON-lines readers).

    Parameters
    ----------
    platform : str
        The id prefix.
    f : dict
        Canonical name -> value (strings for CSV, JSON values for JSON lines).
    extra : dict or None
        The row's other columns, stored in ``Message.extra``.

    Returns
    -------
    Records

    Raises
    ------
    SourceError
        For a row without ``message_id`` or with a bad time stamp or count.

    Examples
    --------
    >>> out = map_fields("demo", {"message_id": "2", "user_id": "7", "reply_id": "1",
    ...                           "reply_user_id": "5.0", "message": "hi #There"}, None)
    >>> m = out.messages[0]
    >>> m.id, m.actor_id, m.kind, m.reply_to
    ('demo:2', 'demo:7', 'reply', 'demo:1')
    >>> out.context[0].actor_id, out.context[0].stub
    ('demo:5', True)
    """
    p = platform + ":"
    mid = _norm_id(f.get("message_id"), "message_id")
    if mid is None:
        raise SourceError("field 'message_id' is empty, expected the message's id")
    mid = p + mid
    out = Records()
    username = _text(f.get("username"))
    if username is not None:
        username = username.strip().lstrip("@") or None
    uid = _norm_id(f.get("user_id"), "user_id")
    actor = p + uid if uid is not None else (p + "@" + username.lower() if username else None)
    name = _text(f.get("name"))
    if actor is not None and (username or name):
        out.actors.append(Actor(actor, platform, handle=username, name=name))
    targets = {}
    for key in ("repost", "reply", "quote"):
        target = _norm_id(f.get(key + "_id"), key + "_id")
        if target is None:
            continue
        targets[key] = p + target
        author = _norm_id(f.get(key + "_user_id"), key + "_user_id")
        if author is not None:
            out.context.append(Message(p + target, platform, p + author, None, stub=True))
    kind = ("reshare" if "repost" in targets else "quote" if "quote" in targets
            else "reply" if "reply" in targets else "post")
    thread = _norm_id(f.get("thread_id"), "thread_id")
    msg = Message(
        mid, platform, actor, parse_time(f.get("timestamp"), "timestamp"), kind,
        text=_text(f.get("message")), title=_text(f.get("title")), lang=_text(f.get("lang")),
        reply_to=targets.get("reply"), reshare_of=targets.get("repost"),
        quote_of=targets.get("quote"), thread_id=p + thread if thread else None,
        url=_text(f.get("url")),
        likes=_count(f.get("likes"), "likes"), reshares=_count(f.get("reshares"), "reshares"),
        replies=_count(f.get("replies"), "replies"), score=_count(f.get("score"), "score"),
        views=_count(f.get("views"), "views"), extra=extra or None,
    )
    out.messages.append(msg)
    if f.get("urls") not in (None, ""):
        for u in dict.fromkeys(split_list(f["urls"])):
            out.links.append(Link(mid, u, host_of(u)))
    if f.get("mentions") not in (None, ""):
        for h in dict.fromkeys(x.lstrip("@") for x in split_list(f["mentions"], commas=True)):
            if h:
                aid = p + "@" + h.lower()
                out.mentions.append(Mention(mid, aid, h))
                out.actors.append(Actor(aid, platform, handle=h))
    if f.get("hashtags") not in (None, ""):
        for t in dict.fromkeys(x.lstrip("#").lower() for x in split_list(f["hashtags"], commas=True)):
            if t:
                out.tags.append(Tag(mid, t))
    return out


def _parse_pairs(spec: str, option: str = "map") -> list[tuple[str, str]]:
    """Parse ``canonical=source,canonical=source``; unknown canonical names are an error."""
    pairs = []
    for part in spec.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise SourceError(f"option {option} has {part.strip()!r}, expected canonical=column")
        key, _, src = part.partition("=")
        key, src = key.strip().lower(), src.strip()
        if key not in _CANONICAL:
            raise SourceError(f"option {option} names {key!r}, which is not a canonical field "
                              f"(known: {', '.join(CANONICAL)})")
        if not src:
            raise SourceError(f"option {option} maps {key!r} to an empty column name")
        pairs.append((key, src))
    return pairs


def _parse_columns(spec: str) -> list[str | None]:
    cols: list[str | None] = []
    for part in spec.split(","):
        name = part.strip().lower()
        if name in ("", "-", "_"):
            cols.append(None)
        elif name not in _CANONICAL:
            raise SourceError(f"option columns names {name!r}, which is not a canonical field "
                              f"(known: {', '.join(CANONICAL)})")
        else:
            cols.append(name)
    return cols


def _norm_header(cell: str) -> str:
    return cell.replace("\ufeff", "").strip().strip('"').strip().lower()


def _platform(reader: Reader, path: Path) -> str:
    return reader.options.get("platform") or slug(path.resolve().parent.name)


# -- CSV -------------------------------------------------------------------------------


def _guess_delimiter(text: str) -> str:
    """The delimiter of a CSV sample: csv.Sniffer, checked against the header line."""
    lines = text.splitlines()
    header = lines[0] if lines else ""
    counts = {d: header.count(d) for d in _DELIMITERS}
    try:
        guessed = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        guessed = None
    if guessed is not None and counts.get(guessed, 0) > 0:
        return guessed
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


class CsvReader(Reader):
    """A generic CSV table of messages (the coordination-network-toolkit's format by default).

    See the module documentation for the canonical fields and the column mapping.

    Parameters
    ----------
    **options : str
        ``platform``, ``map``, ``columns``, ``delimiter``, ``times``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("id,who,text\\n1,7,hello\\n")
    >>> from whuffie.sources.io import Input
    >>> with Input(d / "t.csv") as inp:
    ...     raws = list(CsvReader(platform="demo", map="user_id=who").read(inp))
    >>> m = CsvReader().map_record(raws[0].value).messages[0]
    >>> m.id, m.actor_id, m.text
    ('demo:1', 'demo:7', 'hello')
    """

    id = "csv"
    platform = "csv"
    title = "Generic CSV of messages (coordination-network-toolkit columns, or mapped by name)"
    options_help = {
        "platform": "id prefix (default: the name of the folder holding the file, slugged)",
        "map": "canonical=column pairs, comma-separated, e.g. "
               "'message_id=comment_id,reply_id=parent_comment_id,message=content'",
        "columns": "canonical names by position, comma-separated (empty to skip a column)",
        "delimiter": "field delimiter: ',', ';', 'tab' or '|' (default: sniffed)",
        "times": "'relative' (seconds on any consistent offset, kept from 1970) or 'absolute' "
                 "(before 1971 is a placeholder); default: relative in the toolkit's layout",
    }

    def __init__(self, **options: str) -> None:
        super().__init__(**options)
        times = options.get("times")
        if times is not None and times not in ("relative", "absolute"):
            raise SourceError(f"option times is {times!r}, expected 'relative' or 'absolute'")
        self._times = times
        self._pairs = _parse_pairs(options["map"]) if options.get("map") else []
        self._columns = _parse_columns(options["columns"]) if options.get("columns") else None
        d = options.get("delimiter")
        if d is not None:
            d = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(d.lower(), d)
            if len(d) != 1:
                raise SourceError(f"option delimiter is {options['delimiter']!r}, expected one character")
        self._delimiter = d

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """A header naming the toolkit's columns, or at least three canonical fields."""
        text = sample.stripped
        if not text or text[0] in "{[<":
            return 0.0
        header = text.split("\n", 1)[0].rstrip("\r")
        best = 0
        for d in _DELIMITERS:
            if d not in header:
                continue
            names = [_norm_header(c) for c in next(csv.reader([header], delimiter=d), [])]
            if tuple(names[:8]) == TOOLKIT_COLUMNS:
                return 0.9
            best = max(best, sum(1 for n in set(names) if n in _DISTINCTIVE))
        if best >= 3:
            return 0.75
        return 0.1 if best else 0.0

    def relative_times(self, raw: Any) -> bool:
        """Rows of the toolkit's layout count seconds on any offset (see the module notes)."""
        return isinstance(raw, dict) and raw.get("relative", False)

    def _relative(self, header: list[str], positional: bool) -> bool:
        """Whether the table is in the toolkit's layout, whose times are relative."""
        if self._times is not None:
            return self._times == "relative"
        names = tuple(_norm_header(c) for c in header[:len(TOOLKIT_COLUMNS)])
        return positional or names == TOOLKIT_COLUMNS

    def _layout(self, header: list[str]) -> tuple[list[tuple[int, str]], list[tuple[int, str]], bool]:
        """(column index -> canonical name) pairs, (column index -> extra name) pairs, and
        whether the columns were taken by position as the toolkit does."""
        names = [_norm_header(c) for c in header]
        shown = [c.replace("\ufeff", "").strip() or f"column_{i + 1}" for i, c in enumerate(header)]
        mapped: dict[int, str] = {}
        positional = False
        if self._columns is not None:
            for i, canon in enumerate(self._columns):
                if canon is not None:
                    mapped[i] = canon
        else:
            taken: set[str] = set()
            for canon, src in self._pairs:
                low = src.lower()
                if low not in names:
                    raise SourceError(f"option map names column {src!r}, which is not in the header "
                                      f"(columns: {', '.join(shown)})")
                mapped[names.index(low)] = canon
                taken.add(canon)
            exact = sum(1 for n in set(names) if n in _CANONICAL)
            if self._pairs or "message_id" in names or exact >= 3:
                for i, n in enumerate(names):
                    canon = n if n in _CANONICAL else ALIASES.get(n)
                    if i not in mapped and canon and canon not in taken and \
                            (n in _CANONICAL or canon not in names):
                        mapped[i] = canon
                        taken.add(canon)
            else:
                mapped = dict(enumerate(TOOLKIT_COLUMNS[:len(names)]))
                positional = True
        fields = sorted(mapped.items())
        extra = [(i, shown[i]) for i in range(len(header)) if i not in mapped]
        return fields, extra, positional

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """Stream the rows, each as its canonical fields plus the other columns."""
        platform = _platform(self, inp.path)
        try:
            lines = text_lines(inp)
            head = inp.stream.peek(65536)[:65536]  # type: ignore[attr-defined]
        except DAMAGED_INPUT as exc:
            yield Bad(f"the compressed data is damaged ({exc})", None, 0, "")
            return
        delimiter = self._delimiter or _guess_delimiter(
            head.decode(lines.encoding, errors="replace").lstrip("\ufeff"))
        layout = None
        width = 0
        relative = False
        for item in csv_rows(lines, delimiter):
            if isinstance(item, Bad):
                yield item
                continue
            line, row = item
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if layout is None:
                try:
                    layout = self._layout(row)
                except SourceError as exc:
                    # The header lacks a mapped column: this file is not the table the
                    # mapping describes (a README in a folder read with --format csv).
                    yield Bad(exc.reason, line, None, excerpt(delimiter.join(row)))
                    return
                width = len(row)
                relative = self._relative(row, layout[2])
                continue
            fields, extra_cols, _ = layout
            f = {canon: row[i] for i, canon in fields if i < len(row) and row[i] != ""}
            extra = {name: row[i] for i, name in extra_cols if i < len(row) and row[i] != ""}
            if len(row) > width:
                extra["_overflow"] = row[width:]
            raw = {"platform": platform, "fields": f, "extra": extra}
            if relative:
                raw["relative"] = True
            yield Raw(raw, line)

    def map_record(self, raw: dict[str, Any]) -> Records:
        """Map one row (see :func:`map_fields`)."""
        try:
            platform, fields, extra = raw["platform"], raw["fields"], raw.get("extra")
        except (KeyError, TypeError):
            raise SourceError("record is not a table row") from None
        return map_fields(platform, fields, extra)


# -- JSON lines ------------------------------------------------------------------------


class JsonlReader(Reader):
    """JSON lines whose objects carry the canonical fields (or are mapped to them).

    See the module documentation for the canonical fields.

    Parameters
    ----------
    **options : str
        ``platform``, ``map`` (canonical=dotted.path pairs).

    Examples
    --------
    >>> r = JsonlReader(map="user_id=user.id,message=text")
    >>> item = {"message_id": 5, "user": {"id": 9, "bio": "x"}, "text": "hey", "mood": "ok"}
    >>> out = r.map_record({"platform": "demo", "item": item})
    >>> m = out.messages[0]
    >>> m.id, m.actor_id, m.text, m.extra
    ('demo:5', 'demo:9', 'hey', {'user': {'id': 9, 'bio': 'x'}, 'mood': 'ok'})
    """

    id = "jsonl"
    platform = "jsonl"
    title = "Generic JSON lines of messages with canonical field names (or mapped by dotted paths)"
    options_help = {
        "platform": "id prefix (default: the name of the folder holding the file, slugged)",
        "map": "canonical=path pairs, comma-separated; paths may be dotted, e.g. "
               "'user_id=user.id,message=text'",
    }

    def __init__(self, **options: str) -> None:
        super().__init__(**options)
        pairs = _parse_pairs(options["map"]) if options.get("map") else []
        self._paths = {canon: tuple(src.split(".")) for canon, src in pairs}
        #: top-level keys read by a mapping: they do not go to extra.
        self._used = {path[0] for path in self._paths.values() if len(path) == 1}

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """JSON lines of objects with at least three canonical keys (low priority)."""
        text = sample.stripped
        if not text.startswith("{"):
            return 0.0
        try:
            first = orjson.loads(text.split("\n", 1)[0])
        except orjson.JSONDecodeError:
            return 0.0
        if not isinstance(first, dict):
            return 0.0
        n = sum(1 for k in first if k in _DISTINCTIVE)
        if n >= 3:
            return 0.6 if "message_id" in first else 0.55
        return 0.0

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """One record per line; broken lines are quarantined with their line number."""
        platform = _platform(self, inp.path)
        items = json_lines(inp)
        last = 0
        while True:
            try:
                item = next(items)
            except StopIteration:
                return
            except SourceError as exc:
                # Damaged compressed data: the lines before it are kept.
                yield Bad(exc.reason, last + 1, None, "")
                return
            last = item.line or last
            if isinstance(item, Raw):
                item.value = {"platform": platform, "item": item.value}
            yield item

    def map_record(self, raw: dict[str, Any]) -> Records:
        """Map one object: canonical keys (or mapped paths), the rest to ``extra``."""
        try:
            platform, item = raw["platform"], raw["item"]
        except (KeyError, TypeError):
            raise SourceError("record is not a JSON-lines item") from None
        if not isinstance(item, dict):
            raise SourceError(f"line is a JSON {type(item).__name__}, expected an object")
        fields: dict[str, Any] = {}
        paths = self._paths
        for canon in CANONICAL:
            path = paths.get(canon)
            if path is None:
                v = item.get(canon)
            else:
                v = item
                for key in path:
                    v = v.get(key) if isinstance(v, dict) else None
            if v is not None and v != "":
                fields[canon] = v
        used = self._used
        extra = {k: v for k, v in item.items()
                 if k not in used and k not in _CANONICAL and v is not None and v != ""}
        if "message" in fields and not isinstance(fields["message"], str):
            raise SourceError(f"field 'message' is {_show(fields['message'])}, expected text")
        return map_fields(platform, fields, extra)
