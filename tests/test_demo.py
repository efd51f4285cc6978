"""The README's first command: `whuffie demo` prints what the README shows, and its store opens elsewhere."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import whuffie
from tests.conftest import ROOT, cli

pytestmark = pytest.mark.slow


def _readme_block(after: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(after)
    block = re.search(r"```\n(.*?)```", text[start:], re.S)
    return block.group(1)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_demo_prints_the_lines_of_the_readme(demo):
    folder, out = demo
    expected = _readme_block("then what each analysis found:")
    expected = expected.replace("/home/you/", f"{folder.resolve()}/")
    assert _flat(expected) in _flat(out)


def test_demo_imports_what_the_readme_says(demo):
    _, out = demo
    table = _readme_block("It first prints what it imported:")
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 7 and cells[0] != "file":
            # The seconds column differs from machine to machine; the counts must not.
            assert re.search(r"│\s*" + r"\s*│\s*".join(re.escape(c) for c in cells[:6]) + r"\s*│", out), line


def test_demo_store_and_outputs(demo):
    folder, _ = demo
    assert (folder / "whuffie-report" / "index.html").is_file()
    html = (folder / "whuffie-report" / "index.html").read_text()
    for title in ("What the store holds", "Who matters: the e-fluentials", "The influence pyramid",
                  "Niches: the long tail", "What the community says", "How word of mouth travels"):
        assert title in html
    with whuffie.open(folder / "whuffie-demo.duckdb", read_only=True) as store:
        assert [r["analysis"] for r in store.runs()] == [
            "influence", "efluentials", "niches", "pyramid", "voice", "buzz", "advocates", "cascades",
            "seeds"]


def test_a_second_listing_reuses_the_saved_run(demo, tmp_path):
    folder, _ = demo
    db = tmp_path / "demo.duckdb"
    shutil.copy(folder / "whuffie-demo.duckdb", db)
    for command in (["efluentials", "--json"], ["seeds", "--k", "5", "--json"], ["influence", "--json"]):
        result = cli(*command, "--db", db)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)
    with whuffie.open(db, read_only=True) as store:
        assert len(store.runs()) == 9
    listing = cli("runs", "--db", db, "--json")
    assert [r["analysis"] for r in json.loads(listing.stdout)][:2] == ["influence", "efluentials"]


def test_report_of_the_demo_store(demo, tmp_path):
    folder, _ = demo
    result = cli("report", "--db", folder / "whuffie-demo.duckdb", "--out", tmp_path / "again",
                 "--show-private")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "again" / "index.html").read_text()
    # The e-fluentials' table and the cascades' figures of the demo's runs.
    assert "Rand al&#39;Thor" in html and "cascades (2+ people)" in html
    # The demo's own report names no one: every member of the sample is a private individual.
    shared = (folder / "whuffie-report" / "index.html").read_text()
    assert "Rand al&#39;Thor" not in shared and "cascades (2+ people)" in shared


def test_the_duckdb_command_line_client_opens_the_store(demo):
    """The DuckDB client from PyPI (duckdb-cli, an older DuckDB than the library's) reads the store."""
    folder, _ = demo
    client = shutil.which("duckdb") or str(Path(sys.executable).with_name("duckdb"))
    if not Path(client).exists():
        pytest.skip("the DuckDB command-line client (pip install duckdb-cli) is not installed")
    version = subprocess.run([client, "--version"], capture_output=True, text=True).stdout
    done = subprocess.run(
        [client, "-readonly", "-csv", str(folder / "whuffie-demo.duckdb"), "-c",
         "SELECT (SELECT count(*) FROM messages WHERE NOT is_stub) AS messages, "
         "(SELECT count(*) FROM interactions) AS interactions, (SELECT count(*) FROM latest_influence) AS "
         "ranked, (SELECT comment FROM duckdb_tables() WHERE table_name = 'actors') AS about"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{version}: {done.stderr}"
    assert done.stdout.splitlines()[1].startswith("407,336,65,\"One row per actor"), done.stdout
