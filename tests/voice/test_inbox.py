"""The brand's inbox and outbox on a hand-made store and on real reply threads.

Expected values on real data are counted from the raw JSON files with ``json`` in
the tests themselves (never through Whuffie's readers).
"""

from __future__ import annotations

import glob
import json
import re
import statistics
from datetime import datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pytest

from whuffie.errors import WhuffieError
from whuffie.voice.inbox import inbox, resolve_brands

T0 = datetime(2024, 3, 1, 9, 0)

# A shop with two accounts (ShopCo and ShopCo_Help). Authors are given by handle only, so actor
# ids are "shop:@<handle>", the same ids the mentions get.
ROWS = [
    # m1: a brand post, replied to by ann (m2) and carol (m6), reshared by erin (m13).
    dict(message_id="m1", username="ShopCo", message="New sourdough today", timestamp="2024-03-01T09:00:00Z",
         thread_id="m1", likes=5, replies=0, reshares=0),
    dict(message_id="m2", username="ann", message="@ShopCo the bread is stale", reply_id="m1",
         mentions=["ShopCo"], thread_id="m1", timestamp="2024-03-01T09:10:00Z"),
    dict(message_id="m14", username="frank", message="@ann agreed", reply_id="m2", mentions=["ann"],
         thread_id="m1", timestamp="2024-03-01T09:20:00Z"),
    dict(message_id="m13", username="erin", repost_id="m1", timestamp="2024-03-01T09:30:00Z"),
    # m3: a direct answer to m2, 30 minutes later.
    dict(message_id="m3", username="ShopCo", message="@ann sorry, refunded", reply_id="m2",
         mentions=["ann"], thread_id="m1", timestamp="2024-03-01T09:40:00Z"),
    # m4: a mention, answered directly by the second account 30 minutes later.
    dict(message_id="m4", username="bob", message="@shopco where is my order?", mentions=["shopco"],
         thread_id="m4", timestamp="2024-03-01T10:00:00Z"),
    dict(message_id="m11", username="ShopCo_Help", message="@bob on its way", reply_id="m4",
         mentions=["bob"], thread_id="m4", timestamp="2024-03-01T10:30:00Z"),
    # m6: carol replies to the brand, adds m7 (a reply to herself, not inbound), and the brand
    # answers m7: m6 is answered by rule 2, an hour after it was sent.
    dict(message_id="m6", username="carol", message="awful service", reply_id="m1", thread_id="m1",
         timestamp="2024-03-01T11:00:00Z"),
    dict(message_id="m7", username="carol", message="hello?", reply_id="m6", thread_id="m1",
         timestamp="2024-03-01T11:30:00Z"),
    dict(message_id="m8", username="ShopCo", message="@carol we are on it", reply_id="m7",
         mentions=["carol"], thread_id="m1", timestamp="2024-03-01T12:00:00Z"),
    # m9: a brand post only the brand replied to (silent); m10: a post with a reply counter.
    dict(message_id="m9", username="ShopCo", message="Opening hours changed", thread_id="m9",
         timestamp="2024-03-01T13:00:00Z", replies=0),
    dict(message_id="m12", username="ShopCo", message="(from Monday)", reply_id="m9", thread_id="m9",
         timestamp="2024-03-01T13:05:00Z"),
    dict(message_id="m10", username="ShopCo", message="Vote for our new loaf", thread_id="m10",
         timestamp="2024-03-01T14:00:00Z", replies=2, likes=1),
    # Two unanswered mentions.
    dict(message_id="m15", username="dave", message="@ShopCo never again", mentions=["ShopCo"],
         timestamp="2024-03-01T15:00:00Z"),
    dict(message_id="m16", username="gina", message="@ShopCo_Help love the rye", mentions=["ShopCo_Help"],
         timestamp="2024-03-01T16:00:00Z"),
]


@pytest.fixture
def shop(store, tmp_path):
    path = tmp_path / "shop.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in ROWS))
    report = store.ingest([str(path)], format="jsonl", options={"platform": "shop"})
    assert report.total("quarantined") == 0
    return store


def _id(*names):
    return [f"shop:{n}" for n in names]


def _inbox(store, brands, **kwargs):
    """The inbox of the brand's accounts, from the threads the store's engine gives."""
    ids = resolve_brands(store.engine, brands)
    return inbox(store.engine.brand_threads(ids), ids, **kwargs)


