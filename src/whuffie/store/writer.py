"""Batched, idempotent writes of canonical records to the DuckDB store.

A :class:`Batch` collects the :class:`~whuffie.store.model.Records` of many
raw records, merges repeated ids (a tweet seen twice in a stream, an original
embedded in several retweets), and :meth:`Batch.flush` writes it in one
transaction through Arrow tables. Every table has a primary key and every
insert is an upsert, so writing the same records twice stores them once:

* a primary message already stored counts as a duplicate and is not changed,
  except that columns the store does not know yet are filled;
* a stub (a message known only by id and author) is completed when the full
  message arrives;
* actors referenced anywhere (an author, a mention, a recipient, a rater) are
  created if missing, so joins never dangle.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import orjson
import pyarrow as pa

from whuffie.sources.times import to_utc
from whuffie.store.model import (
    Actor,
    Link,
    Mention,
    Message,
    Rating,
    Records,
    Tie,
)

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
    >>> from whuffie.store.model import Message, Records
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
        self.in_batch_duplicates = 0
        self.primary_seen = 0

    def __len__(self) -> int:
        """Rows to write, roughly: what decides when a batch is full."""
        return len(self.messages) + len(self.ratings) + len(self.ties) + len(self.actors) // 4

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
        """Queue a quarantined record."""
        self.quarantine[row.key] = row

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
            t.links = pa.table({
                "message_id": [x.message_id for x in links],
                "url": _clean([x.url for x in links]),
                "domain": _clean([x.domain for x in links]),
                "target_actor_id": [x.target_actor_id for x in links],
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


def write_tables(con: duckdb.DuckDBPyConnection, t: Tables, import_id: int | None) -> tuple[int, int]:
    """Upsert a converted batch inside the caller's transaction; return (stored, duplicate)."""
    duplicate = t.in_batch_duplicates
    if t.actors is not None:
        duplicate += _upsert_actors(con, t.actors, t.profiles, import_id)
    if t.messages is not None:
        duplicate += _upsert_messages(con, t.messages, import_id)
    for name in ("mentions", "links", "tags", "recipients"):
        table = getattr(t, name)
        if table is not None:
            _insert(con, name, table)
    if t.ratings is not None:
        duplicate += _insert_counted(con, "ratings", "rating_id", t.ratings, import_id)
    if t.ties is not None:
        duplicate += _insert_counted(con, "ties", "tie_id", t.ties, import_id)
    if t.quarantine:
        q = t.quarantine
        now = datetime.now(UTC).replace(tzinfo=None)
        _insert(con, "quarantine", pa.table({
            "quarantine_id": [r.key for r in q],
            "import_id": pa.array([import_id] * len(q), pa.int64()),
            "path": [r.path for r in q],
            "line": pa.array([r.line for r in q], pa.int64()),
            "byte_offset": pa.array([r.offset for r in q], pa.int64()),
            "reason": _clean([r.reason for r in q]),
            "excerpt": _clean([r.excerpt for r in q]),
            "created_at": pa.array([now] * len(q), pa.timestamp("us")),
        }))
    return t.primary_seen - duplicate, duplicate


def _json(value) -> str | None:
    if not value:
        return None
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        # orjson refuses integers beyond 64 bits; the standard library writes them.
        return json.dumps(value, default=str, ensure_ascii=False)


def _ts(values: list[datetime | None]) -> pa.Array:
    return pa.array([to_utc(v)[0] for v in values], pa.timestamp("us"))


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


def _insert(con, table: str, data: pa.Table) -> None:
    con.register("_batch", data)
    try:
        cols = ", ".join(data.column_names)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _batch ON CONFLICT DO NOTHING")
    finally:
        con.unregister("_batch")


def _insert_counted(con, table: str, key: str, data: pa.Table, import_id) -> int:
    """Insert new rows (stamped with the import); return how many were already present."""
    con.register("_batch", data)
    try:
        cols = ", ".join(data.column_names)
        inserted = con.execute(
            f"INSERT INTO {table} ({cols}, import_id) SELECT {cols}, ? FROM _batch "
            f"ON CONFLICT DO NOTHING RETURNING {key}", [import_id],
        ).fetchall()
    finally:
        con.unregister("_batch")
    return data.num_rows - len(inserted)


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


def _upsert_actors(con, data: pa.Table, profiles: list[str], import_id) -> int:
    """Upsert actors; return how many profiles were already stored with a description."""
    cols = data.column_names
    sets = ", ".join(f"{c} = coalesce(actors.{c}, excluded.{c})" for c in cols[2:])
    con.register("_batch", data)
    try:
        dup = 0
        if profiles:
            con.register("_profiles", pa.table({"actor_id": profiles}))
            try:
                # A bare actor created because something referred to it is not a profile yet.
                dup = con.execute(
                    "SELECT count(*) FROM _profiles p JOIN actors a USING (actor_id) WHERE "
                    "coalesce(a.handle, a.name, a.description, a.url, CAST(a.extra AS VARCHAR)) "
                    "IS NOT NULL"
                ).fetchall()[0][0]
            finally:
                con.unregister("_profiles")
        con.execute(
            f"INSERT INTO actors ({', '.join(cols)}, import_id) SELECT *, ? FROM _batch "
            f"ON CONFLICT (actor_id) DO UPDATE SET {sets}", [import_id],
        )
    finally:
        con.unregister("_batch")
    return int(dup)


_MESSAGE_COLUMNS = (
    "message_id", "platform", "actor_id", "created_at", "utc_offset", "kind", "text", "title",
    "lang", "reply_to", "reshare_of", "quote_of", "thread_id", "url", "likes", "reshares",
    "replies", "quotes", "score", "views", "is_stub", "extra",
)


def _messages_table(messages: Iterable[Message], primary: set[str]) -> pa.Table:
    ms = list(messages)
    utc = [to_utc(m.created_at) for m in ms]
    return pa.table({
        "message_id": [m.id for m in ms],
        "platform": [m.platform for m in ms],
        "actor_id": [m.actor_id for m in ms],
        "created_at": pa.array([u[0] for u in utc], pa.timestamp("us")),
        "utc_offset": pa.array([u[1] for u in utc], pa.int16()),
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


def _upsert_messages(con, data: pa.Table, import_id) -> int:
    """Upsert messages; return how many primary messages were already stored (not as stubs)."""
    # A stored stub takes every value of a full message; otherwise only missing values are filled.
    sets = ", ".join(
        f"{c} = CASE WHEN messages.is_stub AND NOT excluded.is_stub "
        f"THEN coalesce(excluded.{c}, messages.{c}) ELSE coalesce(messages.{c}, excluded.{c}) END"
        for c in _MESSAGE_COLUMNS
        if c not in ("message_id", "platform", "kind", "is_stub")
    )
    con.register("_batch", data)
    try:
        dup = con.execute(
            "SELECT count(*) FROM _batch b JOIN messages m ON m.message_id = b.message_id "
            "WHERE b.is_primary AND NOT m.is_stub"
        ).fetchall()[0][0]
        cols = ", ".join(_MESSAGE_COLUMNS)
        con.execute(
            f"INSERT INTO messages ({cols}, import_id) SELECT {cols}, ? FROM _batch "
            "ON CONFLICT (message_id) DO UPDATE SET "
            "kind = CASE WHEN messages.is_stub AND NOT excluded.is_stub "
            "THEN excluded.kind ELSE messages.kind END, "
            f"{sets}, is_stub = messages.is_stub AND excluded.is_stub",
            [import_id],
        )
    finally:
        con.unregister("_batch")
    return int(dup)


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
