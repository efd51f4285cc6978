"""The reddit reader on the real Pushshift dump RC_2005-12 and on synthetic API pages.

Expected counts for RC_2005-12 come from its SOURCE.md (verified there with
``json.loads`` on every line) or from the one-line python / jq commands noted
next to them, run on ``RC_2005-12.ndjson``; the fixture counts in
``tests/data/reddit`` are counted by hand from those small files.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import DATA, ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.model import Records
from whuffie.sources import get_reader, sniff

FIXTURES = DATA / "reddit"


@pytest.fixture(scope="module")
def dump(shared):
    return shared / "formats" / "reddit_pushshift_ndjson"


def rows(store, sql):
    return store.con.execute(sql).fetchall()


# -- sniffing --------------------------------------------------------------------------------


def test_dumps_and_api_pages_are_sniffed_as_reddit(dump):
    for path in (dump / "RC_2005-12.zst", dump / "RC_2005-12.ndjson",
                 FIXTURES / "comments_q1x2y3.json", FIXTURES / "new_gardening.json",
                 FIXTURES / "submissions.ndjson"):
        assert sniff(path)[0] == "reddit", path


def test_other_formats_are_not_sniffed_as_reddit(shared):
    formats = shared / "formats"
    others = [
        formats / "twarc2_v2_jsonl" / "brexit.jsonl",
        formats / "twitter_v1_1_json" / "stream_lines.jsonl",
        formats / "mastodon_api_json" / "public_timeline_fosstodon.json",
        formats / "bluesky_atproto_json" / "atrrr_recorded" / "getPostThread_3kbi55xm6u62v.json",
        formats / "discourse_topic_json" / "topics"
        / "ask.cyberinfrastructure.org-q-a-post-158-2019-10-19.json",
        formats / "telegram_telethon_jsonl" / "bloomberg_1488156064.txt",
    ]
    for path in others:
        assert sniff(path)[0] != "reddit", path
        assert get_reader("reddit").sniff(_sample(path)) < 0.5, path


def _sample(path):
    from whuffie.sources.base import Sample
    from whuffie.sources.io import head_bytes

    return Sample(path, head_bytes(path))


# -- the real dump ---------------------------------------------------------------------------


def test_rc_2005_12_counts(dump, store):
    # SOURCE.md: 1,075 comments, no bad lines.
    assert ingest_counts(store, [dump / "RC_2005-12.ndjson"]) == (1075, 1075, 0, 0)
    # SOURCE.md: 746 top-level (parent_id t3_...), 329 replies (t1_...).
    assert rows(store, "SELECT kind, count(*) FROM messages GROUP BY 1 ORDER BY 1") == [
        ("comment", 746), ("reply", 329)]
    # SOURCE.md: 394 distinct authors including '[deleted]', which gives no actor -> 393.
    assert scalar(store, "SELECT count(*) FROM actors") == 393
    # SOURCE.md: 185 '[deleted]' authors.
    assert scalar(store, "SELECT count(*) FROM messages WHERE actor_id IS NULL") == 185
    # SOURCE.md: 396 distinct link_id.
    assert scalar(store, "SELECT count(DISTINCT thread_id) FROM messages") == 396
    # SOURCE.md: 314 of the 329 parents are in the file.
    assert scalar(store, "SELECT count(*) FROM messages m JOIN messages p "
                         "ON p.message_id = m.reply_to") == 314
    # SOURCE.md: 120 '[deleted]'/'[removed]' bodies; split by
    # python: Counter(r['body'] for r in rows if r['body'] in ('[deleted]','[removed]'))
    # -> 105 '[deleted]', 15 '[removed]'.
    assert scalar(store, "SELECT count(*) FROM messages WHERE text IS NULL") == 120
    assert rows(store, "SELECT extra->>'removed', count(*) FROM messages "
                       "WHERE extra->>'removed' IS NOT NULL GROUP BY 1 ORDER BY 1") == [
        ("deleted", 105), ("removed", 15)]
    # Every comment is r/reddit.com (SOURCE.md), kept in extra, not as a tag.
    assert scalar(store, "SELECT count(*) FROM messages WHERE extra->>'subreddit' = 'reddit.com'") == 1075
    # The 6 bodies with "#" + a word character (python: re.findall(r"#\w+", body)) hold "#1",
    # "#2", "#133", "###Using" (a markdown header) and "F$$#ING": not one is a hashtag.
    assert scalar(store, "SELECT count(*) FROM tags") == 0
    # Times: c13 has created_utc 1134365188 = 2005-12-12 05:26:28 UTC (date -u -d @1134365188).
    assert scalar(store, "SELECT created_at FROM messages WHERE message_id = 'reddit:t1_c13'"
                  ).isoformat() == "2005-12-12T05:26:28"


def test_rc_2005_12_reply_interactions(dump, store):
    ingest_counts(store, [dump / "RC_2005-12.ndjson"])
    # python on the ndjson: rows whose parent_id is t1_<id> with <id> in the file and
    # neither author '[deleted]':
    #   ids = {r['id']: r for r in rows}
    #   sum(1 for r in rows if r['parent_id'].startswith('t1_') and r['parent_id'][3:] in ids
    #       and r['author'] != '[deleted]' and ids[r['parent_id'][3:]]['author'] != '[deleted]')
    #   -> 220 (no t3_ parent is in the file, so top-level comments give none).
    assert rows(store, "SELECT kind, count(*) FROM interactions GROUP BY 1") == [("reply", 220)]


def test_rc_2005_12_links_and_markdown(dump, store):
    ingest_counts(store, [dump / "RC_2005-12.ndjson"])
    # python: sum(1 for r in rows if 'http://' in r['body'] or 'https://' in r['body']) -> 99
    assert scalar(store, "SELECT count(DISTINCT message_id) FROM links") == 99
    # c82 is "It is a standard: [Markdown](http://daringfireball.net/markdown)." : the
    # closing parenthesis and the full stop are not part of the URL.
    assert rows(store, "SELECT url FROM links WHERE message_id = 'reddit:t1_c82'") == [
        ("http://daringfireball.net/markdown",)]
    # c35's URL is HTML-escaped in the dump (&amp;): the link and the text are unescaped.
    url = scalar(store, "SELECT url FROM links WHERE message_id = 'reddit:t1_c35'")
    assert url.startswith("http://www.nytimes.com/2005/12/10/opinion/10sat1.html?ex=1291870800&en=")
    assert "&amp;" not in scalar(store, "SELECT text FROM messages WHERE message_id = 'reddit:t1_c35'")


@pytest.mark.slow
def test_zst_gives_the_same_rows_as_ndjson(dump, tmp_path):
    tables = {
        "messages": "SELECT * EXCLUDE (import_id) FROM messages ORDER BY message_id",
        "actors": "SELECT * EXCLUDE (import_id) FROM actors ORDER BY actor_id",
        "links": "SELECT * FROM links ORDER BY message_id, url",
    }
    out = {}
    for name in ("RC_2005-12.zst", "RC_2005-12.ndjson"):
        with whuffie.open(tmp_path / f"{name}.duckdb") as s:
            assert ingest_counts(s, [dump / name]) == (1075, 1075, 0, 0)
            out[name] = {t: rows(s, q) for t, q in tables.items()}
    assert out["RC_2005-12.zst"] == out["RC_2005-12.ndjson"]
    assert len(out["RC_2005-12.zst"]["messages"]) == 1075


@pytest.mark.slow
def test_zst_and_ndjson_together_store_nothing_twice(dump, store):
    assert ingest_counts(store, [dump / "RC_2005-12.zst"]) == (1075, 1075, 0, 0)
    assert ingest_counts(store, [dump / "RC_2005-12.ndjson"]) == (1075, 0, 1075, 0)
    assert ingest_counts(store, [dump / "RC_2005-12.zst"]) == (1075, 0, 1075, 0)
    assert scalar(store, "SELECT count(*) FROM messages") == 1075


def test_broken_lines_are_quarantined_and_the_rest_imported(dump, store, tmp_path):
    lines = (dump / "RC_2005-12.ndjson").read_text(encoding="utf-8").splitlines()[:20]
    lines[6] = lines[6][: len(lines[6]) // 2]  # a truncated line 7
    rec = json.loads(lines[11])
    rec["created_utc"] = "yesterday"  # line 12
    lines[11] = json.dumps(rec)
    rec = json.loads(lines[14])
    rec["parent_id"] = "c14"  # line 15: no t1_/t3_ prefix
    lines[14] = json.dumps(rec)
    path = tmp_path / "RC_part.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ingest_counts(store, [path], format="reddit") == (20, 17, 0, 3)
    bad = sorted((b["line"], b["reason"]) for b in store.quarantine())
    assert bad[0][0] == 7 and bad[0][1].startswith("invalid JSON")
    assert bad[1:] == [
        (12, "field 'created_utc' is 'yesterday', expected ISO 8601, RFC 2822 or epoch"),
        (15, "field 'parent_id' is 'c14', expected t1_<id> or t3_<id>"),
    ]


def test_a_truncated_first_line_does_not_lose_the_dump(dump, store, tmp_path):
    lines = (dump / "RC_2005-12.ndjson").read_bytes().splitlines(keepends=True)[:20]
    path = tmp_path / "RC_cut.ndjson"
    path.write_bytes(lines[0][:150] + b"\n" + b"".join(lines[1:]))
    # Still recognised and read as JSON lines, not as one broken JSON document.
    assert sniff(path)[0] == "reddit"
    assert ingest_counts(store, [path]) == (20, 19, 0, 1)
    assert [b["line"] for b in store.quarantine()] == [1]


# -- API listings and synthetic dumps ------------------------------------------------------


def test_comments_page_with_nested_replies(store):
    # comments_q1x2y3.json: 1 submission + 5 comments (k100 > k101 > k102 > k103, and k200);
    # the 'more' placeholder is skipped.
    assert ingest_counts(store, [FIXTURES / "comments_q1x2y3.json"]) == (6, 6, 0, 0)
    got = rows(store, "SELECT message_id, kind, reply_to, thread_id, actor_id FROM messages "
                      "ORDER BY message_id")
    assert got == [
        ("reddit:t1_k100", "comment", "reddit:t3_q1x2y3", "reddit:t3_q1x2y3", "reddit:beanpole"),
        ("reddit:t1_k101", "reply", "reddit:t1_k100", "reddit:t3_q1x2y3", "reddit:fern_gully"),
        ("reddit:t1_k102", "reply", "reddit:t1_k101", "reddit:t3_q1x2y3", None),
        ("reddit:t1_k103", "reply", "reddit:t1_k102", "reddit:t3_q1x2y3", "reddit:beanpole"),
        ("reddit:t1_k200", "comment", "reddit:t3_q1x2y3", "reddit:t3_q1x2y3", "reddit:marrow_king"),
        ("reddit:t3_q1x2y3", "post", None, "reddit:t3_q1x2y3", "reddit:fern_gully"),
    ]
    post = rows(store, "SELECT title, text, url, score, replies, created_at FROM messages "
                       "WHERE message_id = 'reddit:t3_q1x2y3'")[0]
    assert post[:5] == ("Our allotment & the great zucchini glut", None,
                        "https://www.reddit.com/r/GardeningSynthetic/comments/q1x2y3/our_allotment/",
                        42, 6)
    assert post[5].isoformat() == "2023-11-14T22:13:20"  # date -u -d @1700000000
    # The link post's url (HTML-escaped in the JSON) and the markdown link in k100.
    assert rows(store, "SELECT message_id, url FROM links ORDER BY 1") == [
        ("reddit:t1_k100", "https://recipes.example.net/zucchini-bread"),
        ("reddit:t3_q1x2y3", "https://example.org/zucchini-recipes?a=1&b=2"),
    ]
    # u/marrow_king in k101, /u/fern_gully in k103; #zucchini is a tag, #1 is not.
    assert rows(store, "SELECT message_id, actor_id FROM mentions ORDER BY 1") == [
        ("reddit:t1_k101", "reddit:marrow_king"), ("reddit:t1_k103", "reddit:fern_gully")]
    assert rows(store, "SELECT message_id, tag FROM tags") == [("reddit:t1_k103", "zucchini")]
    assert scalar(store, "SELECT text FROM messages WHERE message_id = 'reddit:t1_k101'") == \
        "Thanks! u/marrow_king told me the same <3"
    assert rows(store, "SELECT message_id, extra->>'removed' FROM messages "
                       "WHERE text IS NULL AND kind <> 'post' ORDER BY 1") == [
        ("reddit:t1_k102", "deleted"), ("reddit:t1_k200", "removed")]
    assert scalar(store, "SELECT extra->>'edited' FROM messages WHERE message_id = 'reddit:t1_k100'") \
        == "1700000900.0"
    # Replies resolved to authors: k100->fern_gully, k101->beanpole, k200->fern_gully
    # (k102's author is deleted, so k103's reply has no target).
    assert rows(store, "SELECT source, target FROM interactions WHERE kind = 'reply' "
                       "ORDER BY message_id") == [
        ("reddit:beanpole", "reddit:fern_gully"), ("reddit:fern_gully", "reddit:beanpole"),
        ("reddit:marrow_king", "reddit:fern_gully")]


@pytest.mark.slow
def test_overlapping_listing_deduplicates_and_keeps_good_children(store):
    ingest_counts(store, [FIXTURES / "comments_q1x2y3.json"])
    # new_gardening.json: 4 submissions: q1x2y3 again, q1x2y1, q1x2y0 (a crosspost) and one
    # with the broken id 'Q-bad!', quarantined on its own.
    assert ingest_counts(store, [FIXTURES / "new_gardening.json"]) == (4, 2, 1, 1)
    assert [(b["line"], b["reason"]) for b in store.quarantine()] == [
        (1, "field 'id' is 'Q-bad!', expected a base36 Reddit id")]
    # The crosspost reshares marrow_king's original, known as a stub.
    assert rows(store, "SELECT source, target, message_id FROM interactions WHERE kind = 'reshare'") == [
        ("reddit:beanpole", "reddit:marrow_king", "reddit:t3_q1x2y0")]
    assert rows(store, "SELECT is_stub, actor_id FROM messages WHERE message_id = 'reddit:t3_q0aaaa'") == [
        (True, "reddit:marrow_king")]
    # The self post's url is its own permalink: no link for it, only the one in its text.
    assert rows(store, "SELECT url FROM links WHERE message_id = 'reddit:t3_q1x2y1'") == [
        ("https://example.org/rules",)]
    assert scalar(store, "SELECT extra->>'edited' FROM messages WHERE message_id = 'reddit:t3_q1x2y1'") \
        == "1699999000"
    assert ingest_counts(store, [FIXTURES / "new_gardening.json"]) == (4, 0, 3, 1)


def test_pushshift_submissions_with_varying_schemas(store):
    # submissions.ndjson: 3 submissions and 1 comment, created_utc as string or int.
    assert ingest_counts(store, [FIXTURES / "submissions.ndjson"]) == (4, 4, 0, 0)
    got = rows(store, "SELECT message_id, kind, actor_id, text, score, replies, extra->>'removed' "
                      "FROM messages ORDER BY 1")
    assert got == [
        ("reddit:t1_c9a", "comment", "reddit:allot_ment",
         "Not too late, see my post https://www.reddit.com/r/GardeningSynthetic/comments/s1c/"
         "photo_of_my_leeks/", 2, None, None),
        ("reddit:t3_s1a", "post", "reddit:allot_ment", "Asking for a friend & myself.", 10, 3, None),
        ("reddit:t3_s1b", "post", None, None, 1, 0, "removed"),
        ("reddit:t3_s1c", "post", "reddit:allot_ment", None, 4, 1, None),  # score from ups
    ]
    # "1571000000" (a string) and 1571000300 parse alike: date -u -d @1571000000.
    assert scalar(store, "SELECT created_at FROM messages WHERE message_id = 'reddit:t3_s1a'"
                  ).isoformat() == "2019-10-13T20:53:20"
    # s1c is a link post without is_self (its domain is not self.*); s1a is a self post.
    assert rows(store, "SELECT message_id, url FROM links ORDER BY 1") == [
        ("reddit:t1_c9a", "https://www.reddit.com/r/GardeningSynthetic/comments/s1c/photo_of_my_leeks/"),
        ("reddit:t3_s1c", "https://i.example.com/leeks.jpg"),
    ]
    assert scalar(store, "SELECT extra->>'edited' FROM messages WHERE message_id = 'reddit:t3_s1b'") \
        == "1571000200"


def test_map_record_errors_name_the_field():
    reader = get_reader("reddit")
    with pytest.raises(SourceError, match=r"field 'created_utc' is 'soon'"):
        reader.map_record({"id": "a1", "body": "x", "parent_id": "t3_b", "created_utc": "soon"})
    with pytest.raises(SourceError, match="record has no 'id'"):
        reader.map_record({"body": "x", "parent_id": "t3_b"})
    with pytest.raises(SourceError, match="neither a comment"):
        reader.map_record({"id": "a1", "subreddit": "x"})
    with pytest.raises(SourceError, match=r"field 'author' is 12"):
        reader.map_record({"id": "a1", "body": "x", "author": 12})
    # Missing optional fields are not errors.
    out = reader.map_record({"id": "a1", "body": "hello"})
    assert (out.messages[0].kind, out.messages[0].actor_id, out.messages[0].created_at) == \
        ("comment", None, None)


# -- robustness ----------------------------------------------------------------------------


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["id", "name", "kind", "data", "children", "replies",
                                       "body", "author", "parent_id", "link_id", "title",
                                       "selftext", "created_utc", "url", "is_self", "edited",
                                       "score", "crosspost_parent", "crosspost_parent_list",
                                       "subreddit", "permalink"]), children, max_size=8),
    max_leaves=20,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_nonsense_records_map_or_raise_source_error(value):
    reader = get_reader("reddit")
    try:
        out = reader.map_record(value)
    except SourceError:
        return
    assert isinstance(out, Records)


@pytest.mark.slow
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=2000), junk=st.binary(max_size=40))
def test_truncated_or_garbled_files_never_raise(dump, tmp_path, cut, junk):
    head = (dump / "RC_2005-12.ndjson").read_bytes()[:2000]
    path = tmp_path / "garbled.ndjson"
    garbled = head[:cut] + junk + b"\n" + head[cut:]
    path.write_bytes(garbled)
    with whuffie.open(":memory:") as store:
        report = store.ingest([path], format="reddit")
    f = report.files[0]
    assert f.status == "complete"
    if garbled.startswith((b"(\xb5/\xfd", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")):
        # Junk that starts with a compression magic number makes the whole file a damaged
        # compressed file: what cannot be decompressed is quarantined, and the counts add up.
        assert f.read == f.stored + f.duplicate + f.quarantined
        return
    # The insertion breaks at most the one whole line it cuts; every other whole line of
    # the head is still imported.
    assert f.stored >= head.count(b"\n") - 1


@pytest.mark.slow
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(min_size=1, max_size=200))
def test_garbage_through_the_ingest_is_quarantined(tmp_path, junk):
    path = tmp_path / "junk.json"
    good = b'{"id":"z1","body":"ok","parent_id":"t3_z0","link_id":"t3_z0","subreddit":"x"}\n'
    path.write_bytes(good + junk.replace(b"\n", b" ") + b"\n" + good)
    with whuffie.open(":memory:") as s:
        read, stored, duplicate, bad = ingest_counts(s, [path], format="reddit")
    # The junk line is quarantined or (when it happens to be a mappable or empty JSON
    # record) imported; the good record is stored once and seen again as a duplicate.
    assert stored >= 1 and duplicate >= 1
    assert read == stored + duplicate + bad
