"""Propagation trees: the Twitter15 / Twitter16 rumour cascades (Ma, Gao & Wong, ACL 2017).

What it reads
-------------
* **Tree files** ``tree/<source tweet id>.txt``: one edge per line,
  ``parent->child``, each node a Python-literal list
  ``['user id', 'tweet id', 'delay in minutes']``:

      ['ROOT', 'ROOT', '0.0']->['39364684', '265953285247209472', '0.0']
      ['39364684', '265953285247209472', '0.0']->['21061006', '265953402234748928', '0.45']

  The ``ROOT`` line names the cascade's root node. Lines are parsed with one
  regular expression (single, double or no quotes around each element), never
  evaluated. A file is one cascade; it is streamed line by line.
* **Labels** ``label.txt`` (``label:source tweet id`` per line; in Twitter15/16
  ``non-rumor``, ``false``, ``true``, ``unverified``): a companion file, looked
  up beside the tree file and then in the folder above it (the published layout
  is ``twitter15/label.txt`` + ``twitter15/tree/``). It is read with the trees,
  not imported on its own; its label goes into the root message's ``extra``.

Identifiers
-----------
Each cascade is named by its file: the *source tweet* (the labelled tweet) is
the file name's id (the root node's tweet id when the file name is not an id).
A user appears at most once in a cascade. Actors are ``twitter:<user id>``
(``-o platform=...`` changes the prefix).

A node's message id is ``twitter:<tweet id>`` when the tweet id is the node's
own. In Twitter15, 91% of the nodes (546,107 of 599,196) carry the *source
tweet's* id, not one of their own: the collection recorded a retweet with the id
of the tweet it retweets. So a node whose tweet id is the source's or the root's
but whose user is not the root's author gets the synthetic id
``twitter:<tweet id>/<user id>`` ("this user's retweet of that tweet"; a user
can retweet a tweet once, so the id is stable and the same in every cascade
file). Every other tweet id is a node's own: in Twitter15 none is shared by two
users, and its Snowflake time matches the node's delay to within 0.02 minutes
(70,025 nodes checked). Such a real tweet that occurs in several cascades (587
do) is one message, stored as first read.

Mapping
-------
=========================  ====================================================
tree file                  Whuffie
=========================  ====================================================
``ROOT`` line's child      ``Message`` kind ``post``; ``extra`` holds
                           ``delay_minutes`` and ``label`` (from ``label.txt``)
any other child            kind ``reshare``, ``reshare_of`` = the parent node's
                           message id, so the ``interactions`` view gives
                           child author -> parent author. Retweets and replies
                           are *not distinguished* in this data (the authors'
                           README says nodes are either); all are reshares
user id                    ``actor_id`` = ``twitter:<user id>``
the file's source tweet    ``thread_id`` = ``twitter:<source tweet id>`` for
                           every node of the file
delay (minutes)            ``extra["delay_minutes"]`` (float, as given) and
                           ``created_at`` = the source tweet's Snowflake time
                           plus the delay
=========================  ====================================================

``created_at``: tweet ids issued since November 2010 (Snowflake ids, above
30,000,000,000) encode their creation time, ``(id >> 22) + 1288834974657``
milliseconds since the Unix epoch (UTC). Delays count from the source tweet, so
a node's time is the source tweet's Snowflake time plus its delay in
milliseconds (``round(delay * 60000)``); when the file name is not a tweet id,
the root's Snowflake time minus the root's delay. For another ``platform``,
or ids that are not Snowflake ids, ``created_at`` is empty and only the delay is
kept.

Quirks (measured on Twitter15)
------------------------------
* **Not trees but DAGs**: 13,815 child nodes have more than one parent line
  (24,044 lines in excess, many of them the same line repeated; 5,858 nodes
  have two or more different parents). The first parent line in the file is
  kept; each later line for the same child maps to the same message id and
  counts as a *duplicate* in the import report.
* **Self-loops**: 1,218 lines have the same node on both sides; they are
  quarantined ("the node is its own parent").
* **Non-monotone times**: 7,017 edges have a child delay smaller than its
  parent's (all but 11 of them are later parent lines, not kept), and 671 lines
  a negative child delay (a tweet before the source); times are kept as given.
* **The ROOT line is not always first** (17 files; line 159 at the latest): lines
  before it are held in memory until it comes, then read after it, so the root
  is a ``post`` even when a line (a cycle: in 129 files the root also has a
  parent) makes it someone's child. A file without a ROOT line is read with the
  file name as the source tweet, and says so in the quarantine.
* **An earlier root**: in 8 files the root node is not the labelled source
  tweet but an earlier tweet (its delay is negative, e.g. -33.17 minutes);
  the cascade is still named by the file (``thread_id``), and two of those
  files share their root tweet, which then holds the first file's label.
* Nine source tweets also occur as a node of another cascade; one message holds
  both, with the ``thread_id`` and label of whichever file is read first
  (importing ``twitter15/`` reads in file-name order); the store fills in a
  parent from the other file when the first gave none. With the two shared
  roots above, a folder import leaves 7 of the 1,490 labels off.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from whuffie.errors import SourceError
from whuffie.model import Message, Records
from whuffie.sources.base import Bad, Raw, Reader, Sample
from whuffie.sources.io import DAMAGED_INPUT, Input, LongLine, excerpt, too_long

#: The label file looked up beside a tree file and in the folder above it.
LABEL_FILE = "label.txt"
#: Snowflake: milliseconds since the Unix epoch of Twitter's epoch (2010-11-04 01:42:54.657 UTC).
TWITTER_EPOCH_MS = 1288834974657
#: Tweet ids below this were assigned sequentially before Snowflake and carry no time.
SNOWFLAKE_MIN = 30_000_000_000

_EPOCH = datetime(1970, 1, 1)


def _node_pattern(side: str) -> str:
    """``[a, b, c]``: three elements, each in single, double or no quotes."""
    elems = [rf"""\s*(?P<q{side}{i}>['"]?)(?P<{side}{i}>[^'",\[\]\s]*)(?P=q{side}{i})\s*"""
             for i in range(3)]
    return r"\[" + ",".join(elems) + r"\]"


#: One tree line: ``[a, b, c]->[d, e, f]``.
_LINE = re.compile(r"\s*" + _node_pattern("p") + r"\s*->\s*" + _node_pattern("c") + r"\s*")
#: The published form, tried first (2.5 times faster than the general pattern).
_FAST = re.compile(r"\['([^'\s]*)', '([^'\s]*)', '([^'\s]*)'\]->\['([^'\s]*)', '([^'\s]*)', '([^'\s]*)'\]\s*")
_ID = re.compile(r"[^\s/:'\"\[\],]{1,64}")
_LABEL_LINE = re.compile(r"\s*([^:\s][^:]*?)\s*:\s*(\d+)\s*")


def parse_line(text: str) -> tuple[tuple[str, str, str], tuple[str, str, str]] | None:
    """Split one tree line into its parent and child nodes, or ``None``.

    Examples
    --------
    >>> parse_line("['ROOT', 'ROOT', '0.0']->['39364684', '265953285247209472', '0.0']")
    (('ROOT', 'ROOT', '0.0'), ('39364684', '265953285247209472', '0.0'))
    >>> parse_line('[1, 20, 0.5] -> ["2", "21", "1.5"]')
    (('1', '20', '0.5'), ('2', '21', '1.5'))
    >>> parse_line("['1', '2']->['3', '4', '5']") is None
    True
    """
    m = _FAST.fullmatch(text)
    if m is not None:
        g = m.groups()
        return (g[0], g[1], g[2]), (g[3], g[4], g[5])
    m = _LINE.fullmatch(text)
    if m is None:
        return None
    g = m.group
    return (g("p0"), g("p1"), g("p2")), (g("c0"), g("c1"), g("c2"))


def snowflake_ms(tweet_id: str | int) -> int | None:
    """The creation time (ms since the Unix epoch) a Snowflake tweet id encodes, or ``None``.

    Examples
    --------
    >>> snowflake_ms("265953285247209472")
    1352243179033
    >>> _EPOCH + timedelta(milliseconds=snowflake_ms(265953285247209472))
    datetime.datetime(2012, 11, 6, 23, 6, 19, 33000)
    >>> snowflake_ms("29700859247") is None  # a pre-Snowflake (2010) id
    True
    """
    try:
        value = int(tweet_id)
    except (TypeError, ValueError):
        return None
    if value < SNOWFLAKE_MIN or value >= 1 << 63:
        return None
    return (value >> 22) + TWITTER_EPOCH_MS


def read_labels(lines) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """Parse ``label:source_tweet_id`` lines; return the labels and the bad lines.

    Examples
    --------
    >>> read_labels(["non-rumor:12\\n", "false:13", "", "oops"])
    ({'12': 'non-rumor', '13': 'false'}, [(4, 'oops')])
    """
    labels: dict[str, str] = {}
    bad: list[tuple[int, str]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        m = _LABEL_LINE.fullmatch(line.rstrip("\r\n"))
        if m is None:
            bad.append((n, line.rstrip("\r\n")))
        else:
            labels[m.group(2)] = m.group(1)
    return labels, bad


class CascadeTreeReader(Reader):
    """Propagation-tree files (Twitter15 / Twitter16 ``tree/<id>.txt``) with their ``label.txt``."""

    id = "cascade-tree"
    platform = "twitter"
    title = "Propagation trees: Twitter15/16 rumour cascades ('[uid, tweet, delay]->[...]' lines, labels)"
    options_help = {"platform": "id prefix of users and tweets (default 'twitter'; times need 'twitter')"}

    def __init__(self, **options: str) -> None:
        super().__init__(**options)
        self._prefix = self.options.get("platform") or self.platform
        self._label_cache: dict[Path, tuple[tuple[int, int], dict[str, str], list[tuple[int, str]]]] = {}
        self._reported: set[Path] = set()

    @classmethod
    def sniff(cls, sample: Sample) -> float:
        """Recognise ``[a, b, c]->[d, e, f]`` lines.

        Examples
        --------
        >>> CascadeTreeReader.sniff(Sample("t.txt", b"['ROOT', 'ROOT', '0.0']->['1', '2', '0.0']\\n"))
        0.95
        >>> CascadeTreeReader.sniff(Sample("t.txt", b"1 2\\n2 3\\n"))
        0.0
        """
        text = sample.text.lstrip()
        if not text.startswith("["):
            return 0.0
        lines = text.split("\n", 41)[:41]
        if len(lines) > 1 and len(sample.head) >= 65536:
            lines = lines[:-1]  # the head may cut the last line
        lines = [ln for ln in lines if ln.strip()][:40]
        if lines and all(_LINE.fullmatch(ln) for ln in lines):
            return 0.95
        return 0.0

    def companions(self, path: Path) -> list[Path]:
        """The ``label.txt`` read with a tree file (beside it, or in the folder above)."""
        found = self._label_path(Path(path))
        return [found] if found is not None else []

    @staticmethod
    def _label_path(path: Path) -> Path | None:
        for folder in (path.parent, path.parent.parent):
            candidate = folder / LABEL_FILE
            if candidate.is_file() and candidate.resolve() != path.resolve():
                return candidate
        return None

    def _labels(self, path: Path) -> tuple[dict[str, str], list[tuple[int, str]]]:
        """The labels of the label file for ``path`` (cached per file version)."""
        found = self._label_path(path)
        if found is None:
            return {}, []
        key = found.resolve()
        st = os.stat(key)
        version = (st.st_mtime_ns, st.st_size)
        cached = self._label_cache.get(key)
        if cached is None or cached[0] != version:
            with open(key, encoding="utf-8", errors="replace") as fh:
                labels, bad = read_labels(fh)
            cached = (version, labels, bad)
            self._label_cache[key] = cached
        return cached[1], cached[2]

    def read(self, inp: Input) -> Iterator[Raw | Bad]:
        """Yield one raw record per edge line, each with its cascade's root and source.

        The raw record is a dict: ``cascade`` (source tweet id), ``root`` (the
        ROOT line's child node or ``None``), ``parent`` (``None`` for the ROOT
        line), ``child``, and ``label`` on the ROOT line.
        """
        stem = Path(inp.name).stem
        labels, bad_labels = self._labels(inp.path)
        label_path = self._label_path(inp.path)
        if bad_labels and label_path is not None and label_path.resolve() not in self._reported:
            self._reported.add(label_path.resolve())
            for n, text in bad_labels:
                yield Bad(f"{label_path.name} line {n}: expected 'label:source_tweet_id'",
                          None, None, excerpt(text))
        cascade = stem if stem.isascii() and stem.isdigit() else None
        root: tuple[str, str, str] | None = None
        pending: list[tuple[int, int, tuple, tuple]] = []
        try:
            for n, offset, line in inp.lines():
                if isinstance(line, LongLine):
                    yield Bad(too_long(line, n), n, offset, excerpt(line))
                    continue
                text = line.decode("utf-8", "replace")
                if not text.strip():
                    continue
                nodes = parse_line(text)
                if nodes is None:
                    yield Bad("expected ['user id', 'tweet id', 'delay']->['user id', 'tweet id', "
                              "'delay']", n, offset, excerpt(line))
                    continue
                parent, child = nodes
                if parent == child:
                    yield Bad("the node is its own parent (a self-loop of the tree); line skipped",
                              n, offset, excerpt(line))
                    continue
                if root is None:
                    if parent[0] != "ROOT":
                        pending.append((n, offset, parent, child))
                        continue
                    root = child
                    if cascade is None:
                        cascade = child[1]
                    # The ROOT line first: the root is a post even when an earlier line
                    # (a cycle of the reconstruction) gives it a parent.
                    yield self._raw((n, offset, parent, child), cascade, root, labels)
                    for item in pending:
                        yield self._raw(item, cascade, root, labels)
                    pending = []
                    continue
                yield self._raw((n, offset, parent, child), cascade, root, labels)
        except DAMAGED_INPUT as exc:
            yield Bad(f"the compressed data is damaged ({exc}); the lines before it were read",
                      None, None, "")
        if pending:
            yield Bad("no ['ROOT', 'ROOT', '0.0'] line: the file name is taken as the source tweet",
                      None, None, "")
            for item in pending:
                yield self._raw(item, cascade, None, labels)

    @staticmethod
    def _raw(item, cascade, root, labels) -> Raw:
        n, offset, parent, child = item
        value: dict[str, Any] = {"cascade": cascade, "root": root, "parent": parent, "child": child}
        if parent[0] == "ROOT" and cascade is not None and cascade in labels:
            value["label"] = labels[cascade]
        return Raw(value, n, offset)

    def map_record(self, raw: Any) -> Records:
        """Map one edge line to the child node's message.

        Examples
        --------
        >>> r = CascadeTreeReader().map_record({"cascade": "265953285247209472",
        ...     "root": ("39364684", "265953285247209472", "0.0"),
        ...     "parent": ("39364684", "265953285247209472", "0.0"),
        ...     "child": ("55098305", "265953285247209472", "32.02")})
        >>> m = r.messages[0]
        >>> m.id, m.actor_id, m.kind
        ('twitter:265953285247209472/55098305', 'twitter:55098305', 'reshare')
        >>> m.reshare_of, m.thread_id
        ('twitter:265953285247209472', 'twitter:265953285247209472')
        >>> m.created_at, m.extra
        (datetime.datetime(2012, 11, 6, 23, 38, 20, 233000), {'delay_minutes': 32.02})

        Raises
        ------
        SourceError
            When the record is not a parsed tree line, or an id or delay is malformed.
        """
        if not isinstance(raw, dict):
            raise SourceError(f"record is {type(raw).__name__}, expected a parsed tree line")
        child = _node(raw.get("child"), "child")
        parent = raw.get("parent")
        is_root = parent is None or (isinstance(parent, list | tuple) and len(parent) > 0
                                     and parent[0] == "ROOT")
        if not is_root:
            parent = _node(parent, "parent")
            if tuple(parent) == tuple(child):
                raise SourceError("the node is its own parent (a self-loop of the tree)")
        root = raw.get("root")
        if is_root:
            root = child
        elif root is not None:
            root = _node(root, "root")
            # A line giving the root a parent (a cycle of the reconstruction) repeats the
            # root as it is: a post (a duplicate), not a reshare the store would fill in.
            is_root = tuple(root) == tuple(child)
        cascade = raw.get("cascade")
        if cascade is not None and not (isinstance(cascade, str) and _ID.fullmatch(cascade)):
            raise SourceError(f"field 'cascade' is {cascade!r}, expected a source tweet id")
        if cascade is None and root is not None:
            cascade = root[1]
        p = self._prefix
        delay = _delay(child[2])
        extra: dict[str, Any] = {"delay_minutes": delay}
        base = self._base_ms(cascade, root)
        when = None if base is None else _EPOCH + timedelta(milliseconds=base + round(delay * 60000))
        thread = f"{p}:{cascade}" if cascade else None
        if is_root:
            label = raw.get("label")
            if isinstance(label, str) and label:
                extra["label"] = label
            msg = Message(f"{p}:{child[1]}", p, f"{p}:{child[0]}", when, kind="post",
                          thread_id=thread, extra=extra)
        else:
            msg = Message(_message_id(p, child, cascade, root), p, f"{p}:{child[0]}", when,
                          kind="reshare", reshare_of=_message_id(p, parent, cascade, root),
                          thread_id=thread, extra=extra)
        return Records(messages=[msg])

    def _base_ms(self, cascade: str | None, root) -> int | None:
        """Milliseconds since the epoch from which the delays count (see the module doc)."""
        if self._prefix != "twitter":
            return None
        if cascade is not None:
            ms = snowflake_ms(cascade)
            if ms is not None:
                return ms
        if root is not None:
            ms = snowflake_ms(root[1])
            if ms is not None:
                return ms - round(_delay(root[2]) * 60000)
        return None


def _node(value: Any, what: str) -> tuple[str, str, str]:
    if not (isinstance(value, list | tuple) and len(value) == 3 and all(isinstance(v, str) for v in value)):
        raise SourceError(f"field '{what}' is {value!r:.80}, expected ['user id', 'tweet id', 'delay']")
    user, tweet, _ = value
    for name, v in (("user id", user), ("tweet id", tweet)):
        if not _ID.fullmatch(v):
            raise SourceError(f"{what} {name} is {v!r:.80}, expected an id")
    return value[0], value[1], value[2]


def _delay(value: str) -> float:
    try:
        d = float(value)
    except ValueError:
        d = math.nan
    if not math.isfinite(d) or abs(d) > 1e8:
        raise SourceError(f"delay is {value!r:.80}, expected minutes since the source tweet")
    return d


def _message_id(p: str, node: tuple[str, str, str], cascade: str | None, root) -> str:
    """``p:<tweet>`` for a node's own tweet, ``p:<tweet>/<user>`` for one that borrows it."""
    user, tweet, _ = node
    owner = root is not None and root[0] == user and root[1] == tweet
    if not owner and (tweet == cascade or (root is not None and tweet == root[1])):
        return f"{p}:{tweet}/{user}"
    return f"{p}:{tweet}"
