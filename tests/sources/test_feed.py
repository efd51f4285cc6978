"""The feed reader on real blog feeds (RSParser's test resources) and synthetic fixtures.

Expected numbers for the real files were established without the reader, with
``lxml`` / ``xml.etree`` element counts, ``grep``, ``iconv`` and ``json.load``,
as noted beside each assertion; link counts repeat the rule of the reader
(distinct absolute ``http(s)`` hrefs of ``content:encoded``, else
``description``; a host without ``www.`` different from the blog's is
external) with plain ``lxml.html``. The fixtures in ``tests/data/feed/`` were
written for these tests (example.org content).
"""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import DATA, ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.sources import sniff
from whuffie.sources.base import Bad, Sample
from whuffie.sources.feed import FeedReader, site_record
from whuffie.sources.io import head_bytes

SMALL_RSS = DATA / "feed" / "small.rss"
SMALL_JSON = DATA / "feed" / "small.json"
BLOGROLL = DATA / "feed" / "blogroll.opml"

#: file -> (entries, distinct permalinks). Entries: lxml count of <item> (RSS 2.0),
#: {http://purl.org/rss/1.0/}item (bio.rdf) or Atom <entry>; kc0011.rss (gb2312, which lxml's
#: etree.parse refuses here too) by `grep -o '<item>' | wc -l`. Distinct: Python Counter of the
#: <link> / Atom <id> values: only scriptingNews.rss repeats two items (25.html#a080631,
#: 24.html#a100632, each twice, same link and guid).
XML_FEEDS = {
    "DaringFireball.rss": (47, 47),
    "DaringFireball.atom": (48, 48),
    "scriptingNews.rss": (50, 48),
    "KatieFloyd.rss": (20, 20),
    "manton.rss": (10, 10),
    "monkeydom.rss": (13, 13),
    "rubenerd.rss": (10, 10),
    "natasha.xml": (10, 10),
    "allthis.atom": (12, 12),
    "OneFootTsunami.atom": (25, 25),
    "russcox.atom": (19, 19),
    "4fsodonline.atom": (25, 25),
    "kc0011.rss": (20, 20),
    "bio.rdf": (30, 30),
}


@pytest.fixture(scope="module")
def blogs(shared):
    return shared / "formats" / "rss_atom_blogs"


# -- real feeds ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("name", "counts"), XML_FEEDS.items())
def test_xml_feed_entry_counts(blogs, store, name, counts):
    entries, distinct = counts
    assert sniff(blogs / name)[0] == "feed"
    assert ingest_counts(store, [blogs / name]) == (entries, distinct, entries - distinct, 0)
    # Every entry is written by one blog actor.
    assert scalar(store, "SELECT count(DISTINCT actor_id) FROM messages") == 1


@pytest.mark.slow
def test_all_xml_feeds_total(blogs, store):
    paths = [blogs / name for name in XML_FEEDS]
    # SOURCE.md: 339 entries in the 14 XML feeds; 2 repeated items in scriptingNews.rss.
    assert ingest_counts(store, paths) == (339, 337, 2, 0)
    # One blog per feed except the two Daring Fireball snapshots: 13 sites.
    assert scalar(store, "SELECT count(DISTINCT actor_id) FROM messages") == 13


@pytest.mark.slow
def test_reimport_stores_nothing_twice(blogs, store):
    paths = [blogs / "DaringFireball.atom", blogs / "scriptingNews.rss"]
    assert ingest_counts(store, paths) == (98, 96, 2, 0)
    assert ingest_counts(store, paths) == (98, 0, 98, 0)
    assert scalar(store, "SELECT count(*) FROM messages") == 96


def test_extensions_lie(blogs, store):
    # DaringFireball.rss is Atom (root <feed xmlns=Atom>), allthis.atom is RSS 2.0 (root <rss>):
    # both are read by their content.
    ingest_counts(store, [blogs / "DaringFireball.rss", blogs / "allthis.atom"])
    # DaringFireball.rss, first entry: <link rel="alternate"> points at recode.net (a link blog), the
    # post itself is <link rel="related" href="http://daringfireball.net/linked/2016/02/27/swisher-...">.
    assert scalar(store, "SELECT title FROM messages WHERE message_id = "
                         "'web:http://daringfireball.net/linked/2016/02/27/swisher-apple-event'") == \
        "Apple Product Event: Monday March 21"
    assert scalar(store, "SELECT target_actor_id FROM links WHERE message_id = "
                         "'web:http://daringfireball.net/linked/2016/02/27/swisher-apple-event' "
                         "AND url LIKE 'http://recode.net/%'") == "web:recode.net"
    # allthis.atom: <link>http://leancrew.com/all-this</link> -> the blog is leancrew.com.
    assert scalar(store, "SELECT count(*) FROM messages WHERE actor_id = 'web:leancrew.com'") == 12


