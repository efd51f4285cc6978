"""Independent cascade / linear threshold Monte Carlo and per-kind IC fitting.

Expected spreads are computed exactly by enumerating every live-edge world of
small graphs (Kempe, Kleinberg & Tardos 2003): in IC each edge is live with its
probability, in LT each listener keeps at most one incoming edge, chosen with
probability equal to its weight. A node is reached at hop d exactly when its
shortest live path from the seeds has d edges, so hop limits are exact too.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import deque

import numba
import numpy as np
import pyarrow as pa
import pytest

from whuffie.errors import WhuffieError
from whuffie.graph.build import Graph, GraphSpec, build_graph
from whuffie.model import Records, Tie
from whuffie.spread.diffusion import DiffusionGraph, fit_ic, simulate_ic, simulate_lt

RUNS = 20_000

# Small diffusion graphs (teller, listener, probability): a cycle, converging
# paths, a parallel edge (two independent chances), a node no one reaches.
GRAPHS = {
    "cycle-and-paths": (6, [(0, 1, 0.5), (0, 2, 0.3), (1, 2, 0.6), (2, 3, 0.7), (3, 1, 0.2),
                            (3, 4, 0.4), (1, 4, 0.25), (4, 0, 0.9), (2, 4, 0.15)]),
    "parallel-edges": (5, [(0, 1, 0.4), (0, 1, 0.3), (1, 2, 0.8), (0, 2, 0.1), (2, 3, 0.5),
                           (3, 2, 0.5), (1, 3, 0.35)]),
}


def distances(n, live, seeds):
    """Hop distance from the seeds along live edges (-1 when unreached)."""
    out = [[] for _ in range(n)]
    for u, v in live:
        out[u].append(v)
    dist = [-1] * n
    todo = deque()
    for s in seeds:
        dist[s] = 0
        todo.append(s)
    while todo:
        u = todo.popleft()
        for v in out[u]:
            if dist[v] < 0:
                dist[v] = dist[u] + 1
                todo.append(v)
    return np.array(dist)


def exact(worlds, n, seeds, max_hops=None):
    """Expected size, expected hops and reach probability per node over weighted worlds."""
    size = hops = 0.0
    reach = np.zeros(n)
    for weight, live in worlds:
        d = distances(n, live, seeds)
        if max_hops is not None:
            d[d > max_hops] = -1
        size += weight * (d >= 0).sum()
        hops += weight * d.max()
        reach += weight * (d >= 0)
    return size, hops, reach


def ic_worlds(edges):
    for alive in itertools.product((False, True), repeat=len(edges)):
        weight = np.prod([p if a else 1 - p for (_, _, p), a in zip(edges, alive, strict=True)])
        yield weight, [(u, v) for (u, v, _), a in zip(edges, alive, strict=True) if a]


def lt_worlds(n, edges, weights):
    choices = []
    for v in range(n):
        incoming = [(i, weights[i]) for i, (_, t, _) in enumerate(edges) if t == v]
        choices.append([(None, 1 - sum(w for _, w in incoming)), *incoming])
    for pick in itertools.product(*choices):
        weight = np.prod([w for _, w in pick])
        yield weight, [edges[i][:2] for i, _ in pick if i is not None]


def check(result, size, hops, reach, runs=RUNS):
    assert abs(result.mean - size) < 4 * result.sem + 1e-9
    hop_se = result.hops.std(ddof=1) / np.sqrt(runs)
    assert abs(result.hops.mean() - hops) < 4 * hop_se + 1e-9
    reach = np.clip(reach, 0.0, 1.0)  # sums of world weights may overshoot 1 by rounding
    se = np.sqrt(reach * (1 - reach) / runs)
    assert np.all(np.abs(result.reached - reach) < 4 * se + 1e-9), (result.reached, reach)


def graph(name):
    n, edges = GRAPHS[name]
    u, v, p = zip(*edges, strict=True)
    return n, edges, DiffusionGraph.from_arrays(n, u, v, p)


@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("seeds", [[0], [0, 3]])
@pytest.mark.parametrize("max_hops", [None, 1, 2])
def test_ic_matches_enumeration(name, seeds, max_hops):
    n, edges, g = graph(name)
    size, hops, reach = exact(ic_worlds(edges), n, seeds, max_hops)
    result = simulate_ic(g, seeds, runs=RUNS, seed=7, max_hops=max_hops)
    check(result, size, hops, reach)
    assert result.sizes.min() >= len(seeds)  # seeds are always counted
    if max_hops is not None:
        assert result.hops.max() <= max_hops


@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("seeds", [[0], [1, 3]])
@pytest.mark.parametrize("max_hops", [None, 1])
def test_lt_matches_live_edge_enumeration(name, seeds, max_hops):
    n, edges, g = graph(name)
    # The LT weight of an edge: its probability over max(1, the listener's incoming sum),
    # computed here from the edge list, in edge-list order.
    incoming = {v: sum(p for _, t, p in edges if t == v) for v in range(n)}
    weights = [p / max(1.0, incoming[v]) for _, v, p in edges]
    size, hops, reach = exact(lt_worlds(n, edges, weights), n, seeds, max_hops)
    check(simulate_lt(g, seeds, runs=RUNS, seed=3, max_hops=max_hops), size, hops, reach)


def test_seeds_always_counted_and_deduplicated():
    g = DiffusionGraph.from_arrays(4, [0, 1], [1, 0], 0.0)
    for simulate in (simulate_ic, simulate_lt):
        r = simulate(g, [3, 2, 3], runs=100)
        assert r.sizes.tolist() == [2] * 100 and r.hops.tolist() == [0] * 100
        assert r.reached.tolist() == [0.0, 0.0, 1.0, 1.0]
        assert r.top_reached(5, seeds=True)["node"].to_pylist()[:2] == [2, 3]
        assert 2 not in r.top_reached(5)["node"].to_pylist()


def test_max_hops_on_a_certain_chain():
    g = DiffusionGraph.from_arrays(5, [0, 1, 2, 3], [1, 2, 3, 4], 1.0)
    assert simulate_ic(g, [0], runs=10, max_hops=0).sizes.tolist() == [1] * 10
    r = simulate_ic(g, [0], runs=10, max_hops=2)
    assert r.sizes.tolist() == [3] * 10 and r.hops.tolist() == [2] * 10
    r = simulate_ic(g, [0], runs=10)
    assert r.sizes.tolist() == [5] * 10 and r.hops.tolist() == [4] * 10
    assert r.interval() == (5.0, 5.0) and r.std == 0.0


def test_reproducible_whatever_the_thread_count():
    _, _, g = graph("cycle-and-paths")
    # 1,000 runs span 16 random streams (64 runs each), shared unevenly among workers.
    base = simulate_ic(g, [0], runs=1_000, seed=11, threads=1)
    for threads in (2, 3, 5):
        r = simulate_ic(g, [0], runs=1_000, seed=11, threads=threads)
        assert np.array_equal(r.sizes, base.sizes) and np.array_equal(r.reached, base.reached)
        assert np.array_equal(r.hops, base.hops)
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert np.array_equal(simulate_lt(g, [0], runs=1_000, seed=11).sizes,
                              simulate_lt(g, [0], runs=1_000, seed=11, threads=4).sizes)
    finally:
        numba.set_num_threads(previous)
    assert not np.array_equal(simulate_ic(g, [0], runs=1_000, seed=12).sizes, base.sizes)
    # The first runs do not depend on how many follow.
    assert np.array_equal(simulate_ic(g, [0], runs=100, seed=11).sizes, base.sizes[:100])


def test_weighted_cascade_from_attention_graph():
    att = Graph.from_edges([("a", "b", 1.0), ("a", "c", 2.0), ("a", "d", 1.0), ("b", "c", 1.0),
                            ("d", "c", 5.0)])
    g = DiffusionGraph.from_graph(att, prob="weighted-cascade")
    # a listens to b, c and d (3 tellers), b to c, d to c: p = 1/3, 1/3, 1/3, 1, 1.
    got = {(g.nodes[u], g.nodes[v]): p for u in range(g.n)
           for v, p in zip(g.indices[g.indptr[u]:g.indptr[u + 1]], g.prob[g.indptr[u]:g.indptr[u + 1]],
                           strict=True)}
    assert got == pytest.approx({("b", "a"): 1 / 3, ("c", "a"): 1 / 3, ("d", "a"): 1 / 3,
                                 ("c", "b"): 1.0, ("c", "d"): 1.0})
    const = DiffusionGraph.from_graph(att, prob=0.2)
    assert const.m == 5 and set(const.prob.tolist()) == {0.2}
    # Seeding c: b and d are reached surely, then a has three tellers: 1 - (2/3)^3.
    r = simulate_ic(g, g.node_index(["c"]), runs=RUNS, seed=5)
    assert r.reached[1:].tolist() == [1.0, 1.0, 1.0]
    assert abs(r.reached[0] - 19 / 27) < 4 * np.sqrt(19 / 27 * 8 / 27 / RUNS)
    with pytest.raises(WhuffieError, match="from_edge_kinds"):
        DiffusionGraph.from_graph(att, prob={"reply": 0.1})


def test_invalid_input():
    with pytest.raises(WhuffieError, match=r"\[0, 1\]"):
        DiffusionGraph.from_arrays(2, [0], [1], 1.5)
    with pytest.raises(WhuffieError, match="node numbers"):
        DiffusionGraph.from_arrays(2, [0], [2], 0.5)
    g = DiffusionGraph.from_arrays(2, [0], [1], 0.5)
    with pytest.raises(WhuffieError, match="seed nodes"):
        simulate_ic(g, [2])
    with pytest.raises(WhuffieError, match="no seeds"):
        simulate_lt(g, [])
    with pytest.raises(WhuffieError, match="not in the diffusion graph"):
        g.node_index(["nobody"])


def small_store(store, tmp_path):
    """Six messages in a JSON-lines file (authors and mentions keyed by handle)."""
    folder = tmp_path / "spread"
    folder.mkdir()
    rows = [
        {"message_id": 1, "username": "ann", "message": "news", "timestamp": "2024-01-01T10:00:00Z"},
        {"message_id": 2, "username": "bob", "message": "wow", "reply_id": 1,
         "timestamp": "2024-01-01T10:05:00Z"},
        {"message_id": 3, "username": "bob", "message": "see @ann", "mentions": ["@ann"],
         "timestamp": "2024-01-01T10:10:00Z"},
        {"message_id": 4, "username": "cat", "message": "ok", "reply_id": 1,
         "timestamp": "2024-01-01T10:20:00Z"},
        {"message_id": 5, "username": "ann", "message": "yes", "reply_id": 2,
         "timestamp": "2024-01-01T10:30:00Z"},
        {"message_id": 6, "username": "dan", "message": "@bob @cat", "mentions": ["@bob", "@cat"],
         "timestamp": "2024-01-01T10:40:00Z"},
        {"message_id": 7, "username": "ann", "message": "more news", "timestamp": "2024-01-01T12:00:00Z"},
        {"message_id": 8, "username": "bob", "message": "again", "reply_id": 7,
         "timestamp": "2024-01-01T12:05:00Z"},
    ]
    (folder / "messages.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    store.ingest([str(folder)], format="jsonl")
    return store


def diffusion(store, spec=None, prob_by_kind=None, default=None):
    """The diffusion graph of a store's interactions, read through its engine."""
    spec = spec if spec is not None else GraphSpec()
    return DiffusionGraph.from_edge_kinds(store.engine.edge_kinds(spec), spec, prob_by_kind=prob_by_kind,
                                          default=default)


