"""``whuffie demo``, ``whuffie analyze`` and ``whuffie report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from whuffie.cli.common import (
    DbOption,
    PublicReachOption,
    ShowPrivateOption,
    console,
    open_store,
    progress_console,
    reported_errors,
    working,
)
from whuffie.cli.ingest import RichProgress, _summary
from whuffie.data import sample_files
from whuffie.errors import WhuffieError
from whuffie.privacy.disclosure import PUBLIC_REACH, Disclosure

DEMO_DB = Path("whuffie-demo.duckdb")
REPORT_DIR = Path("whuffie-report")

OutOption = Annotated[Path, typer.Option("--out", help="Folder of the HTML report.")]


def demo(
    db: Annotated[Path, typer.Option("--db", help="The demo store; created afresh.")] = DEMO_DB,
    out: OutOption = REPORT_DIR,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing store at --db.")] = False,
    show_private: ShowPrivateOption = False,
    public_reach: PublicReachOption = PUBLIC_REACH,
) -> None:
    """Ingest the bundled real sample into a fresh store and write the HTML report."""
    from rich.progress import BarColumn, Progress, TextColumn

    from whuffie.api.outputs import report_folder

    with reported_errors():
        report_folder(out)  # before the work: a wrong --out is said at once
        if db.exists():
            if db != DEMO_DB and not force:
                raise WhuffieError(f"{db} exists; the demo needs a fresh store (use --force to "
                                   "replace it, or another --db)")
            db.unlink()
            Path(str(db) + ".wal").unlink(missing_ok=True)
        store = open_store(db)
        try:
            with Progress(TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.fields[records]:,} records"), console=progress_console) as bars:
                report = store.ingest(sample_files(), progress=RichProgress(bars))
            _summary(report, db)
            chain = analyse(store, out, title="Whuffie demo: Constructed Languages Meta",
                            disclosure=Disclosure(show_private, public_reach))
            index = chain.results["report"].path
        finally:
            store.close()
        console.print(f"Report: {index.resolve()}", markup=False, soft_wrap=True)
        console.print(f"Map: {(out / 'map.html').resolve()}", markup=False, soft_wrap=True)
        console.print(f"Explore the store: whuffie status --db {db}; whuffie influence --db {db}",
                      markup=False, soft_wrap=True)


def analyze(
    db: DbOption = None,
    out: OutOption = REPORT_DIR,
    title: Annotated[str, typer.Option("--title", help="The report's title.")] = "Whuffie report",
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="How many people to approach.")] = 5,
    show_private: ShowPrivateOption = False,
    public_reach: PublicReachOption = PUBLIC_REACH,
) -> None:
    """Run every analysis the store's data supports, then draw the map and write the report.

    A step the data cannot support (no interactions, no texts) is skipped with the reason. The
    brand's inbox is not part of it: it needs the brand's accounts (whuffie inbox --brand).
    """
    from whuffie.api.outputs import report_folder

    with reported_errors():
        report_folder(out)  # before the work: a wrong --out is said at once
        with open_store(db) as store:
            chain = analyse(store, out, title=title, seeds=seeds,
                            disclosure=Disclosure(show_private, public_reach))
        console.print(f"Report: {chain.results['report'].path.resolve()}", markup=False, soft_wrap=True)
        if "map" in chain.results:
            console.print(f"Map: {chain.results['map'].path.resolve()}", markup=False, soft_wrap=True)


def analyse(store, out: Path, title: str, seeds: int = 5, disclosure: Disclosure | None = None):
    """Run the whole chain (``store.analyze``) with a status line per step; print what each found.

    The terminal lines name actors by handle (the user's own screen); the map and the report show
    them as ``disclosure`` says.

    Returns the :class:`~whuffie.api.chain.Chain`; raises if the report was not written.
    """
    from contextlib import contextmanager

    from whuffie.cli.voice import voice_progress

    bar: dict[str, Any] = {}

    @contextmanager
    def step(name: str, description: str):
        if name == "voice":  # the voice step has a progress bar of its own
            with voice_progress() as progress:
                bar["update"] = progress
                yield
        else:
            with working(description):
                yield

    chain = store.analyze(out, title=title, seeds=seeds, step=step,
                          voice_progress=lambda done, total: bar["update"](done, total),
                          disclosure=disclosure)
    for line in describe(store, chain):
        console.print(line, markup=False)
    if "report" not in chain.results:
        raise WhuffieError(f"the report was not written: {chain.skipped.get('report', 'no report step')}")
    return chain


def describe(store, chain) -> list[str]:
    """One line (or a few) per step of a chain: what each analysis found, or why it was skipped."""
    r, lines = chain.results, []
    if "influence" in r:
        s = r["influence"].summary
        lines.append(f"Influence (run {r['influence'].run_id}): {s['actors']:,} actors, "
                     f"{s['edges']:,} attention edges.")
    if "efluentials" in r:
        efl = r["efluentials"]
        table = efl.to_arrow()
        handles = store.handles(table.column("actor_id").to_pylist()[:3])
        lines.append(f"E-fluentials (run {efl.run_id}): the top 10%, {table.num_rows:,} actors. "
                     "The first three:")
        for row in table.to_pylist()[:3]:
            lines.append(f"  {row['rank']}. {handles.get(row['actor_id']) or row['actor_id']}: "
                         f"{row['explanation']}")
    if "niches" in r:
        s = r["niches"].summary
        lines.append(f"Niches (run {r['niches'].run_id}): {s['niches']:,}, modularity {s['modularity']:.3f}; "
                     f"the largest holds {s['largest_share']:.0%} of the actors.")
    if "pyramid" in r:
        counts = r["pyramid"].to_arrow().to_pylist()
        busiest = max(counts, key=lambda c: c["participants"])
        lines.append(f"Pyramid (run {r['pyramid'].run_id}): {len(counts):,} months; the busiest, "
                     f"{busiest['window_start']:%Y-%m}: {busiest['amateur']} amateurs, "
                     f"{busiest['enthusiast']} enthusiasts, {busiest['wannabe']} wannabes, "
                     f"{busiest['expert']} experts.")
    if "voice" in r:
        info = r["voice"].summary
        n = max(info["read"], 1)
        concerns = ", ".join(f"{k} {v}" for k, v in list(info["concerns"].items())[:3]) or "none"
        lines.append(f"Voice (run {r['voice'].run_id}): {info['messages']:,} messages, "
                     f"{info['sentiment']['negative'] / n:.0%} negative, "
                     f"{info['sentiment']['positive'] / n:.0%} positive; concerns: {concerns}.")
    if "buzz" in r:
        s = r["buzz"].summary
        lines.append(f"Buzz (run {r['buzz'].run_id}): {s['episodes']:,} bursts of terms (per week), "
                     f"{s['rising']:,} rising in the last week of the data.")
    if "advocates" in r:
        s = r["advocates"].summary
        lines.append(f"Advocates (run {r['advocates'].run_id}): {s['advocates']:,} advocates, "
                     f"{s['detractors']:,} detractors.")
    if "cascades" in r:
        sizes = [x for x in r["cascades"].to_arrow().column("size").to_pylist() if x >= 2]
        lines.append(f"Cascades (run {r['cascades'].run_id}): {len(sizes):,} with two people or more, the "
                     f"largest {max(sizes, default=0):,} people.")
    if "seeds" in r:
        seeds = r["seeds"]
        s = seeds.summary
        chosen = seeds.to_arrow().column("actor_id").to_pylist()
        names = store.handles(chosen, names=True)
        approach = ", ".join(names.get(a, a) for a in chosen[:5])
        lines.append(f"Seeds (run {seeds.run_id}): approach {approach} (the {s['recommended']} set, best of "
                     f"{s['methods']} compared: {s['recommended_mean']:,.1f} people reached on average; "
                     f"IMM's set {s['imm_mean']:,.1f}); transmission {s['probabilities']}.")
    for name, why in chain.skipped.items():
        lines.append(f"Skipped {name}: {why}")
    return lines


def report(db: DbOption = None, out: OutOption = REPORT_DIR, show_private: ShowPrivateOption = False,
           public_reach: PublicReachOption = PUBLIC_REACH) -> None:
    """Write the HTML report of a store (index.html and its offline assets).

    Private individuals appear under anon-… pseudonyms unless --show-private.
    """
    with reported_errors():
        with open_store(db, read_only=True) as store, working("Writing the report"):
            index = store.report(out, disclosure=Disclosure(show_private, public_reach)).path
        console.print(f"Report: {index.resolve()}", markup=False, soft_wrap=True)
