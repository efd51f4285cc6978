"""Spread presets on the bundled sample: the time and memory of each answer, in process.

A preset (``efluential``, ``web``, ...) is a branching process with fixed means. When it is
supercritical (more than one person told per teller), its reach has no finite expectation; Whuffie
answers with the probability that it never dies out (from the offspring generating function) and
a simulation bounded at ``SUPERCRITICAL_CAP`` people. This script times ``store.spread`` for every
preset from the sample's most recognised member, and measures the Python memory it allocates
(tracemalloc peak), after one warm-up call that loads the modules.

Run: ``python benchmarks/spread_presets.py``.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

import whuffie
from whuffie.spread.branching import PRESETS


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, whuffie.open(Path(tmp) / "sample.duckdb") as store:
        store.ingest(whuffie.sample_files())
        origin = store.engine.top_recognised(1).to_pylist()[0]["actor"]
        store.spread(origin, model=next(iter(PRESETS)), runs=100, fresh=True)  # imports, numba compile
        print(f"From {origin}, 10,000 runs each.\n")
        print("| preset | told per teller | never dies out | expected reach | seconds "
              "| peak MiB (tracemalloc) |")
        print("|---|---|---|---|---|---|")
        for name in PRESETS:
            tracemalloc.start()
            start = time.perf_counter()
            result = store.spread(origin, model=name, runs=10_000, fresh=True)
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            s = result.summary
            survival = s.get("survival")
            reach = s.get("expected_reach")
            print(f"| {name} | {s['reproduction']:.2f} | "
                  f"{'-' if survival is None else f'{survival:.2%}'} | "
                  f"{'unbounded' if reach is None else f'{reach:,.1f}'} | {seconds:.2f} | {peak:.1f} |")


if __name__ == "__main__":
    main()
