"""What each niche is: its size, its attention, its voices, what it talks about, when it is active.

Every function takes the graph, the niche of every node (from
:func:`~whuffie.niches.leiden.detect_niches`) and plain Arrow tables keyed by
actor id, so the store is read elsewhere (the CLI fetches tags, texts and
message times with SQL) and the analysis stays pure:

* tags: ``(actor_id, tag, n)``, how often each actor used each tag;
* terms: ``(actor_id, term, n)``, made from ``(actor_id, text)`` by
  :func:`term_counts`;
* times: ``(actor_id, created_at[, n])``, one row per message (or per count).

Actors missing from the graph are ignored.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whuffie.graph.build import Graph

#: Words too common to say anything about a niche: English and French function
#: words, web and retweet noise. Terms are lower-cased before the lookup.
_STOPWORDS = """
a about above after again against all also am an and any are aren as at be because been before being
below between both but by can cannot could couldn did didn do does doesn doing don down during each few
for from further get got had hadn has hasn have haven having he her here hers herself him himself his how
i if in into is isn it its itself just let ll me more most much my myself no nor not now of off on once
one only or other ought our ours ourselves out over own re same she should shouldn so some such than that
the their theirs them themselves then there these they this those through to too under until up us very
was wasn we were weren what when where which while who whom why will with won would wouldn you your yours
yourself yourselves ve via rt amp quot nbsp gt lt http https www com org net html
au aux avec ce ces cet cette dans de des du elle elles en est et été être eux il ils je la le les leur
leurs lui ma mais me même mes moi mon ne nos notre nous on ou où par pas pour qu que qui sa se ses son
sur ta te tes toi ton tu un une vos votre vous ça ai as avait avez avons ont sont suis était fait faire
plus tout tous toute toutes très bien aussi comme si sans sous chez entre encore déjà ici là
"""
STOPWORDS = frozenset(_STOPWORDS.split())

#: Web addresses, @mentions, #tags and HTML entities: removed before splitting (tags are counted apart).
_NOISE = r"https?://\S+|www\.\S+|[@#][\p{L}\p{N}_]+|&[a-z]+;"
#: Anything but a letter, a digit or ``_`` separates words (so ``l'été`` gives ``l`` and ``été``).
_SPLIT = r"[^\p{L}\p{N}_]+"


def term_counts(texts: pa.Table, min_length: int = 3, stopwords: frozenset[str] = STOPWORDS) -> pa.Table:
    """Words used by each actor, from their messages' texts.

    A simple, language-agnostic tokeniser (Arrow's RE2 regular expressions,
    vectorised): lower-case, drop web addresses, @mentions, #tags and HTML
    entities, split on anything that is not a letter or digit, drop words
    shorter than ``min_length``, numbers and :data:`STOPWORDS` (English and
    French). No stemming.

    Parameters
    ----------
    texts : pyarrow.Table
        Columns ``actor_id`` and ``text`` (one row per message; nulls allowed).
    min_length : int
        Shortest word kept, in characters.
    stopwords : frozenset of str
        Words to drop.

    Returns
    -------
    pyarrow.Table
        ``(actor_id, term, n)``, one row per actor and word.

    Examples
    --------
    >>> t = pa.table({"actor_id": ["x:a", "x:a", "x:b"], "text": [
    ...     "Love the new #recipe at https://x.co/1", "love it, @bob!", "L'été des crêpes"]})
    >>> sorted(term_counts(t).to_pylist(), key=lambda r: (r["actor_id"], r["term"]))
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'actor_id': 'x:a', 'term': 'love', 'n': 2}, {'actor_id': 'x:a', 'term': 'new', 'n': 1},
     {'actor_id': 'x:b', 'term': 'crêpes', 'n': 1}]
    """
    text = pc.utf8_lower(texts.column("text"))
    text = pc.replace_substring_regex(text, _NOISE, " ")
    words = pc.split_pattern_regex(text, _SPLIT)
    flat = pc.list_flatten(words)
    owner = pc.take(texts.column("actor_id"), pc.list_parent_indices(words))
    keep = pc.and_(
        pc.greater_equal(pc.utf8_length(flat), min_length),
        pc.invert(pc.or_(pc.is_in(flat, value_set=pa.array(sorted(stopwords), pa.string())),
                         pc.match_substring_regex(flat, r"^[\p{N}_]+$"))),
    )
    table = pa.table({"actor_id": pc.filter(owner, keep), "term": pc.filter(flat, keep),
                      "n": pa.array(np.ones(int(pc.sum(keep).as_py() or 0), dtype=np.int64))})
    return table.group_by(["actor_id", "term"], use_threads=False).aggregate([("n", "sum")]).rename_columns(
        ["actor_id", "term", "n"])


def niche_of(graph: Graph, membership: np.ndarray, actors: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """The niche of each actor id in ``actors`` (``-1`` for actors not in the graph).

    Examples
    --------
    >>> g = Graph.from_edges([("x:a", "x:b", 1)])
    >>> niche_of(g, np.array([0, 1]), pa.array(["x:b", "x:z", "x:a"])).tolist()
    [1, -1, 0]
    """
    nodes = pa.array(graph.nodes.tolist(), pa.string())
    idx = pc.fill_null(pc.index_in(actors, value_set=nodes), -1).to_numpy()
    membership = np.asarray(membership, dtype=np.int64)
    return np.where(idx >= 0, membership[np.maximum(idx, 0)], -1)


def _by_niche(graph: Graph, membership: np.ndarray, table: pa.Table, key: str) -> pa.Table:
    """``(niche, key, n, actors)``: counts summed per niche, with the number of actors behind each."""
    niche = niche_of(graph, membership, table.column("actor_id"))
    inside = niche >= 0
    n = (table.column("n") if "n" in table.column_names
         else pa.array(np.ones(table.num_rows, dtype=np.int64)))
    per_actor = pa.table({
        "niche": niche[inside], "actor_id": pc.filter(table.column("actor_id"), inside),
        key: pc.filter(table.column(key), inside), "n": pc.filter(n, inside),
    }).group_by(["niche", "actor_id", key], use_threads=False).aggregate([("n", "sum")])
    return per_actor.group_by(["niche", key], use_threads=False).aggregate(
        [("n_sum", "sum"), ("actor_id", "count")]).rename_columns(["niche", key, "n", "actors"])


def _top_lists(niches: np.ndarray, scores: np.ndarray, names: np.ndarray, k: int, top: int) -> pa.Array:
    """For each niche ``0..k-1``, the ``top`` names with the highest scores (ties by name)."""
    order = np.lexsort((names, -scores, niches)) if len(niches) else np.zeros(0, dtype=np.int64)
    grouped = niches[order]
    starts = np.r_[0, np.flatnonzero(np.diff(grouped)) + 1] if len(order) else np.zeros(0, dtype=np.int64)
    position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    kept = order[position < top]
    offsets = np.r_[0, np.cumsum(np.bincount(niches[kept].astype(np.int64), minlength=k))]
    values = pa.array(np.asarray(names, dtype=object)[kept].tolist(), pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)


def _distinctive_terms(counts: pa.Table, sizes: np.ndarray, top: int) -> pa.Array:
    """Terms over-represented in each niche, most characteristic first.

    The score of term ``t`` in niche ``c`` is its share of the niche's words
    times the log of how much more often the niche uses it than the whole
    corpus (``p_ct log(p_ct / p_t)``: the term's part in the divergence
    between the niche's vocabulary and everyone's). A term needs at least two
    members using it (one in a one-person niche), so one person's signature
    does not pass for the niche's topic.
    """
    k = len(sizes)
    niche = counts.column("niche").to_numpy()
    n = counts.column("n").to_numpy().astype(np.float64)
    actors = counts.column("actors").to_numpy()
    terms = counts.column("term")
    _, term_id = np.unique(terms.to_numpy(zero_copy_only=False), return_inverse=True)
    p_t = np.bincount(term_id, weights=n) / n.sum()
    total_c = np.bincount(niche, weights=n, minlength=k)
    p_ct = n / total_c[niche]
    score = p_ct * np.log(p_ct / p_t[term_id])
    keep = (actors >= np.minimum(2, sizes[niche])) & (score > 0)
    return _top_lists(niche[keep], score[keep], terms.to_numpy(zero_copy_only=False)[keep], k, top)


def niche_activity(graph: Graph, membership: np.ndarray, times: pa.Table) -> pa.Table:
    """Messages per week written by the members of each niche.

    Parameters
    ----------
    graph : Graph
    membership : numpy.ndarray
        Niche of every node.
    times : pyarrow.Table
        ``actor_id`` and ``created_at`` (UTC timestamps), one row per message,
        or with an ``n`` column counting messages at that time.

    Returns
    -------
    pyarrow.Table
        ``(niche, week, messages)``; ``week`` is the Monday 00:00 UTC that starts
        it; sorted by niche then week.

    Examples
    --------
    >>> from datetime import datetime
    >>> g = Graph.from_edges([("x:a", "x:b", 1)])
    >>> t = pa.table({"actor_id": ["x:a", "x:b", "x:a"],
    ...               "created_at": [datetime(2024, 5, 1), datetime(2024, 5, 2), datetime(2024, 5, 9)]})
    >>> [(r["niche"], str(r["week"].date()), r["messages"])
    ...  for r in niche_activity(g, np.array([0, 0]), t).to_pylist()]
    [(0, '2024-04-29', 2), (0, '2024-05-06', 1)]
    """
    dated = times.filter(pc.is_valid(times.column("created_at")))
    week = pc.floor_temporal(dated.column("created_at"), unit="week", week_starts_monday=True)
    table = pa.table({"actor_id": dated.column("actor_id"), "week": week,
                      "n": (dated.column("n") if "n" in dated.column_names
                            else pa.array(np.ones(dated.num_rows, dtype=np.int64)))})
    counts = _by_niche(graph, membership, table, "week")
    out = pa.table({"niche": counts.column("niche"), "week": counts.column("week"),
                    "messages": pc.cast(counts.column("n"), pa.int64())})
    return out.sort_by([("niche", "ascending"), ("week", "ascending")])


def niche_profiles(
    graph: Graph,
    membership: np.ndarray,
    pagerank: np.ndarray | None = None,
    tags: pa.Table | None = None,
    terms: pa.Table | None = None,
    times: pa.Table | None = None,
    top: int = 5,
    links: pa.Table | None = None,
) -> pa.Table:
    """One row per niche: size, attention, top voices, tags, distinctive terms, sites, pages, activity.

    Parameters
    ----------
    graph : Graph
    membership : numpy.ndarray
        Niche of every node (0 = largest).
    pagerank : numpy.ndarray, optional
        Influence of every node, to pick each niche's top voices; computed with
        :func:`whuffie.influence.rank.pagerank` when not given.
    tags : pyarrow.Table, optional
        ``(actor_id, tag, n)``: tags used by each actor. Top tags are the most
        used by the niche's members.
    terms : pyarrow.Table, optional
        ``(actor_id, term, n)`` (see :func:`term_counts`). Top terms are the
        most *distinctive*: over-represented in the niche compared with the
        whole corpus, used by at least two members.
    times : pyarrow.Table, optional
        ``(actor_id, created_at[, n])``: when members wrote (see
        :func:`niche_activity`).
    top : int
        How many voices, tags, terms, domains and URLs to list.
    links : pyarrow.Table, optional
        ``(actor_id, domain, url, n)``: the (normalised) sites and pages each actor linked to.
        Top domains and URLs are those the most members link to, then the most linked.

    Returns
    -------
    pyarrow.Table
        ``niche``, ``size``, ``actor_share``; ``internal_weight`` (attention
        between members), ``external_weight`` (attention crossing the niche's
        border, both ways), ``cohesion`` (internal / (internal + external));
        ``attention`` (weight received by members) and ``attention_share`` (of
        all attention); ``top_voices`` (actor ids by PageRank), ``top_tags``,
        ``top_terms``, ``top_domains``, ``top_urls``; ``messages``, ``first_week``, ``peak_week``,
        ``last_week``. Columns whose input was not given are null.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b", 3), ("b", "a", 1), ("c", "d", 1), ("b", "c", 1)])
    >>> t = niche_profiles(g, np.array([0, 0, 1, 1]))
    >>> t.select(["niche", "size", "internal_weight", "external_weight"]).to_pylist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'niche': 0, 'size': 2, 'internal_weight': 4.0, 'external_weight': 1.0},
     {'niche': 1, 'size': 2, 'internal_weight': 1.0, 'external_weight': 1.0}]
    >>> np.round(t.column("attention_share").to_numpy(), 3).tolist()
    [0.667, 0.333]
    >>> t.column("top_voices").to_pylist()
    [['b', 'a'], ['d', 'c']]
    """
    membership = np.asarray(membership, dtype=np.int64)
    k = int(membership.max()) + 1 if membership.size else 0
    sizes = np.bincount(membership, minlength=k)
    if pagerank is None:
        from whuffie.influence.rank import pagerank as _pagerank

        pagerank = _pagerank(graph)
    cs, cd = membership[graph.src], membership[graph.dst]
    inside = cs == cd
    internal = np.bincount(cs[inside], weights=graph.weight[inside], minlength=k)
    external = (np.bincount(cs[~inside], weights=graph.weight[~inside], minlength=k)
                + np.bincount(cd[~inside], weights=graph.weight[~inside], minlength=k))
    received = np.bincount(cd, weights=graph.weight, minlength=k)
    total = graph.weight.sum()
    crossing = internal + external
    columns: dict[str, Any] = {
        "niche": pa.array(np.arange(k, dtype=np.int64)),
        "size": pa.array(sizes.astype(np.int64)),
        "actor_share": sizes / max(graph.n, 1),
        "internal_weight": internal,
        "external_weight": external,
        "cohesion": np.divide(internal, crossing, out=np.zeros(k), where=crossing > 0),
        "attention": received,
        "attention_share": received / total if total > 0 else np.zeros(k),
        "top_voices": _top_lists(membership, np.asarray(pagerank, dtype=np.float64), graph.nodes, k, top),
    }
    null_lists = pa.nulls(k, pa.list_(pa.string()))
    columns["top_tags"] = null_lists
    if tags is not None:
        counts = _by_niche(graph, membership, tags, "tag")
        columns["top_tags"] = _top_lists(
            counts.column("niche").to_numpy(), counts.column("n").to_numpy().astype(np.float64),
            counts.column("tag").to_numpy(zero_copy_only=False), k, top)
    columns["top_terms"] = null_lists
    if terms is not None:
        counts = _by_niche(graph, membership, terms, "term")
        columns["top_terms"] = _distinctive_terms(counts, sizes, top)
    for key, name in (("domain", "top_domains"), ("url", "top_urls")):
        columns[name] = null_lists
        if links is not None:
            counts = _by_niche(graph, membership, links.select(["actor_id", key, "n"]).filter(
                pc.is_valid(links.column(key))), key)
            # The pages and sites the most members link to, then the most linked.
            columns[name] = _top_lists(
                counts.column("niche").to_numpy(),
                counts.column("actors").to_numpy().astype(np.float64) * 1e9 + counts.column("n").to_numpy(),
                counts.column(key).to_numpy(zero_copy_only=False), k, top)
    columns.update(_activity_columns(graph, membership, times, k))
    return pa.table(columns)


def _activity_columns(graph: Graph, membership: np.ndarray, times: pa.Table | None,
                      k: int) -> dict[str, pa.Array]:
    if times is None:
        return {"messages": pa.nulls(k, pa.int64()), "first_week": pa.nulls(k, pa.timestamp("us")),
                "peak_week": pa.nulls(k, pa.timestamp("us")), "last_week": pa.nulls(k, pa.timestamp("us"))}
    weekly = niche_activity(graph, membership, times)
    niche = weekly.column("niche").to_numpy()
    n = weekly.column("messages").to_numpy()
    week = pc.cast(weekly.column("week"), pa.timestamp("us")).to_numpy()
    messages = np.bincount(niche, weights=n, minlength=k).astype(np.int64)
    first = np.full(k, np.datetime64("NaT"), dtype="datetime64[us]")
    last, peak = first.copy(), first.copy()
    if len(niche):
        # Rows are sorted by niche then week: a niche's first row is its first week.
        starts = _group_firsts(niche)
        ends = np.r_[starts[1:], len(niche)] - 1
        first[niche[starts]] = week[starts]
        last[niche[ends]] = week[ends]
        # The busiest week, the earliest of equals.
        best = np.lexsort((week, -n, niche))
        tops = best[_group_firsts(niche[best])]
        peak[niche[tops]] = week[tops]
    has = messages > 0
    return {"messages": pa.array(messages),
            "first_week": pa.array(first, pa.timestamp("us"), mask=~has),
            "peak_week": pa.array(peak, pa.timestamp("us"), mask=~has),
            "last_week": pa.array(last, pa.timestamp("us"), mask=~has)}


def _group_firsts(sorted_groups: np.ndarray) -> np.ndarray:
    return np.r_[0, np.flatnonzero(np.diff(sorted_groups)) + 1]


def size_distribution(membership: np.ndarray, small: int = 5) -> dict[str, Any]:
    """The long tail of niche sizes in a few numbers.

    Parameters
    ----------
    membership : numpy.ndarray
        Niche of every actor.
    small : int
        Niches with fewer members than this count as small.

    Returns
    -------
    dict
        ``niches``, ``actors``; ``largest`` and ``largest_share`` (of actors);
        ``median_size``; ``top10_niches`` (the largest 10% of niches, at least
        one) and ``top10_actor_share`` (the share of actors they hold);
        ``small_niches`` and ``small_share`` (fraction of niches with fewer
        than ``small`` members), ``small_actor_share``; ``singletons``;
        ``gini`` of the sizes (0 = all niches alike, towards 1 = one giant and
        a tail of tiny ones); ``sizes``, decreasing.

    Examples
    --------
    >>> d = size_distribution(np.array([0] * 6 + [1] * 3 + [2, 3]))
    >>> d["niches"], d["largest_share"], d["top10_actor_share"], d["small_share"], d["singletons"]
    (4, 0.5454545454545454, 0.5454545454545454, 0.75, 2)
    >>> d["sizes"]
    [6, 3, 1, 1]
    """
    membership = np.asarray(membership, dtype=np.int64)
    sizes = np.sort(np.bincount(membership))[::-1] if membership.size else np.zeros(0, dtype=np.int64)
    sizes = sizes[sizes > 0]
    k, n = len(sizes), int(sizes.sum())
    if k == 0:
        return {"niches": 0, "actors": 0, "largest": 0, "largest_share": 0.0, "median_size": 0.0,
                "top10_niches": 0, "top10_actor_share": 0.0, "small_niches": 0, "small_share": 0.0,
                "small_actor_share": 0.0, "singletons": 0, "gini": 0.0, "sizes": []}
    top10 = max(1, math.ceil(0.1 * k))
    ascending = sizes[::-1].astype(np.float64)
    # Gini from the sorted sizes (mean absolute difference over twice the mean).
    gini = float((2 * np.arange(1, k + 1) - k - 1) @ ascending / (k * ascending.sum()))
    is_small = sizes < small
    return {
        "niches": k,
        "actors": n,
        "largest": int(sizes[0]),
        "largest_share": float(sizes[0] / n),
        "median_size": float(np.median(sizes)),
        "top10_niches": top10,
        "top10_actor_share": float(sizes[:top10].sum() / n),
        "small_niches": int(is_small.sum()),
        "small_share": float(is_small.mean()),
        "small_actor_share": float(sizes[is_small].sum() / n),
        "singletons": int((sizes == 1).sum()),
        "gini": gini,
        "sizes": sizes.tolist(),
    }
