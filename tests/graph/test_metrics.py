"""The overall graph figures, checked against networkx on the raw files of real networks."""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import networkx as nx
import numpy as np
import pytest

import whuffie
from tests.conftest import cli
from whuffie.graph.build import Graph, GraphSpec, build_graph
from whuffie.graph.metrics import METRICS, graph_metrics


def reference(g: nx.DiGraph, paths: bool = True) -> dict:
    """The same figures by networkx (and plain Python for the weighted reciprocity).

    Path lengths come from scipy's shortest paths on the largest component (networkx's all-pairs
    search takes 30 s on polblogs), direction ignored.
    """
    weight = defaultdict(float)
    for a, b, w in g.edges(data="weight", default=1.0):
        weight[(a, b)] += w
    pairs = {frozenset(p) for p in weight if p[0] != p[1]}
    mutual = {frozenset(p) for p in weight if p[0] != p[1] and (p[1], p[0]) in weight}
    returned = sum(min(w, weight.get((b, a), 0.0)) for (a, b), w in weight.items() if a != b)
    undirected = nx.Graph(g)
    undirected.remove_edges_from(list(nx.selfloop_edges(undirected)))
    weak = max(nx.weakly_connected_components(g), key=len)
    strong = max(nx.strongly_connected_components(g), key=len)
    out = {
        "nodes": g.number_of_nodes(), "edges": g.number_of_edges(),
        "weight": g.size(weight="weight"), "self_loops": nx.number_of_selfloops(g),
        "isolated": sum(1 for n in undirected if undirected.degree(n) == 0),
        "density": nx.density(g), "reciprocity": nx.overall_reciprocity(g),
        "pair_reciprocity": len(mutual) / len(pairs),
        "weighted_reciprocity": returned / sum(w for (a, b), w in weight.items() if a != b),
        "average_degree": sum(d for _, d in g.degree()) / g.number_of_nodes(),
        "weak_components": nx.number_weakly_connected_components(g), "largest_weak": len(weak),
        "largest_weak_share": len(weak) / g.number_of_nodes(),
        "strong_components": nx.number_strongly_connected_components(g), "largest_strong": len(strong),
        "largest_strong_share": len(strong) / g.number_of_nodes(),
        "transitivity": nx.transitivity(undirected), "average_clustering": nx.average_clustering(undirected),
    }
    if paths:
        from scipy.sparse.csgraph import shortest_path

        hops = shortest_path(nx.to_scipy_sparse_array(undirected.subgraph(weak)), directed=False,
                             unweighted=True)
        n = len(weak)
        out.update(diameter=int(hops.max()), average_path_length=hops.sum() / (n * (n - 1)))
    return out


