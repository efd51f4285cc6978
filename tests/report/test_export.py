"""Graph exports read back by other tools and checked against the raw files they came from."""

from __future__ import annotations

import csv
import io
import shutil
from collections import Counter, defaultdict
from datetime import datetime

import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lxml import etree

import whuffie
from tests.conftest import cli
from whuffie.store.results import load

GEXF = "{http://gexf.net/1.3}"
VIZ = "{http://gexf.net/1.3/viz}"
SE = "stackexchange:stackexchange_conlang_meta/"
#: Values and types allowed by the GEXF 1.3 grammar (gexf.rnc and dynamics.rnc of the spec).
GEXF_ATTR_TYPES = {"integer", "long", "double", "float", "boolean", "bigdecimal", "biginteger", "byte",
                   "char", "short", "string", "anyURI", "liststring", "listboolean", "listinteger",
                   "listlong", "listfloat", "listdouble", "listbyte", "listshort", "listbigdecimal",
                   "listbiginteger", "listchar"}
NASTY_HANDLE = '=HYPERLINK("http://evil.example/?x","click")'
NASTY_NAME = 'Tom "the <b>" & Jerry\nline two\x01'


@pytest.fixture(scope="module")
def polblogs_db(shared, tmp_path_factory):
    """Polblogs in a closed store, with two profiles made hostile to CSV and XML."""
    db = tmp_path_factory.mktemp("polblogs") / "polblogs.duckdb"
    with whuffie.open(db) as store:
        store.ingest([str(shared / "polblogs" / "polblogs.gml")])
        store.con.execute("UPDATE actors SET handle = ? WHERE actor_id = 'polblogs:1'", [NASTY_HANDLE])
        store.con.execute("UPDATE actors SET name = ? WHERE actor_id = 'polblogs:2'", [NASTY_NAME])
    return db


@pytest.fixture(scope="module")
def polblogs_raw(shared):
    """The hyperlinks as networkx reads the GML: nodes with an edge to another node, and those edges."""
    raw = nx.read_gml(shared / "polblogs" / "polblogs.gml", label="id")
    edges = {(f"polblogs:{u}", f"polblogs:{v}") for u, v in raw.edges() if u != v}
    nodes = {a for e in edges for a in e}
    return nodes, edges


@pytest.fixture(scope="module")
def se_db(shared, tmp_path_factory):
    db = tmp_path_factory.mktemp("se") / "se.duckdb"
    with whuffie.open(db) as store:
        store.ingest([str(shared / "stackexchange_conlang_meta")])
    return db


@pytest.fixture(scope="module")
def mastodon_db(shared, tmp_path_factory):
    db = tmp_path_factory.mktemp("mastodon") / "mastodon.duckdb"
    with whuffie.open(db) as store:
        store.ingest([str(shared / "formats" / "mastodon_api_json")])
    return db


@pytest.fixture(scope="module")
def se_raw(shared):
    """Every timed or untimed act of attention in the dump's XML, by (source, target) user ids.

    Answers reply to the question's owner, comments to the post's owner; the
    votes that name their voter (favourites here) and acceptances (asker ->
    answer owner, undated) are votes. Self-interactions are left out.
    """
    folder = shared / "stackexchange_conlang_meta"

    def rows(name):
        return [r.attrib for r in etree.parse(str(folder / name)).getroot()]

    posts = {p["Id"]: p for p in rows("Posts.xml")}
    owner = {i: p.get("OwnerUserId") for i, p in posts.items()}
    acts = []  # (source, target, kind, time or None)
    for p in posts.values():
        if p["PostTypeId"] == "2":
            acts.append((p.get("OwnerUserId"), owner.get(p["ParentId"]), "reply", p["CreationDate"]))
        if p.get("AcceptedAnswerId"):
            acts.append((p.get("OwnerUserId"), owner.get(p["AcceptedAnswerId"]), "vote", None))
    for c in rows("Comments.xml"):
        acts.append((c.get("UserId"), owner.get(c["PostId"]), "reply", c["CreationDate"]))
    for v in rows("Votes.xml"):
        if v.get("UserId") and v["VoteTypeId"] in ("1", "2", "3", "5", "8"):
            acts.append((v["UserId"], owner.get(v["PostId"]), "vote", v["CreationDate"]))
    edges = defaultdict(list)
    for s, t, kind, when in acts:
        if s and t and s != t:
            edges[(SE + "u" + s, SE + "u" + t)].append(
                (kind, datetime.fromisoformat(when).replace(microsecond=0) if when else None))
    return edges


