"""The store's schema: canonical tables, the ``interactions`` view, and migrations.

Keys (``actor_id``, ``message_id``, ...) are unique by construction: the writer
inserts a row only when its key is absent (see :mod:`whuffie.store.writer`).
They are not declared as primary keys, because DuckDB's key indexes doubled the
cost of every import and would keep every key of the store in memory.

The schema version lives in the ``meta`` table. :data:`MIGRATIONS` lists, for
each version, the steps that bring a store from the previous version to it: SQL
statements, or Python functions of the connection where SQL cannot do the work
(normalising the links' addresses). Opening an older store applies the missing
steps in one transaction, and opening a store written by a newer Whuffie is
refused rather than damaged.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import duckdb
import pyarrow as pa

from whuffie.model import VOTE_KINDS
from whuffie.store.catalog import describe_tables
from whuffie.urls import normalize_many

#: A migration step: a SQL statement, or a function of the connection.
Step = str | Callable[[duckdb.DuckDBPyConnection], None]

_VOTE_KINDS_SQL = ", ".join(f"'{k}'" for k in VOTE_KINDS)

TABLES_V1 = [
    """
    CREATE TABLE meta (
        key VARCHAR PRIMARY KEY,
        value VARCHAR
    )""",
    """
    CREATE TABLE imports (
        import_id BIGINT PRIMARY KEY,
        path VARCHAR NOT NULL,
        sha256 VARCHAR,
        size BIGINT,
        format VARCHAR NOT NULL,
        options JSON,
        status VARCHAR NOT NULL,          -- running, complete, failed, interrupted
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        duration_s DOUBLE,
        read BIGINT NOT NULL DEFAULT 0,
        stored BIGINT NOT NULL DEFAULT 0,
        duplicate BIGINT NOT NULL DEFAULT 0,
        quarantined BIGINT NOT NULL DEFAULT 0,
        error VARCHAR,
        version VARCHAR
    )""",
    """
    CREATE TABLE actors (
        actor_id VARCHAR NOT NULL,
        platform VARCHAR NOT NULL,
        handle VARCHAR,
        name VARCHAR,
        url VARCHAR,
        description VARCHAR,
        created_at TIMESTAMP,
        followers BIGINT,
        following BIGINT,
        posts BIGINT,
        verified BOOLEAN,
        extra JSON,
        import_id BIGINT
    )""",
    """
    CREATE TABLE messages (
        message_id VARCHAR NOT NULL,
        platform VARCHAR NOT NULL,
        actor_id VARCHAR,
        created_at TIMESTAMP,             -- UTC
        utc_offset SMALLINT,              -- the source's offset in minutes, when it gave one
        kind VARCHAR NOT NULL,
        text VARCHAR,
        title VARCHAR,
        lang VARCHAR,
        reply_to VARCHAR,
        reshare_of VARCHAR,
        quote_of VARCHAR,
        thread_id VARCHAR,
        url VARCHAR,
        likes BIGINT,
        reshares BIGINT,
        replies BIGINT,
        quotes BIGINT,
        score BIGINT,
        views BIGINT,
        is_stub BOOLEAN NOT NULL,         -- known only by id and author
        extra JSON,
        import_id BIGINT
    )""",
    """
    CREATE TABLE mentions (
        message_id VARCHAR NOT NULL,
        actor_id VARCHAR NOT NULL,
        handle VARCHAR
    )""",
    """
    CREATE TABLE links (
        message_id VARCHAR NOT NULL,
        url VARCHAR NOT NULL,
        domain VARCHAR,
        target_actor_id VARCHAR
    )""",
    """
    CREATE TABLE tags (
        message_id VARCHAR NOT NULL,
        tag VARCHAR NOT NULL
    )""",
    """
    CREATE TABLE recipients (
        message_id VARCHAR NOT NULL,
        actor_id VARCHAR NOT NULL,
        role VARCHAR NOT NULL
    )""",
    """
    CREATE TABLE ratings (
        rating_id VARCHAR NOT NULL,
        platform VARCHAR NOT NULL,
        rater_id VARCHAR,
        target_actor_id VARCHAR,
        target_message_id VARCHAR,
        kind VARCHAR NOT NULL,
        value DOUBLE,
        created_at TIMESTAMP,
        import_id BIGINT
    )""",
    """
    CREATE TABLE ties (
        tie_id VARCHAR NOT NULL,
        platform VARCHAR NOT NULL,
        source_id VARCHAR NOT NULL,
        target_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        weight DOUBLE NOT NULL,
        created_at TIMESTAMP,
        directed BOOLEAN NOT NULL,
        import_id BIGINT
    )""",
    """
    CREATE TABLE quarantine (
        quarantine_id VARCHAR NOT NULL,      -- hash of where and why: re-imports add nothing
        import_id BIGINT,
        path VARCHAR,
        line BIGINT,
        byte_offset BIGINT,
        reason VARCHAR NOT NULL,
        excerpt VARCHAR,
        created_at TIMESTAMP
    )""",
]

# One row per act of attention, pointing from the one who pays attention to
# the one who receives it. ``message_id`` is the message behind the edge (the
# reply, the reshare, the email; for a vote, the message voted on);
# ``record_id`` is the row it came from (a message, rating or tie id), so every
# edge can be explained.
INTERACTIONS_VIEW = f"""
CREATE OR REPLACE VIEW interactions AS
SELECT m.actor_id AS source, p.actor_id AS target, 'reply' AS kind, m.message_id,
       m.created_at, m.platform, 1.0 AS weight, CAST(NULL AS DOUBLE) AS value,
       m.message_id AS record_id
  FROM messages m JOIN messages p ON p.message_id = m.reply_to
 WHERE NOT m.is_stub AND m.actor_id IS NOT NULL AND p.actor_id IS NOT NULL