def test_manton_links_to_daring_fireball(blogs, store):
    ingest_counts(store, [blogs / "manton.rss"])
    # lxml over the items' content:encoded: 22 distinct hrefs, 18 not on manton.org, 16 hosts.
    assert scalar(store, "SELECT count(*) FROM links") == 22
    assert scalar(store, "SELECT count(target_actor_id) FROM links") == 18
    assert scalar(store, "SELECT count(DISTINCT target_actor_id) FROM links") == 16
    # grep -o 'href="http[s]*://[w.]*daringfireball.net[^"]*"' manton.rss -> 1 link: the only
    # cross-blog link among the samples, a `link` interaction blog -> blog.
    assert store.con.execute(
        "SELECT source, target FROM interactions WHERE kind = 'link' AND target = 'web:daringfireball.net'"
    ).fetchall() == [("web:manton.org", "web:daringfireball.net")]


def test_manton_and_daring_fireball_together(blogs, store):
    ingest_counts(store, [blogs / "manton.rss", blogs / "DaringFireball.atom"])
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'link' "
                         "AND source = 'web:manton.org' AND target = 'web:daringfireball.net'") == 1
    # The linked-to site is the blog actor of DaringFireball.atom, with its feed's title.
    assert scalar(store, "SELECT name FROM actors WHERE actor_id = 'web:daringfireball.net'") == \
        "Daring Fireball"


@pytest.mark.parametrize(("name", "links", "external", "hosts"), [
    # Same lxml computation as for manton.rss.
    ("natasha.xml", 47, 45, 16),
    ("rubenerd.rss", 20, 8, 8),
    ("monkeydom.rss", 22, 20, 14),
    # kc0011: hrefs go to pic.kc0011.net and friends: other hosts than www.kc0011.net.
    ("kc0011.rss", 28, 28, 3),
])
def test_link_counts(blogs, store, name, links, external, hosts):
    ingest_counts(store, [blogs / name])
    assert store.con.execute("SELECT count(*), count(target_actor_id), count(DISTINCT target_actor_id) "
                             "FROM links").fetchall() == [(links, external, hosts)]


def test_gb2312_feed_decodes_chinese(blogs, store):
    ingest_counts(store, [blogs / "kc0011.rss"])
    # iconv -f gb18030 -t utf-8 kc0011.rss | grep -o '<title>[^<]*' | head -2
    assert scalar(store, "SELECT name FROM actors WHERE actor_id = 'web:kc0011.net'") == \
        "投资资讯网交易在线--流通纪念币最新20篇论坛主题-全文"
    row = store.con.execute(
        "SELECT created_at, utc_offset FROM messages WHERE title = '建国35周年纪念，华表，和平鸽'").fetchall()
    # grep -o '<pubDate>[^<]*' | head -1 -> "2020/1/10 14:33:00", no zone: kept as given.
    assert len(row) == 1 and row[0][0].isoformat() == "2020-01-10T14:33:00" and row[0][1] is None


@pytest.mark.slow
def test_russcox_blog_without_alternate_link(blogs, store):
    ingest_counts(store, [blogs / "russcox.atom"])
    # The feed has only <link rel="self" href="http://research.swtch.com/feed.atom">; every entry
    # link (xml.etree) is on research.swtch.com.
    assert store.con.execute("SELECT actor_id, name, url FROM actors WHERE actor_id IN "
                             "(SELECT actor_id FROM messages)").fetchall() == [
        ("web:research.swtch.com", "research!rsc", None)]
    assert scalar(store, "SELECT extra->>'feed' FROM actors WHERE actor_id = 'web:research.swtch.com'") == \
        "http://research.swtch.com/feed.atom"
    # <updated>2019-03-01T11:01:00-05:00</updated> style dates keep their offset.
    assert scalar(store, "SELECT min(utc_offset) FROM messages") == -300


def test_json_feed_and_atom_snapshot_share_ids(blogs, store):
    path = blogs / "jsonfeed" / "DaringFireball.json"
    assert sniff(path)[0] == "feed"
    # json.load: 48 items, 48 distinct urls.
    assert ingest_counts(store, [path]) == (48, 48, 0, 0)
    # Permalinks of DaringFireball.atom (lxml: the alternate link on daringfireball.net, else the
    # related one) intersect the JSON items' "url" in 46.
    assert ingest_counts(store, [blogs / "DaringFireball.atom"]) == (48, 2, 46, 0)
    # First JSON item: date_published 2017-06-27T00:54:17Z; external_url is a link.
    assert scalar(store, "SELECT created_at FROM messages WHERE message_id = "
                         "'web:https://daringfireball.net/linked/2017/06/26/the-talk-show-195'"
                         ).isoformat() == "2017-06-27T00:54:17"