def check_gexf_13(path):
    """Check a file against the structure of the GEXF 1.3 grammar that Gephi relies on."""
    root = etree.parse(str(path)).getroot()
    assert root.tag == GEXF + "gexf" and root.get("version") == "1.3"
    assert [c.tag for c in root] == [GEXF + "meta", GEXF + "graph"]
    graph = root.find(GEXF + "graph")
    assert graph.get("defaultedgetype") == "directed"
    assert graph.get("mode") in ("static", "dynamic")
    dynamic = graph.get("mode") == "dynamic"
    assert graph.get("timeformat") == ("dateTime" if dynamic else None)
    tags = [c.tag for c in graph]
    assert tags == [GEXF + "attributes"] * (len(tags) - 2) + [GEXF + "nodes", GEXF + "edges"]
    declared = {}
    for block in graph.findall(GEXF + "attributes"):
        assert block.get("class") in ("node", "edge")
        for a in block:
            assert a.tag == GEXF + "attribute" and a.get("id") and a.get("title")
            assert a.get("type") in GEXF_ATTR_TYPES
            declared[(block.get("class"), a.get("id"))] = a.get("type")
    parse = {"long": int, "integer": int, "double": float, "string": str}

    def check_element(e, cls):
        for v in e.iter(GEXF + "attvalue"):
            parse[declared[(cls, v.get("for"))]](v.get("value"))
        if e.get("start") is not None:
            assert dynamic
            assert datetime.fromisoformat(e.get("start")) <= datetime.fromisoformat(e.get("end"))

    nodes = graph.find(GEXF + "nodes")
    ids = [n.get("id") for n in nodes]
    assert len(ids) == len(set(ids)) == int(nodes.get("count"))
    for n in nodes:
        assert n.tag == GEXF + "node" and n.get("label")
        check_element(n, "node")
        for v in n:  # what a node holds: its values, then the viz namespace's size, position and colour
            assert v.tag in (GEXF + "attvalues", VIZ + "size", VIZ + "position", VIZ + "color")
            if v.tag == VIZ + "color":
                assert all(0 <= int(v.get(c)) <= 255 for c in "rgb")
            elif v.tag != GEXF + "attvalues":
                [float(x) for x in v.attrib.values()]
    edges = graph.find(GEXF + "edges")
    known = set(ids)
    for e in edges:
        assert e.tag == GEXF + "edge" and e.get("source") in known and e.get("target") in known
        float(e.get("weight"))
        check_element(e, "edge")
    assert len(edges) == int(edges.get("count"))
    return root


def read_gexf_dynamic(path):
    """networkx's GEXF reader, taught xsd:dateTime times (it knows only date, double, long): what a
    networkx user must do to read a ``--timeline`` export."""
    reader = nx.readwrite.gexf.GEXFReader(version="1.3")
    reader.python_type["dateTime"] = str
    return reader(str(path))


def kinds_of(edge_data, kinds):
    """The per-kind counts of one edge as networkx read them."""
    return {k: edge_data[k] for k in kinds if edge_data[k]}


# -- polblogs: structure and round trips ----------------------------------------------------


