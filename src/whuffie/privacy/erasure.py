"""Erasure (``whuffie forget``) and retention (``whuffie prune``), recorded in the store.

:func:`forget` removes an actor from the store: their messages (with the mentions, links, tags and
recipients of those messages), their profile, the ratings they gave and received, their ties, the
mentions and e-mail recipients naming them, their ``@handle`` in other people's texts, the rows
of every result table naming them or their messages, the runs whose parameters name them, and
the raw excerpts of quarantined records that hold their id or handle. Replies to their messages
keep a tombstone (``platform:erased-<hex>``) in place of the message they answered, so a thread
stays a thread. The erasure is recorded (``erasures``: a fingerprint of who, and when; not what),
and every later import leaves the actor out (:class:`Exclusion`) unless it is told to let them
back (``allow_returning``).

:func:`prune` drops the messages dated before a cutoff (with their children, the ratings and ties
of that age, the quarantine entries of imports that old, and the result rows about those
messages), then the actors nothing refers to any more, and records the cutoff.

DuckDB leaves deleted rows in the file's free blocks until they are reused, so both finish by
rewriting the store file (``COPY FROM DATABASE`` into a new file that replaces the old one): what
was erased is then gone from the disk too, not only from the tables.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from whuffie.errors import WhuffieError
from whuffie.privacy import keyed, store_secret
from whuffie.privacy.pseudonyms import MENTION, WORD, inside
from whuffie.store.writer import QuarantineRow
from whuffie.version import __version__

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from whuffie.store.store import Store
    from whuffie.store.writer import Tables


@dataclass
class Erasure:
    """What an erasure or a prune removed.

    Attributes
    ----------
    erasure_id : int
        Its row in the store's ``erasures`` table.
    kind : str
        ``actor`` or ``prune``.
    actors : list of str
        The actor ids erased (``forget``), or the actors left without any row (``prune``).
    removed : dict of str to int
        Rows removed per table, and rows changed per ``table.column`` (texts masked, excerpts
        dropped, references replaced by tombstones).
    rewritten : bool
        Whether the store file was rewritten (not for an in-memory store).
    """

    erasure_id: int
    kind: str
    actors: list[str] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)
    rewritten: bool = False
    cutoff: datetime | None = None

    @property
    def total(self) -> int:
        """Rows removed or changed, all tables together."""
        return sum(self.removed.values())


# -- fingerprints -------------------------------------------------------------------------------


def actor_fingerprint(secret: bytes, actor_id: str) -> str:
    """What the store keeps of an erased actor id.

    Examples
    --------
    >>> actor_fingerprint(b"s", "x:1") == actor_fingerprint(b"s", "x:1") != actor_fingerprint(b"t", "x:1")
    True
    """
    return keyed(secret, "erasure", actor_id)


def message_fingerprint(secret: bytes, message_id: str) -> str:
    """What the store keeps of the id of an erased actor's message."""
    return keyed(secret, "erasure-message", message_id)


def tombstone(secret: bytes, message_id: str) -> str:
    """What replies to an erased message point at instead: ``platform:erased-<hex>``.

    Examples
    --------
    >>> tombstone(b"s", "reddit:t1_abc").startswith("reddit:erased-")
    True
    """
    return f"{message_id.split(':', 1)[0]}:erased-{keyed(secret, 'tombstone', message_id)[:16]}"


def handle_fingerprint(secret: bytes, platform: str, handle: str) -> str:
    """What the store keeps of an erased handle: its platform and its local part, any case.

    Examples
    --------
    >>> same = handle_fingerprint(b"s", "mastodon", "ann")
    >>> handle_fingerprint(b"s", "mastodon", "@Ann@example.social") == same
    True
    """
    local = handle.lstrip("@").split("@", 1)[0].lower()
    return keyed(secret, "erasure-handle", f"{platform}:{local}")


ERASED = "[erased]"


