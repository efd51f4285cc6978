"""Does influence predict cascade size? A held-out check on the Twitter15 propagation trees.

The question (influence issue): on twitter15, does an actor's influence, computed from the
*other* cascades, predict the size of the cascades the actor starts? Spearman rho for
PageRank, weighted and distinct in-degree and coreness, side by side, with a baseline.

Method
------
1. Twitter15 (``../shared/data/twitter15/twitter15``: 1,490 tree files + ``label.txt``) is read
   with the ``cascade-tree`` reader into a temporary store. By default the reader's records go
   to the store through :class:`whuffie.store.writer.Batch` in large transactions (about 40 s);
   ``--ingest`` uses ``store.ingest`` instead, which produces the same tables but costs
   ~0.2 s of store overhead per file (about 5.5 minutes for the 1,490 files); ``--store PATH``
   reuses a store built either way.
2. A cascade is a ``thread_id``; its size is the number of distinct actors among its messages
   (its root author included); its root author is the author of the root post (see
   :func:`cascades`).
3. Cascades are split at random into ``--folds`` folds (seeded). For each fold, the attention
   graph is built from the ``reshare`` interactions of the messages of the *other* folds only
   (``interactions`` joined with ``messages.thread_id``; one :class:`whuffie.graph.build.Graph`
   per fold, weights = interaction counts, self-loops dropped, as ``build_graph`` does), and
   PageRank, weighted in-degree (recognition), distinct in-degree and coreness are taken for
   the root authors of the fold's cascades. An author absent from that graph scores 0.
4. Spearman rho (``scipy.stats.spearmanr``) between each score and cascade size over all
   cascades, and over the cascades whose author is in the graph, with the p-value and a 95%
   percentile bootstrap interval (cascades resampled, ``--boot`` times).
5. Baselines: the number of cascades the author starts in the other folds, the number the author
   started *earlier* (by the root's time, any fold), and the median size of the author's
   cascades in the other folds (the "past performance" a marketer would look at first).
6. A stricter, forward-in-time variant: cascades sorted by start time, cut in ``--folds``
   blocks; each block after the first is scored with the graph of the blocks *before* it.

Run: ``.venv/bin/python benchmarks/validate_twitter15.py [--folds 5] [--boot 1000] [--seed 0]``.
It prints the figures as Markdown.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

import whuffie
from whuffie.errors import SourceError
from whuffie.graph.build import Graph, GraphSpec
from whuffie.influence.rank import coreness, pagerank
from whuffie.sources import get_reader
from whuffie.sources.base import Bad
from whuffie.sources.io import Input
from whuffie.store.writer import Batch

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WHUFFIE_SHARED_DATA", ROOT.parent / "shared" / "data"))
DATA = SHARED / "twitter15" / "twitter15"
MEASURES = ("pagerank", "recognition", "in_degree", "coreness")
BASELINES = ("cascades_other_folds", "cascades_before", "median_size_other_folds")


# -- loading -------------------------------------------------------------------------------


def load(store, data: Path, use_ingest: bool, batch_size: int = 150_000) -> dict[str, float]:
    """Read the tree files into ``store``; return counts and the time taken."""
    started = time.perf_counter()
    if use_ingest:
        report = store.ingest([data])
        out = {k: report.total(k) for k in ("read", "stored", "duplicate", "quarantined")}
    else:
        reader = get_reader("cascade-tree")
        out = dict.fromkeys(("read", "stored", "duplicate", "quarantined"), 0)
        batch = Batch()
        con = store.con

        def flush(b: Batch) -> None:
            con.execute("BEGIN TRANSACTION")
            stored, duplicate = b.flush(con, None)
            con.execute("COMMIT")
            out["stored"] += stored
            out["duplicate"] += duplicate

        # File-name order, as a folder import reads them: the first file wins a shared tweet.
        for path in sorted((data / "tree").glob("*.txt")):
            with Input(path) as inp:
                for item in reader.read(inp):
                    out["read"] += 1
                    if isinstance(item, Bad):
                        out["quarantined"] += 1
                        continue
                    try:
                        batch.add(reader.map_record(item.value))
                    except SourceError:
                        out["quarantined"] += 1
            if batch.primary_seen >= batch_size:
                flush(batch)
                batch = Batch()
        if batch.primary_seen:
            flush(batch)
    out["seconds"] = time.perf_counter() - started
    return out


def cascades(store) -> dict[str, np.ndarray]:
    """One row per cascade (thread): root author, size, start time.

    The root is the message whose id is the thread id (the source tweet), else the ``post`` of
    the thread, else a ``post`` reshared inside the thread (a root tweet shared with a cascade
    read earlier; see the cascade-tree reader's quirks).
    """
    rows = store.con.execute("""
        WITH t AS (SELECT DISTINCT thread_id FROM messages WHERE thread_id IS NOT NULL),
        cand AS (
            SELECT t.thread_id, m.actor_id, m.created_at, 1 AS pref
              FROM t JOIN messages m ON m.message_id = t.thread_id
            UNION ALL
            SELECT m.thread_id, m.actor_id, m.created_at, 2
              FROM messages m WHERE m.kind = 'post' AND m.thread_id IS NOT NULL
            UNION ALL
            SELECT c.thread_id, p.actor_id, p.created_at, 3
              FROM messages c JOIN messages p ON p.message_id = c.reshare_of
             WHERE p.kind = 'post' AND c.thread_id IS NOT NULL AND p.thread_id <> c.thread_id
        ),
        root AS (
            SELECT thread_id, actor_id, created_at, pref FROM cand
            QUALIFY row_number() OVER (PARTITION BY thread_id ORDER BY pref, created_at) = 1
        ),
        members AS (
            SELECT thread_id, actor_id FROM messages WHERE thread_id IS NOT NULL
            UNION SELECT thread_id, actor_id FROM root
        ),
        sizes AS (SELECT thread_id, count(DISTINCT actor_id) AS size FROM members GROUP BY thread_id)
        SELECT r.thread_id, r.actor_id, epoch(r.created_at) AS start, r.pref, s.size
          FROM root r JOIN sizes s USING (thread_id) ORDER BY r.thread_id
    """).fetchall()
    threads = store.con.execute(
        "SELECT count(DISTINCT thread_id) FROM messages WHERE thread_id IS NOT NULL").fetchall()[0][0]
    if len(rows) != threads:
        print(f"warning: {threads - len(rows)} cascades have no root post and are left out",
              file=sys.stderr)
    return {
        "thread": np.array([r[0] for r in rows], dtype=object),
        "author": np.array([r[1] for r in rows], dtype=object),
        "start": np.array([r[2] for r in rows], dtype=np.float64),
        "root_rule": np.array([r[3] for r in rows], dtype=np.int64),
        "size": np.array([r[4] for r in rows], dtype=np.int64),
    }


def interactions(store, threads: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All interactions as (actor names, source index, target index, cascade index)."""
    tbl = store.arrow("""
        SELECT i.source, i.target, m.thread_id
          FROM interactions i JOIN messages m ON m.message_id = i.message_id
         WHERE i.source IS NOT NULL AND i.target IS NOT NULL AND i.source <> i.target
    """)
    src = np.array(tbl.column("source").to_pylist(), dtype=object)
    dst = np.array(tbl.column("target").to_pylist(), dtype=object)
    names, inv = np.unique(np.concatenate([src, dst]), return_inverse=True)
    thread_index = {t: i for i, t in enumerate(threads.tolist())}
    cascade = np.array([thread_index.get(t, -1) for t in tbl.column("thread_id").to_pylist()],
                       dtype=np.int64)
    return names, inv[: len(src)], inv[len(src):], cascade


def graph_of(names: np.ndarray, src: np.ndarray, dst: np.ndarray) -> Graph:
    """The attention graph of some interactions (weights = counts, reshares weigh 1)."""
    n_all = len(names)
    pair, count = np.unique(src.astype(np.int64) * n_all + dst, return_counts=True)
    s, d = pair // n_all, pair % n_all
    used = np.unique(np.concatenate([s, d]))  # node ids in name order, as build_graph sorts them
    remap = np.full(n_all, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    s2, d2 = remap[s].astype(np.int32), remap[d].astype(np.int32)
    order = np.lexsort((d2, s2))
    return Graph(nodes=names[used], src=s2[order], dst=d2[order],
                 weight=count[order].astype(np.float64), count=count[order].astype(np.int64),
                 spec=GraphSpec(kinds=("reshare",)))


def scores_for(g: Graph, authors: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The four measures for ``authors`` (0 when absent), and whether each is present."""
    measures = {
        "pagerank": pagerank(g),
        "recognition": g.in_strength(),
        "in_degree": g.in_degree().astype(np.float64),
        "coreness": coreness(g).astype(np.float64),
    }
    idx = np.array([g.index.get(a, -1) for a in authors.tolist()], dtype=np.int64)
    present = idx >= 0
    out = {}
    for k, v in measures.items():
        col = np.zeros(len(authors))
        col[present] = v[idx[present]]
        out[k] = col
    return out, present


# -- statistics ----------------------------------------------------------------------------


def spearman(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, boot: int) -> dict:
    """Spearman rho, its p-value and a percentile bootstrap 95% interval."""
    res = stats.spearmanr(x, y)
    rho, p = float(res.statistic), float(res.pvalue)
    n = len(x)
    reps = np.empty(boot)
    for b in range(boot):
        i = rng.integers(0, n, n)
        reps[b] = stats.spearmanr(x[i], y[i]).statistic
    reps = reps[np.isfinite(reps)]
    lo, hi = (np.percentile(reps, [2.5, 97.5]) if len(reps) else (np.nan, np.nan))
    return {"rho": rho, "p": p, "lo": float(lo), "hi": float(hi), "n": n}


def partial_spearman(x: np.ndarray, y: np.ndarray, z: np.ndarray, rng: np.random.Generator,
                     boot: int) -> dict:
    """Spearman rho of x and y controlling for z: Pearson of rank residuals (no p-value)."""

    def rho(i: np.ndarray) -> float:
        rx, ry, rz = (stats.rankdata(v[i]) for v in (x, y, z))
        design = np.column_stack([np.ones(len(i)), rz])
        ex = rx - design @ np.linalg.lstsq(design, rx, rcond=None)[0]
        ey = ry - design @ np.linalg.lstsq(design, ry, rcond=None)[0]
        den = np.sqrt((ex @ ex) * (ey @ ey))
        return float(ex @ ey / den) if den > 0 else np.nan

    n = len(x)
    point = rho(np.arange(n))
    reps = np.array([rho(rng.integers(0, n, n)) for _ in range(boot)])
    reps = reps[np.isfinite(reps)]
    lo, hi = np.percentile(reps, [2.5, 97.5]) if len(reps) else (np.nan, np.nan)
    return {"rho": point, "p": np.nan, "lo": float(lo), "hi": float(hi), "n": n}


def fmt(r: dict) -> str:
    if not np.isfinite(r["p"]):
        return f"{r['rho']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}]"
    p = f"{r['p']:.1e}" if r["p"] < 1e-3 else f"{r['p']:.3f}"
    return f"{r['rho']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}] p={p}"


# -- the experiment ------------------------------------------------------------------------


def evaluate(c: dict, names, src, dst, cascade, folds: np.ndarray, train_of) -> dict:
    """Scores of every evaluated cascade, with each fold scored from ``train_of(fold)``."""
    n = len(c["thread"])
    out = {k: np.zeros(n) for k in (*MEASURES, *BASELINES)}
    present = np.zeros(n, dtype=bool)
    evaluated = np.zeros(n, dtype=bool)
    graphs = []
    for f in np.unique(folds):
        test = folds == f
        train = train_of(f)
        if not train.any():
            continue
        keep = (cascade >= 0) & train[np.maximum(cascade, 0)]
        g = graph_of(names, src[keep], dst[keep])
        graphs.append((int(f), g.n, g.m))
        sc, pres = scores_for(g, c["author"][test])
        for k, v in sc.items():
            out[k][test] = v
        present[test] = pres
        evaluated[test] = True
        # Baselines from the same training cascades.
        train_authors = c["author"][train]
        train_sizes = c["size"][train]
        by_author: dict[str, list[int]] = {}
        for a, s in zip(train_authors.tolist(), train_sizes.tolist(), strict=True):
            by_author.setdefault(a, []).append(s)
        test_idx = np.flatnonzero(test)
        for i in test_idx:
            sizes = by_author.get(c["author"][i], [])
            out["cascades_other_folds"][i] = len(sizes)
            out["median_size_other_folds"][i] = float(np.median(sizes)) if sizes else 0.0
    # Cascades the author started before this one (by root time, any fold).
    order = np.argsort(c["start"], kind="stable")
    seen: dict[str, int] = {}
    for i in order.tolist():
        a = c["author"][i]
        out["cascades_before"][i] = seen.get(a, 0)
        seen[a] = seen.get(a, 0) + 1
    return {"scores": out, "present": present, "evaluated": evaluated, "graphs": graphs}


def report(title: str, c: dict, res: dict, rng, boot: int) -> list[str]:
    size = c["size"].astype(np.float64)
    ev, pres = res["evaluated"], res["present"]
    lines = [f"### {title}", "",
             "Graphs (fold: nodes, edges): "
             + ", ".join(f"{f}: {n:,} / {m:,}" for f, n, m in res["graphs"]), "",
             f"Cascades evaluated: {int(ev.sum()):,}; root author in the training graph: "
             f"{int((ev & pres).sum()):,} ({(ev & pres).sum() / max(ev.sum(), 1):.1%}).", "",
             "| score | rho, all cascades (absent = 0) | rho, author in the graph |",
             "|---|---|---|"]
    for k in (*MEASURES, *BASELINES):
        x = res["scores"][k]
        a = spearman(x[ev], size[ev], rng, boot)
        b = spearman(x[ev & pres], size[ev & pres], rng, boot)
        lines.append(f"| {k} | {fmt(a)} (n={a['n']}) | {fmt(b)} (n={b['n']}) |")
    lines.append("")
    # Does the graph add anything to the author's track record? (1) partial rho given the
    # median size of the author's training cascades; (2) authors the graph knows only as
    # participants of others' cascades (no training cascade of their own: every baseline is 0).
    sc = res["scores"]
    z = sc["median_size_other_folds"]
    newcomer = ev & pres & (sc["cascades_other_folds"] == 0)
    lines += ["| score | partial rho given median_size_other_folds (all) | rho, authors known only as "
              f"participants (n={int(newcomer.sum())}) |", "|---|---|---|"]
    for k in MEASURES:
        x = sc[k]
        a = partial_spearman(x[ev], size[ev], z[ev], rng, boot)
        b = spearman(x[newcomer], size[newcomer], rng, boot) if newcomer.sum() > 3 else None
        lines.append(f"| {k} | {fmt(a)} | {fmt(b) if b else '-'} |")
    lines.append("")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--store", type=Path, help="reuse (or create) this store instead of a temporary one")
    ap.add_argument("--ingest", action="store_true", help="load with store.ingest (slow, ~5.5 min)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not (args.data / "tree").is_dir():
        print(f"Error: {args.data}/tree not found (set WHUFFIE_SHARED_DATA)", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    tmp = tempfile.TemporaryDirectory()
    path = args.store or Path(tmp.name) / "twitter15.duckdb"
    fresh = not path.exists()
    store = whuffie.open(path)
    try:
        loaded = load(store, args.data, args.ingest) if fresh else None
        c = cascades(store)
        names, src, dst, cascade = interactions(store, c["thread"])
        rng = np.random.default_rng(args.seed)
        n = len(c["thread"])
        out = ["## Twitter15: does influence from the other cascades predict cascade size?", ""]
        if loaded:
            out.append(f"Loaded: read {loaded['read']:,} lines, stored {loaded['stored']:,} messages, "
                       f"{loaded['duplicate']:,} duplicates, {loaded['quarantined']:,} quarantined "
                       f"({loaded['seconds']:.0f} s{', store.ingest' if args.ingest else ''}).")
        labels = store.con.execute(
            "SELECT count(*) FROM messages WHERE extra->>'label' IS NOT NULL").fetchall()[0][0]
        rules = np.bincount(c["root_rule"], minlength=4)
        out += [
            f"Cascades: {n:,}; distinct root authors {len(set(c['author'].tolist())):,}; "
            f"labels on root messages {labels:,}; root found by message id = thread {rules[1]:,}, "
            f"by the thread's post {rules[2]:,}, by a post reshared in the thread {rules[3]:,}.",
            f"Cascade size (distinct actors): median {np.median(c['size']):.0f}, "
            f"mean {c['size'].mean():.1f}, max {c['size'].max():,}. "
            f"Interactions: {len(src):,} reshares between {len(names):,} actors.", "",
        ]
        counts = np.unique(c["author"], return_counts=True)[1]
        out.append(f"Root authors starting 1 cascade: {(counts == 1).sum():,}; 2-5: "
                   f"{((counts >= 2) & (counts <= 5)).sum():,}; more: {(counts > 5).sum():,} "
                   f"(the top one starts {counts.max()}).")
        out.append("")
        # Random k-fold over cascades.
        folds = rng.permutation(np.arange(n) % args.folds)
        res = evaluate(c, names, src, dst, cascade, folds, lambda f: folds != f)
        out += report(f"Random {args.folds}-fold over cascades (seed {args.seed})", c, res, rng, args.boot)
        # Forward in time: each block scored from the blocks before it.
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(c["start"], kind="stable")] = np.arange(n)
        blocks = rank * args.folds // n
        res_t = evaluate(c, names, src, dst, cascade, blocks, lambda f: blocks < f)
        out += report(f"Forward in time ({args.folds} blocks by root time; block k from blocks < k)",
                      c, res_t, rng, args.boot)
        # How alike the measures are (all cascades, random folds).
        s = res["scores"]
        pairs = [("pagerank", "recognition"), ("pagerank", "coreness"),
                 ("recognition", "median_size_other_folds"), ("recognition", "cascades_other_folds")]
        out.append("Agreement between scores (Spearman, random folds, all cascades): " + "; ".join(
            f"{a} ~ {b} {stats.spearmanr(s[a], s[b]).statistic:+.3f}" for a, b in pairs) + ".")
        out.append("")
        out.append(f"Total time {time.perf_counter() - t0:.0f} s.")
        print("\n".join(out))
    finally:
        store.close()
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
