"""The offline map: the cartography of e-influencers, in one HTML file.

:func:`write_map` draws the attention graph with sigma.js (WebGL): node size is
influence (PageRank, square-root scaled), colour is the niche, and a side panel
explains each actor (rank, recognition, audience, coreness, who recognises
them). Everything the page needs is inside the file: the JavaScript bundle
(``static/map.bundle.js``, built from ``web/map/`` with ``npm run build``) and
the data, as JSON in a ``<script type="application/json">`` element. The page
fetches nothing (its Content-Security-Policy forbids it), so it opens from
``file://`` on a machine without network.

Positions are computed here, not in the browser, so that 50,000 nodes open in
seconds: see :func:`whuffie.graph.layout.layout`. :func:`map_data` is the pure part (graph and
tables in, JSON-ready dict out); only :func:`write_map` touches a file, and
:func:`write_store_map` (what ``whuffie map`` and the report call) the store.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from whuffie.errors import WhuffieError
from whuffie.graph.build import Graph
from whuffie.graph.layout import layout, separate
from whuffie.version import __version__

if TYPE_CHECKING:
    pass

#: Categorical palette of the niches (Tableau 10, then the lighter Tableau 20
#: tints): the largest niches get the most distinct colours.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#2f4b7c", "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d", "#f1ce63",
    "#d4a6c8", "#fabfd2", "#d7b5a6", "#665191",
)
#: Colour of the niches beyond the palette, and of actors without a niche.
OTHER_COLOR = "#b8b8b8"
#: Colour when no niche is given.
SINGLE_COLOR = "#4e79a7"
#: How many "recognised by" neighbours the panel can list per actor.
RECOGNISERS = 5
#: Node sizes in screen pixels at the default zoom: the least and the most influential.
MIN_SIZE, MAX_SIZE = 2.0, 18.0
#: Nodes from this size on are labelled at the first view and kept from covering each other.
LABELLED_SIZE = 6.0
MAX_DECLUTTERED = 2_000
#: Positions are written as integers in [0, POSITION_SCALE].
POSITION_SCALE = 10_000
#: Columns the influence table must have; the others are shown when present.
REQUIRED = ("actor_id", "rank", "pagerank")
OPTIONAL = ("recognition", "in_degree", "audience", "coreness", "niche_rank")


def _declutter(xy: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Move the largest nodes apart so that none hides another at the first view.

    Hubs of one community end up side by side in a force layout; drawn large,
    they would cover each other and the reader could click only the top one.
    The nodes big enough to be labelled are pushed apart (their drawn size
    converted to layout units for a ~700-pixel view); zooming in only adds
    room, as distances grow faster than sizes.
    """
    labelled = np.flatnonzero(size >= LABELLED_SIZE)
    labelled = labelled[np.argsort(-size[labelled], kind="stable")][:MAX_DECLUTTERED]
    extent = float((xy.max(axis=0) - xy.min(axis=0)).max())
    if len(labelled) < 2 or extent <= 0:
        return xy
    xy = xy.copy()
    # Half-covered nodes are still easy to click; asking for less keeps the
    # hubs of a dense niche from being pushed out of it.
    xy[labelled] = separate(xy[labelled], 0.6 * size[labelled] * extent / 700, gap=0.1, rounds=100)
    return xy


def _aligned(graph: Graph, influence: pa.Table) -> dict[str, np.ndarray | None]:
    """The influence columns in graph node order (``None`` for an absent optional column)."""
    missing = [c for c in REQUIRED if c not in influence.column_names]
    if missing:
        raise WhuffieError(
            f"the influence table lacks column(s) {', '.join(missing)}; pass the table of "
            "whuffie.influence.measures.measure_influence (or a saved 'influence' result)"
        )
    nodes = pa.array(graph.nodes.tolist(), pa.string())
    where = pc.index_in(nodes, value_set=influence.column("actor_id").combine_chunks().cast(pa.string()))
    if where.null_count:
        absent = nodes.filter(pc.is_null(where)).to_pylist()
        raise WhuffieError(
            f"{len(absent):,} actor(s) of the graph have no row in the influence table "
            f"(e.g. {absent[0]!r}); measure influence on the same graph"
        )
    rows = where.to_numpy()
    out: dict[str, np.ndarray | None] = {}
    for name in REQUIRED[1:] + OPTIONAL:
        if name not in influence.column_names:
            out[name] = None
            continue
        col = influence.column(name).combine_chunks()
        values = col.to_numpy(zero_copy_only=False).astype(np.float64)
        if col.null_count:
            values[~np.asarray(col.is_valid())] = np.nan
        out[name] = values[rows]
    return out


