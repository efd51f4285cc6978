"""The library: one call per analysis, runs reused, read-only stores, filters, results and evidence."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

import whuffie
from tests.conftest import ROOT
from whuffie.errors import WhuffieError
from whuffie.graph.build import GraphSpec


@pytest.mark.slow
def test_influence_is_one_call_and_a_dataframe(sample_store):
    r = sample_store.influence()
    df = r.to_pandas()
    assert (r.analysis, r.run_id, r.reused) == ("influence", 1, False)
    assert len(df) == r.summary["actors"] == 65 and r.summary["edges"] == 186
    assert df.iloc[0]["rank"] == 1 and df["pagerank"].is_monotonic_decreasing
    assert r.params["graph"]["kinds"] is None and r.params["damping"] == 0.85


@pytest.mark.slow
def test_the_same_request_on_the_same_data_reuses_the_run(sample_store):
    first = sample_store.efluentials()
    again = sample_store.efluentials()
    assert again.reused and again.run_id == first.run_id
    assert again.to_arrow().equals(first.to_arrow())
    assert again.summary == first.summary and again.inputs == first.inputs == {"influence": 1}
    assert [r["analysis"] for r in sample_store.runs()] == ["influence", "efluentials"]
    fresh = sample_store.efluentials(fresh=True)
    assert not fresh.reused and fresh.run_id == 3 and fresh.to_arrow().equals(first.to_arrow())
    # Other parameters are another run; so is the same request once the data changed.
    assert sample_store.efluentials(share=0.2).run_id == 4
    from whuffie.model import Records, Tie

    sample_store.add(Records(ties=[Tie("x:1", "x", "x:a", "x:b", "mention")]))
    changed = sample_store.efluentials()
    assert not changed.reused and changed.summary["actors"] == 67


@pytest.mark.slow
def test_prune_drops_superseded_runs_but_keeps_what_kept_runs_read(sample_store):
    sample_store.influence()
    sample_store.influence(fresh=True)                 # supersedes run 1
    sample_store.efluentials()                         # reads run 2
    sample_store.niches()
    sample_store.niches(fresh=True)                    # supersedes run 4
    runs = {r["run_id"]: r for r in sample_store.runs()}
    assert runs[1]["superseded_by"] == 2 and runs[1]["prunable"]
    assert runs[4]["superseded_by"] == 5 and runs[4]["prunable"]
    assert not runs[2]["prunable"] and not runs[3]["prunable"]
    assert sample_store.prune() == [1, 4]
    assert [r["run_id"] for r in sample_store.runs()] == [2, 3, 5]
    assert sample_store.sql("SELECT DISTINCT run_id FROM result_influence") == [{"run_id": 2}]
    assert sample_store.sql("SELECT DISTINCT run_id FROM result_niches") == [{"run_id": 5}]


def test_superseded_runs_read_by_a_kept_run_are_kept(sample_store):
    sample_store.influence()
    sample_store.efluentials()                          # reads influence run 1
    sample_store.influence(fresh=True)                  # supersedes run 1, but run 2 read it
    runs = {r["run_id"]: r for r in sample_store.runs()}
    assert runs[1]["superseded_by"] == 3 and runs[1]["kept_for"] == [2] and not runs[1]["prunable"]
    assert sample_store.prune() == []


@pytest.mark.slow
def test_latest_views_show_the_newest_run(sample_store):
    sample_store.niches()
    sample_store.niches(params=__import__("whuffie.niches.analysis", fromlist=["NicheParams"]).NicheParams(
        seed=1))
    latest = sample_store.sql("SELECT count(*) AS n FROM latest_niches")[0]["n"]
    newest = sample_store.sql("SELECT count(*) AS n FROM result_niches WHERE run_id = 2")[0]["n"]
    assert latest == newest > 0
    assert "run_id" not in [c["column_name"] for c in sample_store.sql(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'latest_niches'")]


def test_a_read_only_store_computes_without_saving(sample_db):
    with whuffie.open(sample_db, read_only=True) as store:
        r = store.influence()
        assert r.run_id is None and not r.saved and "read-only" in r.note
        assert r.to_arrow().num_rows == 65
        assert store.runs() == []


@pytest.mark.slow
def test_a_read_only_store_takes_the_lock_only_to_save(sample_store, tmp_path):
    path = sample_store.path
    sample_store.influence()
    sample_store.close()
    with whuffie.Store(path, read_only=True, writable_on_demand=True) as store:
        assert store.influence().reused and store.read_only   # a saved run: still read-only
        r = store.niches()
        assert r.saved and not store.read_only                # a new run: the lock was taken


@pytest.mark.slow
def test_a_store_held_by_another_process_returns_results_unsaved(sample_store):
    path = sample_store.path
    sample_store.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, whuffie; s = whuffie.open(sys.argv[1]); "
                               "print('ready', flush=True); sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WhuffieError, match="another whuffie process"):
            whuffie.Store(path, read_only=True, writable_on_demand=True)
    finally:
        holder.communicate("")


def test_filters_are_keywords_or_a_spec_and_bad_ones_are_refused(sample_store):
    a = sample_store.influence(kinds="reply", since="2019-01-01")
    b = sample_store.influence(GraphSpec(kinds=("reply",), since=__import__("datetime").datetime(2019, 1, 1)))
    assert b.reused and b.run_id == a.run_id
    with pytest.raises(WhuffieError, match="unknown filter"):
        sample_store.influence(kind="reply")
    with pytest.raises(WhuffieError, match="is not a time"):
        sample_store.influence(since="yesterday")
    with pytest.raises(WhuffieError, match="not before"):
        sample_store.influence(since="2020-01-01", until="2019-01-01")
    with pytest.raises(WhuffieError, match="reads messages, not the graph"):
        sample_store.cascades(kinds="reply")
    with pytest.raises(WhuffieError, match="unknown interaction kind"):
        sample_store.influence(kinds="replies")


@pytest.mark.slow
def test_results_explain_their_rows(sample_store):
    infl = sample_store.influence()
    top = infl.to_arrow()["actor_id"][0].as_py()
    recognisers = infl.evidence(top)
    assert recognisers.num_rows == infl.to_arrow()["in_degree"][0].as_py()
    efl = sample_store.efluentials()
    assert efl.evidence(top).num_rows == recognisers.num_rows
    niches = sample_store.niches()
    assert niches.evidence(0).num_rows == niches.to_arrow()["size"][0].as_py()
    cascades = sample_store.cascades()
    biggest = cascades.to_arrow().to_pylist()[0]
    nodes = cascades.evidence(biggest["cascade"]).to_pylist()
    assert len({n["actor_id"] for n in nodes if n["actor_id"]}) == biggest["size"] == 15
    assert sum(1 for n in nodes if not (n["stub"] and n["parent_id"] is None)) == biggest["messages"]
    assert max(n["depth"] for n in nodes) == biggest["depth"]
    why = sample_store.why(recognisers["recogniser"][0].as_py(), top)
    assert why.summary["total"] == recognisers["interactions"][0].as_py()
    with pytest.raises(WhuffieError, match="no evidence per row"):
        sample_store.voice().evidence("x")


@pytest.mark.slow
def test_the_chain_runs_every_analysis_and_reuses_what_exists(sample_store, tmp_path):
    sample_store.influence()
    chain = sample_store.analyze(tmp_path / "report")
    assert list(chain.results) == ["influence", "efluentials", "niches", "pyramid", "voice", "buzz",
                                   "advocates", "cascades", "seeds", "map", "report"]
    assert chain.results["influence"].reused and chain.skipped == {}
    assert (tmp_path / "report" / "index.html").is_file() and (tmp_path / "report" / "map.html").is_file()
    assert len(sample_store.runs()) == 9


def test_export_parquet_store_writes_every_table(sample_store, tmp_path):
    sample_store.influence()
    r = sample_store.export(tmp_path / "pq", "parquet-store")
    names = {p.stem for p in r.paths}
    assert {"actors", "messages", "interactions", "runs", "result_influence", "latest_influence"} <= names
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "pq" / "messages.parquet").num_rows == 407
    assert pq.read_table(tmp_path / "pq" / "latest_influence.parquet").num_rows == 65


# -- the shape of the code ---------------------------------------------------------------------------


SRC = ROOT / "src" / "whuffie"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


@pytest.mark.slow
def test_nothing_outside_the_cli_imports_the_cli():
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                 if "cli" not in p.relative_to(SRC).parts and p.name != "__main__.py"
                 and any(m == "whuffie.cli" or m.startswith("whuffie.cli.") for m in _imports(p))]
    assert offenders == []


@pytest.mark.slow
def test_analyses_never_touch_the_store():
    """Analyses read through the engine: no DuckDB connection, no SQL on the store."""
    offenders = []
    for layer in ("influence", "niches", "voice", "spread"):
        for p in (SRC / layer).rglob("*.py"):
            text = p.read_text()
            if "execute(" in text or ".sql(" in text or "duckdb" in _imports(p) or ".con." in text \
                    or "whuffie.store.store" in _imports(p):
                offenders.append(str(p.relative_to(SRC)))
    assert offenders == []


def test_no_import_cycle_between_sources_and_store():
    for p in (SRC / "sources").rglob("*.py"):
        assert not any(m.startswith("whuffie.store") for m in _imports(p)), p
    # The store reads the version from whuffie.version, not from the package that imports the store.
    for p in (SRC / "store").rglob("*.py"):
        assert "whuffie" not in _imports(p), p


def test_arrowsql_sees_only_the_tables_it_is_given():
    from whuffie import arrowsql

    with pytest.raises(Exception, match="messages"):
        arrowsql.query("SELECT count(*) FROM messages", t=pa.table({"x": [1]}))


@pytest.mark.slow
def test_a_notebook_reading_the_store_does_not_lock_out_the_commands(sample_store):
    """A process holding the store read-only: status and saved listings work; new runs print unsaved."""
    import json

    from tests.conftest import cli

    sample_store.efluentials()
    path = sample_store.path
    sample_store.close()
    notebook = subprocess.Popen(
        [sys.executable, "-c", "import sys, whuffie; s = whuffie.open(sys.argv[1], read_only=True); "
                               "print('ready', flush=True); sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert notebook.stdout.readline().strip() == "ready"
        assert cli("status", "--db", path).exit_code == 0
        saved = cli("efluentials", "--db", path, "--json")
        assert saved.exit_code == 0 and len(json.loads(saved.stdout)) == 6
        fresh = cli("niches", "--db", path, "--json")
        assert fresh.exit_code == 0 and len(json.loads(fresh.stdout)) == 5
        assert "not saved" in fresh.stderr and "in use by another process" in fresh.stderr
    finally:
        notebook.communicate("")
    with whuffie.open(path, read_only=True) as store:
        assert [r["analysis"] for r in store.runs()] == ["influence", "efluentials"]
