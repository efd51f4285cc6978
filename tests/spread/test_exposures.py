"""The exposure counts of fit_ic equal those of listing every exposure, on random and real data.

``LISTED`` is the earlier query of fit_ic, which listed each (cascade, teller, listener) exposure
and grew with the square of the data (with one change: ties between an actor's first messages
in a cascade are broken by message id, as today's query does); the counts are the same, taken
without the list, on integer codes.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whuffie import arrowsql
from whuffie.spread.diffusion import _EXPOSURES, _coded

LISTED = """WITH nd AS (SELECT CAST(cascade AS VARCHAR) AS cascade, message_id, actor_id, parent_id,
                      depth, CAST(created_at AS TIMESTAMP) AS t FROM nodes),
     first AS (SELECT cascade, actor_id, arg_min(message_id, (t, depth, message_id)) AS mid
                 FROM nd GROUP BY cascade, actor_id),
     adopt AS (SELECT f.cascade, f.actor_id, n.t, n.depth, p.actor_id AS parent
                 FROM first f
                 JOIN nd n ON n.cascade = f.cascade AND n.message_id = f.mid
                 LEFT JOIN nd p ON p.cascade = n.cascade AND p.message_id = n.parent_id),
     ex AS (SELECT u.cascade, u.actor_id AS teller, i.source AS listener, i.kind, sum(i.weight) AS c
              FROM adopt u JOIN att i
                ON i.target = u.actor_id AND (i.created_at IS NULL OR u.t IS NULL OR i.created_at < u.t)
             GROUP BY ALL),
     trial AS (SELECT e.cascade, e.teller, e.listener,
                      coalesce(any_value(v.parent) = e.teller, false) AS success,
                      string_agg(e.kind || '=' || CAST(e.c AS VARCHAR), ',' ORDER BY e.kind) AS pattern
                 FROM ex e JOIN adopt u ON u.cascade = e.cascade AND u.actor_id = e.teller
                 LEFT JOIN adopt v ON v.cascade = e.cascade AND v.actor_id = e.listener
                WHERE v.actor_id IS NULL OR v.parent = e.teller OR coalesce(v.t > u.t, v.depth > u.depth)
                GROUP BY e.cascade, e.teller, e.listener)
SELECT pattern, count(*) AS trials, sum(CAST(success AS BIGINT)) AS successes,
       (SELECT count(DISTINCT cascade) FROM nd) AS cascades
  FROM trial GROUP BY pattern ORDER BY pattern"""

T0 = dt.datetime(2024, 1, 1)
_TIME = st.one_of(st.none(), st.integers(0, 6).map(lambda h: T0 + dt.timedelta(hours=h)))


def _counts(sql: str, nodes: pa.Table, att: pa.Table) -> list[tuple]:
    if sql is not LISTED:
        nodes, att = _coded(nodes, att)
    out = arrowsql.query(sql, nodes=nodes, att=att)
    return sorted((r["pattern"], r["trials"], r["successes"], r["cascades"]) for r in out.to_pylist())


@st.composite
def _data(draw):
    actors = [f"x:{a}" for a in "abcdef"]
    rows = []
    for c in range(draw(st.integers(1, 3))):
        messages = []
        for i in range(draw(st.integers(1, 7))):
            parent = draw(st.sampled_from([None, *messages])) if messages else None
            depth = 0 if parent is None else next(r[4] for r in rows if r[1] == parent) + 1
            rows.append((f"k{c}", f"k{c}m{i}", draw(st.sampled_from(actors)), parent, depth, draw(_TIME)))
            messages.append(f"k{c}m{i}")
    att = draw(st.lists(st.tuples(st.sampled_from(actors), st.sampled_from(actors),
                                  st.sampled_from(["reply", "mention", "reshare"]), _TIME,
                                  st.sampled_from([1.0, 2.0, 0.5])), max_size=25))
    nodes = pa.table(dict(zip(["cascade", "message_id", "actor_id", "parent_id", "depth", "created_at"],
                              map(list, zip(*rows, strict=True)), strict=True)),
                     schema=pa.schema([("cascade", pa.string()), ("message_id", pa.string()),
                                       ("actor_id", pa.string()), ("parent_id", pa.string()),
                                       ("depth", pa.int64()), ("created_at", pa.timestamp("us"))]))
    att = pa.table(dict(zip(["source", "target", "kind", "created_at", "weight"],
                            map(list, zip(*att, strict=True)) if att else [[]] * 5, strict=True)),
                   schema=pa.schema([("source", pa.string()), ("target", pa.string()), ("kind", pa.string()),
                                     ("created_at", pa.timestamp("us")), ("weight", pa.float64())]))
    return nodes, att


#: The query with every cascade's pairs of adopters listed one way only.
_ROUTES = {
    "cheaper": _EXPOSURES,
    "square": _EXPOSURES.replace("r.square <= r.fanout", "true").replace("r.square > r.fanout", "false"),
    "fanout": _EXPOSURES.replace("r.square <= r.fanout", "false").replace("r.square > r.fanout", "true"),
}


@pytest.mark.parametrize("route", list(_ROUTES))
@settings(max_examples=300, deadline=None)
@given(data=_data())
def test_counted_exposures_equal_listed_exposures(route, data):
    nodes, att = data
    assert _ROUTES[route] != _EXPOSURES or route == "cheaper"
    assert _counts(_ROUTES[route], nodes, att) == _counts(LISTED, nodes, att)


@pytest.mark.slow
def test_counted_exposures_equal_listed_exposures_on_real_cascades(shared, tmp_path):
    import whuffie
    from whuffie.api.spread import cascade_set, cascades
    from whuffie.graph.build import GraphSpec

    with whuffie.open(tmp_path / "s.duckdb") as store:
        store.ingest([shared / "formats" / "twarc2_v2_jsonl", shared / "formats" / "mastodon_api_json",
                      shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.ndjson"])
        nodes = cascade_set(cascades(store), min_size=2).nodes
        att = store.engine.interactions(GraphSpec(), ["source", "target", "kind", "created_at", "weight"])
    assert nodes.num_rows > 500 and att.num_rows > 1000
    listed = _counts(LISTED, nodes, att)
    assert sum(r[1] for r in listed) > 100
    assert _counts(_EXPOSURES, nodes, att) == listed
