"""E-fluentials: the top share by PageRank, checked against networkx on polblogs and by hand."""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

import whuffie
from whuffie.cli import app
from whuffie.errors import WhuffieError
from whuffie.graph.build import Graph, build_graph
from whuffie.influence.efluentials import efluential_count, efluentials
from whuffie.influence.measures import measure_influence

runner = CliRunner()


@pytest.fixture(scope="module")
def polblogs(shared, tmp_path_factory):
    """The polblogs store, its graph, the influence table, and the raw GML as networkx reads it."""
    db = tmp_path_factory.mktemp("polblogs") / "polblogs.duckdb"
    with whuffie.open(db) as store:
        store.ingest([str(shared / "polblogs")])
        graph = build_graph(store)
    raw = nx.read_gml(shared / "polblogs" / "polblogs.gml", label="id")
    digraph = nx.DiGraph()
    for u, v in raw.edges():
        if u != v:
            digraph.add_edge(f"polblogs:{u}", f"polblogs:{v}", weight=1.0)
    return db, graph, measure_influence(graph), digraph


@pytest.mark.slow
def test_the_efluentials_are_the_top_tenth_by_networkx_pagerank(polblogs):
    _, graph, influence, digraph = polblogs
    assert (graph.n, graph.m) == (digraph.number_of_nodes(), digraph.number_of_edges()) == (1224, 19017)
    result = efluentials(graph, influence)
    pr = nx.pagerank(digraph, alpha=0.85, weight="weight", tol=1e-12, max_iter=1000)
    ranked = sorted(pr, key=pr.get, reverse=True)
    assert result.table.num_rows == 122 == math.floor(0.1 * 1224)
    # The 122nd and 123rd differ by 1.8e-6, far above both solvers' tolerance.
    assert pr[ranked[121]] - pr[ranked[122]] > 1e-6
    assert set(result.table.column("actor_id").to_pylist()) == set(ranked[:122])
    assert result.table.column("actor_id").to_pylist()[:3] == ranked[:3]
    assert result.table.column("rank").to_pylist() == list(range(1, 123))
    # PageRank stops when the L1 change falls below 1e-10 per node (1.2e-7 in all here).
    np.testing.assert_allclose(result.table.column("pagerank").to_numpy(),
                               [pr[a] for a in result.table.column("actor_id").to_pylist()], atol=2e-7)


@pytest.mark.slow
def test_recognisers_add_up_to_the_in_strength_and_the_shares_to_networkx(polblogs):
    _, graph, influence, digraph = polblogs
    result = efluentials(graph, influence)
    elite = set(result.table.column("actor_id").to_pylist())
    pr = nx.pagerank(digraph, alpha=0.85, weight="weight", tol=1e-12, max_iter=1000)
    out = dict(digraph.out_degree(weight="weight"))
    rec = result.recognisers.to_pylist()
    by_actor: dict[str, list] = {}
    for r in rec:
        by_actor.setdefault(r["actor_id"], []).append(r)
    rank = dict(zip(influence.column("actor_id").to_pylist(), influence.column("rank").to_pylist(),
                    strict=True))
    for row in result.table.to_pylist():
        v = row["actor_id"]
        mine = by_actor[v]
        preds = list(digraph.predecessors(v))
        assert sorted(r["recogniser"] for r in mine) == sorted(preds)
        assert sum(r["weight"] for r in mine) == row["recognition"] == digraph.in_degree(v, weight="weight")
        assert [r["position"] for r in mine] == list(range(1, len(mine) + 1))
        assert all(r["recogniser_rank"] == rank[r["recogniser"]] for r in mine)
        # Equal weights here, so the strongest recognisers are the best-ranked ones.
        assert [r["recogniser_rank"] for r in mine] == sorted(r["recogniser_rank"] for r in mine)
        assert all(r["recogniser_efluential"] == (r["recogniser"] in elite) for r in mine)
        from_elite = [u for u in preds if u in elite]
        assert row["efluential_recognisers"] == len(from_elite)
        assert row["recognised_share"] == pytest.approx(len(from_elite) / len(preds))
        flow = sum(pr[u] * 0.85 / out[u] for u in from_elite)
        assert row["pagerank_share"] == pytest.approx(flow / pr[v], rel=1e-4)
    top = result.table.to_pylist()[0]
    assert top["actor_id"] == "polblogs:155" and top["recognisers"] == 337
    assert top["explanation"].startswith(
        f"recognised by 337 people, {top['efluential_recognisers']} of them e-fluentials")