@dataclass(slots=True)
class ErasedNote(QuarantineRow):
    """The note of an import that left records of erased actors out."""

    severity = "note"


class Exclusion:
    """The erased actors, as an import sees them: it leaves out their records.

    Examples
    --------
    >>> from whuffie.store.writer import Batch
    >>> from whuffie.model import Message, Records
    >>> ex = Exclusion(b"s", {actor_fingerprint(b"s", "x:bob")}, {handle_fingerprint(b"s", "x", "bob")})
    >>> b = Batch()
    >>> b.add(Records(messages=[Message("x:1", "x", "x:bob", None, text="mine"),
    ...                         Message("x:2", "x", "x:ann", None, text="hi @bob, bob!")]))
    >>> t = ex.apply(b.tables())
    >>> t.messages.column("text").to_pylist(), t.primary_seen
    (['hi @[erased], [erased]!'], 1)
    """

    def __init__(self, secret: bytes, actors: set[str], handles: set[str],
                 messages: set[str] | None = None) -> None:
        from whuffie.privacy.pseudonyms import common_words

        self.secret, self.actors, self.handles = secret, actors, handles
        self.messages = messages or set()
        self._seen: dict[str, bool] = {}
        self._gone: dict[str, bool] = {}
        self._handles: dict[tuple[str, str], bool] = {}
        self._common = common_words()

    def erased(self, actor_id: str | None) -> bool:
        """Whether ``actor_id`` was erased."""
        if actor_id is None:
            return False
        found = self._seen.get(actor_id)
        if found is None:
            found = self._seen[actor_id] = actor_fingerprint(self.secret, actor_id) in self.actors
        return found

    def gone(self, message_id: str | None) -> bool:
        """Whether ``message_id`` is a message of an erased actor."""
        if message_id is None or not self.messages:
            return False
        found = self._gone.get(message_id)
        if found is None:
            found = self._gone[message_id] = message_fingerprint(self.secret, message_id) in self.messages
        return found

    def _erased_handle(self, platform: str, name: str) -> bool:
        key = (platform, name.lower())
        found = self._handles.get(key)
        if found is None:
            found = self._handles[key] = handle_fingerprint(self.secret, platform, name) in self.handles
        return found

    def _mask(self, platform: str, text: str | None) -> str | None:
        if not text or not self.handles:
            return text

        def mention(m: re.Match) -> str:
            name = m[1] if m[1] is not None else m[4]
            if not self._erased_handle(platform, name):
                return m[0]
            return "@" + ERASED if m[1] is not None else m[3] + ERASED

        def word(m: re.Match) -> str:
            w = m[0]
            if (len(w) < 3 or w.lower() in self._common or inside(m.string, m.start(), m.end())
                    or not self._erased_handle(platform, w)):
                return w
            return ERASED

        if "@" in text or "u/" in text:
            text = MENTION.sub(mention, text)
        return WORD.sub(word, text)

    def _keep(self, table: pa.Table | None, *columns: str) -> pa.Table | None:
        if table is None:
            return None
        keep = [not any(self.erased(v) for v in values)
                for values in zip(*(table.column(c).to_pylist() for c in columns), strict=True)]
        return table.filter(pa.array(keep, pa.bool_())) if not all(keep) else table

    def apply(self, t: Tables, path: str = "") -> Tables:
        """The batch (of file ``path``) without the erased actors' records; their handles masked
        in texts."""
        from dataclasses import replace

        out = replace(t, profiles=[a for a in t.profiles if not self.erased(a)])
        left_out = len(t.profiles) - len(out.profiles)
        dropped: set[str] = set()
        if t.messages is not None:
            m = t.messages
            gone = [self.erased(a) or self.gone(i) for a, i in zip(
                m.column("actor_id").to_pylist(), m.column("message_id").to_pylist(), strict=True)]
            if any(gone):
                mask = pa.array(gone, pa.bool_())
                dropped = set(m.filter(mask).column("message_id").to_pylist())
                left_out += pc.sum(m.filter(mask).column("is_primary").cast(pa.int64())).as_py() or 0
                m = m.filter(pc.invert(mask))
            if self.messages:
                for name in ("reply_to", "reshare_of", "quote_of", "thread_id"):
                    i = m.schema.get_field_index(name)
                    m = _set(m, i, [tombstone(self.secret, v) if self.gone(v) else v
                                    for v in m.column(i).to_pylist()])
            platforms = m.column("platform").to_pylist()
            for name in ("text", "title"):
                i = m.schema.get_field_index(name)
                values = [self._mask(p, v) for p, v in zip(platforms, m.column(i).to_pylist(), strict=True)]
                m = _set(m, i, values)
            out.messages = m
        for name in ("mentions", "links", "tags", "recipients"):
            table = getattr(t, name)
            if table is not None and dropped:
                keep = pc.invert(pc.is_in(table.column("message_id"), pa.array(sorted(dropped), pa.string())))
                table = table.filter(keep)
            setattr(out, name, table)
        out.mentions = self._keep(out.mentions, "actor_id")
        out.recipients = self._keep(out.recipients, "actor_id")
        out.links = self._keep(out.links, "target_actor_id")
        out.actors = self._keep(t.actors, "actor_id")
        if t.actors is not None and out.actors is not None:
            platforms = out.actors.column("platform").to_pylist()
            i = out.actors.schema.get_field_index("description")
            values = [self._mask(p, v)
                      for p, v in zip(platforms, out.actors.column(i).to_pylist(), strict=True)]
            out.actors = _set(out.actors, i, values)
        out.ratings = self._keep(t.ratings, "rater_id", "target_actor_id")
        if out.ratings is not None and (dropped or self.messages):
            targets = out.ratings.column("target_message_id").to_pylist()
            keep = [not (v in dropped or self.gone(v)) for v in targets]
            out.ratings = out.ratings.filter(pa.array(keep, pa.bool_()))
        out.ties = self._keep(t.ties, "source_id", "target_id")
        for name in ("ratings", "ties"):
            before, after = getattr(t, name), getattr(out, name)
            if before is not None:
                left_out += before.num_rows - after.num_rows
        if left_out:
            # Neither stored nor duplicates: the import's counts leave them out, and a note says so.
            out.primary_seen = t.primary_seen - left_out
            out.quarantine = [*t.quarantine, ErasedNote(
                path, None, None, f"{left_out:,} records of erased actors left out (whuffie forget; "
                "--allow-returning lets them back)", "")]
        return out


