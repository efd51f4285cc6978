"""Whom to approach: seed sets that spread word of mouth furthest, and the rules of thumb to compare.

* :func:`imm` — IMM (Tang, Shi & Xiao, SIGMOD 2015): reverse-reachable (RR) sets sampled until the
  martingale bounds hold, then greedy maximum coverage; the seed set's expected spread is within
  ``1 - 1/e - epsilon`` of the best possible, with probability at least ``1 - 1/n**ell``.
* :func:`celf` — CELF lazy greedy (Leskovec et al., KDD 2007) over Monte-Carlo spread estimates:
  the exact-greedy check, for small graphs only.
* :func:`heuristic_seeds` — what a user would otherwise pick: top degree, PageRank, coreness, the
  e-fluentials; :func:`compare_seeds` puts any seed sets side by side by Monte-Carlo spread.

Graphs are in the *diffusion* direction (teller -> listener), as
:class:`whuffie.spread.diffusion.DiffusionGraph`; any object with ``n``, ``indptr``, ``indices``,
``prob`` and ``nodes`` works.

IMM deviates from the paper in one place, on purpose: the RR sets of the final phase are sampled
afresh instead of reusing those of the lower-bound search. Chen (2018, "An issue in the martingale
analysis of the influence maximization algorithm IMM") showed that reusing them breaks the
martingale argument; fresh sets restore the guarantee at the cost of more sampling.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
import pyarrow as pa
from numba import njit, prange

from whuffie.errors import WhuffieError
from whuffie.progress import phase

#: Heuristics known to :func:`heuristic_seeds`.
HEURISTICS = ("degree", "pagerank", "coreness", "efluentials")

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_INV53 = 1.0 / 9007199254740992.0
#: Per-thread output buffer of one sampling batch, in node ids (64 MiB of int32).
_BATCH_CAP = 1 << 24
#: Default ceiling on the memory of the RR sets and their inverted index.
MAX_RR_BYTES = 4 << 30


@dataclass
class SeedResult:
    """Seeds chosen by :func:`imm` or :func:`celf`.

    Attributes
    ----------
    seeds : numpy.ndarray
        Node indices (int64), in the order they were chosen.
    actors : list of str
        Actor id of every seed.
    spread : float
        Estimated expected spread of the whole set (seeds included): ``n`` times the share of RR
        sets covered (IMM), or the Monte-Carlo mean (CELF).
    gains : numpy.ndarray
        Estimated spread of the first 1, 2, ..., k seeds (the value of each extra seed).
    method : str
    rr_sets : int
        RR sets behind the final selection (0 for CELF).
    rr_bytes : int
        Peak memory of the RR sets and their inverted index (0 for CELF).
    timings : dict
        Seconds per phase (``sampling``, ``selection``, ``total``).
    params : dict
        The parameters, JSON-ready.
    """

    seeds: np.ndarray
    actors: list[str]
    spread: float
    gains: np.ndarray
    method: str
    rr_sets: int = 0
    rr_bytes: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def to_table(self) -> pa.Table:
        """One row per seed: ``position``, ``node``, ``actor_id``, ``spread`` (of the seeds so far)."""
        return pa.table({
            "position": pa.array(np.arange(1, len(self.seeds) + 1), pa.int64()),
            "node": pa.array(self.seeds, pa.int64()),
            "actor_id": pa.array(self.actors, pa.string()),
            "spread": pa.array(self.gains, pa.float64()),
        })


# ---------------------------------------------------------------------------------------------
# Random numbers: one splitmix64 stream per RR set, keyed by (seed, phase, set index), so the sets
# are the same whatever the number of threads or the batch boundaries.


@njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _uniform(z):
    return np.float64(z >> np.uint64(11)) * _INV53


@njit(cache=True)
def _rr_range(rptr, rsrc, rw, skip, n, key, lo, hi, lt, out, sizes, base, stamp, tick):
    """RR sets ``lo .. hi-1`` into ``out``; returns (first set not done, elements used, tick).

    IC: reverse BFS, each in-edge live with its probability. LT: reverse random walk choosing at
    most one in-edge by weight, stopping at a node already on the walk. The set doubles as the BFS
    queue. Stops early (leaving a set unfinished) when ``out`` is full.

    ``skip[v]`` is ``log(1 - p)`` when all in-edges of ``v`` share one probability ``0 < p < 1``
    (always so under weighted cascade), NaN otherwise. There the gap to the next live edge is
    drawn from the geometric distribution, so a node with 10,000 in-edges at p = 1/10,000 costs
    about one draw instead of 10,000 (the live edges have the same law either way).
    """
    cap = out.shape[0]
    pos = 0
    for i in range(lo, hi):
        if pos >= cap:
            return i, pos, tick
        tick += 1
        state = _mix(key ^ (np.uint64(i) * _GOLDEN))
        state += _GOLDEN
        root = min(int(_uniform(_mix(state)) * n), n - 1)
        start = pos
        out[pos] = root
        pos += 1
        stamp[root] = tick
        head = start
        full = False
        while head < pos and not full:
            v = out[head]
            head += 1
            if lt:
                state += _GOLDEN
                r = _uniform(_mix(state))
                acc = 0.0
                for e in range(rptr[v], rptr[v + 1]):
                    acc += rw[e]
                    if r < acc:
                        u = rsrc[e]
                        if stamp[u] != tick:
                            if pos >= cap:
                                full = True
                            else:
                                stamp[u] = tick
                                out[pos] = u
                                pos += 1
                        break
            elif not np.isnan(skip[v]):
                e = rptr[v] - 1
                end = rptr[v + 1]
                while True:
                    state += _GOLDEN
                    # 1 - U is in (0, 1], so the logarithm is finite.
                    e += 1 + int(math.log(1.0 - _uniform(_mix(state))) / skip[v])
                    if e >= end:
                        break
                    u = rsrc[e]
                    if stamp[u] == tick:
                        continue
                    if pos >= cap:
                        full = True
                        break
                    stamp[u] = tick
                    out[pos] = u
                    pos += 1
            else:
                for e in range(rptr[v], rptr[v + 1]):
                    u = rsrc[e]
                    if stamp[u] == tick:
                        continue
                    p = rw[e]
                    if p < 1.0:
                        state += _GOLDEN
                        if _uniform(_mix(state)) >= p:
                            continue
                    if pos >= cap:
                        full = True
                        break
                    stamp[u] = tick
                    out[pos] = u
                    pos += 1
        if full:
            return i, start, tick
        sizes[i - base] = pos - start
    return hi, pos, tick


@njit(cache=True, parallel=True)
def _rr_batch(rptr, rsrc, rw, skip, n, key, los, his, lt, out, sizes, base, stamps, ticks):
    """One contiguous range of set indices per thread (numba ``prange``), each into its own row."""
    ends = np.empty(len(los), np.int64)
    used = np.empty(len(los), np.int64)
    for t in prange(len(los)):
        e, p, tk = _rr_range(rptr, rsrc, rw, skip, n, key, los[t], his[t], lt, out[t], sizes, base,
                             stamps[t], ticks[t])
        ends[t] = e
        used[t] = p
        ticks[t] = tk
    return ends, used


@njit(cache=True)
def _max_coverage(flat, offsets, nsets, n, k, eligible):
    """Greedy maximum coverage of RR sets by ``k`` eligible nodes (lazy max-heap).

    Returns (seeds, covered sets after each seed, bytes of the inverted index).
    """
    iptr = np.zeros(n + 1, np.int64)
    total = offsets[nsets]
    for j in range(total):
        v = flat[j]
        if eligible[v]:
            iptr[v + 1] += 1
    for v in range(n):
        iptr[v + 1] += iptr[v]
    fill = iptr[:-1].copy()
    inv = np.empty(iptr[n], np.int32)
    for s in range(nsets):
        for j in range(offsets[s], offsets[s + 1]):
            v = flat[j]
            if eligible[v]:
                inv[fill[v]] = s
                fill[v] += 1
    count = iptr[1:] - iptr[:-1]
    heap = [(np.int64(0), np.int64(0))]
    heap.pop()
    for v in range(n):
        if eligible[v] and count[v] > 0:
            heap.append((-count[v], np.int64(v)))
    heapq.heapify(heap)
    covered = np.zeros(nsets, np.bool_)
    chosen = np.zeros(n, np.bool_)
    seeds = np.empty(k, np.int64)
    gains = np.empty(k, np.int64)
    done = 0
    got = 0
    while done < k and len(heap) > 0:
        c, v = heapq.heappop(heap)
        if -c != count[v]:
            if count[v] > 0:
                heapq.heappush(heap, (-count[v], v))
            continue
        got += count[v]
        seeds[done] = v
        gains[done] = got
        chosen[v] = True
        done += 1
        for j in range(iptr[v], iptr[v + 1]):
            s = inv[j]
            if covered[s]:
                continue
            covered[s] = True
            for q in range(offsets[s], offsets[s + 1]):
                u = flat[q]
                if eligible[u]:
                    count[u] -= 1
    # Fewer nodes than k cover anything: the rest add nothing the sample can see; take them in
    # node order so the answer still has k seeds.
    v = 0
    while done < k and v < n:
        if eligible[v] and not chosen[v]:
            seeds[done] = v
            gains[done] = got
            done += 1
        v += 1
    return seeds, gains, inv.nbytes + iptr.nbytes + covered.nbytes + count.nbytes


class _RRSets:
    """RR sets stored flat: node ids in one int32 array, set boundaries in an int64 offset array."""

    def __init__(self, rev: tuple[np.ndarray, ...], n: int, key: int, lt: bool, max_bytes: int):
        self.rptr, self.rsrc, self.rw, self.skip = rev
        self.n, self.key, self.lt, self.max_bytes = n, np.uint64(key), lt, max_bytes
        self.flat = np.empty(1024, np.int32)
        self.offsets = np.zeros(1, np.int64)
        self.count = 0
        self.threads = numba.get_num_threads()
        self.stamps = np.zeros((self.threads, n), np.int64)
        self.ticks = np.zeros(self.threads, np.int64)
        self.min_cap = 4096

    @property
    def size(self) -> int:
        return int(self.offsets[self.count])

    @property
    def nbytes(self) -> int:
        return self.flat.nbytes + self.offsets.nbytes + self.stamps.nbytes

    def _append(self, parts: list[np.ndarray], sizes: list[np.ndarray]) -> None:
        grow = sum(len(p) for p in parts)
        need = self.size + grow
        if need > len(self.flat):
            cap = max(need, int(len(self.flat) * 1.5))
            self._check(cap * 4 * 2)
            flat = np.empty(cap, np.int32)
            flat[: self.size] = self.flat[: self.size]
            self.flat = flat
        pos = self.size
        for p in parts:
            self.flat[pos: pos + len(p)] = p
            pos += len(p)
        new = np.concatenate(sizes) if sizes else np.zeros(0, np.int64)
        self.offsets = np.concatenate([self.offsets[: self.count + 1], self.size + np.cumsum(new)])
        self.count += len(new)

    def _check(self, nbytes: int) -> None:
        # The inverted index built for the selection is as large again as the sets (int32 each).
        if nbytes > self.max_bytes:
            raise WhuffieError(
                f"IMM needs about {nbytes / 2**30:.1f} GiB for its RR sets, above the limit of "
                f"{self.max_bytes / 2**30:.1f} GiB; raise epsilon (fewer sets) or max_rr_bytes")

    def extend_to(self, target: int) -> None:
        """Sample sets until there are ``target`` of them (set ``i`` is always the same set)."""
        pending = [(self.count, target)] if target > self.count else []
        while pending:
            mean = self.size / self.count if self.count else 4.0
            todo = sum(h - lo for lo, h in pending)
            self._check(int((self.size + todo * mean) * 4 * 2))
            cap = int(min(_BATCH_CAP, max(self.min_cap, todo / self.threads * mean * 1.2 + 1024)))
            per = max(1, int(cap / (mean * 1.2)))
            los, his = [], []
            while pending and len(los) < self.threads:
                lo, hi = pending.pop()
                cut = min(hi, lo + per)
                los.append(lo)
                his.append(cut)
                if cut < hi:
                    pending.append((cut, hi))
            base = min(los)
            sizes = np.zeros(max(his) - base, np.int64)
            out = np.empty((len(los), cap), np.int32)
            ends, used = _rr_batch(self.rptr, self.rsrc, self.rw, self.skip, self.n, self.key,
                                   np.array(los, np.int64), np.array(his, np.int64), self.lt, out,
                                   sizes, base, self.stamps, self.ticks)
            parts, lens = [], []
            for t, (lo, hi) in enumerate(zip(los, his, strict=True)):
                end = int(ends[t])
                if end == lo:
                    # Not even one set fitted in the row: one set is larger than the row.
                    if cap >= _BATCH_CAP:
                        raise WhuffieError(
                            f"an RR set holds more than {cap:,} nodes; the probabilities make almost "
                            "everyone reach almost everyone — lower them")
                    self.min_cap = min(_BATCH_CAP, cap * 4)
                parts.append(out[t, : used[t]])
                lens.append(sizes[lo - base: end - base])
                if end < hi:
                    pending.append((end, hi))
            self._append(parts, lens)


@njit(cache=True)
def _transpose(indptr, indices, prob, n):
    """The in-edges of every node (CSR by listener, tellers in increasing order), by counting sort,
    and the geometric skip of nodes whose in-edges share one probability (see :func:`_rr_range`)."""
    rptr = np.zeros(n + 1, np.int64)
    for e in range(len(indices)):
        rptr[indices[e] + 1] += 1
    for v in range(n):
        rptr[v + 1] += rptr[v]
    fill = rptr[:-1].copy()
    rsrc = np.empty(len(indices), np.int32)
    rw = np.empty(len(indices), np.float64)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            rsrc[fill[v]] = u
            rw[fill[v]] = prob[e]
            fill[v] += 1
    skip = np.full(n, np.nan)
    for v in range(n):
        lo, hi = rptr[v], rptr[v + 1]
        if hi == lo or not 0.0 < rw[lo] < 1.0:
            continue
        same = True
        for e in range(lo + 1, hi):
            if rw[e] != rw[lo]:
                same = False
                break
        if same:
            skip[v] = math.log1p(-rw[lo])
    return rptr, rsrc, rw, skip


def _reverse(g, lt: bool) -> tuple[np.ndarray, ...]:
    """In-edges by listener: teller, IC probability or LT weight, geometric skip (IC only)."""
    n = g.n
    rptr, rsrc, rw, skip = _transpose(np.asarray(g.indptr, np.int64), np.asarray(g.indices, np.int32),
                                      np.asarray(g.prob, np.float64), n)
    if lt:
        # LT needs the weights into a listener to sum to at most 1; scaled down only where they
        # exceed it (the remaining mass is the chance that no in-neighbour is picked).
        listener = np.repeat(np.arange(n), np.diff(rptr))
        rw = rw / np.maximum(np.bincount(listener, weights=rw, minlength=n), 1.0)[listener]
        skip[:] = np.nan
    return rptr, rsrc, rw, skip


def _eligible(g, candidates: Iterable[int] | None) -> np.ndarray:
    mask = np.zeros(g.n, np.bool_)
    if candidates is None:
        mask[:] = True
        return mask
    cand = np.asarray(list(candidates) if not isinstance(candidates, np.ndarray) else candidates)
    if cand.size and (cand.dtype.kind not in "iu" or cand.min() < 0 or cand.max() >= g.n):
        raise WhuffieError(f"candidates must be node indices in 0..{g.n - 1}; map actor ids with "
                           "the graph's nodes first")
    mask[cand.astype(np.int64)] = True
    return mask


def _check_k(k: int, eligible: np.ndarray) -> int:
    avail = int(eligible.sum())
    if k < 1:
        raise WhuffieError(f"k must be at least 1, got {k}")
    if k > avail:
        raise WhuffieError(
            f"k={k} seeds asked but only {avail} eligible nodes (graph nodes or candidates); "
            f"ask for at most {avail}")
    return int(k)


def _actors(g, seeds: np.ndarray) -> list[str]:
    nodes = getattr(g, "nodes", None)
    if nodes is None:
        return [str(int(s)) for s in seeds]
    return [str(nodes[int(s)]) for s in seeds]


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _seed_key(seed: int, phase: int) -> int:
    return int(_mix(np.uint64((seed * 2 + phase) & 0xFFFFFFFFFFFFFFFF)))


def imm(
    g,
    k: int,
    epsilon: float = 0.5,
    ell: float = 1.0,
    seed: int = 0,
    candidates: Iterable[int] | None = None,
    model: str = "ic",
    max_rr_bytes: int = MAX_RR_BYTES,
) -> SeedResult:
    """The ``k`` seeds of largest expected spread, within ``1 - 1/e - epsilon`` of the best (IMM).

    Reverse-reachable sets: pick a node uniformly, keep each in-edge live with its probability
    (IC), collect everyone who reaches it. A seed set's expected spread is ``n`` times the chance
    that it touches such a set, so the best seeds are a maximum coverage of many sets. The number of
    sets follows IMM's martingale bounds (Tang, Shi & Xiao 2015, Algorithm 2: ``lambda'``, a lower
    bound on the optimum by halving ``x = n / 2**i``, then ``lambda*``), with ``ell`` raised to
    ``ell * (1 + log 2 / log n)`` so that the whole guarantee holds with probability
    ``1 - 1/n**ell``; the final sets are sampled afresh (see the module notes).

    Parameters
    ----------
    g : DiffusionGraph
        Diffusion direction (teller -> listener); anything with ``n``, ``indptr``, ``indices``,
        ``prob``, ``nodes``.
    k : int
        Number of seeds, between 1 and the number of eligible nodes (more raises: there are not
        that many people to approach).
    epsilon : float
        Approximation slack, in (0, 1); the number of RR sets grows as ``1 / epsilon**2``.
    ell : float
        Confidence: the guarantee fails with probability at most ``1 / n**ell``.
    seed : int
        Random seed; the result does not depend on the number of threads.
    candidates : iterable of int, optional
        Node indices allowed as seeds (e.g. actors who already spoke positively); the guarantee is
        then relative to the best ``k`` candidates.
    model : {"ic", "lt"}
        Independent cascade, or linear threshold with the probabilities as weights (scaled down
        to sum to 1 per listener where they exceed it).
    max_rr_bytes : int
        Memory ceiling for the RR sets and their index; exceeding it raises instead of swapping.

    Returns
    -------
    SeedResult

    Raises
    ------
    WhuffieError
        For a bad ``k``, ``epsilon``, ``ell``, model or candidates, or when the RR sets would
        exceed ``max_rr_bytes``.

    Examples
    --------
    A star: the hub (0) tells four people for sure, one of whom (1) tells a fifth.

    >>> from whuffie.spread.diffusion import DiffusionGraph
    >>> g = DiffusionGraph.from_arrays(6, [0, 0, 0, 0, 1], [1, 2, 3, 4, 5], 1.0)
    >>> result = imm(g, k=1)
    >>> result.seeds.tolist(), round(result.spread)
    ([0], 6)
    >>> imm(g, k=1, candidates=[1, 2]).seeds.tolist()
    [1]
    """
    t0 = time.perf_counter()
    if model not in ("ic", "lt"):
        raise WhuffieError(f"model must be 'ic' or 'lt', got {model!r}")
    if not 0 < epsilon < 1:
        raise WhuffieError(f"epsilon must be in (0, 1), got {epsilon}")
    if ell <= 0:
        raise WhuffieError(f"ell must be positive, got {ell}")
    n = int(g.n)
    eligible = _eligible(g, candidates)
    k = _check_k(k, eligible)
    lt = model == "lt"
    rev = _reverse(g, lt)
    n_cand = int(eligible.sum())
    log_n = math.log(n) if n > 1 else 1.0
    ell = ell * (1 + math.log(2) / log_n)
    log_c = _log_comb(n_cand, k)
    eps1 = math.sqrt(2) * epsilon
    lambda1 = ((2 + 2 / 3 * eps1) * (log_c + ell * log_n + math.log(max(math.log2(n), 1.0)))
               * n / eps1 ** 2)
    e1 = 1 - 1 / math.e
    alpha = math.sqrt(ell * log_n + math.log(2))
    beta = math.sqrt(e1 * (log_c + ell * log_n + math.log(2)))
    lambda_star = 2 * n * (e1 * alpha + beta) ** 2 / epsilon ** 2

    peak = 0
    sample = _RRSets(rev, n, _seed_key(seed, 0), lt, max_rr_bytes)
    lower = 1.0
    t_sample = t_select = 0.0
    for i in range(1, max(int(math.log2(n)), 2)):
        x = n / 2 ** i
        t = time.perf_counter()
        sample.extend_to(math.ceil(lambda1 / x))
        t_sample += time.perf_counter() - t
        t = time.perf_counter()
        _, got, idx_bytes = _max_coverage(sample.flat, sample.offsets, sample.count, n, k, eligible)
        t_select += time.perf_counter() - t
        peak = max(peak, sample.nbytes + idx_bytes)
        estimate = n * got[-1] / sample.count
        if estimate >= (1 + eps1) * x:
            lower = estimate / (1 + eps1)
            break
    theta = math.ceil(lambda_star / lower)
    del sample
    final = _RRSets(rev, n, _seed_key(seed, 1), lt, max_rr_bytes)
    t = time.perf_counter()
    final.extend_to(theta)
    t_sample += time.perf_counter() - t
    t = time.perf_counter()
    seeds, got, idx_bytes = _max_coverage(final.flat, final.offsets, final.count, n, k, eligible)
    t_select += time.perf_counter() - t
    peak = max(peak, final.nbytes + idx_bytes)
    gains = n * got.astype(np.float64) / final.count
    return SeedResult(
        seeds=seeds, actors=_actors(g, seeds), spread=float(gains[-1]), gains=gains, method="imm",
        rr_sets=final.count, rr_bytes=peak,
        timings={"sampling": t_sample, "selection": t_select, "total": time.perf_counter() - t0},
        params={"k": k, "epsilon": epsilon, "ell": ell, "seed": seed, "model": model,
                "candidates": None if candidates is None else n_cand, "lower_bound": lower},
    )


def celf(
    g,
    k: int,
    runs: int = 2_000,
    seed: int = 0,
    candidates: Iterable[int] | None = None,
    model: str = "ic",
) -> SeedResult:
    """Greedy seeds by Monte-Carlo spread, evaluated lazily (CELF); the exact-greedy check.

    Every candidate's marginal gain is estimated once; afterwards only the node on top of the queue
    is re-evaluated, since gains can only shrink as seeds are added (submodularity). Every estimate
    uses the same random seed (common random numbers), so two sets are compared on the same
    simulated worlds. Costs about ``n * runs`` simulations: small graphs only.

    Parameters
    ----------
    g : DiffusionGraph
    k : int
    runs : int
        Monte-Carlo runs per estimate.
    seed : int
    candidates : iterable of int, optional
    model : {"ic", "lt"}

    Returns
    -------
    SeedResult

    Examples
    --------
    >>> from whuffie.spread.diffusion import DiffusionGraph
    >>> g = DiffusionGraph.from_arrays(4, [0, 0, 1], [1, 2, 3], [1.0, 1.0, 0.5])
    >>> celf(g, k=1, runs=1_000).seeds.tolist()
    [0]
    """
    from whuffie.spread.diffusion import simulate_ic, simulate_lt

    if model not in ("ic", "lt"):
        raise WhuffieError(f"model must be 'ic' or 'lt', got {model!r}")
    simulate = simulate_ic if model == "ic" else simulate_lt
    t0 = time.perf_counter()
    eligible = _eligible(g, candidates)
    k = _check_k(k, eligible)

    def spread(nodes: list[int]) -> float:
        return float(simulate(g, nodes, runs=runs, seed=seed).mean)

    heap = [(-spread([v]), v, 0) for v in np.flatnonzero(eligible).tolist()]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    current = 0.0
    while len(chosen) < k:
        neg, v, stamp = heapq.heappop(heap)
        if stamp == len(chosen):
            chosen.append(v)
            current += -neg
            gains.append(current)
        else:
            heapq.heappush(heap, (-(spread([*chosen, v]) - current), v, len(chosen)))
    seeds = np.array(chosen, np.int64)
    return SeedResult(seeds=seeds, actors=_actors(g, seeds), spread=current, gains=np.array(gains),
                      method="celf", timings={"total": time.perf_counter() - t0},
                      params={"k": k, "runs": runs, "seed": seed, "model": model})


def heuristic_seeds(
    g,
    k: int,
    how: str,
    *,
    graph=None,
    efluentials: pa.Table | None = None,
    candidates: Iterable[int] | None = None,
) -> np.ndarray:
    """The top ``k`` actors by a rule of thumb, as node indices of ``g``.

    Parameters
    ----------
    g : DiffusionGraph or Graph
        The graph whose node indices are returned. A diffusion graph (teller -> listener) or the
        attention :class:`~whuffie.graph.build.Graph` (listener -> teller).
    k : int
        Returns at most ``k`` nodes (fewer only for ``"efluentials"`` when fewer are stored).
    how : {"degree", "pagerank", "coreness", "efluentials"}
        ``degree``: people who listen to them (out-degree in the diffusion graph, in-degree in the
        attention graph); ``pagerank``, ``coreness``: :func:`whuffie.influence.rank.pagerank` and
        :func:`~whuffie.influence.rank.coreness` on the attention graph; ``efluentials``: the
        ``efluentials`` table given, by rank. Ties go to the lower node index.
    graph : Graph, optional
        The attention graph, for ``pagerank`` and ``coreness`` when ``g`` is a diffusion graph;
        nodes are matched by actor id.
    efluentials : pyarrow.Table, optional
        An ``efluentials`` result (``actor_id``, ``rank``), for ``efluentials``.
    candidates : iterable of int, optional
        Node indices of ``g`` allowed as seeds.

    Raises
    ------
    WhuffieError
        For an unknown ``how``, or a missing ``graph`` or ``efluentials``.

    Examples
    --------
    >>> from whuffie.graph.build import Graph
    >>> att = Graph.from_edges([("a", "c", 1), ("b", "c", 1), ("c", "d", 1), ("a", "d", 1), ("b", "a", 1)])
    >>> [att.nodes[i] for i in heuristic_seeds(att, 2, "degree")]
    ['c', 'd']
    >>> [att.nodes[i] for i in heuristic_seeds(att, 1, "pagerank")]
    ['d']
    """
    if how not in HEURISTICS:
        raise WhuffieError(f"unknown heuristic {how!r}; choose one of {', '.join(HEURISTICS)}")
    is_attention = hasattr(g, "src") and hasattr(g, "dst")
    eligible = _eligible(g, candidates)
    if how == "degree":
        if is_attention:
            score = np.bincount(g.dst, minlength=g.n).astype(np.float64)
        else:
            score = np.diff(np.asarray(g.indptr)).astype(np.float64)
        return _top(score, eligible, k)
    if how in ("pagerank", "coreness"):
        att = g if is_attention else graph
        if att is None:
            raise WhuffieError(f"heuristic {how!r} needs the attention graph: pass graph=build_graph(store)")
        from whuffie.influence.rank import coreness, pagerank

        att_score = pagerank(att) if how == "pagerank" else coreness(att).astype(np.float64)
        score = _align(att_score, att.nodes, g)
        return _top(score, eligible, k)
    if efluentials is None:
        raise WhuffieError("heuristic 'efluentials' needs an 'efluentials' result (whuffie efluentials)")
    table = efluentials.sort_by("rank")
    index = {a: i for i, a in enumerate(np.asarray(g.nodes).tolist())}
    picked = [index[a] for a in table.column("actor_id").to_pylist() if a in index and eligible[index[a]]]
    return np.array(picked[:k], np.int64)


def _align(score: np.ndarray, names: np.ndarray, g) -> np.ndarray:
    """A score over ``names`` re-indexed to the nodes of ``g`` (-inf where absent)."""
    target = np.asarray(g.nodes)
    if len(target) == len(names) and np.array_equal(target, names):
        return score
    index = {a: i for i, a in enumerate(np.asarray(names).tolist())}
    out = np.full(len(target), -np.inf)
    for j, a in enumerate(target.tolist()):
        i = index.get(a)
        if i is not None:
            out[j] = score[i]
    return out


def _top(score: np.ndarray, eligible: np.ndarray, k: int) -> np.ndarray:
    if k < 1:
        raise WhuffieError(f"k must be at least 1, got {k}")
    idx = np.flatnonzero(eligible & np.isfinite(score))
    order = np.lexsort((idx, -score[idx]))
    return idx[order[:k]].astype(np.int64)


#: Monte-Carlo runs :func:`compare_seeds` makes at a time, with the same random draws for every set.
COMPARE_BLOCK = 1000


def compare_seeds(
    g,
    k: int,
    sets: Mapping[str, Sequence[int]],
    runs: int = 10_000,
    seed: int = 0,
    model: str = "ic",
    precision: float | None = 0.005,
) -> pa.Table:
    """Seed sets side by side by Monte-Carlo spread, on the same model, runs and random draws.

    Runs are made in blocks of :data:`COMPARE_BLOCK`, every set with the same random draws
    (common random numbers, so the sets' differences are measured more precisely than their
    means), until each set's mean is known within ``precision`` of the best set's (its standard
    error over the largest mean) or ``runs`` are made. Every set gets the same number of runs.

    Parameters
    ----------
    g : DiffusionGraph
    k : int
        Each set is cut to its first ``k`` nodes.
    sets : mapping of str to sequence of int
        Method name -> node indices (e.g. ``imm(...).seeds``, ``heuristic_seeds(...)``).
    runs : int
        Most Monte-Carlo runs per set.
    seed : int
        Random seed (the same draws for every set).
    model : {"ic", "lt"}
    precision : float or None
        Stop once every set's standard error is at most this share of the largest mean (0.005:
        half a percent of the best set's reach); ``None`` makes all ``runs``.

    Returns
    -------
    pyarrow.Table
        ``method``, ``seeds`` (actor ids), ``k`` (seeds used), ``runs`` (runs made), ``mean``,
        ``std``, ``p5``, ``p95`` (5-95% interval of the number reached), ``vs_best`` (mean over the
        best mean), best first.

    Examples
    --------
    >>> from whuffie.spread.diffusion import DiffusionGraph
    >>> g = DiffusionGraph.from_arrays(4, [0, 0, 1], [1, 2, 3], [1.0, 1.0, 1.0])
    >>> t = compare_seeds(g, 1, {"zero": [0], "three": [3]}, runs=100)
    >>> t.column("method").to_pylist(), t.column("mean").to_pylist(), t.column("runs").to_pylist()
    (['zero', 'three'], [4.0, 1.0], [100, 100])
    """
    from whuffie.spread.diffusion import simulate_ic, simulate_lt

    if model not in ("ic", "lt"):
        raise WhuffieError(f"model must be 'ic' or 'lt', got {model!r}")
    simulate = simulate_ic if model == "ic" else simulate_lt
    chosen = {}
    for name, nodes in sets.items():
        chosen[name] = np.asarray(list(nodes), np.int64)[:k]
        if chosen[name].size == 0:
            raise WhuffieError(f"seed set {name!r} is empty; every compared method needs seeds")
    sizes: dict[str, list[np.ndarray]] = {name: [] for name in chosen}
    done, block = 0, 0
    while done < runs:
        n = min(COMPARE_BLOCK, runs - done)
        phase(f"simulating {len(chosen)} seed sets, runs {done + 1:,}-{done + n:,}", done, runs)
        for name, nodes in chosen.items():
            # Block b of every set draws from the same generator: seed and block number.
            sizes[name].append(simulate(g, nodes.tolist(), runs=n, seed=seed + 7_919 * block).sizes)
        done, block = done + n, block + 1
        if precision is not None and _precise([np.concatenate(s) for s in sizes.values()], precision):
            break
    rows = []
    for name, nodes in chosen.items():
        x = np.concatenate(sizes[name]).astype(np.float64)
        rows.append((name, _actors(g, nodes), len(nodes), len(x), float(x.mean()),
                     float(x.std(ddof=1)) if len(x) > 1 else 0.0,
                     float(np.percentile(x, 5)), float(np.percentile(x, 95))))
    rows.sort(key=lambda r: -r[4])
    best = rows[0][4] if rows else 0.0
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 8
    return pa.table({
        "method": pa.array(cols[0], pa.string()),
        "seeds": pa.array(cols[1], pa.list_(pa.string())),
        "k": pa.array(cols[2], pa.int64()),
        "runs": pa.array(cols[3], pa.int64()),
        "mean": pa.array(cols[4], pa.float64()),
        "std": pa.array(cols[5], pa.float64()),
        "p5": pa.array(cols[6], pa.float64()),
        "p95": pa.array(cols[7], pa.float64()),
        "vs_best": pa.array([r[4] / best if best else None for r in rows], pa.float64()),
    })


def _precise(samples: list[np.ndarray], precision: float) -> bool:
    """Whether every sample's mean is known within ``precision`` of the largest mean (standard
    error / largest mean): what separates the sets is then measured, whatever their sizes."""
    if len(samples[0]) < 2:
        return False
    best = max(float(x.mean()) for x in samples)
    return best > 0 and all(x.std(ddof=1) / np.sqrt(len(x)) <= precision * best for x in samples)
