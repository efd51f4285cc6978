"""The store documents itself: every table, view and column is described; docs/store.md is current."""

from __future__ import annotations

import shutil

import duckdb
import pytest

import whuffie
from tests.conftest import ROOT
from whuffie.store.catalog import RESULTS, TABLES, markdown
from whuffie.store.schema import SCHEMA_VERSION

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full_store(demo, tmp_path_factory):
    """The demo's store with the analyses the demo does not run (concerns, inbox, spread) added."""
    folder, _ = demo
    path = tmp_path_factory.mktemp("catalog") / "whuffie-demo.duckdb"
    shutil.copy(folder / "whuffie-demo.duckdb", path)
    with whuffie.open(path) as store:
        store.concerns()
        store.inbox("curiousdannii")
        store.spread("Adarain", runs=100)
    return path


def test_every_table_and_column_is_described(full_store):
    con = duckdb.connect(str(full_store), read_only=True)
    try:
        tables = {r[0]: r[1] for r in con.execute(
            "SELECT table_name, comment FROM duckdb_tables() UNION ALL "
            "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall()}
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() "
            "WHERE NOT internal AND table_name NOT LIKE 'latest\\_%' ESCAPE '\\'").fetchall()
    finally:
        con.close()
    assert set(TABLES) <= set(tables)
    assert {f"result_{n}" for n in RESULTS} <= set(tables), sorted(set(RESULTS) - {t[7:] for t in tables})
    assert {t: c for t, c in tables.items() if not c} == {}
    assert [(t, c) for t, c, text in columns if not text] == []


def test_docs_store_md_is_generated_from_the_store(full_store):
    con = duckdb.connect(str(full_store), read_only=True)
    try:
        expected = markdown(con)
    finally:
        con.close()
    assert (ROOT / "docs" / "store.md").read_text() == expected, (
        "docs/store.md is out of date: python -m whuffie.store.catalog STORE > docs/store.md")


def test_an_older_store_is_migrated_and_described(tmp_path):
    """A schema-2 store (runs without fingerprints) gains the columns, views and descriptions."""
    import pyarrow as pa

    from whuffie.store import results

    path = tmp_path / "old.duckdb"
    with whuffie.open(path) as store:
        results.save_run(store, "influence", {"influence": pa.table({"actor_id": ["x:1"], "rank": [1]})}, {})
        con = store.con
        con.execute("DROP VIEW latest_influence")
        for column in ("fingerprint", "params_key", "inputs", "summary", "tables"):
            con.execute(f"ALTER TABLE runs DROP COLUMN {column}")
        con.execute("ALTER TABLE links DROP COLUMN normalized_url")  # version 4
        con.execute("ALTER TABLE quarantine DROP COLUMN severity")  # version 4
        con.execute("DROP TABLE erasures")  # version 5
        con.execute("DELETE FROM meta WHERE key = 'secret'")  # version 5
        # Before version 4 a stub's children were stored again by every import of it.
        con.execute("INSERT INTO tags VALUES ('x:m', 'a'), ('x:m', 'a'), ('x:m', 'b')")
        con.execute("INSERT INTO links (message_id, url) VALUES ('x:m', 'https://a'), ('x:m', 'https://a')")
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with whuffie.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.sql("SELECT * FROM latest_influence") == [{"actor_id": "x:1", "rank": 1}]
        assert store.sql("SELECT comment FROM duckdb_tables() WHERE table_name = 'runs'")[0]["comment"]
        assert store.influence is not None and store.runs()[0]["analysis"] == "influence"
        assert store.sql("SELECT tag, count(*) AS n FROM tags GROUP BY tag ORDER BY tag") == [
            {"tag": "a", "n": 1}, {"tag": "b", "n": 1}]
        assert store.sql("SELECT count(*) AS n FROM links") == [{"n": 1}]
        assert len(store.sql("SELECT value FROM meta WHERE key = 'secret'")[0]["value"]) == 64
        assert store.sql("SELECT count(*) AS n FROM erasures") == [{"n": 0}]
        assert "severity" in {c["column_name"] for c in store.sql(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'quarantine'")}