def attention(store, spec=None):
    """The interaction rows fit_ic reads, through the store's engine."""
    return store.engine.interactions(spec if spec is not None else GraphSpec(),
                                     ["source", "target", "kind", "created_at", "weight"])


def test_from_edge_kinds_combines_kinds(store, tmp_path):
    small_store(store, tmp_path)
    g = diffusion(store, prob_by_kind={"reply": 0.2, "mention": 0.1})
    got = {(g.nodes[u].split(":")[1], g.nodes[v].split(":")[1]): round(float(p), 6) for u in range(g.n)
           for v, p in zip(g.indices[g.indptr[u]:g.indptr[u + 1]], g.prob[g.indptr[u]:g.indptr[u + 1]],
                           strict=True)}
    # Replies: bob->ann twice (m2, m8), cat->ann, ann->bob; mentions: bob->ann, dan->bob, dan->cat.
    # Reversed, ann tells bob with 1 - 0.8**2 * 0.9, and so on.
    assert got == {("@ann", "@bob"): round(1 - 0.8 ** 2 * 0.9, 6), ("@ann", "@cat"): 0.2,
                   ("@bob", "@ann"): 0.2, ("@bob", "@dan"): 0.1, ("@cat", "@dan"): 0.1}
    assert g.nodes.tolist() == build_graph(store).nodes.tolist()
    replies = diffusion(store, GraphSpec(kinds=("reply",)), {"reply": 0.5})
    assert replies.m == 3 and replies.n == 3
    with pytest.raises(WhuffieError, match="mention"):
        diffusion(store, prob_by_kind={"reply": 0.2})
    assert diffusion(store, prob_by_kind={"reply": 0.2}, default=0.0).m == 3