def test_rss_in_json(blogs, store):
    path = blogs / "jsonfeed" / "ScriptingNews.json"
    assert sniff(path)[0] == "feed"
    # json.load(...)["rss"]["channel"]["item"]: 50 items, 48 distinct "link" values (the same two
    # repeats as scriptingNews.rss).
    assert ingest_counts(store, [path]) == (50, 48, 2, 0)
    assert scalar(store, "SELECT count(DISTINCT actor_id) FROM messages") == 1
    assert scalar(store, "SELECT name FROM actors WHERE actor_id = 'web:scripting.com'") == "Scripting News"
    # The RSS snapshot of the same day holds the same 50 items.
    assert ingest_counts(store, [blogs / "scriptingNews.rss"]) == (50, 0, 50, 0)


def test_opml_blogroll(blogs, store):
    path = blogs / "Subs.opml"
    assert sniff(path)[0] == "feed"
    # xml.etree: 211 <outline>, 207 with xmlUrl; 196 distinct hosts of htmlUrl (else xmlUrl) without
    # "www." -> 11 outlines share a host with an earlier one.
    assert ingest_counts(store, [path]) == (207, 196, 11, 0)
    # The head names no owner: profiles only, no ties.
    assert scalar(store, "SELECT count(*) FROM ties") == 0
    # First outline: text="Daring Fireball" htmlUrl="http://daringfireball.net/"
    # xmlUrl="http://daringfireball.net/feeds/main".
    assert store.con.execute("SELECT name, url, extra->>'feed' FROM actors WHERE actor_id = "
                             "'web:daringfireball.net'").fetchall() == [
        ("Daring Fireball", "http://daringfireball.net/", "http://daringfireball.net/feeds/main")]
    assert ingest_counts(store, [path]) == (207, 0, 207, 0)


def test_feed_files_are_all_sniffed(blogs):
    for path in blogs.rglob("*"):
        if path.is_file() and path.name != "SOURCE.md":
            assert sniff(path)[0] == "feed", path


def test_other_formats_are_not_claimed(shared):
    # Every other file of the shared data (tweets, toots, skeets, Reddit, Stack Exchange XML
    # dumps, GML, CSV, mbox...) must score below the threshold.
    checked = 0
    for path in sorted(shared.rglob("*")):
        if not path.is_file() or "rss_atom_blogs" in path.parts:
            continue
        assert FeedReader.sniff(Sample(path, head_bytes(path))) < 0.5, path
        checked += 1
    assert checked > 1000


@pytest.mark.parametrize("head", [
    b'<?xml version="1.0"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
    b'<?xml version="1.0" encoding="utf-8"?>\n<posts>\n  <row Id="1" Body="&lt;rss&gt;" />',
    b'<?xml version="1.0" encoding="utf-8"?>\n<users>\n  <row Id="-1" />',
    b'<!-- <rss version="2.0"> -->\n<html><body>not a feed</body></html>',
    b'<feed><entry>no Atom namespace</entry></feed>',
    b'{"data": [{"text": "\\"version\\": \\"https://jsonfeed.org/version/1\\""}]}\n',
    b'{"statuses": [{"id": 1}], "rss": {"channel": {}}}',
])
def test_lookalikes_are_not_feeds(head):
    assert FeedReader.sniff(Sample("x.rss", head)) < 0.5


# -- synthetic fixtures ----------------------------------------------------------------------------


