"""The attention-graph builder's filters against an independent computation, on real data.

``build_graph`` reads the store's ``interactions`` view through the engine. The reference here
derives the same acts of attention in plain Python from the canonical tables (``messages``,
``mentions``, ``links``, ``recipients``, ``ratings``, ``ties``) following docs/formats.md, then
filters and sums them itself; the two must give the same nodes, edges, weights and counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whuffie
from whuffie.errors import WhuffieError
from whuffie.graph.build import GraphSpec, build_graph
from whuffie.model import VOTE_KINDS, Link, Mention, Message, Rating, Recipient, Records, Tie

#: The documented default kind weights: every kind 1, except votes and emails (0.5).
DOC_WEIGHTS = {"vote": 0.5, "email": 0.5}


@dataclass(frozen=True, slots=True)
class Act:
    """One act of attention, derived from a canonical row."""

    source: str
    target: str
    kind: str
    time: datetime | None
    platform: str
    weight: float = 1.0
    value: float | None = None


def derive(store) -> list[Act]:
    """Every act of attention the store's canonical tables hold (plain SQL on the tables, no view)."""
    acts: list[Act] = []

    def add(source, target, kind, time, platform, weight=1.0, value=None):
        if source is not None and target is not None:
            acts.append(Act(source, target, kind, time, platform, float(weight), value))

    messages = store.sql("SELECT message_id, platform, actor_id, created_at, reply_to, reshare_of, quote_of, "
                         "is_stub FROM messages")
    by_id = {m["message_id"]: m for m in messages}
    assert len(by_id) == len(messages), "message ids are not unique"

    def author(message_id):
        m = by_id.get(message_id)
        return None if m is None else m["actor_id"]

    for m in messages:
        if m["is_stub"]:
            continue
        for column, kind in (("reply_to", "reply"), ("reshare_of", "reshare"), ("quote_of", "quote")):
            if m[column] is not None:
                add(m["actor_id"], author(m[column]), kind, m["created_at"], m["platform"])
    for table, column, kind in (("mentions", "actor_id", "mention"), ("links", "target_actor_id", "link"),
                                ("recipients", "actor_id", "email")):
        for row in store.sql(f"SELECT message_id, {column} AS target FROM {table}"):
            m = by_id.get(row["message_id"])
            if m is not None:
                add(m["actor_id"], row["target"], kind, m["created_at"], m["platform"])
    for r in store.sql("SELECT rater_id, target_actor_id, target_message_id, kind, value, created_at, "
                       "platform FROM ratings"):
        target = r["target_actor_id"] if r["target_actor_id"] is not None else author(r["target_message_id"])
        add(r["rater_id"], target, "vote" if r["kind"] in VOTE_KINDS else "rating", r["created_at"],
            r["platform"], value=r["value"])
    for t in store.sql("SELECT source_id, target_id, kind, weight, created_at, platform, directed FROM ties"):
        add(t["source_id"], t["target_id"], t["kind"], t["created_at"], t["platform"], t["weight"])
        # An undirected tie is attention both ways; a loop is one act, not two.
        if not t["directed"] and t["source_id"] != t["target_id"]:
            add(t["target_id"], t["source_id"], t["kind"], t["created_at"], t["platform"], t["weight"])
    return acts


def _naive_utc(t: datetime | None) -> datetime | None:
    return t.astimezone(UTC).replace(tzinfo=None) if t is not None and t.tzinfo is not None else t


def kept(a: Act, *, kinds=None, since=None, until=None, platforms=None, self_loops=False) -> bool:
    """Whether one act passes the filters (documented semantics of GraphSpec; bounds naive UTC)."""
    if a.source == a.target and not self_loops:
        return False
    if a.kind == "rating" and a.value is not None and a.value < 0:
        return False
    if kinds is not None and a.kind not in kinds:
        return False
    if platforms is not None and a.platform not in platforms:
        return False
    if since is not None and (a.time is None or a.time < since):
        return False
    return until is None or (a.time is not None and a.time < until)


def reference(acts, *, weights=None, min_weight=0.0, **filters) -> dict[tuple[str, str], tuple[float, int]]:
    """(source, target) -> (weight, count) of the edges the filters keep."""
    weights = weights or {}
    for bound in ("since", "until"):
        filters[bound] = _naive_utc(filters.get(bound))
    acc: dict[tuple[str, str], list] = {}
    for a in acts:
        if kept(a, **filters):
            slot = acc.setdefault((a.source, a.target), [0.0, 0])
            kind_weight = weights.get(a.kind, DOC_WEIGHTS.get(a.kind, 1.0))
            slot[0] += a.weight * kind_weight
            slot[1] += kind_weight > 0     # a kind weighted 0 is not evidence of the edge
    return {k: (w, c) for k, (w, c) in acc.items() if w > 0 and w >= min_weight}


