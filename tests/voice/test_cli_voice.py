"""The voice commands: per-message JSON, concerns, buzz, inbox, advocates; bad options refused."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from whuffie.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def db(tmp_path_factory, shared):
    path = tmp_path_factory.mktemp("voice") / "m.duckdb"
    assert run("ingest", shared / "formats" / "mastodon_api_json", "--db", path).exit_code == 0
    return path


def test_voice_per_message_json(db):
    result = run("voice", "--db", db, "--per-message", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 339
    assert set(rows[0]) == {"message", "lang", "sentiment", "score", "concerns"}
    english = [r for r in rows if r["lang"] == "en"]
    assert english and all(r["sentiment"] in ("negative", "neutral", "positive") for r in english)
    assert all(-1 <= r["score"] <= 1 for r in english)
    assert all(isinstance(r["concerns"], list) for r in rows)


def test_voice_summary_and_csv(db):
    result = run("voice", "--db", db, "--csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    sentiment = {r["value"]: int(r["messages"]) for r in rows if r["what"] == "sentiment"}
    # 339 messages, each with one label.
    assert sum(sentiment.values()) == 339


def test_concerns_reads_the_newest_voice_run(db):
    result = run("concerns", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    for r in rows:
        assert r["messages"] >= 1 and 0 <= r["negative"] <= 1
    lexicon = json.loads(run("concerns", "--lexicon", "--json").stdout)
    assert {"environment", "labour", "price", "privacy"} <= {r["concern"] for r in lexicon}


def test_inbox_for_a_brand(db):
    # The account timeline's author; its counts are checked against the raw JSON in test_inbox.py.
    result = run("inbox", "--brand", "schochastics", "--db", db, "--show", "outbound", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 47
    assert all(r["message"].startswith("mastodon:") for r in rows)


def test_inbox_unknown_brand_is_an_error(db):
    result = run("inbox", "--brand", "nobody-at-all-here", "--db", db)
    assert result.exit_code == 1
    assert "Error:" in result.stderr and "nobody-at-all-here" in result.stderr


def test_buzz_and_advocates_print_json(db):
    result = run("buzz", "--db", db, "--by", "tag", "--period", "day", "--all", "--json")
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), list)
    result = run("advocates", "--db", db, "--json", "--min-messages", "2")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert all(r["stance"] in ("advocate", "detractor") for r in rows)


def test_bad_options_are_refused(db, tmp_path):
    assert run("voice", "--db", db, "--analyzer", "nope").exit_code == 2
    result = run("voice", "--db", db, "--analyzer", "transformer")
    assert result.exit_code == 2 and "--model" in result.output
    assert run("buzz", "--db", db, "--by", "colour").exit_code == 2
    missing = tmp_path / "none.yaml"
    assert run("voice", "--db", db, "--concerns", missing).exit_code == 2
