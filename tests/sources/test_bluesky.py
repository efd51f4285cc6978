"""The bluesky reader on real XRPC responses (../shared/data/formats/bluesky_atproto_json) and on
a small synthetic fixture (tests/data/bluesky/mixed.jsonl). Expected counts were established with
plain ``json.load`` in Python, independently of the reader; each assertion says how."""

from __future__ import annotations

import contextlib
import copy
import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import DATA, ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.sources import Bad, Input, Sample, base
from whuffie.sources.bluesky import BlueskyReader, facet_text
from whuffie.sources.io import head_bytes

FOLDER = "formats/bluesky_atproto_json"
MIXED = DATA / "bluesky" / "mixed.jsonl"
ANA, BEN, CLEO = ("bluesky:did:plc:" + c * 24 for c in "abc")
POST1 = "bluesky:at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/3aaa1"


@pytest.fixture(scope="module")
def bdata(shared):
    return shared / FOLDER


def test_search_posts(bdata, store):
    path = bdata / "atrrr_recorded" / "searchPosts_q-rstats.json"
    # json.load: 100 posts, 45 distinct author.did, 10 with record.reply, 5 embedding a post
    # (embed record / recordWithMedia), 1 of which is also a reply.
    assert ingest_counts(store, [path]) == (100, 100, 0, 0)
    uris = ["bluesky:" + p["uri"] for p in json.loads(path.read_text())["posts"]]
    store.con.execute("CREATE TEMP TABLE found AS SELECT unnest(?) AS message_id", [uris])
    assert scalar(store, "SELECT count(DISTINCT actor_id) FROM messages JOIN found USING (message_id)") == 45
    kinds = dict(store.con.execute("SELECT kind, count(*) FROM messages JOIN found USING (message_id) "
                                   "GROUP BY 1").fetchall())
    assert kinds == {"post": 86, "reply": 10, "quote": 4}
    # The quoted posts the views inline are context: json.load, walking post.embed(.record).record
    # viewRecords: 105 distinct full posts by 49 distinct authors.
    assert scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub") == 105
    assert scalar(store, "SELECT count(DISTINCT actor_id) FROM messages WHERE NOT is_stub") == 49
    assert scalar(store, "SELECT count(*) FROM messages JOIN found USING (message_id) "
                         "WHERE quote_of IS NOT NULL") == 5
    # json.load, distinct (post, value) pairs of the 100 posts: 167 tags (facet #tag lower-cased,
    # plus record.tags), 77 links (facet #link uris plus external-embed uris), 8 mentions
    # (facet #mention dids).
    assert scalar(store, "SELECT count(*) FROM tags JOIN found USING (message_id)") == 167
    assert scalar(store, "SELECT count(*) FROM links JOIN found USING (message_id)") == 77
    assert scalar(store, "SELECT count(*) FROM mentions JOIN found USING (message_id)") == 8
    # Every reply and quote resolves to its target's author (stubs named by the URI's DID); with
    # the inlined quoted posts, json.load counts 12 replies and 7 quotes among the 105 full posts.
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 12
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'quote'") == 7


def test_author_feed_reposts(bdata, store):
    path = bdata / "atrrr_recorded" / "getAuthorFeed_andrew.heiss.phd.json"
    andrew = "bluesky:did:plc:2zcfjzyocp6kapg6jc4eacok"
    # json.load: 25 feed items, 10 with reason #reasonRepost (all by andrew's DID).
    assert ingest_counts(store, [path]) == (25, 25, 0, 0)
    # json.load: andrew's full posts anywhere in the file (items, reply contexts, inlined quoted
    # posts) are 8 replies, 4 quotes (embedding a post, no reply) and 5 plain posts.
    kinds = dict(store.con.execute("SELECT kind, count(*) FROM messages WHERE actor_id = ? AND NOT is_stub "
                                   "GROUP BY 1", [andrew]).fetchall())
    assert kinds == {"reshare": 10, "reply": 8, "quote": 4, "post": 5}
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reshare'") == 10
    assert scalar(store, f"SELECT count(*) FROM messages WHERE kind = 'reshare' AND actor_id = '{andrew}' "
                         "AND message_id LIKE 'bluesky:repost:did:plc:2zcfjzyocp6kapg6jc4eacok:at://%' "
                         "AND created_at IS NOT NULL") == 10
    # The reposted originals are context, the 15 own items primary: 15 + 10 = 25 primary, and the
    # 10 originals are full (not stub) messages too.
    assert scalar(store, "SELECT count(*) FROM messages m JOIN messages o ON o.message_id = m.reshare_of "
                         "WHERE NOT o.is_stub AND o.text IS NOT NULL") == 10
    # json.load: the 37 distinct full posts of the file (items, reply contexts, inlined quoted
    # posts) hold 14 replies and 11 quotes; all resolve.
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 14
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'quote'") == 11
    assert scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub AND kind <> 'reshare'") == 37
    # The first repost in the feed (json.load: feed[2]): by andrew at reason.indexedAt.
    row = store.con.execute(
        "SELECT created_at, extra->>'repost_uri' FROM messages WHERE message_id = "
        "'bluesky:repost:did:plc:2zcfjzyocp6kapg6jc4eacok:at://did:plc:tgw3d4hvw3x5ijrxax7lg26u/"
        "app.bsky.feed.post/3lt2vqzjt5c25'").fetchall()
    assert row[0][0].isoformat() == "2025-07-03T14:47:28.010000"
    assert row[0][1] == "at://did:plc:2zcfjzyocp6kapg6jc4eacok/app.bsky.feed.repost/3lt2xuhfe5m2u"


