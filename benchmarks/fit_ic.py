"""Exposure counting of ``fit_ic`` (the fit behind ``whuffie seeds`` and ``spread --prob auto``):
the earlier query, which listed every exposure, against today's, which counts them.

Input: the real Twitter15 propagation trees (``../shared/data/twitter15``: 1,490 cascades, read
with the ``cascade-tree`` reader as ``validate_twitter15.py`` does), their cascades as
``whuffie.api.spread.cascades`` finds them, and the store's interactions. Many accounts retweet
in cascade after cascade there, which is what made the listing grow with the square of the data.
To see how each query grows as the data covers a longer time, the corpus is *replayed*: copy
``i`` of ``k`` has new cascade and message ids and its times (cascades and interactions) shifted
by ``i`` times the corpus's span, the accounts kept the same, as a listening project's months
follow each other with the same celebrities. ``--replays 1,2,4`` runs 1, 2 and 4 copies.

Today's query runs on integer codes of the ids, as ``fit_ic`` gives it (the coding is timed
with it). Each query runs in its own process on the same Parquet files (wall time and peak resident memory
of the process, from ``measure.py``), under an address-space cap (``--memory-gib``); a query
stopped by the cap is reported so. Both must give the same counts (checked when both finish).

Run: ``python benchmarks/fit_ic.py [--store PATH] [--replays 1,2,4,8] [--memory-gib 12]``.
It prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import whuffie
from measure import run_captured
from validate_twitter15 import DATA, load

ROOT = Path(__file__).resolve().parents[1]

DRIVER = """
import json, resource, sys, time
import pyarrow.parquet as pq
sys.path.insert(0, sys.argv[4])
cap = int(sys.argv[3]) << 30
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from whuffie import arrowsql
if sys.argv[2] == "counted":
    from whuffie.spread.diffusion import _EXPOSURES as sql, _coded as prepare
else:
    from tests.spread.test_exposures import LISTED as sql
    prepare = lambda nodes, att: (nodes, att)
nodes, att = pq.read_table(sys.argv[1] + "/nodes.parquet"), pq.read_table(sys.argv[1] + "/att.parquet")
t = time.perf_counter()
try:
    rows = arrowsql.query(sql, **dict(zip(("nodes", "att"), prepare(nodes, att)))).to_pylist()
except Exception as exc:  # DuckDB's out-of-memory error under the cap
    print(json.dumps({"error": type(exc).__name__ + ": " + str(exc)[:200]}))
    sys.exit(0)
print(json.dumps({"seconds": time.perf_counter() - t,
                  "counts": sorted((r["pattern"], int(r["trials"]), int(r["successes"])) for r in rows)}))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, help="a Twitter15 store to reuse (built when absent)")
    ap.add_argument("--replays", default="1,2,4,8")
    ap.add_argument("--memory-gib", type=int, default=12)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="whuffie-fit-ic-"))
    db = args.store or tmp / "twitter15.duckdb"
    from whuffie.api.spread import cascade_set, cascades
    from whuffie.graph.build import GraphSpec

    with whuffie.open(db) as store:
        if not store.status()["messages"]:
            print(f"reading {DATA} ...", file=sys.stderr)
            load(store, DATA, use_ingest=False)
        nodes = cascade_set(cascades(store), min_size=2).nodes
        att = store.engine.interactions(GraphSpec(), ["source", "target", "kind", "created_at", "weight"])
    names = np.unique(nodes["cascade"].to_numpy(zero_copy_only=False).astype(str))
    stamp = pa.timestamp("us")
    times = pa.compute.min_max(pa.concat_arrays([nodes["created_at"].combine_chunks().cast(stamp),
                                                 att["created_at"].combine_chunks().cast(stamp)]))
    span = times["max"].as_py() - times["min"].as_py() + dt.timedelta(days=1)
    print(f"Twitter15: {len(names):,} cascades of 2+ messages, {nodes.num_rows:,} cascade messages, "
          f"{att.num_rows:,} interactions over {span.days:,} days; address-space cap {args.memory_gib} GiB "
          "per query.\n")
    print("| replays | cascade messages | interactions | query | seconds | peak MiB | exposures (trials) |")
    print("|---|---|---|---|---|---|---|")
    for k in (int(r) for r in args.replays.split(",")):
        part = pa.concat_tables([_replay(nodes, i, span, ("cascade", "message_id", "parent_id"))
                                 for i in range(k)])
        interactions = pa.concat_tables([_replay(att, i, span, ()) for i in range(k)])
        folder = tmp / f"r{k}"
        folder.mkdir()
        pq.write_table(part, folder / "nodes.parquet")
        pq.write_table(interactions, folder / "att.parquet")
        found = {}
        for query in ("listed", "counted"):
            cmd = [sys.executable, "-c", DRIVER, str(folder), query, str(args.memory_gib), str(ROOT)]
            _, peak, _, out, _ = run_captured(cmd)
            result = json.loads(out or b'{"error": "no output"}')
            found[query] = result
            if "error" in result:
                shown, trials = f"stopped ({result['error'][:60]})", "-"
            else:
                shown, trials = f"{result['seconds']:.1f}", f"{sum(c[1] for c in result['counts']):,}"
            print(f"| {k} | {part.num_rows:,} | {interactions.num_rows:,} | {query} | {shown} | {peak:,.0f} "
                  f"| {trials} |", flush=True)
        if all("counts" in r for r in found.values()):
            same = found["listed"]["counts"] == found["counted"]["counts"]
            print(f"| | | | same counts | {'yes' if same else 'NO'} | | |", flush=True)
    return 0


def _replay(table: pa.Table, i: int, span: dt.timedelta, ids: tuple[str, ...]) -> pa.Table:
    """Copy ``i`` of a table: ids suffixed, times shifted by ``i`` spans (copy 0 is the table)."""
    if i == 0:
        return table
    cols = {}
    for name in table.column_names:
        col = table[name]
        if name in ids:
            col = pa.compute.binary_join_element_wise(col.cast(pa.string()), pa.scalar(f"~{i}"), "")
        elif name == "created_at":
            col = pa.compute.add(col.cast(pa.timestamp("us")), pa.scalar(span * i, pa.duration("us")))
        cols[name] = col
    return pa.table(cols)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
