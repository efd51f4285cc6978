"""``whuffie forget`` (erasure), ``whuffie prune`` (retention) and ``whuffie pseudonym``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from whuffie.cli.common import DbOption, JsonOption, console, emit, open_store, reported_errors
from whuffie.privacy.erasure import Erasure
from whuffie.privacy.erasure import forget as forget_actors
from whuffie.privacy.erasure import prune as prune_store
from whuffie.report.tables import to_json


def forget(
    actors: Annotated[list[str], typer.Argument(
        help="Actor ids (twitter:12) or handles. An id the store does not hold yet is recorded, so "
             "that a later import leaves it out.", show_default=False)],
    key: Annotated[Path | None, typer.Option(
        "--key", metavar="KEYFILE",
        help="For a pseudonymised store: its key file, so that ACTORS are the real ids or handles.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase actors: their messages, profile, ratings, ties, mentions of them and every result row
    about them; recorded so that re-imports leave them out ('whuffie ingest --allow-returning' lets
    them back). The store file is rewritten so the erased rows leave the disk too."""
    with reported_errors():
        with open_store(db) as store:
            done = forget_actors(store, actors, key=key)
        _print(done, as_json, f"Erased {len(done.actors):,} actor(s)")


def prune(
    older_than: Annotated[str, typer.Option(
        "--older-than", metavar="AGE",
        help="Drop messages dated before now minus AGE: 90d, 12w, 18m (months), 2y.",
        show_default=False)],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apply a retention limit: drop the messages older than AGE (with their mentions, links, tags,
    ratings, ties and result rows), then the actors nothing refers to any more; recorded in the
    store. Messages without a time are kept."""
    with reported_errors():
        with open_store(db) as store:
            done = prune_store(store, older_than)
        _print(done, as_json, f"Pruned what was dated before {done.cutoff:%Y-%m-%d %H:%M} UTC")


def pseudonym(
    names: Annotated[list[str], typer.Argument(
        help="Real actor ids (twitter:12) or handles.", show_default=False)],
    key: Annotated[Path, typer.Option(
        "--key", metavar="KEYFILE", help="The key file the store was pseudonymised with.",
        show_default=False)],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The pseudonyms of real people in a pseudonymised store: their actor ids and handles, to name
    them in other commands (--brand, --from, why...)."""
    from whuffie.privacy.erasure import resolve

    with reported_errors():
        with open_store(db, read_only=True) as store:
            rows = []
            for name in names:
                for actor in resolve(store, [name], key=key):
                    handle = store.handles([actor]).get(actor)
                    rows.append({"name": name, "actor_id": actor, "handle": handle})
        emit(rows, ["name", "actor_id", "handle"], as_json=as_json, as_csv=False, title="Pseudonyms")


def _print(done: Erasure, as_json: bool, headline: str) -> None:
    if as_json:
        sys.stdout.write(to_json({
            "erasure_id": done.erasure_id, "kind": done.kind, "actors": done.actors,
            "cutoff": done.cutoff, "removed": done.removed, "rewritten": done.rewritten}) + "\n")
        return
    parts = ", ".join(f"{n:,} {name}" for name, n in sorted(done.removed.items())) or "nothing to remove"
    console.print(f"{headline}: {parts}.", markup=False)
    if done.kind == "prune" and done.actors:
        console.print(f"{len(done.actors):,} actor(s) left without any row were removed too.", markup=False)
    if done.rewritten:
        console.print("The store file was rewritten: the removed rows are gone from the disk too.",
                      markup=False)
    console.print(f"Recorded as erasure {done.erasure_id} (table erasures).", markup=False)
