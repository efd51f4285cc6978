"""The evidence behind an attention edge: every interaction from A to B, with its message.

Every score of Whuffie rests on edges, and every edge on interactions that people made: a reply,
a mention, a vote. :func:`evidence` lists them (kind, time, message, record, weight, value, platform
and an excerpt of the message's text), so that any score can be traced back to what was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from whuffie import arrowsql
from whuffie.errors import WhuffieError

if TYPE_CHECKING:
    from whuffie.engines.base import Engine

#: Columns of :attr:`Evidence.rows`, in order.
EVIDENCE_COLUMNS = ("actor", "target", "kind", "time", "message", "record", "weight", "value",
                    "platform", "excerpt")


@dataclass(frozen=True)
class Evidence:
    """The interactions behind an edge.

    Attributes
    ----------
    rows : list of dict
        One per interaction, oldest first (undated ones last), with the
        :data:`EVIDENCE_COLUMNS`.
    total : int
        How many interactions match, before the limit.
    """

    rows: list[dict[str, Any]]
    total: int

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table with the :data:`EVIDENCE_COLUMNS`."""
        return pa.Table.from_pylist([{c: r.get(c) for c in EVIDENCE_COLUMNS} for r in self.rows]) \
            if self.rows else pa.table({c: pa.array([], pa.string()) for c in EVIDENCE_COLUMNS})


def check_actor(engine: Engine, actor: str) -> None:
    """Raise a :class:`WhuffieError` naming close matches when ``actor`` is not in the data.

    Close matches are actors whose id, handle or name contains what was typed
    (without its ``platform:`` prefix or ``@``), or whose handle is spelled
    almost the same.

    Examples
    --------
    >>> import whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     check_actor(store.engine, "x:nobody")
    Traceback (most recent call last):
    ...
    whuffie.errors.WhuffieError: no actor 'x:nobody' in the store; actor ids look like 'platform:native_id' \
(see 'whuffie influence' for the ids of the store)
    """
    if engine.actors(["actor_id"], ids=[actor]).num_rows:
        return
    needle = actor.split(":", 1)[-1].lstrip("@").strip() or actor
    close = engine.similar_actors(needle, 5).to_pylist()
    if close:
        named = [f"{r['actor_id']} ({r['handle']})"
                 if r["handle"] and r["handle"].lower() not in r["actor_id"].lower() else r["actor_id"]
                 for r in close]
        hint = "did you mean " + ", ".join(named) + "?"
    else:
        hint = "actor ids look like 'platform:native_id' (see 'whuffie influence' for the ids of the store)"
    raise WhuffieError(f"no actor {actor!r} in the store; {hint}")


def evidence(engine: Engine, source: str, target: str, *, both: bool = False, limit: int | None = 50,
             kinds: Sequence[str] | None = None, since: datetime | None = None,
             until: datetime | None = None, excerpt: int = 160) -> Evidence:
    """Every interaction from ``source`` to ``target`` (and back, with ``both``).

    Parameters
    ----------
    engine : Engine
        Where the interactions are (``store.engine``).
    source, target : str
        Actor ids; ``source`` paid attention to ``target``.
    both : bool
        Also list ``target -> source``.
    limit : int, optional
        Rows to return (oldest first); ``None`` for all.
    kinds : sequence of str, optional
        Keep these interaction kinds.
    since, until : datetime, optional
        Keep interactions in ``[since, until)`` (UTC); undated ones are then left out.
    excerpt : int
        Characters of message text to show (whitespace collapsed).

    Returns
    -------
    Evidence
        Rows with ``actor`` (who paid attention), ``target``, ``kind``,
        ``time``, ``message`` (the message behind the interaction: the reply,
        the mention; for a vote the message voted on), ``record`` (the message,
        rating or tie row), ``weight``, ``value`` (a rating's value),
        ``platform`` and ``excerpt`` (the message's text).

    Raises
    ------
    WhuffieError
        When an actor is not in the data (with close matches), or when no
        interaction matches (saying whether the other direction has some).

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Records, Tie
    >>> from whuffie.store.writer import Batch
    >>> with whuffie.open(":memory:") as store:
    ...     b = Batch(); b.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "mention", 2.0)]))
    ...     _ = store.con.execute("BEGIN"); _ = b.flush(store.con, None); _ = store.con.execute("COMMIT")
    ...     found = evidence(store.engine, "x:a", "x:b")
    >>> found.total, found.rows[0]["kind"], found.rows[0]["record"], found.rows[0]["weight"]
    (1, 'mention', 'x:1', 2.0)
    """
    for actor in (source, target):
        check_actor(engine, actor)
    pairs = [(source, target)] + ([(target, source)] if both else [])
    filters = {"kinds": list(kinds) if kinds is not None else None, "since": since, "until": until}
    found = engine.evidence(pairs, **filters)
    table = arrowsql.query(
        """WITH g AS (SELECT *, trim(regexp_replace(coalesce(text, ''), '\\s+', ' ', 'g')) AS clean FROM f)
           SELECT actor, target, kind, time, message, record, weight, value, platform,
                  CASE WHEN clean = '' THEN NULL
                       WHEN length(clean) > ? THEN left(clean, ? - 1) || '…' ELSE clean END AS excerpt
             FROM g ORDER BY time NULLS LAST, record, kind, actor
            LIMIT ?""",
        [excerpt, excerpt, limit if limit is not None else 2**62], f=found)
    rows = table.to_pylist()
    total = found.num_rows
    if not total:
        reverse = 0 if both else engine.evidence([(target, source)], **filters).num_rows
        arrow = "<->" if both else "->"
        hint = f"; {target} -> {source} has {reverse} (add --both)" if reverse else ""
        narrowed = kinds is not None or since is not None or until is not None
        raise WhuffieError(f"no interaction {source} {arrow} {target} in the store"
                           f"{' with these filters' if narrowed else ''}{hint}")
    return Evidence(rows, total)