def _set(table: pa.Table, i: int, values: list) -> pa.Table:
    field = table.schema.field(i)
    return table.set_column(i, field, pa.array(values, field.type))


def exclusion(store: Store) -> Exclusion | None:
    """The store's erased actors, or ``None`` when there are none (or the import lets them back:
    ``store.allow_returning``)."""
    if getattr(store, "allow_returning", False):
        return None
    rows = store.con.execute("SELECT subject, handle, messages FROM erasures WHERE kind = 'actor'").fetchall()
    if not rows:
        return None
    cached = getattr(store, "_exclusion", None)
    if cached is not None and cached[0] == len(rows):
        return cached[1]
    found = Exclusion(store_secret(store.con), {r[0] for r in rows if r[0]}, {r[1] for r in rows if r[1]},
                      {m for r in rows for m in (r[2] or ())})
    store._exclusion = (len(rows), found)
    return found


# -- forget -------------------------------------------------------------------------------------


class _Removed(dict):
    """Rows removed or changed per table (or ``table.column``), counted as the statements run."""

    def __init__(self, con) -> None:
        super().__init__()
        self.con = con

    def __call__(self, table: str, sql: str, params: Sequence[Any] = ()) -> None:
        n = self.con.execute(sql, list(params)).fetchall()[0][0]
        if n:
            self[table] = self.get(table, 0) + int(n)


