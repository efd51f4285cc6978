"""Fuzzing the readers for a time budget: hostile variants of real samples through ``whuffie ingest``.

Every registered format in turn (or those of ``--formats``) gets case 0, 1, 2... of the seed: a
real sample (``../shared/data``, else ``tests/data``) mutated one seeded way (truncation, byte
flips, inserted and deleted bytes, duplicated and swapped lines, deep nesting, a field of some
MiB, a line longer than the line limit, another encoding or invalid UTF-8, compression, damaged
compression, a compression bomb, an empty or degenerate file, NUL bytes, or a stack of these).
Each case runs in its own process under a memory limit and a time limit, then imports the same
file again (no table but the import log may change) and runs ``whuffie status --json``. See
``tests/fuzzing.py`` for the outcome classes.

Printed: cases tried, outcomes per class and format, the peak resident memory of a case, and
each distinct failure (deduplicated by its last traceback frame) with the command that replays
it; every first occurrence is kept in ``--findings`` (the input file and a note).

Run: ``python benchmarks/fuzz.py --minutes 20 [--seed 1] [--formats twarc2,reddit]``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzzing import (  # noqa: E402 - the harness lives with the tests, beside this folder
    CLASSES,
    FAILURES,
    FINDINGS,
    MEMORY_LIMIT,
    TIME_LIMIT,
    Outcome,
    cases,
    failure_key,
    minimize,
    run_case,
    samples,
    save_finding,
)


def main() -> int:
    from whuffie.sources import reader_ids

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0,
                        help="time budget (cases then in flight finish)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", default="", help="comma-separated reader ids (default: all registered)")
    parser.add_argument("--start", type=int, default=0, help="first case number of every format")
    parser.add_argument("--timeout", type=float, default=TIME_LIMIT, help="seconds per case")
    parser.add_argument("--memory-gib", type=float, default=MEMORY_LIMIT / (1 << 30),
                        help="RLIMIT_AS per case")
    parser.add_argument("--workers", type=int, default=1, help="cases run at once")
    parser.add_argument("--findings", type=Path, default=FINDINGS, help="folder for failing cases")
    parser.add_argument("--minimize-tries", type=int, default=8,
                        help="runs spent shrinking each distinct failure after the budget (0: none)")
    args = parser.parse_args()

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # a log file gets the whole table, not 80 columns of it
    formats = [f.strip() for f in args.formats.split(",") if f.strip()] or reader_ids()
    unknown = sorted(set(formats) - set(reader_ids()))
    if unknown:
        parser.error(f"unknown format(s): {', '.join(unknown)}; known: {', '.join(reader_ids())}")
    for fmt in formats:
        try:
            samples(fmt)
        except LookupError as exc:
            console.print(f"skipped {fmt}: {exc}", markup=False)
    memory = int(args.memory_gib * (1 << 30))
    budget = args.minutes * 60
    tally: dict[str, Counter] = defaultdict(Counter)
    rss: dict[str, float] = defaultdict(float)
    seconds: dict[str, list[float]] = defaultdict(list)
    distinct: dict[str, list[Outcome]] = {}
    notes: dict[str, Path] = {}
    work = Path(tempfile.mkdtemp(prefix="whuffie-fuzz-"))
    start = time.monotonic()
    generator = cases(formats, args.seed, args.start)

    def one(case) -> Outcome:
        folder = work / f"{case.format}-{case.number}"
        try:
            return run_case(case, folder, timeout=args.timeout, memory=memory)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[cases]:,} cases, {task.fields[failures]:,} failures "
                             "({task.fields[distinct]:,} distinct)"),
                  console=console, transient=False) as bar, ThreadPoolExecutor(args.workers) as pool:
        task = bar.add_task(f"fuzzing (seed {args.seed})", total=budget, cases=0, failures=0, distinct=0)
        running = set()
        while True:
            while len(running) < args.workers and time.monotonic() - start < budget:
                case = next(generator, None)
                if case is None:
                    break
                running.add(pool.submit(one, case))
            if not running:
                break
            done, running = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                out = future.result()
                fmt = out.case.format
                tally[fmt][out.kind] += 1
                rss[fmt] = max(rss[fmt], out.max_rss_mb)
                seconds[fmt].append(out.seconds)
                if out.failed:
                    key = failure_key(out)
                    if key not in distinct:
                        notes[key] = save_finding(out, args.findings)
                    distinct.setdefault(key, []).append(out)
            total = sum(sum(c.values()) for c in tally.values())
            failures = sum(c[k] for c in tally.values() for k in FAILURES)
            bar.update(task, completed=min(time.monotonic() - start, budget), cases=total, failures=failures,
                       distinct=len(distinct))
    if args.minimize_tries and distinct:
        with console.status("minimizing the failures") as status:
            for i, (key, outs) in enumerate(distinct.items()):
                status.update(f"minimizing {i + 1}/{len(distinct)}: {key[:60]}")
                smaller = minimize(outs[0], work / f"min-{i}", tries=args.minimize_tries,
                                   timeout=args.timeout, memory=memory)
                if smaller is not None:
                    notes[key] = save_finding(outs[0], args.findings, smaller)
    shutil.rmtree(work, ignore_errors=True)

    table = Table(title=f"Fuzzing the readers: seed {args.seed}, {time.monotonic() - start:.0f} s, "
                        f"{args.timeout:.0f} s and {args.memory_gib:g} GiB per case")
    table.add_column("format")
    for col in ("cases", *CLASSES, "peak RSS MiB", "median s", "max s"):
        table.add_column(col, justify="right")
    for fmt in sorted(tally):
        c = tally[fmt]
        table.add_row(fmt, f"{sum(c.values()):,}", *(f"{c[k]:,}" for k in CLASSES), f"{rss[fmt]:.0f}",
                      f"{statistics.median(seconds[fmt]):.1f}", f"{max(seconds[fmt]):.1f}")
    every = sum(tally.values(), Counter())
    table.add_row("total", f"{sum(every.values()):,}", *(f"{every[k]:,}" for k in CLASSES),
                  f"{max(rss.values(), default=0):.0f}", "", "", style="bold")
    console.print(table)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    console.print(f"Peak resident memory of any case process: {children:.0f} MiB "
                  f"(limit {args.memory_gib:g} GiB resident).", markup=False)
    if distinct:
        listing = Table(title=f"{len(distinct)} distinct failure(s), first occurrence kept in "
                              f"{args.findings}")
        listing.add_column("failure", overflow="fold")
        listing.add_column("n", justify="right")
        listing.add_column("first case", overflow="fold")
        listing.add_column("replay", overflow="fold")
        for key, outs in sorted(distinct.items(), key=lambda kv: -len(kv[1])):
            first = outs[0]
            listing.add_row(key, f"{len(outs):,}", first.case.description,
                            f"{first.case.replay()}\n{notes[key]}")
        console.print(listing)
        for key, outs in distinct.items():
            console.print(f"{key}\n  {outs[0].case.replay()}", markup=False, soft_wrap=True)
    else:
        console.print("No failure.", markup=False)
    return 1 if distinct else 0


if __name__ == "__main__":
    sys.exit(main())
