"""``whuffie niches`` on a real community: listings, members, the saved run, errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

import whuffie
from whuffie.cli import app
from whuffie.store.results import load

runner = CliRunner()


def run(*args):
    return runner.invoke(app, ["niches", *[str(a) for a in args]], catch_exceptions=False)


@pytest.fixture(scope="module")
def db(shared, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "conlang.duckdb"
    with whuffie.open(path) as store:
        store.ingest([str(shared / "stackexchange_conlang_meta")])
    return path


@pytest.mark.slow
def test_niche_listing_as_json_covers_every_actor(db):
    result = run("--db", db, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    with whuffie.open(db, read_only=True) as store:
        actors = store.con.execute(
            "SELECT count(*) FROM (SELECT source FROM interactions WHERE source <> target "
            "UNION SELECT target FROM interactions WHERE source <> target)").fetchall()[0][0]
        run_row = store.sql("SELECT * FROM runs WHERE analysis = 'niches' ORDER BY run_id DESC LIMIT 1")[0]
        saved = load(store, "niches")
        memberships = load(store, "memberships")
        summary = load(store, "niche_summary").to_pylist()[0]
    assert sum(r["size"] for r in rows) == actors == memberships.num_rows
    assert [r["niche"] for r in rows] == list(range(len(rows)))
    assert [r["size"] for r in rows] == sorted((r["size"] for r in rows), reverse=True)
    # Lists are JSON arrays (not "a, b, c" strings).
    assert rows[0]["voices"] and rows[0]["terms"] and rows[0]["tags"][0] == "discussion"
    assert all(isinstance(r[k], list) for r in rows for k in ("voices", "voice_actors", "tags", "terms"))
    assert saved.column("size").to_pylist() == [r["size"] for r in rows]
    assert run_row["seed"] == 0 and json.loads(run_row["params"])["method"] == "auto"
    assert summary["niches"] == len(rows) and 0.2 < summary["modularity"] < 0.5
    # Same seed, same niches.
    again = json.loads(run("--db", db, "--json").output)
    assert [r["voice_actors"] for r in again] == [r["voice_actors"] for r in rows]


@pytest.mark.slow
def test_table_shows_the_long_tail_summary(db):
    result = run("--db", db, "--top", "3")
    assert result.exit_code == 0
    assert "niches. The largest holds" in result.output and "have fewer than 5 members" in result.output


def test_members_of_a_niche(db):
    niches = json.loads(run("--db", db, "--json").output)
    result = run("--db", db, "--members", 1, "--csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == niches[1]["size"]
    assert {r["niche"] for r in rows} == {"1"}
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    assert all(0 <= float(r["participation"]) < 1 for r in rows)
    top = niches[1]["voice_actors"]
    assert [r["actor"] for r in rows[: len(top)]] == top


def test_errors(db):
    result = run("--db", db, "--members", 999)
    assert result.exit_code == 1 and "Error: there is no niche 999" in result.output
    result = run("--db", db, "--method", "louvain")
    assert result.exit_code != 0 and "not a method" in result.output
    result = run("--db", db, "--platform", "nowhere")
    assert result.exit_code == 1 and "Error: no interaction" in result.output
