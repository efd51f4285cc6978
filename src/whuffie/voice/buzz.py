"""Buzz: volume over time per tag, term, concern and niche, and what is rising now.

The steps, each a function returning a pyarrow Table:

1. :func:`buzz_events` - one row per (message, key) for a dimension: hashtags, words of the texts,
   concerns, or the author's niche. The heavy work (tokenising a million texts) runs in DuckDB.
2. :func:`volumes` - messages per key per period, zero-filled over the whole time range, with the
   period's total (messages having any key) so that shares can be computed.
3. :func:`detect_bursts` - a robust z-score of each period against a rolling baseline of the key's
   previous periods; consecutive burst periods form one burst episode (:func:`episodes`).
4. :func:`rising` - the "rising now" list: episodes reaching the latest periods, strongest first.
5. :func:`burst_messages` - the messages that make a burst, most engaging first.

:func:`buzz` runs steps 1 to 4 for the CLI and the report.

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
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from whuffie.errors import WhuffieError
from whuffie.store import results
from whuffie.store.store import window_sql

DIMENSIONS = ("tag", "term", "concern", "niche")
PERIODS = ("hour", "day", "week", "month")
#: Stop-word languages: the project's two languages (see ``docs``), from the ``stop-words`` package.
STOP_LANGUAGES = ("en", "fr")
#: HTML entity names left by exports that escape text twice ("&amp;amp;"), never content words.
_ENTITIES = ("amp", "quot", "nbsp", "apos")
#: Above this many (key, period) cells the zero-filled volume table would not fit in memory comfortably.
MAX_CELLS = 60_000_000

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



# Real messages only: stubs are known only by id, and a message without a time has no place in a series.
_REAL = "NOT m.is_stub AND m.created_at IS NOT NULL"

# Handles (Twitter "@bob", Mastodon "@bob@host.social") and URLs are removed before splitting: they
# name people and pages, not what is said.
_NOISE = r"(https?://|www\.)\S+|@[\p{L}\p{N}_.@-]+"


def buzz_events(store, dimension: str, *, voice: pa.Table | None = None,
                since: datetime | str | None = None, until: datetime | str | None = None,
                min_count: int = 5) -> pa.Table:
    """One row per (message, key) of a dimension, with the message's time.

    Parameters
    ----------
    store : Store
        The store to read.
    dimension : {"tag", "term", "concern", "niche"}
        ``tag``: the ``tags`` table. ``term``: the words of ``messages.text``, lower-cased, split on
        anything that is not a letter (so numbers go), without URLs, @handles, English and French
        stop words (package ``stop-words``) and words shorter than 3 letters. ``concern``: the
        ``concerns`` list of ``voice`` (default: the stored ``voice_messages`` results). ``niche``: the
        niche of the message's author (the stored ``memberships`` results of ``whuffie niches``).
    voice : pyarrow.Table, optional
        ``message_id`` and ``concerns`` (list of str), for ``dimension="concern"``.
    since, until : datetime or str, optional
        Keep messages created at or after ``since`` and before ``until`` (UTC).
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
        For an unknown dimension, or when the concern or niche results are missing.

    Examples
    --------
    >>> import whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.con.execute(
    ...         "INSERT INTO messages (message_id, platform, actor_id, created_at, kind, text, is_stub) "
    ...         "VALUES ('x:1', 'x', 'x:a', '2024-05-01 10:00', 'post', 'Strike at the station! @bob', "
    ...         "false), ('x:2', 'x', 'x:b', '2024-05-02', 'post', 'La grève continue: strike 2', false)")
    ...     sorted(buzz_events(store, "term", min_count=1).column("key").to_pylist())
    ['continue', 'grève', 'station', 'strike', 'strike']
    """
    if dimension not in DIMENSIONS:
        raise WhuffieError(f"unknown buzz dimension {dimension!r}; choose one of {', '.join(DIMENSIONS)}")
    when, params = window_sql("m.created_at", since, until)
    con = store.con
    names: list[str] = []
    try:
        if dimension == "tag":
            source = f"SELECT DISTINCT t.tag AS key, m.message_id, m.created_at FROM tags t " \
                     f"JOIN messages m USING (message_id) WHERE {_REAL}{when}"
        elif dimension == "term":
            con.register("_buzz_stop", pa.table({"word": sorted(stop_words())}))
            names.append("_buzz_stop")
            # The tokeniser is SQL so that a million texts are split in parallel inside DuckDB.
            source = f"""
                WITH m AS (
                    SELECT m.message_id, m.created_at,
                           regexp_split_to_array(regexp_replace(lower(m.text), '{_NOISE}', ' ', 'g'),
                                                 '[^\\p{{L}}]+') AS words
                    FROM messages m WHERE {_REAL} AND m.text IS NOT NULL{when}),
                w AS (SELECT message_id, created_at, unnest(words) AS key FROM m)
                SELECT DISTINCT key, message_id, created_at FROM w
                WHERE length(key) >= 3 AND key NOT IN (SELECT word FROM _buzz_stop)"""
        elif dimension == "concern":
            if voice is None:
                voice = _load(store, "voice_messages", "the voice analysis (whuffie voice)")
            if "concerns" not in voice.column_names or "message_id" not in voice.column_names:
                raise WhuffieError("the voice table for buzz by concern needs the columns message_id and "
                                   f"concerns; it has {', '.join(voice.column_names)}")
            con.register("_buzz_voice", voice.select(["message_id", "concerns"]))
            names.append("_buzz_voice")
            source = f"""
                WITH v AS (SELECT message_id, unnest(concerns) AS key FROM _buzz_voice)
                SELECT DISTINCT v.key, m.message_id, m.created_at FROM v JOIN messages m USING (message_id)
                WHERE v.key IS NOT NULL AND {_REAL}{when}"""
        else:
            members = _load(store, "memberships", "whuffie niches")
            con.register("_buzz_members", members.select(["actor_id", "niche"]))
            names.append("_buzz_members")
            source = f"""
                SELECT DISTINCT CAST(n.niche AS VARCHAR) AS key, m.message_id, m.created_at
                FROM messages m JOIN _buzz_members n ON n.actor_id = m.actor_id
                WHERE n.niche IS NOT NULL AND {_REAL}{when}"""
        sql = f"""
            WITH e AS MATERIALIZED ({source}),
            keep AS (SELECT key FROM e GROUP BY key HAVING count(*) >= ?)
            SELECT e.key, e.message_id, CAST(e.created_at AS TIMESTAMP) AS created_at
            FROM e SEMI JOIN keep USING (key)"""
        table = _arrow(con, sql, [*params, min_count])
    finally:
        for name in names:
            con.unregister(name)
    return table.cast(EVENTS_SCHEMA)


def _load(store, name: str, how: str) -> pa.Table:
    try:
        return results.load(store, name)
    except WhuffieError:
        raise WhuffieError(f"buzz needs the '{name}' results, absent from {store.path}; "
                           f"run {how} first") from None


def _period(period: str) -> str:
    if period not in PERIODS:
        raise WhuffieError(f"unknown period {period!r}; choose one of {', '.join(PERIODS)}")
    return period


def _arrow(con, sql: str, params: list | None = None) -> pa.Table:
    # Relation API: no extra copy of the rows (the DB-API result would copy them once more).
    rel = con.sql(sql, params=params or None)
    return (getattr(rel, "to_arrow_table", None) or rel.arrow)()


def _duck():
    import duckdb

    return duckdb.connect()


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
    con = _duck()
    con.register("ev", events.select(["key", "message_id", "created_at"]))
    cells = con.execute(f"""
        SELECT count(DISTINCT key) * (date_diff('{unit}', min(p), max(p)) + 1)
        FROM (SELECT key, date_trunc('{unit}', created_at) AS p FROM ev)""").fetchall()[0][0] or 0
    if cells > MAX_CELLS:
        raise WhuffieError(f"the {period}ly volume table would hold {cells:,} cells; use a coarser period, "
                           "a narrower time range (since/until) or a larger min_count")
    table = _arrow(con, f"""
        WITH e AS (SELECT key, message_id, date_trunc('{unit}', created_at) AS p FROM ev),
        grid AS (SELECT unnest(generate_series(min(p), max(p), INTERVAL 1 {unit})) AS period_start FROM e),
        c AS (SELECT key, p, count(DISTINCT message_id) AS n FROM e GROUP BY key, p),
        t AS (SELECT p, count(DISTINCT message_id) AS n FROM e GROUP BY p)
        SELECT k.key, CAST(g.period_start AS TIMESTAMP) AS period_start,
               coalesce(c.n, 0)::BIGINT AS count, coalesce(t.n, 0)::BIGINT AS total
        FROM (SELECT DISTINCT key FROM e) k CROSS JOIN grid g
        LEFT JOIN c ON c.key = k.key AND c.p = g.period_start
        LEFT JOIN t ON t.p = g.period_start
        ORDER BY k.key, g.period_start""")
    con.close()
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
    con = _duck()
    cols = ["key", "period_start", "count"] + (["total"] if "total" in volumes.column_names else [])
    con.register("vol", volumes.select(cols))
    total = "total" if "total" in cols else "sum(count) OVER (PARTITION BY period_start)"
    # t weighs the shares: the period total, or 1 for raw counts (0 still marks an unobserved period).
    weight = "total" if adjust else "least(total, 1)"
    table = _arrow(con, f"""
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
        FROM g ORDER BY key, period_start""", [min_history, min_count, threshold])
    con.close()
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
    con = _duck()
    # Bursts are rare: filter them in Arrow before DuckDB sees the (possibly millions of) period rows.
    con.register("b", bursts.filter(pc.fill_null(bursts.column("burst"), False)))
    table = _arrow(con, """
        SELECT burst_id, any_value(key) AS key, min(period_start) AS start, max(period_start) AS "end",
               arg_max(period_start, z) AS peak, sum(count)::BIGINT AS count, sum(expected) AS expected,
               sum(count) - sum(expected) AS excess, max(z) AS z, count(*)::BIGINT AS periods
        FROM b WHERE burst GROUP BY burst_id ORDER BY z DESC, excess DESC, burst_id""")
    con.close()
    return table


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


def burst_messages(store, events: pa.Table, key: str, start: datetime, end: datetime, period: str,
                   limit: int = 20) -> pa.Table:
    """The messages that make a burst: those of ``key`` from ``start`` to the end of period ``end``.

    Parameters
    ----------
    store : Store
        The store the events came from.
    events : pyarrow.Table
        From :func:`buzz_events`.
    key : str
        The burst's key.
    start, end : datetime
        The first and last period starts of the burst (as in :func:`episodes`).
    period : {"hour", "day", "week", "month"}
        The period of the volumes.
    limit : int
        At most this many messages.

    Returns
    -------
    pyarrow.Table
        ``message_id``, ``created_at``, ``actor_id``, ``text``, ``engagement`` (likes + reshares +
        replies), most engaging first, then oldest first.

    Examples
    --------
    >>> import whuffie
    >>> from datetime import datetime as dt
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.con.execute(
    ...         "INSERT INTO messages (message_id, platform, actor_id, created_at, kind, text, likes, "
    ...         "is_stub) VALUES ('x:1', 'x', 'x:a', '2024-05-01 10:00', 'post', 'strike!', 1, false),"
    ...         "       ('x:2', 'x', 'x:b', '2024-05-01 11:00', 'post', 'strike again', 9, false)")
    ...     ev = buzz_events(store, "term", min_count=1)
    ...     top = burst_messages(store, ev, "strike", dt(2024, 5, 1), dt(2024, 5, 1), "day")
    >>> top.column("text").to_pylist()
    ['strike again', 'strike!']
    """
    unit = _period(period)
    con = store.con
    con.register("_buzz_events", events.select(["key", "message_id", "created_at"]))
    try:
        return _arrow(con, f"""
            SELECT m.message_id, m.created_at, m.actor_id, m.text,
                   coalesce(m.likes, 0) + coalesce(m.reshares, 0) + coalesce(m.replies, 0) AS engagement
            FROM messages m SEMI JOIN (
                SELECT DISTINCT message_id FROM _buzz_events
                WHERE key = ? AND created_at >= date_trunc('{unit}', CAST(? AS TIMESTAMP))
                  AND created_at < date_trunc('{unit}', CAST(? AS TIMESTAMP)) + INTERVAL 1 {unit}) e
                USING (message_id)
            WHERE NOT m.is_stub
            ORDER BY engagement DESC, m.created_at, m.message_id
            LIMIT ?""", [key, start, end, limit])
    finally:
        con.unregister("_buzz_events")


@dataclass
class BuzzResult:
    """Everything :func:`buzz` computed.

    Attributes
    ----------
    dimension, period : str
        What was counted, and per what.
    events : pyarrow.Table
        :func:`buzz_events` (for :func:`burst_messages`).
    volumes : pyarrow.Table
        :func:`volumes`.
    bursts : pyarrow.Table
        :func:`detect_bursts`: every (key, period) row.
    episodes : pyarrow.Table
        :func:`episodes`.
    rising : pyarrow.Table
        :func:`rising`.
    """

    dimension: str
    period: str
    events: pa.Table
    volumes: pa.Table
    bursts: pa.Table
    episodes: pa.Table
    rising: pa.Table


def buzz(store, dimension: str = "term", period: str = "day", *, voice: pa.Table | None = None,
         since: datetime | str | None = None, until: datetime | str | None = None,
         baseline: int = 28, threshold: float = 3.5, min_count: int = 5, min_history: int = 7,
         adjust: bool = True, now: datetime | str | None = None, recent: int = 1) -> BuzzResult:
    """Volumes, bursts and the "rising now" list of one dimension.

    Parameters are those of :func:`buzz_events`, :func:`volumes`, :func:`detect_bursts` and
    :func:`rising`; ``min_count`` serves both as the least messages of a key and of a burst period.

    Examples
    --------
    >>> import whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.con.execute(
    ...         "INSERT INTO messages (message_id, platform, actor_id, created_at, kind, text, is_stub) "
    ...         "SELECT 'x:' || i, 'x', 'x:a', TIMESTAMP '2024-05-01' + INTERVAL (least(i // 3, 20)) DAY, "
    ...         "'post', CASE WHEN i >= 60 THEN 'strike strike' ELSE 'station weather' END, false "
    ...         "FROM range(66) r(i)")
    ...     result = buzz(store, "term", "day")
    >>> result.rising.column("key").to_pylist(), result.rising.column("count").to_pylist()
    (['strike'], [6])
    """
    events = buzz_events(store, dimension, voice=voice, since=since, until=until, min_count=min_count)
    vol = volumes(events, period)
    bursts = detect_bursts(vol, baseline=baseline, threshold=threshold, min_count=min_count,
                           min_history=min_history, adjust=adjust)
    return BuzzResult(dimension, period, events, vol, bursts, episodes(bursts),
                      rising(bursts, now=now, recent=recent))
