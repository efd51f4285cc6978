"""The zeeschuimer reader on the fixtures of tests/data/zeeschuimer (see its ATTRIBUTION.md).

The fixtures are written in Zeeschuimer's export format; the expected counts come from the jq
commands noted beside them, run on the fixture files (``Z`` = tests/data/zeeschuimer), not from the
reader.
"""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import DATA, ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.model import Records
from whuffie.sources import Bad, Input, Sample, sniff
from whuffie.sources.io import head_bytes
from whuffie.sources.zeeschuimer import ZeeschuimerReader, item_kind, linkedin_age, map_item

Z = DATA / "zeeschuimer"
X = Z / "zeeschuimer-export-twitter.com-2021-09-22T164500.ndjson"
TIKTOK = Z / "zeeschuimer-export-tiktok.com-2021-09-22T170000.ndjson"
COMMENTS = Z / "zeeschuimer-export-tiktok-comments-2021-09-22T171000.ndjson"
INSTAGRAM = Z / "zeeschuimer-export-instagram.com-2021-09-22T172000.ndjson"
THREADS = Z / "zeeschuimer-export-threads.net-2021-09-22T173000.ndjson"
LINKEDIN = Z / "zeeschuimer-export-linkedin.com-2021-09-22T174000.ndjson"
ALL = [X, TIKTOK, COMMENTS, INSTAGRAM, THREADS, LINKEDIN]
ANA, BEN, CLEO, DAN, EVE = (f"twitter:140000000000000000{n}" for n in (1, 2, 3, 4, 9))


def kinds(store, platform=None):
    where = f"WHERE platform = '{platform}'" if platform else ""
    return dict(store.con.execute(f"SELECT kind, count(*) FROM interactions {where} GROUP BY 1").fetchall())


def edges(store, kind):
    sql = "SELECT source, target FROM interactions WHERE kind = ?"
    return sorted(store.con.execute(sql, [kind]).fetchall())


# -- X ---------------------------------------------------------------------------------------


def test_x_export(store):
    # wc -l: 10 lines; jq -c . Z/...twitter.com...: 9 parse. jq -rR 'fromjson? | (.data.tweet // .data)
    # | select(.legacy) | .rest_id': 8 tweets, 7 distinct (1440...001 twice); line 9 is a TweetTombstone.
    assert ingest_counts(store, [X]) == (10, 7, 1, 2)
    assert store.con.execute("SELECT line FROM quarantine ORDER BY 1").fetchall() == [(9,), (10,)]
    assert "TweetTombstone" in scalar(store, "SELECT reason FROM quarantine WHERE line = 9")
    # The same jq with in_reply_to_status_id_str: 1440...002 replies to 1440...001 (in the file) and
    # 1440...007 to 1439999999999999999 (not in it: a stub by in_reply_to_user_id_str, 1400...009).
    assert scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub") == 7
    assert store.con.execute("SELECT message_id, actor_id FROM messages WHERE is_stub").fetchall() == [
        ("twitter:1439999999999999999", EVE)]
    # jq legacy.user_id_str: 4 authors; plus the replied-to 1400...009: 5 actors.
    assert scalar(store, "SELECT count(*) FROM actors") == 5
    # jq: replies 1440...002 -> 001 (ben -> ana) and 007 -> eve; retweet 003 of 001 (cleo -> ana);
    # quote 004 of 001 (dan -> ana); user_mentions: 002 -> ana, 004 -> ben, 007 -> eve, and the
    # retweet's RT @ana, which (as for v1.1 retweets) is the reshare, not also a mention.
    assert kinds(store) == {"reply": 2, "reshare": 1, "quote": 1, "mention": 3}
    assert edges(store, "reply") == sorted([(BEN, ANA), (ANA, EVE)])
    assert edges(store, "reshare") == [(CLEO, ANA)]
    assert edges(store, "quote") == [(DAN, ANA)]


