"""The voice step: language, sentiment and concerns of every message.

:func:`voice_messages` reads the messages that have text, in batches, from an engine (see
:mod:`whuffie.engines`) and gives one row per message (the ``voice_messages`` result; the library
call :meth:`whuffie.Store.voice` saves it as a run). Batches are scored on several processes (the
analyzers are pure Python and CPU-bound); the transformer back end runs in one process, since
PyTorch already uses every core. Workers are *spawned*, on every operating system: each builds its
own scorer from the parameters and receives only texts, never a handle on the store (a forked
worker would inherit the parent's open database connection, and macOS and Windows cannot fork).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from whuffie import arrowsql
from whuffie.voice.sentiment import LABELS, get_analyzer
from whuffie.workers import die_with_parent

if TYPE_CHECKING:
    from whuffie.engines.base import Engine

#: The columns of the ``voice_messages`` result.
SCHEMA = pa.schema([
    ("message_id", pa.string()),
    ("lang", pa.string()),
    ("lang_source", pa.string()),
    ("sentiment", pa.string()),
    ("score", pa.float32()),
    ("concerns", pa.list_(pa.string())),
    ("analyzer", pa.string()),
    ("analyzer_version", pa.string()),
])


@dataclass(frozen=True)
class VoiceParams:
    """Parameters of the voice step (recorded with the run).

    Attributes
    ----------
    analyzer : str
        The sentiment analyzer (``lexicon``, ``vader``, ``transformer``).
    model : str, optional
        The local model folder of the ``transformer`` analyzer.
    concerns : tuple of str
        Extra concern lexicons (YAML) that add to or override the defaults.
    min_confidence : float
        Language detection: the probability under which the language is left unknown.
    platforms : tuple of str
        Only messages of these platforms (all by default).
    since, until : datetime, optional
        Only messages in ``[since, until)``.
    workers : int
        Processes; 0 chooses (every core up to 4, one for the transformer). Not part of the
        result: any number of workers gives the same rows.
    batch : int
        Messages per batch (likewise not part of the result).
    """

    analyzer: str = "lexicon"
    model: str | None = None
    concerns: tuple[str, ...] = ()
    min_confidence: float = 0.5
    platforms: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    workers: int = 0
    batch: int = 10_000
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The parameters that decide the result, JSON-ready (``workers`` and ``batch`` left out).

        Examples
        --------
        >>> VoiceParams(workers=3).as_dict()["analyzer"], "workers" in VoiceParams().as_dict()
        ('lexicon', False)
        """
        d = asdict(self)
        d.pop("workers")
        d.pop("batch")
        d["concerns"] = list(self.concerns)
        d["platforms"] = list(self.platforms)
        d["since"] = self.since.isoformat() if self.since else None
        d["until"] = self.until.isoformat() if self.until else None
        return d


class _Scorer:
    """Everything one process needs to score a batch (built once per process)."""

    def __init__(self, params: VoiceParams) -> None:
        from whuffie.voice.concerns import ConcernLexicon

        options = {"model": params.model} if params.analyzer == "transformer" else {}
        self.analyzer = get_analyzer(params.analyzer, **options)
        self.lexicon = ConcernLexicon.load(extra=list(params.concerns))
        self.min_confidence = params.min_confidence

    def __call__(self, batch: tuple[list[str], list[str | None], list[str | None]]) -> pa.RecordBatch:
        from whuffie.voice.language import message_languages

        ids, texts, tags = batch
        langs, sources = message_languages(texts, tags, self.min_confidence)
        # No sentiment rather than a wrong one: a message in a language the analyzer has no
        # lexicon or model for is not read (the German article "die" is not the English verb).
        # A message whose language could not be told (too short, unsure) is read as best the
        # analyzer can: it is mostly emoji and a few words.
        read = np.array([readable(lang, self.analyzer.languages) for lang in langs], dtype=bool)
        scores, labels = self.analyzer.analyse(texts, langs)
        concerns = self.lexicon.tag(texts, langs)
        n = len(ids)
        names = np.array(LABELS, dtype=object)[labels.astype(np.int64) + 1]
        return pa.RecordBatch.from_arrays([
            pa.array(ids, pa.string()), pa.array(langs, pa.string()), pa.array(sources, pa.string()),
            pa.array(names, pa.string(), mask=~read),
            pa.array(scores, pa.float32(), mask=~read), pa.array(concerns, pa.list_(pa.string())),
            pa.array([self.analyzer.name] * n, pa.string()),
            pa.array([self.analyzer.version] * n, pa.string()),
        ], schema=SCHEMA)


