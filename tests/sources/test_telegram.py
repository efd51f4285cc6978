"""The telegram reader on real Telethon JSON lines and on synthetic Desktop exports.

Counts for the real files come from their SOURCE.md or from the python one-liners
noted beside them, run with ``json.loads`` on every line of the files in
``formats/telegram_telethon_jsonl``. The fixtures in ``tests/data/telegram`` are
synthetic (an imaginary allotment channel and group); their counts are read off
the small files by hand.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from tests.conftest import DATA, ingest_counts, scalar
from whuffie.errors import SourceError
from whuffie.model import Records
from whuffie.sources import get_reader, sniff
from whuffie.sources.base import Bad, Sample
from whuffie.sources.io import Input, head_bytes
from whuffie.sources.telegram import bare_peer, utf16_slicer

FIXTURES = DATA / "telegram"
FILES = {
    "python": "@Python_1050982793.txt",
    "spotify": "SpotifyGroup_2606656273.txt",
    "bloomberg": "bloomberg_1488156064.txt",
    "british": "britishnewspatriot_1799276919.txt",
    "onepiece": "onepiecespoilhere_1508897975.txt",
}


@pytest.fixture(scope="module")
def folder(shared):
    return shared / "formats" / "telegram_telethon_jsonl"


def rows(store, sql):
    return store.con.execute(sql).fetchall()


# -- sniffing --------------------------------------------------------------------------------


def test_telethon_files_and_desktop_exports_are_sniffed_as_telegram(folder):
    for name in FILES.values():
        assert sniff(folder / name)[0] == "telegram", name
    for path in (FIXTURES / "result.json", FIXTURES / "telethon_allotment.txt",
                 FIXTURES / "full_export" / "result.json"):
        assert sniff(path)[0] == "telegram", path


def test_other_formats_are_not_sniffed_as_telegram(shared):
    formats = shared / "formats"
    others = [
        formats / "twarc2_v2_jsonl" / "brexit.jsonl",
        formats / "twitter_v1_1_json" / "stream_lines.jsonl",
        formats / "mastodon_api_json" / "public_timeline_fosstodon.json",
        formats / "bluesky_atproto_json" / "atrrr_recorded" / "getAuthorFeed_andrew.heiss.phd.json",
        formats / "discourse_topic_json" / "topics"
        / "ask.cyberinfrastructure.org-q-a-post-158-2019-10-19.json",
        formats / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson",
    ]
    reader = get_reader("telegram")
    for path in others:
        assert reader.sniff(Sample(path, head_bytes(path))) < 0.5, path
        assert sniff(path)[0] != "telegram", path


# -- the real Telethon files -----------------------------------------------------------------


@pytest.mark.slow
def test_line_counts_and_duplicates_per_file(folder, store):
    # SOURCE.md: 157 lines = 152 Message + 5 MessageService. Service lines give no record and
    # are not quarantined, so "read" counts the Message lines. Distinct (channel_id, id) per
    # file, python: len({(d['peer_id']['channel_id'], d['id']) for d in lines if d['_'] ==
    # 'Message'}): @Python 11 of 14 lines, onepiece 38 of 76: both files repeat messages.
    expected = {
        "python": (14, 11, 3, 0),
        "spotify": (2, 2, 0, 0),
        "bloomberg": (40, 40, 0, 0),
        "british": (20, 20, 0, 0),
        "onepiece": (76, 38, 38, 0),
    }
    for key, counts in expected.items():
        assert ingest_counts(store, [folder / FILES[key]]) == counts, key
    assert scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub") == 111
    assert scalar(store, "SELECT count(*) FROM quarantine") == 0
    # Importing the folder again stores nothing new.
    assert ingest_counts(store, [folder]) == (152, 0, 152, 0)


def test_group_messages_have_user_authors(folder, store):
    ingest_counts(store, [folder / FILES["python"]])
    # SOURCE.md: from_id is a PeerUser on all messages; python: 6 distinct user_id over the
    # 11 distinct messages, none equal to the group's id 1050982793.
    assert scalar(store, "SELECT count(DISTINCT actor_id) FROM messages") == 6
    assert scalar(store, "SELECT count(*) FROM messages WHERE actor_id = 'telegram:1050982793'") == 0
    assert scalar(store, "SELECT actor_id FROM messages WHERE message_id = 'telegram:1050982793/2004378'") \
        == "telegram:6482024171"
    # SOURCE.md: 9 lines with reply_to.reply_to_msg_id, 7 distinct messages (python, as above);
    # 4 of them reply to a message in the file (2004367, 2004368, 2004374, 2004376): python
    # sum((cid, d['reply_to']['reply_to_msg_id']) in msgs for d in replies) -> 4.
    assert scalar(store, "SELECT count(*) FROM messages WHERE kind = 'reply'") == 7
    assert scalar(store, "SELECT reply_to FROM messages WHERE message_id = 'telegram:1050982793/2004378'") \
        == "telegram:1050982793/2004221"
    assert rows(store, "SELECT kind, count(*) FROM interactions WHERE kind = 'reply' GROUP BY 1") == [
        ("reply", 4)]
    # 2004367..2004369 carry reply_to_top_id 2004364: their thread.
    assert scalar(store, "SELECT count(*) FROM messages WHERE thread_id = 'telegram:1050982793/2004364'") == 3


def test_channel_posts_and_forwards(folder, store):
    ingest_counts(store, [folder / FILES["british"]])
    # Channel posts: from_id null, the channel is the author (SOURCE.md).
    assert rows(store, "SELECT DISTINCT actor_id FROM messages WHERE NOT is_stub") == [
        ("telegram:1799276919",)]
    # SOURCE.md: 17 forwarded; python: 16 with fwd_from.from_id PeerChannel + channel_post over
    # 6 distinct channels, 1 (id 2476) with only from_name 'Jordan'.
    assert scalar(store, "SELECT count(*) FROM messages WHERE kind = 'reshare'") == 17
    assert scalar(store, "SELECT count(*) FROM messages WHERE reshare_of IS NOT NULL") == 16
    assert scalar(store, "SELECT count(*) FROM messages WHERE is_stub") == 16
    assert scalar(store, "SELECT count(DISTINCT target) FROM interactions WHERE kind = 'reshare'") == 6
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reshare'") == 16
    assert rows(store, "SELECT reshare_of, extra->>'forwarded_from_name' FROM messages "
                       "WHERE message_id = 'telegram:1799276919/2476'") == [(None, "Jordan")]
    # 2465 forwards channel 1724102370's post 14245 (fwd_from.date 2023-04-08 22:07:04).
    assert rows(store, "SELECT m.reshare_of, s.actor_id, s.created_at FROM messages m JOIN messages s "
                       "ON s.message_id = m.reshare_of WHERE m.message_id = 'telegram:1799276919/2465'") == [
        ("telegram:1724102370/14245", "telegram:1724102370",
         datetime(2023, 4, 8, 22, 7, 4))]


def test_utf16_entity_offsets_after_emoji(folder, store):
    ingest_counts(store, [folder / FILES["bloomberg"], folder / FILES["british"]])
    # bloomberg 3146 opens with U+1F399 (2 UTF-16 units); its MessageEntityUrl (offset 186,
    # length 33) sliced by code points would read 'ttps://link.podtrac.com/jxfy2rhy'.
    assert rows(store, "SELECT url FROM links WHERE message_id = 'telegram:1488156064/3146'") == [
        ("https://link.podtrac.com/jxfy2rhy",)]
    # britishnewspatriot 2473 has astral emoji before its URL entity and no link preview.
    assert rows(store, "SELECT url FROM links WHERE message_id = 'telegram:1799276919/2473'") == [
        ("https://www.patreon.com/awakenedspecies",)]
    # SOURCE.md: every bloomberg post has views.
    assert scalar(store, "SELECT count(*) FROM messages WHERE message_id LIKE 'telegram:1488156064/%' "
                         "AND views IS NOT NULL") == 40
    assert rows(store, "SELECT views, reshares, likes, created_at FROM messages "
                       "WHERE message_id = 'telegram:1488156064/3148'") == [
        (11849, 95, 65, datetime(2025, 8, 20, 5, 54, 4))]  # 44+6+5+4+4+2


def test_mentions_and_hashtags(folder, store):
    ingest_counts(store, [folder])
    # python: distinct (message, username.lower()) of MessageEntityMention slices over distinct
    # messages: @Python 1, Spotify 1, britishnewspatriot 4, onepiece 5 (3730 names two) -> 11.
    assert scalar(store, "SELECT count(*) FROM mentions") == 11
    assert rows(store, "SELECT actor_id, handle FROM mentions "
                       "WHERE message_id = 'telegram:2606656273/5'") == [
        ("telegram:@deezermusicbot", "DeezerMusicBot")]
    assert rows(store, "SELECT actor_id FROM mentions WHERE message_id = 'telegram:1508897975/3730' "
                       "ORDER BY 1") == [("telegram:@one_piece_facts",), ("telegram:@onepiecespoilhere",)]
    # SOURCE.md / python: 3 MessageEntityHashtag entities, all '#Meme' on the repeated 3869.
    assert rows(store, "SELECT message_id, tag FROM tags") == [("telegram:1508897975/3869", "meme")]
    # Replies in the onepiece channel: 5 distinct, 4 parents in the file (python as above).
    assert scalar(store, "SELECT count(*) FROM interactions WHERE kind = 'reply' "
                         "AND message_id LIKE 'telegram:1508897975/%'") == 4


def test_broken_lines_are_quarantined_with_their_line_numbers(folder, store, tmp_path):
    lines = (folder / FILES["british"]).read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4][:300]  # line 5 truncated
    rec = json.loads(lines[8])
    rec["date"] = "yesterday"  # line 9
    lines[8] = json.dumps(rec)
    rec = json.loads(lines[11])
    rec["peer_id"] = {"_": "PeerChannel", "channel_id": "abc"}  # line 12
    lines[11] = json.dumps(rec)
    path = tmp_path / "british.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ingest_counts(store, [path]) == (20, 17, 0, 3)
    bad = sorted((b["line"], b["reason"]) for b in store.quarantine())
    assert bad[0][0] == 5 and bad[0][1].startswith("invalid JSON")
    assert bad[1:] == [
        (9, "field 'date' is 'yesterday', expected ISO 8601, RFC 2822 or epoch"),
        (12, "field 'peer_id' is {'_': 'PeerChannel', 'channel_id': 'abc'}, expected a Telegram peer id"),
    ]


def test_a_truncated_first_line_does_not_lose_the_file(folder, store, tmp_path):
    data = (folder / FILES["bloomberg"]).read_bytes()
    path = tmp_path / "bloomberg.txt"
    path.write_bytes(data[:100] + b"\n" + data[data.index(b"\n") + 1:])
    assert sniff(path)[0] == "telegram"
    assert ingest_counts(store, [path]) == (40, 39, 0, 1)


# -- the Desktop export ----------------------------------------------------------------------


def test_desktop_single_chat_export(store):
    # result.json: 7 messages, 2 of them service (1, 7).
    assert ingest_counts(store, [FIXTURES / "result.json"]) == (5, 5, 0, 0)
    got = rows(store, "SELECT message_id, actor_id, kind, reply_to, text FROM messages ORDER BY created_at")
    assert got == [
        ("telegram:1234567890/2", "telegram:1234567890", "post", None, "Sowing broad beans today."),
        ("telegram:1234567890/3", "telegram:1234567890", "post", None,
         "\U0001F955 Guide: https://example.org/carrots and the seed list via @SeedSwapBot #Carrots"),
        ("telegram:1234567890/4", "telegram:1234567890", "reply", "telegram:1234567890/3",
         "Update: thinning done, thanks to Sam Gardener."),
        ("telegram:1234567890/5", "telegram:1234567890", "reshare", None, "Turn your heap weekly."),
        ("telegram:1234567890/6", "telegram:1234567890", "reshare", None,
         "Frost tonight! Details: frost.example/tonight"),
    ]
    # date_unixtime wins over the local-time date: 1709284500 is 09:15 UTC (date -u -d @...),
    # the export says 10:15 local.
    assert scalar(store, "SELECT created_at FROM messages WHERE message_id = 'telegram:1234567890/2'"
                  ).isoformat() == "2024-03-01T09:15:00"
    assert rows(store, "SELECT likes, extra->>'post_author' FROM messages "
                       "WHERE message_id = 'telegram:1234567890/2'") == [(5, "Robin")]
    assert rows(store, "SELECT message_id, url FROM links ORDER BY 1, 2") == [
        ("telegram:1234567890/3", "https://example.net/seeds?x=1"),
        ("telegram:1234567890/3", "https://example.org/carrots"),
        ("telegram:1234567890/6", "http://frost.example/tonight"),
    ]
    assert rows(store, "SELECT message_id, actor_id, handle FROM mentions ORDER BY 1") == [
        ("telegram:1234567890/3", "telegram:@seedswapbot", "SeedSwapBot"),
        ("telegram:1234567890/4", "telegram:5550001", "Sam Gardener"),
    ]
    assert rows(store, "SELECT tag FROM tags") == [("carrots",)]
    # A forward keeps the original author in extra (no post id in Desktop exports).
    assert rows(store, "SELECT extra->>'forwarded_from', extra->>'forwarded_from_name' FROM messages "
                       "WHERE message_id = 'telegram:1234567890/5'") == [
        ("telegram:987654321", "Compost Club")]
    assert rows(store, "SELECT name, extra->>'type' FROM actors WHERE actor_id = 'telegram:1234567890'") == [
        ("Allotment Notes", "public_channel")]
    assert scalar(store, "SELECT name FROM actors WHERE actor_id = 'telegram:987654321'") == "Compost Club"


@pytest.mark.slow
def test_desktop_and_telethon_exports_of_one_channel_deduplicate(store):
    # telethon_allotment.txt: 1 service line + messages 2, 3, 8, 9, 10; 2 and 3 are also in
    # result.json under the same id (the Desktop chat id is the Telethon channel_id).
    assert ingest_counts(store, [FIXTURES / "result.json"]) == (5, 5, 0, 0)
    assert ingest_counts(store, [FIXTURES / "telethon_allotment.txt"]) == (5, 3, 2, 0)
    assert scalar(store, "SELECT count(*) FROM messages WHERE NOT is_stub") == 8
    # The Telethon copy fills what the Desktop export lacks (views) and the edit times agree.
    assert rows(store, "SELECT views, reshares, extra->>'edited' FROM messages "
                       "WHERE message_id = 'telegram:1234567890/3'") == [(98, 0, "2024-03-02T07:45:00")]
    with whuffie.open(":memory:") as other:
        assert ingest_counts(other, [FIXTURES / "telethon_allotment.txt"]) == (5, 5, 0, 0)
        assert ingest_counts(other, [FIXTURES / "result.json"]) == (5, 3, 2, 0)
        assert rows(other, "SELECT extra->>'edited' FROM messages "
                           "WHERE message_id = 'telegram:1234567890/3'") == [("2024-03-02T07:45:00",)]


def test_telethon_fixture_cross_chat_reply_and_mention_name(store):
    ingest_counts(store, [FIXTURES / "telethon_allotment.txt"])
    # 8 forwards post 42 of channel 987654321; 9 replies to that post (reply_to_peer_id).
    assert rows(store, "SELECT message_id, kind, reshare_of, reply_to FROM messages "
                       "WHERE message_id IN ('telegram:1234567890/8', 'telegram:1234567890/9') "
                       "ORDER BY 1") == [
        ("telegram:1234567890/8", "reshare", "telegram:987654321/42", None),
        ("telegram:1234567890/9", "reply", None, "telegram:987654321/42"),
    ]
    assert rows(store, "SELECT kind, target FROM interactions WHERE source = 'telegram:1234567890' "
                       "AND kind IN ('reply', 'reshare') ORDER BY 1") == [
        ("reply", "telegram:987654321"), ("reshare", "telegram:987654321")]
    # 10 opens with two U+1F331 (4 UTF-16 units): the mention by name and the schemeless URL.
    assert rows(store, "SELECT actor_id, handle FROM mentions "
                       "WHERE message_id = 'telegram:1234567890/10'") == [
        ("telegram:5550001", "Sam Gardener")]
    assert rows(store, "SELECT url FROM links WHERE message_id = 'telegram:1234567890/10'") == [
        ("http://www.example.org/plots",)]
    assert scalar(store, "SELECT replies FROM messages WHERE message_id = 'telegram:1234567890/10'") == 2


def test_full_account_export_is_streamed_chat_by_chat(store):
    # full_export/result.json: chats.list = a supergroup (3 messages + 1 service) and a
    # personal chat (2), left_chats.list = a basic group (1).
    assert ingest_counts(store, [FIXTURES / "full_export" / "result.json"]) == (6, 6, 0, 0)
    assert rows(store, "SELECT message_id, actor_id, kind, reply_to FROM messages ORDER BY 1") == [
        ("telegram:2222222222/2", "telegram:5550001", "post", None),
        ("telegram:2222222222/3", "telegram:5550002", "reply", "telegram:2222222222/2"),
        ("telegram:2222222222/4", "telegram:5550001", "reply", "telegram:2222222222/3"),
        ("telegram:3333333/5", "telegram:5550002", "post", None),
        ("telegram:5550002/10", "telegram:5550002", "post", None),
        ("telegram:5550002/11", "telegram:5550001", "reply", "telegram:5550002/10"),
    ]
    assert rows(store, "SELECT source, target, count(*) FROM interactions WHERE kind = 'reply' "
                       "GROUP BY 1, 2 ORDER BY 1") == [
        ("telegram:5550001", "telegram:5550002", 2), ("telegram:5550002", "telegram:5550001", 1)]
    assert rows(store, "SELECT actor_id, name FROM actors ORDER BY 1") == [
        ("telegram:5550001", "Sam Gardener"), ("telegram:5550002", "Robin"),
        ("telegram:@sam_grows", None)]


def test_truncated_desktop_export_keeps_the_messages_before_the_break(store, tmp_path):
    text = (FIXTURES / "result.json").read_text(encoding="utf-8")
    path = tmp_path / "result.json"
    path.write_text(text[: text.index('"Turn your heap')], encoding="utf-8")
    # Messages 1 (service), 2, 3, 4 are complete; the 5th item of the array breaks.
    assert ingest_counts(store, [path], format="telegram") == (4, 3, 0, 1)
    assert [b["line"] for b in store.quarantine()] == [5]
    assert store.quarantine()[0]["reason"].startswith("invalid JSON after message 4")


def test_map_record_errors_name_the_field():
    reader = get_reader("telegram")
    with pytest.raises(SourceError, match="message has no 'peer_id'"):
        reader.map_record({"_": "Message", "id": 1})
    with pytest.raises(SourceError, match=r"field 'id' is 'x'"):
        reader.map_record({"_": "Message", "id": "x", "peer_id": {"_": "PeerUser", "user_id": 5}})
    with pytest.raises(SourceError, match=r"field '_' is 'Channel'"):
        reader.map_record({"_": "Channel", "id": 5})
    with pytest.raises(SourceError, match="no chat 'id'"):
        reader.map_record({"id": 3, "type": "message", "date": "2024-01-01T00:00:00", "text": "x"})
    # Service messages and missing optional fields are not errors.
    assert reader.map_record({"_": "MessageService", "id": 1}).primary_count == 0
    out = reader.map_record({"_": "Message", "id": 4, "peer_id": {"_": "PeerChat", "chat_id": 8}})
    assert (out.messages[0].id, out.messages[0].actor_id, out.messages[0].text) == \
        ("telegram:8/4", "telegram:8", None)
    # In a private chat the peer is the other person: an outgoing message without from_id
    # is not theirs, an incoming one is.
    own = {"_": "Message", "id": 5, "peer_id": {"_": "PeerUser", "user_id": 9}, "from_id": None}
    assert reader.map_record({**own, "out": True}).messages[0].actor_id is None
    assert reader.map_record({**own, "out": False}).messages[0].actor_id == "telegram:9"


def test_bad_entity_offsets_are_problems_not_failures():
    out = get_reader("telegram").map_record({
        "_": "Message", "id": 1, "peer_id": {"_": "PeerChannel", "channel_id": 2}, "message": "see x.org",
        "entities": [{"_": "MessageEntityUrl", "offset": "4", "length": 5},
                     {"_": "MessageEntityUrl", "offset": 4, "length": 5}]})
    assert [link.url for link in out.links] == ["http://x.org"]
    assert [p.reason for p in out.problems] == [
        "field 'entities[0]' has offset '4' and length 5, expected non-negative integers"]


def test_peer_ids_agree_across_formats():
    assert bare_peer({"_": "PeerChannel", "channel_id": 1050982793}, "peer_id") == 1050982793
    assert bare_peer("channel1050982793", "from_id") == 1050982793
    assert bare_peer(1050982793, "id") == 1050982793
    assert bare_peer(-1001050982793, "id") == 1050982793  # Bot API channel id
    assert bare_peer("user42", "from_id") == 42
    with pytest.raises(SourceError):
        bare_peer(True, "from_id")


@given(st.text(max_size=30), st.text(min_size=1, max_size=10), st.text(max_size=10))
def test_utf16_slicing_recovers_any_substring(before, middle, after):
    text = before + middle + after
    offset = len(before.encode("utf-16-le", "surrogatepass")) // 2
    length = len(middle.encode("utf-16-le", "surrogatepass")) // 2
    assert utf16_slicer(text)(offset, length) == middle


# -- robustness ----------------------------------------------------------------------------


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["_", "id", "peer_id", "from_id", "date", "message",
                                       "entities", "fwd_from", "reply_to", "media", "reactions",
                                       "replies", "header", "item", "messages", "text",
                                       "text_entities", "type", "from", "channel_id", "user_id",
                                       "offset", "length", "url", "webpage", "results"]),
                      children, max_size=8),
    max_leaves=25,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_nonsense_records_map_or_raise_source_error(value):
    try:
        out = get_reader("telegram").map_record(value)
    except SourceError:
        return
    assert isinstance(out, Records)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=5000), junk=st.binary(max_size=30),
       which=st.sampled_from(["result.json", "full_export/result.json", "telethon_allotment.txt"]))
def test_truncated_or_garbled_files_never_raise(tmp_path, cut, junk, which):
    data = (FIXTURES / which).read_bytes()
    path = tmp_path / "garbled"
    path.write_bytes(data[:cut] + junk + data[cut:cut + 200])
    reader = get_reader("telegram")
    with Input(path) as inp:
        for item in reader.read(inp):
            if isinstance(item, Bad):
                continue
            with contextlib.suppress(SourceError):
                reader.map_record(item.value)


@pytest.mark.slow
@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(min_size=1, max_size=200))
def test_garbage_through_the_ingest_is_quarantined(tmp_path, junk):
    good = (FIXTURES / "telethon_allotment.txt").read_bytes().splitlines(keepends=True)[1]
    path = tmp_path / "junk.txt"
    path.write_bytes(good + junk.replace(b"\n", b" ") + b"\n" + good)
    with whuffie.open(":memory:") as s:
        read, stored, duplicate, bad = ingest_counts(s, [path], format="telegram")
    assert (stored, duplicate) == (1, 1)
    assert read == 2 + bad