def test_x_fields(store):
    ingest_counts(store, [X])

    def row(tid, cols):
        return store.con.execute(f"SELECT {cols} FROM messages WHERE message_id = ?",
                                 [f"twitter:{tid}"]).fetchone()

    # Line 2: data.id is the float Zeeschuimer made of the id; rest_id names the tweet.
    assert row("1440000000000000002", "kind, reply_to, thread_id") == (
        "reply", "twitter:1440000000000000001", "twitter:1440000000000000001")
    assert scalar(store, "SELECT count(*) FROM messages "
                         "WHERE message_id = 'twitter:1440000000000000000'") == 0
    # Line 1: views.count is the string "1520"; created_at is legacy.created_at in UTC.
    assert row("1440000000000000001", "views, likes, reshares, replies, quotes, created_at, url") == (
        1520, 12, 3, 1, 1, datetime(2021, 9, 22, 16, 35, 19),
        "https://twitter.com/fixture_ana/status/1440000000000000001")
    # A retweet's counts are its original's: none on the retweet.
    assert row("1440000000000000003", "kind, likes, reshare_of") == (
        "reshare", None, "twitter:1440000000000000001")
    # Line 5: note_tweet holds the whole text (jq: 219 characters, 215 with &amp; unescaped; legacy
    # has 119) and the entities of the whole text (jq: #COVID, #Brexit, #BrexitChaos).
    text = row("1440000000000000005", "text")[0]
    assert len(text) == 215 and text.endswith("with the #BrexitChaos") and "&amp;" not in text
    assert [t for (t,) in store.con.execute("SELECT tag FROM tags WHERE message_id = "
                                            "'twitter:1440000000000000005' ORDER BY 1").fetchall()] == [
        "brexit", "brexitchaos", "covid"]
    # Line 6: a TweetWithVisibilityResults, promoted, its author's names under core (2025 shape).
    extra = json.loads(row("1440000000000000006", "extra")[0])
    assert extra["promoted"] is True
    assert extra["collected_from"] == "https://x.com/search?q=%23Brexit&src=typed_query&f=live"
    assert scalar(store, f"SELECT handle FROM actors WHERE actor_id = '{DAN}'") == "fixture_dan"
    # Line 7: core.user_results is empty; legacy.user_id_str names the author.
    assert row("1440000000000000007", "actor_id, thread_id") == (ANA, "twitter:1439999999999999990")


def test_x_items_captured_twice_or_reimported_are_stored_once(store):
    assert ingest_counts(store, [X]) == (10, 7, 1, 2)
    assert ingest_counts(store, [X]) == (10, 0, 8, 2)
    assert scalar(store, "SELECT count(*) FROM messages") == 8


def test_adaptive_items_of_2022():
    # The 2022 module stored {"type": "adaptive", "legacy": v1.1 tweet, "user": v1.1 user}; a retweet
    # names its original by retweeted_status_id_str only.
    user = {"id_str": "1400000000000000003", "screen_name": "fixture_cleo", "name": "Cleo"}
    legacy = {"id_str": "1440000000000000009", "created_at": "Wed Sep 22 16:40:02 +0000 2021",
              "full_text": "RT @fixture_ana: From oven-ready to oven-empty #Brexit in 8 months.",
              "user_id_str": "1400000000000000003", "conversation_id_str": "1440000000000000009",
              "retweeted_status_id_str": "1440000000000000001", "favorite_count": 0,
              "entities": {"user_mentions": [{"id_str": "1400000000000000001", "screen_name": "fixture_ana"}],
                           "hashtags": [{"text": "Brexit"}], "urls": []}}
    out = map_item({"id": 1440000000000000009, "type": "adaptive", "legacy": legacy, "user": user})
    m = out.messages[0]
    assert (m.id, m.actor_id, m.kind, m.reshare_of, m.thread_id, m.likes) == (
        "twitter:1440000000000000009", CLEO, "reshare", "twitter:1440000000000000001",
        "twitter:1440000000000000009", None)
    assert out.mentions == []
    assert [(c.id, c.actor_id, c.stub) for c in out.context] == [("twitter:1440000000000000001", ANA, True)]


