"""``whuffie graph``: the overall figures of the attention graph (size, density, reciprocity, paths...)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from whuffie.cli.common import DbOption, console, open_store, reported_errors, working
from whuffie.cli.graphopts import (
    KindsOption,
    MinWeightOption,
    PlatformOption,
    SinceOption,
    UntilOption,
    WeightsOption,
    graph_spec,
)


def graph(
    db: DbOption = None,
    kinds: KindsOption = None,
    weights: WeightsOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    platform: PlatformOption = None,
    min_weight: MinWeightOption = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the sources that estimate path lengths on a large "
                                           "graph.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as one JSON object.")] = False,
) -> None:
    """Print the graph's overall figures: size, density, reciprocity, components, clustering, paths."""
    from whuffie.graph.metrics import METRICS
    from whuffie.report.tables import to_json

    with reported_errors():
        spec = graph_spec(kinds, weights, since, until, platform, min_weight)
        with open_store(db, read_only=True) as store, working("Measuring the graph"):
            figures = store.graph_metrics(spec, seed=seed).summary
    if as_json:
        sys.stdout.write(to_json(figures) + "\n")
        return
    from rich.table import Table

    table = Table(title="The attention graph", show_header=True)
    for name, justify in (("figure", "left"), ("value", "right"), ("meaning", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    for name, meaning in METRICS.items():
        table.add_row(name, _shown(figures[name]), meaning)
    console.print(table)


def _shown(value: object) -> str:
    """A figure as people read it: thousands separated, shares and ratios to 4 significant digits."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 1_000:
        return f"{value:,.1f}"
    return f"{value:.4g}" if abs(value) >= 1e-3 else f"{value:.3e}"
