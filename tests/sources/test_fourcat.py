"""The 4cat reader on the fixtures of tests/data/fourcat (see its ATTRIBUTION.md).

The fixtures are written in 4CAT's dataset formats; the expected counts come from the commands
noted beside them (``csv.DictReader`` row counts, ``jq`` on the NDJSON), run on the fixture files,
not from the reader.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import DATA, ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.model import Records
from whuffie.sources import Bad, Input, Sample, sniff
from whuffie.sources.fourcat import CsvRow, FourcatReader, csv_source
from whuffie.sources.io import head_bytes
from whuffie.sources.reddit import RedditReader
from whuffie.sources.telegram import TelegramReader

F = DATA / "fourcat"
ZX = DATA / "zeeschuimer" / "zeeschuimer-export-twitter.com-2021-09-22T164500.ndjson"
ANA, BEN, CLEO, DAN = (f"twitter:140000000000000000{n}" for n in (1, 2, 3, 4))


def kinds(store):
    return dict(store.con.execute("SELECT kind, count(*) FROM interactions GROUP BY 1").fetchall())


def edges(store, kind):
    sql = "SELECT source, target FROM interactions WHERE kind = ?"
    return sorted(store.con.execute(sql, [kind]).fetchall())


# -- X/Twitter -------------------------------------------------------------------------------


def test_twitter_csv(store):
    # csv.DictReader: 7 rows; is_retweet yes: 1 (retweeted_user fixture_ana); is_quote_tweet yes: 1
    # (quote_tweet_id 1440...001, in the file); is_reply yes: 2 (replied_author fixture_ana and
    # fixture_eve); mentions: fixture_ana on rows 2 and 3, fixture_ben on row 4, fixture_eve on row 7.
    assert ingest_counts(store, [F / "twitter-import.csv"]) == (7, 7, 0, 0)
    # The CSV names replied-to and retweeted accounts by handle, not their tweets: stubs stand for them.
    sql = "SELECT message_id, actor_id FROM messages WHERE is_stub ORDER BY 1"
    assert store.con.execute(sql).fetchall() == [
        ("twitter:original-of/1440000000000000003", "twitter:@fixture_ana"),
        ("twitter:parent-of/1440000000000000002", "twitter:@fixture_ana"),
        ("twitter:parent-of/1440000000000000007", "twitter:@fixture_eve")]
    # A retweet's mention of its original's author is the reshare itself (as for the JSON readers).
    assert kinds(store) == {"reply": 2, "reshare": 1, "quote": 1, "mention": 3}
    assert edges(store, "reply") == sorted([(BEN, "twitter:@fixture_ana"),
                                            (ANA, "twitter:@fixture_eve")])
    assert edges(store, "reshare") == [(CLEO, "twitter:@fixture_ana")]
    assert edges(store, "quote") == [(DAN, ANA)]  # the quoted tweet is in the file, by author_id
    assert store.con.execute("SELECT likes, views, thread_id, url FROM messages "
                             "WHERE message_id = 'twitter:1440000000000000001'").fetchone() == (
        12, 1520, "twitter:1440000000000000001", "https://x.com/fixture_ana/status/1440000000000000001")
    # The retweet carries no counts (they are its original's).
    assert scalar(store, "SELECT likes FROM messages "
                         "WHERE message_id = 'twitter:1440000000000000003'") is None


def test_twitter_ndjson_is_mapped_as_zeeschuimer_items(store):
    # jq -c . F/twitter-import.ndjson: 5 items with __import_meta (lines 1-5 of the Zeeschuimer export).
    assert ingest_counts(store, [F / "twitter-import.ndjson"]) == (5, 5, 0, 0)
    assert kinds(store) == {"reply": 1, "reshare": 1, "quote": 1, "mention": 2}
    assert edges(store, "reshare") == [(CLEO, ANA)]
    sql = "SELECT extra FROM messages WHERE message_id = 'twitter:1440000000000000001'"
    extra = json.loads(scalar(store, sql))
    assert extra["collected_from"] == "https://x.com/search?q=%23Brexit&src=typed_query&f=live"


def test_zeeschuimer_lines_kept_as_uploaded_are_read(store):
    # Some 4CAT datasets hold Zeeschuimer's lines as they were uploaded (the item under "data").
    assert ingest_counts(store, [ZX], format="4cat") == (10, 7, 1, 2)
    assert kinds(store) == {"reply": 2, "reshare": 1, "quote": 1, "mention": 3}


def test_4cat_and_zeeschuimer_exports_of_the_same_tweets_deduplicate(store):
    assert ingest_counts(store, [ZX]) == (10, 7, 1, 2)
    messages = scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub")
    assert ingest_counts(store, [F / "twitter-import.ndjson"]) == (5, 0, 5, 0)
    assert ingest_counts(store, [F / "twitter-import.csv"]) == (7, 0, 7, 0)
    assert scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub") == messages


# -- Telegram --------------------------------------------------------------------------------


def test_telegram_ndjson_has_the_telegram_readers_ids(store):
    # jq -c '._type' F/telegram.ndjson: 3 Message objects and one line of another data source.
    assert ingest_counts(store, [F / "telegram.ndjson"]) == (4, 3, 0, 1)
    assert scalar(store, "SELECT line FROM quarantine") == 4
    assert kinds(store) == {"reply": 1, "reshare": 1, "mention": 1}
    assert edges(store, "reshare") == [("telegram:6000000003", "telegram:1500000002")]
    # The reply, written by hand as Telethon's to_dict() gives it, maps to the same message.
    line2 = json.loads((F / "telegram.ndjson").read_text(encoding="utf-8").splitlines()[1])
    mine = FourcatReader().map_record(line2).messages[0]
    theirs = TelegramReader().map_record({
        "_": "Message", "id": 102, "peer_id": {"_": "PeerChannel", "channel_id": 1500000003},
        "date": "2021-09-22 16:40:00", "message": "Pretty dumb eh?",
        "from_id": {"_": "PeerUser", "user_id": 6000000002},
        "reply_to": {"_": "MessageReplyHeader", "reply_to_msg_id": 101}}).messages[0]
    assert (mine.id, mine.actor_id, mine.kind, mine.reply_to, mine.created_at) == (
        theirs.id, theirs.actor_id, theirs.kind, theirs.reply_to, theirs.created_at)


def test_telegram_csv(store):
    # csv.DictReader: 3 rows, chat fixture_group; row 2 reply_to 101; row 3 forwarded from 1500000002;
    # row 1 entities_mentioned fixture_ben.
    assert ingest_counts(store, [F / "telegram.csv"]) == (3, 3, 0, 0)
    assert [m for (m,) in store.con.execute("SELECT message_id FROM messages WHERE NOT is_stub "
                                            "ORDER BY 1").fetchall()] == [
        "telegram:@fixture_group/101", "telegram:@fixture_group/102", "telegram:@fixture_group/103"]
    assert kinds(store) == {"reply": 1, "reshare": 1, "mention": 1}
    assert edges(store, "reply") == [("telegram:6000000002", "telegram:6000000001")]
    assert edges(store, "reshare") == [("telegram:6000000003", "telegram:1500000002")]
    assert edges(store, "mention") == [("telegram:6000000001", "telegram:@fixture_ben")]


def _as_4cat(value):
    """A Telethon to_dict() value as 4CAT serialises the object: "_type" tags, epoch-second times."""
    if isinstance(value, dict):
        out = {k: _as_4cat(v) for k, v in value.items() if k != "_"}
        if "_" in value:
            out["_type"] = value["_"]
        for key in ("date", "edit_date"):
            if isinstance(out.get(key), str):
                out[key] = datetime.fromisoformat(out[key]).replace(tzinfo=UTC).timestamp()
        return out
    if isinstance(value, list):
        return [_as_4cat(v) for v in value]
    return value


@pytest.mark.slow
def test_real_telegram_channel_as_4cat_stores_it(shared, tmp_path):
    # SOURCE.md of formats/telegram_telethon_jsonl: britishnewspatriot holds 20 Message objects, 17 of
    # them forwards. jq 'select(.fwd_from) | .fwd_from.from_id.channel_id': 16 name the channel
    # (with channel_post), 1 has from_id null; jq '.entities[] | select(._ == "MessageEntityMention")':
    # 4 mentions.
    real = shared / "formats" / "telegram_telethon_jsonl" / "britishnewspatriot_1799276919.txt"
    lines = [json.loads(line) for line in real.read_text(encoding="utf-8").splitlines() if line.strip()]
    path = tmp_path / "telegram-dataset.ndjson"
    path.write_text("".join(json.dumps(_as_4cat(x)) + "\n" for x in lines), encoding="utf-8")
    snapshot = ("SELECT message_id, actor_id, kind, reply_to, reshare_of, created_at, text, views "
                "FROM messages ORDER BY 1")
    stores = []
    for source, fmt in ((real, "telegram"), (path, "4cat")):
        with whuffie.open(tmp_path / f"{fmt}.duckdb") as s:
            assert ingest_counts(s, [source], format=fmt) == (20, 20, 0, 0)
            assert dict(s.con.execute("SELECT kind, count(*) FROM interactions GROUP BY 1").fetchall()) == {
                "reshare": 16, "mention": 4}
            stores.append((s.con.execute(snapshot).fetchall(),
                           s.con.execute("SELECT * FROM interactions ORDER BY ALL").fetchall()))
    assert stores[0] == stores[1]


def test_real_reddit_dump_as_4cat_matches_the_reddit_reader(shared, store):
    # SOURCE.md of formats/reddit_pushshift_ndjson: 1,075 comments; tests/sources/test_reddit.py counts
    # 220 reply interactions with Python on the NDJSON. 4CAT's Reddit datasets hold these objects.
    dump = shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson"
    assert ingest_counts(store, [dump], format="4cat") == (1075, 1075, 0, 0)
    assert kinds(store) == {"reply": 220}


# -- Reddit, TikTok, Instagram, 4chan --------------------------------------------------------


def test_reddit_csv_has_the_reddit_readers_ids(store):
    # csv.DictReader: 5 rows, 2 without parent (submissions), 3 comments, 1 by [deleted].
    assert ingest_counts(store, [F / "reddit.csv"]) == (5, 5, 0, 0)
    assert store.con.execute("SELECT message_id, actor_id, kind, reply_to, thread_id FROM messages "
                             "ORDER BY 1").fetchall() == [
        ("reddit:t1_hdq0001", "reddit:fixture_ben", "comment", "reddit:t3_pq1aaa", "reddit:t3_pq1aaa"),
        ("reddit:t1_hdq0002", "reddit:fixture_ana", "reply", "reddit:t1_hdq0001", "reddit:t3_pq1aaa"),
        ("reddit:t1_hdq0003", None, "reply", "reddit:t1_hdq0002", "reddit:t3_pq1aaa"),
        ("reddit:t3_pq1aaa", "reddit:fixture_ana", "post", None, "reddit:t3_pq1aaa"),
        ("reddit:t3_pq2bbb", "reddit:fixture_dan", "post", None, "reddit:t3_pq2bbb")]
    assert kinds(store) == {"reply": 2, "mention": 1}
    assert edges(store, "mention") == [("reddit:fixture_ben", "reddit:fixture_cleo")]
    # The reddit reader maps the Pushshift comment the row came from to the same message.
    pushshift = RedditReader().map_record({
        "id": "hdq0002", "author": "fixture_ana", "parent_id": "t1_hdq0001", "link_id": "t3_pq1aaa",
        "body": "Good times &amp; bad", "created_utc": 1632328900, "subreddit": "fixtures"}).messages[0]
    row = store.con.execute("SELECT message_id, text, created_at FROM messages "
                            "WHERE message_id = 'reddit:t1_hdq0002'").fetchone()
    assert row == (pushshift.id, pushshift.text, pushshift.created_at)
    # Only the link post links out; the self post (domain self.fixtures) does not.
    assert [u for (u,) in store.con.execute("SELECT url FROM links").fetchall()] == [
        "https://www.bbc.co.uk/news/business"]


def test_tiktok_and_instagram_csv(store):
    # csv.DictReader: 3 rows each; @mentions in body: tiktok rows 1 (@fixture_ben) and 2
    # (@fixture.ana); instagram rows 1 (@fixture_ben) and 2 (@fixture.ana).
    assert ingest_counts(store, [F / "tiktok.csv", F / "instagram.csv"]) == (6, 6, 0, 0)
    assert edges(store, "mention") == sorted([
        ("tiktok:@fixture.ana", "tiktok:@fixture_ben"), ("tiktok:@fixture_ben", "tiktok:@fixture.ana"),
        ("instagram:@fixture.ana", "instagram:@fixture_ben"),
        ("instagram:@fixture_ben", "instagram:@fixture.ana")])
    assert store.con.execute("SELECT likes, reshares, replies, views FROM messages "
                             "WHERE message_id = 'tiktok:7010000000000000001'").fetchone() == (
        120, 4, 3, 2300)
    # An Instagram post has the same id from the CSV as from the Zeeschuimer export.
    zig = DATA / "zeeschuimer" / "zeeschuimer-export-instagram.com-2021-09-22T172000.ndjson"
    assert ingest_counts(store, [zig]) == (3, 0, 3, 0)


def test_4chan_csv(store):
    # csv.DictReader: 4 posts of thread 330000001 on /int/; author_trip on rows 3 and 4; body quote
    # links: row 3 >>330000002, row 4 >>330000003 (first) and >>330000001.
    assert ingest_counts(store, [F / "4chan.csv"]) == (4, 4, 0, 0)
    sql = "SELECT message_id, actor_id, kind, reply_to FROM messages ORDER BY 1"
    assert store.con.execute(sql).fetchall() == [
        ("4chan:int/330000001", None, "post", None),
        ("4chan:int/330000002", None, "comment", "4chan:int/330000001"),
        ("4chan:int/330000003", "4chan:fixture!FixTrip01", "reply", "4chan:int/330000002"),
        ("4chan:int/330000004", "4chan:!FixTrip02", "reply", "4chan:int/330000003")]
    # Anonymous posts have no author: only the tripcode poster's reply to a tripcode post is an edge.
    assert kinds(store) == {"reply": 1}


# -- headers, options, bad rows --------------------------------------------------------------


def test_a_header_that_does_not_tell_the_data_source(store, tmp_path):
    path = tmp_path / "dataset.csv"
    path.write_text("id,thread_id,body,author,timestamp\n7,7,hello #there,Ann,2021-09-22 16:00:00\n",
                    encoding="utf-8")
    assert ingest_counts(store, [path], format="4cat") == (1, 0, 0, 1)
    reason = scalar(store, "SELECT reason FROM quarantine")
    assert "-o platform=" in reason and "columns: id, thread_id, body, author, timestamp" in reason
    assert ingest_counts(store, [path], format="4cat", options={"platform": "gab"}) == (1, 1, 0, 0)
    assert store.con.execute("SELECT message_id, actor_id, text FROM messages").fetchone() == (
        "gab:7", "gab:@ann", "hello #there")
    with pytest.raises(SourceError, match="option platform is 'Gab Social'"):
        FourcatReader(platform="Gab Social")


def test_bad_rows_are_quarantined_with_their_line(store, tmp_path):
    lines = (F / "reddit.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2] + ",one cell too many"
    lines[3] = lines[3].replace("t1_hdq0001", "t1_HDQ!!")
    path = tmp_path / "reddit.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ingest_counts(store, [path]) == (5, 3, 0, 2)
    rows = store.con.execute("SELECT line, reason FROM quarantine ORDER BY 1").fetchall()
    assert [line for line, _ in rows] == [3, 4]
    assert "17 cells, expected 16" in rows[0][1]


def test_sniffing(shared):
    for path in sorted(F.glob("*.*")):
        if path.suffix != ".md":
            assert sniff(path)[0] == "4cat", path
    others = [p for p in sorted((shared / "formats").rglob("*")) if p.is_file() and p.suffix != ".md"][:60]
    others += [p for p in sorted(DATA.rglob("*"))
               if p.is_file() and not {"fourcat", "zeeschuimer"} & set(p.parts)]
    assert len(others) > 40
    for path in others:
        assert FourcatReader.sniff(Sample(path, head_bytes(path))) < 0.5, path


def test_every_data_source_signature_is_recognised():
    for source, signatures in {"twitter": ["is_retweet", "retweeted_user"], "reddit": ["subreddit", "parent"],
                               "4chan": ["image_md5", "country_code"], "tiktok": ["tiktok_url"],
                               "linkedin": ["post_url", "author_is_company"]}.items():
        assert csv_source(["id", "body", *signatures]) == source
    assert csv_source(["body", "subreddit", "parent"]) is None  # no id: not 4CAT


# -- robustness ------------------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_or_garbled_datasets_never_escape_the_import(data, tmp_path):
    name = data.draw(st.sampled_from(sorted(p.name for p in F.glob("*.*") if p.suffix != ".md")))
    sample = (F / name).read_bytes()
    cut = data.draw(st.integers(0, len(sample)))
    raw = bytearray(sample[:cut])
    for _ in range(data.draw(st.integers(0, 3))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / name
    path.write_bytes(bytes(raw))
    with Input(path) as inp:
        for item in FourcatReader().read(inp):
            if not isinstance(item, Bad):
                with contextlib.suppress(SourceError):
                    FourcatReader().map_record(item.value)
    with whuffie.open(tmp_path / f"s{cut}.duckdb") as s:
        for f in s.ingest([path], format="4cat").files:  # an empty file is skipped
            assert f.status == "complete"
            assert f.read == f.stored + f.duplicate + f.quarantined


_ROWS = [(source, row) for source, name in [("twitter", "twitter-import.csv"), ("telegram", "telegram.csv"),
                                             ("reddit", "reddit.csv"), ("tiktok", "tiktok.csv"),
                                             ("instagram", "instagram.csv"), ("4chan", "4chan.csv")]
         for row in csv.DictReader(io.StringIO((F / name).read_text(encoding="utf-8")))]


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_rows_with_one_garbled_cell_map_or_raise_source_error(data):
    source, row = data.draw(st.sampled_from(_ROWS))
    cells = {k: v for k, v in row.items() if v}
    column = data.draw(st.sampled_from(sorted(row)))
    value = data.draw(st.text(max_size=30) |
                      st.sampled_from(["yes", "no", "0", "-1", "1e400", "t1_", "@", ">>"]))
    if value:
        cells[column] = value
    else:
        cells.pop(column, None)
    try:
        out = FourcatReader().map_record(CsvRow(source, cells))
    except SourceError:
        return
    assert isinstance(out, Records)
