"""The brand's inbox and outbox: who talks to the brand, who got an answer, which posts fell flat.

With the brand's accounts declared (``--brand``), the store is read from the
brand's side.

Inbound
-------
An **inbound message** is a real (non-stub) message by someone other than the
brand that

* replies to a message by a brand account (``via = 'reply'``), else
* has a brand account among its e-mail recipients (``via = 'email'``), else
* mentions a brand account (``via = 'mention'``).

Reshares are not inbound: they amplify the brand, they do not address it.

An inbound message is **answered** when a brand account

1. replied to it directly (its ``reply_to`` is the inbound message), or
2. replied, in the same thread, to a *later* message by the same author.

Rule 2 exists because people often add a second message before the brand
answers ("@brand hello?"), and the brand answers the latest one: the earlier
message has been dealt with in that conversation. Only replies count as
answers: a brand's unthreaded message in the thread (a forum's linear reply,
which replies to the topic) is not attributed to anyone, so forums that do not
thread replies under-count answers. The first answer (earliest) gives
``first_answer_id`` and ``response_seconds``. Answers are looked for in the
whole store, even after ``until``: a message sent on the last day that was
answered the next day is answered.

Who is waiting for an answer
----------------------------
Unanswered inbound messages are ranked by::

    priority = (carry + negativity) / 2

where ``carry`` in (0, 1] is the author's PageRank as a percentile (``cume_dist``)
among the actors of the influence results, or, when the author has no
influence row, the percentile of their reach (influence ``audience``, else the
platform's follower count) among the actors whose reach is known, else 0;
and ``negativity = max(0, -score)`` is the message's negative sentiment score
(0 when unknown or not negative). The most influential and most negative
authors come first, then the oldest message.

Outbound
--------
A **brand post** is a real message by a brand account that is neither a reply
nor a reshare. For each post, ``replies``, ``reshares`` and ``likes`` are the
larger of the platform's counter (``messages.replies/reshares/likes``, as
collected) and what the store holds (replies and reshares found in the store;
``like``, ``favourite`` and ``upvote`` ratings): a counter misses what
happened after collection, the store misses what was not collected. A post
**started a conversation** when someone other than the brand replied to it in
the store, or its reply counter exceeds the brand's own stored replies to it;
the posts that did not are ``silent``.

Following Avinash Kaushik's social media metrics, the conversation,
amplification and applause rates are the replies, reshares and likes *per
post*: ``summary`` averages them over the brand posts. Per post, the rate
columns give the same counts *per 1,000 followers* of the posting account (when
its follower count is known, else null), so accounts of different sizes
compare; ``summary`` averages those too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from whuffie import arrowsql
from whuffie.errors import WhuffieError

if TYPE_CHECKING:
    from whuffie.engines.base import Engine

#: Rating kinds counted as likes of a message.
LIKE_KINDS = ("like", "favourite", "upvote")
VIAS = ("reply", "email", "mention")
#: The tables :func:`inbox` reads, as :meth:`~whuffie.engines.base.Engine.brand_threads` gives them.
THREAD_TABLES = ("messages", "recipients", "mentions", "ratings", "actors")


def check_columns(table: pa.Table | None, what: str, needed: Sequence[str]) -> None:
    """Refuse a table (``None`` passes) that lacks a needed column.

    Examples
    --------
    >>> check_columns(pa.table({"message_id": ["x:1"]}), "voice", ["message_id", "score"])
    Traceback (most recent call last):
    ...
    whuffie.errors.WhuffieError: the voice table lacks column(s) score (it has message_id)
    """
    if table is None:
        return
    missing = [c for c in needed if c not in table.column_names]
    if missing:
        raise WhuffieError(f"the {what} table lacks column(s) {', '.join(missing)} "
                           f"(it has {', '.join(table.column_names)})")


def resolve_brands(engine: Engine, brands: Sequence[str]) -> list[str]:
    """The actor ids of the brand's accounts, from actor ids or handles.

    Each brand is an actor id (``platform:native``) or a handle, with or without
    ``@``, case-insensitive, on any platform: every actor with that handle is a
    brand account. A handle without ``@instance`` also matches Mastodon handles
    ``handle@instance`` when no actor has the bare handle.

    Parameters
    ----------
    engine : Engine
        Where the actors are (``store.engine``).
    brands : sequence of str
        Actor ids or handles.

    Returns
    -------
    list of str
        Actor ids, in the order given, without duplicates.

    Raises
    ------
    WhuffieError
        When a brand matches no actor (the message suggests close handles), or
        when no brand is given.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Actor, Records
    >>> store = whuffie.open(":memory:")
    >>> _ = store.add(Records(actors=[Actor("m:1", "mastodon", "Shop@social.example"),
    ...                               Actor("t:9", "twitter", "shop"), Actor("t:8", "twitter", "shopper")]))
    >>> resolve_brands(store.engine, ["@SHOP"])
    ['t:9']
    >>> resolve_brands(store.engine, ["shop@social.example", "t:9"])
    ['m:1', 't:9']
    >>> try:
    ...     resolve_brands(store.engine, ["shoop"])
    ... except WhuffieError as exc:
    ...     print(exc)
    brand 'shoop' matches no actor id or handle in :memory:; close handles: shop, shopper, Shop@social.example
    >>> store.close()
    """
    if not brands:
        raise WhuffieError("no brand given: name the brand's accounts by handle or actor id (--brand)")
    out: dict[str, None] = {}
    for brand in brands:
        ids = engine.actor_ids(brand)
        if not ids:
            close = engine.similar_handles(brand.strip(), 5)
            hint = f"; close handles: {', '.join(close)}" if close else "; the store has no handles"
            raise WhuffieError(f"brand {brand!r} matches no actor id or handle in {engine.location}{hint}")
        out.update(dict.fromkeys(ids))
    return list(out)


@dataclass
class InboxResult:
    """What :func:`inbox` finds; see the module documentation for the definitions.

    Attributes
    ----------
    brands : list of str
        The brand's actor ids.
    inbound : pyarrow.Table
        One row per inbound message.
    summary : dict
        Counts, response rate and times, mean rates per post.
    unanswered : pyarrow.Table
        Inbound rows without an answer, highest priority first.
    outbound : pyarrow.Table
        One row per brand post.
    silent : pyarrow.Table
        Brand posts that started no conversation.
    """

    brands: list[str]
    inbound: pa.Table
    summary: dict[str, Any] = field(default_factory=dict)
    unanswered: pa.Table | None = None
    outbound: pa.Table | None = None
    silent: pa.Table | None = None



def inbound_sql(voice: str | None, influence: str | None, since: datetime | None,
                until: datetime | None) -> tuple[str, list[Any]]:
    """The SQL (and its parameters after the brand list) of the inbound rows.

    The query reads the tables of :data:`THREAD_TABLES` (see :func:`inbox`) and, when named, the
    ``voice`` and ``influence`` tables; its first parameter is the list of brand actor ids.

    Examples
    --------
    >>> sql, params = inbound_sql(None, None, None, None)
    >>> empty = {name: table for name, table in _empty_threads().items()}
    >>> arrowsql.query(sql, [["x:brand"], *params], **empty).column_names[:5]
    ['message_id', 'actor_id', 'created_at', 'via', 'answered']
    """
    window, wparams = _window("m.created_at", since, until)
    if voice:
        sentiment = f"LEFT JOIN {voice} v ON v.message_id = i.message_id"
        label, score = "v.sentiment::VARCHAR", "v.score::DOUBLE"
    else:
        sentiment, label, score = "", "NULL::VARCHAR", "NULL::DOUBLE"
    if influence:
        infl = f"""
        infl AS (SELECT actor_id, pagerank::DOUBLE AS pagerank, audience::DOUBLE AS audience,
                        cume_dist() OVER (ORDER BY pagerank) AS carry
                   FROM {influence} WHERE pagerank IS NOT NULL),"""
        reach_src = "SELECT a.actor_id, coalesce(f.audience, a.followers::DOUBLE) AS reach " \
                    "FROM actors a LEFT JOIN infl f USING (actor_id)"
        infl_join = "LEFT JOIN infl f ON f.actor_id = i.actor_id"
        infl_cols = "f.pagerank", "coalesce(f.carry, r.carry, 0)"
    else:
        infl, infl_join = "", ""
        reach_src = "SELECT actor_id, followers::DOUBLE AS reach FROM actors"
        infl_cols = "NULL::DOUBLE", "coalesce(r.carry, 0)"
    sql = f"""
    WITH brand AS (SELECT DISTINCT unnest(?::VARCHAR[]) AS actor_id),{infl}
    reach AS (SELECT actor_id, reach, cume_dist() OVER (ORDER BY reach) AS carry
                FROM ({reach_src}) WHERE reach IS NOT NULL),
    addressed AS (
        SELECT m.message_id, 1 AS via FROM messages m JOIN messages p ON p.message_id = m.reply_to
         WHERE p.actor_id IN (SELECT actor_id FROM brand)
        UNION ALL
        SELECT message_id, 2 FROM recipients WHERE actor_id IN (SELECT actor_id FROM brand)
        UNION ALL
        SELECT message_id, 3 FROM mentions WHERE actor_id IN (SELECT actor_id FROM brand)),
    i AS (
        SELECT m.message_id, m.actor_id, m.created_at, m.thread_id, min(a.via) AS via
          FROM addressed a JOIN messages m ON m.message_id = a.message_id
         WHERE NOT m.is_stub AND m.reshare_of IS NULL
           AND (m.actor_id IS NULL OR m.actor_id NOT IN (SELECT actor_id FROM brand)){window}
         GROUP BY ALL),
    brand_reply AS (
        SELECT b.message_id, b.created_at, b.reply_to FROM messages b
         WHERE NOT b.is_stub AND b.reply_to IS NOT NULL AND b.actor_id IN (SELECT actor_id FROM brand)),
    answer AS (
        SELECT i.message_id, b.message_id AS answer_id, b.created_at AS answer_at
          FROM i JOIN brand_reply b ON b.reply_to = i.message_id
        UNION ALL
        -- rule 2: the brand replied to a later message of the same author in the same thread
        SELECT i.message_id, b.message_id, b.created_at
          FROM brand_reply b JOIN messages l ON l.message_id = b.reply_to
          JOIN i ON i.thread_id = l.thread_id AND i.actor_id = l.actor_id AND l.created_at > i.created_at
         WHERE NOT l.is_stub),
    first AS (SELECT message_id, arg_min(answer_id, answer_at) AS first_answer_id,
                     min(answer_at) AS answer_at
                FROM answer GROUP BY message_id)
    SELECT i.message_id, i.actor_id, i.created_at,
           ['reply', 'email', 'mention'][i.via] AS via,
           a.message_id IS NOT NULL AS answered, a.first_answer_id,
           date_diff('millisecond', i.created_at, a.answer_at) / 1000.0 AS response_seconds,
           {label} AS sentiment, {score} AS score,
           {infl_cols[0]} AS author_influence, r.reach AS author_reach,
           ({infl_cols[1]} + greatest(0, -coalesce({score}, 0))) / 2
               AS priority
      FROM i LEFT JOIN first a ON a.message_id = i.message_id
      {sentiment}
      {infl_join}
      LEFT JOIN reach r ON r.actor_id = i.actor_id
     ORDER BY i.created_at, i.message_id
    """
    return sql, wparams


def _window(column: str, since: Any, until: Any) -> tuple[str, list[Any]]:
    sql, params = "", []
    if since is not None:
        sql += f" AND {column} >= CAST(? AS TIMESTAMP)"
        params.append(since)
    if until is not None:
        sql += f" AND {column} < CAST(? AS TIMESTAMP)"
        params.append(until)
    return sql, params


def _empty_threads() -> dict[str, pa.Table]:
    """The :data:`THREAD_TABLES` with no row (for examples and tests)."""
    s, ts, i64 = pa.string(), pa.timestamp("us"), pa.int64()
    return {
        "messages": pa.schema([("message_id", s), ("actor_id", s), ("created_at", ts), ("thread_id", s),
                               ("reply_to", s), ("reshare_of", s), ("is_stub", pa.bool_()),
                               ("replies", i64), ("reshares", i64), ("likes", i64)]).empty_table(),
        "recipients": pa.schema([("message_id", s), ("actor_id", s)]).empty_table(),
        "mentions": pa.schema([("message_id", s), ("actor_id", s)]).empty_table(),
        "ratings": pa.schema([("target_message_id", s), ("kind", s)]).empty_table(),
        "actors": pa.schema([("actor_id", s), ("followers", i64)]).empty_table(),
    }


def _outbound_sql(since: datetime | None, until: datetime | None) -> tuple[str, list[Any]]:
    window, wparams = _window("m.created_at", since, until)
    likes = ", ".join(f"'{k}'" for k in LIKE_KINDS)
    sql = f"""
    WITH brand AS (SELECT DISTINCT unnest(?::VARCHAR[]) AS actor_id),
    post AS (
        SELECT m.message_id, m.actor_id, m.created_at, m.replies, m.reshares, m.likes
          FROM messages m
         WHERE NOT m.is_stub AND m.reply_to IS NULL AND m.reshare_of IS NULL
           AND m.actor_id IN (SELECT actor_id FROM brand){window}),
    rep AS (
        SELECT r.reply_to AS message_id, count(*) AS n,
               count(*) FILTER (WHERE r.actor_id IS NULL OR r.actor_id NOT IN (SELECT actor_id FROM brand))
                   AS others
          FROM messages r
         WHERE NOT r.is_stub AND r.reply_to IN (SELECT message_id FROM post)
         GROUP BY 1),
    rs AS (SELECT reshare_of AS message_id, count(*) AS n FROM messages
            WHERE NOT is_stub AND reshare_of IN (SELECT message_id FROM post) GROUP BY 1),
    lk AS (SELECT target_message_id AS message_id, count(*) AS n FROM ratings
            WHERE kind IN ({likes}) AND target_message_id IN (SELECT message_id FROM post) GROUP BY 1),
    counted AS (
        SELECT p.message_id, p.actor_id, p.created_at,
               greatest(coalesce(p.replies, 0), coalesce(rep.n, 0)) AS replies,
               greatest(coalesce(p.reshares, 0), coalesce(rs.n, 0)) AS reshares,
               greatest(coalesce(p.likes, 0), coalesce(lk.n, 0)) AS likes,
               coalesce(rep.others, 0) > 0
                   OR coalesce(p.replies, 0) > coalesce(rep.n, 0) - coalesce(rep.others, 0)
                   AS started_conversation,
               CASE WHEN a.followers > 0 THEN a.followers END AS followers
          FROM post p LEFT JOIN rep USING (message_id) LEFT JOIN rs USING (message_id)
          LEFT JOIN lk USING (message_id)
          LEFT JOIN (SELECT actor_id, max(followers) AS followers FROM actors GROUP BY 1) a
                 ON a.actor_id = p.actor_id)
    SELECT message_id, actor_id, created_at, replies, reshares, likes,
           1000.0 * replies / followers AS conversation_rate,
           1000.0 * reshares / followers AS amplification_rate,
           1000.0 * likes / followers AS applause_rate,
           started_conversation
      FROM counted
     ORDER BY created_at, message_id
    """
    return sql, wparams


def inbox(
    threads: Mapping[str, pa.Table],
    brand_ids: Sequence[str],
    *,
    voice: pa.Table | None = None,
    influence: pa.Table | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> InboxResult:
    """The brand's inbound messages, its answers and response times, and its outbound posts.

    See the module documentation for what counts as inbound, answered and a
    brand post, and for the priority and rate formulas.

    Parameters
    ----------
    threads : mapping of str to pyarrow.Table
        The :data:`THREAD_TABLES` around the brand's accounts, as
        ``engine.brand_threads(brand_ids)`` gives them.
    brand_ids : sequence of str
        The brand's actor ids (see :func:`resolve_brands`).
    voice : pyarrow.Table, optional
        Per-message sentiment (``message_id, sentiment, score``), e.g. the
        ``voice_messages`` result; without it ``sentiment`` and ``score`` are null.
    influence : pyarrow.Table, optional
        The ``influence`` result (``actor_id, pagerank, audience``).
    since, until : datetime, optional
        Keep inbound messages and brand posts created in [since, until) (naive UTC).

    Returns
    -------
    InboxResult

    Examples
    --------
    >>> import whuffie, datetime as dt
    >>> from whuffie.model import Message, Records
    >>> t = dt.datetime(2024, 1, 1, 10)
    >>> store = whuffie.open(":memory:")
    >>> _ = store.add(Records(messages=[
    ...     Message("x:1", "x", "x:shop", t),
    ...     Message("x:2", "x", "x:ann", t + dt.timedelta(minutes=5), kind="reply", reply_to="x:1"),
    ...     Message("x:3", "x", "x:shop", t + dt.timedelta(minutes=35), kind="reply", reply_to="x:2"),
    ...     Message("x:4", "x", "x:bob", t + dt.timedelta(minutes=60), kind="reply", reply_to="x:1")]))
    >>> result = inbox(store.engine.brand_threads(["x:shop"]), ["x:shop"])
    >>> result.inbound.select(["message_id", "answered", "response_seconds"]).to_pylist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'message_id': 'x:2', 'answered': True, 'response_seconds': 1800.0},
     {'message_id': 'x:4', 'answered': False, 'response_seconds': None}]
    >>> result.summary["response_rate"], result.outbound.column("replies").to_pylist()
    (0.5, [2])
    >>> store.close()
    """
    check_columns(voice, "voice", ("message_id", "sentiment", "score"))
    check_columns(influence, "influence", ("actor_id", "pagerank", "audience"))
    ids = list(brand_ids)
    tables = {name: threads[name] for name in THREAD_TABLES}
    extra = {k: v for k, v in (("voice", voice), ("influence", influence)) if v is not None}
    sql, params = inbound_sql("voice" if voice is not None else None,
                              "influence" if influence is not None else None, since, until)
    inbound = arrowsql.query(sql, [ids, *params], **tables, **extra)
    sql, params = _outbound_sql(since, until)
    outbound = arrowsql.query(sql, [ids, *params], **tables)
    unanswered = arrowsql.query("SELECT * FROM i WHERE NOT answered ORDER BY priority DESC, created_at, "
                                "message_id", i=inbound)
    silent = arrowsql.query("SELECT * FROM o WHERE NOT started_conversation ORDER BY created_at, message_id",
                            o=outbound)
    counts = arrowsql.query(f"""
        SELECT count(*) AS inbound, count(*) FILTER (WHERE answered) AS answered,
               quantile_cont(response_seconds, 0.5) AS median_response_seconds,
               quantile_cont(response_seconds, 0.9) AS p90_response_seconds,
               {", ".join(f"count(*) FILTER (WHERE via = '{v}') AS via_{v}" for v in VIAS)}
          FROM i""", i=inbound).to_pylist()[0]
    rates = arrowsql.query("""
        SELECT count(*) AS posts, count(*) FILTER (WHERE NOT started_conversation) AS silent,
               avg(replies) AS conversation_rate, avg(reshares) AS amplification_rate,
               avg(likes) AS applause_rate,
               avg(conversation_rate) AS conversation_rate_per_1000_followers,
               avg(amplification_rate) AS amplification_rate_per_1000_followers,
               avg(applause_rate) AS applause_rate_per_1000_followers
          FROM o""", o=outbound).to_pylist()[0]
    summary = dict(counts)
    summary["response_rate"] = counts["answered"] / counts["inbound"] if counts["inbound"] else None
    summary["unanswered"] = counts["inbound"] - counts["answered"]
    summary.update(rates)
    return InboxResult(ids, inbound, summary, unanswered, outbound, silent)