def _drop_children(run: _Removed) -> None:
    """The mentions, links, tags and recipients of the messages in ``_erased_messages`` go."""
    for child in ("mentions", "links", "tags", "recipients"):
        run(child, f"DELETE FROM {child} WHERE message_id IN (SELECT id FROM _erased_messages)")


def resolve(store: Store, names: Iterable[str], key: bytes | str | os.PathLike | None = None) -> list[str]:
    """The actor ids that ``names`` (ids or handles) stand for; with ``key``, of a pseudonymised
    store, the names are the real ones and are pseudonymised first.

    Raises
    ------
    WhuffieError
        A name the store does not know, with the closest handles.
    """
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise WhuffieError("name at least one actor (an id such as twitter:12, or a handle)")
    p = None
    if key is not None:
        from whuffie.privacy.pseudonyms import load_key, pseudonymiser

        p = pseudonymiser(key if isinstance(key, bytes) else load_key(key, create=False))
        if store.pseudonymised and store._meta("pseudonymised") != p.fingerprint:
            raise WhuffieError(f"this key is not the one {store.path} was pseudonymised with")
    platforms = [r[0] for r in store.con.execute(
        "SELECT DISTINCT platform FROM actors ORDER BY 1").fetchall()]
    found: list[str] = []
    unknown: list[str] = []
    for name in names:
        candidates = [name]
        if p is not None:
            candidates = [p.actor(name)] if ":" in name else []
            candidates += [p.handle(platform, name) for platform in platforms]
        ids: list[str] = []
        for c in candidates:
            ids = store.engine.actor_ids(c)
            if ids:
                break
        if ids:
            found += [i for i in ids if i not in found]
        elif ":" in name and not name.startswith("@"):
            # Not in the store (yet): the erasure is recorded so that an import leaves them out.
            found.append(p.actor(name) if p is not None else name)
        else:
            unknown.append(name)
    if unknown:
        close = store.engine.similar_handles(unknown[0], 3) if p is None else []
        hint = f"; close handles: {', '.join(close)}" if close else ""
        raise WhuffieError(f"no actor {', '.join(repr(u) for u in unknown)} in {store.path}{hint} "
                           "(name an id such as twitter:12 to record an erasure before its import)")
    return found


