"""Seed selection: IMM against exact expected spreads and CELF, heuristics, comparison table."""

from __future__ import annotations

import itertools
import math
import time
from collections import deque

import numba
import numpy as np
import pyarrow as pa
import pytest

from whuffie.errors import WhuffieError
from whuffie.graph.build import Graph
from whuffie.spread.diffusion import DiffusionGraph, simulate_ic
from whuffie.spread.seeds import celf, compare_seeds, heuristic_seeds, imm
from whuffie.store.results import save_run

BOUND = 1 - 1 / math.e


def diffusion(n, edges):
    """A diffusion graph from ``(teller, listener, probability)`` triples."""
    src, dst, prob = zip(*edges, strict=True)
    return DiffusionGraph.from_arrays(n, np.array(src), np.array(dst), np.array(prob, dtype=float))


def exact_ic(n, edges, seeds):
    """Expected IC spread by enumerating all 2**m live-edge worlds (independent of the library)."""
    total = 0.0
    for live in itertools.product((False, True), repeat=len(edges)):
        weight = 1.0
        adj = [[] for _ in range(n)]
        for on, (u, v, p) in zip(live, edges, strict=True):
            weight *= p if on else 1 - p
            if on:
                adj[u].append(v)
        seen = set(seeds)
        queue = deque(seeds)
        while queue:
            for v in adj[queue.popleft()]:
                if v not in seen:
                    seen.add(v)
                    queue.append(v)
        total += weight * len(seen)
    return total


def exact_lt(n, edges, seeds):
    """Expected LT spread by enumerating the live-edge worlds of the LT model (Kempe et al. 2003):
    every node keeps at most one in-edge, ``(u, v)`` with probability ``w(u, v)``; weights into a
    node are scaled down to sum to 1 where they exceed it."""
    ins = [[] for _ in range(n)]
    for u, v, p in edges:
        ins[v].append((u, p))
    choices = []
    for v in range(n):
        total = sum(p for _, p in ins[v])
        scale = max(total, 1.0)
        opts = [(u, p / scale) for u, p in ins[v]]
        opts.append((None, 1 - sum(p for _, p in opts)))
        choices.append(opts)
    spread = 0.0
    for world in itertools.product(*choices):
        weight = math.prod(p for _, p in world)
        if weight == 0:
            continue
        reached = set(seeds)
        grew = True
        while grew:
            grew = False
            for v, (u, _) in enumerate(world):
                if v not in reached and u in reached:
                    reached.add(v)
                    grew = True
        spread += weight * len(reached)
    return spread


def random_graph(seed, n=7, m=11):
    rng = np.random.default_rng(seed)
    pairs = [(u, v) for u in range(n) for v in range(n) if u != v]
    pick = rng.choice(len(pairs), size=m, replace=False)
    return [(pairs[i][0], pairs[i][1], float(np.round(rng.uniform(0.1, 0.9), 2))) for i in pick]


@pytest.mark.parametrize("graph_seed", range(6))
@pytest.mark.parametrize("epsilon", [0.5, 0.1])
def test_imm_within_guarantee_of_celf_and_optimum(graph_seed, epsilon):
    n, k = 7, 2
    edges = random_graph(graph_seed, n)
    g = diffusion(n, edges)
    chosen = imm(g, k, epsilon=epsilon, seed=graph_seed)
    greedy = celf(g, k, runs=4_000, seed=graph_seed)
    best = max(exact_ic(n, edges, list(s)) for s in itertools.combinations(range(n), k))
    got = exact_ic(n, edges, chosen.seeds.tolist())
    assert got >= (BOUND - epsilon) * exact_ic(n, edges, greedy.seeds.tolist())
    assert got >= (BOUND - epsilon) * best
    # The RR estimate of the chosen set is close to its exact spread (an epsilon share of the optimum).
    assert abs(chosen.spread - got) <= epsilon * best
    assert len(set(chosen.seeds.tolist())) == k


@pytest.mark.slow
def test_imm_finds_the_optimum_on_small_graphs_at_small_epsilon():
    # With epsilon = 0.05 there are enough RR sets to separate the best pair from the rest on
    # these graphs (the exact gap is checked first so the test says why it could fail).
    hits = 0
    for graph_seed in range(6):
        n = 7
        edges = random_graph(graph_seed, n)
        spreads = {s: exact_ic(n, edges, list(s)) for s in itertools.combinations(range(n), 2)}
        best = max(spreads.values())
        chosen = tuple(sorted(imm(diffusion(n, edges), 2, epsilon=0.05, seed=1).seeds.tolist()))
        hits += spreads[chosen] >= best - 0.02
    assert hits == 6


