"""The cascade-tree reader on the Twitter15 propagation trees.

Expected counts come from SOURCE.md (verified there) or from the shell commands noted,
run in ``shared/data/twitter15/twitter15/tree``:

* lines: ``wc -l F.txt``;
* self-loops: ``grep -cE "^(\\[[^]]*\\])->\\1$" F.txt``;
* distinct child nodes (= stored messages of a single file, as each user appears once
  per file): ``awk -F'->' '$1!=$2{print $2}' F.txt | sort -u | wc -l``.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections import Counter
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.model import Records
from whuffie.sources import get_reader, sniff
from whuffie.sources.base import Bad, Raw, Sample
from whuffie.sources.cascade_tree import CascadeTreeReader
from whuffie.sources.io import Input


def _snowflake(tweet_id: int) -> datetime:
    # Written out here rather than imported: (id >> 22) + Twitter's epoch, in ms.
    return datetime(1970, 1, 1) + timedelta(milliseconds=(tweet_id >> 22) + 1288834974657)


@pytest.fixture(scope="module")
def tw15(shared):
    folder = shared / "twitter15" / "twitter15"
    if not folder.is_dir():
        pytest.skip("twitter15 is absent")
    return folder


def tree(tw15, name):
    return tw15 / "tree" / f"{name}.txt"


def message(store, mid):
    rows = store.sql("SELECT * FROM messages WHERE message_id = ?", [mid])
    assert rows, f"{mid} not stored"
    row = rows[0]
    row["extra"] = json.loads(row["extra"]) if row["extra"] else None
    return row


# -- sniffing ------------------------------------------------------------------------------


def test_tree_files_are_sniffed_and_labels_are_not(tw15):
    assert sniff(tree(tw15, "265953285247209472"))[0] == "cascade-tree"
    # 523123779124600833 opens with a self-loop, not the ROOT line.
    assert sniff(tree(tw15, "523123779124600833"))[0] == "cascade-tree"
    assert sniff(tw15 / "label.txt")[0] is None


@pytest.mark.parametrize("head", [
    b"1 2\n2 3\n3 4\n",
    b'["a", "b", "c"]\n["d", "e", "f"]\n',
    b"['1', '2', '3']->['4', '5']\n",
    b"non-rumor:1\nfalse:2\n",
    b"[1, 2, 3] -> [4, 5, 6]\nsomething else\n",
])
def test_other_text_is_not_a_tree(head):
    assert CascadeTreeReader.sniff(Sample("x/f.txt", head)) == 0.0


def test_quoted_and_bare_variants_are_trees():
    head = b"[ROOT, ROOT, 0.0]->[1, 10, 0.0]\n[\"1\", \"10\", \"0.0\"] -> ['2', '11', '1.5']\n"
    assert CascadeTreeReader.sniff(Sample("x/10.txt", head)) == 0.95


# -- exact counts on real files ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("name", "lines", "loops", "children"), [
    ("265953285247209472", 218, 0, 212),   # plain; 6 repeated parent lines
    ("523123779124600833", 1131, 2, 1116),  # ROOT on line 47, an earlier root tweet
    ("576319832800555008", 82, 0, 80),     # a child with two different parents
    ("576829262927413248", 71, 0, 66),     # the root has a parent on line 46 (a cycle)
])
def test_single_file_counts(tw15, store, name, lines, loops, children):
    read, stored, duplicate, bad = ingest_counts(store, [tree(tw15, name)])
    assert (read, stored, bad) == (lines, children, loops)
    assert duplicate == lines - children - loops
    assert scalar(store, "SELECT count(*) FROM messages") == children
    assert scalar(store, "SELECT count(DISTINCT thread_id) FROM messages") == 1
    assert scalar(store, "SELECT min(thread_id) FROM messages") == f"twitter:{name}"
    # Every message but the root reshares another message of the file.
    assert scalar(store, "SELECT count(*) FROM interactions") == children - 1


def test_ids_times_and_label(tw15, store):
    ingest_counts(store, [tree(tw15, "265953285247209472")])
    root = message(store, "twitter:265953285247209472")
    assert (root["actor_id"], root["kind"], root["reshare_of"]) == ("twitter:39364684", "post", None)
    assert root["extra"] == {"delay_minutes": 0.0, "label": "false"}  # grep :265953285247209472 label.txt
    assert root["created_at"] == _snowflake(265953285247209472) == datetime(2012, 11, 6, 23, 6, 19, 33000)
    # Line 2, a node with its own tweet id, 0.45 minutes after the source.
    own = message(store, "twitter:265953402234748928")
    assert (own["actor_id"], own["kind"], own["reshare_of"]) == (
        "twitter:21061006", "reshare", "twitter:265953285247209472")
    assert own["created_at"] == root["created_at"] + timedelta(seconds=27)
    assert abs(own["created_at"] - _snowflake(265953402234748928)) < timedelta(seconds=1.2)
    assert own["extra"] == {"delay_minutes": 0.45}
    # Line 138: a retweet recorded with the source tweet's id gets a synthetic id.
    rt = message(store, "twitter:265953285247209472/55098305")
    assert (rt["actor_id"], rt["reshare_of"], rt["thread_id"]) == (
        "twitter:55098305", "twitter:265953285247209472", "twitter:265953285247209472")
    # awk -F'->' '$1!=$2{print $2}' | sort -u | grep -c "'265953285247209472'" gives 162 nodes
    # with the source's id, one of which is the root itself.
    assert scalar(store, "SELECT count(*) FROM messages WHERE message_id LIKE '%/%'") == 161
    edge = store.sql("SELECT source, target, kind FROM interactions WHERE message_id = ?",
                     ["twitter:265953285247209472/55098305"])
    assert edge == [{"source": "twitter:55098305", "target": "twitter:39364684", "kind": "reshare"}]


def test_dag_keeps_the_first_parent(tw15, store):
    # Lines 81 and 82 both have ['775378315', '576319832800555008', '6256.18'] as child;
    # line 81's parent is ['2838971849', '576319832800555008', '4.32'].
    ingest_counts(store, [tree(tw15, "576319832800555008")])
    m = message(store, "twitter:576319832800555008/775378315")
    assert m["reshare_of"] == "twitter:576319832800555008/2838971849"


def test_root_stays_a_post_when_a_line_gives_it_a_parent(tw15, store):
    # 576829262927413248.txt line 46 makes the root the child of ['22323324', ...].
    ingest_counts(store, [tree(tw15, "576829262927413248")])
    root = message(store, "twitter:576829262927413248")
    assert (root["kind"], root["reshare_of"]) == ("post", None)


def test_late_root_line_and_an_earlier_root_tweet(tw15, store):
    ingest_counts(store, [tree(tw15, "523123779124600833")])
    # Line 47: ['ROOT', 'ROOT', '0.0']->['5402612', '523115432736460802', '-33.17']: the root
    # is an earlier tweet; the cascade keeps the name of the labelled tweet (the file).
    root = message(store, "twitter:523115432736460802")
    assert (root["kind"], root["thread_id"]) == ("post", "twitter:523123779124600833")
    assert root["extra"] == {"delay_minutes": -33.17, "label": "false"}
    assert abs(root["created_at"] - _snowflake(523115432736460802)) < timedelta(seconds=1)
    # Delays count from the labelled tweet: 0.0 minutes would be its Snowflake time.
    assert root["created_at"] == _snowflake(523123779124600833) - timedelta(minutes=33.17)
    # Line 1 is the root's self-loop, line 517 the other one: both quarantined.
    assert [(b["line"], b["reason"]) for b in store.quarantine()] == [
        (1, "the node is its own parent (a self-loop of the tree); line skipped"),
        (517, "the node is its own parent (a self-loop of the tree); line skipped"),
    ]
    # awk -F'->' '$1!=$2{print $2}' | sort -u | grep -c "'523123779124600833'": retweets of the
    # labelled tweet, none of them by its (unknown) author.
    assert scalar(store, "SELECT count(*) FROM messages WHERE message_id LIKE "
                         "'twitter:523123779124600833/%'") == 977


def test_times_before_the_parent_are_kept(tw15, store):
    # Line 1 of 528822281972498432.txt: a child 578.82 minutes before its parent, the root.
    ingest_counts(store, [tree(tw15, "528822281972498432")])
    child = message(store, "twitter:528676615207653376")
    root = message(store, "twitter:528822281972498432")
    assert child["reshare_of"] == "twitter:528822281972498432"
    assert root["created_at"] - child["created_at"] == timedelta(minutes=578.82)


def test_two_cascades_sharing_a_root_tweet(tw15, store):
    a, b = tree(tw15, "689719109785907200"), tree(tw15, "689722724470620161")
    # 572 + 564 lines, 7 + 7 self-loops; 911 distinct message ids under the id rule
    # (529 + 518 nodes, 136 shared: the common root and retweets of it by the same users).
    read, stored, duplicate, bad = ingest_counts(store, [a, b])
    assert (read, stored, duplicate, bad) == (1136, 911, 1136 - 911 - 14, 14)
    assert scalar(store, "SELECT count(DISTINCT thread_id) FROM messages") == 2
    # The shared root tweet is stored once, with the first file's thread and label.
    root = message(store, "twitter:689694470779097088")
    assert root["thread_id"] == "twitter:689719109785907200"
    assert root["extra"]["label"] == "non-rumor"


@pytest.mark.slow
def test_reimport_stores_nothing_twice(tw15, store, tmp_path):
    path = tree(tw15, "523123779124600833")
    ingest_counts(store, [path])
    messages = scalar(store, "SELECT count(*) FROM messages")
    quarantined = scalar(store, "SELECT count(*) FROM quarantine")
    read, stored, duplicate, bad = ingest_counts(store, [path])
    assert (read, stored, duplicate, bad) == (1131, 0, 1129, 2)
    # A gzipped copy elsewhere (the label travels with it): still nothing new.
    other = tmp_path / "copy" / "tree" / "523123779124600833.txt.gz"
    other.parent.mkdir(parents=True)
    other.write_bytes(gzip.compress(path.read_bytes()))
    shutil.copy(tw15 / "label.txt", other.parent.parent / "label.txt")
    assert ingest_counts(store, [other])[1] == 0
    assert scalar(store, "SELECT count(*) FROM messages") == messages
    assert scalar(store, "SELECT count(*) FROM quarantine") == quarantined + 2


def test_label_file_is_a_companion(tw15, store, tmp_path):
    names = ["265953285247209472", "576319832800555008", "576829262927413248"]
    (tmp_path / "tw" / "tree").mkdir(parents=True)
    for n in names:
        shutil.copy(tree(tw15, n), tmp_path / "tw" / "tree")
    shutil.copy(tw15 / "label.txt", tmp_path / "tw")
    report = store.ingest([tmp_path / "tw"])
    assert [f.format for f in report.files] == ["cascade-tree"] * 3
    assert report.skipped == [(str(tmp_path / "tw" / "label.txt"), "read together with its companion file")]
    # grep -E ':(265953285247209472|576319832800555008|576829262927413248)$' label.txt
    labels = store.sql("SELECT thread_id, extra->>'label' AS label FROM messages "
                       "WHERE extra->>'label' IS NOT NULL ORDER BY thread_id")
    assert [(r["thread_id"], r["label"]) for r in labels] == [
        ("twitter:265953285247209472", "false"),
        ("twitter:576319832800555008", "unverified"),
        ("twitter:576829262927413248", "unverified"),
    ]


# -- small hand-made files -------------------------------------------------------------


def test_bad_label_lines_and_a_missing_root_are_reported(store, tmp_path):
    (tmp_path / "tree").mkdir()
    (tmp_path / "label.txt").write_text("true:500000000000000000\nnonsense\n")
    path = tmp_path / "tree" / "500000000000000000.txt"
    path.write_text("['1', '500000000000000000', '0.0']->['2', '500000000000000000', '1.0']\n"
                    "['2', '500000000000000000', '1.0']->['3', '600000000000000000', 'soon']\n")
    assert ingest_counts(store, [path], format="cascade-tree") == (4, 1, 0, 3)
    reasons = sorted(b["reason"] for b in store.quarantine())
    assert reasons == [
        "delay is 'soon', expected minutes since the source tweet",
        "label.txt line 2: expected 'label:source_tweet_id'",
        "no ['ROOT', 'ROOT', '0.0'] line: the file name is taken as the source tweet",
    ]
    # Without a ROOT line the source tweet's author is unknown: its id is borrowed.
    m = message(store, "twitter:500000000000000000/2")
    assert m["reshare_of"] == "twitter:500000000000000000/1"
    assert m["created_at"] == _snowflake(500000000000000000) + timedelta(minutes=1)


def test_platform_option_and_non_twitter_times(store, tmp_path):
    path = tmp_path / "cascade.txt"
    path.write_text("['ROOT', 'ROOT', '0.0']->['u1', 'p1', '0.0']\n"
                    "['u1', 'p1', '0.0']->['u2', 'p2', '3.5']\n")
    assert ingest_counts(store, [path], format="cascade-tree", options={"platform": "weibo"}) == (2, 2, 0, 0)
    m = message(store, "weibo:p2")
    assert (m["actor_id"], m["reshare_of"], m["thread_id"], m["created_at"]) == (
        "weibo:u2", "weibo:p1", "weibo:p1", None)
    assert m["extra"] == {"delay_minutes": 3.5}


def test_map_record_rejects_malformed_nodes():
    reader = get_reader("cascade-tree")
    good = {"cascade": "10", "root": ("1", "10", "0.0"), "parent": ("1", "10", "0.0"),
            "child": ("2", "11", "1.0")}
    assert reader.map_record(good).messages[0].id == "twitter:11"
    for bad in ({**good, "child": ("2", "11")}, {**good, "child": ("", "11", "1")},
                {**good, "child": ("2", "a b", "1")}, {**good, "parent": good["child"]},
                {**good, "child": ("2", "11", "nan")}, {**good, "cascade": 10}):
        with pytest.raises(SourceError):
            reader.map_record(bad)


# -- the whole data set, reader only -----------------------------------------------------


@pytest.mark.slow
def test_whole_twitter15_through_the_reader(tw15):
    """All 1,490 files read and mapped (about 15 s; a store import takes minutes, see the
    report: the store's per-file cost, not the reader, dominates)."""
    reader = get_reader("cascade-tree")
    lines = loops = 0
    ids: set[str] = set()
    actors: set[str] = set()
    threads: set[str] = set()
    labels: Counter = Counter()
    untimed = 0
    for path in sorted((tw15 / "tree").glob("*.txt")):
        with Input(path) as inp:
            for item in reader.read(inp):
                lines += 1
                if isinstance(item, Bad):
                    loops += 1
                    continue
                m = reader.map_record(item.value).messages[0]
                ids.add(m.id)
                actors.add(m.actor_id)
                threads.add(m.thread_id)
                untimed += m.created_at is None
                if item.value["parent"][0] == "ROOT":
                    labels[m.extra.get("label")] += 1
    # SOURCE.md: 624,458 edge lines incl. ROOT, 480,987 distinct user ids, 1,490 cascades,
    # labels false 370, non-rumor 374, true 372, unverified 374.
    assert lines == 624458
    assert loops == 1218  # cat *.txt | grep -cE "^(\[[^]]*\])->\1$"
    assert len(actors) == 480987
    assert len(threads) == 1490
    assert labels == {"false": 370, "non-rumor": 374, "true": 372, "unverified": 374}
    assert untimed == 0
    # The id rule written in awk (a second implementation): per file, a node's id is
    # tweet/user when its tweet id is the file's or the root's and it is not the root's
    # author, else tweet; `sort -u | wc -l` over all non-self-loop lines gives 598,258.
    assert len(ids) == 598258


# -- garbage -------------------------------------------------------------------------------

_GOOD = b"['ROOT', 'ROOT', '0.0']->['1', '300000000000000000', '0.0']\n"
_CHILD = b"['1', '300000000000000000', '0.0']->['2', '300000000000000001', '2.5']\n"


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(st.binary(max_size=120), max_size=6))
def test_garbage_lines_are_quarantined_and_good_lines_kept(tmp_path_factory, junk):
    folder = tmp_path_factory.mktemp("garbage")
    path = folder / "300000000000000000.txt"
    body = _GOOD + b"".join(j.replace(b"\n", b" ") + b"\n" for j in junk) + _CHILD
    path.write_bytes(body)
    with whuffie.open(":memory:") as s:
        f = s.ingest([path], format="cascade-tree").files[0]
        assert f.status == "complete"
        assert f.read == f.stored + f.duplicate + f.quarantined
        ids = {r["message_id"] for r in s.sql("SELECT message_id FROM messages")}
        assert {"twitter:300000000000000000", "twitter:300000000000000001"} <= ids


_texts = st.text(max_size=12)


@given(st.dictionaries(st.sampled_from(["cascade", "root", "parent", "child", "label"]),
                       st.none() | _texts | st.tuples(_texts, _texts, _texts) | st.lists(_texts)))
def test_nonsense_records_map_or_raise_source_error(value):
    try:
        out = get_reader("cascade-tree").map_record(value)
    except SourceError:
        return
    assert isinstance(out, Records) and len(out.messages) == 1


@given(st.text(max_size=200))
def test_read_never_raises_on_any_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("t") / "f.txt"
    path.write_bytes(text.encode("utf-8", "replace"))
    with Input(path) as inp:
        for item in get_reader("cascade-tree").read(inp):
            assert isinstance(item, Raw | Bad)