def forget(store: Store, names: Sequence[str], *, key: bytes | str | os.PathLike | None = None,
           rewrite: bool = True) -> Erasure:
    """Erase actors from the store and record it, so that a later import leaves them out.

    Parameters
    ----------
    store : Store
        An open, writable store.
    names : sequence of str
        Actor ids or handles. An id the store does not hold yet is recorded all the same.
    key : bytes or path, optional
        For a pseudonymised store: the key, so that ``names`` can be the real ids or handles.
    rewrite : bool
        Rewrite the store file afterwards, so the erased rows leave the disk too (see the module
        documentation). Only tests have a reason to say no.

    Returns
    -------
    Erasure
        The rows removed per table.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Actor, Message, Records
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(messages=[Message("x:1", "x", "x:bob", None, text="mine"),
    ...                                     Message("x:2", "x", "x:ann", None, text="hi @bob")],
    ...                           actors=[Actor("x:bob", "x", handle="bob")]))
    ...     done = forget(store, ["bob"])
    ...     store.sql("SELECT message_id, text FROM messages")
    [{'message_id': 'x:2', 'text': 'hi @[erased]'}]
    >>> done.actors, done.removed["messages"]
    (['x:bob'], 1)
    """
    if store.read_only:
        raise WhuffieError(f"{store.path} is open read-only; cannot erase from it")
    actors = resolve(store, names, key)
    con = store.con
    secret = store_secret(con)
    profiles = con.execute("SELECT actor_id, platform, handle, name FROM actors "
                           "WHERE actor_id IN (SELECT unnest(?))", [actors]).fetchall()
    handles = [(a, p, h) for a, p, h, _ in profiles if h is not None]
    removed = run = _Removed(con)

    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _erased_actors AS SELECT unnest(?::VARCHAR[]) AS id",
                    [actors])
        con.execute("CREATE OR REPLACE TEMP TABLE _erased_messages AS SELECT message_id AS id, platform "
                    "FROM messages WHERE actor_id IN (SELECT id FROM _erased_actors)")
        m, a = "(SELECT id FROM _erased_messages)", "(SELECT id FROM _erased_actors)"
        _drop_children(run)
        run("mentions", f"DELETE FROM mentions WHERE actor_id IN {a}")
        run("recipients", f"DELETE FROM recipients WHERE actor_id IN {a}")
        run("ratings", f"DELETE FROM ratings WHERE rater_id IN {a} OR target_actor_id IN {a} "
                       f"OR target_message_id IN {m}")
        run("ties", f"DELETE FROM ties WHERE source_id IN {a} OR target_id IN {a}")
        run("links", f"DELETE FROM links WHERE target_actor_id IN {a}")
        written = dict(con.execute("SELECT actor_id, list(message_id) FROM messages "
                                   "WHERE actor_id IN (SELECT id FROM _erased_actors) GROUP BY 1").fetchall())
        _tombstones(con, secret, run)
        run("messages", f"DELETE FROM messages WHERE message_id IN {m}")
        run("actors", f"DELETE FROM actors WHERE actor_id IN {a}")
        _forget_results(con, actors, [h for _, _, h in handles], run)
        for _, platform, handle, name in profiles:
            if platform != "web":  # sites are publications (see whuffie.privacy.pseudonyms)
                _mask_actor(con, handle, name, run)
        _forget_quarantine(con, actors, [h for _, _, h in handles], run)
        erasure_id = con.execute("SELECT coalesce(max(erasure_id), 0) FROM erasures").fetchall()[0][0]
        now = datetime.now(UTC).replace(tzinfo=None)
        by_actor = {a: None for a in actors}
        by_actor.update({a: (p, h) for a, p, h in handles})
        for k, (actor, handle) in enumerate(by_actor.items(), 1):
            con.execute(
                "INSERT INTO erasures VALUES (?, 'actor', ?, ?, ?, NULL, ?, ?, ?)",
                [erasure_id + k, actor_fingerprint(secret, actor),
                 handle_fingerprint(secret, *handle) if handle else None,
                 sorted(message_fingerprint(secret, i) for i in written.get(actor, ())), now,
                 sum(removed.values()) if k == len(by_actor) else 0, __version__])
        con.execute("DROP TABLE _erased_actors")
        con.execute("DROP TABLE _erased_messages")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    store._exclusion = None
    done = Erasure(int(erasure_id) + len(actors), "actor", actors, dict(removed))
    done.rewritten = _rewrite(store) if rewrite else False
    return done


def _tombstones(con, secret: bytes, run) -> None:
    """Replies, reshares, quotes and threads pointing at an erased message point at a tombstone."""
    rows = con.execute("SELECT id FROM _erased_messages").fetchall()
    if not rows:
        return
    con.register("_tombs", pa.table({
        "id": [r[0] for r in rows], "tomb": [tombstone(secret, r[0]) for r in rows]}))
    try:
        for column in ("reply_to", "reshare_of", "quote_of", "thread_id"):
            run(f"messages.{column}", f"UPDATE messages SET {column} = t.tomb FROM _tombs t "
                            f"WHERE messages.{column} = t.id AND messages.message_id NOT IN "
                            f"(SELECT id FROM _erased_messages)")
    finally:
        con.unregister("_tombs")