def test_fit_ic_counts_dated_exposures(store, tmp_path):
    small_store(store, tmp_path)
    t = dt.datetime(2024, 1, 1, 10)
    minutes = [0, 5, 20, 30, 120, 125]
    nodes = pa.table({
        "cascade": ["k1"] * 4 + ["k2"] * 2,
        "message_id": [f"spread:{i}" for i in (1, 2, 4, 5, 7, 8)],
        "actor_id": [f"spread:@{a}" for a in ("ann", "bob", "cat", "ann", "ann", "bob")],
        "parent_id": [None, "spread:1", "spread:1", "spread:2", None, "spread:7"],
        "depth": [0, 1, 1, 2, 0, 1],
        "created_at": [t + dt.timedelta(minutes=m) for m in minutes],
    })
    fit = fit_ic(nodes, attention(store))
    # In k1 nobody had listened to anyone before adopting. In k2 ann (12:00) had two
    # listeners: bob (reply + mention, adopted from her: success) and cat (reply, no);
    # bob (12:05) had dan (mention, no) and ann (already in). Both kinds: 2 trials, 1 success.
    assert fit.trials == {"mention": 2, "reply": 2} and fit.successes == {"mention": 1, "reply": 1}
    assert fit.cascades == 2
    # The likelihood depends on (1 - p_reply)(1 - p_mention) = q only through
    # log(1 - q) + log q: at its maximum q = 1/2 and the log-likelihood is 2 log(1/2).
    q = (1 - fit.prob["reply"]) * (1 - fit.prob["mention"])
    assert q == pytest.approx(0.5, abs=1e-4) and fit.loglik == pytest.approx(2 * np.log(0.5), abs=1e-6)
    with pytest.raises(WhuffieError, match="lacks column"):
        fit_ic(nodes.drop(["depth"]), attention(store))


