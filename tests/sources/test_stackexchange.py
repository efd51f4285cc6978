"""The Stack Exchange reader on the Conlang Meta dump (../shared/data/stackexchange_conlang_meta).

Expected numbers come from its SOURCE.md, re-established with ``grep -c '<row '`` per file
and with ``xml.etree.ElementTree`` as noted beside each number.
"""

from __future__ import annotations

import gzip
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.sources import Sample, sniff
from whuffie.sources.io import head_bytes
from whuffie.sources.stackexchange import StackExchangeReader

FOLDER = "stackexchange_conlang_meta"
SITE = "stackexchange:stackexchange_conlang_meta/"
TABLES = ("Badges", "Comments", "PostHistory", "PostLinks", "Posts", "Tags", "Users", "Votes")


@pytest.fixture
def dump(shared):
    return shared / FOLDER


def test_every_table_is_sniffed_as_stackexchange(dump):
    for table in TABLES:
        assert sniff(dump / f"{table}.xml")[0] == "stackexchange", table


def test_other_formats_are_not_claimed(shared):
    others = [
        shared / "formats" / "rss_atom_blogs" / "DaringFireball.atom",
        shared / "formats" / "rss_atom_blogs" / "scriptingNews.rss",
        shared / "formats" / "rss_atom_blogs" / "Subs.opml",
        shared / "formats" / "qut_coordination_csv" / "sample_data.csv",
        shared / "formats" / "twarc2_v2_jsonl" / "flat.jsonl",
        shared / "polblogs" / "polblogs.gml",
        next((shared / "formats" / "discourse_topic_json" / "topics").glob("*.json")),
    ]
    for path in others:
        assert StackExchangeReader.sniff(Sample(path, head_bytes(path))) < 0.5, path


@pytest.mark.slow
def test_whole_dump_counts(dump, store):
    read, stored, duplicate, bad = ingest_counts(store, [dump])
    # grep -c '<row ': Posts 177, Comments 230, Users 272. Votes: VoteTypeId counted with
    # ElementTree: 950 up (2), 133 down (3), 11 accept (1), 10 favourite (5), no bounty (8);
    # the 15 moderation votes (10: 9, 11: 3, 16: 2, 15: 1) give nothing. Posts also give one
    # accept rating per AcceptedAnswerId (11, ElementTree).
    votes = 950 + 133 + 11 + 10
    assert (read, stored, duplicate, bad) == (177 + 11 + 230 + 272 + votes,) * 2 + (0, 0)
    kinds = dict(store.con.execute("SELECT kind, count(*) FROM messages GROUP BY kind").fetchall())
    # ElementTree, PostTypeId: 54 x 1, 115 x 2, 4 x 4 + 4 x 5 (tag wikis).
    assert kinds == {"question": 54, "answer": 115, "post": 8, "comment": 230}
    assert scalar(store, "SELECT count(*) FROM messages WHERE extra->>'post_type' IN ('4', '5')") == 8
    # 272 user rows (grep -c), all of them profiles; every OwnerUserId is among them.
    assert scalar(store, "SELECT count(*) FROM actors") == 272
    ratings = dict(store.con.execute("SELECT kind, count(*) FROM ratings GROUP BY kind").fetchall())
    assert ratings == {"upvote": 950, "downvote": 133, "accept": 11 + 11, "favourite": 10}
    assert scalar(store, "SELECT sum(value) FROM ratings WHERE kind IN ('upvote', 'downvote')") == 950 - 133


@pytest.mark.slow
def test_reply_interactions_match_an_independent_count(dump, store):
    ingest_counts(store, [dump])
    # Python + ElementTree: answers with an OwnerUserId whose question has one: 109;
    # comments with a UserId whose post has an OwnerUserId: 207. 109 + 207 = 316.
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 316
    # Every answer's ParentId and every comment's PostId resolves (SOURCE.md).
    assert scalar(store, """SELECT count(*) FROM messages m LEFT JOIN messages p
                            ON p.message_id = m.reply_to
                            WHERE m.reply_to IS NOT NULL AND p.message_id IS NULL""") == 0
    # Votes with a rater: 10 favourites (the only rows with UserId) on owned posts, plus the 10
    # accepted answers whose question and answer both have an OwnerUserId (ElementTree).
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'vote'") == 20