@pytest.mark.slow
def test_polblogs_gexf_round_trips_through_networkx(polblogs_db, polblogs_raw, tmp_path):
    out = tmp_path / "polblogs.gexf"
    result = cli("export", "--out", out, "--db", polblogs_db)
    assert result.exit_code == 0, result.output
    # 19,020 hyperlinks less 3 self-loops; 1,490 blogs less the 266 without any other link.
    assert "Wrote 1,224 nodes and 19,017 edges" in result.output and "laid out" in result.output
    assert "Interaction counts per kind: link." in result.output
    check_gexf_13(out)
    nodes, edges = polblogs_raw
    g = nx.read_gexf(out)
    assert (g.number_of_nodes(), g.number_of_edges()) == (len(nodes), len(edges)) == (1224, 19017)
    assert set(g.nodes) == nodes and set(g.edges) == edges
    assert {d["weight"] for _, _, d in g.edges(data=True)} == {1.0}
    # One count per kind instead of a "link:1" string: polblogs holds hyperlinks only.
    assert {(d["count"], d["link"]) for _, _, d in g.edges(data=True)} == {(1, 1)}
    assert "kinds" not in next(iter(g.edges(data=True)))[2]
    assert g.nodes["polblogs:10"]["label"] == "ackackack.com"
    assert g.nodes["polblogs:10"]["platform"] == "polblogs"
    assert g.graph["mode"] == "static"
    # Laid out for Gephi within the stated extent; without an influence run no size nor colour.
    xy = np.array([[d["viz"]["position"]["x"], d["viz"]["position"]["y"]] for _, d in g.nodes(data=True)])
    assert xy.shape == (1224, 2) and np.abs(xy).max() == pytest.approx(500, abs=0.01)
    assert len(np.unique(xy, axis=0)) == 1224
    assert not any("color" in d["viz"] or "size" in d["viz"] for _, d in g.nodes(data=True))


@pytest.mark.slow
def test_gexf_escapes_what_people_put_in_their_names(polblogs_db, tmp_path):
    out = tmp_path / "g.gexf"
    with whuffie.open(polblogs_db, read_only=True) as store:
        assert store.export(out, layout=False).paths == [out]
    g = nx.read_gexf(out)
    assert g.nodes["polblogs:1"]["label"] == NASTY_HANDLE
    # Quotes, markup and the line break survive; the control character XML forbids becomes U+FFFD.
    assert g.nodes["polblogs:2"]["name"] == NASTY_NAME.replace("\x01", "\ufffd")
    assert "\n" not in g.nodes["polblogs:2"]["label"]
    assert "viz" not in g.nodes["polblogs:2"]


@pytest.mark.slow
def test_polblogs_graphml_reads_back_in_networkx_and_igraph(polblogs_db, polblogs_raw, tmp_path):
    import igraph

    out = tmp_path / "polblogs.graphml"
    assert cli("export", "--out", out, "--db", polblogs_db).exit_code == 0
    nodes, edges = polblogs_raw
    g = nx.read_graphml(out)
    assert set(g.nodes) == nodes and set(g.edges) == edges
    assert g.nodes["polblogs:2"]["name"] == NASTY_NAME.replace("\x01", "\ufffd")
    assert {(d["weight"], d["count"], d["link"]) for _, _, d in g.edges(data=True)} == {(1.0, 1, 1)}
    ig = igraph.Graph.Read_GraphML(str(out))
    assert ig.is_directed() and (ig.vcount(), ig.ecount()) == (1224, 19017)
    names = ig.vs["id"]
    assert {(names[e.source], names[e.target]) for e in ig.es} == edges
    assert sum(ig.es["weight"]) == sum(ig.es["link"]) == sum(ig.es["count"]) == 19017


