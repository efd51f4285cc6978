"""The generic csv and jsonl readers: the coordination-network-toolkit samples
(../shared/data/formats/qut_coordination_csv), the FanChuan Reddit-Trump CSVs read with a column
mapping (../shared/data/fanchuan_reddit_trump) and the synthetic fixtures in tests/data/tabular.

Expected numbers come from each SOURCE.md, re-established with ``csv.reader`` / ``csv.DictReader``
(and ``ast.literal_eval`` for the URL lists) as noted beside each number.
"""

from __future__ import annotations

import gzip
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import DATA, ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.sources import Sample, sniff
from whuffie.sources.io import head_bytes
from whuffie.sources.tabular import CsvReader, JsonlReader, map_fields, split_list

FIX = DATA / "tabular"
QUT = "qut-coordination-csv:"
FANCHUAN_MAP = ("message_id=comment_id,reply_id=parent_comment_id,user_id=user_id,message=content,"
                "reply_user_id=parent_user_id")


@pytest.fixture
def qut(shared):
    return shared / "formats" / "qut_coordination_csv"


@pytest.fixture
def fanchuan(shared):
    folder = shared / "fanchuan_reddit_trump"
    return [folder / f"comments_{split}.csv" for split in ("train", "val", "test")]


# -- sniffing ----------------------------------------------------------------------------------