def readable(lang: str | None, languages: frozenset[str] | None) -> bool:
    """Whether an analyzer reading ``languages`` (``None``: any) gives a message in ``lang`` a sentiment.

    Examples
    --------
    >>> readable("en", frozenset({"en", "fr"})), readable("de", frozenset({"en", "fr"}))
    (True, False)
    >>> readable(None, frozenset({"en", "fr"})), readable("de", None)
    (True, True)
    """
    return languages is None or lang is None or lang.lower() in languages


#: The scorer of a worker process, built by :func:`_start_worker`.
_WORKER: _Scorer | None = None


def _start_worker(params: VoiceParams, parent: int) -> None:
    global _WORKER
    die_with_parent(parent)
    _WORKER = _Scorer(params)


def _score(batch):
    assert _WORKER is not None
    return _WORKER(batch)


def _bodies(rb: pa.RecordBatch) -> tuple[list[str], list[str | None], list[str | None]]:
    """A batch's ids, texts and language tags; a title says as much as the body, so both are read."""
    body = arrowsql.query(
        "SELECT message_id, CASE WHEN title IS NULL THEN text WHEN text IS NULL THEN title "
        "ELSE title || '. ' || text END AS body, lang FROM b", b=pa.Table.from_batches([rb]))
    cols = body.to_pydict()
    return cols["message_id"], cols["body"], cols["lang"]


def _batches(engine: Engine, params: VoiceParams) -> tuple[int, Iterator[tuple[list, list, list]]]:
    total, batches = engine.message_batches(
        ["message_id", "title", "text", "lang"], batch=params.batch, platforms=params.platforms or None,
        since=params.since, until=params.until, require=["text_or_title"], order_by=["message_id"])
    return total, (_bodies(rb) for rb in batches if rb.num_rows)


def voice_messages(engine: Engine, params: VoiceParams | None = None,
                   progress: Callable[[int, int], None] | None = None) -> pa.Table:
    """Language, sentiment and concerns of every message with text.

    Parameters
    ----------
    engine : Engine
        Where the messages come from (``store.engine``).
    params : VoiceParams, optional
        The analyzer and filters.
    progress : callable, optional
        Called with (messages done, messages in all) after each batch.

    Returns
    -------
    pyarrow.Table
        One row per message, with the columns of :data:`SCHEMA`.

    Examples
    --------
    >>> import whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     t = voice_messages(store.engine)
    >>> t.num_rows, t.column_names[:4]
    (0, ['message_id', 'lang', 'lang_source', 'sentiment'])
    """
    params = params or VoiceParams()
    total, batches = _batches(engine, params)
    workers = params.workers or (1 if params.analyzer == "transformer" else min(os.cpu_count() or 1, 4))
    if total < 2 * params.batch:
        workers = 1
    parts: list[pa.RecordBatch] = []
    done = 0

    def collect(rb: pa.RecordBatch) -> None:
        nonlocal done
        parts.append(rb)
        done += rb.num_rows
        if progress:
            progress(done, total)

    if progress:
        progress(0, total)
    if workers == 1:
        scorer = _Scorer(params)
        for batch in batches:
            collect(scorer(batch))
    else:
        with _main_not_imported():
            pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_start_worker,
                                                             initargs=(params, os.getpid()))
        with pool:
            for rb in pool.imap(_score, batches):
                collect(rb)
    return pa.Table.from_batches(parts, schema=SCHEMA)


@contextmanager
def _main_not_imported() -> Iterator[None]:
    """Start spawned workers without importing the caller's main module into them.

    A spawned worker imports the parent's ``__main__`` (found by its ``__spec__`` or ``__file__``)
    before it runs anything; a user's script that calls Whuffie without an ``if __name__ ==
    "__main__"`` guard would then run again in every worker. The workers need only this module, so
    the main module's spec and path are hidden while the pool starts its processes.
    """
    main = sys.modules.get("__main__")
    saved = dict(main.__dict__) if main is not None else {}
    if main is not None:
        main.__dict__.pop("__file__", None)
        main.__spec__ = None
    try:
        yield
    finally:
        if main is not None:
            for key in ("__file__", "__spec__"):
                if key in saved:
                    main.__dict__[key] = saved[key]