def edges_of(g) -> dict[tuple[str, str], tuple[float, int]]:
    """The graph's edges by actor ids, after checking its structure."""
    nodes = g.nodes.tolist()
    assert nodes == sorted(set(nodes)), "nodes are not sorted and unique"
    assert g.src.dtype.name == "int32" and g.dst.dtype.name == "int32"
    assert g.weight.dtype.name == "float64" and g.count.dtype.name == "int64"
    pairs = list(zip(g.src.tolist(), g.dst.tolist(), strict=True))
    assert pairs == sorted(pairs), "edges are not sorted by (src, dst)"
    assert len(set(pairs)) == len(pairs), "repeated edge"
    touched = {i for p in pairs for i in p}
    assert touched == set(range(len(nodes))), "a node without an edge"
    return {(nodes[s], nodes[d]): (w, c)
            for (s, d), w, c in zip(pairs, g.weight.tolist(), g.count.tolist(), strict=True)}


def assert_same(g, expected) -> None:
    """The graph has exactly the expected nodes and edges (weights within 1e-9, counts equal)."""
    got = edges_of(g)
    assert g.nodes.tolist() == sorted({a for pair in expected for a in pair})
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    assert not missing, f"{len(missing)} edges missing, e.g. {missing[:5]}"
    assert not extra, f"{len(extra)} edges too many, e.g. {extra[:5]}"
    bad = [(k, got[k], expected[k]) for k in expected
           if got[k][1] != expected[k][1] or abs(got[k][0] - expected[k][0]) > 1e-9]
    assert not bad, f"{len(bad)} edges differ, e.g. {bad[:5]}"


def figures(g) -> tuple[int, int, int, float]:
    """(nodes, edges, interactions, total weight) of a graph."""
    return g.n, g.m, int(g.count.sum()), round(float(g.weight.sum()), 6)


# -- the real store ----------------------------------------------------------------------------------

#: Two exact interaction times of the real data: three Twitter mentions at S, one Mastodon mention at U.
S = datetime(2019, 7, 27, 23, 38, 51)
U = datetime(2024, 1, 6, 21, 19, 0, 346000)
US = timedelta(microseconds=1)


@pytest.fixture(scope="module")
def acts(graph_store) -> list[Act]:
    return derive(graph_store)


def check(store, acts, **filters):
    """Build with ``filters``, compare with the reference, and return the graph's figures."""
    g = build_graph(store, **filters)
    assert_same(g, reference(acts, **filters))
    return figures(g)


@pytest.mark.slow
def test_real_data_has_every_kind(acts):
    # The acts of attention the canonical tables hold, by kind (self-loops and negative ratings included).
    assert sorted(Counter(a.kind for a in acts).items()) == [
        ("email", 5), ("link", 168), ("mention", 1062), ("quote", 72), ("rating", 35592), ("reply", 775),
        ("reshare", 320), ("tie", 156), ("vote", 45)]
    assert sum(1 for a in acts if a.kind == "rating" and a.value < 0) == 3563
    assert sum(1 for a in acts if a.source == a.target) == 177
    assert Counter(a.platform for a in acts if a.time is None) == {
        "zachary-karate": 156, "bluesky": 25, "stackexchange": 10}
    assert {a.weight for a in acts if a.kind == "tie"} == {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0}


# 1. default spec

def test_default_graph_equals_reference(graph_store, acts):
    assert check(graph_store, acts) == (6781, 33543, 34455, 34737.0)
    assert figures(build_graph(graph_store, GraphSpec())) == (6781, 33543, 34455, 34737.0)
    assert figures(build_graph(graph_store.engine)) == (6781, 33543, 34455, 34737.0)


# 2. kinds

@pytest.mark.parametrize(("kinds", "expected"), [
    (("reply",), (412, 466, 625, 625.0)),
    (("mention", "reshare"), (885, 926, 1364, 1364.0)),
    (("vote",), (47, 43, 43, 21.5)),
    (("link", "email", "quote"), (181, 147, 238, 235.5)),
    (("tie",), (34, 156, 156, 462.0)),
    (("rating",), (5573, 32029, 32029, 32029.0)),
    ((), (0, 0, 0, 0.0)),
])
def test_kinds_filter(graph_store, acts, kinds, expected):
    assert check(graph_store, acts, kinds=kinds) == expected