def test_toolkit_files_are_sniffed_as_csv(qut):
    assert sniff(qut / "sample_data.csv")[0] == "csv"
    # Starts with a UTF-8 BOM (SOURCE.md; head -c 3 | xxd: ef bb bf).
    assert (qut / "coretweet_test_input.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    assert sniff(qut / "coretweet_test_input.csv")[0] == "csv"
    assert CsvReader.sniff(Sample(FIX / "semicolon.csv", (FIX / "semicolon.csv").read_bytes())) >= 0.5


def test_other_tables_are_not_claimed(shared, fanchuan):
    others = [
        *(shared / "formats" / "twarc2_v2_jsonl" / "csv").glob("*.csv"),
        shared / "bitcoin_otc" / "soc-sign-bitcoinotc.csv",
        shared / "zachary_karate" / "karate_edges.tsv",
        shared / "allocine_fr" / "dev.tsv",
        shared / "rumoureval2017" / "traindev" / "post_labels_named.tsv",
        shared / "stackexchange_conlang_meta" / "Posts.xml",
        shared / "formats" / "twarc2_v2_jsonl" / "flat.jsonl",
        # A labelled table naming only user_id among the canonical fields needs --format csv.
        *fanchuan,
    ]
    for path in others:
        assert CsvReader.sniff(Sample(path, head_bytes(path))) < 0.5, path


def test_jsonl_sniffing_is_low_priority_and_specific(shared):
    mine = FIX / "messages.jsonl"
    assert 0.5 <= JsonlReader.sniff(Sample(mine, mine.read_bytes())) <= 0.6
    formats = shared / "formats"
    others = [
        formats / "twarc2_v2_jsonl" / "flat.jsonl",
        formats / "twarc2_v2_jsonl" / "users.jsonl",
        formats / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson",
        formats / "twitter_v1_1_json" / "stream_lines.jsonl",
        *(formats / "telegram_telethon_jsonl").glob("*.txt"),
        formats / "qut_coordination_csv" / "sample_data.csv",
    ]
    for path in others:
        assert JsonlReader.sniff(Sample(path, head_bytes(path))) < 0.5, path


# -- the toolkit's samples -----------------------------------------------------------------------


def test_sample_data_counts(qut, store):
    # csv.reader: 100 rows, 10 distinct user_id, 27 with repost_id, 15 with reply_id, none with both.
    assert ingest_counts(store, [qut / "sample_data.csv"]) == (100, 100, 0, 0)
    kinds = dict(store.con.execute("SELECT kind, count(*) FROM messages GROUP BY kind").fetchall())
    assert kinds == {"reshare": 27, "reply": 15, "post": 100 - 27 - 15}
    assert scalar(store, "SELECT count(*) FROM actors") == 10
    # Every repost_id and reply_id names a row of the file (csv.reader), so all resolve.
    assert dict(store.con.execute("SELECT kind, count(*) FROM interactions GROUP BY kind").fetchall()) == \
        {"reshare": 27, "reply": 15}
    # urls are Python list reprs: ast.literal_eval gives 96 distinct (row, url) pairs, and never a
    # token such as "['http://example.com/4',".
    assert scalar(store, "SELECT count(*) FROM links") == 96
    assert scalar(store, "SELECT count(*) FROM links "
                         "WHERE url NOT SIMILAR TO 'http://example.com/[0-9]+'") == 0
    row = store.con.execute("SELECT actor_id, text, created_at, reshare_of FROM messages "
                            "WHERE message_id = ?", [QUT + "2"]).fetchall()
    assert row[0][:2] == (QUT + "1", "camel") and row[0][3] == QUT + "1"
    # 1606451170.518142 epoch seconds, UTC.
    assert row[0][2].isoformat() == "2020-11-27T04:26:10.518142"


def test_coretweet_with_bom(qut, store):
    # csv.reader (utf-8-sig): 15 rows, 9 distinct user_id, 15 with repost_id pointing at 7 ids
    # (rtid0..rtid6) that are not in the file, empty urls.
    assert ingest_counts(store, [qut / "coretweet_test_input.csv"]) == (15, 15, 0, 0)
    assert scalar(store, "SELECT count(*) FROM messages WHERE kind = 'reshare'") == 15
    assert scalar(store, "SELECT count(DISTINCT reshare_of) FROM messages") == 7
    assert scalar(store, "SELECT count(*) FROM actors") == 9
    assert scalar(store, "SELECT count(*) FROM links") == 0
    # The BOM does not end up in the first column: message_id 0 is the id "0".
    assert scalar(store, f"SELECT text FROM messages WHERE message_id = '{QUT}0'") == \
        "Example tweet from uid0"
    # Timestamps are offsets in seconds (0, 59, 60, ...): read as epoch seconds.
    assert scalar(store, f"SELECT created_at FROM messages WHERE message_id = '{QUT}1'").isoformat() == \
        "1970-01-01T00:00:59"


@pytest.mark.slow
def test_reimport_and_compressed_copy_store_nothing_twice(qut, store, tmp_path):
    assert ingest_counts(store, [qut / "sample_data.csv"]) == (100, 100, 0, 0)
    assert ingest_counts(store, [qut / "sample_data.csv"]) == (100, 0, 100, 0)
    copy = tmp_path / "qut_coordination_csv" / "sample.csv.gz"
    copy.parent.mkdir()
    copy.write_bytes(gzip.compress((qut / "sample_data.csv").read_bytes()))
    assert ingest_counts(store, [copy]) == (100, 0, 100, 0)


# -- a labelled data set read with a mapping ------------------------------------------------------


def test_fanchuan_with_a_column_map(fanchuan, store):
    read, stored, duplicate, bad = ingest_counts(store, fanchuan, format="csv",
                                                 options={"map": FANCHUAN_MAP})
    # csv.DictReader: 555 + 417 + 416 = 1,388 rows; 1 has an empty comment_id (quarantined);
    # the other 1,387 comment_ids are distinct.
    assert (read, stored, duplicate, bad) == (1388, 1387, 0, 1)
    [q] = store.quarantine()
    # grep -n '^850,' comments_test.csv: the row starts on line 416 (quoted newlines before it).
    assert q["path"].endswith("comments_test.csv") and q["line"] == 416
    assert q["reason"] == "field 'message_id' is empty, expected the message's id"
    # 600 rows have parent_comment_id; 595 of the parents are among the rows and have their
    # parent_user_id, so 595 reply interactions.
    assert scalar(store, "SELECT count(*) FROM messages WHERE kind = 'reply'") == 600
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 595
    # Labels are kept in extra: 677 stored rows with support 2 (negative), 171 with parody 1.
    assert scalar(store, "SELECT count(*) FROM messages WHERE extra->>'support' = '2'") == 677
    assert scalar(store, "SELECT count(*) FROM messages WHERE extra->>'parody' = '1'") == 171
    # parent_user_id "540.0" (a pandas float) is the user 540.
    assert scalar(store, "SELECT count(*) FROM actors WHERE actor_id LIKE '%.0'") == 0
    # csv.DictReader: 1,151 distinct user_id over all rows, 1,150 over the rows with an id
    # (user 716 only wrote the quarantined row); parent_user_ids are all among them.
    assert scalar(store, "SELECT count(*) FROM actors") == 1150


def test_map_naming_a_missing_column_quarantines_the_file(fanchuan, store):
    assert ingest_counts(store, fanchuan[:1], format="csv", options={"map": "message_id=nope"}) == \
        (1, 0, 0, 1)
    assert store.quarantine()[0]["reason"].startswith("option map names column 'nope'")


# -- synthetic fixtures ---------------------------------------------------------------------------


def test_positional_mapping_urls_and_line_numbers(store):
    path = FIX / "positional.csv"
    assert ingest_counts(store, [path], format="csv", options={"platform": "t"}) == (6, 4, 0, 2)
    assert [(q["line"], q["reason"]) for q in store.quarantine()] == [
        (6, "field 'message_id' is empty, expected the message's id"),
        (7, "field 'timestamp' is 'next tuesday', expected ISO 8601, RFC 2822 or epoch"),
    ]
    links = store.con.execute("SELECT message_id, url FROM links ORDER BY 1, 2").fetchall()
    assert links == [("t:m1", "http://a.example/1"), ("t:m1", "http://b.example/2"),
                     ("t:m2", "http://a.example/1"), ("t:m2", "http://c.example/3"),
                     ("t:m3", "http://d.example/4")]
    assert scalar(store, "SELECT text FROM messages WHERE message_id = 't:m3'") == "a reply\nover two lines"
    assert scalar(store, "SELECT handle FROM actors WHERE actor_id = 't:u3'") == "carol"
    assert scalar(store, "SELECT reply_to FROM messages WHERE message_id = 't:m6'") == "t:m2"


def test_named_columns_semicolons_mentions_hashtags_and_extra(store):
    path = FIX / "semicolon.csv"
    assert ingest_counts(store, [path], options={"platform": "s"}) == (3, 2, 0, 1)
    assert store.quarantine()[0]["reason"] == "field 'likes' is 'many', expected a whole number"
    assert store.con.execute("SELECT message_id, actor_id, handle FROM mentions ORDER BY 1").fetchall() == \
        [("s:10", "s:@bob", "bob"), ("s:11", "s:@ann", "ann")]
    assert sorted(store.con.execute("SELECT tag FROM tags").fetchall()) == [("bread",), ("yeast",)]
    assert scalar(store, "SELECT likes FROM messages WHERE message_id = 's:10'") == 3
    assert scalar(store, "SELECT extra->>'Label' FROM messages WHERE message_id = 's:11'") == "neutral"


def test_columns_and_delimiter_options(store, tmp_path):
    path = tmp_path / "x" / "t.txt"
    path.parent.mkdir()
    path.write_text("a|b|c|d\n1|9|hello|7\n")
    assert ingest_counts(store, [path], format="csv",
                         options={"columns": "message_id,,message", "delimiter": "pipe"}) == (1, 1, 0, 0)
    assert store.con.execute("SELECT message_id, actor_id, text, extra FROM messages").fetchall() == \
        [("x:1", None, "hello", '{"b":"9","d":"7"}')]
    with pytest.raises(SourceError, match="not a canonical field"):
        CsvReader(columns="message_id,colour")
    with pytest.raises(SourceError, match="expected one character"):
        CsvReader(delimiter="::")


def test_legacy_encoding(store):
    assert ingest_counts(store, [FIX / "legacy.csv"], options={"platform": "l"}) == (1, 1, 0, 0)
    assert scalar(store, "SELECT text FROM messages") == "café crème"
    assert scalar(store, "SELECT handle FROM actors") == "zoë"


def test_jsonl_with_dotted_map(store):
    options = {"platform": "j", "map": "user_id=user.id,username=user.handle,message=text"}
    # 4 lines: 2 good, line 2 cut short, line 4 without message_id.
    assert ingest_counts(store, [FIX / "messages.jsonl"], format="jsonl", options=options) == (4, 2, 0, 2)
    assert [q["line"] for q in store.quarantine()] == [2, 4]
    rows = store.con.execute("SELECT message_id, actor_id, text, kind, reply_to, extra FROM messages "
                             "ORDER BY 1").fetchall()
    assert rows == [("j:1", "j:100", "hello", "post", None,
                     '{"user":{"id":100,"handle":"zoe"},"source":"web"}'),
                    ("j:2", "j:101", "hi zoe", "reply", "j:1", '{"user":{"id":101,"handle":"yan"}}')]
    assert dict(store.con.execute("SELECT kind, count(*) FROM interactions GROUP BY 1").fetchall()) == \
        {"reply": 1, "mention": 1}
    assert ingest_counts(store, [FIX / "messages.jsonl"], format="jsonl", options=options) == (4, 0, 2, 2)


def test_split_list_forms():
    assert split_list("['a', 'b']") == ["a", "b"]
    assert split_list('["a", "b"]') == ["a", "b"]
    assert split_list("a b  c") == ["a", "b", "c"]
    assert split_list("['http://x.org/1', 'http://y") == ["http://x.org/1", "http://y"]
    assert split_list([{"expanded_url": "http://x.org"}, None, 3]) == ["http://x.org", "3"]
    assert split_list("#a,#b", commas=True) == ["#a", "#b"]


# -- robustness ---------------------------------------------------------------------------------

_FIELDS = st.dictionaries(
    st.sampled_from(["message_id", "user_id", "username", "repost_id", "reply_id", "quote_id",
                     "reply_user_id", "message", "timestamp", "urls", "mentions", "hashtags", "likes",
                     "thread_id", "lang"]),
    st.one_of(st.text(max_size=30), st.integers(-5, 10**12), st.floats(), st.none(), st.booleans(),
              st.lists(st.text(max_size=5), max_size=3), st.just("[[[[[[[[[[[[[[[[[[[["),
              st.just("['a', ['b']]"), st.just("1606451170.5")),
    max_size=10)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(fields=_FIELDS)
def test_map_fields_raises_only_source_errors(fields):
    try:
        out = map_fields("p", fields, None)
    except SourceError:
        return
    assert len(out.messages) == 1 and out.messages[0].id.startswith("p:")


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=string.printable + "\x00\ufeff\"é", max_size=400),
       fmt=st.sampled_from(["csv", "jsonl"]))