def test_small_rss_mapping_and_quarantine(store):
    # 5 <item>s: 3 good, one with an unreadable pubDate (line 30), one without link or guid (line 36).
    assert ingest_counts(store, [SMALL_RSS]) == (5, 3, 0, 2)
    bad = store.quarantine()
    assert [(b["line"], b["reason"]) for b in bad] == [
        (30, "field 'published' is 'the day after tomorrow', expected ISO 8601, RFC 2822 or epoch"),
        (36, "entry has no link and no id"),
    ]
    assert SMALL_RSS.read_bytes()[bad[0]["byte_offset"]:].startswith(b"<item>")
    first = "web:https://notes.example.org/2021/first"
    row = store.con.execute("SELECT actor_id, title, text, created_at, utc_offset, replies, "
                            "extra->>'author' FROM messages WHERE message_id = ?", [first]).fetchall()[0]
    assert row[:3] == ("web:notes.example.org", "First & foremost",
                       "I read a post and\nmy about page; also\nagain.")
    assert (row[3].isoformat(), row[4], row[5], row[6]) == ("2021-01-02T08:00:00", 120, 3, "Pat Writer")
    assert store.con.execute("SELECT tag FROM tags ORDER BY 1").fetchall() == [("networks",), ("python",)]
    # Two links to other.example.net (one with www.), one to the blog's own host (no target); the
    # domain is the registered one.
    assert store.con.execute("SELECT url, domain, target_actor_id FROM links WHERE message_id = ? "
                             "ORDER BY url", [first]).fetchall() == [
        ("https://notes.example.org/about", "example.org", None),
        ("https://other.example.net/post", "example.net", "web:other.example.net"),
        ("https://www.other.example.net/again", "example.net", "web:other.example.net")]
    # The second item's <link> is another site; its guid is the permalink on the blog's host.
    assert store.con.execute("SELECT url FROM messages WHERE title = 'Linked elsewhere'").fetchall() == [
        ("https://notes.example.org/2021/linked",)]
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'link' "
                         "AND target = 'web:news.example.com'") == 1
    assert store.con.execute("SELECT handle, name, url, description FROM actors WHERE actor_id = "
                             "'web:notes.example.org'").fetchall() == [
        ("notes.example.org", "Example Notes", "https://www.notes.example.org/", "A made-up blog")]


def test_truncated_rss_quarantines_the_cut_entry(store, tmp_path):
    data = SMALL_RSS.read_bytes()
    path = tmp_path / "cut.rss"
    path.write_bytes(data[:data.index(b"https://notes.example.org/2021/last") + 20])
    # The last <item> starts at line 40 (grep -n '<item>'): it is cut; the 2 good items before it stay.
    assert ingest_counts(store, [path]) == (5, 2, 0, 3)
    bad = store.quarantine()[-1]
    assert bad["line"] == 40 and bad["reason"].startswith("entry cut off: the feed ends inside it")


def test_garbled_rss_is_recovered(store, tmp_path):
    data = SMALL_RSS.read_bytes().replace(b"<title>Linked elsewhere</title>",
                                          b"<title>Linked &nbsp; elsewhere & co</title>")
    path = tmp_path / "garbled.rss"
    path.write_bytes(data)
    # Not well-formed XML (an undefined entity, a bare &), but feedparser's lenient parser reads it all.
    assert ingest_counts(store, [path]) == (5, 3, 0, 2)
    assert scalar(store, "SELECT title FROM messages WHERE url = 'https://notes.example.org/2021/linked'") \
        == "Linked \xa0 elsewhere & co"


def test_small_json_feed(store):
    # 4 items: 2 good, one without id and url, one that is a string.
    assert ingest_counts(store, [SMALL_JSON]) == (4, 2, 0, 2)
    assert [(b["line"], b["reason"]) for b in store.quarantine()] == [
        (3, "entry has no link and no id"), (4, "item is str, expected an object")]
    row = store.con.execute("SELECT text, created_at, utc_offset, title FROM messages WHERE message_id = "
                            "'web:https://notes.example.org/2021/text-only'").fetchall()[0]
    # content_text stays text (not parsed as HTML); date_modified when there is no date_published.
    assert row == ("Plain text <not html> & more, see https://third.example.com/page.", row[1], 0, None)
    assert row[1].isoformat() == "2021-01-05T12:00:00"
    # external_url is a link to that site; so is the URL in content_text (its final "." dropped).
    assert store.con.execute("SELECT url, target_actor_id FROM links WHERE message_id = "
                             "'web:https://notes.example.org/2021/text-only' ORDER BY url").fetchall() == [
        ("https://news.example.com/story/43", "web:news.example.com"),
        ("https://third.example.com/page", "web:third.example.com")]


def test_truncated_json_feed_keeps_items_before_the_break(store, tmp_path):
    data = SMALL_JSON.read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(data[:data.index(b"notes-9") + 20])
    assert ingest_counts(store, [path]) == (2, 1, 0, 1)
    bad = store.quarantine()[0]
    assert bad["line"] == 2 and bad["reason"].startswith("invalid JSON in item 2")
    assert scalar(store, "SELECT actor_id FROM messages") == "web:notes.example.org"