# -- TikTok ----------------------------------------------------------------------------------


def test_tiktok_videos_and_comments(store):
    # jq -c . Z/...tiktok.com...: 4 items, the 4th with createTime "yesterday".
    assert ingest_counts(store, [TIKTOK]) == (4, 3, 0, 1)
    assert "createTime" in scalar(store, "SELECT reason FROM quarantine")
    # jq '.data.textExtra[] | select(.userId)': 2 mentions (video 1 -> 68..02, video 2 -> 68..01);
    # .data.duetInfo.duetFromId: video 2 is a duet of video 1.
    assert kinds(store) == {"mention": 2, "quote": 1}
    assert edges(store, "quote") == [("tiktok:6800000000000000002", "tiktok:6800000000000000001")]
    # Video 3 is embedded in a page's HTML: its author is a user name without a user id.
    assert scalar(store, "SELECT actor_id FROM messages WHERE message_id = 'tiktok:7010000000000000003'") == \
        "tiktok:@fixture_cleo"
    assert store.con.execute("SELECT likes, reshares, replies, views, created_at FROM messages "
                             "WHERE message_id = 'tiktok:7010000000000000001'").fetchone() == (
        120, 4, 3, 2300, datetime(2021, 9, 22, 16, 37, 29))
    # jq -c . Z/...tiktok-comments...: 3 comments parse, line 4 is cut short.
    assert ingest_counts(store, [COMMENTS]) == (4, 3, 0, 1)
    # Comment 1 on video 1 (by 68..04), comment 2 answers comment 1 (reply_id), comment 3 answers
    # comment 2 (reply_to_reply_id); comment 2 mentions 68..04 in text_extra.
    assert store.con.execute("SELECT message_id, kind, reply_to, thread_id FROM messages "
                             "WHERE message_id LIKE 'tiktok:comment:%' ORDER BY 1").fetchall() == [
        ("tiktok:comment:7290000000000000001", "comment", "tiktok:7010000000000000001",
         "tiktok:7010000000000000001"),
        ("tiktok:comment:7290000000000000002", "reply", "tiktok:comment:7290000000000000001",
         "tiktok:7010000000000000001"),
        ("tiktok:comment:7290000000000000003", "reply", "tiktok:comment:7290000000000000002",
         "tiktok:7010000000000000001")]
    assert kinds(store) == {"mention": 3, "quote": 1, "reply": 3}
    assert edges(store, "reply") == sorted([
        ("tiktok:6800000000000000004", "tiktok:6800000000000000001"),  # on ana's video
        ("tiktok:6800000000000000001", "tiktok:6800000000000000004"),
        ("tiktok:6800000000000000002", "tiktok:6800000000000000001")])


# -- Instagram, Threads, LinkedIn ------------------------------------------------------------


def test_instagram_posts(store):
    # jq -c . Z/...instagram...: 3 items (2 web API items by code, 1 GraphQL edge by shortcode).
    assert ingest_counts(store, [INSTAGRAM]) == (3, 3, 0, 0)
    # Mentions: @fixture_ben in item 1's caption and fixture_cleo tagged in its photo (usertags),
    # @fixture.ana in item 2's caption; accounts are keyed by user name, lower-cased.
    assert edges(store, "mention") == sorted([
        ("instagram:@fixture.ana", "instagram:@fixture_ben"),
        ("instagram:@fixture.ana", "instagram:@fixture_cleo"),
        ("instagram:@fixture_ben", "instagram:@fixture.ana")])
    sql = "SELECT message_id, likes, replies, views FROM messages ORDER BY 1"
    assert store.con.execute(sql).fetchall() == [
        ("instagram:CUaaaaaaaa1", 40, 2, None), ("instagram:CUbbbbbbbb2", 7, 0, None),
        ("instagram:CUccccccccc", 3, 0, 410)]
    sql = "SELECT extra FROM actors WHERE actor_id = 'instagram:@fixture.ana'"
    assert json.loads(scalar(store, sql)) == {"pk": "5000000001"}


