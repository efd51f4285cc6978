"""The voice step over a store: language, sentiment and concerns of every message.

:func:`voice_messages` reads the messages that have text, in batches, and gives one row per
message (the ``voice_messages`` result); :func:`run_voice` saves it as a run. Batches are
scored on several processes (the analyzers are pure Python and CPU-bound); the transformer
back end runs in one process, since PyTorch already uses every core.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from whuffie.store.store import Store, window_sql
from whuffie.voice.sentiment import LABELS, get_analyzer

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
        Processes; 0 chooses (every core, one for the transformer).
    batch : int
        Messages per batch.
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
        d = asdict(self)
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
        scores, labels = self.analyzer.analyse(texts, langs)
        concerns = self.lexicon.tag(texts, langs)
        n = len(ids)
        names = np.array(LABELS, dtype=object)[labels.astype(np.int64) + 1]
        return pa.RecordBatch.from_arrays([
            pa.array(ids, pa.string()), pa.array(langs, pa.string()), pa.array(sources, pa.string()),
            pa.array(names, pa.string()),
            pa.array(scores, pa.float32()), pa.array(concerns, pa.list_(pa.string())),
            pa.array([self.analyzer.name] * n, pa.string()),
            pa.array([self.analyzer.version] * n, pa.string()),
        ], schema=SCHEMA)


#: The scorer of the running voice step, set before the worker processes are forked.
_WORKER: _Scorer | None = None


def _score(batch):
    assert _WORKER is not None
    return _WORKER(batch)


def _where(params: VoiceParams) -> tuple[str, list[Any]]:
    clauses, args = ["NOT is_stub", "(text IS NOT NULL OR title IS NOT NULL)"], []
    if params.platforms:
        clauses.append("platform IN (SELECT unnest(?))")
        args.append(list(params.platforms))
    window, bounds = window_sql("created_at", params.since, params.until)
    return " AND ".join(clauses) + window, args + bounds


def _batches(store: Store, params: VoiceParams
             ) -> Iterator[tuple[list[str], list[str | None], list[str | None]]]:
    where, args = _where(params)
    # A title says as much as the body (submissions, e-mails, blog posts): both are read.
    reader = store.con.sql(
        "SELECT message_id, CASE WHEN title IS NULL THEN text WHEN text IS NULL THEN title "
        f"ELSE title || '. ' || text END AS body, lang FROM messages WHERE {where} ORDER BY message_id",
        params=args).to_arrow_reader(params.batch)
    for rb in reader:
        cols = rb.to_pydict()
        yield cols["message_id"], cols["body"], cols["lang"]


def voice_messages(store: Store, params: VoiceParams | None = None,
                   progress: Callable[[int, int], None] | None = None) -> pa.Table:
    """Language, sentiment and concerns of every message with text.

    Parameters
    ----------
    store : Store
        The store.
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
    ...     t = voice_messages(store)
    >>> t.num_rows, t.column_names[:4]
    (0, ['message_id', 'lang', 'lang_source', 'sentiment'])
    """
    params = params or VoiceParams()
    where, args = _where(params)
    total = store.con.execute(f"SELECT count(*) FROM messages WHERE {where}", args).fetchall()[0][0]
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

    global _WORKER
    scorer = _Scorer(params)
    if workers == 1:
        for batch in _batches(store, params):
            collect(scorer(batch))
    else:
        # fork: the workers inherit the scorer, lexicons loaded, instead of building their own.
        _WORKER = scorer
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for rb in pool.imap(_score, _batches(store, params)):
                    collect(rb)
        finally:
            _WORKER = None
    return pa.Table.from_batches(parts, schema=SCHEMA)


def run_voice(store: Store, params: VoiceParams | None = None,
              progress: Callable[[int, int], None] | None = None) -> tuple[int, pa.Table]:
    """Run the voice step and save it (the ``voice_messages`` result); return (run id, table)."""
    from whuffie.store.results import save_run

    params = params or VoiceParams()
    started = time.perf_counter()
    table = voice_messages(store, params, progress)
    run = save_run(store, "voice", {"voice_messages": table}, params.as_dict(), started=started)
    return run, table


def summarise(table: pa.Table, read: frozenset[str] = frozenset({"en", "fr"})) -> dict[str, Any]:
    """Counts of a ``voice_messages`` table: messages, by language, by sentiment, by concern.

    ``other_languages`` counts the messages in a known language outside ``read`` (the languages
    the analyzer has lexicons for): their sentiment is a rough reading.

    Examples
    --------
    >>> t = pa.table({"lang": ["en", "fr", None], "sentiment": ["positive", "negative", "neutral"],
    ...               "concerns": [["price"], [], ["price", "service"]]})
    >>> summarise(t)["concerns"]
    {'price': 2, 'service': 1}
    """
    from collections import Counter

    langs = Counter(table.column("lang").to_pylist())
    feelings = Counter(table.column("sentiment").to_pylist())
    concerns = Counter(c for cs in table.column("concerns").to_pylist() for c in (cs or []))
    return {
        "messages": table.num_rows,
        "languages": {k or "unknown": v for k, v in langs.most_common()},
        "sentiment": {k: feelings.get(k, 0) for k in LABELS},
        "other_languages": sum(v for k, v in langs.items() if k is not None and k not in read),
        "concerns": dict(concerns.most_common()),
    }



def concern_summary(store: Store, table: pa.Table, lexicon: Any, examples: int = 1) -> list[dict[str, Any]]:
    """One row per concern raised: how often, how negatively, by how many people, with an example.

    Parameters
    ----------
    store : Store
        The store the voice table was computed on (for authors and texts).
    table : pyarrow.Table
        A ``voice_messages`` table.
    lexicon : ConcernLexicon
        For the concerns' labels.
    examples : int
        0 for no example; otherwise the most negative message of each concern is given.

    Returns
    -------
    list of dict
        ``concern, label, messages, share, negative (share of its messages that are negative),
        mean_score, authors, example, excerpt``, most voiced first.
    """
    labels = {cid: names.get("en") or cid for cid, names in lexicon.concerns.items()}
    total = table.num_rows
    con = store.con
    con.register("_voice", table.select(["message_id", "sentiment", "score", "concerns"]))
    try:
        rows = con.execute("""
            WITH c AS (SELECT v.message_id, v.sentiment, v.score, unnest(v.concerns) AS concern
                         FROM _voice v WHERE len(v.concerns) > 0)
            SELECT c.concern, count(*) AS messages, avg((c.sentiment = 'negative')::INT) AS negative,
                   avg(c.score) AS mean_score, count(DISTINCT m.actor_id) AS authors,
                   arg_min(c.message_id, c.score) AS example,
                   arg_min(left(coalesce(m.text, m.title), 160), c.score) AS excerpt
              FROM c LEFT JOIN messages m ON m.message_id = c.message_id
             GROUP BY c.concern ORDER BY messages DESC, c.concern""").fetchall()
    finally:
        con.unregister("_voice")
    out = []
    for concern, n, negative, mean, authors, example, excerpt in rows:
        row = {"concern": concern, "label": labels.get(concern), "messages": n,
               "share": n / total if total else 0.0, "negative": float(negative),
               "mean_score": float(mean), "authors": authors}
        if examples:
            row.update(example=example, excerpt=excerpt)
        out.append(row)
    return out