def test_kinds_partition_the_default_graph(graph_store, acts):
    # Building kind by kind and adding up gives the default graph back.
    total: Counter = Counter()
    for kind in ("reply", "reshare", "quote", "mention", "link", "email", "vote", "rating", "tie"):
        for pair, (_, c) in edges_of(build_graph(graph_store, kinds=[kind])).items():
            total[pair] += c
    assert total == {pair: c for pair, (_, c) in edges_of(build_graph(graph_store)).items()}


@pytest.mark.parametrize(("filters", "unknown"), [
    ({"kinds": ("reply", "like")}, "'like'"), ({"kinds": ("follow",)}, "'follow'"),
    ({"kinds": ("Reply", "vote", "bounty")}, "'Reply', 'bounty'"),
    # A misspelled kind in the weights used to weigh nothing, silently.
    ({"weights": {"replyy": 2.0}}, "'replyy'"), ({"weights": {"rep'ly": 2.0}}, '"rep\'ly"')])
def test_unknown_kind_raises_naming_the_known_ones(graph_store, filters, unknown):
    with pytest.raises(WhuffieError) as info:
        build_graph(graph_store, **filters)
    message = str(info.value)
    assert message.startswith(f"unknown interaction kind(s) {unknown}; ")
    assert message.endswith("known kinds: email, link, mention, quote, rating, reply, reshare, tie, vote")


# 3. weights

@pytest.mark.parametrize(("weights", "expected"), [
    ({"vote": 2.0, "reply": 0.25}, (6781, 33543, 34455, 34332.75)),
    ({"tie": 0.5}, (6781, 33543, 34455, 34506.0)),
    ({"email": 1, "vote": 1}, (6781, 33543, 34455, 34761.0)),
])
def test_kind_weights(graph_store, acts, weights, expected):
    assert check(graph_store, acts, weights=weights) == expected


@pytest.mark.slow
def test_a_kind_weighted_zero_drops_the_edges_made_only_of_it(graph_store, acts):
    # Bitcoin OTC holds only ratings: weighted 0, none of its actors is left.
    assert check(graph_store, acts, weights={"rating": 0}) == (1208, 1514, 2426, 2708.0)
    g = build_graph(graph_store, weights={"rating": 0})
    assert not [a for a in g.nodes.tolist() if a.startswith("bitcoin-otc:")]
    # Mentions weighted 0: mention-only edges go; an edge that also has a reply keeps the reply's weight
    # and its count (count is the number of interactions that weigh in).
    assert check(graph_store, acts, weights={"mention": 0.0}) == (6557, 33108, 33403, 33685.0)
    both = edges_of(build_graph(graph_store, kinds=("mention", "reply"), weights={"mention": 0}))
    replies = edges_of(build_graph(graph_store, kinds=("reply",)))
    assert both.keys() == replies.keys()
    assert both == replies


def test_negative_kind_weight_is_refused():
    with pytest.raises(WhuffieError, match="kind weights must be numbers >= 0"):
        GraphSpec(weights={"reply": -1.0})


# 4. time window

@pytest.mark.parametrize(("window", "expected"), [
    ({"since": S, "until": U}, (766, 847, 1433, 1418.5)),
    ({"since": S}, (1010, 1075, 1817, 1802.0)),
    ({"until": U}, (6489, 33138, 33881, 33862.0)),
    ({"since": S, "until": U, "kinds": ("reply", "vote")}, (263, 220, 246, 234.0)),
])
def test_time_window(graph_store, acts, window, expected):
    assert check(graph_store, acts, **window) == expected


def test_a_window_drops_undated_interactions(graph_store, acts):
    undated = sum(1 for a in acts if a.time is None and kept(a))
    assert undated == 190
    everything = build_graph(graph_store, since=datetime(1900, 1, 1), until=datetime(2100, 1, 1))
    assert figures(everything) == (6733, 33366, 34265, 34245.5)
    assert int(everything.count.sum()) == 34455 - undated
    # The karate club's ties have no time: none of its members is left.
    assert not [a for a in everything.nodes.tolist() if a.startswith("zachary-karate:")]
    assert figures(build_graph(graph_store, since=datetime(1900, 1, 1))) == figures(everything)
    assert figures(build_graph(graph_store, until=datetime(2100, 1, 1))) == figures(everything)


