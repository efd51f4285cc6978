"""Batched, idempotent writes of canonical records to the DuckDB store.

A :class:`Batch` collects the :class:`~whuffie.model.Records` of many
raw records, merges repeated ids (a tweet seen twice in a stream, an original
embedded in several retweets), and :meth:`Batch.flush` writes it in one
transaction through Arrow tables. Every table has a primary key and every
insert is an upsert, so writing the same records twice stores them once:

* a primary message already stored counts as a duplicate and is not changed,
  except that columns the store does not know yet are filled;
* a stub (a message known only by id and author) is completed when the full
  message arrives;
* actors referenced anywhere (an author, a mention, a recipient, a rater) are
  created if missing, so joins never dangle;
* a mention, link, tag or recipient is stored once by its natural key
  (:data:`CHILD_KEYS`), also when its message stays a stub across imports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from whuffie.model import (
    Actor,
    Link,
    Mention,
    Message,
    Rating,
    Records,
    Tie,
)
from whuffie.store.schema import CHILD_KEYS
from whuffie.urls import normalize_many

_MESSAGE_FIELDS = (
    "actor_id", "created_at", "kind", "text", "title", "lang", "reply_to", "reshare_of",
    "quote_of", "thread_id", "url", "likes", "reshares", "replies", "quotes", "score", "views",
    "extra",
)
_ACTOR_FIELDS = (
    "handle", "name", "url", "description", "created_at", "followers", "following", "posts",
    "verified", "extra",
)


@dataclass(slots=True)
class QuarantineRow:
    """A record that could not be read, with where and why."""

    path: str
    line: int | None
    offset: int | None
    reason: str
    excerpt: str
    #: Identical records in a row this row stands for (see :meth:`Batch.add_bad`), the last on
    #: line ``last_line``.
    records: int = 1
    last_line: int | None = None

    #: ``error``: the record was left out (flags and notes, which keep the record, say otherwise).
    severity = "error"

    @property
    def full_reason(self) -> str:
        """The reason as stored: with the count and lines of identical records in a row."""
        if self.records == 1:
            return self.reason
        lines = f" (lines {self.line:,} to {self.last_line:,})" if self.line and self.last_line else ""
        return f"{self.records:,} identical records in a row{lines}, each: {self.reason}"

    @property
    def key(self) -> str:
        h = hashlib.sha1(
            f"{self.path}\0{self.line}\0{self.offset}\0{self.reason}\0{self.excerpt}".encode(
                "utf-8", "replace"
            )
        )
        return h.hexdigest()


def _fill(target, source, fields: Iterable[str]) -> None:
    """Copy into ``target`` the fields it lacks (``None``) from ``source``."""
    for f in fields:
        if getattr(target, f) is None:
            v = getattr(source, f)
            if v is not None:
                setattr(target, f, v)


class Batch:
    """Records collected for one transaction.

    Examples
    --------
    >>> from whuffie.model import Message, Records
    >>> b = Batch()
    >>> r = Records(messages=[Message("x:1", "x", "x:a", None, text="hi")])
    >>> b.add(r); b.add(r)
    >>> len(b.messages), b.in_batch_duplicates
    (1, 1)
    """

    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        self.primary: set[str] = set()
        self.actors: dict[str, Actor] = {}
        self.profiles: set[str] = set()
        self.mentions: dict[tuple[str, str], Mention] = {}
        self.links: dict[tuple[str, str], Link] = {}
        self.tags: set[tuple[str, str]] = set()
        self.recipients: set[tuple[str, str, str]] = set()
        self.ratings: dict[str, Rating] = {}
        self.ties: dict[str, Tie] = {}
        self.quarantine: dict[str, QuarantineRow] = {}
        self._last_bad: QuarantineRow | None = None
        self.in_batch_duplicates = 0
        self.primary_seen = 0

    def __len__(self) -> int:
        """Rows to write, roughly: what decides when a batch is full (quarantined records too: a
        file of millions of tiny bad records must not be held whole)."""
        return (len(self.messages) + len(self.ratings) + len(self.ties) + len(self.actors) // 4
                + len(self.quarantine))

    def add(self, records: Records) -> None:
        """Merge one bundle of records into the batch."""
        messages = self.messages
        for m in records.messages:
            self.primary_seen += 1
            old = messages.get(m.id)
            if old is None:
                messages[m.id] = m
            elif m.id in self.primary:
                self.in_batch_duplicates += 1
                _fill(old, m, _MESSAGE_FIELDS)
            else:  # known so far only as context: the primary version wins
                _fill(m, old, _MESSAGE_FIELDS)
                messages[m.id] = m
            self.primary.add(m.id)
        for m in records.context:
            old = messages.get(m.id)
            if old is None:
                messages[m.id] = m
            elif old.stub and not m.stub and m.id not in self.primary:
                _fill(m, old, _MESSAGE_FIELDS)
                messages[m.id] = m
            else:
                _fill(old, m, _MESSAGE_FIELDS)
        actors = self.actors
        for a in records.profiles:
            self.primary_seen += 1
            old_a = actors.get(a.id)
            if old_a is None:
                actors[a.id] = a
            elif a.id in self.profiles:
                self.in_batch_duplicates += 1
                _fill(old_a, a, _ACTOR_FIELDS)
            else:
                _fill(a, old_a, _ACTOR_FIELDS)
                actors[a.id] = a
            self.profiles.add(a.id)
        for a in records.actors:
            old_a = actors.get(a.id)
            if old_a is None:
                actors[a.id] = a
            else:
                _fill(old_a, a, _ACTOR_FIELDS)
        for x in records.mentions:
            self.mentions.setdefault((x.message_id, x.actor_id), x)
        for link in records.links:
            self.links.setdefault((link.message_id, link.url), link)
        for t in records.tags:
            self.tags.add((t.message_id, t.tag))
        for r in records.recipients:
            self.recipients.add((r.message_id, r.actor_id, r.role))
        for rating in records.ratings:
            self.primary_seen += 1
            if rating.id in self.ratings:
                self.in_batch_duplicates += 1
            else:
                self.ratings[rating.id] = rating
        for tie in records.ties:
            self.primary_seen += 1
            if tie.id in self.ties:
                self.in_batch_duplicates += 1
            else:
                self.ties[tie.id] = tie

    def add_bad(self, row: QuarantineRow) -> None:
        """Queue a quarantined record.

        A record identical to the one quarantined just before it (same file, reason and excerpt)
        is counted on that row: 16 MiB of ``""`` are 8 million bad JSON values, which would
        otherwise be as many rows.
        """
        last = self._last_bad
        if (last is not None and type(last) is type(row) and row.severity == "error"
                and last.path == row.path and last.reason == row.reason and last.excerpt == row.excerpt):
            last.records += 1
            last.last_line = row.line
            return
        self.quarantine[row.key] = row
        self._last_bad = row

    def _ensure_actors(self) -> None:
        """Create a minimal actor for every actor id referenced but not described."""
        actors = self.actors
        refs: set[str] = set()
        for m in self.messages.values():
            if m.actor_id:
                refs.add(m.actor_id)
        refs.update(x.actor_id for x in self.mentions.values())
        refs.update(link.target_actor_id for link in self.links.values() if link.target_actor_id)
        refs.update(r[1] for r in self.recipients)
        for r in self.ratings.values():
            if r.rater_id:
                refs.add(r.rater_id)
            if r.target_actor_id:
                refs.add(r.target_actor_id)
        for t in self.ties.values():
            refs.add(t.source_id)
            refs.add(t.target_id)
        for aid in refs:
            if aid not in actors:
                actors[aid] = Actor(aid, aid.split(":", 1)[0])

    # -- writing ---------------------------------------------------------------------------

    def tables(self) -> Tables:
        """Convert the batch to Arrow tables (pure; can run in a worker process)."""
        self._ensure_actors()
        t = Tables(primary_seen=self.primary_seen, in_batch_duplicates=self.in_batch_duplicates,
                   profiles=list(self.profiles), quarantine=list(self.quarantine.values()))
        if self.actors:
            t.actors = _actors_table(self.actors.values())
        if self.messages:
            t.messages = _messages_table(self.messages.values(), self.primary)
        if self.mentions:
            m = list(self.mentions.values())
            t.mentions = pa.table({
                "message_id": [x.message_id for x in m],
                "actor_id": [x.actor_id for x in m],
                "handle": _clean([x.handle for x in m]),
            })
        if self.links:
            links = list(self.links.values())
            urls = _clean([x.url for x in links])
            # The domain comes from the normalised address, as for the links a migration fills:
            # one rule for every reader and every store (see whuffie.urls).
            normalized, domains = normalize_many(urls)
            t.links = pa.table({
                "message_id": [x.message_id for x in links],
                "url": urls,
                "domain": domains,
                "target_actor_id": [x.target_actor_id for x in links],
                "normalized_url": normalized,
            })
        if self.tags:
            tags = list(self.tags)
            t.tags = pa.table({"message_id": [x[0] for x in tags], "tag": _clean([x[1] for x in tags])})
        if self.recipients:
            rec = list(self.recipients)
            t.recipients = pa.table({
                "message_id": [r[0] for r in rec], "actor_id": [r[1] for r in rec],
                "role": [r[2] for r in rec],
            })
        if self.ratings:
            t.ratings = _ratings_table(self.ratings.values())
        if self.ties:
            t.ties = _ties_table(self.ties.values())
        return t

    def flush(self, con: duckdb.DuckDBPyConnection, import_id: int | None) -> tuple[int, int]:
        """Write the batch inside the caller's transaction.

        Returns
        -------
        (stored, duplicate) : tuple of int
            Primary records newly stored, and primary records already present
            (in the store, or earlier in this batch).
        """
        return write_tables(con, self.tables(), import_id)


@dataclass
class Tables:
    """A batch as Arrow tables: what a worker process hands to the writer."""

    primary_seen: int = 0
    in_batch_duplicates: int = 0
    profiles: list[str] = field(default_factory=list)
    quarantine: list[QuarantineRow] = field(default_factory=list)
    actors: pa.Table | None = None
    messages: pa.Table | None = None
    mentions: pa.Table | None = None
    links: pa.Table | None = None
    tags: pa.Table | None = None
    recipients: pa.Table | None = None
    ratings: pa.Table | None = None
    ties: pa.Table | None = None
    #: Already pseudonymised (by an ingest worker; see whuffie.privacy.pseudonyms).
    pseudonymised: bool = False


def write_tables(
    con: duckdb.DuckDBPyConnection, parts: Tables | Sequence[Tables], import_id: int | None
) -> tuple[int, int]:
    """Upsert converted batches of one import inside the caller's transaction.

    Returns
    -------
    (stored, duplicate) : tuple of int
        Summed over the parts.
    """
    parts = [parts] if isinstance(parts, Tables) else list(parts)
    counts = write_parts(con, parts, [import_id] * len(parts))
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def write_parts(
    con: duckdb.DuckDBPyConnection, parts: Sequence[Tables], import_ids: Sequence[int | None]
) -> list[tuple[int, int]]:
    """Upsert batches inside the caller's transaction; return (stored, duplicate) per part.

    Parts are the batches of one large file (from worker processes), or the
    batches of many small files written together, each stamped with its own
    import: one set of statements then serves them all, where each statement
    has a fixed cost. A row repeated across parts is stored once, from the
    first part that has it; the later parts count it as a duplicate.

    The tables carry no index: keys are checked with hash joins against the
    rows being written. Measured on 160,000 tweets, primary-key (ART) indexes
    doubled the cost of writing, and they would keep every key of the store in
    memory.
    """
    parts = list(parts)
    dup = np.array([p.in_batch_duplicates for p in parts], dtype=np.int64)
    ids = list(import_ids)
    actors = _concat([_flag_profiles(p) for p in parts], ids)
    if actors is not None:
        dup += _per_part(_upsert_actors(con, actors), len(parts))
    messages = _concat([p.messages for p in parts], ids)
    if messages is not None:
        dup += _per_part(_upsert_messages(con, messages), len(parts))
        for name in ("mentions", "links", "tags", "recipients"):
            table = _concat([getattr(p, name) for p in parts], ids)
            if table is not None:
                _insert_for_fresh_messages(con, name, table)
        con.execute("DROP TABLE IF EXISTS _fresh")
    for name, key in (("ratings", "rating_id"), ("ties", "tie_id")):
        table = _concat([getattr(p, name) for p in parts], ids)
        if table is not None:
            rows = np.bincount(table.column("_part").to_numpy(), minlength=len(parts))
            dup += rows - _per_part(_insert_new(con, name, key, table), len(parts))
    quarantine = [(k, q) for k, p in enumerate(parts) for q in p.quarantine]
    if quarantine:
        now = datetime.now(UTC).replace(tzinfo=None)
        rows = [q for _, q in quarantine]
        table = pa.table({
            "quarantine_id": [r.key for r in rows],
            "path": [r.path for r in rows],
            "line": pa.array([r.line for r in rows], pa.int64()),
            "byte_offset": pa.array([r.offset for r in rows], pa.int64()),
            "reason": _clean([r.full_reason for r in rows]),
            "excerpt": _clean([r.excerpt for r in rows]),
            "severity": [r.severity for r in rows],
            "created_at": pa.array([now] * len(rows), pa.timestamp("us")),
            "_part": pa.array([k for k, _ in quarantine], pa.int64()),
            "_import": pa.array([ids[k] for k, _ in quarantine], pa.int64()),
        })
        _insert_new(con, "quarantine", "quarantine_id",
                    table.append_column("_seq", pa.array(range(len(rows)), pa.int64())))
    return [(p.primary_seen - int(d), int(d)) for p, d in zip(parts, dup, strict=True)]


def _flag_profiles(part: Tables) -> pa.Table | None:
    """The part's actors with ``is_profile``: whether the row is one of the part's profiles."""
    if part.actors is None or not part.actors.num_rows:
        return part.actors
    profiles = set(part.profiles)
    flags = [a in profiles for a in part.actors.column("actor_id").to_pylist()]
    return part.actors.append_column("is_profile", pa.array(flags, pa.bool_()))


def _concat(tables: list[pa.Table | None], import_ids: Sequence[int | None]) -> pa.Table | None:
    """One table from the parts, with ``_part`` and ``_import`` (which part and import each
    row comes from) and ``_seq``, the order rows arrived in (the first of repeated rows wins)."""
    present = [(k, t) for k, t in enumerate(tables) if t is not None and t.num_rows]
    if not present:
        return None
    # promote: a column that is all null in one part (no reply in that file) has the null type.
    table = (pa.concat_tables([t for _, t in present], promote_options="default")
             if len(present) > 1 else present[0][1])
    part = np.concatenate([np.full(t.num_rows, k, dtype=np.int64) for k, t in present])
    imports = pa.array([import_ids[k] for k in part.tolist()], pa.int64())
    return (table.append_column("_part", pa.array(part))
            .append_column("_import", imports)
            .append_column("_seq", pa.array(np.arange(table.num_rows, dtype=np.int64))))


def _per_part(rows: list[tuple[int, int]], n: int) -> np.ndarray:
    """A ``[(part, count), ...]`` query result as one count per part."""
    out = np.zeros(n, dtype=np.int64)
    for part, count in rows:
        out[int(part)] += int(count)
    return out


def _scalar(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchall()[0][0]


def _columns(data: pa.Table) -> list[str]:
    return [c for c in data.column_names if not c.startswith(("_", "is_primary", "is_profile"))]


def _insert_new(con, table: str, key: str, data: pa.Table) -> list[tuple[int, int]]:
    """Insert the rows whose key the table lacks (the first of repeated keys).

    Returns ``[(part, rows inserted), ...]``.
    """
    cols = ", ".join(_columns(data))
    con.register("_batch", data)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _new AS SELECT * FROM _batch b "
            f"WHERE b.{key} NOT IN (SELECT t.{key} FROM {table} t "
            f"                     WHERE t.{key} IN (SELECT {key} FROM _batch)) "
            f"QUALIFY row_number() OVER (PARTITION BY b.{key} ORDER BY b._seq) = 1"
        )
        con.execute(f"INSERT INTO {table} ({cols}, import_id) SELECT {cols}, _import FROM _new")
        inserted = con.execute("SELECT _part, count(*) FROM _new GROUP BY _part").fetchall()
        con.execute("DROP TABLE _new")
    finally:
        con.unregister("_batch")
    return inserted


def _merge_rows(source: str, key: str, columns: list[str], priority: str,
                special: dict[str, str]) -> str:
    """SQL merging the rows of ``source`` that share ``key``: each column takes its value from
    the row of lowest ``priority`` that has one (what :meth:`Batch.add` does in Python, across
    the parts of a write). ``_part``, ``_import`` and ``_seq`` come from the first row."""
    picks = [f"arg_min({c}, _prio) FILTER (WHERE {c} IS NOT NULL) AS {c}" for c in columns]
    picks += [f"{expr} AS {name}" for name, expr in special.items()]
    picks += [f"arg_min({c}, _prio) AS {c}" for c in ("_part", "_import", "_seq")]
    return (f"SELECT {key}, {', '.join(picks)} FROM "
            f"(SELECT *, {priority} AS _prio FROM {source}) GROUP BY {key}")


def _fill_sets(cols: list[str], table: str, stub_aware: bool) -> tuple[str, str]:
    """SET and WHERE clauses that fill the columns a stored row lacks.

    With ``stub_aware``, a stored stub takes every value of a full row instead.
    """
    sets, gains = [], []
    for c in cols:
        if stub_aware:
            sets.append(f"{c} = CASE WHEN {table}.is_stub AND NOT b.is_stub "
                        f"THEN coalesce(b.{c}, {table}.{c}) ELSE coalesce({table}.{c}, b.{c}) END")
        else:
            sets.append(f"{c} = coalesce({table}.{c}, b.{c})")
        gains.append(f"({table}.{c} IS NULL AND b.{c} IS NOT NULL)")
    if stub_aware:
        gains.append(f"({table}.is_stub AND NOT b.is_stub)")
    return ", ".join(sets), " OR ".join(gains)


def _upsert_actors(con, data: pa.Table) -> list[tuple[int, int]]:
    """Insert new actors, fill what stored ones lack.

    Returns ``[(part, profiles already described), ...]``: a profile repeated from
    an earlier part, or already stored with a description, is a duplicate.
    """
    cols = _columns(data)
    fill = [c for c in cols if c not in ("actor_id", "platform")]
    described = " OR ".join(f"{c} IS NOT NULL" for c in ("handle", "name", "description", "url", "extra"))
    con.register("_a", data)
    try:
        # One row per actor, each column from the first row that has it, profiles first.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _ab AS " + _merge_rows(
                "_a", "actor_id", [c for c in cols if c != "actor_id"],
                "(CASE WHEN is_profile THEN 0 ELSE 1 END) * 1000000000000000 + _seq",
                {"is_profile": "bool_or(is_profile)"})
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _ax AS SELECT actor_id, "
            f"({described}) AS described FROM actors WHERE actor_id IN (SELECT actor_id FROM _ab)"
        )
        # Every profile row but the first of each actor repeats one; the first repeats a stored one
        # when the store already describes that actor.
        dup = con.execute(
            "SELECT _part, count(*) FROM ("
            "  SELECT a._part FROM _a a WHERE a.is_profile AND a._seq NOT IN "
            "    (SELECT _seq FROM _ab WHERE is_profile) "
            "  UNION ALL "
            "  SELECT b._part FROM _ab b JOIN _ax x USING (actor_id) WHERE b.is_profile AND x.described"
            ") GROUP BY _part"
        ).fetchall()
        col_list = ", ".join(cols)
        con.execute(
            f"INSERT INTO actors ({col_list}, import_id) SELECT {col_list}, _import FROM _ab "
            "WHERE actor_id NOT IN (SELECT actor_id FROM _ax)"
        )
        if _scalar(con, "SELECT count(*) FROM _ax"):
            sets, gains = _fill_sets(fill, "actors", stub_aware=False)
            con.execute(f"UPDATE actors SET {sets} FROM _ab b WHERE actors.actor_id = b.actor_id "
                        f"AND ({gains})")
        con.execute("DROP TABLE _ab; DROP TABLE _ax")
    finally:
        con.unregister("_a")
    return dup


def _upsert_messages(con, data: pa.Table) -> list[tuple[int, int]]:
    """Insert new messages, complete stubs, fill what stored ones lack.

    Returns ``[(part, primary messages already stored), ...]``: a primary message
    repeated from an earlier part, or already stored (not as a stub), is a
    duplicate. Leaves the temp table ``_fresh``: the ids whose links, mentions,
    tags and recipients are new.
    """
    cols = _columns(data)
    fill = [c for c in cols if c not in ("message_id", "platform", "kind", "is_stub")]
    con.register("_m", data)
    try:
        # One row per message, each column from the first row that has it: a full one before a
        # stub, a primary before context.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _mb AS " + _merge_rows(
                "_m", "message_id", [c for c in cols if c not in ("message_id", "kind", "is_stub")],
                "((CASE WHEN is_stub THEN 2 ELSE 0 END) + (CASE WHEN is_primary THEN 0 ELSE 1 END))"
                " * 1000000000000000 + _seq",
                {"kind": "arg_min(kind, _prio)", "is_stub": "bool_and(is_stub)",
                 "is_primary": "bool_or(is_primary)"})
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _mx AS SELECT message_id, is_stub FROM messages "
            "WHERE message_id IN (SELECT message_id FROM _mb)"
        )
        dup = con.execute(
            "SELECT _part, count(*) FROM ("
            "  SELECT m._part FROM _m m WHERE m.is_primary AND m._seq NOT IN "
            "    (SELECT _seq FROM _mb WHERE is_primary) "
            "  UNION ALL "
            "  SELECT b._part FROM _mb b JOIN _mx x USING (message_id) WHERE b.is_primary AND NOT x.is_stub"
            ") GROUP BY _part"
        ).fetchall()
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _fresh AS SELECT message_id, "
            "message_id IN (SELECT message_id FROM _mx) AS stored FROM _mb WHERE message_id "
            "NOT IN (SELECT message_id FROM _mx WHERE NOT is_stub)"
        )
        col_list = ", ".join(cols)
        con.execute(
            f"INSERT INTO messages ({col_list}, import_id) SELECT {col_list}, _import FROM _mb "
            "WHERE message_id NOT IN (SELECT message_id FROM _mx)"
        )
        if _scalar(con, "SELECT count(*) FROM _mx"):
            sets, gains = _fill_sets(fill, "messages", stub_aware=True)
            con.execute(
                "UPDATE messages SET kind = CASE WHEN messages.is_stub AND NOT b.is_stub "
                f"THEN b.kind ELSE messages.kind END, {sets}, "
                "is_stub = messages.is_stub AND b.is_stub "
                f"FROM _mb b WHERE messages.message_id = b.message_id AND ({gains})"
            )
        con.execute("DROP TABLE _mb; DROP TABLE _mx")
    finally:
        con.unregister("_m")
    return dup


def _insert_for_fresh_messages(con, table: str, data: pa.Table) -> None:
    """Attach mentions, links, tags or recipients to the messages stored for the first time
    or still stubs, each row once by its natural key (:data:`CHILD_KEYS`).

    A message already stored in full already has them. A stub stays a stub across imports
    (a retweeted original known only by id), so its children may be stored already: a row
    whose key is stored, or repeated earlier in ``data``, is left out, and re-imports add
    nothing.
    """
    cols = ", ".join(_columns(data))
    key = CHILD_KEYS[table]
    keys = ", ".join(key)
    # Only a stub stored before can have children stored: new messages skip the scan of the
    # table, so an import of new records costs what it did.
    stored = ""
    if _scalar(con, "SELECT count(*) FROM _fresh WHERE stored"):
        stored = (f"ANTI JOIN (SELECT {keys} FROM {table} WHERE message_id IN "
                  f"(SELECT message_id FROM _fresh WHERE stored)) t USING ({keys}) ")
    con.register("_x", data)
    try:
        con.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM ("
            f"  SELECT * FROM _x WHERE message_id IN (SELECT message_id FROM _fresh)) x {stored}"
            f"QUALIFY row_number() OVER (PARTITION BY {', '.join('x.' + k for k in key)} "
            f"ORDER BY x._seq) = 1"
        )
    finally:
        con.unregister("_x")


def _json(value) -> str | None:
    if not value:
        return None
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        pass
    # orjson refuses integers beyond 64 bits and values nested more than 254 levels deep;
    # the standard library writes them, as deep as the readers let records nest.
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except RecursionError:
        # Deeper than Python's stack allows (a mapper nesting a record further): keep a note
        # rather than fail the whole file.
        return orjson.dumps({"_whuffie": "value nested too deeply to store"}).decode()


def _utc(values: list[datetime | None]) -> tuple[pa.Array, pa.Array]:
    """Naive UTC timestamps and the original offsets (minutes) of a list of datetimes."""
    aware = [v for v in values if v is not None and v.tzinfo is not None]
    if not aware:
        return (pa.array(values, pa.timestamp("us")),
                pa.nulls(len(values), pa.int16()))
    # Arrow converts aware datetimes to UTC itself; naive ones are taken as UTC already.
    offsets = [None if v is None or v.tzinfo is None else int(v.utcoffset().total_seconds() // 60)
               for v in values]
    stamps = pa.array(
        [v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v for v in values]
        if len(aware) < len(values) else values,
        pa.timestamp("us", tz="UTC"),
    ).cast(pa.timestamp("us"))
    return stamps, pa.array(offsets, pa.int16())


def _ts(values: list[datetime | None]) -> pa.Array:
    return _utc(values)[0]


def _clean(values: list[str | None]) -> pa.Array:
    """A string column; lone surrogates (from broken JSON escapes) become U+FFFD."""
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, UnicodeEncodeError):
        return pa.array(
            [v.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
             if isinstance(v, str) else v for v in values],
            pa.string(),
        )


def _int(values) -> pa.Array:
    """An int64 column; values that do not fit become null rather than failing the batch."""
    values = list(values)
    try:
        return pa.array(values, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError):
        pass
    out = []
    for v in values:
        if v is None or isinstance(v, bool):
            out.append(None)
            continue
        try:
            iv = int(v)
        except (TypeError, ValueError, OverflowError):
            out.append(None)
            continue
        out.append(iv if -(2**63) <= iv < 2**63 else None)
    return pa.array(out, pa.int64())


def _actors_table(actors: Iterable[Actor]) -> pa.Table:
    a = list(actors)
    return pa.table({
        "actor_id": [x.id for x in a],
        "platform": [x.platform for x in a],
        "handle": _clean([x.handle for x in a]),
        "name": _clean([x.name for x in a]),
        "url": _clean([x.url for x in a]),
        "description": _clean([x.description for x in a]),
        "created_at": _ts([x.created_at for x in a]),
        "followers": _int(x.followers for x in a),
        "following": _int(x.following for x in a),
        "posts": _int(x.posts for x in a),
        "verified": pa.array([x.verified for x in a], pa.bool_()),
        "extra": _clean([_json(x.extra) for x in a]),
    })


def _messages_table(messages: Iterable[Message], primary: set[str]) -> pa.Table:
    ms = list(messages)
    stamps, offsets = _utc([m.created_at for m in ms])
    return pa.table({
        "message_id": [m.id for m in ms],
        "platform": [m.platform for m in ms],
        "actor_id": [m.actor_id for m in ms],
        "created_at": stamps,
        "utc_offset": offsets,
        "kind": [m.kind for m in ms],
        "text": _clean([m.text for m in ms]),
        "title": _clean([m.title for m in ms]),
        "lang": _clean([m.lang for m in ms]),
        "reply_to": [m.reply_to for m in ms],
        "reshare_of": [m.reshare_of for m in ms],
        "quote_of": [m.quote_of for m in ms],
        "thread_id": [m.thread_id for m in ms],
        "url": _clean([m.url for m in ms]),
        "likes": _int(m.likes for m in ms),
        "reshares": _int(m.reshares for m in ms),
        "replies": _int(m.replies for m in ms),
        "quotes": _int(m.quotes for m in ms),
        "score": _int(m.score for m in ms),
        "views": _int(m.views for m in ms),
        "is_stub": pa.array([m.stub for m in ms], pa.bool_()),
        "extra": _clean([_json(m.extra) for m in ms]),
        "is_primary": pa.array([m.id in primary for m in ms], pa.bool_()),
    })


def _ratings_table(ratings: Iterable[Rating]) -> pa.Table:
    r = list(ratings)
    return pa.table({
        "rating_id": [x.id for x in r],
        "platform": [x.platform for x in r],
        "rater_id": [x.rater_id for x in r],
        "target_actor_id": [x.target_actor_id for x in r],
        "target_message_id": [x.target_message_id for x in r],
        "kind": [x.kind for x in r],
        "value": pa.array([x.value for x in r], pa.float64()),
        "created_at": _ts([x.created_at for x in r]),
    })


def _ties_table(ties: Iterable[Tie]) -> pa.Table:
    t = list(ties)
    return pa.table({
        "tie_id": [x.id for x in t],
        "platform": [x.platform for x in t],
        "source_id": [x.source_id for x in t],
        "target_id": [x.target_id for x in t],
        "kind": [x.kind for x in t],
        "weight": pa.array([x.weight for x in t], pa.float64()),
        "created_at": _ts([x.created_at for x in t]),
        "directed": pa.array([x.directed for x in t], pa.bool_()),
    })