def test_list_records(bdata, store):
    path = bdata / "bskyr_vcr" / "listRecords_app.bsky.feed.post_did-plc-wpe35pganb6d4pg4ekmfy6u5.json"
    # json.load: 50 records, all in repo did:plc:wpe35pganb6d4pg4ekmfy6u5, 27 with value.reply,
    # 9 embedding a post (8 of them not replies); createdAt 2024-01-15 ... 2025-05-05.
    assert ingest_counts(store, [path]) == (50, 50, 0, 0)
    kinds = dict(store.con.execute("SELECT kind, count(*) FROM messages WHERE NOT is_stub "
                                   "GROUP BY 1").fetchall())
    assert kinds == {"post": 15, "reply": 27, "quote": 8}
    assert scalar(store, "SELECT count(DISTINCT actor_id) FROM messages WHERE NOT is_stub") == 1
    assert scalar(store, "SELECT min(created_at) FROM messages WHERE NOT is_stub").isoformat() \
        == "2024-01-15T19:09:31.343000"
    # Raw records carry no author view, yet every reply resolves through its parent's DID;
    # json.load: 2 of the 27 parents are the repo owner's own posts.
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 27
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply' AND source = target") == 2
    assert scalar(store, "SELECT url FROM messages WHERE message_id = 'bluesky:at://did:plc:"
                         "wpe35pganb6d4pg4ekmfy6u5/app.bsky.feed.post/3lof7sovfok2h'") == \
        "https://bsky.app/profile/did:plc:wpe35pganb6d4pg4ekmfy6u5/post/3lof7sovfok2h"


def test_records_and_feed_of_the_same_account_deduplicate(bdata, store):
    feed = bdata / "bskyr_vcr" / "getAuthorFeed_chriskenny.bsky.social.json"
    records = bdata / "bskyr_vcr" / "listRecords_app.bsky.feed.post_did-plc-wpe35pganb6d4pg4ekmfy6u5.json"
    ingest_counts(store, [feed])
    # json.load: 43 of the 50 record URIs are among the feed's 43 own (non-repost) post URIs.
    assert ingest_counts(store, [records]) == (50, 7, 43, 0)


def test_threads_share_posts(bdata, store):
    one = bdata / "atrrr_recorded" / "getPostThread_3kbi55xm6u62v.json"
    two = bdata / "atrrr_recorded" / "getPostThread_3kbi57u4sys2l.json"
    # json.load: each thread holds 4 threadViewPost nodes (root + 3 self-replies), the same 4 URIs.
    assert ingest_counts(store, [one]) == (4, 4, 0, 0)
    assert ingest_counts(store, [two]) == (4, 0, 4, 0)
    root = "bluesky:at://did:plc:ntd53albt5ffa4rgervvgibd/app.bsky.feed.post/3kbi55xm6u62v"
    assert scalar(store, f"SELECT count(*) FROM messages WHERE thread_id = '{root}'") == 4
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 3