def _patterns(handle: str | None, name: str | None) -> list[str]:
    """RE2 patterns of an actor in a text, any case: ``@handle`` (``@handle@instance``, ``u/handle``);
    the handle as a plain word and the display name, unless they are common words (which
    texts use for themselves; see :class:`whuffie.privacy.pseudonyms.Known`)."""
    from whuffie.privacy.pseudonyms import common_words

    common = common_words()
    found = []

    def end(text: str) -> str:
        # A word boundary after a name that ends with a letter or digit ("ann" not in "anne").
        return r"\b" if text[-1:].isalnum() or text.endswith("_") else ""

    if handle and handle.lstrip("@"):
        bare = handle.lstrip("@").split("@", 1)[0]
        local = re.escape(bare)
        # Groups: what comes before (kept), the prefix (kept), the handle (replaced).
        found.append(rf"(?i)(^|[^@])(@){local}(@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+)?{end(bare)}")
        found.append(rf"(?i)(^|[^\w@/])(/?u/){local}{end(bare)}")
        if len(bare) >= 3 and bare.lower() not in common:
            found.append(rf"(?i)(^|[^\w@/.\-#])(){local}{end(bare)}")
    if name and name.strip():
        words = name.split()
        if len(words) > 1 or (len(name.strip()) >= 4 and name.strip().lower() not in common):
            joined = " ".join(words)
            found.append(rf"(?i)(^|[^\w@])(){re.escape(joined)}{end(joined)}")
    return found


def _mask(con, table: str, column: str, patterns: list[str], run) -> None:
    """Replace the actor's mentions in ``table.column`` by ``[erased]``."""
    for pattern in patterns:
        run(f"{table}.{column}",
            f"UPDATE {table} SET {column} = regexp_replace({column}, ?, '\\1\\2{ERASED}', 'g') "
            f"WHERE regexp_matches({column}, ?)", [pattern, pattern])


def _mask_actor(con, handle: str | None, name: str | None, run) -> None:
    """The actor's handle and name leave every text of the store (messages, profiles, results),
    and the links to their pages go."""
    patterns = _patterns(handle, name)
    if not patterns:
        return
    for table, column in (("messages", "text"), ("messages", "title"), ("actors", "description")):
        _mask(con, table, column, patterns, run)
    for table in _result_tables(con):
        for (column,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND "
                                     "data_type = 'VARCHAR'", [table]).fetchall():
            _mask(con, table, column, patterns, run)
    if handle and len(handle) >= 3:
        local = handle.lstrip("@").split("@", 1)[0]
        run("links", "DELETE FROM links WHERE regexp_matches(url, ?)",
            [rf"(?i)/(@|u/|user/|users/(\d+/)?)?{re.escape(local)}([/?#]|$)"])


def _forget_quarantine(con, actors: list[str], handles: list[str], run) -> None:
    """Raw excerpts holding an erased id, native id or handle are dropped (the row stays)."""
    needles = sorted({x.lower() for x in [*actors, *(a.split(":", 1)[-1] for a in actors), *handles]
                      if len(x) >= 3})
    if needles:
        run("quarantine.excerpt", "UPDATE quarantine SET excerpt = NULL WHERE excerpt IS NOT NULL AND "
                          "list_bool_or([contains(lower(excerpt), n) FOR n IN ?::VARCHAR[]])", [needles])


def _result_tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'result\\_%' ESCAPE '\\' "
        "ORDER BY 1").fetchall()]