def test_imm_weighted_cascade_exact():
    # Weighted cascade (p = 1 / in-degree): every node's in-edges share one probability, the case
    # sampled by geometric skips rather than one draw per edge.
    n = 7
    pairs = [(u, v) for u, v, _ in random_graph(5, n, m=12)]
    indeg = np.bincount([v for _, v in pairs], minlength=n)
    edges = [(u, v, 1 / indeg[v]) for u, v in pairs]
    spreads = {s: exact_ic(n, edges, list(s)) for s in itertools.combinations(range(n), 2)}
    chosen = imm(diffusion(n, edges), 2, epsilon=0.05, seed=2)
    got = spreads[tuple(sorted(chosen.seeds.tolist()))]
    assert got >= max(spreads.values()) - 0.02
    assert chosen.spread == pytest.approx(got, rel=0.05)


def test_imm_lt_within_guarantee():
    n, k = 6, 2
    edges = random_graph(3, n, m=10)
    g = diffusion(n, edges)
    chosen = imm(g, k, epsilon=0.1, model="lt")
    best = max(exact_lt(n, edges, list(s)) for s in itertools.combinations(range(n), k))
    got = exact_lt(n, edges, chosen.seeds.tolist())
    assert got >= (BOUND - 0.1) * best
    assert abs(chosen.spread - got) <= 0.1 * best


def test_star_hub_is_chosen_and_candidates_respected():
    # Node 0 tells six people (p = 0.5), node 7 tells two (p = 0.5), node 1 tells one.
    edges = [(0, v, 0.5) for v in range(1, 7)] + [(7, 8, 0.5), (7, 9, 0.5), (1, 10, 0.9)]
    g = diffusion(11, edges)
    assert imm(g, 1).seeds.tolist() == [0]
    # Exact: node 0 reaches 1 + 6 * 0.5 + 0.5 * 0.9 = 4.45.
    assert imm(g, 1, epsilon=0.1).spread == pytest.approx(4.45, rel=0.05)
    restricted = imm(g, 2, candidates=[1, 2, 7, 8])
    assert set(restricted.seeds.tolist()) == {7, 1}
    assert restricted.actors == [str(g.nodes[i]) for i in restricted.seeds]
    with pytest.raises(WhuffieError, match="node indices"):
        imm(g, 1, candidates=[11])


def test_reproducible_and_independent_of_threads():
    edges = random_graph(4, n=12, m=12)
    g = diffusion(12, edges)
    first = imm(g, 3, epsilon=0.2, seed=7)
    again = imm(g, 3, epsilon=0.2, seed=7)
    assert first.seeds.tolist() == again.seeds.tolist()
    assert first.spread == again.spread
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        single = imm(g, 3, epsilon=0.2, seed=7)
    finally:
        numba.set_num_threads(threads)
    assert (single.seeds.tolist(), single.spread) == (first.seeds.tolist(), first.spread)


def test_k_must_fit_the_eligible_nodes():
    # Decision: asking for more seeds than eligible nodes is an error, not a silent cap.
    g = diffusion(3, [(0, 1, 0.5), (1, 2, 0.5)])
    assert imm(g, 3).seeds.tolist() != []
    with pytest.raises(WhuffieError, match="only 3 eligible"):
        imm(g, 4)
    with pytest.raises(WhuffieError, match="only 1 eligible"):
        imm(g, 2, candidates=[2])
    with pytest.raises(WhuffieError, match="at least 1"):
        imm(g, 0)
    with pytest.raises(WhuffieError, match="epsilon"):
        imm(g, 1, epsilon=1.5)


def test_rr_memory_ceiling_raises():
    edges = random_graph(1, n=7, m=11)
    with pytest.raises(WhuffieError, match="GiB"):
        imm(diffusion(7, edges), 2, epsilon=0.01, max_rr_bytes=10_000)


def test_celf_matches_the_exact_greedy():
    # Exact greedy by enumeration, then CELF with Monte Carlo: the same first seed, and its set's
    # exact spread within 2% of the exact greedy's.
    n = 7
    edges = random_graph(2, n)
    chosen: list[int] = []
    for _ in range(2):
        chosen.append(max((v for v in range(n) if v not in chosen),
                          key=lambda v: exact_ic(n, edges, [*chosen, v])))
    got = celf(diffusion(n, edges), 2, runs=20_000)
    assert got.seeds[0] == chosen[0]
    assert exact_ic(n, edges, got.seeds.tolist()) >= 0.98 * exact_ic(n, edges, chosen)
    assert got.spread == pytest.approx(exact_ic(n, edges, got.seeds.tolist()), rel=0.03)