def test_accepted_answers_become_ratings_from_the_asker(dump, store):
    ingest_counts(store, [dump / "Posts.xml"])
    # Post 1 (OwnerUserId 14) has AcceptedAnswerId 2, whose owner is a deleted user (no id).
    row = store.con.execute(
        "SELECT rater_id, target_message_id, kind, value, created_at FROM ratings "
        "WHERE rating_id = ?", [SITE + "accept1"]).fetchall()
    assert row == [(SITE + "u14", SITE + "p2", "accept", 1.0, None)]
    assert scalar(store, "SELECT count(*) FROM ratings WHERE rating_id LIKE '%/accept%'") == 11
    q = store.con.execute(
        "SELECT kind, title, thread_id, views, extra->>'answer_count' FROM messages "
        "WHERE message_id = ?", [SITE + "p1"]).fetchall()
    assert q == [("question", "Are questions asked in conlangs accepted on this site?", SITE + "p1",
                  172, "3")]
    a = store.con.execute("SELECT actor_id, reply_to, thread_id, extra->>'owner_display_name' "
                          "FROM messages WHERE message_id = ?", [SITE + "p2"]).fetchall()
    assert a == [(None, SITE + "p1", SITE + "p1", "user23")]


def test_tags_text_links_and_community_user(dump, store):
    ingest_counts(store, [dump / "Posts.xml"])
    # ElementTree: 106 <tag> entries over the 54 questions; 52 are 'discussion'.
    assert scalar(store, "SELECT count(*) FROM tags") == 106
    assert scalar(store, "SELECT count(*) FROM tags WHERE tag = 'discussion'") == 52
    # 7 posts have OwnerUserId="-1" (the Community bot): kept as actor u-1.
    assert scalar(store, f"SELECT count(*) FROM messages WHERE actor_id = '{SITE}u-1'") == 7
    text = scalar(store, f"SELECT text FROM messages WHERE message_id = '{SITE}p1'")
    assert text.startswith("We anticipate conlang specialists") and "<p>" not in text
    # Times are ISO without a zone, kept as UTC.
    assert scalar(store, f"SELECT created_at FROM messages WHERE message_id = '{SITE}p1'").isoformat() == \
        "2018-02-06T20:19:50.957000"


def test_users_are_profiles(dump, store):
    ingest_counts(store, [dump / "Users.xml"])
    row = store.con.execute(
        "SELECT handle, name, extra->>'reputation', extra->>'account_id', extra->>'location' "
        "FROM actors WHERE actor_id = ?", [SITE + "u1"]).fetchall()
    assert row == [("Adam Lear", "Adam Lear", "101", "37099", "New York, NY")]
    about = scalar(store, f"SELECT description FROM actors WHERE actor_id = '{SITE}u-1'")
    assert about.startswith("Hi, I'm not really a person.")
    # ElementTree: 98 users have a WebsiteUrl attribute, 13 of them empty ("" is no URL).
    assert scalar(store, "SELECT count(url) FROM actors") == 98 - 13


def test_each_file_reads_on_its_own_and_ignored_tables_give_nothing(dump, store):
    # Votes alone: the 1,104 mapped vote rows; anonymous up/down votes have no rater.
    assert ingest_counts(store, [dump / "Votes.xml"]) == (1104, 1104, 0, 0)
    assert scalar(store, "SELECT count(*) FROM ratings WHERE rater_id IS NULL") == 950 + 133 + 11
    for table in ("Badges", "Tags", "PostLinks", "PostHistory"):
        assert ingest_counts(store, [dump / f"{table}.xml"]) == (0, 0, 0, 0)


@pytest.mark.slow
def test_reimport_stores_nothing_twice(dump, store, tmp_path):
    first = ingest_counts(store, [dump])
    assert ingest_counts(store, [dump]) == (first[0], 0, first[0], 0)
    # A compressed copy in a folder of the same name: same site, same ids, all duplicates.
    copy = tmp_path / FOLDER / "Posts.xml.gz"
    copy.parent.mkdir()
    copy.write_bytes(gzip.compress((dump / "Posts.xml").read_bytes()))
    assert sniff(copy)[0] == "stackexchange"
    assert ingest_counts(store, [copy]) == (188, 0, 188, 0)


def test_site_option_and_host_urls(dump, store, tmp_path):
    folder = tmp_path / "Conlang.Meta.StackExchange.com"
    folder.mkdir()
    shutil.copy(dump / "Comments.xml", folder)
    ingest_counts(store, [folder / "Comments.xml"])
    # The default site is the folder name, lower-cased; a host-like site gives URLs.
    assert scalar(store, "SELECT url FROM messages WHERE message_id = "
                         "'stackexchange:conlang.meta.stackexchange.com/c2'") == \
        "https://conlang.meta.stackexchange.com/posts/comments/2"
    ingest_counts(store, [folder / "Comments.xml"], options={"site": "https://Other.Example/"})
    assert scalar(store, "SELECT count(*) FROM messages WHERE message_id LIKE "
                         "'stackexchange:other.example/c%'") == 230


