"""The mastodon reader on real API responses (../shared/data/formats/mastodon_api_json) and on
small synthetic fixtures (tests/data/mastodon). Expected counts were established with plain
``json.load`` in Python, independently of the reader; each assertion says how."""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import DATA, ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.sources import Bad, Input, Sample, base, mastodon
from whuffie.sources.io import head_bytes
from whuffie.sources.mastodon import MastodonReader
from whuffie.sources.text import html_to_text

FOLDER = "formats/mastodon_api_json"
ROOT = "mastodon:mastodon.social/109294719267373593"
FIXTURES = DATA / "mastodon"


@pytest.fixture(scope="module")
def mdata(shared):
    return shared / FOLDER


def tag_pages(mdata):
    return sorted(mdata.glob("tag_ichbinhanna_mastodon.social_page*.json"))


def account_pages(mdata):
    return sorted(mdata.glob("account_109302436954721982_statuses_fosstodon_page*.json"))


def test_context_thread_resolves_every_reply(mdata, store):
    path = mdata / "context_109294719267373593_mastodon.social.json"
    # json.load: len(d["descendants"]) == 59, d["ancestors"] == [].
    assert ingest_counts(store, [path]) == (59, 59, 0, 0)
    # json.load: 43 descendants have in_reply_to_id == "109294719267373593" (the root, absent
    # from the response); the other 16 reply to a status among the descendants.
    assert scalar(store, f"SELECT count(*) FROM messages WHERE reply_to = '{ROOT}'") == 43
    assert scalar(store, "SELECT count(*) FROM messages m JOIN messages p ON p.message_id = m.reply_to "
                         "WHERE NOT p.is_stub") == 16
    # Every reply resolves to its parent's author: 59 reply interactions.
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 59
    # The root is a stub whose author is the mention with id == in_reply_to_account_id
    # (109246333737365889 = acct "austinkocher", url https://mastodon.social/@austinkocher).
    assert store.con.execute("SELECT actor_id, is_stub FROM messages WHERE message_id = ?",
                             [ROOT]).fetchall() == [("mastodon:austinkocher@mastodon.social", True)]
    # json.load: 43 replies to the root + 1 descendant whose in-thread parent is by austinkocher.
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply' AND "
                         "target = 'mastodon:austinkocher@mastodon.social'") == 44
    # The thread root is known: every reply carries it.
    assert scalar(store, f"SELECT count(*) FROM messages WHERE thread_id = '{ROOT}'") == 59
    # json.load: 50 distinct account ids among the 59 authors; 53 statuses mention Gargron
    # (local id "1"); 184 mentions and 3 tags in all.
    assert scalar(store, "SELECT count(DISTINCT actor_id) FROM messages WHERE NOT is_stub") == 50
    assert scalar(store, "SELECT count(*) FROM mentions WHERE actor_id = ?",
                  ["mastodon:gargron@mastodon.social"]) == 53
    assert scalar(store, "SELECT count(*) FROM mentions") == 184
    assert scalar(store, "SELECT count(*) FROM tags") == 3
    # The local account "Gargron" and remote accounts are keyed user@domain, lower-cased.
    assert scalar(store, "SELECT handle FROM actors WHERE actor_id = 'mastodon:gargron@mastodon.social'") \
        == "Gargron@mastodon.social"


def test_tag_pages(mdata, store):
    # json.load: 4 pages x 40 statuses, 160 distinct ids.
    assert ingest_counts(store, tag_pages(mdata)) == (160, 160, 0, 0)
    # json.load: 74 distinct accounts (by id, and by acct qualified with the url host, lower-cased).
    assert scalar(store, "SELECT count(DISTINCT actor_id) FROM messages WHERE NOT is_stub") == 74
    # json.load: 57 statuses with in_reply_to_id; 437 distinct (status, lower(tag name)) pairs;
    # 57 mentions; 19 with edited_at; 130 in German.
    assert scalar(store, "SELECT count(*) FROM messages WHERE kind = 'reply'") == 57
    assert scalar(store, "SELECT count(*) FROM tags") == 437
    assert scalar(store, "SELECT count(*) FROM mentions") == 57
    assert scalar(store, "SELECT count(*) FROM messages WHERE extra->>'edited_at' IS NOT NULL") == 19
    assert scalar(store, "SELECT count(*) FROM messages WHERE lang = 'de'") == 130
    # json.load, page by page: 47 replies name their parent's author (self-reply, or a mention
    # whose id is in_reply_to_account_id) and 1 more has its parent among the 160 statuses.
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 48
    assert scalar(store, "SELECT count(*) FROM tags WHERE tag <> lower(tag)") == 0