def test_resolve_brands_by_handle_or_id(shop):
    assert resolve_brands(shop.engine, ["@SHOPCO", "shop:@shopco_help"]) == _id("@shopco", "@shopco_help")
    assert resolve_brands(shop.engine, ["shopco", "ShopCo"]) == _id("@shopco")
    with pytest.raises(WhuffieError, match=r"brand 'shopko' matches no actor.*close handles: ShopCo"):
        resolve_brands(shop.engine, ["shopko"])
    with pytest.raises(WhuffieError, match="no brand given"):
        resolve_brands(shop.engine, [])


def test_inbound_answered_and_response_times(shop):
    result = _inbox(shop, ["ShopCo", "ShopCo_Help"])
    rows = {r["message_id"]: r for r in result.inbound.to_pylist()}
    # m14 (a reply to ann), m7 (carol replying to herself) and m13 (a reshare) are not inbound.
    assert sorted(rows) == sorted(_id("m2", "m4", "m6", "m15", "m16"))
    got = {k: (r["via"], r["answered"], r["first_answer_id"], r["response_seconds"]) for k, r in rows.items()}
    assert got == {"shop:m2": ("reply", True, "shop:m3", 1800.0),
                   "shop:m4": ("mention", True, "shop:m11", 1800.0),
                   "shop:m6": ("reply", True, "shop:m8", 3600.0),  # rule 2: the brand answered m7
                   "shop:m15": ("mention", False, None, None),
                   "shop:m16": ("mention", False, None, None)}
    s = result.summary
    assert (s["inbound"], s["answered"], s["unanswered"], s["response_rate"]) == (5, 3, 2, 3 / 5)
    assert (s["via_reply"], s["via_mention"], s["via_email"]) == (2, 3, 0)
    # quantile_cont of [1800, 1800, 3600]: median 1800; p90 at position 0.9 * 2 = 1.8 -> 1800 + 0.8 * 1800.
    assert s["median_response_seconds"] == 1800.0
    assert s["p90_response_seconds"] == pytest.approx(3240.0)
    # Without voice or influence: no sentiment, no carry (no follower counts), priority 0.
    assert result.unanswered.column("message_id").to_pylist() == _id("m15", "m16")  # oldest first
    assert set(result.unanswered.column("priority").to_pylist()) == {0.0}


@pytest.mark.slow
def test_unanswered_priority_combines_influence_and_negativity(shop):
    voice = pa.table({"message_id": _id("m2", "m15", "m16"),
                      "sentiment": ["negative", "negative", "positive"], "score": [-0.4, -0.6, 0.5]})
    influence = pa.table({"actor_id": _id("@dave", "@bob", "@ann", "@gina"),
                          "pagerank": [0.1, 0.3, 0.5, 0.9], "audience": [10, None, 30, 400]})
    result = _inbox(shop, ["ShopCo", "ShopCo_Help"], voice=voice, influence=influence)
    u = {r["message_id"]: r for r in result.unanswered.to_pylist()}
    # cume_dist of pagerank: dave 1/4, gina 4/4; priority = (carry + max(0, -score)) / 2.
    assert u["shop:m15"]["priority"] == pytest.approx((0.25 + 0.6) / 2)
    assert u["shop:m16"]["priority"] == pytest.approx((1.0 + 0.0) / 2)
    assert result.unanswered.column("message_id").to_pylist() == _id("m16", "m15")
    assert (u["shop:m15"]["author_influence"], u["shop:m15"]["author_reach"]) == (0.1, 10.0)
    assert (u["shop:m15"]["sentiment"], u["shop:m15"]["score"]) == ("negative", pytest.approx(-0.6))
    # More negative: dave overtakes gina ((0.25 + 0.9) / 2 > 0.5).
    voice = voice.set_column(2, "score", pa.array([-0.4, -0.9, 0.5]))
    result = _inbox(shop, ["ShopCo", "ShopCo_Help"], voice=voice, influence=influence)
    assert result.unanswered.column("message_id").to_pylist() == _id("m15", "m16")


