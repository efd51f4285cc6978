"""Participation, betweenness, bridges and niche links, checked by hand and against networkx."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
import numpy as np
import pytest
from scipy.stats import spearmanr

from whuffie.graph.build import Graph
from whuffie.niches import betweenness, bridges, detect_niches, niche_links, participation, undirected


def to_networkx(graph: Graph) -> nx.Graph:
    u, v, w = undirected(graph)
    g = nx.Graph()
    g.add_nodes_from(range(graph.n))
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
    return g


def test_participation_by_hand():
    # a splits its attention 2 : 1 : 1 over niches 0, 1, 2 (a<->b counts both directions):
    # P_a = 1 - (1/2)^2 - (1/4)^2 - (1/4)^2 = 0.625. c only talks to niche 0: P = 0.
    g = Graph.from_edges([("a", "b", 1), ("b", "a", 1), ("a", "c", 1), ("d", "a", 1), ("e", "e", 3)])
    niches = np.array([0, 0, 1, 2, 3])  # a b c d e
    assert participation(g, niches).tolist() == [0.625, 0.0, 0.0, 0.0, 0.0]


@pytest.mark.slow
def test_participation_and_bridges_on_karate_match_a_direct_count(known):
    graph, _ = known["zachary-karate"]
    niches = detect_niches(graph, method="modularity", seed=0)
    g = to_networkx(graph)
    table = bridges(graph, niches, top=2).to_pylist()
    for i, row in enumerate(table):
        per_niche = defaultdict(float)
        for j, data in g[i].items():
            per_niche[int(niches[j])] += data["weight"]
        k = sum(per_niche.values())
        assert row["strength"] == pytest.approx(k)
        assert row["participation"] == pytest.approx(1 - sum((x / k) ** 2 for x in per_niche.values()))
        others = sorted(((-w, c) for c, w in per_niche.items() if c != niches[i]))
        assert row["bridges_to"] == [c for _, c in others[:2]]
        assert row["outside_weight"] == pytest.approx(-sum(w for w, _ in others))
    # The two leaders sit in the middle of the club: each touches three other niches.
    leaders = [table[graph.node(f"zachary-karate:{i}")] for i in (0, 33)]
    assert all(r["participation"] > 0.5 for r in leaders)


@pytest.mark.parametrize("platform", ["zachary-karate", "polbooks"])
def test_exact_betweenness_matches_networkx(known, platform):
    graph, _ = known[platform]
    scores, exact = betweenness(graph)
    assert exact
    expected = nx.betweenness_centrality(to_networkx(graph), normalized=True)
    np.testing.assert_allclose(scores, [expected[i] for i in range(graph.n)], atol=1e-12)


@pytest.mark.slow
def test_sampled_betweenness_ranks_like_the_exact_one(known):
    graph, _ = known["polblogs"]
    exact, is_exact = betweenness(graph)
    assert is_exact  # 1,222 x 16,709 is under the exact limit
    estimate, is_exact = betweenness(graph, samples=100, seed=0, exact=False)
    assert not is_exact
    assert spearmanr(exact, estimate)[0] >= 0.95  # measured 0.98-0.99
    top = set(np.argsort(-exact)[:20])
    assert len(top & set(np.argsort(-estimate)[:20])) >= 15  # measured 16-18
    again, _ = betweenness(graph, samples=100, seed=0, exact=False)
    np.testing.assert_array_equal(estimate, again)
    other, _ = betweenness(graph, samples=100, seed=1, exact=False)
    assert not np.array_equal(estimate, other)


def test_niche_links_on_polblogs(known):
    graph, _ = known["polblogs"]
    niches = detect_niches(graph, seed=0)
    flow = defaultdict(float)
    for s, d, w in zip(graph.src.tolist(), graph.dst.tolist(), graph.weight.tolist(), strict=True):
        if niches[s] != niches[d]:
            flow[(int(niches[s]), int(niches[d]))] += w
    links = niche_links(graph, niches).to_pylist()
    assert sum(x["weight"] for x in links) == pytest.approx(sum(flow.values()))
    assert sum(x["share"] for x in links) == pytest.approx(1.0)
    for x in links:
        assert x["a_to_b"] == pytest.approx(flow[(x["niche_a"], x["niche_b"])])
        assert x["b_to_a"] == pytest.approx(flow[(x["niche_b"], x["niche_a"])])
    # Most of the attention that crosses a border goes between the two political camps.
    assert (links[0]["niche_a"], links[0]["niche_b"]) == (0, 1)
    assert links[0]["share"] > 0.75  # measured 0.82
    assert [x["weight"] for x in niche_links(graph, niches, top=3).to_pylist()] == [
        x["weight"] for x in links[:3]]


def test_an_actor_no_path_goes_through_is_not_shown_as_a_bridge(tmp_path):
    """A page both niches link to (betweenness 0) spreads nothing between them: not a bridge."""
    import whuffie
    from whuffie.model import Records, Tie
    from whuffie.niches.analysis import NicheParams
    from whuffie.privacy.disclosure import Disclosure

    cliques = [(a, b) for group in ("abcd", "wxyz") for a in group for b in group if a != b]
    pairs = [*cliques, ("a", "page"), ("w", "page"), ("d", "m"), ("m", "d"), ("m", "w"), ("w", "m")]
    with whuffie.open(tmp_path / "s.duckdb") as store:
        store.add(Records(ties=[Tie(f"t:{i}", "t", f"t:{a}", f"t:{b}", "mention")
                                for i, (a, b) in enumerate(pairs)]))
        result = store.niches(params=NicheParams(method="modularity"))
        members = {r["actor_id"]: r for r in result["memberships"].to_pylist()}
        html = store.report(tmp_path / "report", disclosure=Disclosure(show_private=True)).path.read_text()
    assert result.summary["niches"] == 2
    # The page takes attention from both niches but passes none on; m carries it between them.
    assert members["t:page"]["participation"] > 0 and members["t:page"]["betweenness"] == 0
    assert members["t:m"]["participation"] > 0 and members["t:m"]["betweenness"] > 0
    bridges_table = html.split("The bridges:")[1].split("</table>")[0]
    assert "t:m" in bridges_table and "t:page" not in bridges_table