def test_garbage_never_breaks_the_ingest(tmp_path_factory, text, fmt):
    path = tmp_path_factory.mktemp("g") / "garbage.txt"
    path.write_text("message_id,user_id,message\n" + text if fmt == "csv" else text, encoding="utf-8")
    with whuffie.open(":memory:") as s:
        report = s.ingest([path], format=fmt)
        read, stored, bad = (report.total(k) for k in ("read", "stored", "quarantined"))
        assert stored + bad == read


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 7695), junk=st.binary(max_size=16), at=st.integers(0, 7695))
def test_truncated_toolkit_file_never_breaks_the_ingest(tmp_path_factory, cut, junk, at):
    from tests.conftest import SHARED

    src = SHARED / "formats" / "qut_coordination_csv" / "sample_data.csv"
    if not src.is_file():
        pytest.skip("real data folder is absent")
    data = src.read_bytes()[:cut]
    data = data[:at] + junk + data[at:]
    path = tmp_path_factory.mktemp("t") / "sample.csv"
    path.write_bytes(data)
    with whuffie.open(":memory:") as s:
        report = s.ingest([path], format="csv")
        read, stored, bad = (report.total(k) for k in ("read", "stored", "quarantined"))
        assert stored + bad == read
        # Junk may split a row in two at a line break, never more.
        assert stored <= 100 + junk.count(b"\n") + junk.count(b"\r")