def _forget_results(con, actors: list[str], handles: list[str], run) -> None:
    """Rows of the result tables naming the actors or their messages go; lists lose them; runs
    whose parameters name them go with all their rows."""
    names = [*actors, *handles]
    quoted = [f'"{n}"' for n in names]
    runs = [r[0] for r in con.execute(
        "SELECT run_id FROM runs WHERE list_bool_or([contains(coalesce(params, '') || coalesce(inputs, '') "
        "|| coalesce(summary, ''), q) FOR q IN ?::VARCHAR[]])", [quoted]).fetchall()]
    for table in _result_tables(con):
        columns = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?",
                              [table]).fetchall()
        if runs:
            run(table, f"DELETE FROM {table} WHERE run_id IN (SELECT unnest(?))", [runs])
        text = [c for c, t in columns if t == "VARCHAR"]
        lists = [c for c, t in columns if t == "VARCHAR[]"]
        # Ids are distinctive in any column; a handle only where a column holds handles or names (a
        # handle may be a word: "news" is also a term of the buzz tables).
        named = [c for c in text if "handle" in c or "name" in c]
        if text:
            hit = " OR ".join([f"{c} IN (SELECT id FROM _erased_actors) OR {c} IN (SELECT id FROM "
                               f"_erased_messages)" for c in text]
                              + [f"{c} IN (SELECT unnest(?::VARCHAR[]))" for c in named])
            run(table, f"DELETE FROM {table} WHERE {hit}", [handles] * len(named))
        for c in lists:
            run(f"{table}.{c}",
                f"UPDATE {table} SET {c} = [x FOR x IN {c} IF NOT list_contains(?::VARCHAR[], x)] "
                f"WHERE list_has_any({c}, ?::VARCHAR[])", [names, names])
    if runs:
        run("runs", "DELETE FROM runs WHERE run_id IN (SELECT unnest(?))", [runs])


# -- retention ----------------------------------------------------------------------------------

_AGE = re.compile(r"^\s*(\d+)\s*(d|w|m|y)\s*$", re.IGNORECASE)


def parse_age(text: str) -> timedelta:
    """An age such as ``90d``, ``12w``, ``18m`` (months of 30.44 days) or ``2y``.

    Examples
    --------
    >>> parse_age("18m").days, parse_age("2y").days, parse_age("10d").days
    (547, 730, 10)
    """
    found = _AGE.match(text or "")
    if not found:
        raise WhuffieError(f"cannot read age {text!r}: write a number and a unit, d (days), w (weeks), "
                           "m (months) or y (years), e.g. 18m")
    n, unit = int(found[1]), found[2].lower()
    days = {"d": 1.0, "w": 7.0, "m": 30.436875, "y": 365.2425}[unit] * n
    return timedelta(days=int(days))


