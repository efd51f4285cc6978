"""The store: schema and migrations, upsert semantics, the interactions view, crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import duckdb
import pytest

import whuffie
from tests.conftest import scalar
from whuffie.errors import SchemaError, WhuffieError
from whuffie.model import Actor, Link, Mention, Message, Rating, Recipient, Records, Tie
from whuffie.store import schema
from whuffie.store.writer import Batch


def write(store, *bundles: Records) -> tuple[int, int]:
    batch = Batch()
    for b in bundles:
        batch.add(b)
    store.con.execute("BEGIN")
    result = batch.flush(store.con, None)
    store.con.execute("COMMIT")
    return result


def msg(i: str, actor: str | None, **kw) -> Message:
    return Message(f"x:{i}", "x", f"x:{actor}" if actor else None, datetime(2024, 1, 1), **kw)


def test_new_store_has_every_canonical_table(tmp_path):
    with whuffie.open(tmp_path / "s.duckdb") as store:
        tables = {r["table_name"] for r in store.sql(
            "SELECT table_name FROM information_schema.tables")}
        assert set(schema.CANONICAL_TABLES) <= tables
        assert "interactions" in tables
        assert store.schema_version == schema.SCHEMA_VERSION


def test_migration_steps_are_applied_in_order(tmp_path, monkeypatch):
    path = tmp_path / "s.duckdb"
    whuffie.open(path).close()
    steps = dict(schema.MIGRATIONS)
    steps[schema.SCHEMA_VERSION + 1] = ["ALTER TABLE actors ADD COLUMN note VARCHAR"]
    monkeypatch.setattr("whuffie.store.store.MIGRATIONS", steps)
    monkeypatch.setattr("whuffie.store.store.SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    with whuffie.open(path) as store:
        assert store.schema_version == schema.SCHEMA_VERSION + 1
        assert "note" in {r["column_name"] for r in store.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'actors'")}


def test_a_store_from_a_newer_whuffie_is_refused(tmp_path):
    path = tmp_path / "s.duckdb"
    with whuffie.open(path) as store:
        store.con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(SchemaError, match="schema version 999, newer than this Whuffie"):
        whuffie.open(path)


def test_a_foreign_duckdb_file_is_refused(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (a INT)")
    con.close()
    with pytest.raises(SchemaError, match="not a Whuffie store"):
        whuffie.open(path)


def test_read_only_open_of_a_missing_store_says_how_to_create_it(tmp_path):
    with pytest.raises(WhuffieError, match=r"no store at .*whuffie ingest"):
        whuffie.open(tmp_path / "missing.duckdb", read_only=True)


def test_interactions_view_resolves_every_kind(store):
    when = datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    r = Records(
        messages=[
            Message("x:1", "x", "x:alice", when, text="root"),
            msg("2", "bob", kind="reply", reply_to="x:1"),
            msg("3", "carol", kind="reshare", reshare_of="x:1"),
            msg("4", "dan", kind="quote", quote_of="x:2"),
            msg("5", "erin", kind="reply", reply_to="x:99"),  # parent known only as a stub
            msg("6", "bob", kind="email"),
        ],
        context=[Message("x:99", "x", "x:zoe", None, stub=True)],
        mentions=[Mention("x:2", "x:carol", "carol")],
        links=[Link("x:3", "https://a.org/p", "a.org", "web:a.org"), Link("x:3", "https://b.org/")],
        recipients=[Recipient("x:6", "x:list", "to"), Recipient("x:6", "x:dan", "cc")],
        ratings=[
            Rating("x:v1", "x", "x:dan", None, "x:1", "upvote", 1.0),
            Rating("x:v2", "x", None, None, "x:1", "downvote", -1.0),  # anonymous: no edge
            Rating("x:r1", "x", "x:erin", "x:bob", None, "trust", -7.0),
        ],
        ties=[Tie("x:t1", "x", "x:p", "x:q", "mention", 3.0, directed=False)],
    )
    assert write(store, r) == (10, 0)
    rows = store.sql("SELECT source, target, kind, message_id, value, weight FROM interactions "
                     "ORDER BY kind, source, target")
    got = [(r["source"], r["target"], r["kind"]) for r in rows]
    assert got == [
        ("x:bob", "x:dan", "email"),
        ("x:bob", "x:list", "email"),
        ("x:carol", "web:a.org", "link"),
        ("x:bob", "x:carol", "mention"),
        ("x:p", "x:q", "mention"),
        ("x:q", "x:p", "mention"),
        ("x:dan", "x:bob", "quote"),
        ("x:erin", "x:bob", "rating"),
        ("x:bob", "x:alice", "reply"),
        ("x:erin", "x:zoe", "reply"),
        ("x:carol", "x:alice", "reshare"),
        ("x:dan", "x:alice", "vote"),
    ]
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["rating"]["value"] == -7.0
    assert by_kind["vote"]["message_id"] == "x:1"
    # Times are stored in UTC with the original offset kept.
    assert scalar(store, "SELECT created_at FROM messages WHERE message_id = 'x:1'") == \
        datetime(2024, 5, 1, 10)
    assert scalar(store, "SELECT utc_offset FROM messages WHERE message_id = 'x:1'") == 120
    # Every referenced actor exists.
    assert scalar(store, "SELECT count(*) FROM interactions i LEFT JOIN actors a "
                         "ON a.actor_id = i.target WHERE a.actor_id IS NULL") == 0


def test_a_stub_is_completed_by_the_full_message(store):
    write(store, Records(context=[Message("x:1", "x", "x:alice", None, stub=True)]))
    stored, dup = write(store, Records(messages=[msg("1", "alice", text="hello", likes=3)]))
    assert (stored, dup) == (1, 0)
    row = store.sql("SELECT is_stub, text, likes FROM messages WHERE message_id = 'x:1'")[0]
    assert row == {"is_stub": False, "text": "hello", "likes": 3}
    # A later stub or context copy never turns it back into a stub nor erases anything.
    write(store, Records(context=[Message("x:1", "x", "x:alice", None, stub=True)]))
    assert store.sql("SELECT is_stub, text FROM messages")[0] == {"is_stub": False, "text": "hello"}


def test_duplicates_fill_missing_columns_but_change_nothing_else(store):
    write(store, Records(messages=[msg("1", "alice", text="first")]))
    stored, dup = write(store, Records(messages=[msg("1", "alice", text="second", lang="en")]))
    assert (stored, dup) == (0, 1)
    assert store.sql("SELECT text, lang FROM messages")[0] == {"text": "first", "lang": "en"}


def test_in_batch_duplicates_are_counted_once(store):
    r = Records(messages=[msg("1", "alice")], ratings=[Rating("x:v", "x", "x:a", None, "x:1", "like", 1)])
    assert write(store, r, r, r) == (2, 4)


def test_profiles_count_as_duplicates_only_once_described(store):
    # An actor created because a message referred to it is not yet a described profile.
    write(store, Records(messages=[msg("1", "alice")]))
    assert write(store, Records(profiles=[Actor("x:alice", "x", handle="alice")])) == (1, 0)
    assert write(store, Records(profiles=[Actor("x:alice", "x", handle="alice")])) == (0, 1)


def test_text_with_lone_surrogates_is_stored(store):
    write(store, Records(messages=[msg("1", "a", text="broken \ud83d emoji")]))
    assert scalar(store, "SELECT text FROM messages") == "broken \ufffd emoji"


CRASH_SCRIPT = """
import sys, whuffie