@pytest.mark.slow
def test_csv_is_gephi_layout_and_formula_safe(polblogs_db, polblogs_raw, tmp_path):
    out = tmp_path / "csv"
    assert cli("export", "--format", "csv", "--out", out, "--db", polblogs_db).exit_code == 0
    with open(out / "nodes.csv", newline="", encoding="utf-8") as f:
        nodes = list(csv.DictReader(f))
    with open(out / "edges.csv", newline="", encoding="utf-8") as f:
        edges = list(csv.DictReader(f))
    assert list(nodes[0])[:2] == ["Id", "Label"]
    assert list(edges[0]) == ["Source", "Target", "Type", "Weight", "count", "link", "first", "last",
                              "timeset"]
    assert {(e["Source"], e["Target"]) for e in edges} == polblogs_raw[1]
    assert {e["Type"] for e in edges} == {"Directed"}
    # Hyperlinks have no time: no interval, so Gephi keeps them at every point of a timeline.
    assert {(e["first"], e["timeset"]) for e in edges} == {("", "")}
    first = next(n for n in nodes if n["Id"] == "polblogs:1")
    # A spreadsheet would run the handle as a formula: it is quoted.
    assert first["Label"] == first["handle"] == "'" + NASTY_HANDLE
    second = next(n for n in nodes if n["Id"] == "polblogs:2")
    assert second["name"] == NASTY_NAME


def test_parquet_tables(polblogs_db, polblogs_raw, tmp_path):
    out = tmp_path / "pq"
    assert cli("export", "--format", "parquet", "--out", out, "--db", polblogs_db).exit_code == 0
    nodes = pq.read_table(out / "nodes.parquet")
    edges = pq.read_table(out / "edges.parquet")
    assert nodes.num_rows == 1224 and edges.num_rows == 19017
    assert set(zip(edges.column("source").to_pylist(), edges.column("target").to_pylist(),
                   strict=True)) == polblogs_raw[1]
    assert edges.schema.field("first").type == pa.timestamp("us", tz="UTC")
    assert edges.schema.field("link").type == pa.int64() and "kinds" not in edges.column_names
    assert nodes.column_names[:5] == ["actor", "label", "handle", "name", "platform"]


@pytest.mark.slow
def test_influence_columns_come_from_the_recorded_run(polblogs_db, tmp_path):
    from whuffie.report.map import MAX_SIZE, MIN_SIZE, OTHER_COLOR, PALETTE

    db = tmp_path / "copy.duckdb"
    shutil.copy(polblogs_db, db)  # this test records a run; the others must not see it
    out = tmp_path / "g.gexf"
    result = cli("export", "--out", out, "--db", db, "--with-influence")
    assert result.exit_code == 0, result.output
    assert "Influence columns from run 1 (measured now)" in result.output
    with whuffie.open(db, read_only=True) as store:
        influence = {r["actor_id"]: r for r in load(store, "influence").to_pylist()}
    check_gexf_13(out)
    g = nx.read_gexf(out)
    for actor, attrs in g.nodes(data=True):
        assert attrs["pagerank"] == influence[actor]["pagerank"]
        assert attrs["rank"] == influence[actor]["rank"]
        assert attrs["coreness"] == influence[actor]["coreness"]
        # The influence run measures the niches too; a null value would be left out.
        assert attrs.get("niche") == influence[actor]["niche"]
    # Coloured as the map colours: the largest niches take the palette in order, the others grey;
    # sized as the map sizes, by the square root of PageRank.
    sizes = Counter(influence[a]["niche"] for a in g.nodes)
    ranked = sorted((n for n in sizes if n is not None), key=lambda n: (-sizes[n], n))
    colour = {n: PALETTE[i] if i < len(PALETTE) else OTHER_COLOR for i, n in enumerate(ranked)}
    top = max(influence[a]["pagerank"] for a in g.nodes)
    for actor, attrs in g.nodes(data=True):
        c = attrs["viz"]["color"]
        assert f"#{c['r']:02x}{c['g']:02x}{c['b']:02x}" == colour.get(influence[actor]["niche"], OTHER_COLOR)
        expected = MIN_SIZE + (MAX_SIZE - MIN_SIZE) * (influence[actor]["pagerank"] / top) ** 0.5
        assert attrs["viz"]["size"] == pytest.approx(expected, abs=0.005)
    assert len({a["viz"]["color"]["r"] for _, a in g.nodes(data=True)}) >= 2
    # Without the flag, the latest run still decorates the export.
    again = cli("export", "--format", "parquet", "--out", tmp_path / "pq", "--db", db)
    assert "Influence columns from run 1 (latest)" in again.output
    top = pq.read_table(tmp_path / "pq" / "nodes.parquet").sort_by("rank").column("actor")[0].as_py()
    assert influence[top]["rank"] == 1


