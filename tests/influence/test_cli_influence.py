"""`whuffie influence` on the bundled real sample: the numbers, the filters, the saved run."""

from __future__ import annotations

import json
import shutil

import networkx as nx

import whuffie
from tests.conftest import cli
from whuffie.graph.build import build_graph


def test_influence_ranks_the_sample_like_networkx(sample_db, tmp_path):
    db = tmp_path / "s.duckdb"
    shutil.copy(sample_db, db)
    result = cli("influence", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 65 and [r["rank"] for r in rows] == list(range(1, 66))
    assert rows[0]["handle"] == "Rand al'Thor" and rows[0]["in_degree"] == 20 and rows[0]["audience"] == 44
    with whuffie.open(db, read_only=True) as store:
        graph = build_graph(store)
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(graph.nodes[graph.src], graph.nodes[graph.dst], graph.weight, strict=True))
    expected = nx.pagerank(g, alpha=0.85, weight="weight", tol=1e-12)
    assert max(abs(r["pagerank"] - expected[r["actor"]]) for r in rows) < 1e-8
    # The terminal listing names the run and the graph; asked again, the saved run answers.
    shown = cli("influence", "--db", db, "--top", 3)
    assert "Influence (run 1: 65 actors, 186 edges)" in shown.output
    with whuffie.open(db, read_only=True) as store:
        assert len(store.runs()) == 1


def test_influence_filters_change_the_graph(sample_db, tmp_path):
    db = tmp_path / "s.duckdb"
    shutil.copy(sample_db, db)
    votes = json.loads(cli("influence", "--db", db, "--kinds", "vote", "--json").stdout)
    replies = json.loads(cli("influence", "--db", db, "--kinds", "reply", "--since", "2019-01-01",
                             "--json").stdout)
    # 21 actors take part in the 18 favourites and accepted answers (sql: distinct sources and targets).
    assert len(votes) == 21 and len(replies) == 10
    bad = cli("influence", "--db", db, "--kinds", "votes")
    assert bad.exit_code == 1 and "unknown interaction kind(s) 'votes'" in bad.output
    with whuffie.open(db, read_only=True) as store:
        params = [r["params"] for r in store.runs()]
    assert [json.loads(p)["graph"]["kinds"] for p in params] == [["vote"], ["reply"]]