@pytest.mark.slow
def test_reimport_stores_nothing_twice(mdata, store):
    pages = tag_pages(mdata)
    ingest_counts(store, pages)
    assert ingest_counts(store, pages) == (160, 0, 160, 0)
    assert scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub") == 160


def test_overlapping_pages_as_json_lines(mdata, store, tmp_path):
    page1, page2 = tag_pages(mdata)[:2]
    ingest_counts(store, [page1])
    # The last 20 statuses of page 1 and the first 10 of page 2, one per line.
    rows = json.loads(page1.read_text())[20:] + json.loads(page2.read_text())[:10]
    path = tmp_path / "overlap.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in rows))
    assert ingest_counts(store, [path], format="mastodon") == (30, 10, 20, 0)
    assert scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub") == 50


def test_account_pages_and_the_reblog(mdata, store):
    # json.load: 5 pages x 20 statuses, 52 with in_reply_to_id, exactly 1 with a reblog.
    assert ingest_counts(store, account_pages(mdata)) == (100, 100, 0, 0)
    assert scalar(store, "SELECT count(*) FROM messages WHERE kind = 'reply'") == 52
    rows = store.con.execute(
        "SELECT message_id, actor_id, reshare_of, text FROM messages WHERE kind = 'reshare'").fetchall()
    # The wrapper 112526202686547299 (content "") by schochastics reblogs 112525606646148711 by termehs.
    assert rows == [("mastodon:fosstodon.org/112526202686547299", "mastodon:schochastics@fosstodon.org",
                     "mastodon:fosstodon.org/112525606646148711", None)]
    original = store.con.execute("SELECT actor_id, is_stub, likes, reshares FROM messages "
                                 "WHERE message_id = ?", [rows[0][2]]).fetchall()
    assert original == [("mastodon:termehs@fosstodon.org", False, 4, 1)]
    assert store.con.execute("SELECT source, target FROM interactions WHERE kind = 'reshare'").fetchall() \
        == [("mastodon:schochastics@fosstodon.org", "mastodon:termehs@fosstodon.org")]
    # The original is context, not one of the account's 100 statuses.
    assert scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub") == 101
    # json.load: every one of the 52 replies names its parent's author. 5 have
    # in_reply_to_account_id == account.id; 1 more (113191314662526953) replies to a status of the
    # pages written by the same account although in_reply_to_account_id names another account
    # (jrosell): the parent in the file wins over the stub.
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply'") == 52
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply' AND source = target") == 6
    # The account's profile: counts and the note as plain text.
    actor = store.con.execute("SELECT handle, name, followers, following, posts, description "
                              "FROM actors WHERE actor_id = 'mastodon:schochastics@fosstodon.org'").fetchall()
    assert actor == [("schochastics@fosstodon.org", "David Schoch", 1036, 138, 280,
                      "Data Scientist/DevOps Engineer at cynkra | #Rstats enthusiast")]


def test_timeline_of_remote_accounts_takes_its_server_from_tag_urls(mdata, store):
    path = mdata / "public_timeline_fosstodon.json"
    # json.load: 20 statuses, all by remote accounts (acct with '@'), no mention at all; 6 have
    # tags, whose urls are all on fosstodon.org (the server that answered).
    assert ingest_counts(store, [path]) == (20, 20, 0, 0)
    assert scalar(store, "SELECT count(*) FROM messages WHERE message_id LIKE 'mastodon:fosstodon.org/%' "
                         "AND NOT is_stub") == 20
    # json.load: its 2 replies are self-replies (in_reply_to_account_id == account.id).
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply' AND source = target") == 2


@pytest.fixture
def tagless_timeline(mdata, tmp_path):
    # json.load: the 14 statuses of the public timeline without tags (no local author, no mention
    # either), as JSON lines; both replies are among them.
    timeline = json.loads((mdata / "public_timeline_fosstodon.json").read_text())
    statuses = [s for s in timeline if not s["tags"]]
    assert len(statuses) == 14
    path = tmp_path / "tagless.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in statuses))
    return path