def tree_store(store):
    """A tree of ties (undated): r is listened to by 100 a's (reply), 100 b's (mention) and
    60 c's (reply and mention); each a is listened to by one d (mention)."""
    ties, listeners = [], []
    for group, kinds, count in (("a", ("reply",), 100), ("b", ("mention",), 100),
                                ("c", ("reply", "mention"), 60)):
        for i in range(count):
            for kind in kinds:
                ties.append(Tie(f"t:{group}{i}{kind}", "t", f"t:{group}{i}", "t:r", kind))
            listeners.append(("t:r", f"t:{group}{i}", kinds))
    for i in range(100):
        ties.append(Tie(f"t:d{i}", "t", f"t:d{i}", f"t:a{i}", "mention"))
        listeners.append((f"t:a{i}", f"t:d{i}", ("mention",)))
    store.add(Records(ties=ties))
    return listeners


@pytest.mark.slow
def test_fit_ic_recovers_per_kind_probabilities(store):
    listeners = tree_store(store)
    truth = {"reply": 0.3, "mention": 0.1}
    out = {}
    for teller, listener, kinds in listeners:
        out.setdefault(teller, []).append((listener, 1 - np.prod([1 - truth[k] for k in kinds])))
    rng = np.random.default_rng(2024)
    rows, adopted_a = [], 0
    t0 = dt.datetime(2024, 1, 1)
    for k in range(150):
        # An independent cascade from r; on a tree every listener has one possible parent.
        todo = deque([("t:r", f"c{k}:t:r", 0)])
        rows.append((f"c{k}", f"c{k}:t:r", "t:r", None, 0))
        while todo:
            actor, message, depth = todo.popleft()
            for listener, p in out.get(actor, []):
                if rng.random() < p:
                    rows.append((f"c{k}", f"c{k}:{listener}", listener, message, depth + 1))
                    todo.append((listener, f"c{k}:{listener}", depth + 1))
                    adopted_a += listener.startswith("t:a")
    cascade, message, actor, parent, depth = zip(*rows, strict=True)
    nodes = pa.table({"cascade": cascade, "message_id": message, "actor_id": actor, "parent_id": parent,
                      "depth": depth, "created_at": [t0 + dt.timedelta(days=int(c[1:]), hours=d)
                                                     for c, d in zip(cascade, depth, strict=True)]})
    fit = fit_ic(nodes, attention(store))
    for kind, p in truth.items():
        assert abs(fit.prob[kind] - p) < 4 * fit.se[kind], (kind, fit.prob[kind], fit.se[kind])
    # Every cascade exposes the 160 reply listeners and 160 mention listeners of r,
    # plus the d of every a that adopted.
    assert fit.trials == {"reply": 150 * 160, "mention": 150 * 160 + adopted_a}
    # With one interaction of one kind per pair the MLE is successes / trials.
    only = fit_ic(nodes, attention(store, GraphSpec(kinds=("reply",))))
    assert only.prob["reply"] == pytest.approx(only.successes["reply"] / only.trials["reply"], rel=1e-6)
    sim = diffusion(store, prob_by_kind=fit.prob)
    r = simulate_ic(sim, sim.node_index(["t:r"]), runs=5_000)
    observed = np.bincount(pa.compute.dictionary_encode(nodes["cascade"]).combine_chunks().indices)
    assert abs(r.mean - observed.mean()) < 4 * np.hypot(r.sem, observed.std(ddof=1) / np.sqrt(150))


