"""``whuffie analyze``: every analysis a user's store supports, the map and the report, in one command."""

from __future__ import annotations

import pytest

from tests.conftest import cli


@pytest.mark.slow
def test_analyze_runs_the_chain_on_a_users_store(sample_store, tmp_path):
    db = sample_store.path
    sample_store.close()
    out = tmp_path / "report"
    result = cli("analyze", "--db", db, "--out", out, "--title", "Our forum", "--seeds", 3)
    assert result.exit_code == 0, result.output
    for line in ("Influence (run ", "E-fluentials (run ", "Niches (run ", "Voice (run ", "Seeds (run ",
                 f"Report: {(out / 'index.html').resolve()}", f"Map: {(out / 'map.html').resolve()}"):
        assert line in result.output
    html = (out / "index.html").read_text()
    assert "Our forum" in html and "Who matters" in html
    # Only the inbox, which needs the brand's accounts, is left to run by hand.
    assert html.count("<li>") == 1 and "whuffie inbox --brand HANDLE" in html


def test_analyze_on_an_empty_store_says_why_each_step_was_skipped(tmp_path):
    result = cli("analyze", "--db", tmp_path / "empty.duckdb", "--out", tmp_path / "r")
    assert result.exit_code == 0, result.output
    assert "Skipped influence: the store holds no interaction" in result.output
    assert "Skipped voice: the store holds no message" in result.output
    assert "Map:" not in result.output and (tmp_path / "r" / "index.html").exists()
