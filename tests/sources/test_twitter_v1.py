"""The twitter-v1 reader on real v1.1 files, RumourEval 2017 and synthetic fixtures.

Expected counts were established without the reader: with ``jq`` on the files (commands in
the comments; ``-L /tmp`` loads a helper that walks the embedded tweets:
``def tweets: ., (.retweeted_status // empty | tweets),
(if .retweeted_status then empty else (.quoted_status // empty | tweets) end);``) or with
``python -c`` and ``json.load``, or they come from the data set's SOURCE.md.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import DATA, ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.sources import Sample, sniff
from whuffie.sources.io import head_bytes
from whuffie.sources.twitter_v1 import TwitterV1Reader, snowflake_time

FIXTURES = DATA / "twitter-v1"
V1 = "formats/twitter_v1_1_json"


def _rows(store, sql):
    return store.con.execute(sql).fetchall()


def _ids(path):
    """The message ids of the top-level tweets of a JSON-lines file (python json.loads)."""
    return {f"twitter:{json.loads(line)['id_str']}" for line in path.read_text().splitlines()}


def _kinds(store, ids):
    """(kind, count) of the stored messages among ``ids``."""
    listed = ", ".join(f"'{i}'" for i in sorted(ids))
    return _rows(store, f"SELECT kind, count(*) FROM messages WHERE message_id IN ({listed}) "
                        "GROUP BY kind ORDER BY kind")


# -- sniffing -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "stream_lines.jsonl", "derived_twarc1_style.jsonl", "api_responses/get_search_raw.json",
    "api_responses/get_statuses.1.json", "api_responses/get_user_timeline_count.json",
    "api_responses/get_home_timeline.json", "api_responses/get_replies.json",
])
def test_v1_files_are_sniffed_as_twitter_v1(shared, name):
    assert sniff(shared / V1 / name)[0] == "twitter-v1"


def test_search_response_opening_with_search_metadata_is_sniffed(shared):
    # The real search file puts "search_metadata" before "statuses" (head -c 20 shows it), so the
    # generic first-item logic sees nothing; the reader finds the statuses array itself.
    path = shared / V1 / "api_responses/get_search_raw.json"
    assert path.read_bytes().startswith(b'{"search_metadata"')
    assert TwitterV1Reader.sniff(Sample(path, head_bytes(path))) >= 0.9


def test_rumoureval_posts_and_fixtures_are_sniffed(shared):
    assert sniff(shared / "rumoureval2017/traindev/posts.json")[0] == "twitter-v1"
    assert sniff(FIXTURES / "rumoureval/posts.json")[0] == "twitter-v1"
    assert sniff(FIXTURES / "stream_with_notices.jsonl")[0] == "twitter-v1"
    pheme = FIXTURES / "pheme/synthetic-event/1600000000000000001"
    assert sniff(pheme / "source-tweet/1600000000000000001.json")[0] == "twitter-v1"  # pretty-printed


@pytest.mark.parametrize("name", [
    "formats/twarc2_v2_jsonl/2sets.jsonl", "formats/twarc2_v2_jsonl/flat.jsonl",
    "formats/twarc2_v2_jsonl/brexit.jsonl", "formats/twarc2_v2_jsonl/users.jsonl",
    "formats/mastodon_api_json/public_timeline_fosstodon.json",
    "formats/mastodon_api_json/context_109294719267373593_mastodon.social.json",
    "formats/telegram_telethon_jsonl/bloomberg_1488156064.txt",
    "formats/reddit_pushshift_ndjson/RC_2005-12.ndjson",
    "formats/bluesky_atproto_json/atrrr_recorded/getAuthorFeed_andrew.heiss.phd.json",
    "rumoureval2017/traindev/structures.json", "rumoureval2017/traindev/post_labels_named.tsv",
    "rumoureval2017/traindev/thread_id.txt",
])
def test_other_formats_are_not_claimed(shared, name):
    path = shared / name
    assert TwitterV1Reader.sniff(Sample(path, head_bytes(path))) < 0.5


def test_pheme_companion_files_are_not_claimed():
    thread = FIXTURES / "pheme/synthetic-event/1600000000000000001"
    for name in ("structure.json", "annotation.json"):
        path = thread / name
        assert TwitterV1Reader.sniff(Sample(path, head_bytes(path))) == 0.0


# -- the real v1.1 files --------------------------------------------------------------------


def test_stream_lines_duplicate_and_extended_tweets(shared, store):
    path = shared / V1 / "stream_lines.jsonl"
    # SOURCE.md: 72 lines, 71 distinct ids; `jq -r .id_str | sort | uniq -d` -> 972473017333899264.
    assert ingest_counts(store, [path]) == (72, 71, 1, 0)
    # Distinct ids with jq: replies `select(.in_reply_to_status_id_str != null)` -> 32, quotes
    # `select(.quoted_status != null)` -> 8 (no tweet is both), so 71 - 32 - 8 = 31 posts; the 8
    # embedded quoted tweets are posts (`jq 'select(.quoted_status) | .quoted_status |
    # .in_reply_to_status_id_str'` is null for all), stored as context.
    assert _kinds(store, _ids(path)) == [("post", 31), ("quote", 8), ("reply", 32)]
    assert _rows(store, "SELECT kind, count(*) FROM messages WHERE NOT is_stub GROUP BY kind ORDER BY kind") \
        == [("post", 31 + 8), ("quote", 8), ("reply", 32)]
    # The 32 distinct reply parents (`jq -r '.in_reply_to_status_id_str // empty' | sort -u`), none of
    # them in the file, become stubs; messages: `jq -r '.id_str, (.quoted_status.id_str // empty),
    # (.in_reply_to_status_id_str // empty)' | sort -u | wc -l` -> 111.
    assert scalar(store, "SELECT count(*) FROM messages WHERE is_stub") == 32
    assert scalar(store, "SELECT count(*) FROM messages") == 111
    # Every reply has in_reply_to_user_id_str, so all 32 resolve; the 8 quoted tweets carry a user.
    assert _rows(store, "SELECT kind, count(*) FROM interactions GROUP BY kind ORDER BY kind") == [
        # jq: (tweet, quoted) x (extended_tweet.entities // entities).user_mentions, sort -u
        ("mention", 205),
        ("quote", 8),
        ("reply", 32),
    ]
    # jq, the same walk over .hashtags ("\(id) \(.text)", sort -u) -> 82; over .urls -> 22.
    assert scalar(store, "SELECT count(*) FROM tags") == 82
    assert scalar(store, "SELECT count(*) FROM links") == 22
    # Every stream tweet is truncated; the full text is extended_tweet.full_text (jq '... | length' -> 181).
    text = scalar(store, "SELECT text FROM messages WHERE message_id = 'twitter:972473017333899264'")
    assert len(text) == 181 and text.startswith("@FebruarysOwn8 I do not!")
    assert not text.endswith("…")


def test_ids_are_the_exact_64_bit_strings(shared, store):
    path = shared / V1 / "stream_lines.jsonl"
    ingest_counts(store, [path])
    ids = {json.loads(line)["id_str"] for line in path.read_text().splitlines()}
    # python: 24 of the 71 ids change when read as a float, the hazard id_str avoids.
    assert sum(int(float(i)) != int(i) for i in ids) == 24
    stored = {r[0] for r in _rows(store, "SELECT message_id FROM messages WHERE NOT is_stub")}
    assert {f"twitter:{i}" for i in ids} <= stored
    # Parsed with the Twitter format and its offset: created_at "Sat Mar 10 14:03:29 +0000 2018".
    assert scalar(store, "SELECT created_at FROM messages WHERE message_id = 'twitter:972473017333899264'") \
        == datetime(2018, 3, 10, 14, 3, 29)


def test_search_response_dict(shared, store):
    path = shared / V1 / "api_responses/get_search_raw.json"
    # jq below: -L /tmp 'include "tw"; .statuses[] | tweets | ...'
    # SOURCE.md: 100 statuses; jq '[.statuses[] | select(.retweeted_status)] | length' -> 74.
    assert ingest_counts(store, [path]) == (100, 100, 0, 0)
    assert scalar(store, "SELECT count(*) FROM messages WHERE kind = 'reshare'") == 74
    # Tweet objects plus reply parents with a known author: `... | .id_str, (select(
    # .in_reply_to_user_id_str != null) | .in_reply_to_status_id_str // empty)' | sort -u` -> 181.
    assert scalar(store, "SELECT count(*) FROM messages") == 181
    # Quoted tweets embedded in retweeted originals have no `user` in this file:
    # `... | select(.user == null) | .id_str' | sort -u | wc -l` -> 3.
    assert scalar(store, "SELECT count(*) FROM messages WHERE actor_id IS NULL") == 3
    assert _rows(store, "SELECT kind, count(*) FROM interactions GROUP BY kind ORDER BY kind") == [
        ("mention", 27),  # non-retweets with an author x user_mentions, "\(id) \(mention id)" sort -u
        ("quote", 12),    # non-retweets with an author whose quoted_status has user.id_str
        ("reply", 4),     # ... with in_reply_to_status_id_str and in_reply_to_user_id_str
        ("reshare", 74),  # top-level retweets whose retweeted_status has user.id_str
    ]
    # A retweeted original quotes a tweet that is not embedded (jq: select(.quoted_status == null and
    # .quoted_status_id_str != null) -> 690990595410530304 quoting 690989989119823872): quote_of
    # is kept, the target is unknown, so no quote edge.
    quoting, quoted = "'twitter:690990595410530304'", "'twitter:690989989119823872'"
    assert _rows(store, f"SELECT kind, quote_of FROM messages WHERE message_id = {quoting}") \
        == [("quote", quoted.strip("'"))]
    assert scalar(store, f"SELECT count(*) FROM messages WHERE message_id = {quoted}") == 0
    assert scalar(store, f"SELECT count(*) FROM interactions WHERE message_id = {quoting}") == 0


def test_bare_arrays_lookup_and_timelines(shared, store):
    folder = shared / V1 / "api_responses"
    # SOURCE.md: 100 (jq -r '.[].user.id_str' | sort -u -> only "12", @jack), 63, 20, 20 tweets.
    assert ingest_counts(store, [folder / "get_statuses.1.json"]) == (100, 100, 0, 0)
    assert _rows(store, "SELECT DISTINCT actor_id FROM messages") == [("twitter:12",)]
    assert scalar(store, "SELECT handle FROM actors WHERE actor_id = 'twitter:12'") == "jack"
    # jq '.[0] | {id_str, text}' -> {"id_str":"101","text":"sleep"}: a pre-snowflake id.
    assert scalar(store, "SELECT text FROM messages WHERE message_id = 'twitter:101'") == "sleep"
    # jq -r '.[].id_str' of the four files | sort | uniq -d | wc -l -> 6: get_home_timeline.json
    # and get_replies.json share 6 tweets (comm -12), so 63 + 20 + 20 = 103 read, 6 duplicates.
    assert ingest_counts(store, [folder / "get_user_timeline_count.json", folder / "get_home_timeline.json",
                                 folder / "get_replies.json"]) == (103, 97, 6, 0)


def test_retweet_of_a_quote_quirk(shared, store):
    path = shared / V1 / "api_responses/get_user_timeline_count.json"
    ingest_counts(store, [path])
    # jq '.[] | select(.id_str == "758520161947136000") | {is_quote_status, quoted_status_id_str,
    # rs: .retweeted_status.id_str, rq: .retweeted_status.quoted_status_id_str}':
    # true, "758514276185374720", "758519859470700544", "758514276185374720".
    assert _rows(store, "SELECT kind, reshare_of, quote_of, likes, reshares FROM messages "
                        "WHERE message_id = 'twitter:758520161947136000'") == [
        ("reshare", "twitter:758519859470700544", None, None, None)]
    assert _rows(store, "SELECT kind, quote_of, actor_id, likes, reshares FROM messages "
                        "WHERE message_id = 'twitter:758519859470700544'") == [
        ("quote", "twitter:758514276185374720", "twitter:709835222", 257, 92)]
    # The retweet is a reshare of @theshrillest, not a quote of @BroderickGreer; the original is.
    assert _rows(store, "SELECT kind, source, target FROM interactions WHERE message_id IN "
                        "('twitter:758520161947136000', 'twitter:758519859470700544') ORDER BY kind") == [
        ("quote", "twitter:709835222", "twitter:412008580"),
        ("reshare", "twitter:12", "twitter:709835222"),
    ]


@pytest.mark.slow
def test_twarc1_file_and_overlap_with_its_sources(shared, store):
    folder = shared / V1
    # SOURCE.md: 163 lines, 163 distinct ids, 100 users; jq: 109 retweets, 9 quotes
    # (select(.retweeted_status == null and (.quoted_status or .quoted_status_id_str))), 11 replies.
    assert ingest_counts(store, [folder / "derived_twarc1_style.jsonl"]) == (163, 163, 0, 0)
    # jq distinct ids: 109 reshares, 9 quotes, 11 replies (not quotes), so 163 - 129 = 34 posts.
    assert _kinds(store, _ids(folder / "derived_twarc1_style.jsonl")) == [
        ("post", 34), ("quote", 9), ("reply", 11), ("reshare", 109)]
    # jq -r '.user.id_str' | sort -u | wc -l -> 100 authors.
    ids = ", ".join(f"'{i}'" for i in _ids(folder / "derived_twarc1_style.jsonl"))
    assert scalar(store, f"SELECT count(DISTINCT actor_id) FROM messages WHERE message_id IN ({ids})") == 100
    assert _rows(store, "SELECT kind, count(*) FROM interactions GROUP BY kind ORDER BY kind") == [
        ("mention", 58), ("quote", 13), ("reply", 16), ("reshare", 109)]  # the jq walks above
    # The file is the search statuses plus the user timeline: re-reading the sources adds nothing.
    assert ingest_counts(store, [folder / "api_responses/get_search_raw.json",
                                 folder / "api_responses/get_user_timeline_count.json"]) == (163, 0, 163, 0)


# -- idempotency, damage, compression ---------------------------------------------------------


@pytest.mark.slow
def test_import_twice_and_a_gzipped_copy_store_nothing_new(shared, store, tmp_path):
    path = shared / V1 / "stream_lines.jsonl"
    assert ingest_counts(store, [path]) == (72, 71, 1, 0)
    assert ingest_counts(store, [path]) == (72, 0, 72, 0)
    copy_gz = tmp_path / "stream.jsonl.gz"
    copy_gz.write_bytes(gzip.compress(path.read_bytes()))
    assert sniff(copy_gz)[0] == "twitter-v1"
    assert ingest_counts(store, [copy_gz]) == (72, 0, 72, 0)
    assert scalar(store, "SELECT count(*) FROM messages") == 111


def test_broken_lines_are_quarantined_with_their_line_numbers(shared, store, tmp_path):
    lines = (shared / V1 / "stream_lines.jsonl").read_text(encoding="utf-8").splitlines()[:10]
    lines[3] = lines[3][: len(lines[3]) // 2]                      # line 4: cut in the middle
    bad_time = json.loads(lines[6])
    bad_time["created_at"] = "yesterday"                           # line 7: bad time
    lines[6] = json.dumps(bad_time)
    float_id = json.loads(lines[8])
    del float_id["id_str"]
    float_id["id"] = 9.724730173338993e17                          # line 9: id parsed as a float
    lines[8] = json.dumps(float_id)
    path = tmp_path / "damaged.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ingest_counts(store, [path], format="twitter-v1") == (10, 7, 0, 3)
    bad = sorted(store.quarantine(), key=lambda b: b["line"])
    assert [b["line"] for b in bad] == [4, 7, 9]
    assert bad[0]["reason"].startswith("invalid JSON")
    assert bad[1]["reason"] == "field 'created_at' is 'yesterday', expected ISO 8601, RFC 2822 or epoch"
    assert "field 'id' is 9.724730173338993e+17" in bad[2]["reason"]


def test_truncated_array_keeps_the_complete_items(shared, store, tmp_path):
    data = (shared / V1 / "api_responses/get_replies.json").read_bytes()
    cut = data[: len(data) // 2]
    # Complete items before the cut, counted with the stdlib decoder (independent of ijson).
    decoder, pos, complete = json.JSONDecoder(), 1, 0
    text = cut.decode("utf-8", "ignore")
    while True:
        try:
            _, end = decoder.raw_decode(text, pos)
        except ValueError:
            break
        complete += 1
        pos = end + 1
    # 11: also the number of items of the whole file whose last byte lies before the cut.
    assert complete == 11
    path = tmp_path / "replies.json"
    path.write_bytes(cut)
    assert ingest_counts(store, [path], format="twitter-v1") == (complete + 1, complete, 0, 1)
    assert store.quarantine()[0]["reason"].startswith(f"invalid JSON in item {complete + 1}")


def test_a_bad_tweet_in_a_page_does_not_lose_the_page():
    tweets = [json.loads(line) for line in (FIXTURES / "synthetic_tweets.jsonl").read_text().splitlines()]
    broken = copy.deepcopy(tweets[1])
    broken["user"]["created_at"] = "soon"
    records = TwitterV1Reader().map_record({"statuses": [tweets[0], broken, tweets[2]]})
    assert [m.id for m in records.messages] == ["twitter:1500000000000000001", "twitter:1500000008388608001"]
    assert [p.reason for p in records.problems] == [
        "item 2: field 'user.created_at' is 'soon', expected ISO 8601, RFC 2822 or epoch"]


@pytest.mark.parametrize(("record", "message"), [
    ("text", "record is str 'text', expected a tweet object"),
    ({"id_str": "12a", "user": {"id_str": "1"}}, "field 'id_str' is '12a', expected a numeric id"),
    ({"id_str": "5", "text": "no author"}, "tweet 5 has no 'user' object with an 'id_str'"),
    ({"id_str": "5", "user": {"id_str": "1"}, "retweeted_status": [1]},
     "field 'retweeted_status' is list [1], expected a tweet object"),
    ({"id_str": "5", "user": {"id_str": "1"}, "retweeted_status": {"id_str": "6", "user": {},
                                                                  "created_at": "then"}},
     "field 'retweeted_status.created_at' is 'then', expected ISO 8601, RFC 2822 or epoch"),
])
def test_bad_records_name_the_field(record, message):
    with pytest.raises(SourceError) as err:
        TwitterV1Reader().map_record(record)
    assert err.value.reason == message


# -- synthetic fixtures: mapping details ------------------------------------------------------


def test_synthetic_tweets_mapping(store):
    assert ingest_counts(store, [FIXTURES / "synthetic_tweets.jsonl"]) == (4, 4, 0, 0)
    rows = _rows(store, "SELECT message_id, kind, actor_id, reply_to, reshare_of, quote_of, likes, reshares, "
                        "is_stub FROM messages ORDER BY message_id")
    assert rows == [
        ("twitter:1500000000000000001", "post", "twitter:1000000001", None, None, None, 3, 2, False),
        ("twitter:1500000004194304001", "reply", "twitter:1000000002", "twitter:1500000000000000001",
         None, None, 0, 0, False),
        ("twitter:1500000008388608001", "quote", "twitter:1000000003", None, None,
         "twitter:1500000000000000001", 0, 7, False),
        # the retweet of the quote: no quote_of despite its top-level quoted_status_id_str, no counts
        ("twitter:1500000012582912001", "reshare", "twitter:1000000004", None,
         "twitter:1500000008388608001", None, None, None, False),
    ]
    text, url, extra = _rows(store, "SELECT text, url, extra FROM messages "
                                    "WHERE message_id = 'twitter:1500000000000000001'")[0]
    assert text.startswith("Testing the parser & the store") and text.endswith("https://t.co/aaaa")
    assert url == "https://twitter.com/alice_example/status/1500000000000000001"
    assert json.loads(extra) == {"source": "Example Client", "place": "Springfield, XX",
                                 "country_code": "XX", "coordinates": [-1.5, 52.25]}
    assert scalar(store, "SELECT text FROM messages WHERE kind = 'reply'") == "@alice_example agreed <3"
    # extended_tweet.entities win over the compatibility-mode entities.
    assert _rows(store, "SELECT tag FROM tags") == [("whuffie",)]
    assert _rows(store, "SELECT url, domain FROM links WHERE message_id = 'twitter:1500000000000000001'") == [
        ("https://www.example.org/a", "example.org")]
    # A retweet spreads its links but mentions nobody (its RT @carol mention is the reshare).
    retweet = "'twitter:1500000012582912001'"
    assert scalar(store, f"SELECT count(*) FROM links WHERE message_id = {retweet}") == 1
    assert scalar(store, f"SELECT count(*) FROM mentions WHERE message_id = {retweet}") == 0
    assert _rows(store, "SELECT kind, source, target FROM interactions ORDER BY kind, source") == [
        ("mention", "twitter:1000000001", "twitter:1000000002"),
        ("mention", "twitter:1000000002", "twitter:1000000001"),
        ("quote", "twitter:1000000003", "twitter:1000000001"),
        ("reply", "twitter:1000000002", "twitter:1000000001"),
        ("reshare", "twitter:1000000004", "twitter:1000000003"),
    ]
    assert _rows(store, "SELECT handle, url, followers, following, posts, verified, extra->>'location' "
                        "FROM actors WHERE actor_id = 'twitter:1000000001'") == [
        ("alice_example", "https://alice.example.org/", 10, 5, 100, False, "Nowhere")]


def test_stream_notices_are_skipped(store):
    # 5 lines: limit, delete, tweet, scrub_geo, tweet.
    assert ingest_counts(store, [FIXTURES / "stream_with_notices.jsonl"]) == (2, 2, 0, 0)


def test_pheme_layout_folder(store):
    report = store.ingest([str(FIXTURES / "pheme")])
    # 3 tweet files (one pretty-printed); structure.json and annotation.json are not tweets.
    assert sorted(f.path.rsplit("/", 1)[-1] for f in report.files) == [
        "1600000000000000001.json", "1600000251658240001.json", "1600000503316480001.json"]
    assert sorted(p.rsplit("/", 1)[-1] for p, _ in report.skipped) == ["annotation.json", "structure.json"]
    assert (report.total("stored"), report.total("quarantined")) == (3, 0)
    assert _rows(store, "SELECT source, target FROM interactions WHERE kind = 'reply' ORDER BY source") == [
        ("twitter:1000000005", "twitter:1000000006"), ("twitter:1000000006", "twitter:1000000005")]
    assert scalar(store, "SELECT count(*) FROM messages WHERE is_stub") == 0


# -- RumourEval 2017 --------------------------------------------------------------------------

@pytest.mark.slow
def test_rumoureval_counts_structure_and_labels(shared, store):
    folder = shared / "rumoureval2017" / "traindev"
    report = store.ingest([str(folder)])
    # Only posts.json is imported; its 7 companions are not read on their own.
    assert [f.path for f in report.files] == [str(folder / "posts.json")]
    assert len(report.skipped) == 7
    # jq 'length' posts.json -> 4519 posts; jq 'length' structures.json -> 297 threads.
    assert (report.total("read"), report.total("stored"), report.total("quarantined")) == (4519, 4519, 0)
    # jq '[.[] | .. | objects | keys[]] | length' structures.json -> 4860 tree nodes (SOURCE.md too),
    # of which 4519 have a post: 341 nodes without a post are stubs.
    assert scalar(store, "SELECT count(*) FROM messages") == 4860
    assert scalar(store, "SELECT count(*) FROM messages WHERE is_stub") == 4860 - 4519
    # 297 thread roots; python walk of the trees: every one of the 4222 other posts has a
    # parent with a post; 320 stubs have a parent, 21 are extra top-level nodes of 6 threads.
    assert _rows(store, "SELECT kind, is_stub, count(*), count(reply_to) FROM messages "
                        "GROUP BY ALL ORDER BY ALL") == [
        ("post", False, 297, 0), ("reply", False, 4222, 4222), ("reply", True, 341, 320)]
    # Replies resolve inside their thread.
    assert scalar(store, "SELECT count(*) FROM messages m JOIN messages p ON p.message_id = m.reply_to "
                         "WHERE p.thread_id = m.thread_id AND NOT m.is_stub AND NOT p.is_stub") == 4222
    assert scalar(store, "SELECT count(DISTINCT thread_id) FROM messages") == 297
    # sort post_label.txt | uniq -c: 910 0, 358 1, 344 2, 2907 3 (SOURCE.md: support/query/deny/comment).
    assert _rows(store, "SELECT extra->>'stance', count(*) FROM messages WHERE NOT is_stub "
                        "GROUP BY 1 ORDER BY 1") == [
        ("comment", 2907), ("deny", 344), ("query", 358), ("support", 910)]
    # sort thread_label.txt | uniq -c: 137 0, 62 1, 98 2 (true/false/unverified), on the roots only.
    assert _rows(store, "SELECT extra->>'veracity', count(*) FROM messages WHERE extra->>'veracity' "
                        "IS NOT NULL GROUP BY 1 ORDER BY 1") == [
        ("false", 62), ("true", 137), ("unverified", 98)]
    assert scalar(store, "SELECT count(*) FROM messages WHERE extra->>'veracity' IS NOT NULL "
                         "AND message_id <> thread_id") == 0
    # No authors at all: structure but no interactions.
    assert scalar(store, "SELECT count(*) FROM messages WHERE actor_id IS NOT NULL") == 0
    assert scalar(store, "SELECT count(*) FROM interactions") == 0
    # Idempotent.
    assert ingest_counts(store, [folder]) == (4519, 0, 4519, 0)


@pytest.mark.slow
def test_rumoureval_times_come_from_the_snowflake(shared, store):
    folder = shared / "rumoureval2017" / "traindev"
    ingest_counts(store, [folder / "posts.json"])
    post = "498280126254428160"
    # posts.json: "time": 1407605414.0 for this post; the snowflake holds the true UTC time.
    true_ms = (int(post) >> 22) + 1288834974657
    expected = datetime(1970, 1, 1) + timedelta(milliseconds=true_ms)
    assert scalar(store, f"SELECT created_at FROM messages WHERE message_id = 'twitter:{post}'") == expected
    # The file's value is 8 hours early (time.mktime on a UTC+8 machine), truncated to the second.
    assert int(true_ms / 1000) - 1407605414 == 28800
    assert snowflake_time(post) == expected
    # posts.json escapes & as &amp; (python: 187 texts contain "&amp;" or "&gt;"); none survives.
    assert scalar(store, "SELECT count(*) FROM messages WHERE text LIKE '%&amp;%' OR text LIKE '%&gt;%'") == 0


@pytest.mark.slow
def test_rumoureval_fixture_and_label_fallbacks(store, tmp_path):
    assert ingest_counts(store, [FIXTURES / "rumoureval"]) == (3, 3, 0, 0)
    rows = _rows(store, "SELECT message_id, kind, reply_to, thread_id, is_stub, extra FROM messages "
                        "ORDER BY message_id")
    root = "twitter:1700000000000000001"
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        (root, "post", None, root, False),
        ("twitter:1700000004194304001", "reply", root, root, False),
        ("twitter:1700000008388608001", "reply", root, root, True),
        ("twitter:1700000012582912001", "reply", "twitter:1700000008388608001", root, False),
        ("twitter:1700000016777216001", "reply", None, root, True),
    ]
    assert [json.loads(r[5]) if r[5] else None for r in rows] == [
        {"stance": "support", "veracity": "false"}, {"stance": "query"}, None, {"stance": "deny"}, None]
    assert _rows(store, "SELECT tag FROM tags") == [("rumour",)]
    assert scalar(store, f"SELECT text FROM messages WHERE message_id = '{root}'").startswith(
        "Synthetic claim & more")

    # Only the named TSVs: same labels. A bad code in the .txt files is quarantined, the rest kept.
    named = tmp_path / "named"
    named.mkdir()
    for name in ("posts.json", "structures.json", "post_labels_named.tsv", "thread_labels_named.tsv"):
        shutil.copy(FIXTURES / "rumoureval" / name, named / name)
    other = whuffie.open(tmp_path / "other.duckdb")
    try:
        assert ingest_counts(other, [named]) == (3, 3, 0, 0)
        assert scalar(other, "SELECT extra->>'veracity' FROM messages WHERE message_id = "
                             f"'{root}'") == "false"
        bad = tmp_path / "bad"
        shutil.copytree(FIXTURES / "rumoureval", bad)
        (bad / "post_label.txt").write_text("0\n7\n2\n")
        assert ingest_counts(other, [bad / "posts.json"]) == (4, 0, 3, 1)
        assert [q["reason"] for q in other.quarantine()] == [
            "post_label.txt line 2: stance code '7' is not one of 0, 1, 2, 3"]
    finally:
        other.close()

    # Without structures.json the posts are still read, as posts without threads.
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(FIXTURES / "rumoureval" / "posts.json", alone / "posts.json")
    third = whuffie.open(tmp_path / "third.duckdb")
    try:
        assert ingest_counts(third, [alone / "posts.json"]) == (3, 3, 0, 0)
        assert _rows(third, "SELECT DISTINCT kind, thread_id FROM messages") == [("post", None)]
    finally:
        third.close()


def test_rumoureval_post_gains_its_author_from_the_tweet(store, tmp_path):
    ingest_counts(store, [FIXTURES / "rumoureval"])
    tweets = tmp_path / "tweets.jsonl"
    root, reply = "1700000000000000001", "1700000004194304001"
    lines = [
        {"id_str": root, "created_at": "Wed Jun 21 12:00:00 +0000 2023", "text": "Synthetic claim",
         "user": {"id_str": "1000000007", "screen_name": "gina_example"}},
        {"id_str": reply, "created_at": "Wed Jun 21 12:00:01 +0000 2023", "text": "@gina_example true?",
         "in_reply_to_status_id_str": root, "in_reply_to_user_id_str": "1000000007",
         "user": {"id_str": "1000000008", "screen_name": "hal_example"}},
    ]
    tweets.write_text("".join(json.dumps(t) + "\n" for t in lines))
    # Both posts are already stored: duplicates whose missing author is filled in.
    assert ingest_counts(store, [tweets]) == (2, 0, 2, 0)
    assert _rows(store, "SELECT actor_id, thread_id, extra->>'stance' FROM messages "
                        f"WHERE message_id = 'twitter:{reply}'") == [
        ("twitter:1000000008", f"twitter:{root}", "query")]
    assert _rows(store, "SELECT source, target FROM interactions WHERE kind = 'reply'") == [
        ("twitter:1000000008", "twitter:1000000007")]


# -- properties: damaged input never escapes the ingest ----------------------------------------

_SYNTHETIC = [orjson.loads(line) for line in (FIXTURES / "synthetic_tweets.jsonl").read_bytes().splitlines()]
_PATHS = [
    ("id_str",), ("id",), ("user",), ("user", "id_str"), ("user", "created_at"), ("user", "entities"),
    ("user", "listed_count"), ("created_at",), ("text",), ("extended_tweet",),
    ("extended_tweet", "full_text"), ("extended_tweet", "entities"), ("entities",),
    ("entities", "user_mentions"), ("entities", "urls"), ("entities", "hashtags"), ("retweeted_status",),
    ("retweeted_status", "user"), ("quoted_status",), ("quoted_status_id_str",),
    ("in_reply_to_status_id_str",), ("in_reply_to_user_id_str",), ("place",), ("coordinates",),
    ("source",), ("lang",), ("favorite_count",), ("statuses",), ("delete",), ("_rumoureval",),
]
_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_SYNTHETIC), st.lists(st.tuples(st.sampled_from(_PATHS), _json), min_size=1,
                                             max_size=4))
def test_mutated_tweets_raise_only_source_errors(tweet, mutations):
    t = copy.deepcopy(tweet)
    for path, value in mutations:
        target = t
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[path[-1]] = value
    try:
        records = TwitterV1Reader().map_record(t)
    except SourceError as exc:
        assert exc.reason
        return
    # Whatever is mapped can be stored: extras must serialise as JSON.
    for m in records.messages + records.context:
        if m.extra:
            orjson.dumps(m.extra, default=str)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(_json)
def test_arbitrary_json_raises_only_source_errors(value):
    with contextlib.suppress(SourceError):
        TwitterV1Reader().map_record(value)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_or_garbled_files_never_raise_out_of_the_ingest(tmp_path, data):
    source = data.draw(st.sampled_from([
        FIXTURES / "synthetic_tweets.jsonl", FIXTURES / "rumoureval/posts.json",
        FIXTURES / "pheme/synthetic-event/1600000000000000001/source-tweet/1600000000000000001.json",
    ]))
    raw = source.read_bytes()
    cut = data.draw(st.integers(min_value=0, max_value=len(raw)))
    noise = data.draw(st.binary(max_size=40))
    where = data.draw(st.integers(min_value=0, max_value=cut))
    blob = raw[:where] + noise + raw[where:cut]
    assume(not blob.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x28\xb5\x2f\xfd")))
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    path = folder / "posts.json"  # the RumourEval companions stay absent or beside it
    path.write_bytes(blob)
    with whuffie.open(":memory:") as s:
        report = s.ingest([str(path)], format="twitter-v1")
        read, stored, dup, bad = (report.total(k) for k in ("read", "stored", "duplicate", "quarantined"))
    assert read == stored + dup + bad


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(_SYNTHETIC), st.sampled_from(_PATHS), _json), min_size=1,
                max_size=6))
def test_mutated_tweet_lines_are_stored_or_quarantined(tmp_path, cases):
    lines = []
    for tweet, path, value in cases:
        t = copy.deepcopy(tweet)
        target = t
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[path[-1]] = value
        lines.append(json.dumps(t))  # NaN / Infinity / huge integers included: not all valid JSON
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "tweets.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with whuffie.open(":memory:") as s:
        report = s.ingest([str(path)], format="twitter-v1")
        read, stored, dup, bad = (report.total(k) for k in ("read", "stored", "duplicate", "quarantined"))
        assert scalar(s, "SELECT status FROM imports") == "complete"
    assert read == stored + dup + bad
    # A line given "statuses": [] is a search response with no tweet in it: nothing to read.
    empty_page = any(p == ("statuses",) and v == [] for _, p, v in cases)
    assert bad + stored + dup >= 1 or empty_page

