"""Graph exports read back by other tools and checked against the raw files they came from."""

from __future__ import annotations

import csv
import shutil
from collections import Counter, defaultdict
from datetime import datetime

import networkx as nx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lxml import etree

import whuffie
from tests.conftest import cli
from whuffie.store.results import load

GEXF = "{http://gexf.net/1.3}"
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
    edges = graph.find(GEXF + "edges")
    known = set(ids)
    for e in edges:
        assert e.tag == GEXF + "edge" and e.get("source") in known and e.get("target") in known
        float(e.get("weight"))
        check_element(e, "edge")
    assert len(edges) == int(edges.get("count"))
    return root


def read_gexf_dynamic(path):
    """networkx's GEXF reader, taught xsd:dateTime times (it knows only date, double, long)."""
    reader = nx.readwrite.gexf.GEXFReader(version="1.3")
    reader.python_type["dateTime"] = str
    return reader(str(path))


# -- polblogs: structure and round trips ----------------------------------------------------


@pytest.mark.slow
def test_polblogs_gexf_round_trips_through_networkx(polblogs_db, polblogs_raw, tmp_path):
    out = tmp_path / "polblogs.gexf"
    result = cli("export", "--out", out, "--db", polblogs_db)
    assert result.exit_code == 0, result.output
    # 19,020 hyperlinks less 3 self-loops; 1,490 blogs less the 266 without any other link.
    assert "Wrote 1,224 nodes and 19,017 edges" in result.output
    check_gexf_13(out)
    nodes, edges = polblogs_raw
    g = nx.read_gexf(out)
    assert (g.number_of_nodes(), g.number_of_edges()) == (len(nodes), len(edges)) == (1224, 19017)
    assert set(g.nodes) == nodes and set(g.edges) == edges
    assert {d["weight"] for _, _, d in g.edges(data=True)} == {1.0}
    assert {(d["count"], d["kinds"]) for _, _, d in g.edges(data=True)} == {(1, "link:1")}
    assert g.nodes["polblogs:10"]["label"] == "ackackack.com"
    assert g.nodes["polblogs:10"]["platform"] == "polblogs"
    assert g.graph["mode"] == "static"


@pytest.mark.slow
def test_gexf_escapes_what_people_put_in_their_names(polblogs_db, tmp_path):
    out = tmp_path / "g.gexf"
    with whuffie.open(polblogs_db, read_only=True) as store:
        assert store.export(out).paths == [out]
    g = nx.read_gexf(out)
    assert g.nodes["polblogs:1"]["label"] == NASTY_HANDLE
    # Quotes, markup and the line break survive; the control character XML forbids becomes U+FFFD.
    assert g.nodes["polblogs:2"]["name"] == NASTY_NAME.replace("\x01", "\ufffd")
    assert "\n" not in g.nodes["polblogs:2"]["label"]


@pytest.mark.slow
def test_polblogs_graphml_reads_back_in_networkx_and_igraph(polblogs_db, polblogs_raw, tmp_path):
    import igraph

    out = tmp_path / "polblogs.graphml"
    assert cli("export", "--out", out, "--db", polblogs_db).exit_code == 0
    nodes, edges = polblogs_raw
    g = nx.read_graphml(out)
    assert set(g.nodes) == nodes and set(g.edges) == edges
    assert g.nodes["polblogs:2"]["name"] == NASTY_NAME.replace("\x01", "\ufffd")
    assert {(d["weight"], d["count"], d["kinds"]) for _, _, d in g.edges(data=True)} == {(1.0, 1, "link:1")}
    ig = igraph.Graph.Read_GraphML(str(out))
    assert ig.is_directed() and (ig.vcount(), ig.ecount()) == (1224, 19017)
    names = ig.vs["id"]
    assert {(names[e.source], names[e.target]) for e in ig.es} == edges
    assert sum(ig.es["weight"]) == 19017


@pytest.mark.slow
def test_csv_is_gephi_layout_and_formula_safe(polblogs_db, polblogs_raw, tmp_path):
    out = tmp_path / "csv"
    assert cli("export", "--format", "csv", "--out", out, "--db", polblogs_db).exit_code == 0
    with open(out / "nodes.csv", newline="", encoding="utf-8") as f:
        nodes = list(csv.DictReader(f))
    with open(out / "edges.csv", newline="", encoding="utf-8") as f:
        edges = list(csv.DictReader(f))
    assert list(nodes[0])[:2] == ["Id", "Label"]
    assert list(edges[0])[:4] == ["Source", "Target", "Type", "Weight"]
    assert {(e["Source"], e["Target"]) for e in edges} == polblogs_raw[1]
    assert {e["Type"] for e in edges} == {"Directed"}
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
    assert nodes.column_names[:5] == ["actor", "label", "handle", "name", "platform"]


@pytest.mark.slow
def test_influence_columns_come_from_the_recorded_run(polblogs_db, tmp_path):
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
    # Without the flag, the latest run still decorates the export.
    again = cli("export", "--format", "parquet", "--out", tmp_path / "pq", "--db", db)
    assert "Influence columns from run 1 (latest)" in again.output
    top = pq.read_table(tmp_path / "pq" / "nodes.parquet").sort_by("rank").column("actor")[0].as_py()
    assert influence[top]["rank"] == 1


# -- Stack Exchange: times become Gephi spells ------------------------------------------------


@pytest.mark.slow
def test_stackexchange_spells_match_the_dump(se_db, se_raw, tmp_path):
    out = tmp_path / "se.gexf"
    assert cli("export", "--out", out, "--db", se_db).exit_code == 0
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
        assert e.find(f"{GEXF}attvalues/{GEXF}attvalue[@for='kinds']").get("value") == " ".join(
            f"{k}:{n}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
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
    g = read_gexf_dynamic(out)
    assert g.number_of_edges() == len(se_raw) and g.graph["mode"] == "dynamic"


def test_filters_and_zero_weights_shape_the_export(se_db, se_raw, tmp_path):
    replies = {pair for pair, acts in se_raw.items() if any(k == "reply" for k, _ in acts)}
    out = tmp_path / "replies.gexf"
    assert cli("export", "--out", out, "--db", se_db, "--kinds", "reply").exit_code == 0
    g = read_gexf_dynamic(out)
    assert set(g.edges) == replies
    out = tmp_path / "novotes.graphml"
    assert cli("export", "--out", out, "--db", se_db, "--weights", "vote=0").exit_code == 0
    g = nx.read_graphml(out)
    # A kind weighted 0 adds nothing: edges of votes alone vanish, and no edge lists votes.
    assert set(g.edges) == replies
    assert not any("vote" in d["kinds"] for _, _, d in g.edges(data=True))


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


def test_column_escaping_matches_the_one_value_escaper():
    from whuffie.report.export import _xml_escaped, xml_attr

    values = ['a & b < c > d "e" \'f\'', "tab\there\r\nnew", "\x00\x08\x0b\x0c\x1f bell",
              "\ufffe\uffff", "émoji 🐘 &amp; already", "", "=HYPERLINK(\"x\")"]
    assert _xml_escaped(pa.array(values)).to_pylist() == [xml_attr(v) for v in values]
    for v in values:  # and a parser reads back what was written, forbidden characters aside
        text = f'<x a="{xml_attr(v)}"/>'
        back = etree.fromstring(text).get("a")
        assert back == "".join("\ufffd" if c in "\x00\x08\x0b\x0c\x1f\ufffe\uffff" else c for c in v)