@pytest.mark.slow
def test_outbound_counts_rates_and_silent_posts(shop):
    shop.con.execute("UPDATE actors SET followers = 2000 WHERE actor_id = 'shop:@shopco'")
    result = _inbox(shop, ["ShopCo"])
    rows = {r["message_id"]: r for r in result.outbound.to_pylist()}
    assert sorted(rows) == sorted(_id("m1", "m9", "m10"))  # m3, m8, m12 are replies
    got = {k: (r["replies"], r["reshares"], r["likes"], r["started_conversation"]) for k, r in rows.items()}
    # m1: counters 0/0/5, the store holds 2 replies (m2, m6) and 1 reshare (m13).
    # m9: only the brand's own reply (m12). m10: no stored reply but a counter of 2.
    assert got == {"shop:m1": (2, 1, 5, True), "shop:m9": (1, 0, 0, False), "shop:m10": (2, 0, 1, True)}
    assert result.silent.column("message_id").to_pylist() == ["shop:m9"]
    assert rows["shop:m1"]["conversation_rate"] == pytest.approx(1000 * 2 / 2000)
    s = result.summary
    assert (s["posts"], s["silent"]) == (3, 1)
    assert s["conversation_rate"] == pytest.approx(5 / 3)
    assert s["amplification_rate"] == pytest.approx(1 / 3)
    assert s["applause_rate"] == pytest.approx(2.0)
    assert s["applause_rate_per_1000_followers"] == pytest.approx(1.0)


@pytest.mark.slow
def test_since_until_window(shop):
    result = _inbox(shop, ["ShopCo", "ShopCo_Help"],
                    since=datetime(2024, 3, 1, 10), until=datetime(2024, 3, 1, 15))
    assert result.inbound.column("message_id").to_pylist() == _id("m4", "m6")
    assert result.outbound.column("message_id").to_pylist() == _id("m9", "m10")
    # The library call: the same window, saved as tables inbox_inbound and inbox_outbound.
    saved = shop.inbox("ShopCo,ShopCo_Help", since="2024-03-01T10:00", until="2024-03-01T15:00")
    assert saved.to_arrow("inbox_inbound").column("message_id").to_pylist() == _id("m4", "m6")
    assert saved.to_arrow("inbox_outbound").column("message_id").to_pylist() == _id("m9", "m10")
    assert saved.params["brands"] == _id("@shopco", "@shopco_help")


def test_bad_voice_table_is_refused(shop):
    with pytest.raises(WhuffieError, match="voice table lacks column"):
        _inbox(shop, ["ShopCo"], voice=pa.table({"message_id": ["shop:m2"]}))


# -- real threads ---------------------------------------------------------------------------


def test_mastodon_reply_thread(shared, store):
    path = shared / "formats/mastodon_api_json/context_109294719267373593_mastodon.social.json"
    store.ingest([str(path)])
    result = _inbox(store, ["austinkocher"])
    assert result.brands == ["mastodon:austinkocher@mastodon.social"]
    # Independently: the 59 descendants; the root's author is account 109246333737365889.
    statuses = json.loads(path.read_text())["descendants"]
    brand = "109246333737365889"
    others = [s for s in statuses if s["account"]["id"] != brand]
    to_brand = [s for s in others if s["in_reply_to_account_id"] == brand]
    mentioning = [s for s in others if s not in to_brand and any(m["id"] == brand for m in s["mentions"])]
    by_id = {s["id"]: s for s in statuses}
    answers = {}
    for s in statuses:
        if s["account"]["id"] == brand and s["in_reply_to_id"] in by_id:
            answers.setdefault(s["in_reply_to_id"], []).append(s)
    assert (len(others), len(to_brand), len(mentioning), len(answers)) == (56, 42, 12, 1)
    s = result.summary
    assert (s["inbound"], s["via_reply"], s["via_mention"]) == (len(to_brand) + len(mentioning), 42, 12)
    assert s["answered"] == 1
    (asked, [answer]), = answers.items()
    seconds = (datetime.fromisoformat(answer["created_at"]) - datetime.fromisoformat(
        by_id[asked]["created_at"])).total_seconds()
    row = result.inbound.filter(result.inbound["answered"]).to_pylist()[0]
    assert row["message_id"].endswith("/" + asked) and row["first_answer_id"].endswith("/" + answer["id"])
    assert row["response_seconds"] == pytest.approx(seconds)  # 32.914 s
    # The root is not in the context response: the brand has no post in this file.
    assert s["posts"] == 0