def test_file_without_any_server_hint_falls_back_to_uris(tagless_timeline, store):
    assert ingest_counts(store, [tagless_timeline], format="mastodon") == (14, 14, 0, 0)
    assert scalar(store, "SELECT count(*) FROM messages WHERE message_id LIKE 'mastodon:https://%'") == 14
    # The 2 replies (to 114870349026097258 and 114870349779134861) keep the local id in extra only.
    rows = store.con.execute("SELECT reply_to, extra->>'in_reply_to_id' FROM messages WHERE kind = 'reply' "
                             "ORDER BY 2").fetchall()
    assert rows == [(None, "114870349026097258"), (None, "114870349779134861")]


def test_server_option_keys_by_local_ids(tagless_timeline, store):
    ingest_counts(store, [tagless_timeline], format="mastodon", options={"server": "fosstodon.org"})
    assert scalar(store, "SELECT count(*) FROM messages WHERE message_id LIKE 'mastodon:fosstodon.org/%' "
                         "AND NOT is_stub") == 14
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply' AND source = target") == 2


def test_pending_quote_and_links(mdata, store):
    page1 = tag_pages(mdata)[0]
    ingest_counts(store, [page1])
    # json.load: the one status whose quote is not null has {"state": "pending", "quoted_status": null}.
    mid = "mastodon:mastodon.social/114630717761810973"
    row = store.con.execute("SELECT kind, quote_of, extra->>'quote_state' FROM messages WHERE message_id = ?",
                            [mid]).fetchall()
    assert row == [("post", None, "pending")]
    # Its hashtag anchor (class="hashtag", href on bsky.app) is no link; the "RE:" link is.
    links = [r[0] for r in store.con.execute("SELECT url FROM links WHERE message_id = ?", [mid]).fetchall()]
    assert links == ["https://bsky.app/profile/did:plc:o7mqzu7aleiaz4hi44hod7x2/post/3lqu2pje46s2h"]
    # No stored link is a mention or a hashtag anchor of any status.
    assert scalar(store, "SELECT count(*) FROM links WHERE url LIKE '%/tags/%'") == 0


def test_context_with_ancestors_fixture(store):
    path = FIXTURES / "context_with_ancestors.json"
    assert ingest_counts(store, [path]) == (4, 4, 0, 0)
    # ancestors[0] (id 100, no in_reply_to_id) is the root of all four.
    assert scalar(store, "SELECT count(*) FROM messages WHERE thread_id = 'mastodon:example.social/100'") == 4
    # 103 answers the status asked about (102, absent); its author dev is mentioned with id 4.
    assert store.con.execute(
        "SELECT actor_id, is_stub FROM messages WHERE message_id = 'mastodon:example.social/102'"
    ).fetchall() == [("mastodon:dev@example.social", True)]
    pairs = store.con.execute("SELECT source, target FROM interactions WHERE kind = 'reply' ORDER BY 1, 2")
    assert pairs.fetchall() == [
        ("mastodon:ben@example.social", "mastodon:ana@example.social"),
        ("mastodon:cleo@other.example", "mastodon:cleo@other.example"),
        ("mastodon:cleo@other.example", "mastodon:dev@example.social"),
    ]


def test_quote_fixture(store):
    path = FIXTURES / "quote_status.json"  # one pretty-printed status
    assert ingest_counts(store, [path]) == (1, 1, 0, 0)
    row = store.con.execute("SELECT kind, quote_of, text FROM messages WHERE message_id = "
                            "'mastodon:example.social/201'").fetchall()
    assert row == [("quote", "mastodon:example.social/200", "Indeed! #Quotes see example.org/page")]
    assert store.con.execute("SELECT source, target FROM interactions WHERE kind = 'quote'").fetchall() == \
        [("mastodon:ana@example.social", "mastodon:dev@example.social")]
    # The hashtag anchor points at another server than tags[].url: excluded by its class.
    assert [r[0] for r in store.con.execute("SELECT url FROM links").fetchall()] == \
        ["https://example.org/page?a=1&b=2"]
    assert [r[0] for r in store.con.execute("SELECT tag FROM tags").fetchall()] == ["quotes"]