@pytest.mark.slow
def test_agrees_with_cynetdiff_on_higgs(shared):
    models = pytest.importorskip("cynetdiff.models")
    data = np.loadtxt(shared / "higgs_reply_mention" / "higgs-mention_network.edgelist", dtype=np.int64)
    data = data[data[:, 0] != data[:, 1]]
    ids, inverse = np.unique(data[:, :2], return_inverse=True)
    inverse = inverse.reshape(-1, 2)
    n = len(ids)
    # "u v w": u mentioned v, so v's word reaches u; repeated pairs are merged.
    pairs = np.unique(inverse[:, 1] * n + inverse[:, 0])
    for prob, runs in ((0.01, 10_000), ("weighted-cascade", 1_000)):
        g = DiffusionGraph.from_arrays(n, pairs // n, pairs % n, prob)
        seeds = np.argsort(-np.diff(g.indptr), kind="stable")[:10]
        ours = simulate_ic(g, seeds, runs=runs, seed=1)
        model = models.IndependentCascadeModel(g.indptr[:-1].astype(np.uint32), g.indices.astype(np.uint32),
                                               activation_probs=g.prob.astype(np.float32), rng=1)
        model.set_seeds(seeds.tolist())
        sizes = []
        for _ in range(runs):
            model.reset_model()
            model.advance_until_completion()
            sizes.append(model.get_num_activated_nodes())
        theirs = np.array(sizes)
        se = np.hypot(ours.sem, theirs.std(ddof=1) / np.sqrt(runs))
        assert abs(ours.mean - theirs.mean()) < 4 * se, (prob, ours.mean, theirs.mean(), se)
