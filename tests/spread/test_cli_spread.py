"""The spread commands on a real forum: cascades, forecasts, seeds; bad options refused."""

from __future__ import annotations

import json
import math

import pytest

from tests.conftest import cli as run


@pytest.fixture(scope="module")
def db(tmp_path_factory, shared):
    path = tmp_path_factory.mktemp("spread") / "d.duckdb"
    assert run("ingest", shared / "formats" / "discourse_topic_json", "--db", path).exit_code == 0
    return path


@pytest.mark.slow
def test_cascades_json_has_one_row_per_cascade(db):
    result = run("cascades", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and {"cascade", "root", "size", "depth", "breadth", "virality", "valence"} <= set(rows[0])
    assert all(r["size"] >= 2 and r["depth"] >= 1 for r in rows)
    assert [r["size"] for r in rows] == sorted((r["size"] for r in rows), reverse=True)
    assert len({r["cascade"] for r in rows}) == len(rows)


@pytest.mark.slow
def test_forecast_from_a_handle_on_the_graph_and_with_a_preset(db):
    result = run("spread", "--from", "vsoch", "--db", db, "--runs", 2000, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["from"] == ["discourse:ask.cyberinfrastructure.org/u161"]
    assert 1 <= out["p5"] <= out["expected_reach"] <= out["p95"]
    assert out["most_likely_reached"] and 0 < out["most_likely_reached"][0]["share"] <= 1
    preset = json.loads(run("spread", "--from", "vsoch", "--db", db, "--model", "traditional",
                            "--valence", "negative", "--runs", 200, "--json").stdout)
    # Eight people told per person (Poisson): supercritical; the chance that it never dies out is
    # 1 - q, with q the extinction probability solving q = exp(8 (q - 1)).
    q = 0.0
    for _ in range(200):
        q = math.exp(8 * (q - 1))
    assert preset["supercritical"] and preset["survival"] == pytest.approx(1 - q, abs=1e-6)
    assert preset["expected_reach"] is None and preset["most_likely_reached"] == []


@pytest.mark.slow
def test_seeds_are_chosen_and_compared(db):
    result = run("seeds", "--db", db, "--k", 3, "--runs", 2000, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["position"] for r in rows] == [1, 2, 3]
    # One set, the one the Monte-Carlo comparison found best, named in the table's title.
    assert len({r["method"] for r in rows}) == 1 and all(r["handle"] for r in rows)
    table = run("seeds", "--db", db, "--k", 3, "--runs", 2000)
    assert f"the {rows[0]['method']} set" in table.stdout


@pytest.mark.slow
def test_bad_options_are_refused(db):
    assert run("spread", "--from", "vsoch", "--db", db, "--model", "nope").exit_code == 2
    assert run("spread", "--from", "vsoch", "--db", db, "--prob", "2").exit_code == 2
    result = run("spread", "--from", "nobody-here", "--db", db)
    assert result.exit_code == 1 and "nobody-here" in result.stderr
    assert run("seeds", "--db", db, "--model", "sir").exit_code == 2


@pytest.mark.slow
def test_graph_forecast_by_valence_fits_on_those_cascades_only(db):
    # No voice run yet in this store: no cascade has a valence.
    before = run("spread", "--from", "vsoch", "--db", db, "--valence", "negative", "--json")
    assert before.exit_code == 1 and "whuffie voice" in before.stderr
    assert run("voice", "--db", db).exit_code == 0
    out = {}
    for valence in ("positive", "negative"):
        result = run("spread", "--from", "vsoch", "--db", db, "--valence", valence, "--runs", 1000, "--json")
        assert result.exit_code == 0, result.output
        out[valence] = json.loads(result.stdout)
        assert f" {valence} cascades " in out[valence]["probabilities"]
    assert out["positive"]["probabilities"] != out["negative"]["probabilities"]
    wc = run("spread", "--from", "vsoch", "--db", db, "--valence", "negative", "--prob", "wc")
    assert wc.exit_code == 2
