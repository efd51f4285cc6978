"""``whuffie ingest`` tells what it did: reader options checked, skipped files listed, placeholder
times flagged, true progress, standard input."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from tests.conftest import cli as run
from whuffie.cli.ingest import RichProgress
from whuffie.store.ingest import FileResult


@pytest.fixture
def qut(shared):
    return shared / "formats" / "qut_coordination_csv"


def flat(output: str) -> str:
    """The output as one line: the terminal's wrapping and the error panel's borders removed."""
    return " ".join(output.replace("│", " ").split())


def test_a_misspelled_reader_option_is_a_usage_error(qut, tmp_path):
    db = tmp_path / "s.duckdb"
    result = run("ingest", qut / "coretweet_test_input.csv", "-o", "platfrom=qut", "--db", db)
    assert result.exit_code == 2
    assert ("option 'platfrom' is taken by no reader of these files (csv: columns, delimiter, map, "
            "platform, times); did you mean 'platform'?") in flat(result.output)
    fixed = run("ingest", qut / "coretweet_test_input.csv", "-f", "csv", "-o", "platfrom=qut", "--db", db)
    assert fixed.exit_code == 2 and "reader 'csv' has no option 'platfrom'" in flat(fixed.output)


@pytest.mark.slow
def test_skipped_files_are_counted_and_listed_on_request(qut, tmp_path):
    folder = tmp_path / "exports"
    shutil.copytree(qut, folder)
    (folder / "empty.csv").write_bytes(b"")
    db = tmp_path / "s.duckdb"
    result = run("ingest", folder, "--db", db)
    assert result.exit_code == 0, result.output
    assert ("Skipped 3 file(s): 2 format not recognised, 1 empty file; --show-skipped lists them."
            in flat(result.output))
    assert "SOURCE.md" not in result.output
    listed = run("ingest", folder, "--db", db, "--show-skipped", env={"COLUMNS": "400"})
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in listed.output.splitlines()
            if line.startswith("│ " + str(folder))]
    assert sorted((Path(p).name, why) for p, why in rows) == [
        ("README.upstream.md", "format not recognised"), ("SOURCE.md", "format not recognised"),
        ("empty.csv", "empty file")]


@pytest.mark.slow
def test_relative_and_placeholder_times_are_reported(qut, tmp_path):
    db = tmp_path / "s.duckdb"
    relative = run("ingest", qut / "coretweet_test_input.csv", "--db", db)
    assert ("Times are relative (seconds from an arbitrary origin, stored from 1970) in 1 file(s): "
            "coretweet_test_input.csv.") in flat(relative.output)
    absolute = run("ingest", qut / "coretweet_test_input.csv", "-o", "times=absolute", "-o",
                   "platform=abs", "--db", db)
    assert ("15 record(s) stored without their implausible time (before 1971 or in the future: "
            "placeholders?): see 'whuffie quarantine'.") in flat(absolute.output)


@pytest.mark.slow
def test_standard_input_is_read_with_its_format_sniffed(shared, tmp_path):
    data = (shared / "formats" / "reddit_pushshift_ndjson" / "RC_2005-12.zst").read_bytes()
    db = tmp_path / "s.duckdb"
    result = run("ingest", "-", "--db", db, input=data)
    assert result.exit_code == 0, result.output
    rows = json.loads(run("imports", "--db", db, "--json").stdout)
    assert [(r["path"], r["format"], r["stored"], r["sha256"]) for r in rows] == [
        ("<stdin>", "reddit", 1075, hashlib.sha256(data).hexdigest())]
    size = run("sql", "SELECT size FROM imports", "--db", db, "--json").stdout
    assert json.loads(size) == [{"size": len(data)}]
    again = run("ingest", "-", "-f", "reddit", "--db", db, input=data)
    assert again.exit_code == 0 and "1,075" in again.output  # read again: all duplicates


def test_standard_input_in_no_known_format_asks_for_one(tmp_path):
    result = run("ingest", "-", "--db", tmp_path / "s.duckdb", input=b"Dear diary,\nnothing.\n")
    assert result.exit_code == 1
    assert "cannot tell the format of <stdin> from its first bytes; pass --format" in flat(result.output)


def test_rich_progress_books_each_event_to_its_own_file():
    # Small files are committed in groups: a file's finish comes after later files started.
    def tasks(bars):
        return [(t.description, t.completed, t.total, t.fields["records"]) for t in bars.tasks]

    with Progress(console=Console(file=io.StringIO())) as bars:
        rich = RichProgress(bars)
        rich.begin(2, 3000)
        rich.start(Path("a.jsonl"), 1000, "reddit")
        rich.start(Path("b.jsonl"), 2000, "reddit")
        rich.advance(500, 4)
        rich.finish(FileResult("a.jsonl", "reddit", 1, read=10, size=1000))
        assert tasks(bars) == [("a.jsonl [reddit]", 1000, 1000, 10), ("b.jsonl [reddit]", 500, 2000, 4)]
        rich.advance(2000, 25)
        rich.finish(FileResult("b.jsonl", "reddit", 2, read=25, size=2000))
        assert tasks(bars) == [("a.jsonl [reddit]", 1000, 1000, 10), ("b.jsonl [reddit]", 2000, 2000, 25)]
    with Progress(console=Console(file=io.StringIO())) as bars:
        rich = RichProgress(bars)
        rich.MANY = 1
        rich.begin(2, 3000)
        rich.start(Path("a.jsonl"), 1000, "reddit")
        rich.start(Path("b.jsonl"), 2000, "reddit")
        rich.advance(500, 4)
        rich.finish(FileResult("a.jsonl", "reddit", 1, read=10, size=1000))
        assert tasks(bars) == [("1/2 files", 1500, 3000, 14)]
        rich.advance(2000, 25)
        rich.finish(FileResult("b.jsonl", "reddit", 2, read=25, size=2000))
        assert tasks(bars) == [("2/2 files", 3000, 3000, 35)]