def summarise(table: pa.Table) -> dict[str, Any]:
    """Counts of a ``voice_messages`` table: messages, by language, by sentiment, by concern.

    ``read`` counts the messages that have a sentiment; ``unread`` those in a language the analyzer
    does not read (no sentiment), and ``unread_languages`` their languages. Shares of sentiment are
    to be taken over ``read``.

    Examples
    --------
    >>> t = pa.table({"lang": ["en", "fr", None, "de"],
    ...               "sentiment": ["positive", "negative", "neutral", None],
    ...               "concerns": [["price"], [], ["price", "service"], []]})
    >>> s = summarise(t)
    >>> s["concerns"], s["read"], s["unread"], s["unread_languages"]
    ({'price': 2, 'service': 1}, 3, 1, {'de': 1})
    """
    from collections import Counter

    langs = Counter(table.column("lang").to_pylist())
    feelings = Counter(table.column("sentiment").to_pylist())
    concerns = Counter(c for cs in table.column("concerns").to_pylist() for c in (cs or []))
    unread = Counter(lang for lang, label in zip(table.column("lang").to_pylist(),
                                                 table.column("sentiment").to_pylist(), strict=True)
                     if label is None)
    return {
        "messages": table.num_rows,
        "read": table.num_rows - feelings.get(None, 0),
        "languages": {k or "unknown": v for k, v in langs.most_common()},
        "sentiment": {k: feelings.get(k, 0) for k in LABELS},
        "unread": sum(unread.values()),
        "unread_languages": {k or "unknown": v for k, v in unread.most_common()},
        "concerns": dict(concerns.most_common()),
    }



def concern_summary(table: pa.Table, messages: pa.Table, lexicon: Any,
                    examples: int = 1) -> list[dict[str, Any]]:
    """One row per concern raised: how often, how negatively, by how many people, with an example.

    Parameters
    ----------
    table : pyarrow.Table
        A ``voice_messages`` table.
    messages : pyarrow.Table
        ``message_id``, ``actor_id``, ``text`` and ``title`` of (at least) the messages of
        ``table`` that raise a concern.
    lexicon : ConcernLexicon
        For the concerns' labels.
    examples : int
        0 for no example; otherwise the most negative message of each concern is given.

    Returns
    -------
    list of dict
        ``concern, label, messages, share, negative (share of its messages that are negative),
        mean_score, authors, example, excerpt``, most voiced first.

    Examples
    --------
    >>> from whuffie.voice.concerns import ConcernLexicon
    >>> voice = pa.table({"message_id": ["m1", "m2"], "sentiment": ["negative", "neutral"],
    ...                   "score": [-0.5, 0.0], "concerns": [["price"], []]})
    >>> msgs = pa.table({"message_id": ["m1"], "actor_id": ["a"], "text": ["Too dear"], "title": [None]})
    >>> concern_summary(voice, msgs, ConcernLexicon.load())[0]["excerpt"]
    'Too dear'
    """
    labels = {cid: names.get("en") or cid for cid, names in lexicon.concerns.items()}
    total = table.num_rows
    rows = arrowsql.query("""
        WITH c AS (SELECT v.message_id, v.sentiment, v.score, unnest(v.concerns) AS concern
                     FROM v WHERE len(v.concerns) > 0)
        SELECT c.concern, count(*) AS messages, avg((c.sentiment = 'negative')::INT) AS negative,
               avg(c.score) AS mean_score, count(DISTINCT m.actor_id) AS authors,
               arg_min(c.message_id, (c.score, c.message_id)) AS example,
               arg_min(left(coalesce(m.text, m.title), 160), (c.score, c.message_id)) AS excerpt
          FROM c LEFT JOIN m ON m.message_id = c.message_id
         GROUP BY c.concern ORDER BY messages DESC, c.concern""",
        v=table.select(["message_id", "sentiment", "score", "concerns"]),
        m=messages.select(["message_id", "actor_id", "text", "title"])).to_pylist()
    out = []
    for r in rows:
        row = {"concern": r["concern"], "label": labels.get(r["concern"]), "messages": r["messages"],
               "share": r["messages"] / total if total else 0.0, "negative": float(r["negative"]),
               "mean_score": float(r["mean_score"]), "authors": r["authors"]}
        if examples:
            row.update(example=r["example"], excerpt=r["excerpt"])
        out.append(row)
    return out
