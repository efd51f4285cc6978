"""The store users open: the DuckDB store with every analysis as a method.

``whuffie.open(path)`` returns a :class:`Store`. Its methods are the library's functions (one per
analysis, in :mod:`whuffie.api.who`, :mod:`~whuffie.api.voice`, :mod:`~whuffie.api.spread`,
:mod:`~whuffie.api.outputs` and :mod:`~whuffie.api.chain`), so ``store.influence(kinds=["reply"])``
and ``whuffie.api.who.influence(store, kinds=["reply"])`` are the same call.
"""

from __future__ import annotations

import os
from typing import Any

from whuffie.api import chain as _chain
from whuffie.api import network as _network
from whuffie.api import outputs as _outputs
from whuffie.api import spread as _spread
from whuffie.api import voice as _voice
from whuffie.api import who as _who
from whuffie.privacy import erasure as _erasure
from whuffie.store import results
from whuffie.store import store as storage


class Store(storage.Store):
    """An open Whuffie store: the data, its saved runs, and every analysis as a method.

    Parameters
    ----------
    path : str or Path, optional
        The DuckDB file; ``WHUFFIE_DB`` or ``./whuffie.duckdb`` by default. ``":memory:"`` gives a
        throw-away store.
    read_only : bool
        Open without taking the write lock: other processes can read the store at the same time.
    writable_on_demand : bool
        With ``read_only``: take the write lock only when a new run must be saved.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Records, Tie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "reply")]))
    ...     store.influence().to_arrow().column("actor_id").to_pylist()
    ['x:b', 'x:a']
    """

    # Who matters
    influence = _who.influence
    efluentials = _who.efluentials
    pyramid = _who.pyramid
    niches = _who.niches
    # What the community says
    voice = _voice.voice
    concerns = _voice.concerns
    buzz = _voice.buzz
    inbox = _voice.inbox
    advocates = _voice.advocates
    # How word of mouth travels
    cascades = _spread.cascades
    spread = _spread.spread
    seeds = _spread.seeds
    # What it shows
    graph_metrics = _network.graph_metrics
    why = _outputs.why
    map = _outputs.map
    export = _outputs.export
    report = _outputs.report
    analyze = _chain.analyze
    # Privacy
    forget = _erasure.forget
    retain = _erasure.prune

    def runs(self) -> list[dict[str, Any]]:
        """Every saved run, oldest first: analysis, when, rows written, and what supersedes it.

        Examples
        --------
        >>> import whuffie
        >>> with whuffie.open(":memory:") as store:
        ...     store.runs()
        []
        """
        return results.list_runs(self)

    def prune(self) -> list[int]:
        """Drop superseded runs (a newer run has the same analysis and parameters) no kept run read.

        Returns the run ids dropped.
        """
        return results.prune(self)

    def result(self, name: str, run_id: int | None = None):
        """A saved result table (``influence``, ``niches``, ``voice_messages``...) as Arrow.

        The newest run's by default; raises a :class:`~whuffie.errors.WhuffieError` when no run
        wrote it.
        """
        return results.load(self, name, run_id)


def open(path: str | os.PathLike | None = None, read_only: bool = False) -> Store:
    """Open (and create or migrate) a Whuffie store.

    Parameters
    ----------
    path : str or Path, optional
        The DuckDB file. Defaults to ``WHUFFIE_DB`` or ``./whuffie.duckdb``.
    read_only : bool
        Open without the write lock.

    Returns
    -------
    Store

    Examples
    --------
    >>> import whuffie
    >>> store = whuffie.open(":memory:")
    >>> store.schema_version >= 3
    True
    >>> store.close()
    """
    return Store(path, read_only=read_only)