class Tell:
    def start(self, *a): pass
    def finish(self, *a): pass
    def skip(self, *a): pass
    def advance(self, consumed, read):
        print(consumed, flush=True)

import whuffie.store.ingest
whuffie.store.ingest.SMALL_FILE_BYTES = 0  # committed batch by batch, not with other small files
store = whuffie.open(sys.argv[1])
store.ingest([sys.argv[2]], format="edges", options={"platform": "p"}, batch_size=2000,
             progress=Tell())
store.close()
"""


@pytest.mark.slow
def test_an_import_killed_mid_way_is_completed_by_a_rerun(tmp_path):
    edges = tmp_path / "big.txt"
    n = 300_000
    with open(edges, "w") as fh:
        for i in range(n):
            fh.write(f"{i} {i + 1}\n")
    size = edges.stat().st_size
    db = tmp_path / "s.duckdb"
    proc = subprocess.Popen([sys.executable, "-c", CRASH_SCRIPT, str(db), str(edges)],
                            stdout=subprocess.PIPE, text=True)
    # kill -9 once about a third of the file has been read: several batches are committed.
    for line in proc.stdout:
        if int(line) > size // 3:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with whuffie.open(db) as store:
        status = store.sql("SELECT status, stored FROM imports")
        committed = scalar(store, "SELECT count(*) FROM ties")
        assert status[0]["status"] == "interrupted"
        assert 0 < committed < n
        # The import row agrees with the table: only whole, committed batches count.
        assert status[0]["stored"] == committed
        report = store.ingest([edges], format="edges", options={"platform": "p"})
        assert report.total("stored") == n - committed
        assert report.total("duplicate") == committed
        assert scalar(store, "SELECT count(*) FROM ties") == n
        assert scalar(store, "SELECT count(DISTINCT tie_id) FROM ties") == n