def test_window_is_half_open(graph_store, acts):
    # The bounds are real interaction times: three mentions exactly at S, one exactly at U.
    at_s = [a for a in acts if a.time == S and kept(a)]
    at_u = [a for a in acts if a.time == U and kept(a)]
    assert [(a.kind, a.platform) for a in at_s] == [("mention", "twitter")] * 3
    assert [(a.kind, a.platform) for a in at_u] == [("mention", "mastodon")]

    def count(**window):
        return int(build_graph(graph_store, **window).count.sum())

    # since is included: moving it one microsecond later loses exactly the acts at S.
    assert count(since=S) - count(since=S + US) == 3
    # until is excluded: moving it one microsecond later gains exactly the act at U.
    assert count(until=U + US) - count(until=U) == 1
    assert count(since=S, until=U + US) - count(since=S, until=U) == 1
    assert count(since=U, until=U + US) == 1
    assert count(since=S, until=S) == 0
    with_s = edges_of(build_graph(graph_store, since=S, until=S + US))
    assert sum(c for _, c in with_s.values()) == 3
    assert all(pair in with_s for pair in {(a.source, a.target) for a in at_s})


def test_aware_bounds_are_instants(graph_store, acts):
    plus2 = timezone(timedelta(hours=2))
    aware = {"since": (S + timedelta(hours=2)).replace(tzinfo=plus2), "until": U.replace(tzinfo=UTC)}
    assert check(graph_store, acts, **aware) == (766, 847, 1433, 1418.5)


def _two_replies(store):
    store.add(Records(messages=[
        Message("x:1", "x", "x:a", datetime(2020, 1, 1, 12)),
        Message("x:2", "x", "x:b", datetime(2020, 1, 1, 12), kind="reply", reply_to="x:1"),
        Message("x:3", "x", "x:c", datetime(2020, 1, 1, 14), kind="reply", reply_to="x:1")]))


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_aware_bounds_whatever_the_session_time_zone(zone):
    # DuckDB's TimeZone setting is the machine's local zone (TZ=America/New_York gives 'America/New_York'):
    # an aware bound must still mean its instant. The reply at 12:00 UTC is before 13:00 UTC.
    with whuffie.open(":memory:") as store:
        _two_replies(store)
        store.con.execute(f"SET TimeZone = '{zone}'")
        bound = datetime(2020, 1, 1, 13, tzinfo=UTC)
        assert edges_of(build_graph(store, since=bound)) == {("x:c", "x:a"): (1.0, 1)}
        assert edges_of(build_graph(store, until=bound)) == {("x:b", "x:a"): (1.0, 1)}
        naive = datetime(2020, 1, 1, 13)
        assert edges_of(build_graph(store, since=naive)) == {("x:c", "x:a"): (1.0, 1)}


# 5. platforms

@pytest.mark.parametrize(("platforms", "expected"), [
    (("twitter",), (661, 627, 1101, 1101.0)),
    (("mastodon", "bluesky"), (340, 429, 678, 665.5)),
    (("zachary-karate",), (34, 156, 156, 462.0)),
    (("email",), (22, 32, 46, 43.5)),
    (("nowhere",), (0, 0, 0, 0.0)),
])
def test_platforms_filter(graph_store, acts, platforms, expected):
    assert check(graph_store, acts, platforms=platforms) == expected
    g = build_graph(graph_store, platforms=platforms)
    # Actor ids carry their platform (web links and email come from their own platforms).
    assert {a.split(":", 1)[0] for a in g.nodes.tolist()} <= set(platforms) | {"web"}


# 6. min_weight

@pytest.mark.slow
@pytest.mark.parametrize(("filters", "expected"), [
    ({"min_weight": 0.5}, (6781, 33543, 34455, 34737.0)),
    ({"min_weight": 0.75}, (6762, 33510, 34422, 34720.5)),
    ({"min_weight": 2.0}, (736, 710, 1611, 1915.0)),
    ({"min_weight": 3.0}, (122, 190, 618, 874.5)),
    ({"min_weight": 2.0, "kinds": ("reply",)}, (65, 73, 232, 232.0)),
])
def test_min_weight(graph_store, acts, filters, expected):
    assert check(graph_store, acts, **filters) == expected
    g = build_graph(graph_store, **filters)
    assert g.weight.min() >= filters["min_weight"]
    # An edge exactly at the threshold is kept.
    if filters["min_weight"] in (0.5, 2.0, 3.0):
        assert (g.weight == filters["min_weight"]).any()


