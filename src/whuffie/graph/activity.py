"""What each actor contributed: messages written, in the graph's window and platforms."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whuffie.graph.build import Graph


def actor_activity(counts: pa.Table, graph: Graph) -> np.ndarray:
    """Messages written by each node's actor, in node order.

    Parameters
    ----------
    counts : pyarrow.Table
        ``actor_id`` and ``n``: messages per actor, as
        ``engine.message_counts(["actor_id"], require=["actor"], ...)`` gives them with the
        graph's platforms and window.
    graph : Graph

    Returns
    -------
    numpy.ndarray
        int64, 0 for the actors without a message.

    Examples
    --------
    >>> counts = pa.table({"actor_id": ["x:b", "x:z"], "n": [3, 9]})
    >>> actor_activity(counts, Graph.from_edges([("x:a", "x:b", 1)])).tolist()
    [0, 3]
    """
    out = np.zeros(graph.n, dtype=np.int64)
    if counts.num_rows:
        nodes = pa.array(graph.nodes.tolist(), pa.string())
        # Null (NaN here) for authors outside the graph.
        idx = pc.index_in(counts.column("actor_id"), value_set=nodes).to_numpy(zero_copy_only=False)
        idx = idx.astype(np.float64)
        keep = ~np.isnan(idx)
        out[idx[keep].astype(np.int64)] = counts.column("n").to_numpy()[keep]
    return out
