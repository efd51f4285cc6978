"""Niche profiles on a real Q&A community (Conlang Meta), checked against direct SQL and networkx."""

from __future__ import annotations

import re
from collections import Counter

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest

import whuffie
from whuffie.graph.build import Graph, build_graph
from whuffie.niches import detect_niches, niche_activity, niche_profiles, size_distribution, term_counts
from whuffie.niches.profile import STOPWORDS

WRITTEN = "NOT is_stub AND actor_id IS NOT NULL"


@pytest.fixture(scope="module")
def conlang(shared, tmp_path_factory):
    """The Conlang Meta store, its graph, niches and the tables the CLI would pass."""
    store = whuffie.open(tmp_path_factory.mktemp("conlang") / "c.duckdb")
    store.ingest([str(shared / "stackexchange_conlang_meta")])
    graph = build_graph(store)
    niches = detect_niches(graph, seed=0)
    tags = store.con.sql(
        "SELECT m.actor_id, t.tag, count(*) AS n FROM tags t JOIN messages m USING (message_id) "
        "WHERE NOT m.is_stub AND m.actor_id IS NOT NULL GROUP BY ALL").to_arrow_table()
    texts = store.con.sql(f"SELECT actor_id, text FROM messages WHERE {WRITTEN}").to_arrow_table()
    times = store.con.sql(f"SELECT actor_id, created_at FROM messages WHERE {WRITTEN}").to_arrow_table()
    yield store, graph, niches, tags, texts, times
    store.close()


def members(graph, niches, c):
    return [a for a, x in zip(graph.nodes.tolist(), niches.tolist(), strict=True) if x == c]


@pytest.mark.slow
def test_term_counts_match_a_python_tokeniser(conlang):
    *_, texts, _ = conlang
    expected = Counter()
    for actor, text in zip(texts.column("actor_id").to_pylist(), texts.column("text").to_pylist(),
                           strict=True):
        text = re.sub(r"https?://\S+|www\.\S+|[@#]\w+|&[a-z]+;", " ", (text or "").lower())
        for word in re.split(r"\W+", text):
            if len(word) >= 3 and word not in STOPWORDS and not re.fullmatch(r"[\d_]+", word):
                expected[(actor, word)] += 1
    got = {(r["actor_id"], r["term"]): r["n"] for r in term_counts(texts).to_pylist()}
    assert got == dict(expected)
    assert len(got) > 3000


def test_profile_weights_and_sizes_add_up(conlang):
    _, graph, niches, *_ = conlang
    t = niche_profiles(graph, niches).to_pydict()
    assert t["niche"] == list(range(niches.max() + 1))
    assert t["size"] == np.bincount(niches).tolist()
    # Every edge is inside one niche or crosses two borders.
    assert sum(t["internal_weight"]) + sum(t["external_weight"]) / 2 == pytest.approx(graph.weight.sum())
    assert sum(t["attention_share"]) == pytest.approx(1.0)
    assert sum(t["actor_share"]) == pytest.approx(1.0)
    assert t["top_tags"] == [None] * len(t["niche"])  # no tags given: not computed


def test_top_voices_follow_networkx_pagerank(conlang):
    _, graph, niches, *_ = conlang
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes.tolist())
    g.add_weighted_edges_from(zip(graph.nodes[graph.src], graph.nodes[graph.dst], graph.weight.tolist(),
                                  strict=True))
    pr = nx.pagerank(g, alpha=0.85, weight="weight", tol=1e-12)
    voices = niche_profiles(graph, niches, top=3).column("top_voices").to_pylist()
    for c, listed in enumerate(voices):
        expected = sorted(members(graph, niches, c), key=lambda a: -pr[a])[:3]
        assert listed == expected


def test_top_tags_match_sql(conlang):
    store, graph, niches, tags, *_ = conlang
    t = niche_profiles(graph, niches, tags=tags).column("top_tags").to_pylist()
    for c in range(niches.max() + 1):
        rows = store.con.execute(
            "SELECT t.tag, count(*) AS n FROM tags t JOIN messages m USING (message_id) "
            "WHERE NOT m.is_stub AND m.actor_id IN (SELECT unnest(?)) "
            "GROUP BY 1 ORDER BY n DESC, tag LIMIT 5",
            [members(graph, niches, c)]).fetchall()
        assert t[c] == [tag for tag, _ in rows]
    assert t[0][0] == "discussion"  # the meta site's default tag leads the largest niche


def test_activity_matches_sql(conlang):
    store, graph, niches, *_, times = conlang
    profiles = niche_profiles(graph, niches, times=times).to_pylist()
    weekly = niche_activity(graph, niches, times)
    for row in profiles:
        count, first, last = store.con.execute(
            "SELECT count(*), date_trunc('week', min(created_at)), date_trunc('week', max(created_at)) "
            f"FROM messages WHERE {WRITTEN} AND actor_id IN (SELECT unnest(?))",
            [members(graph, niches, row["niche"])]).fetchall()[0]
        assert row["messages"] == count
        assert (row["first_week"], row["last_week"]) == (first, last)
        mine = weekly.filter(pa.compute.equal(weekly.column("niche"), row["niche"]))
        assert pa.compute.sum(mine.column("messages")).as_py() == count
        busiest = max(mine.to_pylist(), key=lambda r: r["messages"])
        assert row["peak_week"].replace(tzinfo=None) == busiest["week"].replace(tzinfo=None)
    assert all(w.weekday() == 0 for w in weekly.column("week").to_pylist())


def test_distinctive_terms_pick_each_niche_topic():
    # Two niches: knitters and rustaceans; everyone says "hello"; one knitter alone says "zebra".
    g = Graph.from_edges([("k1", "k2", 1), ("k2", "k3", 1), ("k3", "k1", 1),
                          ("r1", "r2", 1), ("r2", "r1", 1), ("k1", "r1", 1)])
    niches = np.array([0, 0, 0, 1, 1])  # k1 k2 k3 r1 r2
    texts = pa.table({
        "actor_id": ["k1", "k2", "k3", "k1", "r1", "r2", "r1", "r2"],
        "text": ["Hello, knitting with wool", "hello WOOL yarn knitting", "knitting yarn hello",
                 "zebra zebra zebra zebra", "hello cargo compiler", "cargo borrow compiler hello",
                 "borrow checker", "borrow"],
    })
    terms = niche_profiles(g, niches, terms=term_counts(texts), top=3).column("top_terms").to_pylist()
    assert terms == [["knitting", "wool", "yarn"], ["borrow", "cargo", "compiler"]]


def test_size_distribution_of_polblogs(known):
    graph, _ = known["polblogs"]
    niches = detect_niches(graph, seed=0)
    d = size_distribution(niches)
    sizes = sorted(Counter(niches.tolist()).values(), reverse=True)
    assert d["sizes"] == sizes == [627, 524, 43, 5, 4, 3, 3, 3, 2, 2, 2, 2, 2]
    assert d["niches"] == 13 and d["actors"] == 1222
    assert d["top10_niches"] == 2 and d["top10_actor_share"] == pytest.approx((627 + 524) / 1222)
    assert d["small_niches"] == 9 and d["small_share"] == pytest.approx(9 / 13)
    mean_abs_diff = np.abs(np.subtract.outer(sizes, sizes)).mean()
    assert d["gini"] == pytest.approx(mean_abs_diff / (2 * np.mean(sizes)))
