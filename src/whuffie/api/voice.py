"""What the community says: the voice step, concerns, buzz, the inbox and advocates, as library calls.

Each function is also a method of an open store (``store.voice(...)``); see :mod:`whuffie.api`.
The analyses that read sentiment use the newest voice run, and run the voice step first (with its
defaults) when the store has none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from whuffie.api.result import AdvocatesResult, BuzzResult, ConcernsResult, InboxResult, VoiceResult
from whuffie.api.runner import latest, message_scope, run, scope_params
from whuffie.errors import WhuffieError

if TYPE_CHECKING:
    from whuffie.store.store import Store
    from whuffie.voice.analysis import VoiceParams


def _digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise WhuffieError(f"cannot read the concern lexicon {path}: {exc.strerror or exc}") from exc


def voice(store: Store, params: VoiceParams | None = None, *,
          progress: Callable[[int, int], None] | None = None, fresh: bool = False,
          **filters: Any) -> VoiceResult:
    """Language, sentiment (French, English) and concerns of every message with text.

    Parameters
    ----------
    store : Store
        An open store.
    params : VoiceParams, optional
        The analyzer (``lexicon``, ``vader``, ``transformer`` with a local ``model`` folder), extra
        concern lexicons, workers; see :class:`~whuffie.voice.analysis.VoiceParams`.
    progress : callable, optional
        Called with (messages done, messages in all) as batches are scored.
    fresh : bool
        Compute again even when a saved run matches.
    **filters
        ``platforms``, ``since``, ``until`` (or set them in ``params``).

    Returns
    -------
    VoiceResult
        Table ``voice_messages``, one row per message; ``summary`` counts messages by language,
        sentiment and concern.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Message, Records
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(messages=[Message("x:1", "x", "x:a", None, text="I love this, thank you!",
    ...                                             lang="en")]))
    ...     r = store.voice()
    >>> r.to_arrow().select(["message_id", "lang", "sentiment"]).to_pylist()
    [{'message_id': 'x:1', 'lang': 'en', 'sentiment': 'positive'}]
    """
    from dataclasses import replace

    from whuffie.voice.analysis import VoiceParams, summarise, voice_messages

    params = params or VoiceParams()
    if filters:
        scope = message_scope(**filters)
        params = replace(params, platforms=tuple(scope["platforms"] or ()), since=scope["since"],
                         until=scope["until"])
    recorded = params.as_dict()
    # The same lexicon path with other words is another analysis.
    recorded["concerns_sha256"] = [_digest(p) for p in params.concerns]

    def compute():
        table = voice_messages(store.engine, params, progress)
        return {"voice_messages": table}, summarise(table)

    return run(store, "voice", recorded, compute, cls=VoiceResult, fresh=fresh)


def voice_input(store: Store) -> tuple[pa.Table, int | None]:
    """The newest ``voice_messages`` and its run; the voice step runs first when there is none."""
    table, run_id = latest(store, "voice", "voice_messages")
    if table is None:
        result = voice(store)
        return result.to_arrow(), result.run_id
    return table, run_id


def concerns(store: Store, *, extra: Sequence[str] = (), examples: int = 1, fresh: bool = False,
             **filters: Any) -> ConcernsResult:
    """The concerns people raise (environment, workers, health, price, service...), most voiced first.

    Read from the newest voice run (the voice step runs first when there is none).

    Parameters
    ----------
    store : Store
        An open store.
    extra : sequence of str
        Extra concern lexicons (YAML) for the labels (the voice step tags with its own).
    examples : int
        0 for no example; otherwise the most negative message of each concern is given.
    fresh : bool
        Compute again even when a saved run matches.
    **filters
        ``since``, ``until``, ``platforms``: count only the messages in that scope.

    Returns
    -------
    ConcernsResult
        Table ``concerns``; ``evidence(concern)`` lists the messages raising one.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Message, Records
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(messages=[Message("x:1", "x", "x:a", None, lang="en",
    ...                                             text="Far too expensive, what a rip-off")]))
    ...     r = store.concerns()
    ...     r.to_arrow().column("concern").to_pylist(), r.evidence("price").column("message_id").to_pylist()
    (['price'], ['x:1'])
    """
    from whuffie.voice.analysis import concern_summary
    from whuffie.voice.concerns import ConcernLexicon

    lexicon = ConcernLexicon.load(extra=list(extra))
    scope = message_scope(**filters)
    voice_table, run_id = voice_input(store)

    def compute():
        table = _in_scope(store, voice_table, scope)
        concerned = table.filter(pc.greater(pc.list_value_length(table["concerns"]), 0))
        messages = store.engine.messages(["message_id", "actor_id", "text", "title"],
                                         ids=concerned["message_id"])
        rows = concern_summary(table, messages, lexicon, examples=examples)
        columns = ["concern", "label", "messages", "share", "negative", "mean_score", "authors",
                   "example", "excerpt"]
        out = pa.Table.from_pylist(rows, schema=_CONCERNS_SCHEMA) if rows else _CONCERNS_SCHEMA.empty_table()
        return {"concerns": out.select(columns)}, {"concerns": len(rows), "messages": table.num_rows}

    return run(store, "concerns", {"extra": list(extra), "extra_sha256": [_digest(p) for p in extra],
                                   "examples": examples, **scope_params(scope)},
               compute, cls=ConcernsResult, inputs={"voice": run_id}, fresh=fresh)


def _in_scope(store: Store, voice_table: pa.Table, scope: dict[str, Any]) -> pa.Table:
    """The rows of a voice table whose messages are in the scope (all of them without one)."""
    if not any(scope.values()):
        return voice_table
    kept = store.engine.messages(["message_id"], ids=voice_table["message_id"], **scope)
    return voice_table.filter(pc.is_in(voice_table["message_id"], value_set=kept["message_id"]))


_CONCERNS_SCHEMA = pa.schema([
    ("concern", pa.string()), ("label", pa.string()), ("messages", pa.int64()), ("share", pa.float64()),
    ("negative", pa.float64()), ("mean_score", pa.float64()), ("authors", pa.int64()),
    ("example", pa.string()), ("excerpt", pa.string()),
])


def buzz(store: Store, dimension: str = "term", period: str = "day", *, baseline: int = 28,
         threshold: float = 3.5, min_count: int = 5, min_history: int = 7, adjust: bool = True,
         recent: int = 1, now: Any = None, evidence: int = 20, fresh: bool = False,
         **filters: Any) -> BuzzResult:
    """What is rising: bursts of tags, terms, concerns or niches against their own baseline.

    Parameters
    ----------
    store : Store
        An open store.
    dimension : {"tag", "term", "concern", "niche"}
        What to track (concerns come from the newest voice run, niches from the newest niches run).
    period : {"hour", "day", "week", "month"}
        The period of the volumes.
    baseline, threshold, min_count, min_history, adjust, recent, now
        The burst model (see :mod:`whuffie.voice.buzz`).
    evidence : int
        Messages kept per burst (``buzz_evidence``).
    fresh : bool
        Compute again even when a saved run matches.
    **filters
        ``since``, ``until``, ``platforms``: the messages counted.

    Returns
    -------
    BuzzResult
        Tables ``buzz_episodes`` (main, strongest first), ``buzz_rising``, ``buzz_volumes`` (of the
        keys that burst) and ``buzz_evidence``; ``evidence(burst_id)`` gives a burst's messages.

    Examples
    --------
    >>> import whuffie, datetime as dt
    >>> from whuffie.model import Message, Records
    >>> day = dt.datetime(2024, 5, 1)
    >>> msgs = [Message(f"x:{i}", "x", "x:a", day + dt.timedelta(days=min(i // 3, 20)),
    ...                 text="strike strike" if i >= 60 else "station weather") for i in range(66)]
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(messages=msgs))
    ...     r = store.buzz("term", "day")
    >>> r["buzz_rising"].column("key").to_pylist(), r.evidence(1).num_rows
    (['strike'], 6)
    """
    from whuffie.api.runner import as_time
    from whuffie.voice.buzz import DIMENSIONS, PERIODS
    from whuffie.voice.buzz import buzz as compute_buzz

    if dimension not in DIMENSIONS:
        raise WhuffieError(f"{dimension!r} is not one of {', '.join(DIMENSIONS)}")
    if period not in PERIODS:
        raise WhuffieError(f"{period!r} is not one of {', '.join(PERIODS)}")
    scope = message_scope(**filters)
    inputs: dict[str, Any] = {}
    voice_table = members = None
    if dimension == "concern":
        voice_table, inputs["voice"] = voice_input(store)
    elif dimension == "niche":
        members, inputs["niches"] = latest(store, "niches", "memberships")
        if members is None:
            raise WhuffieError(f"buzz by niche needs the niches of {store.path}: run 'whuffie niches' first")
    now_time = as_time(now, "now")
    options = {"baseline": baseline, "threshold": threshold, "min_count": min_count,
               "min_history": min_history, "adjust": adjust, "recent": recent}

    def compute():
        result = compute_buzz(store.engine, dimension, period, voice=voice_table, members=members,
                              since=scope["since"], until=scope["until"], platforms=scope["platforms"],
                              now=now_time, evidence=evidence, **options)
        # Only the volumes of the keys that burst are kept: enough to draw them, not every term's series.
        keys = pa.array(sorted(set(result.episodes.column("key").to_pylist())), pa.string())
        volumes = result.volumes.filter(pc.is_in(result.volumes.column("key"), value_set=keys))
        return ({"buzz_episodes": result.episodes, "buzz_rising": result.rising, "buzz_volumes": volumes,
                 "buzz_evidence": result.evidence},
                {"episodes": result.episodes.num_rows, "rising": result.rising.num_rows,
                 "keys": len(set(result.events.column("key").to_pylist()))})

    params = {"dimension": dimension, "period": period, **options, **scope_params(scope),
              "now": now_time.isoformat() if now_time else None, "evidence": evidence}
    return run(store, "buzz", params, compute, cls=BuzzResult, inputs=inputs, fresh=fresh)


def brand_ids(store: Store, brands: Sequence[str] | str) -> list[str]:
    """The brand's actor ids from ids or handles (see :func:`whuffie.voice.inbox.resolve_brands`)."""
    from whuffie.voice.inbox import resolve_brands

    names = [b for b in (brands.split(",") if isinstance(brands, str) else brands) if b.strip()]
    return resolve_brands(store.engine, names)


def inbox(store: Store, brands: Sequence[str] | str, *, fresh: bool = False, **filters: Any) -> InboxResult:
    """The brand's inbox and outbox: response rate and times, who is waiting, posts that fell flat.

    Parameters
    ----------
    store : Store
        An open store.
    brands : sequence of str or str
        The brand's accounts: handles or actor ids (comma-separated in a string).
    fresh : bool
        Compute again even when a saved run matches.
    **filters
        ``since``, ``until``: keep inbound messages and brand posts in that window.

    Returns
    -------
    InboxResult
        Tables ``inbox_inbound`` (main) and ``inbox_outbound``; ``unanswered`` and ``silent``;
        ``summary`` with the response rate, response times and rates per post.

    Examples
    --------
    >>> import whuffie, datetime as dt
    >>> from whuffie.model import Message, Records
    >>> t = dt.datetime(2024, 1, 1, 10)
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(messages=[
    ...         Message("x:1", "x", "x:shop", t, text="New!"),
    ...         Message("x:2", "x", "x:ann", t + dt.timedelta(minutes=5), kind="reply", reply_to="x:1",
    ...                 text="When?"),
    ...         Message("x:3", "x", "x:shop", t + dt.timedelta(minutes=35), kind="reply", reply_to="x:2",
    ...                 text="Monday")]))
    ...     r = store.inbox("x:shop")
    >>> r.summary["response_rate"], r.summary["median_response_seconds"]
    (1.0, 1800.0)
    """
    from whuffie.voice.inbox import inbox as compute_inbox

    scope = message_scope(**filters)
    if scope["platforms"]:
        raise WhuffieError("the inbox follows the brand's accounts on every platform; leave out platforms")
    ids = brand_ids(store, brands)
    voice_table, voice_run = voice_input(store)
    influence, influence_run = latest(store, "influence", "influence")

    def compute():
        result = compute_inbox(store.engine.brand_threads(ids), ids, voice=voice_table, influence=influence,
                               since=scope["since"], until=scope["until"])
        return {"inbox_inbound": result.inbound, "inbox_outbound": result.outbound}, result.summary

    return run(store, "inbox", {"brands": ids, **scope_params(scope)}, compute, cls=InboxResult,
               inputs={"voice": voice_run, "influence": influence_run}, fresh=fresh)


def advocates(store: Store, *, brands: Sequence[str] | str | None = None, topic: Sequence[str] | None = None,
              min_messages: int = 2, fresh: bool = False, **filters: Any) -> AdvocatesResult:
    """Advocates and detractors by influence and reach: the negative voices that carry furthest first.

    Parameters
    ----------
    store : Store
        An open store.
    brands : sequence of str or str, optional
        Only messages to the brand (handles or actor ids).
    topic : sequence of str, optional
        Only messages with these words or #hashtags.
    min_messages : int
        Fewest messages about the subject.
    fresh : bool
        Compute again even when a saved run matches.
    **filters
        ``since``, ``until``, ``platforms``: count only the messages in that scope.

    Returns
    -------
    AdvocatesResult
        Table ``advocates`` (detractors first, heaviest first); ``evidence(actor)`` gives the
        messages that show an actor's stance.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Message, Records
    >>> texts = ["Awful, broken again", "Terrible service, never again", "I love it, great job"]
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(messages=[Message(f"x:{i}", "x", "x:ann" if i < 2 else "x:bob", None,
    ...                                             text=t, lang="en") for i, t in enumerate(texts)]))
    ...     r = store.advocates(min_messages=2)
    >>> r.to_arrow().select(["actor_id", "stance"]).to_pylist()
    [{'actor_id': 'x:ann', 'stance': 'detractor'}]
    """
    from whuffie.voice.advocates import advocates as compute_advocates

    ids = brand_ids(store, brands) if brands else None
    words = [t for t in (topic.split(",") if isinstance(topic, str) else topic or []) if t.strip()] or None
    scope = message_scope(**filters)
    voice_table, voice_run = voice_input(store)
    influence, influence_run = latest(store, "influence", "influence")

    def compute():
        table = compute_advocates(store.engine, _in_scope(store, voice_table, scope), influence=influence,
                                  brand_ids=ids, topic=words, min_messages=min_messages)
        stances = table.column("stance").to_pylist()
        return {"advocates": table}, {"advocates": stances.count("advocate"),
                                      "detractors": stances.count("detractor")}

    return run(store, "advocates", {"brands": ids, "topic": words, "min_messages": min_messages,
                                    **scope_params(scope)}, compute,
               cls=AdvocatesResult, inputs={"voice": voice_run, "influence": influence_run}, fresh=fresh)
