"""The Discourse reader on the AskCI export (../shared/data/formats/discourse_topic_json, test-only
data) and on the synthetic fixtures in tests/data/discourse.

Expected numbers come from SOURCE.md, re-established with ``json.load`` over the files as noted
beside each number.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import DATA, ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.sources import Sample, sniff
from whuffie.sources.discourse import DiscourseReader
from whuffie.sources.io import head_bytes

SITE = "discourse:ask.cyberinfrastructure.org/"
FIX = DATA / "discourse"
F = "discourse:forum.example.org/"


@pytest.fixture(scope="module")
def folder(shared):
    return shared / "formats" / "discourse_topic_json"


@pytest.fixture(scope="module")
def askci(folder):
    """The whole export imported once (181 small files take the store a few seconds)."""
    with whuffie.open(":memory:") as s:
        report = s.ingest([folder])
        s.counts = tuple(report.total(k) for k in ("read", "stored", "duplicate", "quarantined"))
        yield s


def test_topics_and_topic_lists_are_sniffed(folder):
    for path in [*sorted((folder / "topics").glob("*.json"))[:20], *folder.glob("*topics-2019-10-19.json")]:
        assert sniff(path)[0] == "discourse", path
    for path in FIX.glob("*.json*"):
        assert sniff(path)[0] == "discourse", path


def test_other_formats_are_not_claimed(shared):
    formats = shared / "formats"
    others = [
        *(formats / "mastodon_api_json").glob("*.json"),
        *(formats / "bluesky_atproto_json" / "atrrr_recorded").glob("*.json"),
        formats / "twitter_v1_1_json" / "api_responses" / "get_search_raw.json",
        formats / "twarc2_v2_jsonl" / "flat.jsonl",
        formats / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson",
        formats / "rss_atom_blogs" / "jsonfeed" / "DaringFireball.json",
        shared / "stackexchange_conlang_meta" / "Posts.xml",
    ]
    for path in others:
        assert DiscourseReader.sniff(Sample(path, head_bytes(path))) < 0.5, path


@pytest.mark.slow
def test_askci_counts(askci):
    store = askci
    read, stored, duplicate, bad = store.counts
    # json.load over topics/*.json: 179 topics holding 593 posts; the two topic-list files
    # give no counted records.
    assert (read, stored, duplicate, bad) == (593, 593, 0, 0)
    kinds = dict(store.con.execute("SELECT kind, count(*) FROM messages GROUP BY kind").fetchall())
    assert kinds == {"post": 179, "reply": 593 - 179}
    # json.load: 110 distinct usernames and 110 distinct user_ids over posts and participants.
    assert scalar(store, "SELECT count(*) FROM actors") == 110
    assert scalar(store, "SELECT count(DISTINCT handle) FROM actors") == 110
    # json.load: 74 likes (actions_summary id 2 counts), 444 link_counts entries, all absolute and
    # distinct per post; the 366 posts without link_counts have no absolute href in cooked.
    assert scalar(store, "SELECT sum(likes) FROM messages") == 74
    assert scalar(store, "SELECT count(*) FROM links") == 444
    # json.load: 471 distinct (topic, tag) pairs, on the topics' first posts.
    assert scalar(store, "SELECT count(*) FROM tags") == 471
    assert scalar(store, "SELECT count(DISTINCT thread_id) FROM messages") == 179
    # Every message id carries the site from the file names.
    assert scalar(store, f"SELECT count(*) FROM messages WHERE message_id LIKE '{SITE}p%'") == 593


@pytest.mark.slow
def test_reply_threading(askci):
    store = askci
    # json.load: 88 posts have reply_to_post_number; in 2 of them (topic 113 post 3, topic 33
    # post 5) the numbered post is not in the file (has_deleted), so 86 resolve.
    assert scalar(store, "SELECT count(*) FROM messages WHERE extra->>'reply_to_post_number' IS NOT NULL") \
        == 2
    # 414 replies - 1 small action (post_type 3, "pinned.enabled") - 2 unresolved = 411
    # reply edges; every post has a user_id.
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 411
    # json.load: 325 linear replies (no reply_to_post_number, post_type 1) and 3 that name
    # post 1 reply to the first post; the other 83 that name a post reply to a later post.
    to_first = scalar(store, """
        SELECT count(*) FROM messages m JOIN messages f ON f.message_id = m.reply_to
        WHERE m.kind = 'reply' AND f.kind = 'post' AND f.thread_id = m.thread_id""")
    to_later = scalar(store, """
        SELECT count(*) FROM messages m JOIN messages f ON f.message_id = m.reply_to
        WHERE m.kind = 'reply' AND f.kind = 'reply' AND f.thread_id = m.thread_id""")
    assert (to_first, to_later) == (325 + 3, 83)
    # Topic 113: post 3 answered the deleted post 2 of 'toreliza'.
    row = store.con.execute("SELECT reply_to, extra->>'reply_to_username' FROM messages "
                            "WHERE message_id = ?", [SITE + "p441"]).fetchall()
    assert row == [(None, "toreliza")]


def test_first_post_carries_the_topic(folder, store):
    ingest_counts(store, [folder / "topics" / ("ask.cyberinfrastructure.org-Area-for-open-ended-topics-"
                                               "of-interest-post-1018-2019-10-19.json")])
    first = store.con.execute(
        "SELECT kind, title, thread_id, url, views, extra->>'category_id' FROM messages "
        "WHERE message_id = ?", [SITE + "p1957"]).fetchall()
    assert first == [("post", "What conferences might I attend that focus on Research Computing and "
                      "Facilitation?", SITE + "t1018",
                      "https://ask.cyberinfrastructure.org/t/what-conferences-might-i-attend-that-focus-"
                      "on-research-computing-and-facilitation/1018/1", 16, "23")]
    assert sorted(r[0] for r in store.con.execute("SELECT tag FROM tags").fetchall()) == \
        ["networking", "research-computing"]
    # 6 posts in the file (json.load); 5 replies to the first post or to each other.
    assert scalar(store, "SELECT count(*) FROM messages") == 6


@pytest.mark.slow
def test_reimport_stores_nothing_twice(folder, store):
    # The 46 topic files of the discussion category (ls | grep -c): 192 posts (json.load).
    paths = sorted((folder / "topics").glob("*Area-for-open-ended*.json"))
    assert len(paths) == 46
    assert ingest_counts(store, paths) == (192, 192, 0, 0)
    assert ingest_counts(store, paths) == (192, 0, 192, 0)


def test_solved_topic_fixture(store):
    path = FIX / "forum.example.org-solved-topic.json"
    # 5 posts; post 5 has created_at "yesterday": quarantined alone, the other 4 stored,
    # plus the accepted answer's rating.
    assert ingest_counts(store, [path]) == (4 + 1 + 1, 5, 0, 1)
    [bad] = store.quarantine()
    assert bad["reason"] == "field 'created_at' is 'yesterday', expected ISO 8601, RFC 2822 or epoch"
    assert scalar(store, "SELECT rater_id || ' ' || target_message_id || ' ' || kind FROM ratings") == \
        f"{F}u10 {F}p402 accept"
    replies = dict(store.con.execute("SELECT message_id, reply_to FROM messages").fetchall())
    assert replies == {F + "p400": None, F + "p401": F + "p400", F + "p402": F + "p401",
                       F + "p403": F + "p402"}
    # The @bob mention resolves to bob's id through the topic; the link comes from link_counts.
    assert store.con.execute("SELECT message_id, actor_id, handle FROM mentions").fetchall() == \
        [(F + "p402", F + "u11", "bob")]
    assert scalar(store, "SELECT url || ' ' || domain FROM links") == \
        "https://recipes.example.com/loaf example.com"
    assert sorted(r[0] for r in store.con.execute("SELECT tag FROM tags").fetchall()) == ["baking", "bread"]
    assert scalar(store, f"SELECT likes FROM messages WHERE message_id = '{F}p402'") == 3
    assert scalar(store, f"SELECT name FROM actors WHERE actor_id = '{F}u13'") == "Dee"


def test_json_lines_of_topics_with_a_broken_line(store):
    path = FIX / "forum.example.org-topics.jsonl"
    # 3 lines: topic 50 (2 posts), a cut-off line, topic 60 (2 posts + topic-level accepted_answer).
    assert ingest_counts(store, [path]) == (2 + 1 + 3, 5, 0, 1)
    [bad] = store.quarantine()
    assert bad["line"] == 2 and bad["reason"].startswith("invalid JSON")
    assert scalar(store, "SELECT rater_id || ' ' || target_message_id FROM ratings") == \
        f"{F}u20 {F}p601"


def test_topic_list_gives_actors_only(store):
    assert ingest_counts(store, [FIX / "forum.example.org-latest.json"]) == (0, 0, 0, 0)
    assert store.con.execute("SELECT actor_id, handle, name FROM actors ORDER BY 1").fetchall() == \
        [(F + "u10", "ann", "Ann"), (F + "u11", "bob", "Bob")]


def test_site_option_and_folder_default(store, tmp_path):
    topic = json.loads((FIX / "forum.example.org-solved-topic.json").read_text())
    path = tmp_path / "Meta.Forum.Test" / "40.json"
    path.parent.mkdir()
    path.write_text(json.dumps(topic))
    ingest_counts(store, [path])
    like = "SELECT count(*) FROM messages WHERE message_id LIKE ?"
    assert scalar(store, like, ["discourse:meta.forum.test/p%"]) == 4
    ingest_counts(store, [path], options={"site": "https://Other.Example/"})
    assert scalar(store, like, ["discourse:other.example/p%"]) == 4


def test_bad_records_raise_source_errors():
    r = DiscourseReader()
    with pytest.raises(SourceError, match=r"post_stream\.posts"):
        r.map_record({"site": "s", "topic": {"id": 1, "post_stream": {}}})
    out = r.map_record({"site": "s", "topic": {"id": 1, "post_stream": {"posts": [
        {"post_number": 1}, "junk", {"id": 5, "post_number": "two"}]}}})
    assert [p.reason for p in out.problems] == [
        "post has no 'id'", "post is str, expected a JSON object",
        "field 'post_number' is 'two', expected an integer"]


_POST_KEYS = st.sampled_from(["id", "post_number", "user_id", "username", "name", "created_at", "cooked",
                              "reply_to_post_number", "actions_summary", "link_counts", "reply_count",
                              "reads", "score", "post_type", "accepted_answer", "topic_id"])
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 5) | st.floats(allow_nan=True) | st.text(max_size=20)
    | st.just("2020-01-01T00:00:00Z") | st.just('<a class="mention" href="/u/x">@x</a>'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["id", "count", "url"]),
                                                                inner, max_size=3),
    max_leaves=8)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(posts=st.lists(st.dictionaries(_POST_KEYS, _VALUES, max_size=10), max_size=4),
       topic=st.dictionaries(st.sampled_from(["id", "title", "tags", "accepted_answer", "details", "slug"]),
                             _VALUES, max_size=4))
def test_nonsense_topics_raise_only_source_errors(posts, topic):
    topic["post_stream"] = {"posts": posts}
    try:
        out = DiscourseReader().map_record({"site": "s", "topic": topic})
    except SourceError:
        return
    # Every post is either a message or a quarantined problem.
    assert len(out.messages) + len(out.problems) == len(posts)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 6100), junk=st.binary(max_size=20), at=st.integers(0, 6100))
def test_damaged_files_never_break_the_ingest(tmp_path_factory, cut, junk, at):
    data = (FIX / "forum.example.org-solved-topic.json").read_bytes()[:cut]
    data = data[:at] + junk + data[at:]
    path = tmp_path_factory.mktemp("d") / "forum.example.org-t.json"
    path.write_bytes(data)
    with whuffie.open(":memory:") as s:
        report = s.ingest([path], format="discourse")
        read, stored, bad = (report.total(k) for k in ("read", "stored", "quarantined"))
        assert stored + bad == read and stored <= 5


def test_json_lines_of_long_real_topics(folder, store, tmp_path):
    # Three topic files re-serialised one per line (each line is longer than 4 kB); json.load:
    # topics 1018, 1021 and 1023 hold 6 + 2 + 8 = 16 posts.
    names = [f"ask.cyberinfrastructure.org-Area-for-open-ended-topics-of-interest-post-{t}-2019-10-19.json"
             for t in (1018, 1021, 1023)]
    topics = [json.loads((folder / "topics" / name).read_text()) for name in names]
    assert [len(t["post_stream"]["posts"]) for t in topics] == [6, 2, 8]
    path = tmp_path / "ask.cyberinfrastructure.org-dump.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in topics))
    assert min(len(json.dumps(t)) for t in topics) > 4096
    assert ingest_counts(store, [path]) == (16, 16, 0, 0)
    assert scalar(store, f"SELECT count(*) FROM messages WHERE message_id LIKE '{SITE}p%'") == 16
