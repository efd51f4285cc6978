"""Cascades and the word-of-mouth branching model on Twitter15: rebuilt trees, held-out forecasts.

Method
------
1. Twitter15 (``../shared/data/twitter15/twitter15``: 1,490 tree files + ``label.txt``) is
   ingested into a temporary store with ``store.ingest`` (``--store PATH`` reuses a store).
2. :func:`whuffie.spread.cascades.cascades` rebuilds the trees from ``reshare_of`` links.
   Each file's participants (distinct user ids) and depth are also counted straight from its
   lines (first parent line of a node kept, self-loops skipped) and compared.
3. The cascades are split at random (``--seed``, 70% / 30%); the branching model is fitted on
   the 70% by rumour label (negative binomial offspring, lognormal delays, the root apart from
   the others; and the empirical variant), and each test cascade's size and depth are compared
   with ``--per-cascade`` simulated cascades of its label: two-sample KS distances, and the share
   of test cascades whose size lies in the 5-95% interval forecast for its label.
4. True vs false rumours (all cascades): size, depth, structural virality, time to half size and
   the mean offspring of the non-root nodes, compared with a Mann-Whitney U test and a bootstrap
   95% interval of the difference of medians (``--boot`` resamples).
5. What the folklore presets would forecast for a cascade started by one ordinary person.

Run: ``.venv/bin/python benchmarks/validate_spread.py [--seed 0] [--store PATH]``; it prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
from scipy import stats

import whuffie
from whuffie.spread.branching import BranchingModel, fit_branching, holdout, simulate
from whuffie.spread.cascades import cascades, offspring

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WHUFFIE_SHARED_DATA", ROOT.parent / "shared" / "data"))
DATA = SHARED / "twitter15" / "twitter15"
LABELS = ("true", "false", "non-rumor", "unverified")
_LINE = re.compile(r"\['([^']*)', '([^']*)', '([^']*)'\]->\['([^']*)', '([^']*)', '([^']*)'\]")


def raw_tree(path: Path) -> tuple[int, int, str]:
    """Distinct users, the largest depth and the root tweet of one tree file, from its lines alone."""
    parent, root, users = {}, None, set()
    with open(path) as fh:
        for line in fh:
            m = _LINE.match(line)
            if not m or (m[1], m[2]) == (m[4], m[5]):
                continue
            p, c = (m[1], m[2]), (m[4], m[5])
            if p[0] == "ROOT":
                root = c
            else:
                parent.setdefault(c, p)
                users.add(p[0])
            users.add(c[0])
    depth = {root: 0}
    for start in parent:
        path_, node = [], start
        while node not in depth and node in parent and node not in path_:
            path_.append(node)
            node = parent[node]
        base = depth.get(node, -(10**9))  # a node that cannot reach the root (a cycle) gets no depth
        for i, n in enumerate(reversed(path_), 1):
            depth[n] = base + i
    return len(users), max(depth.values()), root[1]


def table(header: list[str], rows: list[list]) -> str:
    def fmt(v):
        if isinstance(v, float) and 0 < abs(v) < 0.001:
            return f"{v:.1e}"
        if isinstance(v, float):
            return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"
        return f"{v:,}" if isinstance(v, int) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def compare_raw(cs) -> str:
    summary = {r["cascade"]: r for r in cs.summary.to_pylist()}
    home = dict(zip(cs.nodes["message_id"].to_pylist(), cs.nodes["cascade"].to_pylist(), strict=True))
    files = sorted((DATA / "tree").glob("*.txt"))
    same = bigger = smaller = deeper = absorbed = 0
    notes = []
    for f in files:
        users, depth, root = raw_tree(f)
        row = summary.get(f"twitter:{root}")
        if row is None:
            absorbed += 1
            notes.append(f"{f.stem} -> {home.get(f'twitter:{root}', '?')}")
            continue
        same += (row["size"], row["depth"]) == (users, depth)
        bigger += row["size"] > users
        smaller += row["size"] < users
        deeper += row["depth"] != depth
    rows = [["tree files", len(files)], ["cascades rebuilt", len(cs)],
            ["same participants and depth as the file", same], ["more participants than the file", bigger],
            ["fewer participants than the file", smaller], ["different depth", deeper],
            ["file's root tweet inside another cascade", absorbed], ["cycles cut", len(cs.cycles)]]
    text = table(["Twitter15 rebuilt vs raw files", "count"], rows)
    if notes:
        text += "\n\nFiles whose root tweet is inside another cascade (file -> cascade): " + ", ".join(notes)
    return text


def describe(cs) -> str:
    kids = offspring(cs)
    con = duckdb.connect()
    con.register("kids", kids)
    con.register("summary", cs.summary)
    rows = con.sql("""
        SELECT coalesce(s.label, '(none)') AS label, count(*) AS cascades,
               median(s.size), avg(s.size), avg(s.depth), avg(s.virality), median(s.time_to_half_seconds) / 60
          FROM summary s GROUP BY 1 ORDER BY 1""").fetchall()
    off = dict(con.sql("""
        SELECT coalesce(s.label, '(none)'), avg(k.children) FILTER (WHERE k.parent_id IS NOT NULL)
          FROM kids k JOIN summary s USING (cascade) GROUP BY 1""").fetchall())
    root = dict(con.sql("""
        SELECT coalesce(s.label, '(none)'), avg(k.children) FILTER (WHERE k.parent_id IS NULL)
          FROM kids k JOIN summary s USING (cascade) GROUP BY 1""").fetchall())
    return table(["label", "cascades", "median size", "mean size", "mean depth", "mean virality",
                  "median min to half", "root offspring", "non-root offspring"],
                 [[*r, root[r[0]], off[r[0]]] for r in rows])


def fit_tables(cs, seed: int, share: float, per_cascade: int) -> str:
    out = []
    for name, emp in (("negative binomial + lognormal", False), ("empirical", True)):
        started = time.perf_counter()
        h = holdout(cs, share=share, seed=seed, by="label", per_cascade=per_cascade, empirical=emp)
        secs = time.perf_counter() - started
        rows = []
        for g in h["goodness"]["groups"]:
            cov = h["coverage_by_group"][(g["valence"], g["role"])]
            rows.append([g["valence"], g["cascades"], g["ks_size"], g["p_size"], g["ks_depth"], g["p_depth"],
                         g["size_observed"], g["size_simulated"], f"{cov['interval'][0]:.0f}-"
                         f"{cov['interval'][1]:.0f}", cov["coverage"]])
        a = h["goodness"]["all"]
        rows.append(["**all**", a["cascades"], a["ks_size"], a["p_size"], a["ks_depth"], a["p_depth"],
                     a["size_observed"], a["size_simulated"], "", h["coverage"]])
        out.append(f"**{name}** (fit on {h['train']}, test on {h['test']}, {secs:.1f} s; "
                   f"capped runs {a['capped']:.1%})\n\n" + table(
                       ["label", "test cascades", "KS size", "p", "KS depth", "p", "mean size obs.",
                        "mean size sim.", "90% interval", "in interval"], rows))
        if not emp:
            params = h["model"].describe().to_pylist()
            out.append(table(["label", "non-root mean", "k", "root mean", "root k", "median delay (min)",
                              "root median delay (min)"],
                             [[p["valence"], p["offspring_mean"], p["offspring_dispersion"],
                               p["root_offspring_mean"], p["root_offspring_dispersion"],
                               p["delay_median_seconds"] / 60, p["root_delay_median_seconds"] / 60]
                              for p in params]))
    return "\n\n".join(out)


def true_vs_false(cs, boot: int, seed: int) -> str:
    kids = offspring(cs)
    con = duckdb.connect()
    con.register("kids", kids)
    per = dict(con.sql("""SELECT cascade, avg(children) FILTER (WHERE parent_id IS NOT NULL)
                            FROM kids GROUP BY 1""").fetchall())
    s = cs.summary.to_pylist()
    rng = np.random.default_rng(seed)
    rows = []
    measures = {"size": "size", "depth": "depth", "virality": "virality",
                "minutes to half size": "time_to_half_seconds", "non-root mean offspring": None}
    for name, col in measures.items():
        def values(label, col=col):
            v = [(r[col] if col else per.get(r["cascade"])) for r in s if r["label"] == label]
            v = np.array([x for x in v if x is not None], dtype=float)
            return v / 60 if col == "time_to_half_seconds" else v

        t, f = values("true"), values("false")
        u = stats.mannwhitneyu(t, f, alternative="two-sided")
        diffs = [np.median(rng.choice(t, len(t))) - np.median(rng.choice(f, len(f))) for _ in range(boot)]
        lo, hi = np.percentile(diffs, [2.5, 97.5])
        rows.append([name, float(np.median(t)), float(np.median(f)), float(np.median(t) - np.median(f)),
                     f"{lo:.3g} to {hi:.3g}", float(u.pvalue)])
    header = ["measure", "median true", "median false", "difference", "bootstrap 95% CI", "Mann-Whitney p"]
    return table(header, rows)


def presets(observed: np.ndarray) -> str:
    rows = []
    for name in ("traditional", "web", "efluential"):
        m = BranchingModel.preset(name)
        for valence in ("positive", "negative"):
            sim = simulate(m, [(valence, "ordinary")], runs=300, seed=0, max_size=10_000)
            rows.append([name, valence, float(np.median(sim.sizes)), float(sim.capped.mean())])
    return table(["preset", "valence", "median size (cap 10,000)", "share capped"], rows) + (
        f"\n\nObserved Twitter15 median size: {np.median(observed):.0f}.")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--share", type=float, default=0.7)
    ap.add_argument("--per-cascade", type=int, default=20)
    ap.add_argument("--boot", type=int, default=2000)
    ap.add_argument("--store", help="reuse (or create) this store instead of a temporary one")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"Twitter15 is not at {DATA}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.store) if args.store else Path(tmp) / "t15.duckdb"
        fresh = not path.exists()
        store = whuffie.open(path)
        started = time.perf_counter()
        if fresh:
            store.ingest([str(DATA)])
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        cs = cascades(store.engine.cascade_links())
        build_s = time.perf_counter() - started
        n_msg = cs.nodes.num_rows
        print(f"## Twitter15 cascades (seed {args.seed})\n")
        print(f"Ingest {ingest_s:.1f} s{'' if fresh else ' (reused store)'}; cascades rebuilt in "
              f"{build_s:.1f} s ({n_msg:,} messages, {len(cs):,} cascades).\n")
        print(compare_raw(cs), "\n")
        print(describe(cs), "\n")
        print("### Held-out check (by rumour label)\n")
        print(fit_tables(cs, args.seed, args.share, args.per_cascade), "\n")
        print("### True vs false rumours\n")
        print(true_vs_false(cs, args.boot, args.seed), "\n")
        fitted = fit_branching(cs, by="label")
        print(f"Fitted on all cascades: {fitted.note}\n")
        print("### The folklore presets\n")
        print(presets(cs.summary["size"].to_numpy()))
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
