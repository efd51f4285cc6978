"""``whuffie map``: the offline map of who matters, one HTML file to open in a browser."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from whuffie.cli.common import (
    DbOption,
    PublicReachOption,
    ShowPrivateOption,
    console,
    noted,
    open_store,
    reported_errors,
    working,
)
from whuffie.cli.graphopts import (
    KindsOption,
    MinWeightOption,
    PlatformOption,
    SinceOption,
    UntilOption,
    WeightsOption,
    graph_spec,
)
from whuffie.privacy.disclosure import PUBLIC_REACH, Disclosure


def map_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.",
                                      dir_okay=False)] = Path("whuffie-map.html"),
    db: DbOption = None,
    kinds: KindsOption = None,
    weights: WeightsOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    platform: PlatformOption = None,
    min_weight: MinWeightOption = 0.0,
    max_nodes: Annotated[int, typer.Option(
        "--max-nodes", help="Draw the most influential actors only (by PageRank), and the links "
                            "among them.", min=1)] = 50_000,
    max_edges: Annotated[int, typer.Option(
        "--max-edges", help="Draw at most this many links (the heaviest; every actor keeps its "
                            "strongest).", min=0)] = 200_000,
    seed: Annotated[int, typer.Option(help="Seed of the niches and the layout.")] = 0,
    title: Annotated[str | None, typer.Option(help="Title of the page (default: the store's "
                                                   "name).")] = None,
    show_private: ShowPrivateOption = False,
    public_reach: PublicReachOption = PUBLIC_REACH,
) -> None:
    """Draw the map of who matters: size = influence, colour = niche; opens offline, from file://.

    Influence and niches come from the influence run of the same graph (made when missing).
    Private individuals are drawn under anon-… pseudonyms unless --show-private.
    """
    with reported_errors():
        spec = graph_spec(kinds, weights, since, until, platform, min_weight)
        started = time.perf_counter()
        with open_store(db, analysis=True) as store, working("Drawing the map"):
            done = noted(store.map(out, spec, seed=seed, max_nodes=max_nodes, max_edges=max_edges,
                                   title=title, disclosure=Disclosure(show_private, public_reach)))
        s = done.summary
        console.print(f"Wrote {done.path} (map of {s['shown']:,} of {s['actors']:,} actors, "
                      f"{s['niches']:,} {s['kind']}s, {time.perf_counter() - started:.1f} s)",
                      markup=False, soft_wrap=True)