# -- Stack Exchange and Mastodon: times, kinds, and readers ------------------------------------


def test_networkx_reads_the_default_gexf_of_timed_interactions(se_db, se_raw, tmp_path):
    out = tmp_path / "se.gexf"
    result = cli("export", "--out", out, "--db", se_db)
    assert result.exit_code == 0, result.output
    g = nx.read_gexf(out)  # a dynamic file with dateTime spells raised KeyError: 'dateTime' here
    assert g.graph["mode"] == "static" and set(g.edges) == set(se_raw)
    assert "Interaction counts per kind: reply, vote." in result.output
    for pair, acts in se_raw.items():
        d = g.edges[pair]
        assert kinds_of(d, ("reply", "vote")) == Counter(kind for kind, _ in acts)
        assert d["reply"] + d["vote"] == d["count"]
        times = [t for _, t in acts if t is not None]
        if times:  # ISO 8601 with the zone, to the second
            assert (d["first"], d["last"]) == (f"{min(times).isoformat()}Z", f"{max(times).isoformat()}Z")
        else:  # an acceptance alone: undated
            assert "first" not in d and "last" not in d
    assert sum(d["vote"] for *_, d in g.edges(data=True)) == sum(
        kind == "vote" for acts in se_raw.values() for kind, _ in acts)


@pytest.mark.slow
def test_stackexchange_timeline_spells_match_the_dump(se_db, se_raw, tmp_path):
    out = tmp_path / "se.gexf"
    assert cli("export", "--out", out, "--db", se_db, "--timeline").exit_code == 0
    root = check_gexf_13(out)
    graph = root.find(GEXF + "graph")
    timing = (graph.get("mode"), graph.get("timeformat"), graph.get("timezone"))
    assert timing == ("dynamic", "dateTime", "UTC")
    written = {(e.get("source"), e.get("target")): e for e in graph.find(GEXF + "edges")}
    assert set(written) == set(se_raw)
    node_span = {}
    for pair, acts in se_raw.items():
        e = written[pair]
        counts = Counter(kind for kind, _ in acts)
        values = {v.get("for"): v.get("value") for v in e.iter(GEXF + "attvalue")}
        assert {k: int(values[k]) for k in ("reply", "vote") if values[k] != "0"} == counts
        times = [t for _, t in acts if t is not None]
        if times:
            assert (e.get("start"), e.get("end")) == (min(times).isoformat(), max(times).isoformat())
            for actor in pair:
                lo, hi = node_span.get(actor, (min(times), max(times)))
                node_span[actor] = (min(lo, min(times)), max(hi, max(times)))
        else:  # an acceptance alone: undated, so always present
            assert e.get("start") is None and e.get("end") is None
    assert any(e.get("start") is None for e in written.values())
    for n in graph.find(GEXF + "nodes"):
        span = node_span.get(n.get("id"))
        got = (n.get("start"), n.get("end"))
        assert got == ((span[0].isoformat(), span[1].isoformat()) if span else (None, None))
    with pytest.raises(KeyError, match="dateTime"):  # as docs/exports.md warns
        nx.read_gexf(out)
    g = read_gexf_dynamic(out)
    assert g.number_of_edges() == len(se_raw) and g.graph["mode"] == "dynamic"