def prune(store: Store, older_than: str | timedelta, *, now: datetime | None = None,
          rewrite: bool = True) -> Erasure:
    """Drop what is older than a retention limit, and record the cutoff.

    Parameters
    ----------
    store : Store
        An open, writable store.
    older_than : str or timedelta
        The limit: ``18m``, ``2y``, ``90d``...
    now : datetime, optional
        The moment the limit counts back from (UTC; now by default).
    rewrite : bool
        Rewrite the store file afterwards (see the module documentation).

    Returns
    -------
    Erasure
        ``removed`` per table, ``cutoff`` and the actors whose last rows went (removed too).

    Examples
    --------
    >>> import whuffie
    >>> from datetime import datetime
    >>> from whuffie.model import Message, Records
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(messages=[Message("x:1", "x", "x:a", datetime(2020, 1, 1), text="old"),
    ...                                     Message("x:2", "x", "x:b", datetime(2026, 1, 1), text="new")]))
    ...     done = prune(store, "18m", now=datetime(2026, 6, 1))
    ...     store.sql("SELECT message_id FROM messages"), done.removed["messages"], done.actors
    ([{'message_id': 'x:2'}], 1, ['x:a'])
    """
    if store.read_only:
        raise WhuffieError(f"{store.path} is open read-only; cannot prune it")
    age = parse_age(older_than) if isinstance(older_than, str) else older_than
    cutoff = (now or datetime.now(UTC)).replace(tzinfo=None) - age
    con = store.con
    removed = run = _Removed(con)

    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _erased_messages AS SELECT message_id AS id, platform "
                    "FROM messages WHERE created_at < ?", [cutoff])
        m = "(SELECT id FROM _erased_messages)"
        # The actors whose rows go: those left with none are removed afterwards.
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _touched AS
            SELECT actor_id AS id FROM messages WHERE message_id IN {m}
            UNION SELECT actor_id FROM mentions WHERE message_id IN {m}
            UNION SELECT actor_id FROM recipients WHERE message_id IN {m}
            UNION SELECT target_actor_id FROM links WHERE message_id IN {m}
            UNION SELECT unnest([rater_id, target_actor_id]) FROM ratings
             WHERE created_at < ? OR target_message_id IN {m}
            UNION SELECT unnest([source_id, target_id]) FROM ties WHERE created_at < ?""", [cutoff, cutoff])
        _drop_children(run)
        run("ratings", f"DELETE FROM ratings WHERE created_at < ? OR target_message_id IN {m}", [cutoff])
        run("ties", "DELETE FROM ties WHERE created_at < ?", [cutoff])
        run("quarantine", "DELETE FROM quarantine WHERE created_at < ?", [cutoff])
        for table in _result_tables(con):
            text = [r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND data_type = 'VARCHAR'",
                [table]).fetchall()]
            if text:
                run(table, f"DELETE FROM {table} WHERE " + " OR ".join(f"{c} IN {m}" for c in text))
        run("messages", f"DELETE FROM messages WHERE message_id IN {m}")
        orphans = [r[0] for r in con.execute("""
            SELECT actor_id FROM actors a WHERE actor_id IN (SELECT id FROM _touched)
               AND NOT EXISTS (SELECT 1 FROM messages WHERE actor_id = a.actor_id)
               AND NOT EXISTS (SELECT 1 FROM mentions WHERE actor_id = a.actor_id)
               AND NOT EXISTS (SELECT 1 FROM recipients WHERE actor_id = a.actor_id)
               AND NOT EXISTS (SELECT 1 FROM ratings
                                WHERE rater_id = a.actor_id OR target_actor_id = a.actor_id)
               AND NOT EXISTS (SELECT 1 FROM ties WHERE source_id = a.actor_id OR target_id = a.actor_id)
               AND NOT EXISTS (SELECT 1 FROM links WHERE target_actor_id = a.actor_id)
             ORDER BY 1""").fetchall()]
        run("actors", "DELETE FROM actors WHERE actor_id IN (SELECT unnest(?::VARCHAR[]))", [orphans])
        erasure_id = con.execute("SELECT coalesce(max(erasure_id), 0) + 1 FROM erasures").fetchall()[0][0]
        con.execute("INSERT INTO erasures VALUES (?, 'prune', NULL, NULL, NULL, ?, ?, ?, ?)",
                    [erasure_id, cutoff, datetime.now(UTC).replace(tzinfo=None), sum(removed.values()),
                     __version__])
        con.execute("DROP TABLE _erased_messages")
        con.execute("DROP TABLE _touched")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    done = Erasure(int(erasure_id), "prune", orphans, dict(removed), cutoff=cutoff)
    done.rewritten = _rewrite(store) if rewrite and sum(removed.values()) else False
    return done


# -- the file -----------------------------------------------------------------------------------


def _rewrite(store: Store) -> bool:
    """Copy the store into a new file and put it in the old one's place (see the module
    documentation); ``False`` for an in-memory store."""
    from whuffie.store.store import STORAGE_VERSION

    path = Path(store.path)
    if str(path) == ":memory:":
        return False
    fresh = path.with_name(path.name + ".rewrite")
    with contextlib.suppress(FileNotFoundError):
        fresh.unlink()
    con = store.con
    current = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute(f"ATTACH '{_sql_text(str(fresh))}' AS _whuffie_fresh (STORAGE_VERSION '{STORAGE_VERSION}')")
    try:
        con.execute(f'COPY FROM DATABASE "{current}" TO _whuffie_fresh')
        con.execute("CHECKPOINT _whuffie_fresh")
    finally:
        con.execute("DETACH _whuffie_fresh")
    store.con.close()
    os.replace(fresh, path)
    with contextlib.suppress(FileNotFoundError):
        Path(str(path) + ".wal").unlink()
    store.con = store._connect(str(path), False)
    store._engine = None
    return True


def _sql_text(text: str) -> str:
    return text.replace("'", "''")
