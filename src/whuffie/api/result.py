"""What every library call returns: a result with its run, parameters, tables and evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from whuffie.errors import WhuffieError

if TYPE_CHECKING:
    import pandas

    from whuffie.store.store import Store


@dataclass(repr=False)
class Result:
    """The result of one analysis.

    Attributes
    ----------
    analysis : str
        What ran (``influence``, ``niches``...).
    params : dict
        Every parameter of the run, JSON-ready (graph filters included).
    tables : dict of str to pyarrow.Table
        The result tables by name (the ``result_<name>`` tables of the store).
    summary : dict
        The headline figures.
    run_id : int or None
        The saved run; ``None`` when the result could not be saved (a store open read-only).
    reused : bool
        True when an earlier run with the same parameters on the same data was returned instead
        of computing again.
    inputs : dict
        The runs whose results this one read, by analysis.
    main : str
        The table :meth:`to_arrow` and :meth:`to_pandas` give by default.

    Examples
    --------
    >>> r = Result("demo", {}, {"demo": pa.table({"actor_id": ["x:1"]})}, {"actors": 1}, main="demo")
    >>> r.to_arrow().num_rows, r.summary["actors"], r
    (1, 1, <Result demo (not saved): demo 1 row>)
    """

    analysis: str
    params: dict[str, Any]
    tables: dict[str, pa.Table]
    summary: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None
    reused: bool = False
    inputs: dict[str, Any] = field(default_factory=dict)
    main: str = ""
    note: str | None = None
    store: Store | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.main and self.tables:
            self.main = next(iter(self.tables))

    @property
    def saved(self) -> bool:
        """Whether the result is saved in the store (it has a run id)."""
        return self.run_id is not None

    def __getitem__(self, name: str) -> pa.Table:
        try:
            return self.tables[name]
        except KeyError:
            raise WhuffieError(f"the {self.analysis} result has no table {name!r}; it has "
                               f"{', '.join(self.tables) or 'none'}") from None

    def to_arrow(self, table: str | None = None) -> pa.Table:
        """A result table as Arrow (the main one by default; see :attr:`tables` for the others)."""
        if not self.tables:
            raise WhuffieError(f"the {self.analysis} result has no table")
        return self[table or self.main]

    def to_pandas(self, table: str | None = None) -> pandas.DataFrame:
        """A result table as a pandas DataFrame (needs pandas: ``pip install 'whuffie[pandas]'``)."""
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise WhuffieError("to_pandas needs pandas: pip install 'whuffie[pandas]' "
                               "(or use to_arrow())") from None
        return self.to_arrow(table).to_pandas()

    def evidence(self, key: Any) -> pa.Table:
        """The rows that justify one row of the result (an actor, a niche, a burst...)."""
        raise WhuffieError(f"the {self.analysis} result has no evidence per row")

    def _rows_where(self, table: str, column: str, value: Any) -> pa.Table:
        t = self[table]
        return t.filter(pc.equal(t[column], pa.scalar(value, t.schema.field(column).type)))

    def __repr__(self) -> str:
        state = (f"run {self.run_id}" + (" (reused)" if self.reused else "")) if self.saved else "(not saved)"
        parts = ", ".join(f"{name} {t.num_rows:,} row{'' if t.num_rows == 1 else 's'}"
                          for name, t in self.tables.items())
        return f"<{type(self).__name__} {self.analysis} {state}: {parts or 'no table'}>"


class InfluenceResult(Result):
    """Every actor's influence (table ``influence``).

    ``evidence(actor)`` lists who pays attention to the actor: each recogniser with the weight
    and interactions of the edge (see :meth:`whuffie.Store.why` for the messages behind one).
    """

    def evidence(self, key: str) -> pa.Table:
        if self.store is None:
            raise WhuffieError("this result is not attached to a store")
        from whuffie.graph.build import GraphSpec

        graph = self.params["graph"]
        spec = GraphSpec(kinds=graph["kinds"], weights=graph["weights"], platforms=graph["platforms"],
                         since=_time(graph["since"]), until=_time(graph["until"]),
                         min_weight=graph["min_weight"], self_loops=graph["self_loops"])
        edges = self.store.engine.edges(spec)
        found = edges.filter(pc.equal(edges["target"], key)).sort_by([("weight", "descending"),
                                                                     ("source", "ascending")])
        return found.rename_columns(["recogniser", "actor_id", "weight", "interactions"]).select(
            ["actor_id", "recogniser", "weight", "interactions"])


class EfluentialsResult(Result):
    """The e-fluentials (``efluentials``) and every recogniser of each (``efluential_recognisers``).

    ``evidence(actor)`` gives the recognisers of one e-fluential, strongest first.
    """

    def evidence(self, key: str) -> pa.Table:
        return self._rows_where("efluential_recognisers", "actor_id", key)


class PyramidResult(Result):
    """Levels per window (``pyramid_levels``), counts, the migration matrix and the moves.

    ``evidence(actor)`` gives the actor's level in every window.
    """

    def evidence(self, key: str) -> pa.Table:
        return self._rows_where("pyramid_levels", "actor_id", key)


class NichesResult(Result):
    """The niches (``niches``), every actor's niche and bridging (``memberships``), links, activity.

    ``evidence(niche)`` gives the members of a niche, by rank inside it.
    """

    def evidence(self, key: int) -> pa.Table:
        return self._rows_where("memberships", "niche", int(key))


class VoiceResult(Result):
    """Language, sentiment and concerns of every message (``voice_messages``)."""


class ConcernsResult(Result):
    """The concerns raised (``concerns``), most voiced first.

    ``evidence(concern)`` gives the messages that raise it, from the voice run.
    """

    def evidence(self, key: str) -> pa.Table:
        if self.store is None:
            raise WhuffieError("this result is not attached to a store")
        from whuffie.store import results

        voice = results.load(self.store, "voice_messages", self.inputs.get("voice"))
        flags = [key in (c or []) for c in voice["concerns"].to_pylist()]
        return voice.filter(pa.array(flags, pa.bool_())).sort_by("score")


class BuzzResult(Result):
    """Bursts (``buzz_episodes``), what is rising (``buzz_rising``), volumes and the burst messages.

    ``evidence(burst_id)`` gives the messages that make a burst, most engaging first.
    """

    def evidence(self, key: int) -> pa.Table:
        return self._rows_where("buzz_evidence", "burst_id", int(key))


class InboxResult(Result):
    """Inbound messages to the brand (``inbox_inbound``) and the brand's posts (``inbox_outbound``)."""

    @property
    def unanswered(self) -> pa.Table:
        """Inbound messages without an answer, highest priority first."""
        t = self["inbox_inbound"]
        t = t.filter(pc.invert(t["answered"]))
        return t.sort_by([("priority", "descending"), ("created_at", "ascending"),
                          ("message_id", "ascending")])

    @property
    def silent(self) -> pa.Table:
        """Brand posts that started no conversation, oldest first."""
        t = self["inbox_outbound"]
        t = t.filter(pc.invert(t["started_conversation"]))
        return t.sort_by([("created_at", "ascending"), ("message_id", "ascending")])


