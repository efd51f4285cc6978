"""The offline map's data and page (the browser side is in tests/web/test_map_browser.py)."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import re

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest
from scipy.spatial import cKDTree

import whuffie
from tests.conftest import cli
from whuffie.errors import WhuffieError
from whuffie.graph.build import Graph, build_graph
from whuffie.graph.layout import layout
from whuffie.influence.measures import measure_influence
from whuffie.privacy.disclosure import Disclosure
from whuffie.report.map import map_data, render_map, script_json, write_map

EVIL = "</script><script>alert(1)</script>"


def page_data(html: str) -> dict:
    """The JSON embedded in a map page."""
    found = re.search(r'<script type="application/json" id="whuffie-map-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def karate(shared, tmp_path_factory):
    path = tmp_path_factory.mktemp("karate") / "karate.duckdb"
    with whuffie.open(path) as store:
        store.ingest([str(shared / "zachary_karate")], options={"directed": "false"})
        graph = build_graph(store)
    with open(shared / "zachary_karate" / "karate_edges.tsv", newline="") as f:
        edges = list(csv.DictReader(f, delimiter="\t"))
    return path, graph, edges


@pytest.fixture(scope="module")
def polblogs(shared, tmp_path_factory):
    path = tmp_path_factory.mktemp("polblogs") / "polblogs.duckdb"
    with whuffie.open(path) as store:
        store.ingest([str(shared / "polblogs")])
        graph = build_graph(store)
        leaning = dict(store.con.execute(
            "SELECT actor_id, CAST(extra->>'value' AS INTEGER) FROM actors").fetchall())
    return path, graph, np.array([leaning[a] for a in graph.nodes])


def test_karate_map_draws_every_tie_once_and_lists_recognisers_by_strength(karate):
    _, graph, edges = karate
    table = measure_influence(graph)
    data = map_data(graph, table)
    assert len(data["id"]) == 34
    # 78 undirected ties in the file, each read in both directions, drawn once.
    assert graph.m == 156 and len(data["edges"]) == 2 * 78
    pairs = {tuple(sorted((data["id"][a], data["id"][b])))
             for a, b in zip(data["edges"][0::2], data["edges"][1::2], strict=True)}
    assert pairs == {tuple(sorted((f"zachary-karate:{e['u']}", f"zachary-karate:{e['v']}"))) for e in edges}

    # Node 33 (the officer): weight 5 from 32, then five ties of weight 4 (8, 15, 23, 27, 31);
    # the panel has room for four of them: the most influential, by networkx's PageRank.
    i = data["id"].index("zachary-karate:33")
    lo, hi = data["rbPtr"][i], data["rbPtr"][i + 1]
    names = [data["id"][j].split(":")[1] for j in data["rb"][lo:hi]]
    assert data["rbWeight"][lo:hi] == [5.0, 4.0, 4.0, 4.0, 4.0]
    assert names[0] == "32"
    g = nx.Graph()
    g.add_weighted_edges_from((e["u"], e["v"], float(e["weight"])) for e in edges)
    pr = nx.pagerank(g.to_directed(), weight="weight")
    fours = sorted(["8", "15", "23", "27", "31"], key=lambda a: -pr[a])
    assert names[1:] == fours[:4]

    # Evidence: each tie is one interaction each way.
    assert data["received"][i] == g.degree("33") == data["inDegree"][i]
    # Ranks and PageRank are those of the influence table.
    by_actor = {r["actor_id"]: r for r in table.to_pylist()}
    assert data["rank"][i] == by_actor["zachary-karate:33"]["rank"] == 1
    assert data["pagerank"][i] == pytest.approx(by_actor["zachary-karate:33"]["pagerank"], rel=1e-3)
    # Size grows with influence.
    order = np.argsort(data["rank"])
    assert np.all(np.diff(np.array(data["size"])[order]) <= 0)


def test_edge_budget_keeps_each_actors_strongest_tie(karate):
    _, graph, edges = karate
    data = map_data(graph, measure_influence(graph), max_edges=40)
    assert len(data["edges"]) == 2 * 40
    weight = {frozenset((e["u"], e["v"])): int(e["weight"]) for e in edges}
    strongest = {}
    for pair, w in weight.items():
        for a in pair:
            strongest[a] = max(strongest.get(a, 0), w)
    drawn_best = {}
    for a, b in zip(data["edges"][0::2], data["edges"][1::2], strict=True):
        na, nb = data["id"][a].split(":")[1], data["id"][b].split(":")[1]
        w = weight[frozenset((na, nb))]
        for x in (na, nb):
            drawn_best[x] = max(drawn_best.get(x, 0), w)
    assert drawn_best == strongest
    graph_map = map_data(graph, measure_influence(graph), max_edges=10)
    assert len(graph_map["edges"]) == 2 * 10
    assert map_data(graph, measure_influence(graph), max_edges=0)["edges"] == []


@pytest.mark.slow
def test_layout_puts_the_two_blogospheres_apart(polblogs):
    _, graph, leaning = polblogs
    data = map_data(graph, measure_influence(graph), seed=0)
    xy = np.column_stack([data["x"], data["y"]]).astype(float)
    # No niche given: the layout finds its own groups. The 10 nearest blogs of
    # a blog share its leaning for most blogs (random positions: about half).
    _, near = cKDTree(xy).query(xy, k=11)
    same = (leaning[near[:, 1:]] == leaning[:, None]).mean(axis=1)
    assert (same > 0.5).mean() > 0.9
    rng = np.random.default_rng(0)
    _, near = cKDTree(rng.uniform(size=xy.shape)).query(xy, k=11)
    assert ((leaning[near[:, 1:]] == leaning[:, None]).mean(axis=1) > 0.5).mean() < 0.7
    assert min(data["x"]) >= 0 and max(max(data["x"]), max(data["y"])) == 10_000


@pytest.mark.slow
def test_max_nodes_keeps_the_top_by_pagerank_and_the_links_among_them(polblogs):
    _, graph, leaning = polblogs
    data = map_data(graph, measure_influence(graph), niches=leaning, max_nodes=100)
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(graph.nodes[graph.src], graph.nodes[graph.dst], graph.weight, strict=True))
    pr = nx.pagerank(g, weight="weight", tol=1e-12)
    top = sorted(pr, key=lambda a: -pr[a])[:100]
    assert set(data["id"]) == set(top)
    assert len(data["edges"]) // 2 == g.subgraph(top).to_undirected().number_of_edges()
    assert data["total"] == {"actors": 1224, "edges": graph.m}
    # Ranks stay those of the whole graph; colours follow the leaning.
    assert sorted(data["rank"]) == list(range(1, 101))
    legend = {n["id"]: n for n in data["niches"]}
    assert set(legend) == {0, 1}
    counts = np.bincount(leaning[[graph.index[a] for a in data["id"]]])
    assert [legend[0]["count"], legend[1]["count"]] == counts.tolist()
    assert all(data["niches"][k]["id"] == v for k, v in zip(data["nicheIndex"], data["nicheId"], strict=True))


def test_layout_is_reproducible_and_seeded():
    src = np.array([0, 1, 2, 3, 4, 5, 2, 6, 7])
    dst = np.array([1, 2, 0, 4, 5, 3, 3, 7, 8])
    a = layout(10, src, dst, seed=3)
    assert np.array_equal(a, layout(10, src, dst, seed=3))
    assert not np.allclose(a, layout(10, src, dst, seed=4))


def test_page_inlines_bundle_and_data_and_escapes_markup(tmp_path):
    graph = Graph.from_edges([("x:a", "x:b", 1), ("x:c", "x:b", 2), ("x:b", "x:a", 1)])
    path = write_map(graph, measure_influence(graph), tmp_path / "sub" / "m.html",
                     labels={"x:b": EVIL, "x:a": "a & b <i>"}, title="<b>Title</b>")
    html = path.read_text()
    # Only two script elements: the data and the bundle; the handle never closes one.
    assert html.count("<script") == 2 and html.count("</script>") == 2
    assert EVIL not in html and "<i>" not in html
    assert "<title>&lt;b&gt;Title&lt;/b&gt;</title>" in html
    data = page_data(html)
    assert data["label"] == ["a & b <i>", EVIL, None] and data["title"] == "<b>Title</b>"
    # The page may run the bundle only, and fetch nothing.
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in csp
    bundle = re.search(r"<script>(.*)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(bundle.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert script_json({"s": "<&>"}) == '{"s":"\\u003c\\u0026\\u003e"}'
    assert json.loads(script_json({"s": "<&>"})) == {"s": "<&>"}


def test_empty_selection_and_bad_inputs_are_refused():
    graph = Graph.from_edges([("x:a", "x:b", 1), ("x:c", "x:b", 1)])
    table = measure_influence(graph)
    with pytest.raises(WhuffieError, match="lacks column"):
        map_data(graph, table.drop(["pagerank"]))
    with pytest.raises(WhuffieError, match="no row in the influence table"):
        map_data(graph, table.filter(pa.compute.not_equal(table["actor_id"], "x:c")))
    with pytest.raises(WhuffieError, match="one niche id per graph node"):
        map_data(graph, table, niches=np.array([0, 1]))
    with pytest.raises(WhuffieError, match="max_nodes"):
        map_data(graph, table, max_nodes=0)
    # Optional columns may be missing (shown as "–" in the page).
    data = map_data(graph, table.select(["actor_id", "rank", "pagerank"]))
    assert data["audience"] is None and data["rank"] == [2, 1, 3]
    assert "whuffie-map-data" in render_map(data)


def test_cli_writes_the_map_coloured_by_niche(karate, tmp_path):
    db, _, _ = karate
    out = tmp_path / "karate.html"
    result = cli("map", "--db", db, "--out", out, "--seed", 1)
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    data = page_data(out.read_text())
    assert len(data["id"]) == 34 and data["nicheKind"] == "niche"
    assert len({n for n in data["nicheId"]}) >= 2


@pytest.mark.slow
def test_map_colours_are_the_niches_of_the_influence_run(polblogs, tmp_path):
    """The map draws the influence run of its graph (one way to measure influence), reusing it."""
    db, _, _ = polblogs
    with whuffie.open(db) as store:
        influence = store.influence()
        # Ids shown as they are (the page's ids are matched to the run's).
        done = store.map(tmp_path / "polblogs.html", max_nodes=2000, disclosure=Disclosure(show_private=True))
        assert done.inputs == {"influence": influence.run_id}
        assert store.influence().reused and len(store.runs()) == 1
    data = page_data((tmp_path / "polblogs.html").read_text())
    niche = dict(zip(influence.to_arrow()["actor_id"].to_pylist(), influence.to_arrow()["niche"].to_pylist(),
                     strict=True))
    assert data["nicheKind"] == "niche"
    assert data["nicheId"] == [niche[a] for a in data["id"]]


def test_cli_refuses_a_store_without_interactions(tmp_path):
    db = tmp_path / "empty.duckdb"
    whuffie.open(db).close()
    result = cli("map", "--db", db, "--out", tmp_path / "m.html")
    assert result.exit_code == 1
    assert "Error: no interaction" in result.output
    assert not (tmp_path / "m.html").exists()
