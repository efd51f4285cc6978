"""What each actor contributed: messages written, in the graph's window and platforms."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from whuffie.graph.build import Graph, GraphSpec

if TYPE_CHECKING:
    from whuffie.store.store import Store


def actor_activity(store: Store, graph: Graph, spec: GraphSpec | None = None) -> np.ndarray:
    """Messages written by each node's actor (stubs excluded), with the graph's time and platform filters.

    Examples
    --------
    >>> import whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     actor_activity(store, Graph.from_edges([("x:a", "x:b", 1)])).tolist()
    [0, 0]
    """
    spec = spec or graph.spec
    where = ["NOT is_stub", "actor_id IS NOT NULL"]
    params: list = []
    if spec.platforms is not None:
        where.append("platform IN (SELECT unnest(?))")
        params.append(list(spec.platforms))
    if spec.since is not None:
        where.append("created_at >= ?")
        params.append(spec.since)
    if spec.until is not None:
        where.append("created_at < ?")
        params.append(spec.until)
    counts = store.arrow(
        f"SELECT actor_id, count(*) AS n FROM messages WHERE {' AND '.join(where)} GROUP BY actor_id",
        params,
    )
    out = np.zeros(graph.n, dtype=np.int64)
    if counts.num_rows:
        import pyarrow.compute as pc

        nodes = pa.array(graph.nodes.tolist(), pa.string())
        # Null (NaN here) for authors outside the graph.
        idx = pc.index_in(counts.column("actor_id"), value_set=nodes).to_numpy(zero_copy_only=False)
        idx = idx.astype(np.float64)
        keep = ~np.isnan(idx)
        out[idx[keep].astype(np.int64)] = counts.column("n").to_numpy()[keep]
    return out
