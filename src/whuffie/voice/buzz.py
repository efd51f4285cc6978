"""Buzz: volume over time per tag, term, concern and niche, and what is rising now.

The steps, each a function returning a pyarrow Table:

1. :func:`buzz_events` - one row per (message, key) for a dimension: hashtags, words of the texts,
   concerns, or the author's niche, from the tables an engine gives (see :mod:`whuffie.engines`).
   The heavy work (tokenising a million texts) runs batch by batch in DuckDB over Arrow.
2. :func:`volumes` - messages per key per period, zero-filled over the whole time range, with the
   period's total (messages having any key) so that shares can be computed.
3. :func:`detect_bursts` - a robust z-score of each period against a rolling baseline of the key's
   previous periods; consecutive burst periods form one burst episode (:func:`episodes`).
4. :func:`rising` - the "rising now" list: episodes reaching the latest periods, strongest first.
5. :func:`burst_evidence` - the messages that make each burst, most engaging first.

:func:`buzz` runs steps 1 to 5 (the library call :meth:`whuffie.Store.buzz` saves them as a run).

The burst model
---------------
For key *k* in period *t* with count *c* and period total *T* (messages of the dimension in *t*),
the baseline is the key's last ``baseline`` *observed* periods (``T > 0``; a period in which nobody
said anything is a gap in the record, not evidence that the key was quiet). With ``adjust=True``
(the default) the baseline works on shares ``c / T`` and is scaled back to counts by this period's
``T``, so that a day on which the whole community talks three times as much does not make every
frequent word "rising"; with ``adjust=False`` it works on raw counts. Then

* ``expected`` = ``T`` x max(rolling median share, pooled share ``sum(c) / sum(T)``). The median is
  the robust centre; the pooled share is its floor because a key present in fewer than half the
  baseline periods has a median of 0 although it is expected at its average rate.
* ``spread`` = max(1.4826 x MAD of the shares x ``T``, sqrt(max(``expected``, 1) + ``T``^2 x
  (``sum(c)`` + 1) / ``sum(T)``^2)). 1.4826 x MAD estimates a standard deviation robustly. The floor
  keeps a flat baseline (MAD 0, common for counts) from giving an infinite z: it is the Poisson standard
  deviation of the count (at least 1) plus the sampling variance of the pooled estimate, counted as if
  the baseline had seen one more message, so that a rare key seen once or never in a thin baseline is
  not taken as certain to stay absent (this halved the false bursts in shuffled real data).
* ``z`` = (``c`` - ``expected``) / ``spread``; a period *bursts* when ``z >= threshold``,
  ``c >= min_count`` and the baseline holds at least ``min_history`` observed periods.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from whuffie import arrowsql
from whuffie.errors import WhuffieError

DIMENSIONS = ("tag", "term", "concern", "niche")
PERIODS = ("hour", "day", "week", "month")
#: Stop-word languages: the project's two languages (see ``docs``), from the ``stop-words`` package.
STOP_LANGUAGES = ("en", "fr")
#: HTML entity names left by exports that escape text twice ("&amp;amp;"), never content words.
_ENTITIES = ("amp", "quot", "nbsp", "apos")
#: Above this many (key, period) cells the zero-filled volume table would not fit in memory comfortably.
MAX_CELLS = 60_000_000

if TYPE_CHECKING:
    from whuffie.engines.base import Engine

#: Texts tokenised at once for ``term`` events.
TEXT_BATCH = 200_000

EVENTS_SCHEMA = pa.schema([("key", pa.string()), ("message_id", pa.string()),
                           ("created_at", pa.timestamp("us"))])


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """English and French stop words, lower-case, as the term tokeniser sees them.

    Words with an apostrophe ("don't", "aujourd'hui") are also split on non-letters the way
    :func:`buzz_events` splits texts, so that their fragments ("don", "aujourd") are dropped too.

    Examples
    --------
    >>> {"the", "les", "don", "être"} <= stop_words()
    True
    """
    from stop_words import get_stop_words  # the lists ship inside the package: no download

    words: set[str] = set(_ENTITIES)
    for lang in STOP_LANGUAGES:
        for w in get_stop_words(lang):
            w = w.lower()
            words.add(w)
            words.update(p for p in re.split(r"[^\w]+|[\d_]+", w) if p)
    return frozenset(words)



# Handles (Twitter "@bob", Mastodon "@bob@host.social") and URLs are removed before splitting: they
# name people and pages, not what is said.
_NOISE = r"(https?://|www\.)\S+|@[\p{L}\p{N}_.@-]+"


def buzz_events(engine: Engine, dimension: str, *, voice: pa.Table | None = None,
                members: pa.Table | None = None, since: datetime | str | None = None,
                until: datetime | str | None = None, platforms: Sequence[str] | None = None,
                min_count: int = 5) -> pa.Table:
    """One row per (message, key) of a dimension, with the message's time.

    Parameters
    ----------
    engine : Engine
        Where the messages come from (``store.engine``).
    dimension : {"tag", "term", "concern", "niche"}
        ``tag``: the messages' tags. ``term``: the words of the messages' texts, lower-cased, split
        on anything that is not a letter (so numbers go), without URLs, @handles, English and French
        stop words (package ``stop-words``) and words shorter than 3 letters. ``concern``: the
        ``concerns`` list of ``voice``. ``niche``: the niche of the message's author in ``members``.
    voice : pyarrow.Table, optional
        ``message_id`` and ``concerns`` (list of str), for ``dimension="concern"`` (a
        ``voice_messages`` result).
    members : pyarrow.Table, optional
        ``actor_id`` and ``niche``, for ``dimension="niche"`` (a ``memberships`` result).
    since, until : datetime or str, optional
        Keep messages created at or after ``since`` and before ``until`` (UTC).
    platforms : sequence of str, optional
        Keep messages of these platforms.
    min_count : int
        Keep only keys found in at least this many messages (a key with fewer than ``min_count``
        messages cannot burst at the same ``min_count`` of :func:`detect_bursts`).

    Returns
    -------
    pyarrow.Table
        ``key``, ``message_id``, ``created_at``; stub messages and messages without a time are left out.

    Raises
    ------
    WhuffieError
        For an unknown dimension, or when the concern or niche table is missing.

    Examples
    --------
    >>> import whuffie
    >>> from datetime import datetime as dt
    >>> from whuffie.model import Message, Records
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(messages=[
    ...         Message("x:1", "x", "x:a", dt(2024, 5, 1, 10), text="Strike at the station! @bob"),
    ...         Message("x:2", "x", "x:b", dt(2024, 5, 2), text="La grève continue: strike 2")]))
    ...     sorted(buzz_events(store.engine, "term", min_count=1).column("key").to_pylist())
    ['continue', 'grève', 'station', 'strike', 'strike']
    """
    if dimension not in DIMENSIONS:
        raise WhuffieError(f"unknown buzz dimension {dimension!r}; choose one of {', '.join(DIMENSIONS)}")
    window = {"since": since, "until": until, "platforms": platforms, "require": ["time"]}
    if dimension == "tag":
        events = arrowsql.query("SELECT DISTINCT tag AS key, message_id, created_at FROM t "
                                "WHERE created_at IS NOT NULL",
                                t=engine.tags(since=since, until=until, platforms=platforms))
    elif dimension == "term":
        stop = pa.table({"word": sorted(stop_words())})
        _, batches = engine.message_batches(["message_id", "created_at", "text"], batch=TEXT_BATCH,
                                            since=since, until=until, platforms=platforms,
                                            require=["time", "text"])
        # Messages never span two batches, so the distinct (key, message) pairs of the batches add up.
        parts = [arrowsql.query(f"""
            WITH m AS (
                SELECT message_id, created_at,
                       regexp_split_to_array(regexp_replace(lower(text), '{_NOISE}', ' ', 'g'),
                                             '[^\\p{{L}}]+') AS words
                FROM b),
            w AS (SELECT message_id, created_at, unnest(words) AS key FROM m)
            SELECT DISTINCT key, message_id, created_at FROM w
            WHERE length(key) >= 3 AND key NOT IN (SELECT word FROM stop)""",
            b=pa.Table.from_batches([rb]), stop=stop) for rb in batches if rb.num_rows]
        events = pa.concat_tables([p.cast(EVENTS_SCHEMA) for p in parts]) if parts \
            else EVENTS_SCHEMA.empty_table()
    elif dimension == "concern":
        if voice is None:
            raise WhuffieError("buzz by concern needs the voice analysis (whuffie voice) first")
        if "concerns" not in voice.column_names or "message_id" not in voice.column_names:
            raise WhuffieError("the voice table for buzz by concern needs the columns message_id and "
                               f"concerns; it has {', '.join(voice.column_names)}")
        concerned = voice.filter(pc.greater(pc.list_value_length(voice["concerns"]), 0))
        events = arrowsql.query("""
            WITH v AS (SELECT message_id, unnest(concerns) AS key FROM v)
            SELECT DISTINCT v.key, m.message_id, m.created_at FROM v JOIN m USING (message_id)
            WHERE v.key IS NOT NULL""",
            v=voice.select(["message_id", "concerns"]),
            m=engine.messages(["message_id", "created_at"], ids=concerned["message_id"], **window))
    else:
        if members is None:
            raise WhuffieError("buzz by niche needs the niches (whuffie niches) first")
        events = arrowsql.query("""
            SELECT DISTINCT CAST(n.niche AS VARCHAR) AS key, m.message_id, m.created_at
            FROM m JOIN n ON n.actor_id = m.actor_id WHERE n.niche IS NOT NULL""",
            n=members.select(["actor_id", "niche"]),
            m=engine.messages(["message_id", "actor_id", "created_at"], **window))
    table = arrowsql.query("""
        WITH keep AS (SELECT key FROM e GROUP BY key HAVING count(*) >= ?)
        SELECT e.key, e.message_id, CAST(e.created_at AS TIMESTAMP) AS created_at
        FROM e SEMI JOIN keep USING (key)""", [min_count], e=events)
    return table.cast(EVENTS_SCHEMA)


def _period(period: str) -> str:
    if period not in PERIODS:
        raise WhuffieError(f"unknown period {period!r}; choose one of {', '.join(PERIODS)}")
    return period


def volumes(events: pa.Table, period: str = "day") -> pa.Table:
    """Messages per key per period, zero-filled from the first to the last period of ``events``.

    Parameters
    ----------
    events : pyarrow.Table
        ``key``, ``message_id``, ``created_at``, as from :func:`buzz_events`.
    period : {"hour", "day", "week", "month"}
        Weeks start on Monday.

    Returns
    -------
    pyarrow.Table
        ``key``, ``period_start``, ``count`` (distinct messages of the key), ``total`` (distinct
        messages of the period over all keys, for shares); one row per key and period, a key silent
        in a period having a 0 row, sorted by key and period.

    Examples
    --------
    >>> from datetime import datetime as dt
    >>> ev = pa.table({"key": ["a", "a", "b"], "message_id": ["1", "2", "2"],
    ...                "created_at": [dt(2024, 1, 1, 9), dt(2024, 1, 3, 9), dt(2024, 1, 3, 9)]})
    >>> v = volumes(ev, "day")
    >>> v.column("count").to_pylist(), v.column("total").to_pylist()
    ([1, 0, 1, 0, 0, 1], [1, 0, 1, 1, 0, 1])
    """
    unit = _period(period)
    ev = events.select(["key", "message_id", "created_at"])
    cells = arrowsql.scalar(f"""
        SELECT count(DISTINCT key) * (date_diff('{unit}', min(p), max(p)) + 1)
        FROM (SELECT key, date_trunc('{unit}', created_at) AS p FROM ev)""", ev=ev) or 0
    if cells > MAX_CELLS:
        raise WhuffieError(f"the {period}ly volume table would hold {cells:,} cells; use a coarser period, "
                           "a narrower time range (since/until) or a larger min_count")
    table = arrowsql.query(f"""
        WITH e AS (SELECT key, message_id, date_trunc('{unit}', created_at) AS p FROM ev),
        grid AS (SELECT unnest(generate_series(min(p), max(p), INTERVAL 1 {unit})) AS period_start FROM e),
        c AS (SELECT key, p, count(DISTINCT message_id) AS n FROM e GROUP BY key, p),
        t AS (SELECT p, count(DISTINCT message_id) AS n FROM e GROUP BY p)
        SELECT k.key, CAST(g.period_start AS TIMESTAMP) AS period_start,
               coalesce(c.n, 0)::BIGINT AS count, coalesce(t.n, 0)::BIGINT AS total
        FROM (SELECT DISTINCT key FROM e) k CROSS JOIN grid g
        LEFT JOIN c ON c.key = k.key AND c.p = g.period_start
        LEFT JOIN t ON t.p = g.period_start
        ORDER BY k.key, g.period_start""", ev=ev)
    return table.cast(pa.schema([("key", pa.string()), ("period_start", pa.timestamp("us")),
                                 ("count", pa.int64()), ("total", pa.int64())]))


def detect_bursts(volumes: pa.Table, *, baseline: int = 28, threshold: float = 3.5, min_count: int = 5,
                  min_history: int = 7, adjust: bool = True) -> pa.Table:
    """Score every (key, period) against the key's rolling baseline and flag bursts.

    See the module docstring for the model.

    Parameters
    ----------
    volumes : pyarrow.Table
        From :func:`volumes` (``key``, ``period_start``, ``count``, ``total``). Without ``total``
        the period total is the sum of the counts.
    baseline : int
        How many previous observed periods form the baseline.
    threshold : float
        The robust z a period must reach.
    min_count : int
        The messages a period must have to burst.
    min_history : int
        The observed periods the baseline must hold.
    adjust : bool
        Compare shares of the period's messages (True) or raw counts (False).

    Returns
    -------
    pyarrow.Table
        ``key``, ``period_start``, ``count``, ``total``, ``history`` (observed periods in the
        baseline), ``expected``, ``spread``, ``z`` (these three null for a period without any message
        and for the first observed period), ``burst`` and ``burst_id`` (an episode number, shared by
        consecutive burst periods of a key; null outside bursts).

    Examples
    --------
    >>> from datetime import datetime as dt, timedelta
    >>> days = [dt(2024, 1, 1) + timedelta(days=i) for i in range(12)]
    >>> v = pa.table({"key": ["a"] * 12, "period_start": days,
    ...               "count": [2, 3, 2, 1, 2, 3, 2, 2, 3, 2, 20, 15], "total": [10] * 12})
    >>> b = detect_bursts(v)
    >>> b.column("burst").to_pylist()[-3:], b.column("burst_id").to_pylist()[-3:]
    ([False, True, True], [None, 1, 1])
    >>> [round(x, 2) for x in b.column("z").to_pylist()[-3:]]
    [-0.14, 11.42, 5.47]
    """
    if baseline < 1 or min_history < 1 or min_history > baseline:
        raise WhuffieError(f"burst baseline {baseline} and min_history {min_history}: need "
                           "1 <= min_history <= baseline")
    cols = ["key", "period_start", "count"] + (["total"] if "total" in volumes.column_names else [])
    total = "total" if "total" in cols else "sum(count) OVER (PARTITION BY period_start)"
    # t weighs the shares: the period total, or 1 for raw counts (0 still marks an unobserved period).
    weight = "total" if adjust else "least(total, 1)"
    table = arrowsql.query(f"""
        WITH u AS (SELECT key, period_start, count::BIGINT AS count, ({total})::BIGINT AS total FROM vol),
        v AS (SELECT *, {weight} AS t FROM u),
        o AS (
            SELECT key, period_start, count, t,
                   count(*) OVER w AS history,
                   median(count / t) OVER w AS med,
                   mad(count / t) OVER w AS mad,
                   sum(count) OVER w AS c_sum, sum(t) OVER w AS t_sum
            FROM v WHERE t > 0
            WINDOW w AS (PARTITION BY key ORDER BY period_start
                         ROWS BETWEEN {int(baseline)} PRECEDING AND 1 PRECEDING)),
        e AS (SELECT *, t * greatest(med, c_sum / t_sum) AS expected FROM o),
        s AS (SELECT *, greatest(1.4826 * mad * t,
                                 sqrt(greatest(expected, 1) + (t / t_sum) ** 2 * (c_sum + 1))) AS spread
              FROM e),
        z AS (
            SELECT v.key, v.period_start, v.count, v.total,
                   coalesce(s.history, 0) AS history, s.expected, s.spread,
                   (v.count - s.expected) / s.spread AS z,
                   coalesce(s.history >= ? AND v.count >= ? AND (v.count - s.expected) / s.spread >= ?,
                            false) AS burst
            FROM v LEFT JOIN s USING (key, period_start)),
        g AS (SELECT *, sum(CASE WHEN burst THEN 0 ELSE 1 END)
                        OVER (PARTITION BY key ORDER BY period_start) AS run FROM z)
        SELECT key, period_start, count, total, history, expected, spread, z, burst,
               CASE WHEN burst THEN dense_rank() OVER (PARTITION BY burst ORDER BY key, run) END AS burst_id
        FROM g ORDER BY key, period_start""", [min_history, min_count, threshold],
        vol=volumes.select(cols))
    return table.cast(pa.schema([
        ("key", pa.string()), ("period_start", pa.timestamp("us")), ("count", pa.int64()),
        ("total", pa.int64()), ("history", pa.int64()), ("expected", pa.float64()),
        ("spread", pa.float64()), ("z", pa.float64()), ("burst", pa.bool_()), ("burst_id", pa.int64())]))


def episodes(bursts: pa.Table) -> pa.Table:
    """Burst episodes: consecutive burst periods of a key, from :func:`detect_bursts`.

    Returns
    -------
    pyarrow.Table
        ``burst_id``, ``key``, ``start``, ``end`` (start of the last period), ``peak`` (the period of
        highest z), ``count`` (messages over the episode), ``expected``, ``excess`` (count - expected),
        ``z`` (the highest), ``periods``; strongest first.

    Examples
    --------
    >>> from datetime import datetime as dt, timedelta
    >>> days = [dt(2024, 1, 1) + timedelta(days=i) for i in range(12)]
    >>> v = pa.table({"key": ["a"] * 12, "period_start": days,
    ...               "count": [2, 3, 2, 1, 2, 3, 2, 2, 3, 2, 20, 15], "total": [10] * 12})
    >>> ep = episodes(detect_bursts(v)).to_pylist()[0]
    >>> ep["start"].day, ep["end"].day, ep["peak"].day, ep["count"], ep["periods"]
    (11, 12, 11, 35, 2)
    """
    # Bursts are rare: filter them in Arrow before DuckDB sees the (possibly millions of) period rows.
    return arrowsql.query("""
        SELECT burst_id, any_value(key) AS key, min(period_start) AS start, max(period_start) AS "end",
               arg_max(period_start, z) AS peak, sum(count)::BIGINT AS count, sum(expected) AS expected,
               sum(count) - sum(expected) AS excess, max(z) AS z, count(*)::BIGINT AS periods
        FROM b WHERE burst GROUP BY burst_id ORDER BY z DESC, excess DESC, burst_id""",
        b=bursts.filter(pc.fill_null(bursts.column("burst"), False)))


def rising(bursts: pa.Table, *, now: datetime | str | None = None, recent: int = 1) -> pa.Table:
    """The "rising now" list: burst episodes that reach one of the last ``recent`` periods.

    Parameters
    ----------
    bursts : pyarrow.Table
        From :func:`detect_bursts`.
    now : datetime or str, optional
        The present; periods starting after it are ignored. Default: the latest period of the data.
    recent : int
        How many of the latest periods (up to ``now``) count as "now".

    Returns
    -------
    pyarrow.Table
        ``key``, ``start``, ``end``, ``count``, ``expected``, ``excess``, ``z``, ``burst_id``,
        strongest (highest z, then largest excess) first.

    Examples
    --------
    >>> from datetime import datetime as dt, timedelta
    >>> days = [dt(2024, 1, 1) + timedelta(days=i) for i in range(12)]
    >>> v = pa.table({"key": ["a"] * 12, "period_start": days,
    ...               "count": [2, 3, 2, 1, 2, 3, 2, 2, 3, 2, 20, 15], "total": [10] * 12})
    >>> rising(detect_bursts(v)).column("key").to_pylist()
    ['a']
    >>> rising(detect_bursts(v), now="2024-01-08").num_rows
    0
    """
    if recent < 1:
        raise WhuffieError(f"rising: recent must be at least 1 period, not {recent}")
    if now is not None:
        bursts = bursts.filter(pc.less_equal(bursts.column("period_start"),
                                                     pa.scalar(_as_datetime(now), pa.timestamp("us"))))
    starts = sorted(pc.unique(bursts.column("period_start")).to_pylist())
    cols = ["key", "start", "end", "count", "expected", "excess", "z", "burst_id"]
    ep = episodes(bursts)
    if not starts:
        return ep.select(cols)
    cutoff = starts[-min(recent, len(starts))]
    keep = pc.greater_equal(ep.column("end"), pa.scalar(cutoff, pa.timestamp("us")))
    return ep.filter(keep).select(cols)


def _as_datetime(value: datetime | str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise WhuffieError(f"time {value!r} is not ISO 8601 (e.g. 2024-05-01 or 2024-05-01T12:00)") from None


def burst_evidence(events: pa.Table, episodes: pa.Table, messages: pa.Table, period: str,
                   limit: int = 20) -> pa.Table:
    """The messages that make each burst: those of its key from its start to the end of its last period.

    Parameters
    ----------
    events : pyarrow.Table
        From :func:`buzz_events`.
    episodes : pyarrow.Table
        From :func:`episodes` (``burst_id``, ``key``, ``start``, ``end``).
    messages : pyarrow.Table
        ``message_id``, ``created_at``, ``actor_id``, ``likes``, ``reshares`` and ``replies`` of
        (at least) the messages of the events.
    period : {"hour", "day", "week", "month"}
        The period of the volumes.
    limit : int
        At most this many messages per burst.

    Returns
    -------
    pyarrow.Table
        ``burst_id``, ``key``, ``position`` (1 = the most engaging), ``message_id``, ``created_at``,
        ``actor_id``, ``engagement`` (likes + reshares + replies); most engaging first, then oldest.

    Examples
    --------
    >>> from datetime import datetime as dt
    >>> ev = pa.table({"key": ["strike", "strike"], "message_id": ["x:1", "x:2"],
    ...                "created_at": [dt(2024, 5, 1, 10), dt(2024, 5, 1, 11)]})
    >>> ep = pa.table({"burst_id": [1], "key": ["strike"], "start": [dt(2024, 5, 1)],
    ...                "end": [dt(2024, 5, 1)]})
    >>> msgs = pa.table({"message_id": ["x:1", "x:2"], "created_at": [dt(2024, 5, 1, 10), dt(2024, 5, 1, 11)],
    ...                  "actor_id": ["x:a", "x:b"], "likes": [1, 9], "reshares": [None, None],
    ...                  "replies": [0, 0]})
    >>> burst_evidence(ev, ep, msgs, "day").column("message_id").to_pylist()
    ['x:2', 'x:1']
    """
    unit = _period(period)
    return arrowsql.query(f"""
        WITH e AS (
            SELECT DISTINCT b.burst_id, b.key, e.message_id FROM ep b JOIN ev e
               ON e.key = b.key AND e.created_at >= date_trunc('{unit}', b.start)
              AND e.created_at < date_trunc('{unit}', b."end") + INTERVAL 1 {unit}),
        r AS (
            SELECT e.burst_id, e.key, m.message_id, m.created_at, m.actor_id,
                   coalesce(m.likes, 0) + coalesce(m.reshares, 0) + coalesce(m.replies, 0) AS engagement
              FROM e JOIN m USING (message_id)),
        ranked AS (
            SELECT *, row_number() OVER (PARTITION BY burst_id
                                         ORDER BY engagement DESC, created_at, message_id) AS position
              FROM r)
        SELECT burst_id, key, position, message_id, created_at, actor_id, engagement
          FROM ranked WHERE position <= ? ORDER BY burst_id, position""", [limit],
        ep=episodes.select(["burst_id", "key", "start", "end"]),
        ev=events.select(["key", "message_id", "created_at"]),
        m=messages.select(["message_id", "created_at", "actor_id", "likes", "reshares", "replies"]))


@dataclass
class BuzzResult:
    """Everything :func:`buzz` computed.

    Attributes
    ----------
    dimension, period : str
        What was counted, and per what.
    events : pyarrow.Table
        :func:`buzz_events`.
    volumes : pyarrow.Table
        :func:`volumes`.
    bursts : pyarrow.Table
        :func:`detect_bursts`: every (key, period) row.
    episodes : pyarrow.Table
        :func:`episodes`.
    rising : pyarrow.Table
        :func:`rising`.
    evidence : pyarrow.Table
        :func:`burst_evidence` of every episode.
    """

    dimension: str
    period: str
    events: pa.Table
    volumes: pa.Table
    bursts: pa.Table
    episodes: pa.Table
    rising: pa.Table
    evidence: pa.Table


def buzz(engine: Engine, dimension: str = "term", period: str = "day", *, voice: pa.Table | None = None,
         members: pa.Table | None = None, since: datetime | str | None = None,
         until: datetime | str | None = None, platforms: Sequence[str] | None = None, baseline: int = 28,
         threshold: float = 3.5, min_count: int = 5, min_history: int = 7, adjust: bool = True,
         now: datetime | str | None = None, recent: int = 1, evidence: int = 20) -> BuzzResult:
    """Volumes, bursts, the "rising now" list of one dimension, and the messages of each burst.

    Parameters are those of :func:`buzz_events`, :func:`volumes`, :func:`detect_bursts`,
    :func:`rising` and :func:`burst_evidence` (``evidence`` messages per burst); ``min_count``
    serves both as the least messages of a key and of a burst period.

    Examples
    --------
    >>> import whuffie
    >>> from datetime import datetime as dt, timedelta
    >>> from whuffie.model import Message, Records
    >>> msgs = [Message(f"x:{i}", "x", "x:a", dt(2024, 5, 1) + timedelta(days=min(i // 3, 20)),
    ...                 text="strike strike" if i >= 60 else "station weather") for i in range(66)]
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(messages=msgs))
    ...     result = buzz(store.engine, "term", "day")
    >>> result.rising.column("key").to_pylist(), result.rising.column("count").to_pylist()
    (['strike'], [6])
    >>> result.evidence.num_rows
    6
    """
    events = buzz_events(engine, dimension, voice=voice, members=members, since=since, until=until,
                         platforms=platforms, min_count=min_count)
    vol = volumes(events, period)
    bursts = detect_bursts(vol, baseline=baseline, threshold=threshold, min_count=min_count,
                           min_history=min_history, adjust=adjust)
    ep = episodes(bursts)
    keys = pa.array(sorted(set(ep.column("key").to_pylist())), pa.string())
    involved = pc.unique(events.filter(pc.is_in(events["key"], value_set=keys))["message_id"])
    messages = engine.messages(["message_id", "created_at", "actor_id", "likes", "reshares", "replies"],
                               ids=involved)
    return BuzzResult(dimension, period, events, vol, bursts, ep, rising(bursts, now=now, recent=recent),
                      burst_evidence(events, ep, messages, period, limit=evidence))
