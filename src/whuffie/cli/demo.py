"""``whuffie demo`` and ``whuffie report``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer

from whuffie.cli.common import DbOption, console, open_store, reported_errors
from whuffie.cli.ingest import RichProgress, _summary
from whuffie.errors import WhuffieError

DEMO_DB = Path("whuffie-demo.duckdb")
REPORT_DIR = Path("whuffie-report")

OutOption = Annotated[Path, typer.Option("--out", help="Folder of the HTML report.")]


def sample_files() -> list[Path]:
    """The bundled, licence-clean real sample (a Stack Exchange dump, CC BY-SA 3.0)."""
    folder = Path(str(files("whuffie.data") / "sample" / "conlang.meta.stackexchange.com"))
    return sorted(folder.glob("*.xml.gz"))


def demo(
    db: Annotated[Path, typer.Option("--db", help="The demo store; created afresh.")] = DEMO_DB,
    out: OutOption = REPORT_DIR,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing store at --db.")] = False,
) -> None:
    """Ingest the bundled real sample into a fresh store and write the HTML report."""
    from rich.progress import BarColumn, Progress, TextColumn


    with reported_errors():
        if db.exists():
            if db != DEMO_DB and not force:
                raise WhuffieError(f"{db} exists; the demo needs a fresh store (use --force to "
                                   "replace it, or another --db)")
            db.unlink()
            Path(str(db) + ".wal").unlink(missing_ok=True)
        store = open_store(db)
        try:
            with Progress(TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.fields[records]:,} records"), console=console) as bars:
                report = store.ingest(sample_files(), progress=RichProgress(bars))
            _summary(report, db)
            index = analyse(store, out, title="Whuffie demo: Constructed Languages Meta")
        finally:
            store.close()
        console.print(f"Report: {index.resolve()}", markup=False)
        console.print(f"Map: {(out / 'map.html').resolve()}", markup=False)
        console.print(f"Explore the store: whuffie status --db {db}; whuffie influence --db {db}",
                      markup=False)


def analyse(store, out: Path, title: str) -> Path:
    """Run every analysis on the whole store, save the runs, write the map and the report.

    Influence, e-fluentials, niches, the pyramid, then the voice step, buzz and advocates, then the
    cascades and whom to approach.

    Prints a short account of what each analysis found.
    """
    from whuffie.cli.efluentials import run_efluentials, run_pyramid
    from whuffie.cli.influence import run_influence
    from whuffie.cli.niches import run_niches
    from whuffie.graph.build import GraphSpec
    from whuffie.influence.pyramid import PyramidParams
    from whuffie.niches.analysis import NicheParams
    from whuffie.report.html import write_report
    from whuffie.report.map import write_store_map

    spec = GraphSpec()
    with console.status("Measuring influence"):
        run, graph, _table = run_influence(store, spec)
    console.print(f"Influence (run {run}): {graph.n:,} actors, {graph.m:,} attention edges.",
                  markup=False)
    with console.status("Finding the e-fluentials"):
        run, _g, efl, handles = run_efluentials(store, spec)
    console.print(f"E-fluentials (run {run}): the top 10%, {efl.table.num_rows:,} actors. The first three:",
                  markup=False)
    for row in efl.table.to_pylist()[:3]:
        console.print(f"  {row['rank']}. {handles.get(row['actor_id']) or row['actor_id']}: "
                      f"{row['explanation']}", markup=False)
    with console.status("Finding the niches"):
        run, _g, niches = run_niches(store, spec, NicheParams())
    summary = niches.summary
    console.print(f"Niches (run {run}): {summary['niches']:,}, modularity {summary['modularity']:.3f}; "
                  f"the largest holds {summary['largest_share']:.0%} of the actors.", markup=False)
    with console.status("Placing members on the influence pyramid"):
        run, pyramid = run_pyramid(store, spec, "month", PyramidParams())
    counts = pyramid.counts.to_pylist()
    busiest = max(counts, key=lambda r: r["participants"])
    console.print(f"Pyramid (run {run}): {len(counts):,} months; the busiest, "
                  f"{busiest['window_start']:%Y-%m}: {busiest['amateur']} amateurs, "
                  f"{busiest['enthusiast']} enthusiasts, {busiest['wannabe']} wannabes, "
                  f"{busiest['expert']} experts.", markup=False)
    _listen(store)
    _spread(store)
    out.mkdir(parents=True, exist_ok=True)
    with console.status("Drawing the map"):
        write_store_map(store, out / "map.html", spec=spec)
    with console.status("Writing the report"):
        return write_report(store, out, title=title)


def _listen(store) -> None:
    """The voice step, what is rising, advocates and detractors, with a line each."""
    from whuffie.cli.voice import run_advocates, run_buzz, run_voice_with_progress, voice_params
    from whuffie.voice.analysis import summarise

    run, table = run_voice_with_progress(store, voice_params())
    info = summarise(table)
    n = max(info["messages"], 1)
    concerns = ", ".join(f"{k} {v}" for k, v in list(info["concerns"].items())[:3]) or "none"
    console.print(f"Voice (run {run}): {info['messages']:,} messages, "
                  f"{info['sentiment']['negative'] / n:.0%} negative, "
                  f"{info['sentiment']['positive'] / n:.0%} positive; concerns: {concerns}.", markup=False)
    with console.status("Looking for bursts"):
        run, buzz = run_buzz(store, "term", "week")
    console.print(f"Buzz (run {run}): {buzz.episodes.num_rows:,} bursts of terms (per week), "
                  f"{buzz.rising.num_rows:,} rising in the last week of the data.", markup=False)
    with console.status("Finding advocates and detractors"):
        run, table = run_advocates(store, table)
    stances = table.column("stance").to_pylist()
    console.print(f"Advocates (run {run}): {stances.count('advocate'):,} advocates, "
                  f"{stances.count('detractor'):,} detractors.", markup=False)


def _spread(store) -> None:
    """The cascades, the model fitted on them, and whom to approach, with a line each."""
    from whuffie.cli.spread import run_cascades, run_seeds

    with console.status("Rebuilding the cascades"):
        run, cascades = run_cascades(store)
    sizes = [s for s in cascades.summary.column("size").to_pylist() if s >= 2]
    console.print(f"Cascades (run {run}): {len(sizes):,} with two people or more, the largest "
                  f"{max(sizes, default=0):,} people.", markup=False)
    with console.status("Choosing whom to approach"):
        run, chosen, comparison, how = run_seeds(store, k=5)
    best = comparison.to_pylist()[0] if comparison is not None else None
    names = store.handles(chosen.actors, names=True)
    console.print(f"Seeds (run {run}): approach {', '.join(names.get(a, a) for a in chosen.actors[:5])}; "
                  f"IMM reaches "
                  f"{chosen.spread:,.1f} people on average ({how})"
                  + (f"; the best set here: {best['method']}." if best else "."), markup=False)


def report(db: DbOption = None, out: OutOption = REPORT_DIR) -> None:
    """Write the HTML report of a store (index.html and its offline assets)."""
    from whuffie.report.html import write_report

    with reported_errors():
        with open_store(db, read_only=True) as store, console.status("Writing the report"):
            index = write_report(store, out)
        console.print(f"Report: {index.resolve()}", markup=False)
