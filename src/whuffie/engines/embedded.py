"""The embedded engine: every need of :class:`~whuffie.engines.base.Engine` as SQL on the DuckDB store.

This module and :mod:`whuffie.store` are the only places that query the store's tables; the
analyses receive what these methods return. User values (kinds, platforms, ids, times, weights)
always travel as query parameters or registered Arrow tables, never inside the SQL text.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from whuffie.engines.base import ACTOR_COLUMNS, INTERACTION_COLUMNS, MESSAGE_COLUMNS, REQUIREMENTS
from whuffie.errors import EngineError
from whuffie.sources.times import EARLIEST
from whuffie.store.schema import INTERACTION_KINDS
from whuffie.urls import normalize_many

if TYPE_CHECKING:
    from whuffie.graph.build import GraphSpec
    from whuffie.store.store import Store

#: Units of ``date_trunc`` the windowed needs accept.
UNITS = ("hour", "day", "week", "month", "year")
#: Rating kinds counted as likes of a message (the inbox's applause).
LIKE_KINDS = ("like", "favourite", "upvote")

_names = itertools.count()


def _ids_table(ids: Sequence[str] | pa.Array | pa.ChunkedArray) -> pa.Table:
    column = ids if isinstance(ids, pa.Array | pa.ChunkedArray) else pa.array(list(ids), pa.string())
    return pa.table({"id": column.cast(pa.string())})


def _unit(unit: str) -> str:
    if unit not in UNITS:
        raise EngineError(f"unknown time unit {unit!r}; choose one of {', '.join(UNITS)}")
    return unit


def _check(columns: Sequence[str], known: Sequence[str], what: str) -> None:
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise EngineError(f"unknown {what} column(s) {', '.join(unknown)}; known: {', '.join(known)}")


def interactions_filter(spec: GraphSpec, alias: str = "") -> tuple[str, list[Any]]:
    """The SQL condition on the ``interactions`` view that ``spec`` describes, and its parameters.

    Examples
    --------
    >>> from whuffie.graph.build import GraphSpec
    >>> where, params = interactions_filter(GraphSpec(kinds=("reply",)))
    >>> "kind IN (SELECT unnest(?))" in where, params
    (True, [['reply']])
    """
    p = f"{alias}." if alias else ""
    where = [f"{p}source IS NOT NULL", f"{p}target IS NOT NULL"]
    params: list[Any] = []
    if not spec.self_loops:
        where.append(f"{p}source <> {p}target")
    # Distrust is not attention to amplify.
    where.append(f"NOT ({p}kind = 'rating' AND coalesce({p}value, 0) < 0)")
    if spec.kinds is not None:
        where.append(f"{p}kind IN (SELECT unnest(?))")
        params.append(list(spec.kinds))
    if spec.platforms is not None:
        where.append(f"{p}platform IN (SELECT unnest(?))")
        params.append(list(spec.platforms))
    if spec.since is not None:
        where.append(f"{p}created_at >= ?")
        params.append(spec.since)
    if spec.until is not None:
        where.append(f"{p}created_at < ?")
        params.append(spec.until)
    return " AND ".join(where), params


def kind_weight_sql(spec: GraphSpec, kind: str = "kind") -> tuple[str, list[Any]]:
    """``CASE kind WHEN ? THEN ? ... ELSE 1.0 END``: the weight of each kind, as SQL and parameters."""
    weights = spec.as_dict()["weights"]
    cases, params = [], []
    for k, w in sorted(weights.items()):
        cases.append("WHEN ? THEN ?")
        params += [k, float(w)]
    return f"CASE {kind} {' '.join(cases)} ELSE 1.0 END", params


def _utc(value: Any) -> Any:
    """A bound as the store keeps times: an aware datetime becomes its naive UTC instant."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _window(column: str, since: Any, until: Any) -> tuple[list[str], list[Any]]:
    since, until = _utc(since), _utc(until)
    where, params = [], []
    if since is not None:
        where.append(f"{column} >= CAST(? AS TIMESTAMP)")
        params.append(since)
    if until is not None:
        where.append(f"{column} < CAST(? AS TIMESTAMP)")
        params.append(until)
    return where, params


