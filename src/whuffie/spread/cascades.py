"""Cascades rebuilt from the store: who passed what on to whom, and the shape of each tree.

A cascade is a tree of messages. A message's **parent** is the first non-null of
``reshare_of``, ``quote_of`` and ``reply_to`` (a reshare or a quote passes the
parent's content on; a reply answers it; a message holding two of them is
almost always a quote-reply or a reshare of a reply, and the content it passes on
is what makes it part of word of mouth). Email threads are ``reply_to`` chains
(the mbox reader sets them), Twitter15 trees are ``reshare_of`` links. **Link chains**: a
message with none of the three whose hyperlinks point at the page of an earlier message of the
store (its ``messages.url``; pages compared by their normalised addresses, ``links.normalized_url``:
no scheme, ``www.``, tracking parameters, fragment or trailing slash, ``youtu.be`` as
``youtube.com``..., see :mod:`whuffie.urls`) takes the earliest such message as its parent: a blog
post linking to another post passes it on.

Roots
-----
Following parents up ends at a **root**: a message without a parent, or a
parent that is a *stub* (known by id and author only, e.g. the replied-to toot of
a Mastodon context export) or not in the store at all. A stub or absent parent
still **anchors** the cascade: two replies to the same missing post belong to
one conversation, and their depth counts from it. Such a root has unknown content
and time; an absent one also has no author (``actor_id`` NULL), a stub keeps its
author, who counts as a participant. A root with no real (non-stub) message in
its tree is not a cascade (a stub no one replied to).

Each message has one parent, so it belongs to exactly one tree. When a data set
stores one message in several cascades (Twitter15: 587 real tweets occur in
several tree files, stored once), the message and the subtree under it belong to
the cascade of the parent the store kept (the first file read).

Cycles in bad data (a message that is its own ancestor) cannot be followed to a
root: each cycle is cut at its earliest message (by time, then id), which becomes
a root; the cut messages are listed in :attr:`CascadeSet.cycles`.

Measures
--------
``size``
    distinct participants (distinct ``actor_id``; an absent root has none).
``messages``
    real (non-stub) messages of the tree.
``depth``, ``breadth``
    the largest depth (root 0) and the most nodes at one depth.
``virality``
    structural virality (Goel, Anderson, Hofman & Watts, *Management Science*
    2016): the mean shortest-path distance over all pairs of nodes of the tree
    (0 for a single node). Computed for all trees at once with the tree form of
    the Wiener index, ``W = sum over edges of s * (n - s)`` (``s`` the size of
    the subtree under the edge, ``n`` the tree's nodes), ``virality = 2W / (n
    (n - 1))``: one vectorised pass over the nodes, where a graph library would
    need one all-pairs computation per cascade (igraph's ``average_path_length``
    gives the same value; the tests check it). Nodes are messages, the stub or
    absent root included.
``time_to_half_seconds``
    when the participant who brings the cascade to half its final size
    (``ceil(size / 2)``-th in order of first message) first took part, counted
    from ``started``. Participants whose messages have no time come last; when
    that participant has no time, NULL.
``started``
    the root's ``created_at``; for a stub or absent root (no time) the earliest
    time in the cascade, so delays of such cascades count from the first known
    message and the root's delay is 0 by definition.
``valence``
    the root's sentiment in the ``voice_messages`` table given (NULL without one,
    or for a stub root).
``label``
    the root message's own label in the source (Twitter15: ``true``, ``false``,
    ``non-rumor``, ``unverified``).

The parent links come from an engine (:meth:`~whuffie.engines.base.Engine.cascade_links`); the
rest is computed here, on arrays and Arrow tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from whuffie import arrowsql
from whuffie.errors import WhuffieError

#: Pointer-jumping rounds: depth doubles each round, so 64 reaches any finite tree.
MAX_ROUNDS = 64

NODE_COLUMNS = ("cascade", "message_id", "actor_id", "parent_id", "depth", "created_at", "delay_seconds",
                "stub", "efluential")
SUMMARY_COLUMNS = ("cascade", "root", "size", "messages", "depth", "breadth", "virality",
                   "time_to_half_seconds", "valence", "label", "platform", "started")


@dataclass
class CascadeSet:
    """Cascades and their measures (see the module documentation for the definitions).

    Attributes
    ----------
    nodes : pyarrow.Table
        One row per message of a cascade (:data:`NODE_COLUMNS`): ``cascade`` (root
        message id), ``message_id``, ``actor_id``, ``parent_id`` (NULL for the root),
        ``depth`` (root 0), ``created_at``, ``delay_seconds`` (since ``started``),
        ``stub`` (the root is a stub or absent from the store) and ``efluential``
        (the author is among the e-fluentials given).
    summary : pyarrow.Table
        One row per cascade (:data:`SUMMARY_COLUMNS`), largest first.
    cycles : list of str
        Messages at which a cycle of parents was cut (they became roots).
    """

    nodes: pa.Table
    summary: pa.Table
    cycles: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.summary.num_rows

    def select(self, cascade_ids: Iterable[str]) -> CascadeSet:
        """The cascades whose root message id is in ``cascade_ids``.

        Examples
        --------
        >>> cs = CascadeSet(pa.table({"cascade": ["a", "a", "b"]}), pa.table({"cascade": ["a", "b"]}))
        >>> len(cs.select(["b"])), cs.select(["b"]).nodes.num_rows
        (1, 1)
        """
        keep = pa.array(sorted(set(cascade_ids)), pa.string())
        return CascadeSet(self.nodes.filter(pc.is_in(self.nodes["cascade"], keep)),
                          self.summary.filter(pc.is_in(self.summary["cascade"], keep)), list(self.cycles))


def cascades(
    links: pa.Table,
    *,
    voice: pa.Table | None = None,
    efluentials: pa.Table | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    min_size: int = 1,
) -> CascadeSet:
    """Rebuild every cascade from the parent links of the messages and measure it.

    Parameters
    ----------
    links : pyarrow.Table
        Every message with its parent: ``i``, ``parent``, ``message_id``, ``actor_id``,
        ``platform``, ``created_at``, ``is_stub``, ``label``, as
        :meth:`~whuffie.engines.base.Engine.cascade_links` gives them.
    voice : pyarrow.Table, optional
        ``message_id`` and ``sentiment`` (a ``voice_messages`` result), for the valence.
    efluentials : pyarrow.Table, optional
        ``actor_id`` of the e-fluentials (an ``efluentials`` result), for the ``efluential`` flag.
    since, until : datetime, optional
        Only cascades that started in ``[since, until)`` (naive UTC).
    min_size : int
        Only cascades with at least this many participants (1 keeps single messages).

    Returns
    -------
    CascadeSet

    Examples
    --------
    >>> import whuffie
    >>> from datetime import datetime as dt
    >>> from whuffie.model import Message, Records
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(messages=[
    ...         Message("x:1", "x", "x:ann", dt(2024, 1, 1, 10, 0)),
    ...         Message("x:2", "x", "x:bob", dt(2024, 1, 1, 10, 1), kind="reply", reply_to="x:1"),
    ...         Message("x:3", "x", "x:cat", dt(2024, 1, 1, 10, 5), kind="reply", reply_to="x:2"),
    ...         Message("x:4", "x", "x:dan", dt(2024, 1, 1, 11, 0))]))
    ...     links = store.engine.cascade_links()
    >>> cs, big = cascades(links), cascades(links, min_size=2)
    >>> cs.summary.select(["cascade", "size", "depth", "virality", "time_to_half_seconds"]).to_pylist()[0]
    {'cascade': 'x:1', 'size': 3, 'depth': 2, 'virality': 1.3333333333333333, 'time_to_half_seconds': 60.0}
    >>> len(cs), len(big)
    (2, 1)
    """
    table = links
    parent = table["parent"].to_numpy().astype(np.int64)
    created = table["created_at"].cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
    root, depth, cut = _roots(parent, created)
    parent[cut] = -1  # the cut messages are roots now
    stub = table["is_stub"].to_numpy(zero_copy_only=False)
    real = np.bincount(root, weights=~stub, minlength=len(parent)) if len(parent) else np.zeros(0)
    keep = real[root] > 0
    ids = table["message_id"]
    parent_ids = pc.take(ids, pa.array(np.where(parent < 0, 0, parent))) if len(parent) else ids
    parent_ids = pc.if_else(pa.array(parent < 0), pa.scalar(None, pa.string()), parent_ids)
    virality = _virality(root, parent, depth)
    mask = pa.array(keep)
    raw = pa.table({
        "cascade": pc.take(ids, pa.array(root)).filter(mask),
        "message_id": ids.filter(mask),
        "actor_id": table["actor_id"].filter(mask),
        "parent_id": parent_ids.filter(mask),
        "depth": pa.array(depth[keep], pa.int32()),
        "created_at": table["created_at"].filter(mask),
        "stub": table["is_stub"].filter(mask),
        "is_root": pa.array((parent < 0)[keep]),
        "platform": table["platform"].filter(mask),
        "virality": pa.array(virality[keep]),
        "label": table["label"].filter(mask),
    })
    return _measure(raw, [str(ids[int(i)]) for i in cut], since, until, min_size, voice, efluentials)


def _roots(parent: np.ndarray, created: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Root and depth of every node by pointer jumping; cycles cut at their earliest node.

    Each round replaces a node's ancestor by its ancestor's ancestor and adds up the
    distances, so ``log2(depth)`` rounds of array operations replace a walk per message.

    Examples
    --------
    >>> p = np.array([-1, 0, 1, 3, 2])  # node 3 is its own parent
    >>> r, d, cut = _roots(p, np.array(["2024-01-01"] * 5, dtype="datetime64[us]"))
    >>> r.tolist(), d.tolist(), cut
    ([0, 0, 0, 3, 0], [0, 1, 2, 0, 3], [3])
    """
    parent = parent.copy()
    cut: list[int] = []
    idx = np.arange(len(parent))
    for _attempt in range(2):
        anc = np.where(parent < 0, idx, parent)
        dist = (parent >= 0).astype(np.int64)
        for _round in range(MAX_ROUNDS):
            if not len(anc) or (parent[anc] < 0).all():
                break
            dist = dist + dist[anc]
            anc = anc[anc]
        bad = np.flatnonzero(parent[anc] >= 0) if len(anc) else anc
        if not len(bad):
            return anc, dist, cut
        # Nodes on or under a cycle: the cycles are the strong components (or self-loops)
        # of the parent links among them.
        local = np.full(len(parent), -1)
        local[bad] = np.arange(len(bad))
        tgt = local[parent[bad]]
        ok = tgt >= 0
        graph = coo_matrix((np.ones(ok.sum()), (np.arange(len(bad))[ok], tgt[ok])), shape=(len(bad),) * 2)
        _, comp = connected_components(graph, directed=True, connection="strong")
        sizes = np.bincount(comp)
        on_cycle = (sizes[comp] > 1) | (parent[bad] == bad)
        nodes = bad[on_cycle]
        # The earliest message of each cycle (no time sorts last; ties by id order).
        t = created[nodes].astype("datetime64[us]").astype(np.int64)
        t = np.where(np.isnat(created[nodes]), np.iinfo(np.int64).max, t)
        order = np.lexsort((nodes, t, comp[on_cycle]))
        first = np.unique(comp[on_cycle][order], return_index=True)[1]
        heads = nodes[order][first]
        parent[heads] = -1
        cut.extend(int(h) for h in heads)
    raise WhuffieError("cascades: parent links still do not reach a root after cutting cycles; "
                       "please report this store's data")


