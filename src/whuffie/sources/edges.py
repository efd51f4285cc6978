"""Network-only data: edge lists, signed / weighted CSV, node tables, GML and GraphML.

What it reads
-------------
* **Edge lists** (SNAP style): one edge per line, fields separated by white
  space, tabs, commas or semicolons; ``#`` and ``%`` comment lines. Two to four
  columns: ``source target [weight|rating|time] [time]``. A header line is
  recognised by its names (``source``/``from``/``u``, ``target``/``to``/``v``,
  ``weight``, ``rating``/``sign``, ``time``/``timestamp``).
* **Signed ratings** (Bitcoin OTC ``SOURCE,TARGET,RATING,TIME``): when the
  value column holds negative numbers (or is named ``rating`` / ``sign``), rows
  become :class:`~whuffie.model.Rating` records (``vote``/``rating``
  interactions with their value) instead of ties.
* **Node tables**: a header whose first column is ``node`` / ``id`` /
  ``actor`` and that names no target (``node<TAB>club``): each row describes an
  actor, the other columns kept in ``actors.extra`` (ground-truth groups, say).
* **GML and GraphML** (read with python-igraph): nodes become actors with
  their attributes in ``extra`` (``label`` also becomes the handle), edges
  become ties; an undirected graph gives undirected ties.

Identifiers
-----------
Edge lists carry no platform, so ids are ``<platform>:<node id>`` where the
platform is the ``platform`` option or, by default, the name of the folder the
file is in (``higgs_reply_mention/higgs-reply_network.edgelist`` ->
``higgs-reply-mention``): files of one data set share one id space. With
``-o id=label``, GML / GraphML nodes are keyed by their label instead of their id.

Tie kind
--------
The ``kind`` option, or a word in the file name: ``reply``, ``mention``,
``retweet``/``reshare``, ``quote``, ``link``/``hyperlink``/``blog``, ``email``;
otherwise ``tie``.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whuffie.errors import SourceError
from whuffie.model import Actor, Rating, Records, Tie
from whuffie.sources.base import Bad, Raw, Reader, Sample
from whuffie.sources.io import Input, excerpt, text_lines
from whuffie.sources.times import parse_time

_SOURCE_NAMES = {"source", "src", "from", "u", "fromnodeid", "from_node_id", "node1", "source_id",
                 "sourceid", "follower", "rater", "user_a", "usera", "head"}
_TARGET_NAMES = {"target", "tgt", "dst", "to", "v", "tonodeid", "to_node_id", "node2", "target_id",
                 "targetid", "followee", "ratee", "user_b", "userb", "tail"}
_WEIGHT_NAMES = {"weight", "w", "count", "n", "weight_"}
_RATING_NAMES = {"rating", "sign", "value", "score", "trust"}
_TIME_NAMES = {"time", "timestamp", "ts", "date", "datetime", "created_at", "unixts", "epoch"}
_NODE_NAMES = {"node", "id", "actor", "user", "vertex", "node_id", "nodeid", "name"}
_KIND_WORDS = (
    ("retweet", "reshare"), ("reshare", "reshare"), ("repost", "reshare"), ("reply", "reply"),
    ("mention", "mention"), ("quote", "quote"), ("hyperlink", "link"), ("link", "link"),
    ("blog", "link"), ("email", "email"),
)
_SPLIT = re.compile(r"[\t,; ]+")
_ID = re.compile(r"^[^\s,;\"'#%]{1,200}$")
_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def slug(text: str) -> str:
    """A platform prefix made from a folder or file name.

    Examples
    --------
    >>> slug("higgs_reply_mention")
    'higgs-reply-mention'
    >>> slug("Bitcoin OTC!")
    'bitcoin-otc'
    """
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "net"


def kind_from_name(name: str) -> str:
    """Guess the tie kind from a file name.

    Examples
    --------
    >>> kind_from_name("higgs-mention_network.edgelist")
    'mention'
    >>> kind_from_name("soc-Slashdot0902.txt")
    'tie'
    """
    low = name.lower()
    for word, kind in _KIND_WORDS:
        if word in low:
            return kind
    return "tie"


def _fields(line: str) -> list[str]:
    return [f for f in _SPLIT.split(line.strip()) if f]


def _is_comment(line: str) -> bool:
    s = line.lstrip()
    return not s or s[0] in "#%"


class EdgesReader(Reader):
    """Edge lists, signed ratings, node tables, GML and GraphML."""

    id = "edges"
    platform = "net"
    title = "Network-only data: SNAP edge lists, signed/weighted CSV, node tables, GML, GraphML"
    options_help = {
        "platform": "id prefix for the nodes (default: the folder's name)",
        "kind": "interaction kind of the ties (default: from the file name, else 'tie')",
        "directed": "'true' or 'false' for edge lists (default true; GML/GraphML say it)",
        "values": "'weight' or 'rating': what a third numeric column means "
                  "(default: rating when negative values occur)",
        "id": "'id' or 'label': which GML/GraphML node attribute keys the actors (default id)",
    }

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        text = sample.stripped
        if not text:
            return 0.0
        if text.startswith("graph") and re.match(r"graph\s*\[", text):
            return 0.95
        if re.search(r"^(Creator|creator)\s+\"[^\n]*\n\s*graph\s*\[", text):
            return 0.95
        if "<graphml" in text[:2000]:
            return 0.95
        lines = [ln for ln in text.splitlines()[:200] if not _is_comment(ln)]
        if lines and not text.endswith("\n") and len(sample.head) >= 65536:
            lines = lines[:-1]  # the head may cut the last line
        if not lines:
            return 0.0
        header = _header(_fields(lines[0]))
        body = lines[1:] if header else lines
        if header and header["mode"] == "nodes":
            return 0.7 if all(len(ln.split("\t")) >= 2 for ln in body[:50]) else 0.0
        if not body:
            return 0.6 if header else 0.0
        rows = [_fields(ln) for ln in body]
        if len(rows) < 3:
            return 0.0  # "hello world" is not a network
        good = sum(1 for r in rows if _looks_like_edge(r))
        # Both ends of an edge are the same kind of id: "12 57" or "a.com b.org", not
        # "1234 support" (a label file).
        same = sum(1 for r in rows if len(r) >= 2 and bool(_NUM.match(r[0])) == bool(_NUM.match(r[1])))
        n = len(rows)
        return 0.8 if good / n >= 0.95 and same / n >= 0.95 else 0.0

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        head = inp.stream.peek(2048)[:2048] if hasattr(inp.stream, "peek") else b""
        text = head.decode("utf-8", "replace").lstrip("\ufeff").lstrip()
        if text.startswith(("graph", "Creator", "creator")) or "<graphml" in text:
            yield from self._read_graph(inp, "graphml" if "<graphml" in text else "gml")
        else:
            yield from self._read_table(inp)

    # -- text tables ---------------------------------------------------------------------

    def _settings(self, path: Path, whole_graph: bool = False) -> dict[str, Any]:
        # Edge lists of one data set share a folder (and an id space); a GML or
        # GraphML file is a data set of its own.
        default = slug(Path(path.name).stem if whole_graph else path.resolve().parent.name)
        return {
            "platform": self.options.get("platform") or default,
            "kind": self.options.get("kind") or kind_from_name(path.name),
            "directed": self.options.get("directed", "true").lower() not in ("false", "0", "no"),
        }

    def _read_table(self, inp: Input) -> Iterator[Raw | Bad]:
        base = self._settings(inp.path)
        # SNAP names its signed networks soc-sign-*; a rating file may open with positives only.
        signed_name = bool(re.search(r"sign|rating|trust", inp.name.lower()))
        lines = text_lines(inp)
        layout: dict[str, Any] | None = None
        pending: list[tuple[int, int | None, list[str], str]] = []
        start = None  # byte offsets are not known in decoded text
        for i, line in enumerate(lines, 1):
            n = lines.line_of(i)
            if _is_comment(line):
                continue
            length = lines.cut(i, i)
            if length is not None:
                yield Bad(lines.too_long(n, length), n, None, excerpt(line, 200))
                continue
            fields = _fields(line) if layout is None or layout["mode"] != "nodes" else \
                [f.strip() for f in line.rstrip("\r\n").split(layout["sep"])]
            if layout is None:
                header = _header(fields)
                if header is not None:
                    layout = header
                    if header["mode"] == "nodes":
                        layout["sep"] = "\t" if "\t" in line else ","
                        layout["names"] = [f.strip() for f in line.rstrip("\r\n").split(layout["sep"])]
                    continue
                # No header: decide the meaning of extra columns from the first rows.
                pending.append((n, start, fields, line))
                if len(pending) < 200:
                    continue
                layout = self._guess_layout([p[2] for p in pending], signed_name)
                for item in pending:
                    yield self._row(item, layout, base)
                pending = []
                continue
            yield self._row((n, start, fields, line), layout, base)
        if pending:
            layout = self._guess_layout([p[2] for p in pending], signed_name)
            for item in pending:
                yield self._row(item, layout, base)

    def _guess_layout(self, rows: list[list[str]], signed_name: bool) -> dict[str, Any]:
        width = max((len(r) for r in rows), default=2)
        cols = ["source", "target"]
        third = [r[2] for r in rows if len(r) > 2 and _NUM.match(r[2])]
        if width >= 4:
            cols += ["value", "time"]
        elif width == 3:
            looks_time = third and all(
                float(v) > 1e8 and float(v).is_integer() for v in third
            )
            cols += ["time" if looks_time else "value"]
        values = self.options.get("values")
        if values is None:
            signed = any(r[2].startswith("-") for r in rows if len(r) > 2 and "value" in cols)
            values = "rating" if signed or signed_name else "weight"
        return {"mode": "edges", "columns": cols, "values": values}

    def _row(self, item, layout, base) -> Raw | Bad:
        n, offset, fields, line = item
        if layout["mode"] == "nodes":
            names = layout["names"]
            if not fields or not fields[0]:
                return Bad("node row has no node id", n, offset, excerpt(line))
            attrs = {names[i] if i < len(names) else f"col{i}": v
                     for i, v in enumerate(fields[1:], 1) if v != ""}
            return Raw({"node": fields[0], "attrs": attrs, **base}, n, offset)
        cols = layout["columns"]
        if len(fields) < 2:
            return Bad(f"expected at least 2 fields (source target), found {len(fields)}",
                       n, offset, excerpt(line))
        row: dict[str, Any] = {"values": layout.get("values", "weight"), **base}
        for name, value in zip(cols, fields, strict=False):
            row[name] = value
        return Raw(row, n, offset)

    # -- GML / GraphML -------------------------------------------------------------------

    def _read_graph(self, inp: Input, kind: str) -> Iterator[Raw | Bad]:
        import igraph

        base = self._settings(inp.path, whole_graph=True)
        # igraph parses from a path; a compressed input is decompressed to a temporary file.
        with tempfile.NamedTemporaryFile(suffix="." + kind) as tmp:
            strings = _GmlStrings() if kind == "gml" else None
            while chunk := inp.stream.read(1 << 20):
                tmp.write(chunk)
                if strings is not None and strings.feed(chunk):
                    yield Bad(f"a GML string is longer than the limit of {MAX_GML_STRING >> 20} MiB "
                              f"(before byte {strings.at:,}); igraph reads one in time growing with "
                              "the square of its length, so the graph is not read", None, 0, "")
                    return
            tmp.flush()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    g = (igraph.Graph.Read_GML(tmp.name) if kind == "gml"
                         else igraph.Graph.Read_GraphML(tmp.name))
            except Exception as exc:  # noqa: BLE001 - igraph raises its own InternalError for bad syntax
                yield Bad(f"cannot parse {kind.upper()}: {exc}", None, 0, "")
                return
        key = self.options.get("id", "id")
        names = g.vs.attributes()
        node_ids = []
        for v in g.vs:
            attrs = v.attributes()
            raw_id = attrs.get(key) if key in names else None
            if raw_id is None:
                raw_id = attrs.get("id", v.index)
            node_ids.append(_node_id(raw_id))
            attrs = {k: _plain(x) for k, x in attrs.items() if x is not None and k != key}
            yield Raw({"node": node_ids[-1], "attrs": attrs, **base}, v.index + 1)
        directed = g.is_directed()
        for e in g.es:
            attrs = e.attributes()
            row = {**base, "source": node_ids[e.source], "target": node_ids[e.target],
                   "directed": directed, "values": "weight"}
            if attrs.get("weight") is not None:
                row["value"] = str(attrs["weight"])
            yield Raw(row, g.vcount() + e.index + 1)

    # -- mapping -------------------------------------------------------------------------

    def map_record(self, raw: dict[str, Any]) -> Records:
        if not isinstance(raw, dict) or "platform" not in raw:
            raise SourceError(f"record is {type(raw).__name__}, expected a parsed edge or node row")
        platform = raw["platform"]
        out = Records()
        if "node" in raw:
            attrs = raw.get("attrs") or {}
            label = attrs.get("label") or attrs.get("name")
            out.profiles.append(Actor(f"{platform}:{raw['node']}", platform,
                                    handle=str(label) if label is not None else None,
                                    extra=attrs or None))
            return out
        src, tgt = raw["source"], raw["target"]
        for name, value in (("source", src), ("target", tgt)):
            if not _ID.match(value):
                raise SourceError(f"field '{name}' is {value!r}, expected a node id")
        when = parse_time(raw.get("time"), "time")
        value = raw.get("value")
        number: float | None = None
        if value is not None:
            if not _NUM.match(value):
                raise SourceError(f"field 'weight' is {value!r}, expected a number")
            number = float(value)
        stamp = f"@{raw['time']}" if raw.get("time") else ""
        if raw["values"] == "rating" and number is not None:
            out.ratings.append(Rating(
                f"{platform}:rating:{src}>{tgt}{stamp}", platform, f"{platform}:{src}",
                f"{platform}:{tgt}", None, "rating", number, when))
            return out
        directed = raw["directed"]
        a, b = (src, tgt) if directed or src <= tgt else (tgt, src)
        arrow = ">" if directed else "-"
        out.ties.append(Tie(
            f"{platform}:{raw['kind']}:{a}{arrow}{b}{stamp}", platform, f"{platform}:{a}",
            f"{platform}:{b}", raw["kind"], 1.0 if number is None else number, when, directed))
        return out


def _header(fields: list[str]) -> dict[str, Any] | None:
    """Recognise a header row; return its layout or ``None``."""
    names = [f.strip().strip('"').lower().lstrip("#").strip() for f in fields]
    if len(names) < 2:
        return None
    if (names[0] in _NODE_NAMES and not any(n in _TARGET_NAMES for n in names)
            and not any(_NUM.match(n) for n in names)):
        return {"mode": "nodes"}
    if names[0] not in _SOURCE_NAMES or names[1] not in _TARGET_NAMES:
        return None
    cols = ["source", "target"]
    values = None
    for n in names[2:]:
        if n in _TIME_NAMES:
            cols.append("time")
        elif n in _RATING_NAMES:
            cols.append("value")
            values = "rating"
        else:
            cols.append("value")
            values = values or "weight"
    return {"mode": "edges", "columns": cols, "values": values or "weight"}


def _looks_like_edge(fields: list[str]) -> bool:
    if not 2 <= len(fields) <= 4:
        return False
    if not (_ID.match(fields[0]) and _ID.match(fields[1])):
        return False
    return all(_NUM.match(f) for f in fields[2:])


def _node_id(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: The longest quoted string of a GML file read (labels are names, a few dozen characters).
MAX_GML_STRING = 1 << 20


class _GmlStrings:
    """Follows the quoted strings of a GML file fed in chunks; tells when one is too long.

    GML strings hold no quote (they escape it as ``&quot;``), so quotes alternate opening and
    closing.

    Examples
    --------
    >>> s = _GmlStrings(limit=5)
    >>> s.feed(b'graph [ label "ab'), s.feed(b'c" ] node [ label "abcdef'), s.at
    (False, True, 42)
    """

    def __init__(self, limit: int = MAX_GML_STRING) -> None:
        self.limit = limit
        self.inside = False
        self.run = 0
        self.at = 0

    def feed(self, chunk: bytes) -> bool:
        """Follow ``chunk``; True when a string is longer than the limit."""
        pos = 0
        while (q := chunk.find(b'"', pos)) >= 0:
            if self.inside:  # a closing quote
                self.run += q - pos
                if self.run > self.limit:
                    break
            self.inside, self.run, pos = not self.inside, 0, q + 1
        else:
            if self.inside:
                self.run += len(chunk) - pos
        self.at += len(chunk)
        return self.run > self.limit