class EmbeddedEngine:
    """The needs of the analyses, served by the embedded DuckDB store.

    Parameters
    ----------
    store : Store
        An open store.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.graph.build import GraphSpec
    >>> with whuffie.open(":memory:") as store:
    ...     store.engine.edges(GraphSpec()).column_names
    ['source', 'target', 'weight', 'count']
    """

    name = "embedded"

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def location(self) -> str:
        """Where the data is, for messages: the store's path."""
        return str(self.store.path)

    # -- plumbing ----------------------------------------------------------------------------

    def _arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        return self.store.arrow(sql, params)

    @contextmanager
    def _registered(self, **tables: pa.Table) -> Iterator[dict[str, str]]:
        """Arrow tables as uniquely named views of the store's connection, for one query."""
        con = self.store.con
        names: dict[str, str] = {}
        try:
            for key, table in tables.items():
                name = f"_whuffie_{key}_{next(_names)}"
                con.register(name, table)
                names[key] = name
            yield names
        finally:
            for name in names.values():
                con.unregister(name)

    def _messages_sql(self, columns: Sequence[str], *, ids_view: str | None = None,
                      platforms: Sequence[str] | None = None, since: Any = None, until: Any = None,
                      require: Sequence[str] = (), order_by: Sequence[str] | None = None,
                      select: str | None = None) -> tuple[str, list[Any]]:
        _check(columns, MESSAGE_COLUMNS, "message")
        _check(order_by or (), MESSAGE_COLUMNS, "message")
        _check(require, REQUIREMENTS, "requirement")
        select = select or ", ".join("extra->>'label' AS label" if c == "label" else c for c in columns)
        where: list[str] = ["NOT is_stub"]
        params: list[Any] = []
        conditions = {"actor": "actor_id IS NOT NULL",
                      "time": self._timed() if "time" in require else "",
                      "text": "text IS NOT NULL", "text_or_title": "(text IS NOT NULL OR title IS NOT NULL)"}
        where += [conditions[r] for r in require]
        if platforms is not None:
            where.append("platform IN (SELECT unnest(?))")
            params.append(list(platforms))
        window, bounds = _window("created_at", since, until)
        where += window
        params += bounds
        if ids_view is not None:
            where.append(f"message_id IN (SELECT id FROM {ids_view})")
        sql = f"SELECT {select} FROM messages" + (f" WHERE {' AND '.join(where)}" if where else "")
        if order_by:
            sql += f" ORDER BY {', '.join(order_by)}"
        return sql, params

    # -- what the data holds -----------------------------------------------------------------

    def kinds(self) -> set[str]:
        """The built-in interaction kinds and the kinds of the store's ties."""
        ties = self.store.con.execute("SELECT DISTINCT kind FROM ties").fetchall()
        return set(INTERACTION_KINDS) | {k for (k,) in ties}

    # -- the attention graph -----------------------------------------------------------------

    def edges(self, spec: GraphSpec) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.edges`."""
        where, params = interactions_filter(spec)
        case, case_params = kind_weight_sql(spec)
        return self._arrow(
            # count: the interactions that weigh in (a kind weighted 0 is not evidence of the edge).
            f"""SELECT source, target, w AS weight, c AS count FROM (
                    SELECT source, target, sum(weight * k) AS w, count(*) FILTER (WHERE k > 0) AS c
                      FROM (SELECT source, target, weight, {case} AS k
                              FROM interactions WHERE {where})
                     GROUP BY source, target)
                 WHERE w > 0 AND w >= ?""",
            [*case_params, *params, spec.min_weight])

    def edge_kinds(self, spec: GraphSpec) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.edge_kinds`."""
        where, params = interactions_filter(spec)
        return self._arrow(
            f"""SELECT source, target, kind, count(*) AS interactions, sum(weight) AS weight,
                       min(created_at) AS first, max(created_at) AS last
                  FROM interactions WHERE {where} GROUP BY source, target, kind""", params)

    def interactions(self, spec: GraphSpec, columns: Sequence[str] = INTERACTION_COLUMNS) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.interactions`."""
        _check(columns, INTERACTION_COLUMNS, "interaction")
        where, params = interactions_filter(spec)
        return self._arrow(f"SELECT {', '.join(columns)} FROM interactions WHERE {where}", params)

    def evidence(self, pairs: Sequence[tuple[str, str]], *, kinds: Sequence[str] | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.evidence`."""
        pair_table = pa.table({"source": [p[0] for p in pairs], "target": [p[1] for p in pairs]},
                              schema=pa.schema([("source", pa.string()), ("target", pa.string())]))
        where, params = [], []
        if kinds is not None:
            where.append("i.kind IN (SELECT unnest(?))")
            params.append(list(kinds))
        window, bounds = _window("i.created_at", since, until)
        where += window
        params += bounds
        with self._registered(pairs=pair_table) as v:
            return self._arrow(
                f"""SELECT i.source AS actor, i.target, i.kind, i.created_at AS time,
                           i.message_id AS message, i.record_id AS record, i.weight, i.value, i.platform,
                           coalesce(m.text, m.title) AS text
                      FROM interactions i SEMI JOIN {v['pairs']} p
                           ON p.source = i.source AND p.target = i.target
                      LEFT JOIN messages m ON m.message_id = i.message_id
                     {'WHERE ' + ' AND '.join(where) if where else ''}""", params)

    def _timed(self, column: str = "created_at") -> str:
        """The condition of a usable time: any time, but when the store holds calendar dates,
        not a time on a relative clock (before 1971: the coordination-network toolkit's CSV counts
        seconds from an arbitrary start), which would stretch every series back to 1970."""
        dated = self.store.con.execute(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE created_at >= ?)", [EARLIEST]).fetchall()[0][0]
        return f"{column} IS NOT NULL" + (f" AND {column} >= TIMESTAMP '{EARLIEST.isoformat()}'"
                                          if dated else "")

    def activity_windows(self, spec: GraphSpec, unit: str) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.activity_windows`."""
        unit = _unit(unit)
        where, params = interactions_filter(spec)
        case, case_params = kind_weight_sql(spec)
        timed = self._timed()
        msg_where = ["NOT is_stub", "actor_id IS NOT NULL", timed]
        msg_params: list[Any] = []
        if spec.platforms is not None:
            msg_where.append("platform IN (SELECT unnest(?))")
            msg_params.append(list(spec.platforms))
        window, bounds = _window("created_at", spec.since, spec.until)
        msg_where += window
        msg_params += bounds
        return self._arrow(
            f"""WITH a AS (
                    SELECT date_trunc('{unit}', created_at) AS window_start, actor_id, count(*) AS activity
                      FROM messages WHERE {' AND '.join(msg_where)} GROUP BY ALL),
                r AS (
                    SELECT date_trunc('{unit}', created_at) AS window_start, target AS actor_id,
                           sum(weight * {case}) AS recognition
                      FROM interactions WHERE {where} AND {timed} GROUP BY ALL)
                SELECT CAST(window_start AS TIMESTAMP) AS window_start, actor_id,
                       CAST(coalesce(activity, 0) AS BIGINT) AS activity,
                       CAST(coalesce(recognition, 0) AS DOUBLE) AS recognition
                  FROM a FULL JOIN r USING (window_start, actor_id)
                 ORDER BY window_start, actor_id""",
            [*msg_params, *case_params, *params])

    # -- messages and actors -----------------------------------------------------------------

    def messages(self, columns: Sequence[str], *, ids: Sequence[str] | pa.Array | None = None,
                 platforms: Sequence[str] | None = None, since: datetime | None = None,
                 until: datetime | None = None, require: Sequence[str] = (),
                 order_by: Sequence[str] | None = None) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.messages`."""
        if ids is None:
            sql, params = self._messages_sql(columns, platforms=platforms, since=since, until=until,
                                             require=require, order_by=order_by)
            return self._arrow(sql, params)
        with self._registered(ids=_ids_table(ids)) as v:
            sql, params = self._messages_sql(columns, ids_view=v["ids"], platforms=platforms, since=since,
                                             until=until, require=require, order_by=order_by)
            return self._arrow(sql, params)

    def message_batches(self, columns: Sequence[str], *, batch: int = 10_000,
                        **filters: Any) -> tuple[int, Iterator[pa.RecordBatch]]:
        """See :meth:`whuffie.engines.base.Engine.message_batches` (no ``ids`` filter)."""
        sql, params = self._messages_sql(columns, **filters)
        total = self.store.con.execute(f"SELECT count(*) FROM ({sql})", params).fetchall()[0][0]
        reader = self.store.con.sql(sql, params=params or None).to_arrow_reader(batch)
        return int(total), iter(reader)

    def message_counts(self, by: Sequence[str], *, unit: str | None = None,
                       platforms: Sequence[str] | None = None, since: datetime | None = None,
                       until: datetime | None = None, require: Sequence[str] = ()) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.message_counts`."""
        _check(by, MESSAGE_COLUMNS, "message")
        require = list(require)
        keys = list(by)
        if unit is not None:
            keys.append(f"date_trunc('{_unit(unit)}', created_at) AS created_at")
            if "time" not in require:
                require.append("time")
        sql, params = self._messages_sql([], platforms=platforms, since=since, until=until,
                                         require=require, select=f"{', '.join(keys)}, count(*) AS n")
        return self._arrow(sql + " GROUP BY ALL", params)

    def tags(self, *, platforms: Sequence[str] | None = None, since: datetime | None = None,
             until: datetime | None = None) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.tags`."""
        return self._children("tags", "c.tag", platforms, since, until)

    def links(self, platforms: Sequence[str] | None = None, since: datetime | None = None,
              until: datetime | None = None) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.links`."""
        return self._children("links", "c.url, c.normalized_url, c.domain", platforms, since, until)

    def _children(self, table: str, columns: str, platforms: Sequence[str] | None,
                  since: datetime | None, until: datetime | None) -> pa.Table:
        """Rows of a child table of the full messages (tags, links) in a window, with the
        message's id, author and time."""
        where, params = ["NOT m.is_stub"], []
        if platforms is not None:
            where.append("m.platform IN (SELECT unnest(?))")
            params.append(list(platforms))
        window, bounds = _window("m.created_at", since, until)
        return self._arrow(
            f"SELECT m.message_id, m.actor_id, m.created_at, {columns} FROM {table} c "
            f"JOIN messages m ON m.message_id = c.message_id WHERE {' AND '.join(where + window)}",
            params + bounds)

    def actors(self, columns: Sequence[str], ids: Sequence[str] | pa.Array | None = None) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.actors`."""
        _check(columns, ACTOR_COLUMNS, "actor")
        select = ", ".join(columns)
        if ids is None:
            return self._arrow(f"SELECT {select} FROM actors")
        with self._registered(ids=_ids_table(ids)) as v:
            return self._arrow(f"SELECT {select} FROM actors WHERE actor_id IN (SELECT id FROM {v['ids']})")

    def actor_ids(self, name: str) -> list[str]:
        """See :meth:`whuffie.engines.base.Engine.actor_ids`."""
        q = self.store.con.execute
        b = name.strip()
        ids = [r[0] for r in q("SELECT actor_id FROM actors WHERE actor_id = ? UNION "
                               "SELECT actor_id FROM messages WHERE actor_id = ? LIMIT 1", [b, b]).fetchall()]
        if ids:
            return ids
        h = b.lstrip("@").lower()
        ids = [r[0] for r in q("SELECT actor_id FROM actors WHERE lower(handle) = ? ORDER BY actor_id",
                               [h]).fetchall()]
        if not ids and "@" not in h:
            ids = [r[0] for r in q("SELECT actor_id FROM actors WHERE lower(split_part(handle, '@', 1)) = ? "
                                   "ORDER BY actor_id", [h]).fetchall()]
        return ids

    def similar_handles(self, text: str, limit: int = 5) -> list[str]:
        """Distinct handles, the closest to ``text`` first (Jaro-Winkler similarity)."""
        return [r[0] for r in self.store.con.execute(
            "SELECT handle FROM (SELECT DISTINCT handle FROM actors WHERE handle IS NOT NULL) "
            "ORDER BY jaro_winkler_similarity(lower(handle), ?) DESC, handle LIMIT ?",
            [text.lstrip("@").lower(), int(limit)]).fetchall()]

    def similar_actors(self, text: str, limit: int = 5) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.similar_actors`."""
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return self._arrow(
            r"""SELECT actor_id, handle FROM actors
                 WHERE actor_id ILIKE ? ESCAPE '\' OR handle ILIKE ? ESCAPE '\' OR name ILIKE ? ESCAPE '\'
                    OR jaro_winkler_similarity(lower(coalesce(handle, '')), lower(?)) >= 0.9
                 ORDER BY jaro_winkler_similarity(lower(coalesce(handle, actor_id)), lower(?)) DESC, actor_id
                 LIMIT ?""",
            [like, like, like, text, text, int(limit)])

    def interactors(self, actor_ids: Sequence[str] | pa.Array) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.interactors`."""
        with self._registered(ids=_ids_table(actor_ids)) as v:
            return self._arrow(
                f"SELECT target AS actor_id, count(DISTINCT source) AS n FROM interactions "
                f"WHERE target IN (SELECT id FROM {v['ids']}) AND source <> target GROUP BY 1")

    def top_authors(self, limit: int) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.top_authors`."""
        return self._arrow(
            "SELECT a.actor_id AS actor, a.handle, count(*) AS messages FROM messages m "
            "JOIN actors a ON a.actor_id = m.actor_id WHERE NOT m.is_stub "
            "GROUP BY ALL ORDER BY messages DESC, actor LIMIT ?", [int(limit)])

    def top_recognised(self, limit: int) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.top_recognised`."""
        return self._arrow(
            "SELECT i.target AS actor, a.handle, count(DISTINCT i.source) AS from_people, "
            "count(*) AS received FROM interactions i "
            "JOIN actors a ON a.actor_id = i.target WHERE i.source <> i.target "
            "GROUP BY ALL ORDER BY from_people DESC, received DESC, actor LIMIT ?", [int(limit)])

    # -- conversations and cascades ----------------------------------------------------------

    def brand_threads(self, brand_ids: Sequence[str]) -> Mapping[str, pa.Table]:
        """See :meth:`whuffie.engines.base.Engine.brand_threads`."""
        brand = "(SELECT unnest(?::VARCHAR[]))"
        ids = list(brand_ids)
        messages = self._arrow(f"""
            WITH bm AS (SELECT message_id FROM messages WHERE actor_id IN {brand}),
            keep AS (
                SELECT message_id FROM bm
                UNION SELECT message_id FROM messages WHERE reply_to IN (SELECT message_id FROM bm)
                UNION SELECT message_id FROM messages WHERE reshare_of IN (SELECT message_id FROM bm)
                UNION SELECT message_id FROM recipients WHERE actor_id IN {brand}
                UNION SELECT message_id FROM mentions WHERE actor_id IN {brand}
                UNION SELECT reply_to FROM messages WHERE actor_id IN {brand} AND reply_to IS NOT NULL)
            SELECT message_id, actor_id, created_at, thread_id, reply_to, reshare_of, is_stub,
                   replies, reshares, likes
              FROM messages WHERE message_id IN (SELECT message_id FROM keep)""", [ids] * 4)
        return {
            "messages": messages,
            "recipients": self._arrow(
                f"SELECT message_id, actor_id FROM recipients WHERE actor_id IN {brand}", [ids]),
            "mentions": self._arrow(f"SELECT message_id, actor_id FROM mentions WHERE actor_id IN {brand}",
                                    [ids]),
            "ratings": self._arrow(
                f"SELECT target_message_id, kind FROM ratings WHERE kind IN (SELECT unnest(?)) "
                f"AND target_message_id IN (SELECT message_id FROM messages WHERE actor_id IN {brand})",
                [list(LIKE_KINDS), ids]),
            "actors": self._arrow("SELECT actor_id, followers FROM actors"),
        }

    def cascade_links(self, platforms: Sequence[str] | None = None) -> pa.Table:
        """See :meth:`whuffie.engines.base.Engine.cascade_links`."""
        plat_sql, params = "", []
        if platforms:
            plat_sql = "WHERE platform IN (SELECT unnest(?))"
            params.append(list(platforms))
        # A page compares by its normalised address (whuffie.urls): the store keeps it for links,
        # and messages' own addresses are normalised here, since only link chains need them. Only
        # messages older than the newest message that may take a link parent (one with a link and
        # no reshare, quote or reply) can be such a parent.
        pages = self._arrow("""
            SELECT message_id, created_at, url FROM messages
             WHERE url IS NOT NULL AND NOT is_stub
               AND created_at < (SELECT max(s.created_at) FROM messages s
                                  WHERE s.message_id IN (SELECT message_id FROM links)
                                    AND coalesce(s.reshare_of, s.quote_of, s.reply_to) IS NULL)""")
        pages = pa.table({"message_id": pages["message_id"], "created_at": pages["created_at"],
                          "page": normalize_many(pages["url"])[0]})
        with self._registered(pages=pages) as v:
            return self._arrow(f"""
            WITH linked AS (
                SELECT l.message_id, arg_min(p.message_id, p.created_at) AS parent_id
                  FROM links l JOIN messages s ON s.message_id = l.message_id
                  JOIN {v['pages']} p ON p.page = l.normalized_url AND p.message_id <> l.message_id
                 WHERE p.created_at < s.created_at
                   AND coalesce(s.reshare_of, s.quote_of, s.reply_to) IS NULL
                 GROUP BY l.message_id
            ),
            m AS (
                SELECT message_id, actor_id, platform, created_at, is_stub,
                       coalesce(reshare_of, quote_of, reply_to, linked.parent_id) AS parent_id,
                       extra->>'label' AS label
                  FROM messages LEFT JOIN linked USING (message_id) {plat_sql}
                QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY is_stub) = 1
            ),
            missing AS (
                SELECT m.parent_id AS message_id, NULL::VARCHAR AS actor_id,
                       any_value(m.platform) AS platform, NULL::TIMESTAMP AS created_at, true AS is_stub,
                       NULL::VARCHAR AS parent_id, NULL::VARCHAR AS label
                  FROM m WHERE m.parent_id IS NOT NULL
                   AND m.parent_id NOT IN (SELECT message_id FROM m)
                 GROUP BY m.parent_id
            ),
            coded AS (
                SELECT row_number() OVER (ORDER BY message_id) - 1 AS i, *
                  FROM (SELECT * FROM m UNION ALL SELECT * FROM missing)
            )
            SELECT c.i, coalesce(p.i, -1) AS parent, c.message_id, c.actor_id, c.platform, c.created_at,
                   c.is_stub, c.label
              FROM coded c LEFT JOIN coded p ON p.message_id = c.parent_id
             ORDER BY c.i
        """, params)