def test_recognised_by_the_recognised_on_a_small_graph():
    # a and b are read by everyone; b gives a 3, a gives b 2; c..f read them once.
    edges = [("b", "a", 3), ("c", "a", 1), ("d", "a", 1),
             ("a", "b", 2), ("e", "b", 1), ("f", "b", 1), ("g", "b", 1),
             ("c", "d", 1), ("h", "c", 1), ("i", "j", 1)]
    g = Graph.from_edges(edges)
    influence = measure_influence(g)
    result = efluentials(g, influence, share=0.2, top_recognisers=2,
                         labels={"b": "@bee"}, niches=np.array([0, 0, 1, 1, 0, 0, 0, 1, 2, 2]))
    rows = {r["actor_id"]: r for r in result.table.to_pylist()}
    assert set(rows) == {"a", "b"}
    assert rows["a"]["recognised_share"] == pytest.approx(3 / 5)
    assert rows["b"]["recognised_share"] == pytest.approx(2 / 5)
    assert rows["a"]["efluential_recognisers"] == 1 and rows["a"]["recognisers"] == 3
    pr = dict(zip(influence.column("actor_id").to_pylist(), influence.column("pagerank").to_pylist(),
                  strict=True))
    # b pays attention only to a (3 of 3): all of b's damped PageRank flows to a.
    assert rows["a"]["pagerank_share"] == pytest.approx(0.85 * pr["b"] / pr["a"])
    # a gives 2 of its 2 to b.
    assert rows["b"]["pagerank_share"] == pytest.approx(0.85 * pr["a"] / pr["b"])
    a_rank, b_rank = rows["a"]["rank"], rows["b"]["rank"]
    c_rank = dict(zip(influence.column("actor_id").to_pylist(), influence.column("rank").to_pylist(),
                      strict=True))["c"]
    assert rows["a"]["explanation"] == (
        "recognised by 3 people, 1 of them e-fluentials (60% of the attention they receive, "
        f"{rows['a']['pagerank_share']:.0%} of their PageRank); strongest: @bee (rank {b_rank}, "
        f"weight 3), c (rank {c_rank}, weight 1); niche 0 (rank {1 if a_rank < b_rank else 2} in it)")
    assert rows["a"]["niche"] == 0 and rows["b"]["niche"] == 0
    assert sorted([rows["a"]["niche_rank"], rows["b"]["niche_rank"]]) == [1, 2]
    # The recogniser table keeps all three of a's recognisers, strongest first.
    of_a = [r for r in result.recognisers.to_pylist() if r["actor_id"] == "a"]
    assert [(r["recogniser"], r["weight"], r["recogniser_efluential"]) for r in of_a] == [
        ("b", 3.0, True), ("c", 1.0, False), ("d", 1.0, False)]


def test_bad_inputs_are_refused():
    g = Graph.from_edges([("a", "b", 1), ("c", "b", 1)])
    other = measure_influence(Graph.from_edges([("a", "b", 1)]))
    with pytest.raises(WhuffieError, match="not measured on this graph"):
        efluentials(g, other)
    with pytest.raises(WhuffieError, match=r"share must be in \(0, 1\]"):
        efluential_count(10, 0)
    assert efluential_count(100, 0.29) == 29 and efluential_count(3, 0.1) == 1


@pytest.mark.slow
def test_cli_lists_saves_and_explains(polblogs):
    db = polblogs[0]
    result = runner.invoke(app, ["efluentials", "--db", str(db), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 122 and rows[0]["actor"] == "polblogs:155" and rows[0]["handle"] == "dailykos.com"
    assert {"actor", "rank", "recognised_share", "pagerank_share", "explanation"} <= set(rows[0])
    assert "atrios.blogspot.com (rank 2" in rows[0]["explanation"]
    result = runner.invoke(app, ["efluentials", "--db", str(db), "--evidence", "--csv", "--share", "0.01",
                                 "--recognisers", "2"], catch_exceptions=False)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("actor,handle,position,recogniser,")
    assert len(lines) == 1 + 12 * 2
    with whuffie.open(db, read_only=True) as store:
        runs = store.sql("SELECT analysis, params, inputs FROM runs ORDER BY run_id")
        # PageRank comes from one influence run of the same graph, which both e-fluential runs read.
        assert [r["analysis"] for r in runs] == ["influence", "efluentials", "efluentials"]
        assert [json.loads(r["inputs"]) for r in runs[1:]] == [{"influence": 1}] * 2
        assert json.loads(runs[-1]["params"])["share"] == 0.01
        assert store.con.execute("SELECT count(*) FROM result_efluentials").fetchall()[0][0] == 122 + 12
    # The same listing again on the same data returns the saved run and saves nothing.
    again = runner.invoke(app, ["efluentials", "--db", str(db), "--json"], catch_exceptions=False)
    assert json.loads(again.stdout) == rows
    with whuffie.open(db, read_only=True) as store:
        assert store.sql("SELECT count(*) AS n FROM runs")[0]["n"] == 3