def test_threads_posts(store):
    # jq '.data.text_post_app_info | [.reply_to_author.username, (.share_info.reposted_post.code),
    # (.share_info.quoted_post.code)]': post 2 replies to fixture.ana (no post id), post 3 reposts
    # post 1, post 4 quotes post 2.
    assert ingest_counts(store, [THREADS]) == (4, 4, 0, 0)
    assert store.con.execute("SELECT message_id, kind, reply_to, reshare_of, quote_of FROM messages "
                             "WHERE NOT is_stub ORDER BY 1").fetchall() == [
        ("threads:CxAAAAAAAA1", "post", None, None, None),
        ("threads:CxAAAAAAAA2", "reply", "threads:parent-of/CxAAAAAAAA2", None, None),
        ("threads:CxAAAAAAAA3", "reshare", None, "threads:CxAAAAAAAA1", None),
        ("threads:CxAAAAAAAA4", "quote", None, None, "threads:CxAAAAAAAA2")]
    assert kinds(store) == {"reply": 1, "reshare": 1, "quote": 1, "mention": 1}
    assert edges(store, "reply") == [("threads:@fixture_ben", "threads:@fixture.ana")]
    assert edges(store, "quote") == [("threads:@fixture_dan", "threads:@fixture_ben")]
    # The link preview goes through l.threads.net/?u=<link>.
    assert scalar(store, "SELECT url FROM links") == "https://www.bbc.co.uk/news/business"


def test_linkedin_updates(store):
    assert ingest_counts(store, [LINKEDIN]) == (2, 2, 0, 0)
    assert edges(store, "reshare") == [("linkedin:company/fixture-co", "linkedin:in/fixture-ana")]
    # No time: timestamp_collected 1632332000000 ms minus the age shown ("18h", "2d").
    collected = datetime(1970, 1, 1) + timedelta(milliseconds=1632332000000)
    assert store.con.execute("SELECT message_id, created_at, likes, replies, reshares FROM messages "
                             "ORDER BY 1").fetchall() == [
        ("linkedin:7000000000000000001", collected - timedelta(hours=18), 25, 3, 2),
        ("linkedin:7000000000000000002", collected - timedelta(days=2), 4, 0, 0)]
    sql = "SELECT extra FROM messages WHERE message_id = 'linkedin:7000000000000000002'"
    extra = json.loads(scalar(store, sql))
    assert (extra["age"], extra["collected_at"]) == ("2d", "2021-09-22T17:33:20")


def test_linkedin_age():
    assert linkedin_age("3w • Edited • ") == timedelta(weeks=3)
    assert linkedin_age("5 mnd") == timedelta(seconds=5 * 2629800)
    assert linkedin_age("Promoted") is None and linkedin_age(None) is None


# -- the whole export ------------------------------------------------------------------------


@pytest.mark.slow
def test_every_export_reimported_stores_nothing(store):
    first = ingest_counts(store, ALL)
    # Lines: 10 + 4 + 4 + 3 + 4 + 2 = 27, of which 4 are quarantined and 1 X tweet is repeated.
    assert first == (27, 22, 1, 4)
    tables = ("messages", "actors", "mentions", "tags", "links")
    counts = [scalar(store, f"SELECT count(*) FROM {t}") for t in tables]
    assert ingest_counts(store, ALL) == (27, 0, 23, 4)
    assert [scalar(store, f"SELECT count(*) FROM {t}") for t in tables] == counts


