"""Cascades rebuilt from the store: hand-made trees with measures computed by hand, real data counted raw."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta

import igraph as ig
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from whuffie.spread.cascades import CascadeSet
from whuffie.spread.cascades import cascades as rebuild
from whuffie.store.results import save_run

T0 = datetime(2024, 3, 1, 12, 0, 0)


def _row(mid, user, seconds, **links):
    when = (T0 + timedelta(seconds=seconds)).isoformat() + "Z"
    return {"message_id": mid, "user_id": user, "timestamp": when, "message": f"message {mid}", **links}


# Tree A:  1(ann) -> 2(bob, reply) -> 4(dan, reply) -> 5(bob, quote)
#          1      -> 3(cat, reshare) -> 6(eve: reply to 5 *and* reshare of 3: the reshare wins)
ROWS = [
    _row(1, "ann", 0, label="false"),
    _row(2, "bob", 60, reply_id=1),
    _row(3, "cat", 120, repost_id=1),
    _row(4, "dan", 300, reply_id=2),
    _row(5, "bob", 600, quote_id=4),
    _row(6, "eve", 900, reply_id=5, repost_id=3),
    # Tree B: replies to a stub (t:99 known only by its author u500).
    _row(10, "fay", 1000, reply_id=99, reply_user_id=500),
    _row(11, "gus", 1030, reply_id=99, reply_user_id=500),
    _row(12, "fay", 1090, reply_id=11),
    # A reply to a message absent from the store (no author known).
    _row(20, "hal", 2000, reply_id=77),
    # A cycle 30 <-> 31 with 32 under it.
    _row(30, "ivy", 3000, reply_id=31),
    _row(31, "jon", 3010, reply_id=30),
    _row(32, "kim", 3020, reply_id=31),
    # A message nobody answered.
    _row(40, "leo", 4000),
]


@pytest.fixture
def small(store, tmp_path):
    path = tmp_path / "small.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in ROWS) + b"\n")
    report = store.ingest([str(path)], format="jsonl", options={"platform": "t"})
    assert report.total("stored") == len(ROWS)
    return store


def cascades(store, platforms=None, **kwargs) -> CascadeSet:
    """The cascades of a store: its engine's parent links, rebuilt."""
    return rebuild(store.engine.cascade_links(platforms), **kwargs)


def _by_cascade(cs: CascadeSet) -> dict[str, dict]:
    return {r["cascade"]: r for r in cs.summary.to_pylist()}


def test_hand_made_tree_measures(small):
    cs = cascades(small)
    a = _by_cascade(cs)["t:1"]
    # Participants ann, bob, cat, dan, eve (bob twice); six messages; depths 0,1,1,2,3,2.
    assert (a["root"], a["size"], a["messages"], a["depth"], a["breadth"]) == ("t:ann", 5, 6, 3, 2)
    # Wiener index by subtree sizes (n = 6): edges 1-2 (s=3: 9), 2-4 (2: 8), 4-5 (1: 5), 1-3 (2: 8),
    # 3-6 (1: 5) -> W = 35, virality = 2 * 35 / (6 * 5).
    assert a["virality"] == pytest.approx(70 / 30)
    # First appearances 0, 60 (bob), 120 (cat), 300, 900: the 3rd of 5 participants at 120 s.
    assert a["time_to_half_seconds"] == 120.0
    assert (a["label"], a["valence"], a["platform"], a["started"]) == ("false", None, "t", T0)
    mine = cs.nodes.filter(pc.equal(cs.nodes["cascade"], "t:1"))
    nodes = {r["message_id"]: r for r in mine.to_pylist()}
    assert nodes["t:6"]["parent_id"] == "t:3" and nodes["t:6"]["depth"] == 2
    assert nodes["t:5"]["parent_id"] == "t:4" and nodes["t:5"]["delay_seconds"] == 600.0
    assert nodes["t:1"]["parent_id"] is None and nodes["t:1"]["depth"] == 0