def test_heuristics_on_graphs_and_stored_efluentials(store):
    att = Graph.from_edges([("a", "c", 1), ("b", "c", 1), ("c", "d", 1), ("a", "d", 1), ("b", "a", 1),
                            ("e", "d", 1)])
    dg = DiffusionGraph.from_graph(att, prob=0.5)
    # Listeners: d has 3 (a, c, e), c has 2 (a, b), a has 1 (b).
    assert [dg.nodes[i] for i in heuristic_seeds(dg, 2, "degree")] == ["d", "c"]
    assert [att.nodes[i] for i in heuristic_seeds(att, 2, "degree")] == ["d", "c"]
    assert [dg.nodes[i] for i in heuristic_seeds(dg, 2, "degree", candidates=[0, 2])] == ["c", "a"]
    # d receives attention from three actors including c: top of PageRank.
    assert dg.nodes[heuristic_seeds(dg, 1, "pagerank", graph=att)[0]] == "d"
    core = heuristic_seeds(dg, 5, "coreness", graph=att)
    # Undirected, a, b, c, d form a 2-core (no 3-core: b has two neighbours); e hangs by one edge.
    assert dg.nodes[core[-1]] == "e"
    with pytest.raises(WhuffieError, match="attention graph"):
        heuristic_seeds(dg, 1, "pagerank")
    with pytest.raises(WhuffieError, match="needs an 'efluentials' result"):
        heuristic_seeds(dg, 1, "efluentials")
    save_run(store, "efluentials", {"efluentials": pa.table({
        "actor_id": ["c", "zz", "a", "b"], "rank": [2, 1, 3, 4]})}, {})
    # 'zz' is not in the graph; b (rank 4) is past k.
    stored = store.result("efluentials")
    assert [dg.nodes[i] for i in heuristic_seeds(dg, 2, "efluentials", efluentials=stored)] == ["c", "a"]
    with pytest.raises(WhuffieError, match="unknown heuristic"):
        heuristic_seeds(dg, 1, "followers")


def test_compare_seeds_table():
    # Deterministic edges (p = 1): 0 reaches 0, 1, 2, 3; 4 reaches only itself.
    g = diffusion(5, [(0, 1, 1.0), (1, 2, 1.0), (0, 3, 1.0), (4, 3, 0.5)])
    t = compare_seeds(g, 1, {"low": [4, 0], "high": [0]}, runs=500)
    assert t.column("method").to_pylist() == ["high", "low"]
    assert t.column("mean").to_pylist()[0] == 4.0
    # 4 alone: itself plus 3 half the time, measured over 500 runs.
    assert t.column("mean").to_pylist()[1] == pytest.approx(1.5, abs=0.1)
    assert t.column("k").to_pylist() == [1, 1]
    assert t.column("vs_best").to_pylist()[0] == 1.0
    assert t.column("p5").to_pylist()[0] == t.column("p95").to_pylist()[0] == 4.0


@pytest.mark.slow
def test_higgs_imm_beats_top_degree(shared):
    data = np.loadtxt(shared / "higgs_reply_mention" / "higgs-mention_network.edgelist", dtype=np.int64)
    data = data[data[:, 0] != data[:, 1]]
    ids, inverse = np.unique(data[:, :2], return_inverse=True)
    inverse = inverse.reshape(-1, 2)
    # Attention a -> b (a mentioned b): b's word reaches a. Weighted cascade p = 1 / in-degree.
    tellers, listeners = inverse[:, 1], inverse[:, 0]
    indeg = np.bincount(listeners, minlength=len(ids))
    g = DiffusionGraph.from_arrays(len(ids), tellers, listeners, 1.0 / indeg[listeners],
                                   nodes=ids.astype(str).astype(object))
    imm(g, 1, seed=1)  # warm the numba cache, so the timing below is the algorithm's
    start = time.perf_counter()
    chosen = imm(g, 20)
    assert time.perf_counter() - start < 5
    top = heuristic_seeds(g, 20, "degree")
    runs = 4_000
    ours, degree = (simulate_ic(g, s.tolist(), runs=runs, seed=3) for s in (chosen.seeds, top))
    # Ties or better: within three standard errors of the difference, and here clearly above.
    se = math.hypot(ours.std, degree.std) / math.sqrt(runs)
    assert ours.mean >= degree.mean - 3 * se
    # IMM's own estimate agrees with the Monte Carlo of its set (epsilon-level accuracy).
    assert chosen.spread == pytest.approx(ours.mean, rel=0.1)
