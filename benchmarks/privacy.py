"""What privacy costs: ``whuffie ingest`` plain and with ``--pseudonymise``, side by side on the same
replayed corpus, then ``whuffie forget`` (one of the most active actors) and ``whuffie prune`` on
the pseudonymised store (the corpus dates from 2021: the prune drops all of it but the messages
without a time), each in its own process with its wall time, CPU time and peak memory.

The corpus is the end-to-end benchmark's (``end_to_end.py``: replayed twarc2 pages and Reddit
comments with their structure kept).

Run: ``python benchmarks/privacy.py [--size 100000]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb

from end_to_end import build, measure

WHUFFIE = [sys.executable, "-m", "whuffie", "-q"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=100_000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        counts = build(args.size, folder / "corpus", group=20, keep=50)
        parts = ", ".join(f"{v:,} {k}" for k, v in counts.items())
        print(f"Corpus: {sum(counts.values()):,} messages ({parts})")
        plain, pseudo, key = folder / "plain.duckdb", folder / "pseudo.duckdb", folder / "whuffie.key"
        rows = {
            "ingest": measure([*WHUFFIE, "ingest", str(folder / "corpus"), "--db", str(plain)]),
            "ingest --pseudonymise": measure([*WHUFFIE, "ingest", str(folder / "corpus"), "--db", str(pseudo),
                                              "--pseudonymise", str(key)]),
        }
        con = duckdb.connect(str(pseudo), read_only=True)
        actor, n = con.execute("SELECT actor_id, count(*) FROM messages WHERE actor_id IS NOT NULL "
                               "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1 OFFSET 20").fetchall()[0]
        size = pseudo.stat().st_size
        con.close()
        rows[f"forget (an actor of {n:,} messages)"] = measure(
            [*WHUFFIE, "forget", actor, "--db", str(pseudo)])
        rows["prune --older-than 1y"] = measure(
            [*WHUFFIE, "prune", "--older-than", "1y", "--db", str(pseudo)])
        con = duckdb.connect(str(pseudo), read_only=True)
        left = con.execute("SELECT count(*) FROM messages").fetchall()[0][0]
        con.close()
        print(f"Store: {size / 2**20:,.0f} MiB; {left:,} messages left after the prune\n")
        print("| step | wall s | CPU s | peak MiB | vs plain ingest (CPU) |")
        print("|---|---:|---:|---:|---:|")
        base = rows["ingest"]["cpu"]
        for name, r in rows.items():
            if "error" in r:
                print(f"| {name} | failed: {r['error']} | | | |")
                continue
            print(f"| {name} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['peak']:.0f} | {r['cpu'] / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
