"""Real graphs with known groups (polblogs, karate, football, polbooks, dolphins), ingested once."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components

import whuffie
from whuffie.graph.build import Graph, build_graph

#: platform -> (files to ingest relative to the shared folder, ingest options, extra field with the group)
KNOWN = {
    "polblogs": (["polblogs/polblogs.gml"], {}, "value"),
    "zachary-karate": (["zachary_karate"], {"directed": "false"}, "club"),
    "football": (["small_community_graphs/football.gml"], {}, "value"),
    "polbooks": (["small_community_graphs/polbooks.gml"], {}, "value"),
    "dolphins": (["small_community_graphs/dolphins.gml"], {}, "group"),
}


def largest_component(graph: Graph) -> Graph:
    """The subgraph on the largest weakly connected component (node order kept)."""
    _, label = connected_components(graph.csr(), directed=True, connection="weak")
    keep = np.flatnonzero(label == np.argmax(np.bincount(label)))
    new = np.full(graph.n, -1)
    new[keep] = np.arange(len(keep))
    edge = (new[graph.src] >= 0) & (new[graph.dst] >= 0)
    return Graph(nodes=graph.nodes[keep], src=new[graph.src[edge]].astype(np.int32),
                 dst=new[graph.dst[edge]].astype(np.int32), weight=graph.weight[edge],
                 count=graph.count[edge], spec=graph.spec)


@pytest.fixture(scope="session")
def known_store(shared, tmp_path_factory):
    """A store holding the five graphs with known groups."""
    store = whuffie.open(tmp_path_factory.mktemp("niches") / "known.duckdb")
    for files, options, _ in KNOWN.values():
        store.ingest([str(shared / f) for f in files], options=options)
    yield store
    store.close()


@pytest.fixture(scope="session")
def known(known_store):
    """platform -> (graph, group label of every node); polblogs restricted to its largest component."""
    out = {}
    for platform, (_, _, field) in KNOWN.items():
        graph = build_graph(known_store, platforms=(platform,))
        if platform == "polblogs":
            graph = largest_component(graph)
        groups = dict(known_store.con.execute(
            f"SELECT actor_id, extra->>'{field}' FROM actors WHERE platform = ?", [platform]).fetchall())
        out[platform] = (graph, np.array([groups[a] for a in graph.nodes]))
    return out