@pytest.mark.slow
def test_likes_and_reposted_by(bdata, store):
    likes = bdata / "atrrr_recorded" / "getLikes_3kbi55xm6u62v.json"
    reposts = bdata / "atrrr_recorded" / "getRepostedBy_3kbi55xm6u62v.json"
    author = "bluesky:did:plc:ntd53albt5ffa4rgervvgibd"
    # json.load: 25 likes by 25 distinct DIDs, the earliest at 2023-10-16T19:38:58.807Z.
    assert ingest_counts(store, [likes]) == (25, 25, 0, 0)
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'vote' AND target = ?",
                  [author]) == 25
    assert scalar(store, "SELECT min(created_at) FROM ratings").isoformat() == "2023-10-16T19:38:58.807000"
    # json.load: 25 profiles in repostedBy; a repost's time is unknown there.
    assert ingest_counts(store, [reposts]) == (25, 25, 0, 0)
    assert scalar(store, f"SELECT count(*) FROM interactions WHERE kind = 'reshare' AND target = '{author}' "
                         "AND created_at IS NULL") == 25
    assert ingest_counts(store, [likes, reposts]) == (50, 0, 50, 0)


def test_not_found_parents_in_feed_reply_context(bdata, store):
    path = bdata / "bskyr_vcr" / "getAuthorFeed_chriskenny.bsky.social.json"
    ingest_counts(store, [path])
    # json.load: feed[39..41].reply.parent are #notFoundPost; their URIs name
    # did:plc:4szmwdqlabkd37mw7n3tpojq.
    rows = store.con.execute(
        "SELECT count(*) FROM interactions WHERE kind = 'reply' AND target = "
        "'bluesky:did:plc:4szmwdqlabkd37mw7n3tpojq' AND message_id IN ("
        "'bluesky:at://did:plc:wpe35pganb6d4pg4ekmfy6u5/app.bsky.feed.post/3l3qbvrkwvp2s', "
        "'bluesky:at://did:plc:wpe35pganb6d4pg4ekmfy6u5/app.bsky.feed.post/3l37qssfgnb2c', "
        "'bluesky:at://did:plc:wpe35pganb6d4pg4ekmfy6u5/app.bsky.feed.post/3l37nwyyv5b2h')").fetchall()
    assert rows == [(3,)]
    # json.load: 50 items, 7 reposts. The full posts in the file (items, their reply contexts and
    # inlined quoted posts) include 38 distinct replies; every one resolves.
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 38
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reshare'") == 7


def test_facets_use_utf8_byte_offsets(bdata, store):
    # A real post with non-ASCII text before a link facet: the byte slice is the URL it displays.
    data = json.loads((bdata / "atrrr_recorded" / "searchPosts_q-hash-rstats.json").read_text())
    post = next(p for p in data["posts"] if p["uri"].endswith("/3lt4pipjowh23"))
    text = post["record"]["text"]
    assert len(text.encode()) != len(text)
    link = next(f for f in post["record"]["facets"] if f["features"][0]["$type"].endswith("#link"))
    assert facet_text(text, link) == link["features"][0]["uri"] == "https://www.youtube.com/watch?v=Sa13U9RHpIE"
    # Mentions keep the handle as written; slicing characters instead of bytes would give
    # "i.bsky.social" (getListFeed) and "ropensci.org!" (searchPosts #rstats), see SOURCE.md.
    ingest_counts(store, [bdata / "atrrr_recorded" / "getListFeed.json",
                          bdata / "atrrr_recorded" / "searchPosts_q-hash-rstats.json"])
    handles = dict(store.con.execute(
        "SELECT message_id, handle FROM mentions WHERE message_id IN ("
        "'bluesky:at://did:plc:3bfvz4wlaorselnixiesbeqk/app.bsky.feed.post/3lt2qfnuths25', "
        "'bluesky:at://did:plc:3bfvz4wlaorselnixiesbeqk/app.bsky.feed.post/3lt4ozug2322q')").fetchall())
    assert sorted(handles.values()) == ["ropensci.org", "yabellini.bsky.social"]