class AdvocatesResult(Result):
    """Advocates and detractors (``advocates``), detractors first.

    ``evidence(actor)`` gives the voice rows of the messages listed as the actor's evidence.
    """

    def evidence(self, key: str) -> pa.Table:
        row = self._rows_where("advocates", "actor_id", key).to_pylist()
        if not row:
            raise WhuffieError(f"{key!r} is not in this advocates result")
        ids = pa.array(row[0]["evidence"] or [], pa.string())
        if self.store is None:
            return pa.table({"message_id": ids})
        from whuffie.store import results

        voice = results.load(self.store, "voice_messages", self.inputs.get("voice"))
        return voice.filter(pc.is_in(voice["message_id"], value_set=ids))


class CascadesResult(Result):
    """The cascades (``cascades``), their messages (``cascade_nodes``) and the model fitted on them.

    ``evidence(cascade)`` gives the messages of a cascade with their parents.
    """

    def evidence(self, key: str) -> pa.Table:
        return self._rows_where("cascade_nodes", "cascade", key)


class SpreadResult(Result):
    """A forecast of word of mouth: ``summary`` holds the expected reach and its interval,
    ``spread_reached`` who is most likely reached."""


class SeedsResult(Result):
    """Whom to approach (``seed_set``: the set the simulation finds best), IMM's choice (``seeds``)
    and every set compared (``seed_comparison``)."""


@dataclass(repr=False)
class OutputResult(Result):
    """A file written (the map, an export, the report): ``paths`` and the tables drawn or written."""

    paths: list[Path] = field(default_factory=list)

    @property
    def path(self) -> Path:
        """The (first) file written."""
        return self.paths[0]


def _time(value: str | None):
    from datetime import datetime

    return datetime.fromisoformat(value) if value else None