def test_csv_times_are_iso_with_the_zone_and_a_gephi_timeset(se_db, se_raw, tmp_path):
    out = tmp_path / "csv"
    assert cli("export", "--format", "csv", "--out", out, "--db", se_db).exit_code == 0
    with open(out / "edges.csv", newline="", encoding="utf-8") as f:
        edges = {(e["Source"], e["Target"]): e for e in csv.DictReader(f)}
    with open(out / "nodes.csv", newline="", encoding="utf-8") as f:
        nodes = list(csv.DictReader(f))
    assert set(edges) == set(se_raw)
    for pair, acts in se_raw.items():
        e = edges[pair]
        assert int(e["reply"]) + int(e["vote"]) == int(e["count"]) == len(acts)
        times = [t for _, t in acts if t is not None]
        if times:
            lo, hi = f"{min(times).isoformat()}Z", f"{max(times).isoformat()}Z"
            assert (e["first"], e["last"], e["timeset"]) == (lo, hi, f"<[{lo}, {hi}]>")
        else:
            assert (e["first"], e["last"], e["timeset"]) == ("", "", "")
    assert all(n["timeset"] == f"<[{n['first']}, {n['last']}]>" and n["first"].endswith("Z") for n in nodes)


@pytest.mark.slow
def test_mastodon_kind_counts_add_up_and_match_the_store(mastodon_db, tmp_path):
    out = tmp_path / "mastodon.gexf"
    result = cli("export", "--out", out, "--db", mastodon_db)
    assert result.exit_code == 0, result.output
    g = nx.read_gexf(out)
    with whuffie.open(mastodon_db, read_only=True) as store:
        rows = store.con.execute("SELECT source, target, kind, count(*) FROM interactions "
                                 "WHERE source <> target GROUP BY ALL").fetchall()
    expected = defaultdict(dict)
    for s, t, kind, n in rows:
        expected[(s, t)][kind] = n
    kinds = ("mention", "reply", "reshare")
    assert g.number_of_edges() == len(expected) == 255
    for s, t, d in g.edges(data=True):
        assert kinds_of(d, kinds) == expected[(s, t)]
        assert sum(d[k] for k in kinds) == d["count"]
    # 334 mentions on 254 edges, 123 replies on 97, the one reblog of the account pages.
    assert {k: sum(d[k] for *_, d in g.edges(data=True)) for k in kinds} == {"mention": 334, "reply": 123,
                                                                             "reshare": 1}
    assert Counter(k for v in expected.values() for k in v) == {"mention": 254, "reply": 97, "reshare": 1}


# -- stdout, layout budget, errors -------------------------------------------------------------


@pytest.mark.slow
def test_dash_writes_gexf_or_the_edges_table_to_stdout(se_db, se_raw):
    result = cli("export", "--out", "-", "--format", "gexf", "--db", se_db)
    assert result.exit_code == 0, result.stderr
    g = nx.read_gexf(io.BytesIO(result.stdout_bytes))
    assert set(g.edges) == set(se_raw)
    assert "Wrote 65 nodes and 186 edges to stdout (gexf, laid out)" in result.stderr
    result = cli("export", "--out", "-", "--format", "csv", "--db", se_db)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {(r["Source"], r["Target"]) for r in rows} == set(se_raw)
    assert "Wrote the 186 edges to stdout (csv edges table" in result.stderr


@pytest.mark.slow
def test_layout_is_left_out_of_graphs_too_scattered_to_pack(mastodon_db, monkeypatch, tmp_path):
    import whuffie.report.export as export

    with whuffie.open(mastodon_db, read_only=True) as store:
        assert store.export(tmp_path / "a.gexf").summary["positions"]
        monkeypatch.setattr(export, "LAYOUT_MAX_GROUPS", 20)
        done = store.export(tmp_path / "b.gexf")
        assert not done.summary["positions"]
        assert done.summary["layout_note"] == "26 components, more than 20"
        assert store.export(tmp_path / "c.gexf", layout=True).summary["positions"]
    assert "viz" not in next(iter(nx.read_gexf(tmp_path / "b.gexf").nodes(data=True)))[1]