@pytest.mark.slow
def test_mastodon_account_outbound(shared, store):
    paths = sorted(glob.glob(str(shared / "formats/mastodon_api_json/account_109302436954721982_*.json")))
    store.ingest(paths)
    statuses = [s for p in paths for s in json.loads(Path(p).read_text())]
    posts = [s for s in statuses if s["in_reply_to_id"] is None and s["reblog"] is None]
    own_replies = {}
    for s in statuses:
        if s["in_reply_to_id"]:
            own_replies[s["in_reply_to_id"]] = own_replies.get(s["in_reply_to_id"], 0) + 1
    silent = {s["id"] for s in posts if s["replies_count"] <= own_replies.get(s["id"], 0)}
    result = _inbox(store, ["@schochastics@fosstodon.org"])
    assert (len(posts), len(silent)) == (47, 19)
    assert (result.summary["posts"], result.summary["silent"]) == (len(posts), len(silent))
    assert {m.rsplit("/", 1)[1] for m in result.silent.column("message_id").to_pylist()} == silent
    replies = sum(max(s["replies_count"], own_replies.get(s["id"], 0)) for s in posts)
    assert result.outbound.column("replies").to_pylist() and \
        sum(result.outbound.column("replies").to_pylist()) == replies
    assert sum(result.outbound.column("likes").to_pylist()) == sum(s["favourites_count"] for s in posts)
    assert sum(result.outbound.column("reshares").to_pylist()) == sum(s["reblogs_count"] for s in posts)
    followers = statuses[0]["account"]["followers_count"]
    assert result.summary["applause_rate_per_1000_followers"] == pytest.approx(
        1000 * statistics.mean(s["favourites_count"] for s in posts) / followers)


@pytest.mark.slow
def test_discourse_forum_answers(shared, store):
    """A forum where the brand (AskCI's vsoch) answers questions in threads."""
    folder = shared / "formats/discourse_topic_json/topics"
    store.ingest([str(folder)])
    result = _inbox(store, ["vsoch"])
    # Independently, from the topic files: a post's parent is its reply_to_post_number, else the
    # first post (a linear reply), none for the first post and for small actions (post_type 3);
    # a mention is an <a class="mention" href="/u/vsoch"> of a user seen in the topic.
    brand = "vsoch"
    inbound, response = 0, []
    via = {"reply": 0, "mention": 0}
    for path in folder.glob("*.json"):
        topic = json.loads(path.read_text())
        posts = topic["post_stream"]["posts"]
        participants = topic["details"].get("participants", [])
        seen = {p["username"] for p in posts} | {u["username"] for u in participants}
        number = {p["post_number"]: p for p in posts}

        def parent(p, number=number):
            if p["post_number"] == 1 or p.get("post_type") == 3:
                return None
            n = p.get("reply_to_post_number")
            return number.get(n) if n else number.get(1)

        def when(p):
            return datetime.fromisoformat(p["created_at"].replace("Z", "+00:00"))

        for p in posts:
            if p["username"] == brand:
                continue
            replied = (parent(p) or {}).get("username") == brand
            mentioned = brand in seen and re.search(f'class="mention" href="/u/{brand}"', p["cooked"], re.I)
            if not (replied or mentioned):
                continue
            inbound += 1
            via["reply" if replied else "mention"] += 1
            # Answered: a brand reply to it, or to a later post of the same author in the topic.
            delays = [(when(b) - when(p)).total_seconds() for b in posts
                      if b["username"] == brand and parent(b) is not None
                      and (parent(b)["id"] == p["id"]
                           or (parent(b)["username"] == p["username"] and when(parent(b)) > when(p)))]
            if delays:
                response.append(min(delays))
    assert (inbound, len(response), via["reply"], via["mention"]) == (45, 14, 42, 3)
    s = result.summary
    assert (s["inbound"], s["answered"], s["via_reply"], s["via_mention"]) == (45, 14, 42, 3)
    assert s["median_response_seconds"] == pytest.approx(statistics.median(response))
    assert sorted(result.inbound.filter(result.inbound["answered"]).column("response_seconds").to_pylist()) \
        == pytest.approx(sorted(response))


def test_rumoureval_threads_have_no_authors(shared, store):
    # RumourEval 2017 (MSA-BiGCN copy) has texts and reply trees but no authors: no brand can be
    # declared, and the error says so rather than returning an empty inbox.
    store.ingest([str(shared / "rumoureval2017" / "traindev")])
    with pytest.raises(WhuffieError, match="the store has no handles"):
        _inbox(store, ["MichaelSkolnik"])
