"""The engine seam: every table an analysis needs from the store, by name.

Analyses are pure: they take Arrow tables, arrays and graphs and return tables. What they need
from the data is read through one :class:`Engine` method per need, so that the same analysis runs
whichever engine holds the data: the embedded DuckDB store (:mod:`whuffie.engines.embedded`, the
default) or, for data that outgrows one machine, a distributed engine that provides the same
tables (Spark, planned). An engine method filters, joins and aggregates *the store's* rows down to
what the analysis needs; what the analysis then computes belongs to the analysis.

Every method returns a :class:`pyarrow.Table` with the columns its documentation lists (or, for
streams of texts, record batches), and filters with the same conventions:

* messages are *real* messages (stubs, known only by id, are never returned) unless stated;
* ``platforms`` keeps the rows of those platforms; ``since`` and ``until`` keep the rows in
  ``[since, until)`` (UTC); rows without a time are then left out;
* a :class:`~whuffie.graph.build.GraphSpec` selects interactions: kinds, platforms, time window,
  self-loops and distrust (negative ratings) rules, kind weights and the least edge weight.

See ``docs/architecture.md`` for the whole picture.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pyarrow as pa

if TYPE_CHECKING:
    from whuffie.graph.build import GraphSpec

#: What a message may be required to have (``require=`` of :meth:`Engine.messages`): ``time`` is a
#: usable time (when the store holds calendar dates, not a time on the arbitrary clock some formats
#: count from, stored from 1970-01-01: see :mod:`whuffie.sources.times`).
REQUIREMENTS = ("actor", "time", "text", "text_or_title")

#: Message columns an engine serves; ``label`` is the source's own label of a message (Twitter15's
#: veracity, in the store's ``extra``).
MESSAGE_COLUMNS = (
    "message_id", "platform", "actor_id", "created_at", "utc_offset", "kind", "text", "title", "lang",
    "reply_to", "reshare_of", "quote_of", "thread_id", "url", "likes", "reshares", "replies", "quotes",
    "score", "views", "is_stub", "label",
)
#: Actor columns an engine serves.
ACTOR_COLUMNS = (
    "actor_id", "platform", "handle", "name", "url", "description", "created_at", "followers",
    "following", "posts", "verified",
)
#: Columns of :meth:`Engine.interactions`.
INTERACTION_COLUMNS = (
    "source", "target", "kind", "message_id", "created_at", "platform", "weight", "value", "record_id",
)


@runtime_checkable
class Engine(Protocol):
    """The tables an analysis can ask of the data, one method per need.

    Attributes
    ----------
    name : str
        The engine's name, recorded with every run (``embedded``, ``spark``).
    location : str
        Where the data is (a store's path, a folder of Parquet files), for messages.
    """

    name: str
    location: str

    # -- what the data holds ---------------------------------------------------------------

    def kinds(self) -> set[str]:
        """Every interaction kind the data can hold: the built-in kinds and the kinds of its ties."""

    # -- the attention graph ---------------------------------------------------------------

    def edges(self, spec: GraphSpec) -> pa.Table:
        """The weighted attention edges: one row per ``source -> target`` pair.

        Columns ``source``, ``target`` (actor ids), ``weight`` (the sum of the interactions'
        weights, each multiplied by its kind's weight) and ``count`` (interactions behind the edge);
        pairs whose weight is 0 or below ``spec.min_weight`` are left out.
        """

    def edge_kinds(self, spec: GraphSpec) -> pa.Table:
        """The interactions of every pair, per kind, before kind weights and ``min_weight``.

        Columns ``source``, ``target``, ``kind``, ``interactions`` (rows), ``weight`` (sum of the
        rows' own weights: a tie's weight, 1 otherwise), ``first`` and ``last`` (times).
        """

    def interactions(self, spec: GraphSpec, columns: Sequence[str] = INTERACTION_COLUMNS) -> pa.Table:
        """The interaction rows ``spec`` selects (before any aggregation), with the columns asked."""

    def evidence(self, pairs: Sequence[tuple[str, str]], *, kinds: Sequence[str] | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> pa.Table:
        """Every interaction of the given ``(source, target)`` pairs with the text of its message.

        Columns ``actor`` (the source), ``target``, ``kind``, ``time``, ``message``, ``record``,
        ``weight``, ``value``, ``platform``, ``text`` (the message's text, else its title).
        """

    def activity_windows(self, spec: GraphSpec, unit: str) -> pa.Table:
        """Messages written and weighted attention received by every actor in every window.

        Columns ``window_start`` (``date_trunc(unit, ...)``), ``actor_id``, ``activity`` (real
        messages written) and ``recognition`` (received interactions weighted as in
        :meth:`edges`); undated rows have no window and are left out, and so are times on a
        relative clock when the store holds calendar dates (see :data:`REQUIREMENTS`).
        """

    # -- messages and actors ---------------------------------------------------------------

    def messages(self, columns: Sequence[str], *, ids: Sequence[str] | pa.Array | None = None,
                 platforms: Sequence[str] | None = None, since: datetime | None = None,
                 until: datetime | None = None, require: Sequence[str] = (),
                 order_by: Sequence[str] | None = None) -> pa.Table:
        """Columns of the real messages, all of them or those with the given ids.

        ``require`` names what every message must have (:data:`REQUIREMENTS`: an author, a time,
        a text, a text or a title); ``order_by`` sorts by these columns.
        """

    def message_batches(self, columns: Sequence[str], *, batch: int = 10_000,
                        **filters: Any) -> tuple[int, Iterator[pa.RecordBatch]]:
        """:meth:`messages` as a count and a stream of record batches (texts of large stores)."""

    def message_counts(self, by: Sequence[str], *, unit: str | None = None,
                       platforms: Sequence[str] | None = None, since: datetime | None = None,
                       until: datetime | None = None, require: Sequence[str] = ()) -> pa.Table:
        """Real messages counted per value of the ``by`` columns (``n``).

        With ``unit`` the ``created_at`` column, truncated to the unit (``week``...), is one of
        the groups; undated messages are then left out.
        """

    def tags(self, *, platforms: Sequence[str] | None = None, since: datetime | None = None,
             until: datetime | None = None) -> pa.Table:
        """Hashtags of the real messages: ``message_id``, ``actor_id``, ``created_at``, ``tag``."""

    def links(self, platforms: Sequence[str] | None = None, since: datetime | None = None,
              until: datetime | None = None) -> pa.Table:
        """Hyperlinks of the real messages: one row per link of a message.

        Columns ``message_id``, ``actor_id`` (the author), ``created_at``, ``url`` (as written),
        ``normalized_url`` (the page's canonical address, one for the ways of writing it) and
        ``domain`` (the registered domain of that address); see :mod:`whuffie.urls`.
        """

    def actors(self, columns: Sequence[str], ids: Sequence[str] | pa.Array | None = None) -> pa.Table:
        """Columns of the actor profiles, all of them or those with the given ids."""

    def actor_ids(self, name: str) -> list[str]:
        """The actor ids a name stands for: an actor id, else every actor with that handle.

        Handles compare without ``@`` and case; a handle without ``@instance`` also matches
        Mastodon handles ``handle@instance`` when no actor has the bare handle.
        """

    def similar_handles(self, text: str, limit: int = 5) -> list[str]:
        """Distinct handles, the closest to ``text`` first (for "close handles" hints)."""

    def similar_actors(self, text: str, limit: int = 5) -> pa.Table:
        """Actors whose id, handle or name contains ``text`` or whose handle is spelled almost so.

        Columns ``actor_id``, ``handle``, best match first (for "did you mean" hints).
        """

    def interactors(self, actor_ids: Sequence[str] | pa.Array) -> pa.Table:
        """Distinct actors who interacted with each given actor: ``actor_id``, ``n``."""

    def top_authors(self, limit: int) -> pa.Table:
        """The actors who wrote the most real messages: ``actor``, ``handle``, ``messages``."""

    def top_recognised(self, limit: int) -> pa.Table:
        """The actors receiving attention from the most people.

        Columns ``actor``, ``handle``, ``from_people`` (distinct sources), ``received``.
        """

    # -- conversations and cascades --------------------------------------------------------

    def brand_threads(self, brand_ids: Sequence[str]) -> Mapping[str, pa.Table]:
        """Everything around the brand's accounts that the inbox and outbox read.

        ``messages`` (every message column the inbox reads, stubs included) for the brand's
        messages, the messages replying to or resharing them, the messages addressed to the brand
        (replies, e-mails, mentions) and the messages the brand replied to; ``recipients`` and
        ``mentions`` rows naming a brand account; ``ratings`` (likes) of the brand's messages;
        ``actors`` (``actor_id``, ``followers``) of every actor.
        """

    def cascade_links(self, platforms: Sequence[str] | None = None) -> pa.Table:
        """Every message with the index of its parent, for rebuilding cascades.

        One row per message (stubs included) and per parent that is absent from the store: ``i``
        (0..n-1, by message id), ``parent`` (the parent's ``i``, -1 for none), ``message_id``,
        ``actor_id``, ``platform``, ``created_at``, ``is_stub`` and ``label``. The parent is the
        first of ``reshare_of``, ``quote_of``, ``reply_to``, else the earliest earlier message
        whose page a link of the message points at, pages compared by their normalised address
        (see :mod:`whuffie.spread.cascades` and :mod:`whuffie.urls`).
        """