UNION ALL
SELECT m.actor_id, p.actor_id, 'reshare', m.message_id, m.created_at, m.platform, 1.0, NULL,
       m.message_id
  FROM messages m JOIN messages p ON p.message_id = m.reshare_of
 WHERE NOT m.is_stub AND m.actor_id IS NOT NULL AND p.actor_id IS NOT NULL
UNION ALL
SELECT m.actor_id, p.actor_id, 'quote', m.message_id, m.created_at, m.platform, 1.0, NULL,
       m.message_id
  FROM messages m JOIN messages p ON p.message_id = m.quote_of
 WHERE NOT m.is_stub AND m.actor_id IS NOT NULL AND p.actor_id IS NOT NULL
UNION ALL
SELECT m.actor_id, x.actor_id, 'mention', m.message_id, m.created_at, m.platform, 1.0, NULL,
       m.message_id
  FROM mentions x JOIN messages m ON m.message_id = x.message_id
 WHERE m.actor_id IS NOT NULL
UNION ALL
SELECT m.actor_id, l.target_actor_id, 'link', m.message_id, m.created_at, m.platform, 1.0, NULL,
       m.message_id
  FROM links l JOIN messages m ON m.message_id = l.message_id
 WHERE m.actor_id IS NOT NULL AND l.target_actor_id IS NOT NULL
UNION ALL
SELECT m.actor_id, r.actor_id, 'email', m.message_id, m.created_at, m.platform, 1.0, NULL,
       m.message_id
  FROM recipients r JOIN messages m ON m.message_id = r.message_id
 WHERE m.actor_id IS NOT NULL
UNION ALL
SELECT r.rater_id, coalesce(r.target_actor_id, t.actor_id),
       CASE WHEN r.kind IN ({_VOTE_KINDS_SQL}) THEN 'vote' ELSE 'rating' END,
       r.target_message_id, r.created_at, r.platform, 1.0, r.value, r.rating_id
  FROM ratings r LEFT JOIN messages t ON t.message_id = r.target_message_id
 WHERE r.rater_id IS NOT NULL AND coalesce(r.target_actor_id, t.actor_id) IS NOT NULL
UNION ALL
SELECT source_id, target_id, kind, NULL, created_at, platform, weight, NULL, tie_id
  FROM ties
UNION ALL
SELECT target_id, source_id, kind, NULL, created_at, platform, weight, NULL, tie_id
  FROM ties WHERE NOT directed AND source_id <> target_id