def _virality(root: np.ndarray, parent: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Structural virality of each node's tree, per node (the tree form of the Wiener index)."""
    n = len(parent)
    if not n:
        return np.zeros(0)
    sub = np.ones(n, dtype=np.float64)
    order = np.argsort(-depth, kind="stable")
    levels = np.bincount(depth)[::-1]
    start = 0
    # Deepest level first: a level's subtree sizes are final when it is added to its parents.
    for count in levels[:-1]:
        nodes = order[start:start + count]
        sub += np.bincount(parent[nodes], weights=sub[nodes], minlength=n)
        start += count
    size = np.bincount(root, minlength=n).astype(np.float64)
    edge = parent >= 0
    wiener = np.bincount(root[edge], weights=sub[edge] * (size[root[edge]] - sub[edge]), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        vir = np.where(size > 1, 2 * wiener / (size * (size - 1)), 0.0)
    return vir[root]


def _measure(raw: pa.Table, cycles: list[str], since, until, min_size: int, voice: pa.Table | None,
             efluentials: pa.Table | None) -> CascadeSet:
    """Delays, participants, time to half, valence, label, e-fluential authors."""
    empty = pa.table({"message_id": pa.array([], pa.string()), "sentiment": pa.array([], pa.string())})
    voice = voice.select(["message_id", "sentiment"]) if voice is not None else empty
    efl = (efluentials.select(["actor_id"]) if efluentials is not None
           else pa.table({"actor_id": pa.array([], pa.string())}))
    nodes = arrowsql.query("""
        WITH start AS (
            SELECT cascade,
                   coalesce(max(created_at) FILTER (WHERE is_root), min(created_at)) AS started
              FROM raw GROUP BY cascade
        )
        SELECT r.cascade, r.message_id, r.actor_id, r.parent_id, r.depth, r.created_at,
               CASE WHEN r.is_root THEN 0.0
                    ELSE epoch(r.created_at) - epoch(s.started) END AS delay_seconds,
               r.stub AND r.is_root AS stub,
               r.actor_id IN (SELECT actor_id FROM efl) AS efluential,
               s.started
          FROM raw r JOIN start s USING (cascade)
         ORDER BY r.cascade, r.depth, r.created_at NULLS LAST, r.message_id
    """, raw=raw, efl=efl)
    summary = arrowsql.query("""
        WITH first AS (
            SELECT cascade, actor_id, min(delay_seconds) AS t FROM nodes
             WHERE actor_id IS NOT NULL GROUP BY ALL
        ),
        ranked AS (
            SELECT cascade, t, row_number() OVER (PARTITION BY cascade ORDER BY t NULLS LAST) AS k,
                   count(*) OVER (PARTITION BY cascade) AS size
              FROM first
        ),
        half AS (SELECT cascade, t AS time_to_half_seconds FROM ranked WHERE k = ceil(size / 2)),
        levels AS (SELECT cascade, depth, count(*) AS n FROM nodes GROUP BY ALL),
        shape AS (SELECT cascade, max(depth) AS depth, max(n) AS breadth FROM levels GROUP BY ALL),
        agg AS (
            SELECT cascade, count(DISTINCT actor_id) AS size,
                   count(*) FILTER (WHERE NOT stub) AS messages, any_value(started) AS started
              FROM nodes GROUP BY cascade
        )
        SELECT a.cascade, r.actor_id AS root, a.size, a.messages, s.depth, s.breadth, r.virality,
               h.time_to_half_seconds, v.sentiment AS valence, r.label, r.platform, a.started
          FROM agg a
          JOIN raw r ON r.message_id = a.cascade
          JOIN shape s ON s.cascade = a.cascade
          LEFT JOIN half h ON h.cascade = a.cascade
          LEFT JOIN voice v ON v.message_id = a.cascade AND NOT r.stub
         WHERE a.size >= ? AND (? IS NULL OR a.started >= ?) AND (? IS NULL OR a.started < ?)
         ORDER BY a.size DESC, a.messages DESC, a.cascade
    """, [min_size, since, since, until, until], nodes=nodes, raw=raw, voice=voice)
    summary = summary.cast(pa.schema([
        ("cascade", pa.string()), ("root", pa.string()), ("size", pa.int64()), ("messages", pa.int64()),
        ("depth", pa.int32()), ("breadth", pa.int64()), ("virality", pa.float64()),
        ("time_to_half_seconds", pa.float64()), ("valence", pa.string()), ("label", pa.string()),
        ("platform", pa.string()), ("started", pa.timestamp("us")),
    ]))
    nodes = nodes.select(list(NODE_COLUMNS))
    nodes = nodes.filter(pc.is_in(nodes["cascade"], summary["cascade"]))
    return CascadeSet(nodes, summary, cycles)


def offspring(cs: CascadeSet) -> pa.Table:
    """Children of every node (leaves 0), with its cascade, depth and author.

    Examples
    --------
    >>> cs = CascadeSet(pa.table({"cascade": ["a", "a", "a"], "message_id": ["a", "b", "c"],
    ...     "parent_id": [None, "a", "a"], "depth": [0, 1, 1]}), pa.table({"cascade": ["a"]}))
    >>> offspring(cs).column("children").to_pylist()
    [2, 0, 0]
    """
    return arrowsql.query("""
        WITH c AS (SELECT parent_id, count(*) AS children FROM nodes WHERE parent_id IS NOT NULL GROUP BY 1)
        SELECT n.*, coalesce(c.children, 0) AS children
          FROM nodes n LEFT JOIN c ON c.parent_id = n.message_id
         ORDER BY n.cascade, n.depth, n.message_id
    """, nodes=cs.nodes)