def test_broken_line_is_quarantined_and_the_rest_imported(mdata, store, tmp_path):
    statuses = json.loads(tag_pages(mdata)[0].read_text())[:5]
    lines = [json.dumps(s) for s in statuses]
    lines[2] = lines[2][: len(lines[2]) // 2]  # line 3 cut in the middle
    bad_date = dict(statuses[3], created_at="yesterday")
    lines[3] = json.dumps(bad_date)
    path = tmp_path / "statuses.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert ingest_counts(store, [path], format="mastodon") == (5, 3, 0, 2)
    bad = sorted((b["line"], b["reason"]) for b in store.quarantine())
    assert bad == [(3, "invalid JSON"),
                   (4, "field 'status.created_at' is 'yesterday', expected ISO 8601, RFC 2822 or epoch")]


def test_truncated_array_keeps_the_items_before_the_cut(mdata, store, tmp_path):
    text = tag_pages(mdata)[0].read_text()
    # Find where item 25 ends with a plain JSON decoder, then cut 100 characters later.
    decoder = json.JSONDecoder()
    pos = 1
    for _ in range(25):
        _item, pos = decoder.raw_decode(text, pos)
        pos += 1  # the comma
    path = tmp_path / "cut.json"
    path.write_text(text[: pos + 100])
    assert ingest_counts(store, [path], format="mastodon") == (26, 25, 0, 1)
    [bad] = store.quarantine()
    assert bad["line"] == 26
    assert bad["reason"].startswith("invalid JSON in item 26")


def test_compressed_and_damaged_compressed_files(mdata, store, tmp_path):
    statuses = json.loads(tag_pages(mdata)[1].read_text())
    data = ("\ufeff" + "".join(json.dumps(s) + "\n" for s in statuses)).encode()  # with a BOM
    whole = tmp_path / "page2.jsonl.gz"
    whole.write_bytes(gzip.compress(data))
    # json.load: 40 statuses on the page.
    assert ingest_counts(store, [whole]) == (40, 40, 0, 0)
    # The same file cut in the middle: the statuses before the damage are kept (as duplicates
    # here), the damage is quarantined, the import completes.
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    _read, stored, duplicate, bad = ingest_counts(store, [cut], format="mastodon")
    assert (stored, bad) == (0, 1) and 0 < duplicate < 40
    [damage] = store.quarantine()
    assert damage["reason"].startswith("the compressed data is damaged")


def test_one_line_documents_longer_than_the_line_limit_are_streamed(mdata, store, monkeypatch):
    monkeypatch.setattr(base, "LINE_LIMIT", 1000)
    # The context response is one 267 kB line: now parsed as a streamed document.
    path = mdata / "context_109294719267373593_mastodon.social.json"
    assert ingest_counts(store, [path]) == (59, 59, 0, 0)
    assert scalar(store, f"SELECT count(*) FROM messages WHERE thread_id = '{ROOT}'") == 59


_words = st.sampled_from(["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", " ", "  ", "\n", "\t", "word", "Zoë",
                          "🐘", "#tag", "@bob", "a.b/c?d=1"])
_inline = st.one_of(
    _words, st.just("<br>"), st.just("<br />"),
    _words.map(lambda w: f'<a href="https://x.org/a?b=1&amp;c" class="u-url mention">@<span>{w}</span></a>'),
    _words.map(lambda w: f'<span class="invisible">{w}</span>'),
)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(paragraphs=st.lists(st.lists(_inline, max_size=8).map("".join), max_size=4),
       bare=st.booleans())
def test_fast_status_text_matches_the_html_parser(paragraphs, bare):
    # Statuses as Mastodon writes them: paragraphs of text, breaks, links and spans.
    html = "".join(paragraphs) if bare else "".join(f"<p>{p}</p>" for p in paragraphs)
    assert mastodon.status_text(html) == (html_to_text(html) or None)


def test_sniffing(mdata, shared):
    for path in sorted(mdata.glob("*.json")):
        assert MastodonReader.sniff(Sample(path, head_bytes(path))) >= 0.9, path.name
    others = [
        *sorted((shared / "formats/bluesky_atproto_json").glob("*/*.json")),
        *sorted((shared / "formats/twitter_v1_1_json").rglob("*.json"))[:5],
        *sorted((shared / "formats/twarc2_v2_jsonl").glob("*.jsonl"))[:3],
        *sorted((shared / "formats/telegram_telethon_jsonl").glob("*.txt"))[:2],
        *sorted((shared / "formats/reddit_pushshift_ndjson").glob("*")),
        *sorted((shared / "formats/discourse_topic_json").rglob("*.json"))[:3],
        *sorted((mdata / "cassettes").glob("*")),
    ]
    assert len(others) > 20
    for path in others:
        if path.name == "SOURCE.md":
            continue
        assert MastodonReader.sniff(Sample(path, head_bytes(path))) < 0.5, path


def test_bad_records_raise_source_errors():
    r = MastodonReader(server="example.social")
    with pytest.raises(SourceError, match=r"field 'status.account' is None, expected an account object"):
        r.map_record({"id": "1", "uri": "https://x/1", "created_at": "2024-01-01T00:00:00Z"})
    with pytest.raises(SourceError, match=r"field 'status.account.acct' is 42"):
        r.map_record({"id": "1", "account": {"acct": 42}})
    with pytest.raises(SourceError, match="the API returned an error: 'Record not found'"):
        r.map_record({"error": "Record not found"})
    with pytest.raises(SourceError, match=r"field 'status.id' is \[1\], expected a status or account id"):
        r.map_record({"id": [1], "account": {"acct": "a"}})
    # Missing optional fields are fine.
    out = r.map_record({"id": "9", "account": {"acct": "zed"}})
    assert (out.messages[0].id, out.messages[0].actor_id) == ("mastodon:example.social/9",
                                                              "mastodon:zed@example.social")


def test_unknown_option_is_refused():
    with pytest.raises(SourceError, match="has no option 'domain'"):
        MastodonReader(domain="x")


# -- robustness -------------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "account", "acct", "url", "uri", "content", "reblog", "quote", "mentions",
                         "tags", "in_reply_to_id", "in_reply_to_account_id", "created_at", "name",
                         "quoted_status", "ancestors", "descendants", "statuses", "language"]) |
        st.text(string.ascii_lowercase, max_size=5),
        inner, max_size=6),
    max_leaves=25,
)


