"""Listing output users can pipe: JSON arrays, NDJSON, CSV with lists, UTC times, and --quiet."""

from __future__ import annotations

import csv
import io
import json

from tests.conftest import cli


def test_nl_prints_the_json_rows_one_per_line(sample_db):
    array = json.loads(cli("imports", "--db", sample_db, "--json").output)
    lines = cli("imports", "--db", sample_db, "--nl").output.splitlines()
    assert len(lines) == len(array) == 4   # the sample's four files
    assert [json.loads(line) for line in lines] == array


def test_times_are_utc_with_their_zone(sample_db):
    rows = json.loads(cli("sql", "SELECT created_at FROM messages ORDER BY created_at LIMIT 1",
                          "--db", sample_db, "--json").output)
    assert rows == [{"created_at": "2018-02-06T20:19:50.957000Z"}]
    text = cli("sql", "SELECT created_at FROM messages ORDER BY created_at LIMIT 1",
               "--db", sample_db, "--csv").output
    assert text.splitlines() == ["created_at", "2018-02-06T20:19:50.957000Z"]


def test_lists_are_arrays_in_json_and_joined_in_csv(sample_store):
    sample_store.niches()
    db = sample_store.path
    sample_store.close()
    rows = json.loads(cli("runs", "--db", db, "--json").output)
    niches = next(r for r in rows if r["analysis"] == "niches")
    assert niches["tables"][:2] == ["niches", "memberships"] and isinstance(niches["inputs"], dict)
    table = list(csv.DictReader(io.StringIO(cli("runs", "--db", db, "--csv").output)))
    listed = next(r for r in table if r["analysis"] == "niches")
    assert listed["tables"].split(";") == niches["tables"]


def test_only_one_output_format(sample_db):
    result = cli("imports", "--db", sample_db, "--json", "--nl")
    assert result.exit_code == 2 and "choose one of --json, --nl and --csv" in result.output


def test_quiet_hides_the_progress_bars_not_the_summary(shared, tmp_path):
    karate = shared / "zachary_karate"
    loud = cli("ingest", karate, "--db", tmp_path / "a.duckdb")
    quiet = cli("--quiet", "ingest", karate, "--db", tmp_path / "b.duckdb")
    assert loud.exit_code == quiet.exit_code == 0
    assert "572/572 bytes" in loud.output and "bytes" not in quiet.output
    for out in (loud.output, quiet.output):
        assert "Imported into" in out and "112" in out
    # The next command, without --quiet, shows its progress again.
    again = cli("ingest", karate, "--db", tmp_path / "c.duckdb")
    assert "572/572 bytes" in again.output


def test_out_that_is_a_file_or_in_a_missing_folder_is_an_error_not_a_traceback(sample_db, tmp_path):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    for args in (("report", "--db", sample_db, "--out", taken),
                 ("demo", "--db", tmp_path / "demo.duckdb", "--out", taken),
                 ("analyze", "--db", tmp_path / "new.duckdb", "--out", taken)):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        assert f"Error: cannot write the report to {taken}: it is a file" in result.output
    assert taken.read_text() == "mine"
    assert not (tmp_path / "demo.duckdb").exists() and not (tmp_path / "new.duckdb").exists()
    missing = tmp_path / "no" / "such" / "map.html"
    result = cli("map", "--db", sample_db, "--out", missing)
    assert result.exit_code == 1 and f"folder {missing.parent} does not exist" in result.output
    result = cli("report", "--db", sample_db, "--out", tmp_path / "no" / "report")
    assert result.exit_code == 1 and "does not exist" in result.output
    assert not (tmp_path / "no").exists()


def test_weights_of_unknown_kinds_are_refused_and_never_reach_sql(sample_db, tmp_path):
    import shutil

    db = tmp_path / "s.duckdb"
    shutil.copy(sample_db, db)
    for weights, shown in (("rep'ly=2", '"rep\'ly"'), ("replyy=2", "'replyy'")):
        result = cli("influence", "--db", db, "--weights", weights)
        assert result.exit_code == 1, result.output
        assert f"Error: unknown interaction kind(s) {shown}; known kinds: " in result.output
    assert cli("influence", "--db", db, "--weights", "vote=0.2,reply=2").exit_code == 0
    result = cli("influence", "--db", db, "--weights", "reply=-1")
    assert result.exit_code == 2 and "is not KIND=NUMBER >= 0" in result.output