def test_virality_agrees_with_igraph(small):
    cs = cascades(small)
    for row in cs.summary.to_pylist():
        sub = cs.nodes.filter(pc.equal(cs.nodes["cascade"], row["cascade"]))
        ids = sub["message_id"].to_pylist()
        index = {m: i for i, m in enumerate(ids)}
        edges = [(index[p], index[m]) for m, p in zip(ids, sub["parent_id"].to_pylist(), strict=True) if p]
        g = ig.Graph(n=len(ids), edges=edges)
        expected = g.average_path_length(directed=False) if len(ids) > 1 else 0.0
        assert row["virality"] == pytest.approx(expected), row["cascade"]


def test_stub_and_absent_parents_anchor_the_cascade(small):
    s = _by_cascade(cascades(small))
    b = s["t:99"]
    # The stub's author u500 takes part; fay twice; depths 0 (stub), 1, 1, 2.
    assert (b["root"], b["size"], b["messages"], b["depth"], b["breadth"]) == ("t:500", 3, 3, 2, 2)
    # Edges 99-10 (s=1: 3), 99-11 (2: 4), 11-12 (1: 3): W = 10 over 4 nodes.
    assert b["virality"] == pytest.approx(20 / 12)
    # No time for the stub: the cascade starts at the first reply; u500 and fay at 0, gus at 30.
    assert b["started"] == T0 + timedelta(seconds=1000)
    assert b["time_to_half_seconds"] == 0.0
    absent = s["t:77"]
    assert (absent["root"], absent["size"], absent["messages"], absent["depth"]) == (None, 1, 1, 1)


def test_cycle_is_cut_at_its_earliest_message(small):
    cs = cascades(small)
    assert cs.cycles == ["t:30"]
    c = _by_cascade(cs)["t:30"]
    assert (c["size"], c["depth"], c["breadth"]) == (3, 2, 1)


@pytest.mark.slow
def test_singletons_filters_valence_and_efluentials(small):
    cs = cascades(small)
    assert len(cs) == 5 and _by_cascade(cs)["t:40"]["size"] == 1
    assert sorted(cascades(small, min_size=2).summary["cascade"].to_pylist()) == ["t:1", "t:30", "t:99"]
    assert len(cascades(small, since=T0 + timedelta(seconds=2500))) == 2  # t:30 and t:40
    assert len(cascades(small, platforms=["other"])) == 0
    voice = pa.table({"message_id": ["t:1"], "sentiment": ["negative"], "score": [-0.5]})
    efluentials = pa.table({"actor_id": ["t:bob"]})
    cs = cascades(small, voice=voice, efluentials=efluentials)
    assert _by_cascade(cs)["t:1"]["valence"] == "negative"
    efl = {r["message_id"] for r in cs.nodes.to_pylist() if r["efluential"]}
    assert efl == {"t:2", "t:5"}
    # The library call reads the newest voice and e-fluentials runs of the store.
    before = {r["cascade"]: r for r in small.cascades()["cascades"].to_pylist()}
    assert before["t:1"]["valence"] is None
    voice_run = save_run(small, "voice", {"voice_messages": voice}, {})
    efl_run = save_run(small, "efluentials", {"efluentials": efluentials}, {})
    found = small.cascades()
    assert not found.reused
    assert found.inputs == {"voice": voice_run, "efluentials": efl_run, "advocates": None}
    summary = {r["cascade"]: r for r in found["cascades"].to_pylist()}
    assert summary["t:1"]["valence"] == "negative"
    efl = {r["message_id"] for r in found["cascade_nodes"].to_pylist() if r["efluential"]}
    assert efl == {"t:2", "t:5"}


def test_mastodon_reply_thread(store, shared):
    path = shared / "formats" / "mastodon_api_json" / "context_109294719267373593_mastodon.social.json"
    store.ingest([str(path)])
    # Independent count from the raw JSON: in_reply_to_id links among the descendants, the root
    # (109294719267373593, not in the file) authored by the account its direct replies answer.
    raw = json.loads(path.read_text())["descendants"]
    root_id = "109294719267373593"
    parent = {s["id"]: s["in_reply_to_id"] for s in raw}
    accounts = {s["account"]["id"] for s in raw}
    accounts |= {s["in_reply_to_account_id"] for s in raw if s["in_reply_to_id"] == root_id}

    def depth(i):
        return 0 if i == root_id else 1 + depth(parent[i])

    depths = [depth(s["id"]) for s in raw]
    levels = [depths.count(d) for d in set(depths)]
    cs = cascades(store)
    assert len(cs) == 1
    row = cs.summary.to_pylist()[0]
    assert row["cascade"] == f"mastodon:mastodon.social/{root_id}"
    assert (row["size"], row["messages"], row["depth"], row["breadth"]) == (
        len(accounts), len(raw), max(depths), max(levels))