"""

# Version 2: analysis runs. Results are derived data, kept in ``result_<name>`` tables
# created by :mod:`whuffie.store.results` with a ``run_id`` column pointing here.
RUNS_V2 = """
    CREATE TABLE runs (
        run_id BIGINT PRIMARY KEY,
        analysis VARCHAR NOT NULL,        -- influence, niches, pyramid, ...
        params JSON,                      -- every parameter, the graph filters included
        seed BIGINT,
        engine VARCHAR,
        snapshot JSON,                    -- what the store held: last import, row counts
        created_at TIMESTAMP NOT NULL,
        duration_s DOUBLE,
        version VARCHAR
    )"""

# Version 3: runs that can be found again (reused) and pruned, with their inputs and headline
# figures; every table and column documented in the store itself (see store.catalog); and a
# ``latest_<name>`` view over each result table (created by store.results, also for the result
# tables of older stores).
RUNS_V3 = [
    "ALTER TABLE runs ADD COLUMN fingerprint VARCHAR",
    "ALTER TABLE runs ADD COLUMN params_key VARCHAR",
    "ALTER TABLE runs ADD COLUMN inputs JSON",
    "ALTER TABLE runs ADD COLUMN summary JSON",
    "ALTER TABLE runs ADD COLUMN tables JSON",
]


def normalize_links(con: duckdb.DuckDBPyConnection, batch: int = 50_000) -> None:
    """Version 4: give every stored link its normalised address and its registered domain.

    The distinct addresses are normalised ``batch`` at a time (in Python: see
    :mod:`whuffie.urls`) and written back with one ``UPDATE`` per batch, so memory holds the
    distinct addresses once and one batch of results.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE links (message_id VARCHAR, url VARCHAR, domain VARCHAR, "
    ...                 "normalized_url VARCHAR)")
    >>> _ = con.execute("INSERT INTO links (message_id, url) VALUES ('x:1', 'https://youtu.be/ulhx7G5g3EY')")
    >>> normalize_links(con)
    >>> con.execute("SELECT normalized_url, domain FROM links").fetchall()
    [('youtube.com/watch?v=ulhx7G5g3EY', 'youtube.com')]
    """
    rel = con.sql("SELECT DISTINCT url FROM links")
    urls = (getattr(rel, "to_arrow_table", None) or rel.arrow)()  # newer DuckDB, then older
    for start in range(0, urls.num_rows, batch):
        part = urls.column("url").slice(start, batch)
        normalized, domains = normalize_many(part)
        con.register("_whuffie_normalized_links", pa.table(
            {"url": part, "normalized_url": normalized, "domain": domains}))
        try:
            con.execute("UPDATE links SET normalized_url = n.normalized_url, domain = n.domain "
                        "FROM _whuffie_normalized_links n WHERE links.url = n.url")
        finally:
            con.unregister("_whuffie_normalized_links")


# Version 4: normalised links. ``links.normalized_url`` is the page's canonical address and
# ``links.domain`` becomes its registered domain (it was the host without "www."), both filled for
# the links already stored (see whuffie.urls). The quarantine says how serious each row is: a record
# left out (``error``), a record stored without a value it could not trust (``flag``, e.g. a
# placeholder time) or a note about a whole file (``note``).
#: The natural key of each child table of ``messages``: what makes two of its rows the same row.
CHILD_KEYS = {
    "mentions": ("message_id", "actor_id"),
    "links": ("message_id", "url"),
    "tags": ("message_id", "tag"),
    "recipients": ("message_id", "actor_id", "role"),
}

# Stores written before version 4 could hold the children of a stub once per import of it: keep
# the first row of each natural key.
DEDUP_CHILDREN_V4 = [
    f"DELETE FROM {table} WHERE rowid NOT IN (SELECT min(rowid) FROM {table} GROUP BY {', '.join(key)})"
    for table, key in CHILD_KEYS.items()
]

LINKS_V4: list[Step] = [
    "ALTER TABLE links ADD COLUMN normalized_url VARCHAR",
    normalize_links,
    "ALTER TABLE quarantine ADD COLUMN severity VARCHAR DEFAULT 'error'",
    *DEDUP_CHILDREN_V4,
    describe_tables,
]

def _store_secret(con: duckdb.DuckDBPyConnection) -> None:
    """Version 5: a random secret of the store, for the pseudonyms its shared outputs show and the
    fingerprints of erased actors (see :mod:`whuffie.privacy`)."""
    con.execute("INSERT OR REPLACE INTO meta VALUES ('secret', ?)", [secrets.token_hex(32)])


# Version 5: privacy. ``erasures`` records every erasure (``whuffie forget``: the fingerprint of who,
# and when, not what) and every retention prune (``whuffie prune``: the cutoff), so that a re-import
# does not bring erased actors back; the store's secret (``meta``) keys those fingerprints and the
# pseudonyms of private individuals in reports, maps and exports.
PRIVACY_V5: list[Step] = [
    """
    CREATE TABLE erasures (
        erasure_id BIGINT PRIMARY KEY,
        kind VARCHAR NOT NULL,            -- actor (whuffie forget) or prune (whuffie prune)
        subject VARCHAR,                  -- the erased actor's fingerprint, keyed by the store's secret
        handle VARCHAR,                   -- the fingerprint of their handle (platform, lower case)
        messages VARCHAR[],               -- the fingerprints of their messages' ids
        cutoff TIMESTAMP,                 -- prune: rows older than this were dropped
        created_at TIMESTAMP NOT NULL,
        removed BIGINT,                   -- rows removed, all tables together
        version VARCHAR
    )""",
    _store_secret,
    describe_tables,
]

#: version -> steps that upgrade a store from version - 1. Each version's descriptions of the
#: tables (store.catalog) are written by ``describe_tables``, for the columns the store has then.
MIGRATIONS: dict[int, list[Step]] = {
    1: [*TABLES_V1, INTERACTIONS_VIEW],
    2: [RUNS_V2],
    3: [*RUNS_V3, describe_tables],
    4: LINKS_V4,
    5: PRIVACY_V5,
}

SCHEMA_VERSION = max(MIGRATIONS)

#: The canonical tables, in the order a status report lists them.
CANONICAL_TABLES = (
    "actors", "messages", "mentions", "links", "tags", "recipients", "ratings", "ties",
    "imports", "quarantine", "erasures",
)

#: Interaction kinds the view can produce besides tie kinds.
INTERACTION_KINDS = ("reply", "reshare", "quote", "mention", "link", "email", "vote", "rating")