def _drain(reader, path) -> int:
    """Read and map a file as the ingest does; only SourceError may come out of map_record."""
    n = 0
    with Input(path) as inp:
        for item in reader.read(inp):
            if isinstance(item, Bad):
                continue
            with contextlib.suppress(SourceError):
                reader.map_record(item.value)
            n += 1
    return n


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_json)
def test_nonsense_json_never_escapes(value, tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes(json.dumps(value).encode())
    _drain(MastodonReader(), path)
    with contextlib.suppress(SourceError):
        MastodonReader().map_record(value)


@pytest.fixture(scope="module")
def sample_bytes(shared):
    return (shared / FOLDER / "account_109302436954721982_statuses_fosstodon_page1.json").read_bytes()


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_or_garbled_files_never_escape(data, sample_bytes, tmp_path):
    cut = data.draw(st.integers(0, len(sample_bytes)))
    raw = bytearray(sample_bytes[:cut])
    for _ in range(data.draw(st.integers(0, 3))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    as_lines = data.draw(st.booleans())
    if as_lines:  # the same damage on a JSON-lines file
        statuses = json.loads(sample_bytes)
        raw = bytearray(b"\n".join(json.dumps(s).encode() for s in statuses)[:cut])
    path = tmp_path / "page.json"
    path.write_bytes(bytes(raw))
    _drain(MastodonReader(), path)
    db = tmp_path / "s.duckdb"
    db.unlink(missing_ok=True)
    with whuffie.open(db) as s:
        report = s.ingest([path], format="mastodon")
        f = report.files[0]
        assert f.read == f.stored + f.duplicate + f.quarantined


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=300))
def test_random_bytes_never_escape(blob, tmp_path):
    path = tmp_path / "blob.json"
    path.write_bytes(blob)
    _drain(MastodonReader(), path)


def _paths(value, prefix=()):
    """Every path into a JSON value, for mutating one spot of a valid record."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _valid_statuses() -> list:
    quote = json.loads((FIXTURES / "quote_status.json").read_text())
    context = json.loads((FIXTURES / "context_with_ancestors.json").read_text())
    reblog = dict(quote, id="300", content="", reblog=quote, quote=None)
    return [quote, reblog, context, *context["ancestors"], *context["descendants"]]


_VALID = _valid_statuses()


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
        MastodonReader().map_record(record)
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(record) + "\n")
    _drain(MastodonReader(), path)