_LINE = re.compile(r"\['([^']*)', '([^']*)', '([^']*)'\]->\['([^']*)', '([^']*)', '([^']*)'\]")


def _raw_tree(path):
    """Distinct users and max depth of a tree file from its lines (the first parent line of a node kept)."""
    parent, root, users = {}, None, set()
    for line in path.read_text().splitlines():
        m = _LINE.match(line)
        if not m or (m[1], m[2]) == (m[4], m[5]):
            continue
        p, c = (m[1], m[2]), (m[4], m[5])
        if p[0] == "ROOT":
            root = c
        else:
            parent.setdefault(c, p)
            users.add(p[0])
        users.add(c[0])
    depth = {root: 0}

    def d(n, seen=frozenset()):
        if n not in depth:
            depth[n] = math.nan if n in seen or n not in parent else d(parent[n], seen | {n}) + 1
        return depth[n]

    return len(users), max((d(n) for n in parent), default=0)


@pytest.mark.slow
def test_twitter15_sizes_match_the_raw_files(store, shared):
    folder = shared / "twitter15" / "twitter15" / "tree"
    files = sorted(folder.glob("*.txt"))[:100]
    store.ingest([str(f) for f in files])
    got = _by_cascade(cascades(store))
    same = [f for f in files if (got[f"twitter:{f.stem}"]["size"], got[f"twitter:{f.stem}"]["depth"])
            == _raw_tree(f)]
    # In the first 100 files no cascade shares its root or a subtree's parent with another one:
    # every file is one cascade with the same participants and depth.
    assert len(same) == len(files) == len(got)
    assert all(got[f"twitter:{f.stem}"]["label"] for f in files)


def test_link_chains_join_a_post_to_the_earlier_post_it_links_to(store):
    """A blog post linking to another post's page is its child; a link to a later page is not."""
    store.con.execute("""
        INSERT INTO messages (message_id, platform, actor_id, created_at, kind, url, is_stub) VALUES
        ('feed:b1', 'feed', 'feed:blog-b', '2024-01-01 10:00', 'post', 'https://blog-b.example/post-1',
         false),
        ('feed:a1', 'feed', 'feed:blog-a', '2024-01-02 10:00', 'post', 'https://blog-a.example/p/9', false),
        ('feed:c1', 'feed', 'feed:blog-c', '2024-01-03 10:00', 'post', 'https://blog-c.example/x', false),
        ('feed:d0', 'feed', 'feed:blog-d', '2023-12-01 10:00', 'post', 'https://blog-d.example/old',
         false)""")
    store.con.execute("""
        INSERT INTO links (message_id, url, domain, normalized_url) VALUES
        ('feed:a1', 'http://www.blog-b.example/post-1/#comments', 'blog-b.example', 'blog-b.example/post-1'),
        ('feed:c1', 'https://blog-a.example/p/9', 'blog-a.example', 'blog-a.example/p/9'),
        ('feed:d0', 'https://blog-c.example/x', 'blog-c.example', 'blog-c.example/x')""")
    cs = cascades(store)
    parents = {r["message_id"]: r["parent_id"] for r in cs.nodes.to_pylist()}
    assert parents["feed:a1"] == "feed:b1" and parents["feed:c1"] == "feed:a1"
    # d0 links to c1, written a month later: no parent (a link cannot pass on what did not exist yet).
    assert parents["feed:d0"] is None
    row = next(r for r in cs.summary.to_pylist() if r["cascade"] == "feed:b1")
    assert (row["size"], row["depth"]) == (3, 2)