def test_min_weight_drops_nodes_left_without_edges(graph_store):
    full, heavy = build_graph(graph_store), build_graph(graph_store, min_weight=2.0)
    touched = {a for pair in edges_of(heavy) for a in pair}  # edges_of also checks every node has an edge
    assert set(heavy.nodes.tolist()) == touched
    assert set(full.nodes.tolist()) - touched and len(full.nodes) - len(heavy.nodes) == 6045


# 7. negative ratings and self-loops

@pytest.mark.slow
def test_negative_ratings_never_make_edges(graph_store, acts):
    ratings = graph_store.sql("SELECT rater_id, target_actor_id, value FROM ratings "
                              "WHERE platform = 'bitcoin-otc'")
    negative = {(r["rater_id"], r["target_actor_id"]) for r in ratings if r["value"] < 0}
    positive = Counter((r["rater_id"], r["target_actor_id"]) for r in ratings if r["value"] > 0)
    assert (len(ratings), len(negative), sum(positive.values())) == (35592, 3563, 32029)
    for filters in ({}, {"kinds": ("rating",)}, {"self_loops": True}, {"weights": {"rating": 3.0}}):
        got = edges_of(build_graph(graph_store, **filters))
        assert not negative & got.keys(), filters
        assert all(got[pair][1] == n for pair, n in positive.items()), filters
    only = edges_of(build_graph(graph_store, kinds=("rating",)))
    assert only == {pair: (float(n), n) for pair, n in positive.items()}


@pytest.mark.slow
def test_self_loops(graph_store, acts):
    default = build_graph(graph_store)
    assert not (default.src == default.dst).any()
    assert check(graph_store, acts, self_loops=True) == (6809, 33624, 34632, 34913.0)
    assert check(graph_store, acts, self_loops=True, kinds=("reply",)) == (449, 539, 775, 775.0)
    loops = build_graph(graph_store, self_loops=True)
    assert int((loops.src == loops.dst).sum()) == 81
    # Without its loops, the graph with loops is the default graph.
    ours = {p: v for p, v in edges_of(loops).items() if p[0] != p[1]}
    assert ours == edges_of(default)


def test_tiny_store_loops_signs_and_stubs():
    with whuffie.open(":memory:") as store:
        store.add(Records(
            messages=[Message("x:1", "x", "x:a", datetime(2020, 1, 1)),
                      Message("x:2", "x", "x:a", datetime(2020, 1, 2), kind="reply", reply_to="x:1"),
                      Message("x:3", "x", "x:b", datetime(2020, 1, 3), kind="reply", reply_to="x:1")],
            # A stub is known only by id and author: it is a reply's target, never a reply itself.
            context=[Message("x:9", "x", "x:g", None, reply_to="x:1", reshare_of="x:3", stub=True)],
            ratings=[Rating("x:r0", "x", None, "x:a", None, "like", 1.0),
                     Rating("x:r1", "x", "x:b", "x:a", None, "rating", -3.0),
                     Rating("x:r2", "x", "x:c", "x:a", None, "trust", -0.5),
                     Rating("x:r3", "x", "x:c", None, "x:1", "rating", 0.0),
                     Rating("x:r4", "x", "x:d", "x:a", None, "downvote", -1.0)],
            ties=[Tie("x:t1", "x", "x:e", "x:e", weight=3.0, directed=False),
                  Tie("x:t2", "x", "x:e", "x:f", weight=2.0, directed=False)]))
        acts = derive(store)
        for loops in (False, True):
            assert_same(build_graph(store, self_loops=loops), reference(acts, self_loops=loops))
        assert edges_of(build_graph(store)) == {
            ("x:b", "x:a"): (1.0, 1),  # the reply; the -3 rating is not attention
            ("x:c", "x:a"): (1.0, 1),  # the 0 rating of x:a's message; the -0.5 trust is not
            ("x:d", "x:a"): (0.5, 1),  # a downvote is a vote, not a negative rating
            ("x:e", "x:f"): (2.0, 1), ("x:f", "x:e"): (2.0, 1)}
        with_loops = edges_of(build_graph(store, self_loops=True))
        # Replying to oneself is a loop; an undirected loop tie is one interaction, not two.
        assert with_loops[("x:a", "x:a")] == (1.0, 1)
        assert with_loops[("x:e", "x:e")] == (3.0, 1)
        assert len(with_loops) == 7


