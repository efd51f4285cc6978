"""The twarc2 reader on real twarc2 / twarc-csv files and a synthetic fixture.

Expected counts were established without the reader: with ``jq`` on the JSON lines
(commands in the comments), ``csv.DictReader`` / ``wc -l`` on the CSV files, a few
``python -c`` one-liners with ``json.loads``, or the folder's SOURCE.md. The synthetic
fixture ``tests/data/twarc2/synthetic.jsonl`` was written by hand for these tests; its
expected values follow from its content (commented there and here).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import DATA, ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.model import Records
from whuffie.sources import Sample, sniff
from whuffie.sources.io import head_bytes
from whuffie.sources.twarc2 import Twarc2Reader

TW = "formats/twarc2_v2_jsonl"
SYNTHETIC = DATA / "twarc2" / "synthetic.jsonl"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / TW


def _rows(store, sql, params=None):
    return store.con.execute(sql, params or []).fetchall()


def _data_ids(path: Path) -> list[str]:
    """Message ids of the tweets in ``data`` of a twarc2 file (plain json.loads)."""
    ids = []
    for line in path.read_text().splitlines():
        try:
            page = json.loads(line)
        except ValueError:
            continue
        data = page.get("data", page)
        for t in data if isinstance(data, list) else [data]:
            ids.append(f"twitter:{t['id']}")
    return ids


def _kinds(store, ids) -> dict[str, int]:
    rows = _rows(store, "SELECT kind, count(*) FROM messages WHERE message_id IN (SELECT unnest(?)) "
                        "GROUP BY kind", [list(ids)])
    return dict(rows)


# -- sniffing -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "2sets.jsonl", "brexit.jsonl", "kpop.jsonl", "withheld.jsonl", "flat.jsonl", "users.jsonl",
    "counts.jsonl", "streaming_output_with_error.jsonl", "csv/2sets.twarc-csv-0.7.2.csv",
    "csv/withheld.twarc-csv-0.7.2.csv",
])
def test_twarc2_files_are_sniffed_as_twarc2(shared, name):
    path = shared / TW / name
    assert Twarc2Reader.sniff(Sample(path, head_bytes(path))) >= 0.8
    assert sniff(path)[0] == "twarc2"


@pytest.mark.parametrize("name", [
    "twitter_v1_1_json/stream_lines.jsonl", "twitter_v1_1_json/derived_twarc1_style.jsonl",
    "twitter_v1_1_json/api_responses/get_search_raw.json",
    "twitter_v1_1_json/api_responses/get_statuses.1.json",
    "mastodon_api_json/public_timeline_fosstodon.json",
    "bluesky_atproto_json/atrrr_recorded/getTimeline_reverse-chronological.json",
    "reddit_pushshift_ndjson/RC_2005-12.ndjson", "qut_coordination_csv/sample_data.csv",
    "qut_coordination_csv/coretweet_test_input.csv",
    "telegram_telethon_jsonl/bloomberg_1488156064.txt",
])
def test_other_formats_are_not_claimed(shared, name):
    path = shared / "formats" / name
    assert Twarc2Reader.sniff(Sample(path, head_bytes(path))) < 0.5


def test_sniff_reads_content_not_names():
    # A v1.1 tweet in a file named like twarc2 output, and a v2 page named .txt.
    v1 = b'{"created_at": "Sat Mar 10 14:03:15 +0000 2018", "id_str": "1", "text": "x", "user": {}}\n'
    assert Twarc2Reader.sniff(Sample("twarc2.jsonl", v1)) == 0.0
    assert Twarc2Reader.sniff(Sample("page.txt", SYNTHETIC.read_bytes()[:65536])) == 0.95
    flat = b'{"id": "5", "text": "hi", "author_id": "1", "author": {"id": "1", "username": "a"}}\n'
    assert Twarc2Reader.sniff(Sample("x.json", flat)) == 0.9


# -- real files ---------------------------------------------------------------------------


def test_2sets_pages(shared, store):
    path = shared / TW / "2sets.jsonl"
    # SOURCE.md: 2 pages, 200 tweets in data (jq -r '.data[].id' | sort -u | wc -l: 200 distinct).
    assert ingest_counts(store, [path]) == (200, 200, 0, 0)
    # jq -c '.data[] | [.referenced_tweets // [] | .[].type] | sort' | sort | uniq -c:
    # 145 retweeted, 10 replied_to, 11 quoted, 34 none.
    assert _kinds(store, _data_ids(path)) == {"reshare": 145, "reply": 10, "quote": 11, "post": 34}
    # Full messages = distinct ids of data and includes.tweets:
    # jq -r '(.data[].id), (.includes.tweets // [] | .[].id)' | sort -u | wc -l -> 276.
    assert scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub") == 276
    # Every retweet resolves to an author: its original is included, or a stub was made from
    # "RT @user:" and the mention's id (SOURCE.md: 145 RT refs).
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reshare'") == 145
    # includes.users: jq -r '.includes.users[].id' | sort -u | wc -l -> 289, all with a name.
    assert scalar(store, "SELECT count(*) FROM actors WHERE name IS NOT NULL") == 289
    ids = _data_ids(path)
    # jq -r '.data[] | .id as $i | (.entities.hashtags // [])[] | "\($i) \(.tag|ascii_downcase)"'
    #   | sort -u | wc -l -> 636 ; the same for urls (expanded_url // url) -> 85 and
    # mentions ("\($i) \(.id)") -> 227.
    assert scalar(store, "SELECT count(*) FROM tags WHERE message_id IN (SELECT unnest(?))", [ids]) == 636
    assert scalar(store, "SELECT count(*) FROM links WHERE message_id IN (SELECT unnest(?))", [ids]) == 85
    assert scalar(store, "SELECT count(*) FROM mentions WHERE message_id IN (SELECT unnest(?))",
                  [ids]) == 227


def test_retweet_text_stays_truncated_and_original_is_full(shared, store):
    ingest_counts(store, [shared / TW / "2sets.jsonl"])
    # Values from the first tweet of the first page (jq '.data[0]') and its original in includes.
    rt = _rows(store, "SELECT kind, reshare_of, text, url, thread_id, reshares, likes, lang, created_at, "
                      "extra->>'source' FROM messages WHERE message_id = 'twitter:1440717170493689866'")[0]
    assert rt[:2] == ("reshare", "twitter:1440691114135080963")
    assert rt[2].startswith("RT @ChartsEcuador: #TopKPopEcuador\n@BTS_twt") and rt[2].endswith("#kpop\u2026")
    assert rt[3] == "https://twitter.com/ximerios12_/status/1440717170493689866"
    assert rt[4:8] == ("twitter:1440717170493689866", 20, 0, "es")
    assert rt[8].isoformat() == "2021-09-22T16:38:35"
    assert rt[9] == "Twitter Web App"
    original = _rows(store, "SELECT actor_id, text, likes, replies, quotes, is_stub FROM messages "
                            "WHERE message_id = 'twitter:1440691114135080963'")[0]
    assert original[0] == "twitter:902035056"
    assert original[1].endswith("#straykids https://t.co/isLejPBxdt")
    assert original[2:] == (73, 13, 3, False)


def test_withheld_mixed_endpoints_and_untrusted_result_count(shared, store):
    path = shared / TW / "withheld.jsonl"
    # 5 pages of 1 + 1 + 1 + 100 + 112 tweets (jq '.data | length'); the last page says
    # result_count 500, which is not trusted.
    assert ingest_counts(store, [path]) == (215, 215, 0, 0)
    # 83 retweeted, 62 replied_to, 8 quoted, 62 none (jq as for 2sets).
    assert _kinds(store, _data_ids(path)) == {"reshare": 83, "reply": 62, "quote": 8, "post": 62}
    # jq '[.data[] | select(.withheld)] | length' -> 1+1+0+0+11 = 13 tweets,
    # jq -r '.includes.users[] | select(.withheld) | .id' | sort -u | wc -l -> 5 users.
    assert scalar(store, "SELECT count(*) FROM messages WHERE (extra->'withheld') IS NOT NULL "
                         "AND message_id IN (SELECT unnest(?))", [_data_ids(path)]) == 13
    assert scalar(store, "SELECT count(*) FROM actors WHERE (extra->'withheld') IS NOT NULL") == 5
    # These 2021 mentions have no id: they are found by username among includes.users.
    # python json.loads: distinct (tweet, user) over data + includes.tweets, user = mention id or
    # the page's includes.users entry with that username (case-insensitive) -> 237.
    assert scalar(store, "SELECT count(*) FROM mentions") == 237
    # 38 retweets point at originals missing from includes (listed in errors); for 29 the
    # "RT @user:" user is known (mention id or includes.users) and a stub resolves them; 9 stay
    # unresolved. python json.loads, as described in SOURCE.md's quirks. 83 - 9 = 74.
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reshare'") == 74
    # Replies: every reply's parent is included or its author is in_reply_to_user_id.
    assert scalar(store, "SELECT count(*) FROM messages m WHERE kind = 'reply' AND NOT is_stub AND "
                         "NOT EXISTS (SELECT 1 FROM messages p WHERE p.message_id = m.reply_to)") == 0
    # errors arrays are API notices, not bad records.
    assert scalar(store, "SELECT count(*) FROM quarantine") == 0


def test_streaming_output_truncated_last_line(shared, store):
    path = shared / TW / "streaming_output_with_error.jsonl"
    # SOURCE.md: 8 lines, 7 parse (one tweet each, data is an object), the 8th is cut.
    assert ingest_counts(store, [path]) == (8, 7, 0, 1)
    [bad] = store.quarantine()
    assert bad["line"] == 8 and bad["reason"].startswith("invalid JSON")
    # head -7 | jq -c '[.data.referenced_tweets // [] | .[].type]': 3 replied_to, 1 quoted, 3 none.
    assert _kinds(store, _data_ids(path)) == {"reply": 3, "quote": 1, "post": 3}
    # The matching rule's id is a JSON number that needs 64 bits; its tag is null.
    assert scalar(store, "SELECT count(*) FROM messages WHERE extra->>'$.matching_rules[0]' = "
                         "'1377649934414049282'") == 7


def test_flattened_tweets(shared, store):
    path = shared / TW / "flat.jsonl"
    # wc -l: 100 lines, one flattened tweet each.
    assert ingest_counts(store, [path]) == (100, 100, 0, 0)
    # jq -c '[.referenced_tweets // [] | .[].type] | sort' | sort | uniq -c:
    # 47 retweeted, 31 replied_to, 8 quoted, 14 none.
    assert _kinds(store, _data_ids(path)) == {"reshare": 47, "reply": 31, "quote": 8, "post": 14}
    # jq -c 'select(.author.username) | .id' | wc -l -> 100: every tweet gets its url.
    assert scalar(store, "SELECT count(url) FROM messages WHERE message_id IN (SELECT unnest(?))",
                  [_data_ids(path)]) == 100
    # Inlined originals are full context messages: every retweet resolves.
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reshare'") == 47


def test_user_lookup_gives_profiles_and_pinned_tweets(shared, store):
    path = shared / TW / "users.jsonl"
    # jq -r '.data[].id' | wc -l -> 96 users, sort -u -> 91 distinct (the lookup repeats 5 ids).
    assert ingest_counts(store, [path]) == (96, 91, 5, 0)
    assert scalar(store, "SELECT count(*) FROM actors WHERE name IS NOT NULL") == 91
    # Users mentioned by the pinned tweets: jq -r '.includes.tweets[] | (.entities.mentions // [])[]
    # | .id' | sort -u, minus the looked-up ids (comm -13) -> 25 more actors, known by handle only.
    assert scalar(store, "SELECT count(*) FROM actors") == 91 + 25
    # jq -r '.includes.tweets[].id' | sort -u | wc -l -> 52 pinned tweets, context only.
    assert scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub") == 52
    # jq -c '.includes.tweets[] | select(.referenced_tweets)': one pinned tweet, 1450065273336352777,
    # is a retweet ("RT @JusTheNerd: ...") of 1449806618183491588, not included; the mention gives
    # JusTheNerd's id, 925362139560374272, so a stub is made.
    assert _rows(store, "SELECT message_id, actor_id FROM messages WHERE is_stub") == [
        ("twitter:1449806618183491588", "twitter:925362139560374272")]
    # jq -r '.data[] | select(.description != "") | .id' | sort -u | wc -l -> 81.
    assert scalar(store, "SELECT count(description) FROM actors") == 81
    row = _rows(store, "SELECT handle, name, followers, following, posts, verified, created_at, "
                       "extra->>'location', extra->>'listed_count' FROM actors "
                       "WHERE actor_id = 'twitter:119369819'")[0]
    # jq '.data[0]': DoDirty78, 580 / 518 / 55186, listed 12, NC, created 2010-03-03T12:49:24Z.
    assert row[:6] == ("DoDirty78", "DoDirtysHouse", 580, 518, 55186, False)
    assert row[6].isoformat() == "2010-03-03T12:49:24"
    assert row[7:] == ("NC", "12")
    # errors name pinned tweets that could not be found: not bad records.
    assert scalar(store, "SELECT count(*) FROM quarantine") == 0


def test_counts_are_recognised_but_give_no_records(shared, store):
    path = shared / TW / "counts.jsonl"
    # 169 count buckets: nothing to import, nothing quarantined.
    assert ingest_counts(store, [path]) == (0, 0, 0, 0)
    assert scalar(store, "SELECT count(*) FROM messages") == 0


# -- twarc-csv ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kinds"), [
    # SOURCE.md (csv.DictReader): rows with retweeted / replied_to / quoted id.
    ("2sets", {"reshare": 145, "reply": 10, "quote": 11, "post": 34}),
    ("withheld", {"reshare": 83, "reply": 62, "quote": 8, "post": 62}),
])
def test_csv_alone(shared, store, name, kinds):
    path = shared / TW / "csv" / f"{name}.twarc-csv-0.7.2.csv"
    n = sum(kinds.values())  # 200 / 215 rows, 84 columns (SOURCE.md)
    assert ingest_counts(store, [path]) == (n, n, 0, 0)
    assert _kinds(store, _data_ids(shared / TW / f"{name}.jsonl")) == kinds
    # twarc-csv writes new lines as "\n": none are left in the text.
    assert scalar(store, "SELECT count(*) FROM messages WHERE contains(text, '\\n')") == 0


@pytest.mark.parametrize("name", ["2sets", "withheld"])
def test_csv_and_jsonl_of_the_same_tweets_deduplicate(shared, store, name):
    jsonl = shared / TW / f"{name}.jsonl"
    path = shared / TW / "csv" / f"{name}.twarc-csv-0.7.2.csv"
    n = 200 if name == "2sets" else 215
    assert ingest_counts(store, [jsonl]) == (n, n, 0, 0)
    assert ingest_counts(store, [path]) == (n, 0, n, 0)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["2sets", "withheld"])
def test_csv_maps_like_the_json(shared, tmp_path, name):
    """A store made from the CSV alone holds the same values as one made from the JSON."""
    with whuffie.open(tmp_path / "a.duckdb") as a, whuffie.open(tmp_path / "b.duckdb") as b:
        a.ingest([shared / TW / f"{name}.jsonl"])
        b.ingest([shared / TW / "csv" / f"{name}.twarc-csv-0.7.2.csv"])
        ids = _data_ids(shared / TW / f"{name}.jsonl")
        cols = ("message_id, actor_id, created_at, kind, text, lang, reply_to, quote_of, reshare_of, "
                "thread_id, url, likes, reshares, replies, quotes, views")
        q = f"SELECT {cols} FROM messages WHERE kind <> 'reshare' AND message_id IN (SELECT unnest(?))"
        rows = _rows(a, q, [ids])
        assert rows and sorted(rows) == sorted(_rows(b, q, [ids]))
        # Retweets: the CSV gives them the original's text, which goes to the original.
        q = ("SELECT message_id, actor_id, created_at, reshare_of, thread_id, url FROM messages "
             "WHERE kind = 'reshare'")
        assert sorted(_rows(a, q)) == sorted(_rows(b, q))
        q = ("SELECT o.message_id, o.actor_id, o.text, o.likes, o.reshares FROM messages o "
             "WHERE o.message_id IN (SELECT reshare_of FROM messages)")
        merged = dict((r[0], r) for r in _rows(b, q))
        full = dict((r[0], r) for r in _rows(a, q))
        assert merged and all(full[k] == v for k, v in merged.items())


def test_csv_truncated_row_is_quarantined(shared, store, tmp_path):
    real = shared / TW / "csv" / "2sets.twarc-csv-0.7.2.csv"
    lines = real.read_text(encoding="utf-8").splitlines(keepends=True)
    text_start = lines[11].index(",2021-") + 30  # inside the text column of row 11
    path = tmp_path / "cut.csv"
    path.write_text("".join(lines[:11]) + lines[11][:text_start], encoding="utf-8")
    # header + 10 whole rows + 1 row cut short (line 12 of the file).
    assert ingest_counts(store, [path]) == (11, 10, 0, 1)
    [bad] = store.quarantine()
    assert bad["line"] == 12 and bad["reason"].endswith("expected 84 (as in the header)")


def test_csv_bad_values_are_quarantined_with_their_row(shared, store, tmp_path):
    real = shared / TW / "csv" / "2sets.twarc-csv-0.7.2.csv"
    with real.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = [next(reader) for _ in range(4)]
        header = reader.fieldnames
    rows[1]["created_at"] = "yesterday"
    rows[2]["public_metrics.like_count"] = "many"
    path = tmp_path / "bad.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        w.writerows(rows)
    assert ingest_counts(store, [path]) == (4, 2, 0, 2)
    assert [(b["line"], b["reason"]) for b in store.quarantine()] == [
        (3, "field 'created_at' is 'yesterday', expected ISO 8601, RFC 2822 or epoch"),
        (4, "field 'public_metrics.like_count' is 'many', expected an integer"),
    ]


# -- synthetic fixture --------------------------------------------------------------------


def test_synthetic_fixture(store):
    # 7 lines: a page of 4 tweets (103 has a bad time), an errors-only notice, a flattened user,
    # a count page, a streamed tweet, an unknown object and a cut line. Primary: 101, 102, 104,
    # the user bob and 106 = 5; quarantined: tweet 103, line 6, line 7 = 3.
    assert ingest_counts(store, [SYNTHETIC]) == (8, 5, 0, 3)
    assert [(b["line"], b["reason"]) for b in store.quarantine()] == [
        (1, "tweet 103: field 'created_at' is 'yesterday', expected ISO 8601, RFC 2822 or epoch"),
        (6, "record has no 'data' and is not a tweet (no 'id' and 'text'); its keys: foo"),
        (7, "invalid JSON (unexpected control character in string: line 1 column 40 (char 39))"),
    ]
    rows = {r[0]: r[1:] for r in _rows(store, "SELECT message_id, kind, actor_id, reply_to, quote_of, "
                                              "reshare_of, is_stub, text FROM messages")}
    assert rows == {
        # A reply that quotes: kind reply with both targets; escapes undone.
        "twitter:101": ("reply", "twitter:1", "twitter:90", "twitter:91", None, False,
                        "@bob look & see <this> #Whuffie https://t.co/x"),
        "twitter:102": ("reshare", "twitter:1", None, None, "twitter:92", False,
                        "RT @carol: hello world\u2026"),
        "twitter:104": ("quote", "twitter:1", None, "twitter:93", None, False, "quoting a deleted tweet"),
        "twitter:106": ("post", "twitter:1", None, None, None, False, "streamed"),
        # Stubs: the reply's parent (from in_reply_to_user_id) and the retweeted original (from
        # "RT @carol:" and includes.users, the mention having no id). 93 (deleted) has none.
        "twitter:90": ("post", "twitter:2", None, None, None, True, None),
        "twitter:92": ("post", "twitter:3", None, None, None, True, None),
        "twitter:91": ("post", "twitter:3", None, None, None, False, "the quoted one"),
        "twitter:95": ("post", "twitter:2", None, None, None, False, "pinned"),
    }
    assert dict(_rows(store, "SELECT kind, count(*) FROM interactions GROUP BY kind")) == {
        "reply": 1, "quote": 1, "reshare": 1, "mention": 2}
    assert _rows(store, "SELECT message_id, tag FROM tags") == [("twitter:101", "whuffie")]
    assert _rows(store, "SELECT url, domain FROM links") == [("https://www.example.org/a", "example.org")]
    assert _rows(store, "SELECT likes, reshares, replies, quotes, views, url, thread_id FROM messages "
                        "WHERE message_id = 'twitter:101'") == [
        (1, 2, 3, 4, 50, "https://twitter.com/alice/status/101", "twitter:90")]
    alice = _rows(store, "SELECT handle, url, followers, following, posts, verified, extra FROM actors "
                         "WHERE actor_id = 'twitter:1'")[0]
    assert alice[:6] == ("alice", "https://alice.example.org", 10, 20, 30, True)
    assert json.loads(alice[6]) == {"location": "Nowhere", "protected": False, "listed_count": 4}
    assert scalar(store, "SELECT extra->>'$.matching_rules[0]' FROM messages "
                         "WHERE message_id = 'twitter:106'") == "whuffie"


@pytest.mark.slow
def test_reimport_stores_nothing_twice(shared, store):
    path = shared / TW / "2sets.jsonl"
    assert ingest_counts(store, [path]) == (200, 200, 0, 0)
    before = _rows(store, "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM actors), "
                          "(SELECT count(*) FROM mentions), (SELECT count(*) FROM tags)")
    assert ingest_counts(store, [path]) == (200, 0, 200, 0)
    assert _rows(store, "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM actors), "
                        "(SELECT count(*) FROM mentions), (SELECT count(*) FROM tags)") == before
    # kpop.jsonl and brexit.jsonl are the two pages of 2sets.jsonl (100 tweets each).
    assert ingest_counts(store, [shared / TW / "kpop.jsonl", shared / TW / "brexit.jsonl"]) == \
        (200, 0, 200, 0)


def test_map_record_errors_name_the_field():
    r = Twarc2Reader()
    with pytest.raises(SourceError, match=r"record is str, expected a JSON object"):
        r.map_record("tweet")
    # A line holding an array: each item is mapped (or quarantined) on its own.
    out = r.map_record([{"id": "7", "text": "x"}, 2, [3]])
    assert [m.id for m in out.messages] == ["twitter:7"]
    assert [p.reason for p in out.problems] == [
        "array item: record is int, expected a JSON object",
        "array item: nested array, expected a page or a tweet object"]
    with pytest.raises(SourceError, match=r"field 'data' is 'x', expected a list or an object"):
        r.map_record({"data": "x"})
    with pytest.raises(SourceError, match=r"field 'author_id' is 'bob', expected a numeric id"):
        r.map_record({"id": "1", "text": "t", "author_id": "bob"})
    # Within a page, the bad tweet is a problem and the others are mapped.
    out = r.map_record({"data": [{"id": "1", "text": "a", "lang": 5}, {"id": "2", "text": "b"}]})
    assert [m.id for m in out.messages] == ["twitter:2"]
    assert [p.reason for p in out.problems] == ["tweet 1: field 'lang' is 5, expected a string"]
    # Missing optional fields are not errors.
    out = r.map_record({"id": "3", "text": "bare"})
    assert (out.messages[0].actor_id, out.messages[0].created_at, out.messages[0].kind) == \
        (None, None, "post")


# -- property tests -----------------------------------------------------------------------

_SETTINGS = settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow])


def _real_lines() -> list[bytes]:
    if not REAL.is_dir():
        return []
    stream = (REAL / "streaming_output_with_error.jsonl").read_bytes().splitlines()[:7]
    flat = (REAL / "flat.jsonl").read_bytes().splitlines()[:5]
    return stream + flat + [(REAL / "kpop.jsonl").read_bytes().strip()]


LINES = _real_lines()


def _ingest_lines(tmp_path: Path, lines: list[bytes], name: str = "t.jsonl"):
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    with whuffie.open(":memory:") as store:
        counts = ingest_counts(store, [path], format="twarc2")
        bad = [q["line"] for q in store.quarantine()]
        stored = {r[0] for r in _rows(store, "SELECT message_id FROM messages WHERE NOT is_stub")}
    return counts, bad, stored


@pytest.mark.slow
@pytest.mark.skipif(not LINES, reason="real data folder is absent")
@_SETTINGS
@given(data=st.data())
def test_truncated_real_lines_are_quarantined_and_the_rest_imported(tmp_path_factory, data):
    # Lines 3.. of the choice: streamed tweets, flattened tweets and a 100-tweet page.
    line = data.draw(st.sampled_from(LINES[2:]))
    cut = data.draw(st.integers(1, len(line) - 1))
    # A proper prefix of a JSON object line is never valid JSON.
    counts, bad, stored = _ingest_lines(tmp_path_factory.mktemp("cut"), [LINES[0], line[:cut], LINES[1]])
    assert counts == (3, 2, 0, 1)
    assert bad == [2]
    first, second = (f"twitter:{orjson.loads(x)['data']['id']}" for x in LINES[:2])
    assert {first, second} <= stored


@pytest.mark.slow
@pytest.mark.skipif(not LINES, reason="real data folder is absent")
@_SETTINGS
@given(data=st.data())
def test_garbled_real_lines_never_break_the_import(tmp_path_factory, data):
    line = bytearray(data.draw(st.sampled_from(LINES[2:12])))
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(line) - 1))
        line[pos] = data.draw(st.sampled_from(b'{}[]":,0a\\ \x00\xff'))
    counts, _bad, stored = _ingest_lines(tmp_path_factory.mktemp("garble"), [bytes(line), LINES[0]])
    read, ok, dup, quarantined = counts
    assert read == ok + dup + quarantined
    assert f"twitter:{orjson.loads(LINES[0])['data']['id']}" in stored


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                     st.text(max_size=12), st.sampled_from(["1", "12", "2021-09-22T16:38:35.000Z", "",
                                                            "RT @a: x", "retweeted", "replied_to"]))
_KEYS = st.sampled_from(["id", "text", "author_id", "created_at", "referenced_tweets", "type", "entities",
                         "mentions", "hashtags", "urls", "tag", "username", "expanded_url", "url",
                         "public_metrics", "like_count", "in_reply_to_user_id", "conversation_id", "lang",
                         "withheld", "data", "includes", "users", "tweets", "author", "name",
                         "matching_rules", "pinned_tweet", "errors", "tweet_count", "start"])
_JSON = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(_KEYS, inner, max_size=6)),
                     max_leaves=30)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(value=_JSON)
def test_map_record_raises_only_source_errors_and_types_are_clean(value):
    try:
        out = Twarc2Reader().map_record(value)
    except SourceError:
        return
    assert isinstance(out, Records)
    for m in out.messages + out.context:
        assert m.id.startswith("twitter:") and m.kind in ("post", "reply", "reshare", "quote")
        assert all(v is None or type(v) is str for v in (m.text, m.lang, m.url, m.thread_id, m.actor_id))
    for a in out.actors + out.profiles:
        assert all(v is None or type(v) is str for v in (a.handle, a.name, a.url, a.description))
        assert a.verified is None or type(a.verified) is bool
    assert all(type(x.handle) in (str, type(None)) for x in out.mentions)
    assert all(type(t.tag) is str for t in out.tags) and all(type(x.url) is str for x in out.links)


@pytest.mark.slow
@pytest.mark.skipif(not LINES, reason="real data folder is absent")
@_SETTINGS
@given(value=_JSON)
def test_nonsense_json_lines_never_break_the_import(tmp_path_factory, value):
    line = json.dumps(value).encode()
    counts, _bad, stored = _ingest_lines(tmp_path_factory.mktemp("junk"), [line, LINES[0]])
    read, ok, dup, quarantined = counts
    assert read == ok + dup + quarantined
    assert f"twitter:{orjson.loads(LINES[0])['data']['id']}" in stored