def test_broken_row_is_quarantined_and_the_rest_imported(dump, store, tmp_path):
    lines = (dump / "Posts.xml").read_bytes().splitlines(keepends=True)
    # Line 10 becomes a row with a raw '<' in an attribute (not well-formed XML).
    lines.insert(9, b'  <row Id="9999" PostTypeId="1" Body="a < b" />\r\n')
    path = tmp_path / "site" / "Posts.xml"
    path.parent.mkdir()
    path.write_bytes(b"".join(lines))
    assert ingest_counts(store, [path]) == (188 + 1, 188, 0, 1)
    [bad] = store.quarantine()
    assert bad["line"] == 10
    assert bad["reason"].startswith("invalid XML (Unescaped '<' not allowed in attributes values")


def test_truncated_file_keeps_the_rows_before_the_cut(dump, store, tmp_path):
    lines = (dump / "Comments.xml").read_bytes().splitlines(keepends=True)
    # Lines 1-2 are the declaration and <comments>; keep 100 rows and half of the next one.
    cut = b"".join(lines[:102]) + lines[102][:60]
    path = tmp_path / "site" / "Comments.xml"
    path.parent.mkdir()
    path.write_bytes(cut)
    assert ingest_counts(store, [path]) == (101, 100, 0, 1)
    [bad] = store.quarantine()
    assert bad["line"] == 103 and bad["reason"].startswith("invalid XML at the end of the file")


def test_bad_values_are_reported_by_field():
    r = StackExchangeReader()
    with pytest.raises(SourceError, match=r"field 'CreationDate' is 'yesterday'"):
        r.map_record({"site": "s", "table": "comments",
                      "row": {"Id": "1", "PostId": "2", "CreationDate": "yesterday"}})
    with pytest.raises(SourceError, match=r"field 'Score' is 'lots', expected an integer"):
        r.map_record({"site": "s", "table": "posts",
                      "row": {"Id": "1", "PostTypeId": "1", "Score": "lots"}})
    with pytest.raises(SourceError, match=r"votes row has no 'PostId'"):
        r.map_record({"site": "s", "table": "votes", "row": {"Id": "1", "VoteTypeId": "2"}})
    # A moderation vote without a post is not an error: it maps to nothing.
    assert r.map_record({"site": "s", "table": "votes",
                         "row": {"Id": "1", "VoteTypeId": "10"}}).primary_count == 0
    # A bounty's value is its amount, its rater the sponsor; pipe-delimited tags (2024 dumps).
    bounty = r.map_record({"site": "s", "table": "votes", "row": {
        "Id": "5", "PostId": "3", "VoteTypeId": "8", "UserId": "4", "BountyAmount": "50"}}).ratings[0]
    assert (bounty.kind, bounty.value, bounty.rater_id) == ("bounty", 50.0, "stackexchange:s/u4")
    q = r.map_record({"site": "s", "table": "posts", "row": {
        "Id": "1", "PostTypeId": "1", "Tags": "|Python|pandas|"}})
    assert [t.tag for t in q.tags] == ["python", "pandas"]


_ATTRS = ["Id", "PostTypeId", "ParentId", "AcceptedAnswerId", "CreationDate", "Score", "ViewCount",
          "Body", "OwnerUserId", "Title", "Tags", "PostId", "UserId", "Text", "VoteTypeId",
          "BountyAmount", "DisplayName", "AboutMe", "Reputation", "AccountId", "WebsiteUrl"]


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(table=st.sampled_from(["posts", "comments", "users", "votes"]),
       row=st.dictionaries(st.sampled_from(_ATTRS),
                           st.one_of(st.text(max_size=30), st.integers(-5, 99).map(str),
                                     st.just("2019-01-01T00:00:00.000")), max_size=12))
def test_map_record_raises_only_source_errors(table, row):
    try:
        out = StackExchangeReader().map_record({"site": "s", "table": table, "row": row})
    except SourceError:
        return
    ids = [m.id for m in out.messages] + [a.id for a in out.profiles] + [r.id for r in out.ratings]
    assert all(i.startswith("stackexchange:s/") for i in ids)
    assert out.primary_count <= 2


@pytest.fixture(scope="module")
def comments_bytes():
    from tests.conftest import SHARED

    path = SHARED / FOLDER / "Comments.xml"
    if not path.is_file():
        pytest.skip("real data folder is absent")
    return path.read_bytes()[:20000]


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 20000), junk=st.binary(max_size=40), at=st.integers(0, 20000))
def test_damaged_files_never_break_the_ingest(comments_bytes, tmp_path_factory, cut, junk, at):
    data = comments_bytes[:cut]
    data = data[:at] + junk + data[at:]
    folder = tmp_path_factory.mktemp("site")
    path = folder / "Comments.xml"
    path.write_bytes(data)
    with whuffie.open(":memory:") as s:
        report = s.ingest([path], format="stackexchange")
        read, stored, bad = (report.total(k) for k in ("read", "stored", "quarantined"))
        # Every row read was stored or quarantined; at most the rows of the first 20 kB.
        assert stored + bad == read
        assert stored <= comments_bytes.count(b"<row ")