# -- property: random small stores and random filters ------------------------------------------------

ACTORS = ["x:a", "x:b", "x:c", "y:d", "y:e"]
PLATFORMS = ["x", "y", "z"]
#: Few times, two of them a microsecond apart, so that random bounds fall exactly on interactions.
TIMES = [None, datetime(2020, 1, 1), datetime(2020, 1, 1, 0, 0, 0, 1), datetime(2020, 6, 1),
         datetime(2021, 1, 1)]
TIE_KINDS = ["tie", "follow", "mention"]
KINDS = ["reply", "reshare", "quote", "mention", "link", "email", "vote", "rating"]

maybe_actor = st.sampled_from([*ACTORS, None])


@st.composite
def records(draw) -> Records:
    n = draw(st.integers(1, 7))
    ids = [f"m:{i}" for i in range(n)]
    ref = st.sampled_from([*ids, "m:missing", None])
    out = Records()
    for mid in ids:
        stub = draw(st.booleans()) and draw(st.booleans())
        m = Message(mid, draw(st.sampled_from(PLATFORMS)), draw(maybe_actor), draw(st.sampled_from(TIMES)),
                    reply_to=draw(ref), reshare_of=draw(ref), quote_of=draw(ref), stub=stub)
        (out.context if stub else out.messages).append(m)
        for actor in draw(st.lists(st.sampled_from(ACTORS), max_size=2)):
            out.mentions.append(Mention(mid, actor))
        for actor in draw(st.lists(st.sampled_from(ACTORS), max_size=2, unique=True)):
            out.recipients.append(Recipient(mid, actor))
        if draw(st.booleans()):
            out.links.append(Link(mid, f"https://{mid}", target_actor_id=draw(maybe_actor)))
    for i in range(draw(st.integers(0, 5))):
        out.ratings.append(Rating(
            f"r:{i}", draw(st.sampled_from(PLATFORMS)), draw(maybe_actor), draw(maybe_actor), draw(ref),
            draw(st.sampled_from([*VOTE_KINDS, "rating", "trust"])),
            draw(st.sampled_from([None, -2.0, -0.5, 0.0, 1.0, 3.0])), draw(st.sampled_from(TIMES))))
    for i in range(draw(st.integers(0, 5))):
        out.ties.append(Tie(
            f"t:{i}", draw(st.sampled_from(PLATFORMS)), draw(st.sampled_from(ACTORS)),
            draw(st.sampled_from(ACTORS)), draw(st.sampled_from(TIE_KINDS)),
            draw(st.sampled_from([0.0, 0.5, 1.0, 2.5])), draw(st.sampled_from(TIMES)), draw(st.booleans())))
    return out


weights_st = st.sampled_from([0.0, 0.25, 0.5, 1, 2.0, 3.0])
filters_st = st.fixed_dictionaries({}, optional={
    "kinds": st.lists(st.sampled_from([*KINDS, *TIE_KINDS]), max_size=4).map(tuple),
    "weights": st.dictionaries(st.sampled_from([*KINDS, *TIE_KINDS]), weights_st, max_size=3),
    "since": st.sampled_from(TIMES[1:]),
    "until": st.sampled_from(TIMES[1:]),
    "platforms": st.lists(st.sampled_from(PLATFORMS), max_size=2).map(tuple),
    "min_weight": st.sampled_from([0.0, 0.5, 1.0, 2.0, 2.5]),
    "self_loops": st.booleans(),
})


@pytest.fixture(scope="module")
def scratch():
    with whuffie.open(":memory:") as store:
        yield store


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=records(), specs=st.lists(filters_st, min_size=1, max_size=4))
def test_random_stores_match_the_reference(scratch, data, specs):
    for table in ("messages", "actors", "mentions", "links", "recipients", "ratings", "ties"):
        scratch.con.execute(f"DELETE FROM {table}")
    scratch.add(data)
    acts = derive(scratch)
    known = set(KINDS) | {t.kind for t in data.ties}
    for filters in specs:
        if (set(filters.get("kinds") or ()) | set(filters.get("weights") or {})) - known:
            with pytest.raises(WhuffieError, match="unknown interaction kind"):
                build_graph(scratch, **filters)
        else:
            assert_same(build_graph(scratch, **filters), reference(acts, **filters))