def test_unmapped_modules_and_shapes_are_named():
    with pytest.raises(SourceError, match=r"'9gag\.com' are not mapped"):
        ZeeschuimerReader().map_record({"source_platform": "9gag.com", "data": {"id": "a1", "title": "x"}})
    with pytest.raises(SourceError, match="no 'data' object"):
        ZeeschuimerReader().map_record({"source_platform": "tiktok.com"})
    with pytest.raises(SourceError, match="TikTok comment has no 'cid'"):
        map_item({"cid": None, "aweme_id": "1"})
    assert item_kind({"id": "urn:li:activity:1", "actor": {}, "commentary": None}) == "linkedin"


def test_sniffing(shared):
    for path in ALL:
        assert ZeeschuimerReader.sniff(Sample(path, head_bytes(path))) == 0.95
        assert sniff(path)[0] == "zeeschuimer", path
    others = [p for p in sorted((shared / "formats").rglob("*")) if p.is_file() and p.suffix != ".md"][:60]
    others += [p for p in sorted(DATA.rglob("*")) if p.is_file() and "zeeschuimer" not in p.parts]
    assert len(others) > 40
    for path in others:
        assert ZeeschuimerReader.sniff(Sample(path, head_bytes(path))) < 0.5, path


# -- robustness ------------------------------------------------------------------------------

_VALID = [json.loads(line) for p in ALL for line in p.read_text(encoding="utf-8").splitlines()
          if line.endswith("}") and '"data"' in line]
_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats() |
    st.text(max_size=12) | st.sampled_from(["0", "1440000000000000001", "18h • ", "urn:li:activity:1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["data", "legacy", "rest_id", "core", "user_results", "result", "id", "cid",
                         "aweme_id", "user", "text_post_app_info", "share_info", "reposted_post", "code",
                         "taken_at", "actor", "commentary", "createTime", "author", "stats", "textExtra",
                         "caption"]) |
        st.text(max_size=4), inner, max_size=5),
    max_leaves=20)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_valid_items_with_one_garbled_field_map_or_raise_source_error(data):
    record = copy.deepcopy(data.draw(st.sampled_from(_VALID)))
    path = data.draw(st.sampled_from(list(_paths(record))[1:]))
    target = record
    for step in path[:-1]:
        target = target[step]
    if data.draw(st.booleans()):
        target[path[-1]] = data.draw(_json)
    elif isinstance(target, dict):
        del target[path[-1]]
    else:
        target.pop(path[-1])
    try:
        out = ZeeschuimerReader().map_record(record)
    except SourceError:
        return
    assert isinstance(out, Records)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_or_garbled_exports_never_escape_the_import(data, tmp_path):
    sample = data.draw(st.sampled_from(ALL)).read_bytes()
    cut = data.draw(st.integers(0, len(sample)))
    raw = bytearray(sample[:cut])
    for _ in range(data.draw(st.integers(0, 3))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "export.ndjson"
    path.write_bytes(bytes(raw))
    with Input(path) as inp:
        for item in ZeeschuimerReader().read(inp):
            if not isinstance(item, Bad):
                with contextlib.suppress(SourceError):
                    ZeeschuimerReader().map_record(item.value)
    with whuffie.open(tmp_path / f"s{cut}.duckdb") as s:
        for f in s.ingest([path], format="zeeschuimer").files:  # an empty file is skipped
            assert f.status == "complete"
            assert f.read == f.stored + f.duplicate + f.quarantined


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(min_size=1, max_size=200))
def test_garbage_lines_are_quarantined_between_good_ones(tmp_path, junk):
    good = THREADS.read_bytes().splitlines(keepends=True)[0]
    path = tmp_path / "junk.ndjson"
    path.write_bytes(good + junk.replace(b"\n", b" ") + b"\n" + good)
    with whuffie.open(":memory:") as s:
        read, stored, duplicate, bad = ingest_counts(s, [path], format="zeeschuimer")
    assert (stored, duplicate) == (1, 1)
    assert read == 2 + bad

