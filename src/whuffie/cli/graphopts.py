"""The options every graph analysis shares: which interactions, weighted how, when, where."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from whuffie.graph.build import GraphSpec

KindsOption = Annotated[str | None, typer.Option(
    "--kinds", help="Interaction kinds to keep, comma-separated (default: all attention kinds), "
                    "e.g. reply,mention,reshare.")]
WeightsOption = Annotated[str | None, typer.Option(
    "--weights", help="Weight per kind, e.g. vote=0.2,reshare=2 (defaults: 1, vote and email 0.5).")]
SinceOption = Annotated[datetime | None, typer.Option(
    "--since", help="Keep interactions at or after this UTC time (ISO date or date-time).")]
UntilOption = Annotated[datetime | None, typer.Option(
    "--until", help="Keep interactions before this UTC time.")]
PlatformOption = Annotated[str | None, typer.Option(
    "--platform", help="Keep these platforms, comma-separated (twitter,mastodon...).")]
MinWeightOption = Annotated[float, typer.Option(
    "--min-weight", help="Drop edges lighter than this total weight.", min=0)]


def split_list(value: str | None) -> tuple[str, ...] | None:
    """A comma-separated option as a tuple of its non-empty items, ``None`` when it has none.

    Examples
    --------
    >>> split_list(" a, b,,"), split_list("")
    (('a', 'b'), None)
    """
    if value is None:
        return None
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    return items or None


def graph_spec(kinds: str | None, weights: str | None, since: datetime | None,
               until: datetime | None, platform: str | None, min_weight: float) -> GraphSpec:
    """Turn the shared options into a :class:`GraphSpec`, refusing malformed values."""
    parsed: dict[str, float] = {}
    for item in split_list(weights) or ():
        kind, sep, value = item.partition("=")
        try:
            parsed[kind.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or parsed[kind.strip()] < 0:
            raise typer.BadParameter(f"weight {item!r} is not KIND=NUMBER >= 0 (e.g. vote=0.2)",
                                     param_hint="--weights")
    if since and until and since >= until:
        raise typer.BadParameter(f"--since {since} is not before --until {until}")
    return GraphSpec(kinds=split_list(kinds), weights=parsed, since=since, until=until,
                     platforms=split_list(platform), min_weight=min_weight)
