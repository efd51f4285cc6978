"""The command line: help everywhere, errors as 'Error: ...' with exit 1, JSON and CSV listings."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from typer.main import get_command

from tests.conftest import cli as run
from whuffie.cli import app
from whuffie.sources import reader_ids


@pytest.mark.slow
def test_every_command_has_help_text():
    group = get_command(app)
    assert len(group.commands) >= 7
    for name, cmd in group.commands.items():
        assert cmd.help and len(cmd.help.strip()) > 20, f"'whuffie {name}' has no help text"
        result = run(name, "--help")
        assert result.exit_code == 0


@pytest.mark.slow
def test_python_dash_m_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "whuffie", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("whuffie ")


def test_missing_path_is_an_error_with_exit_1(tmp_path):
    result = run("ingest", tmp_path / "nope.jsonl", "--db", tmp_path / "s.duckdb")
    assert result.exit_code == 1
    assert "Error: " in result.output and "nope.jsonl does not exist" in result.output


def test_unknown_format_lists_the_known_ones(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("1 2\n")
    result = run("ingest", f, "--format", "myspace", "--db", tmp_path / "s.duckdb")
    assert result.exit_code == 1
    assert "unknown format 'myspace'; known formats: " in result.output
    assert "twarc2" in result.output


def test_unrecognised_explicit_file_asks_for_format(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("Dear diary, today nothing happened.\n")
    result = run("ingest", f, "--db", tmp_path / "s.duckdb")
    assert result.exit_code == 1
    assert "cannot tell the format of" in result.output and "--format" in result.output


def test_bad_option_syntax_is_a_usage_error(tmp_path):
    f = tmp_path / "e.txt"
    f.write_text("1 2\n")
    result = run("ingest", f, "-o", "platform", "--db", tmp_path / "s.duckdb")
    assert result.exit_code == 2
    assert "not KEY=VALUE" in result.output


def test_strict_exits_1_and_names_file_and_line(tmp_path):
    f = tmp_path / "e.txt"
    f.write_text("1 2\n2 3\nbroken\n")
    result = run("ingest", f, "-f", "edges", "--strict", "--db", tmp_path / "s.duckdb")
    assert result.exit_code == 1
    assert "e.txt line 3: expected at least 2 fields" in result.output


@pytest.mark.slow
def test_ingest_status_and_quarantine_json(tmp_path):
    f = tmp_path / "net" / "e.txt"
    f.parent.mkdir()
    f.write_text("1 2\n2 3\n=cmd|' /C calc'!A0\n3 1\n")
    db = tmp_path / "s.duckdb"
    result = run("ingest", f, "-f", "edges", "--db", db)
    assert result.exit_code == 0, result.output
    assert "1 record(s) quarantined" in result.output
    status = json.loads(run("status", "--db", db, "--json").stdout)
    assert status["actors"] == {"net": 3}
    assert status["interactions"]["tie"] == 3
    assert status["imports"]["total"] == 1
    assert status["quarantined"] == 1
    assert set(status) >= {"messages", "actors", "interactions", "imports", "quarantined"}
    rows = json.loads(run("quarantine", "--db", db, "--json").stdout)
    assert [(r["line"], r["format"]) for r in rows] == [(3, "edges")]
    assert rows[0]["reason"] == "field 'source' is \"=cmd|'\", expected a node id"


def test_csv_listings_are_safe_from_formula_injection(tmp_path):
    f = tmp_path / "net" / "e.txt"
    f.parent.mkdir()
    f.write_text("=HYPERLINK(\"http://evil\")\n")
    db = tmp_path / "s.duckdb"
    run("ingest", f, "-f", "edges", "--db", db)
    out = run("quarantine", "--db", db, "--csv").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["path", "line", "byte_offset", "format", "severity", "reason", "excerpt"]
    assert rows[1][4] == "error"
    assert rows[1][-1] == "'=HYPERLINK(\"http://evil\")"


def test_formats_lists_every_registered_reader():
    rows = json.loads(run("formats", "--json").stdout)
    assert [r["format"] for r in rows] == reader_ids()
    assert all(not r["reads"].startswith("BROKEN") for r in rows)


def test_status_of_a_missing_store_is_an_error(tmp_path):
    result = run("status", "--db", tmp_path / "none.duckdb")
    assert result.exit_code == 1
    assert "no store at" in result.output


@pytest.mark.parametrize("flag", ["--json", "--csv"])
def test_imports_listing(tmp_path, flag):
    f = tmp_path / "net" / "e.txt"
    f.parent.mkdir()
    f.write_text("1 2\n")
    db = tmp_path / "s.duckdb"
    run("ingest", f, "-f", "edges", "--db", db)
    out = run("imports", "--db", db, flag).stdout
    if flag == "--json":
        rows = json.loads(out)
        assert rows[0]["status"] == "complete" and rows[0]["stored"] == 1
        assert len(rows[0]["sha256"]) == 64
    else:
        assert out.splitlines()[0].startswith("import_id,path,format,status")


def test_sql_prints_rows_as_json_csv_or_lines(sample_db):
    query = "SELECT kind, count(*) AS n FROM interactions GROUP BY kind ORDER BY kind"
    as_json = run("sql", query, "--db", sample_db, "--json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == [{"kind": "reply", "n": 316},
                                                                       {"kind": "vote", "n": 20}]
    as_csv = run("sql", query, "--db", sample_db, "--csv")
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [["kind", "n"], ["reply", "316"], ["vote", "20"]]
    lines = run("sql", query, "--db", sample_db, "--nl")
    assert [json.loads(x) for x in lines.stdout.splitlines()] == json.loads(as_json.stdout)


def test_sql_is_read_only_and_errors_are_sentences(sample_db):
    result = run("sql", "DELETE FROM messages", "--db", sample_db)
    assert result.exit_code == 1 and "Error: the query failed" in result.output
    assert "read-only" in result.output
    result = run("sql", "SELECT nope FROM messages", "--db", sample_db)
    assert result.exit_code == 1 and "Error: the query failed" in result.output


def test_runs_lists_and_prunes(sample_store):
    db = sample_store.path
    sample_store.influence()
    sample_store.influence(fresh=True)
    sample_store.close()
    listed = json.loads(run("runs", "--db", db, "--json").stdout)
    assert [(r["run"], r["analysis"], r["superseded_by"], r["prunable"]) for r in listed] == [
        (1, "influence", 2, True), (2, "influence", None, False)]
    pruned = run("runs", "--prune", "--db", db)
    assert pruned.exit_code == 0 and "Dropped 1 superseded run(s): 1." in pruned.output
    assert [r["run"] for r in json.loads(run("runs", "--db", db, "--json").stdout)] == [2]