def test_opml_with_owner_gives_blogroll_ties(store):
    # 4 outlines with xmlUrl: 3 readable profiles (one is the owner's own site: no tie); feed://broken
    # has no domain -> quarantined at its line (15, grep -n broken).
    # Ties: owner -> other.example.net, owner -> feeds.example.com.
    assert ingest_counts(store, [BLOGROLL]) == (3 + 2 + 1, 3 + 2, 0, 1)
    assert [(b["line"], b["reason"]) for b in store.quarantine()] == [
        (15, "field 'xmlUrl' is 'feed://broken', expected an http(s) URL")]
    assert store.con.execute("SELECT source, target FROM interactions WHERE kind = 'link' ORDER BY 2"
                             ).fetchall() == [("web:notes.example.org", "web:feeds.example.com"),
                                              ("web:notes.example.org", "web:other.example.net")]
    assert store.con.execute("SELECT name, url, extra->>'category' FROM actors WHERE actor_id = "
                             "'web:other.example.net'").fetchall() == [
        ("Other Example", "https://www.other.example.net/", "Friends")]
    assert ingest_counts(store, [BLOGROLL]) == (6, 0, 5, 1)


def test_json_feed_without_home_page_uses_entry_hosts():
    site = site_record(None, "t", feed=None, entry_links=["https://a.example.org/1", "https://a.example.org/2",
                                                         "https://b.example.org/3"])
    assert site["id"] == "web:a.example.org"
    assert site_record(None)["id"] is None


def test_nothing_is_fetched_or_opened():
    # feedparser.parse(bytes) would try open(bytes) as a file name first: the reader passes a file
    # object, so a document that looks like a path is just not a feed.
    items = list(FeedReader()._read_xml(b"/etc/hostname"))
    assert len(items) == 1 and isinstance(items[0], Bad) and items[0].reason.startswith("not a readable feed")


def test_map_record_errors():
    reader = FeedReader()
    with pytest.raises(SourceError, match="not a feed entry"):
        reader.map_record("text")
    with pytest.raises(SourceError, match="field 'date_published' is 'soon'"):
        reader.map_record({"format": "jsonfeed", "site": {}, "entry": {"url": "https://x.org/1",
                                                                       "date_published": "soon"}})
    with pytest.raises(SourceError, match="field 'xmlUrl' is ''"):
        reader.map_record({"format": "opml", "outline": {}})


# -- robustness ----------------------------------------------------------------------------------

_SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(path):
    with whuffie.open(":memory:") as s:
        read, stored, duplicate, bad = ingest_counts(s, [path], format="feed")
        assert read == stored + duplicate + bad
        return stored


@pytest.mark.slow
@_SETTINGS
@given(which=st.sampled_from([SMALL_RSS, SMALL_JSON, BLOGROLL]), fraction=st.floats(0, 1))
def test_truncated_feeds_never_fail_the_import(tmp_path_factory, which, fraction):
    data = which.read_bytes()
    path = tmp_path_factory.mktemp("cut") / which.name
    path.write_bytes(data[:int(len(data) * fraction)])
    assert _check(path) <= 6


@pytest.mark.slow
@_SETTINGS
@given(junk=st.binary(max_size=300), where=st.floats(0, 1))
def test_garbage_inside_a_feed_never_fails_the_import(tmp_path_factory, junk, where):
    data = SMALL_RSS.read_bytes()
    cut = int(len(data) * where)
    path = tmp_path_factory.mktemp("junk") / "junk.rss"
    path.write_bytes(data[:cut] + junk + data[cut:])
    _check(path)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_ITEM = st.fixed_dictionaries({}, optional={k: _JSON | st.text(max_size=40) for k in (
    "id", "url", "external_url", "title", "content_html", "content_text", "summary", "date_published",
    "date_modified", "tags", "authors", "author", "link", "guid", "description", "pubDate", "category")})


@_SETTINGS
@given(item=_ITEM | _JSON, fmt=st.sampled_from(["jsonfeed", "rss-json", "opml"]))
def test_map_record_only_raises_source_errors(item, fmt):
    raw = {"format": fmt, "site": site_record("https://blog.example.org/"), "entry": item,
           "outline": item if isinstance(item, dict) else {}}
    with contextlib.suppress(SourceError):
        FeedReader().map_record(raw)


@pytest.mark.slow
@_SETTINGS
@given(items=st.lists(_ITEM | _JSON, max_size=4))
def test_random_json_feeds_never_fail_the_import(tmp_path_factory, items):
    path = tmp_path_factory.mktemp("json") / "feed.json"
    doc = {"version": "https://jsonfeed.org/version/1.1", "home_page_url": "https://b.example.org/",
           "items": items}
    path.write_text(json.dumps(doc))
    _check(path)