def test_mixed_fixture(store):
    # mixed.jsonl (written for these tests): 1 post view, 1 feed item reposting it, a
    # getRepostedBy page (the same repost + 1 more), a Jetstream reply and like, a Jetstream
    # deletion and identity event (nothing to store), a thread with a not-found parent and a blocked reply.
    # Primary records: 1 + 1 + 2 + 1 + 1 + 1 = 7, the repost in both places once.
    assert ingest_counts(store, [MIXED]) == (7, 6, 1, 0)
    pairs = store.con.execute("SELECT kind, source, target FROM interactions ORDER BY 1, 2").fetchall()
    assert pairs == [("mention", ANA, BEN), ("reply", BEN, ANA), ("reply", CLEO, ANA),
                     ("reshare", BEN, ANA), ("reshare", CLEO, ANA), ("vote", CLEO, ANA)]
    # The facets of "Grüße aus Köln 🌧️ an @ben.example — Bericht: example.org/bericht… #Wetter #Köln".
    assert store.con.execute("SELECT handle FROM mentions").fetchall() == [("ben.example",)]
    assert store.con.execute("SELECT url, domain FROM links").fetchall() == \
        [("https://example.org/bericht-2024", "example.org")]
    assert sorted(r[0] for r in store.con.execute("SELECT tag FROM tags").fetchall()) == ["köln", "wetter"]
    # The repost seen in the feed keeps its time although getRepostedBy has none.
    assert scalar(store, f"SELECT created_at FROM messages WHERE message_id = 'bluesky:repost:"
                         f"{BEN[8:]}:{POST1[8:]}'").isoformat() == "2024-06-01T09:00:00"
    # Jetstream's time_us (1717232400000000 = 2024-06-01T09:00:00Z) is the indexing time.
    reply = store.con.execute("SELECT created_at, extra->>'indexed_at', lang FROM messages "
                              "WHERE actor_id = ? AND kind = 'reply'", [CLEO]).fetchall()
    assert [(r[0].isoformat(), r[1], r[2]) for r in reply] == \
        [("2024-06-01T09:30:00", "2024-06-01T09:00:00", "de")]
    # Re-import: everything is a duplicate.
    assert ingest_counts(store, [MIXED]) == (7, 0, 7, 0)


def test_broken_line_is_quarantined_and_the_rest_imported(store, tmp_path):
    lines = MIXED.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3][:120]  # line 4 (the Jetstream reply) cut short
    bad_time = json.loads(lines[0])
    bad_time["uri"] = bad_time["uri"].replace("3aaa1", "3aaa9")
    bad_time["record"]["createdAt"] = "soon"
    del bad_time["indexedAt"]
    lines.append(json.dumps(bad_time))
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ingest_counts(store, [path], format="bluesky") == (8, 5, 1, 2)
    bad = sorted((b["line"], b["reason"]) for b in store.quarantine())
    assert bad == [(4, "invalid JSON"),
                   (9, "field 'post.record.createdAt' is 'soon', expected ISO 8601, RFC 2822 or epoch")]


def test_truncated_page_keeps_the_posts_before_the_cut(bdata, store, tmp_path):
    text = (bdata / "atrrr_recorded" / "searchPosts_q-rstats.json").read_text()
    # Find where post 30 ends with a plain JSON decoder, then cut 50 characters later.
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    for _ in range(30):
        _item, pos = decoder.raw_decode(text, pos)
        pos += 1
    path = tmp_path / "cut.json"
    path.write_text(text[: pos + 50])
    assert ingest_counts(store, [path], format="bluesky") == (31, 30, 0, 1)
    [bad] = store.quarantine()
    assert bad["line"] == 31


def test_pretty_printed_and_long_one_line_pages(bdata, store, tmp_path, monkeypatch):
    search = bdata / "atrrr_recorded" / "searchPosts_q-rstats.json"
    likes = bdata / "atrrr_recorded" / "getLikes_3kbi55xm6u62v.json"
    pretty = tmp_path / "pretty"
    pretty.mkdir()
    for path in (search, likes):
        (pretty / path.name).write_text(json.dumps(json.loads(path.read_text()), indent=2))
    # json.load: 100 posts and 25 likes ("uri" comes after "likes" in that page).
    assert ingest_counts(store, [pretty]) == (125, 125, 0, 0)
    assert BlueskyReader.sniff(Sample(pretty / search.name, head_bytes(pretty / search.name))) >= 0.9
    # The one-line originals, streamed rather than loaded when their line is "too long".
    monkeypatch.setattr(base, "LINE_LIMIT", 1000)
    assert ingest_counts(store, [search, likes]) == (125, 0, 125, 0)


def test_bad_createdat_falls_back_to_indexedat():
    post = json.loads(MIXED.read_text(encoding="utf-8").splitlines()[0])
    post["record"]["createdAt"] = "0000-00-00T00:00:00Z"
    m = BlueskyReader().map_record(post).messages[0]
    assert m.created_at.isoformat() == "2024-06-01T08:00:01+00:00"
    assert m.extra["created_at_declared"] == "0000-00-00T00:00:00Z"


