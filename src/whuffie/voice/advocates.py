"""Advocates and detractors: who is consistently positive or negative, and how far they carry.

For each actor, the messages *about the subject* that have a sentiment are
counted by label:

* about the brand (``brands`` given): the actor's inbound messages to the
  brand, as defined in :mod:`whuffie.voice.inbox` (replies to it, e-mails to
  it, mentions of it);
* about a topic (``topic`` given): messages whose text or title contains one of
  the terms, case-insensitive; a term starting with ``#`` also matches the
  message's hashtag;
* both given: either; neither: every message.

Stance
------
With ``polar = positive + negative``:

* ``neutral`` when fewer than a third of the actor's messages are polar
  (:data:`MIN_POLAR_SHARE`);
* else ``consistency`` = the share of polar messages that agree with the
  majority polarity, and the actor is an ``advocate`` (positive majority) or a
  ``detractor`` (negative majority) when consistency is at least 2/3
  (:data:`MIN_CONSISTENCY`), ``mixed`` otherwise (a tie is mixed).

Weight
------
How far the stance carries::

    weight = |mean_score| * consistency * (1 + log10(1 + reach)) * (1 + influence_percentile)

``reach`` is the influence ``audience``, else the platform's follower count,
else the number of distinct actors who interacted with the actor (replied,
reshared, mentioned...); ``influence_percentile`` is the actor's PageRank as a
percentile (``cume_dist``) among the influence results, 0 without them. The
logarithm keeps a million followers from drowning out what was said: a
consistent detractor with 100 followers outweighs a lukewarm one with 10,000
(``0.8 * 1 * 3 = 2.4`` against ``0.2 * 0.7 * 5 = 0.7``).

The table lists detractors first, heaviest first ("the negative voices that
carry furthest first"), then advocates, then mixed and neutral actors.
``evidence`` holds the ids of the most extreme messages that show the stance:
the most negative of a detractor, the most positive of an advocate, the
strongest polar ones of a mixed actor, the strongest of a neutral one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from whuffie import arrowsql
from whuffie.errors import WhuffieError
from whuffie.voice.inbox import THREAD_TABLES, check_columns, inbound_sql

if TYPE_CHECKING:
    from whuffie.engines.base import Engine

#: Below this share of polar (positive or negative) messages, an actor is neutral.
MIN_POLAR_SHARE = 1 / 3
#: The share of polar messages agreeing with the majority needed to be an advocate or detractor.
MIN_CONSISTENCY = 2 / 3
STANCES = ("detractor", "advocate", "mixed", "neutral")


def _topic_condition(topic: Sequence[str]) -> tuple[str, list[str], bool]:
    """SQL keeping the messages ``m`` about any of the terms, its parameters, and whether it reads tags."""
    terms = [t.strip().lower() for t in topic if t and t.strip()]
    if not terms:
        raise WhuffieError("the topic has no terms: give words or #hashtags")
    # One case-insensitive RE2 alternation scans each text once, whatever the number of terms.
    pattern = "(?i)" + "|".join(re.escape(t) for t in terms)
    tags = [t.lstrip("#") for t in terms if t.startswith("#") and len(t) > 1]
    sql = "(regexp_matches(coalesce(m.text, '') || ' ' || coalesce(m.title, ''), ?)"
    params: list = [pattern]
    if tags:
        sql += " OR m.message_id IN (SELECT message_id FROM tags WHERE lower(tag) IN " \
               "(SELECT unnest(?::VARCHAR[])))"
        params.append(tags)
    return sql + ")", params, bool(tags)


def advocates(
    engine: Engine,
    voice: pa.Table,
    *,
    influence: pa.Table | None = None,
    brand_ids: Sequence[str] | None = None,
    topic: Sequence[str] | None = None,
    min_messages: int = 2,
    evidence: int = 3,
) -> pa.Table:
    """Actors consistently positive or negative about the brand or topic, weighted by their reach.

    See the module documentation for the subject, stance, weight and order.

    Parameters
    ----------
    engine : Engine
        Where the messages and actors are (``store.engine``).
    voice : pyarrow.Table
        Per-message sentiment: ``message_id, sentiment, score`` (the
        ``voice_messages`` result). Messages without a row, or without a sentiment (a language
        the analyzer does not read), are not counted.
    influence : pyarrow.Table, optional
        The ``influence`` result (``actor_id, pagerank, audience``).
    brand_ids : sequence of str, optional
        The brand's actor ids (see :func:`whuffie.voice.inbox.resolve_brands`): count the messages
        addressed to it.
    topic : sequence of str, optional
        Words or #hashtags: count the messages that contain one.
    min_messages : int
        Keep actors with at least this many messages about the subject.
    evidence : int
        How many message ids to give as evidence.

    Returns
    -------
    pyarrow.Table
        ``actor_id, handle, messages, positive, negative, neutral, mean_score,
        consistency, stance, influence, reach, weight, evidence``.

    Examples
    --------
    >>> import whuffie, pyarrow as pa
    >>> from whuffie.model import Message, Records
    >>> store = whuffie.open(":memory:")
    >>> _ = store.add(Records(messages=[Message(f"x:{i}", "x", f"x:{i % 2}", None, text="bread")
    ...                                 for i in range(6)]))
    >>> voice = pa.table({"message_id": [f"x:{i}" for i in range(6)],
    ...                   "sentiment": ["negative", "positive"] * 3, "score": [-0.8, 0.5] * 3})
    >>> table = advocates(store.engine, voice, topic=["Bread"])
    >>> table.select(["actor_id", "stance", "messages", "evidence"]).to_pylist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'actor_id': 'x:0', 'stance': 'detractor', 'messages': 3, 'evidence': ['x:0', 'x:2', 'x:4']},
     {'actor_id': 'x:1', 'stance': 'advocate', 'messages': 3, 'evidence': ['x:1', 'x:3', 'x:5']}]
    >>> store.close()
    """
    check_columns(voice, "voice", ("message_id", "sentiment", "score"))
    check_columns(influence, "influence", ("actor_id", "pagerank", "audience"))
    if evidence < 0 or min_messages < 1:
        raise WhuffieError(f"evidence must be >= 0 and min_messages >= 1 (got {evidence}, {min_messages})")
    columns = ["message_id", "actor_id"] + (["text", "title"] if topic else [])
    tables: dict[str, pa.Table] = {
        "vm": engine.messages(columns, ids=voice["message_id"], require=["actor"]),
        "v": voice.select(["message_id", "sentiment", "score"]),
    }
    params: list = []
    subjects = []
    if brand_ids:
        ids = list(brand_ids)
        sql, extra = inbound_sql(None, None, None, None)
        subjects.append(f"SELECT message_id FROM ({sql})")
        params += [ids, *extra]
        threads = engine.brand_threads(ids)
        tables.update({name: threads[name] for name in THREAD_TABLES})
    if topic:
        cond, extra, with_tags = _topic_condition(topic)
        subjects.append(f"SELECT m.message_id FROM vm m WHERE {cond}")
        params += extra
        if with_tags:
            tags = engine.tags()
            tables["tags"] = tags.filter(pc.is_in(tags["message_id"], value_set=tables["vm"]["message_id"]))
    about = " UNION ".join(subjects) if subjects else "SELECT message_id FROM vm"
    msg_sql = f"""
        SELECT m.actor_id, m.message_id, v.sentiment::VARCHAR AS sentiment, v.score::DOUBLE AS score
          FROM ({about}) a JOIN vm m ON m.message_id = a.message_id
          JOIN v ON v.message_id = m.message_id
         WHERE m.actor_id IS NOT NULL AND v.sentiment IS NOT NULL"""
    msg = arrowsql.query(msg_sql, params, **tables)
    authors = pc.unique(msg["actor_id"])
    if influence is not None:
        infl_cte = """infl AS (
            SELECT actor_id, pagerank::DOUBLE AS pagerank, audience::DOUBLE AS audience,
                   cume_dist() OVER (ORDER BY pagerank) AS pct
              FROM influence WHERE pagerank IS NOT NULL),"""
        infl_join = "LEFT JOIN infl f ON f.actor_id = s.actor_id"
        pagerank, audience, pct = "f.pagerank", "f.audience", "coalesce(f.pct, 0)"
    else:
        infl_cte, infl_join, pagerank, audience, pct = "", "", "NULL::DOUBLE", "NULL::DOUBLE", "0"
    sql = f"""
    WITH {infl_cte}
    per AS (
        SELECT actor_id, count(*) AS messages,
               count(*) FILTER (WHERE sentiment = 'positive') AS positive,
               count(*) FILTER (WHERE sentiment = 'negative') AS negative,
               count(*) FILTER (WHERE sentiment = 'neutral') AS neutral,
               avg(score) AS mean_score
          FROM msg GROUP BY actor_id HAVING count(*) >= ?),
    stance AS (
        SELECT *,
               CASE WHEN positive + negative > 0
                    THEN greatest(positive, negative) / (positive + negative) END AS consistency,
               CASE WHEN positive + negative < ? * messages OR positive + negative = 0 THEN 'neutral'
                    WHEN positive = negative
                      OR greatest(positive, negative) < ? * (positive + negative) THEN 'mixed'
                    WHEN positive > negative THEN 'advocate' ELSE 'detractor' END AS stance
          FROM per),
    followers AS (
        SELECT actor_id, max(handle) AS handle, max(followers) AS followers FROM actors
         WHERE actor_id IN (SELECT actor_id FROM per) GROUP BY 1),
    evid AS (
        SELECT m.actor_id,
               list(m.message_id ORDER BY
                    CASE s.stance WHEN 'detractor' THEN m.score WHEN 'advocate' THEN -m.score
                         ELSE -abs(m.score) END, m.message_id)[1:?] AS evidence
          FROM msg m JOIN stance s USING (actor_id)
         WHERE CASE s.stance WHEN 'detractor' THEN m.sentiment = 'negative'
                             WHEN 'advocate' THEN m.sentiment = 'positive'
                             WHEN 'mixed' THEN m.sentiment <> 'neutral' ELSE true END
         GROUP BY 1)
    SELECT s.actor_id, fo.handle, s.messages, s.positive, s.negative, s.neutral, s.mean_score,
           s.consistency, s.stance, {pagerank} AS influence,
           coalesce({audience}, fo.followers::DOUBLE, it.n::DOUBLE, 0) AS reach,
           abs(s.mean_score) * coalesce(s.consistency, 0)
             * (1 + log10(1 + coalesce({audience}, fo.followers::DOUBLE, it.n::DOUBLE, 0)))
             * (1 + {pct}) AS weight,
           coalesce(e.evidence, []::VARCHAR[]) AS evidence
      FROM stance s {infl_join}
      LEFT JOIN followers fo ON fo.actor_id = s.actor_id
      LEFT JOIN interactors it ON it.actor_id = s.actor_id
      LEFT JOIN evid e ON e.actor_id = s.actor_id
     ORDER BY CASE s.stance WHEN 'detractor' THEN 0 WHEN 'advocate' THEN 1 ELSE 2 END,
              weight DESC, s.actor_id
    """
    inputs = {"msg": msg, "actors": engine.actors(["actor_id", "handle", "followers"], ids=authors),
              "interactors": engine.interactors(authors)}
    if influence is not None:
        inputs["influence"] = influence
    return arrowsql.query(sql, [min_messages, MIN_POLAR_SHARE, MIN_CONSISTENCY, evidence], **inputs)


def by_stance(table: pa.Table, stance: str) -> pa.Table:
    """The rows of an :func:`advocates` table with one stance, in its order (heaviest first).

    Examples
    --------
    >>> t = pa.table({"actor_id": ["a", "b", "c"], "stance": ["detractor", "advocate", "detractor"]})
    >>> by_stance(t, "detractor").column("actor_id").to_pylist()
    ['a', 'c']
    """
    if stance not in STANCES:
        raise WhuffieError(f"stance {stance!r} is not one of {', '.join(STANCES)}")
    return table.filter(pc.equal(table["stance"], stance))