def _drawn_edges(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int, rank: np.ndarray,
                 max_edges: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The undirected edges to draw: every pair once, the heaviest ``max_edges`` when there are more.

    Each node first keeps its heaviest edge (budget allowing), so that no node
    looks isolated when it is not; the remaining places go to the heaviest
    edges, ties going to edges between more influential actors.
    """
    a = sp.coo_matrix((weight, (src, dst)), shape=(n, n)).tocsr()
    upper = sp.triu(a + a.T, k=1).tocoo()
    u, v, w = upper.row.astype(np.int64), upper.col.astype(np.int64), upper.data
    if len(u) <= max_edges:
        return u, v, w
    best_rank = np.minimum(rank[u], rank[v])
    order = np.lexsort((best_rank, -w))
    chosen = np.zeros(len(u), dtype=bool)
    # The first edge of each node in (weight desc, rank asc) order is its heaviest.
    ends = np.column_stack([u[order], v[order]]).ravel()
    positions = np.repeat(order, 2)
    first_seen = np.unique(ends, return_index=True)[1]
    chosen[positions[first_seen]] = True
    budget = max_edges - int(chosen.sum())
    if budget > 0:
        chosen[order[~chosen[order]][:budget]] = True
    elif budget < 0:
        # Not even one edge per node fits: the heaviest of those.
        chosen[order[chosen[order]][max_edges:]] = False
    keep = np.flatnonzero(chosen)
    return u[keep], v[keep], w[keep]


def _round(values: np.ndarray | None, digits: int) -> list | None:
    """Values rounded for a compact JSON (``NaN`` -> ``null``)."""
    if values is None:
        return None
    rounded = np.round(values, digits)
    # Whole numbers are written without ".0": most weights and counts are.
    return [None if np.isnan(x) else (int(x) if x.is_integer() else x) for x in rounded.tolist()]


def _significant(values: np.ndarray, digits: int = 4) -> list[float]:
    return [float(f"{x:.{digits}g}") for x in values.tolist()]


def _legend(niche: np.ndarray | None, kind: str) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The legend (one entry per colour) and each node's entry in it.

    The largest niches on the map get the palette's colours, in order; the
    others, and the actors without a niche, share one grey entry.
    """
    if niche is None:
        return [{"id": None, "name": "actors", "color": SINGLE_COLOR, "count": 0}], np.zeros(0, np.int64)
    n = len(niche)
    ids, counts = np.unique(niche[niche >= 0], return_counts=True)
    named = np.lexsort((ids, -counts))[: len(PALETTE)]
    legend = [{"id": int(ids[j]), "name": f"{kind} {int(ids[j])}", "color": PALETTE[slot],
               "count": int(counts[j])} for slot, j in enumerate(named)]
    rest = n - int(counts[named].sum())
    if rest:
        others = len(ids) - len(named)
        parts = [f"{others:,} smaller {kind}s"] if others else []
        if (niche < 0).any():
            parts.append(f"no {kind}")
        legend.append({"id": None, "name": " and ".join(parts), "color": OTHER_COLOR, "count": rest})
    lookup = dict(zip(ids[named].tolist(), range(len(named)), strict=True))
    return legend, np.array([lookup.get(x, len(named)) for x in niche.tolist()], dtype=np.int64)


def _recognisers(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray,
                 rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each node's strongest in-neighbours: edge positions and CSR pointers.

    Up to :data:`RECOGNISERS` per node, heaviest first, ties going to the
    more influential recogniser.
    """
    order = np.lexsort((rank[src], -weight, dst))
    starts = np.searchsorted(dst[order], np.arange(n + 1))
    position = np.arange(len(order)) - starts[dst[order]]
    top = order[position < RECOGNISERS]
    return top, np.searchsorted(dst[top], np.arange(n + 1))


def map_data(
    graph: Graph,
    influence: pa.Table,
    niches: np.ndarray | None = None,
    labels: Mapping[str, str | None] | Sequence[str | None] | None = None,
    seed: int = 0,
    max_nodes: int = 50_000,
    max_edges: int = 200_000,
    title: str = "Whuffie map",
    niche_kind: str = "niche",
) -> dict[str, Any]:
    """The map's data: positions, sizes, colours, the panel's figures, JSON-ready.

    Parameters are those of :func:`write_map`.

    Returns
    -------
    dict
        Per-node arrays (``id``, ``label``, ``x``, ``y``, ``size``, ``nicheIndex``,
        ``nicheId``, ``rank``, ``pagerank``, ``recognition``, ``inDegree``,
        ``audience``, ``coreness``, ``nicheRank``, ``received``, ``given``), the "recognised by"
        lists in CSR form (``rbPtr``, ``rb``, ``rbWeight``, ``rbCount``: node
        ``i``'s recognisers are ``rb[rbPtr[i]:rbPtr[i+1]]``, strongest first),
        the drawn ``edges`` as a flat ``[a0, b0, a1, b1, ...]`` array, the
        ``niches`` legend (id, name, colour, count) and the totals.

    Examples
    --------
    >>> from whuffie.influence.measures import measure_influence
    >>> g = Graph.from_edges([("x:a", "x:b", 1), ("x:c", "x:b", 2), ("x:b", "x:a", 1)])
    >>> data = map_data(g, measure_influence(g), labels={"x:b": "bea"})
    >>> data["id"], data["label"], data["rank"]
    (['x:a', 'x:b', 'x:c'], [None, 'bea', None], [2, 1, 3])
    >>> [data["id"][j] for j in data["rb"][data["rbPtr"][1]:data["rbPtr"][2]]]
    ['x:c', 'x:a']
    """
    if max_nodes < 1:
        raise WhuffieError(f"max_nodes must be at least 1, got {max_nodes}")
    cols = _aligned(graph, influence)
    rank = cols["rank"]
    # Evidence counts come from the whole graph, before it is cut to max_nodes.
    received = np.bincount(graph.dst, weights=graph.count, minlength=graph.n)
    given = np.bincount(graph.src, weights=graph.count, minlength=graph.n)

    keep = np.sort(np.argsort(rank, kind="stable")[:max_nodes])
    n = len(keep)
    remap = np.full(graph.n, -1, dtype=np.int64)
    remap[keep] = np.arange(n)
    inside = (remap[graph.src] >= 0) & (remap[graph.dst] >= 0)
    src, dst = remap[graph.src[inside]], remap[graph.dst[inside]]
    weight, count = graph.weight[inside], graph.count[inside]
    sub_rank = rank[keep]

    if niches is not None:
        niches = np.asarray(niches, dtype=np.int64)
        if niches.shape != (graph.n,):
            raise WhuffieError(f"niches must give one niche id per graph node ({graph.n:,}), "
                               f"got an array of shape {niches.shape}")
        sub_niche = niches[keep]
    else:
        sub_niche = np.full(n, -1, dtype=np.int64)

    pr = cols["pagerank"][keep]
    top = float(np.nanmax(pr)) if n and np.nanmax(pr) > 0 else 1.0
    size = MIN_SIZE + (MAX_SIZE - MIN_SIZE) * np.sqrt(np.clip(np.nan_to_num(pr), 0, None) / top)

    xy = layout(n, src, dst, weight, groups=sub_niche if niches is not None else None, seed=seed)
    if n:
        xy = _declutter(xy, size)
        xy = xy - xy.min(axis=0)
        xy = np.rint(xy / max(float(xy.max()), 1e-12) * POSITION_SCALE).astype(np.int64)

    legend, niche_index = _legend(sub_niche if niches is not None else None, niche_kind)
    if niches is None:
        legend[0]["count"], niche_index = n, np.zeros(n, dtype=np.int64)

    top_in, rb_ptr = _recognisers(n, src, dst, weight, sub_rank)

    eu, ev, _ = _drawn_edges(src, dst, weight, n, sub_rank, max_edges)
    edges = np.empty(2 * len(eu), dtype=np.int64)
    edges[0::2], edges[1::2] = eu, ev

    if labels is None:
        label = [None] * n
    elif isinstance(labels, Mapping):
        label = [labels.get(a) for a in graph.nodes[keep].tolist()]
    else:
        label = [labels[i] for i in keep.tolist()]

    def pick(name: str, digits: int) -> list | None:
        values = cols[name]
        return None if values is None else _round(values[keep], digits)

    return {
        "version": 1,
        "title": title,
        "generator": f"whuffie {__version__}",
        "seed": seed,
        "total": {"actors": graph.n, "edges": graph.m},
        "nicheKind": niche_kind if niches is not None else None,
        "id": graph.nodes[keep].tolist(),
        "label": [None if x is None else str(x) for x in label],
        "x": xy[:, 0].tolist() if n else [],
        "y": xy[:, 1].tolist() if n else [],
        "size": np.round(size, 1).tolist(),
        "nicheIndex": niche_index.tolist(),
        "nicheId": [None if x < 0 else int(x) for x in sub_niche.tolist()],
        "niches": legend,
        "rank": sub_rank.astype(np.int64).tolist(),
        "pagerank": _significant(np.nan_to_num(pr), 3),
        "recognition": pick("recognition", 2),
        "inDegree": pick("in_degree", 0),
        "audience": pick("audience", 0),
        "coreness": pick("coreness", 0),
        "nicheRank": pick("niche_rank", 0),
        "received": received[keep].astype(np.int64).tolist(),
        "given": given[keep].astype(np.int64).tolist(),
        "rbPtr": rb_ptr.tolist(),
        "rb": src[top_in].tolist(),
        "rbWeight": _round(weight[top_in], 2),
        "rbCount": count[top_in].astype(np.int64).tolist(),
        "edges": edges.tolist(),
    }


def script_json(data: Any) -> str:
    """JSON safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and
    ``\\u0026`` (still the same JSON), so no string from the data can close
    the element or open a comment.

    Examples
    --------
    >>> script_json({"handle": "</script><script>alert(1)</script>"})
    '{"handle":"\\\\u003c/script\\\\u003e\\\\u003cscript\\\\u003ealert(1)\\\\u003c/script\\\\u003e"}'
    """
    import orjson

    text = orjson.dumps(data).decode("utf-8")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _bundle() -> str:
    path = resources.files("whuffie.report") / "static" / "map.bundle.js"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WhuffieError(
            "the map's JavaScript bundle (whuffie/report/static/map.bundle.js) is missing; "
            "rebuild it with 'npm ci && npm run build' in web/map/"
        ) from None


def render_map(data: Mapping[str, Any], note: str | None = None) -> str:
    """The map's HTML page for :func:`map_data`'s output (bundle and data inlined).

    ``note`` is a sentence shown under the title: what the map shows of private individuals
    (:meth:`whuffie.privacy.disclosure.Shown.note`).
    """
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("whuffie.report", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    bundle = _bundle()
    digest = base64.b64encode(hashlib.sha256(bundle.encode("utf-8")).digest()).decode("ascii")
    return env.get_template("map.html.j2").render(
        title=data["title"],
        note=note,
        script_hash=f"sha256-{digest}",
        data_json=Markup(script_json(data)),
        bundle=Markup(bundle),
    )


def write_map(
    graph: Graph,
    influence_table: pa.Table,
    path: str | Path,
    niches: np.ndarray | None = None,
    labels: Mapping[str, str | None] | Sequence[str | None] | None = None,
    seed: int = 0,
    max_nodes: int = 50_000,
    max_edges: int = 200_000,
    title: str = "Whuffie map",
    niche_kind: str = "niche",
) -> Path:
    """Write the map of a graph: one self-contained HTML file that works offline.

    Node size is influence (PageRank, square-root scaled), colour the niche;
    a search box finds actors by handle or id, a click explains an actor
    (rank, PageRank, recognition, audience, coreness, niche, who recognises
    them, evidence counts), hovering highlights neighbours.

    Parameters
    ----------
    graph : Graph
        The attention graph.
    influence_table : pyarrow.Table
        One row per actor of ``graph``: ``actor_id``, ``rank`` and ``pagerank``,
        and when present ``recognition``, ``in_degree``, ``audience``,
        ``coreness`` and ``niche_rank`` (the ``influence`` result of
        :func:`~whuffie.influence.measures.measure_influence`).
    path : str or Path
        The HTML file to write (its folder is created if missing).
    niches : numpy.ndarray, optional
        Niche id of each graph node (``-1`` for none); one colour when absent.
    labels : mapping or sequence, optional
        Handle of each actor (actor id -> handle, or one per node); the id is
        shown when an actor has none.
    seed : int
        Seed of the layout (see :func:`layout`).
    max_nodes : int
        Draw the ``max_nodes`` most influential actors (by PageRank rank) and
        the edges among them; ranks and evidence still come from the whole graph.
    max_edges : int
        Draw at most this many edges (the heaviest; every node keeps its
        heaviest edge), so that the page stays light and smooth.
    title : str
        Title of the page.
    niche_kind : str
        What the colours are, in the legend and panel ("niche", "component").

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> from whuffie.influence.measures import measure_influence
    >>> g = Graph.from_edges([("x:a", "x:b", 1), ("x:c", "x:b", 1), ("x:b", "x:a", 1)])
    >>> out = write_map(g, measure_influence(g), Path(tempfile.mkdtemp()) / "map.html")
    >>> out.name, "x:b" in out.read_text()
    ('map.html', True)
    """
    data = map_data(graph, influence_table, niches=niches, labels=labels, seed=seed,
                    max_nodes=max_nodes, max_edges=max_edges, title=title, niche_kind=niche_kind)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_map(data), encoding="utf-8")
    return path