def test_bad_records_raise_source_errors():
    r = BlueskyReader()
    with pytest.raises(SourceError, match=r"field 'post.uri' is 'https://x', expected at://<did>/<collection>/<rkey>"):
        r.map_record({"uri": "https://x", "record": {}})
    with pytest.raises(SourceError, match=r"field 'post.author.did' is 'bob', expected a DID"):
        r.map_record({"uri": "at://did:plc:x/app.bsky.feed.post/1", "author": {"did": "bob"}, "record": {}})
    with pytest.raises(SourceError, match="record is not a Bluesky post"):
        r.map_record({"hello": "world"})
    with pytest.raises(SourceError, match="the API returned an error: InvalidRequest"):
        r.map_record({"error": "InvalidRequest", "message": "bad cursor"})
    # Missing optional fields are fine: a record with only text and a time.
    out = r.map_record({"uri": "at://did:plc:x/app.bsky.feed.post/1",
                        "value": {"text": "hi", "createdAt": "2024-01-01T00:00:00Z"}})
    assert (out.messages[0].actor_id, out.messages[0].kind) == ("bluesky:did:plc:x", "post")


def test_sniffing(bdata, shared):
    files = sorted(bdata.glob("*/*.json"))
    assert len(files) == 14
    for path in files:
        assert BlueskyReader.sniff(Sample(path, head_bytes(path))) >= 0.9, path.name
    assert BlueskyReader.sniff(Sample(MIXED, head_bytes(MIXED))) >= 0.9
    others = [
        *sorted((shared / "formats/mastodon_api_json").glob("*.json")),
        *sorted((shared / "formats/twitter_v1_1_json").rglob("*.json"))[:5],
        *sorted((shared / "formats/twarc2_v2_jsonl").glob("*.jsonl"))[:3],
        *sorted((shared / "formats/telegram_telethon_jsonl").glob("*.txt"))[:2],
        *sorted((shared / "formats/reddit_pushshift_ndjson").glob("*")),
        *sorted((shared / "formats/discourse_topic_json").rglob("*.json"))[:3],
        *sorted((bdata / "bskyr_vcr" / "cassettes").glob("*")),
    ]
    assert len(others) > 20
    for path in others:
        assert BlueskyReader.sniff(Sample(path, head_bytes(path))) < 0.5, path


# -- robustness -------------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) |
    st.sampled_from(["at://did:plc:x/app.bsky.feed.post/1", "did:plc:x", "app.bsky.feed.post",
                     "app.bsky.embed.record", "2024-01-01T00:00:00Z"]) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["uri", "cid", "author", "did", "handle", "record", "value", "text", "createdAt",
                         "reply", "parent", "root", "embed", "facets", "features", "index", "byteStart",
                         "byteEnd", "post", "reason", "by", "thread", "replies", "likes", "repostedBy",
                         "posts", "feed", "records", "commit", "record", "operation", "collection", "rkey",
                         "subject", "$type", "actor", "indexedAt", "langs", "tags"]) |
        st.text(string.ascii_lowercase, max_size=5),
        inner, max_size=6),
    max_leaves=30,
)


def _drain(reader, path) -> None:
    """Read and map a file as the ingest does; only SourceError may come out of map_record."""
    with Input(path) as inp:
        for item in reader.read(inp):
            if isinstance(item, Bad):
                continue
            with contextlib.suppress(SourceError):
                reader.map_record(item.value)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_json)
def test_nonsense_json_never_escapes(value, tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes(json.dumps(value).encode())
    _drain(BlueskyReader(), path)
    with contextlib.suppress(SourceError):
        BlueskyReader().map_record(value)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_or_garbled_files_never_escape(data, tmp_path):
    sample = MIXED.read_bytes()
    cut = data.draw(st.integers(0, len(sample)))
    raw = bytearray(sample[:cut])
    for _ in range(data.draw(st.integers(0, 3))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(bytes(raw))
    _drain(BlueskyReader(), path)
    db = tmp_path / "s.duckdb"
    db.unlink(missing_ok=True)
    with whuffie.open(db) as s:
        f = s.ingest([path], format="bluesky").files[0]
        assert f.read == f.stored + f.duplicate + f.quarantined


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=300))
def test_random_bytes_never_escape(blob, tmp_path):
    path = tmp_path / "blob.json"
    path.write_bytes(blob)
    _drain(BlueskyReader(), path)


def _paths(value, prefix=()):
    """Every path into a JSON value, for mutating one spot of a valid record."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


_VALID = [json.loads(line) for line in MIXED.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_valid_records_with_one_garbled_field_never_escape(data, tmp_path):
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
    with contextlib.suppress(SourceError):
        BlueskyReader().map_record(record)
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(record) + "\n")
    _drain(BlueskyReader(), path)