def assert_matches(figures: dict, expected: dict) -> None:
    for name, value in expected.items():
        assert figures[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name


def test_figures_of_a_small_graph_with_a_loop_and_an_isolated_actor():
    # Graph.from_edges cannot hold an actor without edges: built by hand, as a filter can leave one.
    g = Graph(nodes=np.array(["a", "b", "c", "d", "e"], dtype=object),
              src=np.array([0, 0, 1, 1, 2], dtype=np.int32), dst=np.array([0, 1, 0, 2, 0], dtype=np.int32),
              weight=np.array([1.0, 3.0, 1.0, 2.0, 1.0]), count=np.ones(5, dtype=np.int64),
              spec=GraphSpec(self_loops=True))
    ref = nx.DiGraph()
    ref.add_nodes_from(g.nodes.tolist())
    ref.add_weighted_edges_from(zip(g.nodes[g.src], g.nodes[g.dst], g.weight, strict=True))
    figures = graph_metrics(g)
    assert list(figures) == list(METRICS)
    assert_matches(figures, reference(ref, paths=False))
    assert (figures["self_loops"], figures["isolated"], figures["weak_components"]) == (1, 2, 3)
    assert (figures["diameter"], figures["average_path_length"], figures["paths"]) == (1, 1.0, "exact")


@pytest.mark.slow
def test_karate_figures_match_networkx(shared, store):
    store.ingest([shared / "zachary_karate"], options={"directed": "false"})
    figures = graph_metrics(build_graph(store))
    ref = nx.Graph()
    with open(shared / "zachary_karate" / "karate_edges.tsv", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            ref.add_edge(f"zachary-karate:{row['u']}", f"zachary-karate:{row['v']}",
                         weight=float(row["weight"]))
    expected = reference(ref.to_directed())
    assert_matches(figures, expected)
    # An undirected club: every tie both ways; 34 members, 78 ties, diameter 5.
    assert (figures["nodes"], figures["edges"], figures["reciprocity"]) == (34, 156, 1.0)
    assert figures["diameter"] == nx.diameter(ref) == 5
    assert figures["average_path_length"] == pytest.approx(nx.average_shortest_path_length(ref), rel=1e-12)
    assert figures["average_path_length"] == pytest.approx(2.4082, abs=1e-4)


@pytest.mark.slow
def test_polblogs_figures_match_networkx_and_sampling_brackets_the_exact_mean(shared, store):
    store.ingest([shared / "polblogs" / "polblogs.gml"])
    graph = build_graph(store)
    raw = nx.DiGraph(nx.read_gml(shared / "polblogs" / "polblogs.gml", label="id"))
    raw.remove_edges_from(list(nx.selfloop_edges(raw)))
    raw.remove_nodes_from([n for n in list(raw) if raw.degree(n) == 0])
    ref = nx.relabel_nodes(raw, {n: f"polblogs:{n}" for n in raw})
    expected = reference(ref)
    figures = graph_metrics(graph)
    assert_matches(figures, expected)
    assert figures["paths"] == "exact" and figures["diameter"] == 8
    assert (figures["weak_components"], figures["largest_weak"]) == (2, 1222)
    assert figures["strong_components"] == 422
    # Forced to sample: the diameter stays exact (iFUB), the mean is within 3 standard errors.
    sampled = graph_metrics(graph, exact_paths_work=0, path_sources=100, seed=1)
    assert sampled["paths"] == "sampled from 100 sources" and sampled["diameter"] == 8
    error = sampled["average_path_length_error"]
    assert 0 < error < 0.05
    assert abs(sampled["average_path_length"] - expected["average_path_length"]) < 3 * error


@pytest.mark.slow
def test_higgs_reply_figures_match_networkx(shared, store):
    path = shared / "higgs_reply_mention" / "higgs-reply_network.edgelist"
    store.ingest([path])
    figures = graph_metrics(build_graph(store))
    ref = nx.DiGraph()
    with open(path) as f:
        for line in f:
            a, b, w = line.split()
            if a != b:  # the graph leaves self-loops out
                ref.add_edge(f"higgs-reply-network:{a}", f"higgs-reply-network:{b}",
                             weight=ref.get_edge_data(a, b, {}).get("weight", 0.0) + float(w))
    assert_matches(figures, reference(ref, paths=False))
    assert (figures["nodes"], figures["edges"], figures["weak_components"]) == (38683, 32180, 10406)
    # The largest component has 12,839 actors: too many for every path. igraph measured all of them once
    # (graph_metrics with exact_paths_work=10**12): diameter 30, average 7.1931.
    assert figures["largest_weak"] == 12839 and figures["paths"] == "sampled from 200 sources"
    assert figures["diameter"] == 30
    assert abs(figures["average_path_length"] - 7.1931) < 3 * figures["average_path_length_error"]


def test_library_call_takes_the_graph_filters_and_saves_no_run(sample_store):
    everything = sample_store.graph_metrics()
    replies = sample_store.graph_metrics(kinds=["reply"])
    assert everything.run_id is None and sample_store.runs() == []
    assert replies.summary["edges"] < everything.summary["edges"]
    assert replies.params["graph"]["kinds"] == ["reply"]
    assert replies.to_arrow().to_pylist() == [replies.summary]
    assert replies.summary == graph_metrics(build_graph(sample_store, GraphSpec(kinds=("reply",))))


@pytest.mark.slow
def test_cli_prints_the_figures_and_json(sample_db):
    result = cli("graph", "--db", sample_db, "--kinds", "reply", "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert list(figures) == list(METRICS)
    with whuffie.open(sample_db, read_only=True) as store:
        assert figures == store.graph_metrics(kinds="reply").summary
    table = cli("graph", "--db", sample_db, "--kinds", "reply")
    assert table.exit_code == 0 and "reciprocity" in table.output and f"{figures['nodes']:,}" in table.output
    bad = cli("graph", "--db", sample_db, "--since", "2030-01-01", "--until", "2020-01-01")
    assert bad.exit_code == 2 and "is not before --until" in bad.output
    empty = cli("graph", "--db", sample_db, "--since", "2099-01-01")
    assert empty.exit_code == 1 and "Error: no interaction in" in empty.output