def test_filters_and_zero_weights_shape_the_export(se_db, se_raw, tmp_path):
    replies = {pair for pair, acts in se_raw.items() if any(k == "reply" for k, _ in acts)}
    out = tmp_path / "replies.gexf"
    assert cli("export", "--out", out, "--db", se_db, "--kinds", "reply").exit_code == 0
    g = nx.read_gexf(out)
    assert set(g.edges) == replies
    out = tmp_path / "novotes.graphml"
    assert cli("export", "--out", out, "--db", se_db, "--weights", "vote=0").exit_code == 0
    g = nx.read_graphml(out)
    # A kind weighted 0 adds nothing: edges of votes alone vanish, and no edge counts votes.
    assert set(g.edges) == replies
    assert all("vote" not in d and d["reply"] == d["count"] for _, _, d in g.edges(data=True))


@pytest.mark.slow
def test_export_errors_are_sentences(se_db, tmp_path):
    result = cli("export", "--out", tmp_path / "x", "--db", se_db)
    assert result.exit_code == 1 and "cannot tell the export format from" in result.output
    result = cli("export", "--out", tmp_path / "x", "--format", "pdf", "--db", se_db)
    assert result.exit_code == 1 and "unknown export format 'pdf'; choose one of gexf" in result.output
    result = cli("export", "--out", tmp_path / "x.gexf", "--db", se_db, "--since", "2030-01-01")
    assert result.exit_code == 1 and "no interaction in" in result.output
    result = cli("export", "--out", tmp_path / "no" / "x.gexf", "--db", se_db)
    assert result.exit_code == 1 and "does not exist" in result.output
    assert not list(tmp_path.glob("*.part"))
    result = cli("export", "--out", tmp_path / "x.gexf", "--db", se_db, "--min-weight", "1000")
    assert result.exit_code == 1 and "no edge of the graph weighs at least --min-weight 1000" in result.output
    result = cli("export", "--format", "gexf", "--out", tmp_path, "--db", se_db)
    assert result.exit_code == 1 and "is a folder; a gexf export is one file" in result.output
    result = cli("export", "--out", "-", "--db", se_db)
    assert result.exit_code == 2 and "give --format (gexf, graphml or csv) to write to" in result.output
    result = cli("export", "--out", "-", "--format", "parquet", "--db", se_db)
    assert result.exit_code == 1 and "parquet writes a folder of files, not a stream" in result.output
    result = cli("export", "--out", tmp_path / "c", "--format", "csv", "--timeline", "--db", se_db)
    assert result.exit_code == 2 and "--timeline applies to gexf only" in result.output
    result = cli("export", "--out", tmp_path / "x.graphml", "--timeline", "--db", se_db)
    assert result.exit_code == 1 and "a timeline is written in GEXF only; graphml carries" in result.output


def test_column_escaping_matches_the_one_value_escaper():
    from whuffie.report.export import _xml_escaped, xml_attr

    values = ['a & b < c > d "e" \'f\'', "tab\there\r\nnew", "\x00\x08\x0b\x0c\x1f bell",
              "\ufffe\uffff", "émoji 🐘 &amp; already", "", "=HYPERLINK(\"x\")"]
    assert _xml_escaped(pa.array(values)).to_pylist() == [xml_attr(v) for v in values]
    for v in values:  # and a parser reads back what was written, forbidden characters aside
        text = f'<x a="{xml_attr(v)}"/>'
        back = etree.fromstring(text).get("a")
        assert back == "".join("\ufffd" if c in "\x00\x08\x0b\x0c\x1f\ufffe\uffff" else c for c in v)
