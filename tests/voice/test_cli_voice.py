"""The voice commands: per-message JSON, concerns, buzz, inbox, advocates; bad options refused."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import cli as run


@pytest.fixture(scope="module")
def db(tmp_path_factory, shared):
    path = tmp_path_factory.mktemp("voice") / "m.duckdb"
    assert run("ingest", shared / "formats" / "mastodon_api_json", "--db", path).exit_code == 0
    return path


@pytest.mark.slow
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


@pytest.mark.slow
def test_voice_summary_and_csv(db):
    result = run("voice", "--db", db, "--csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    sentiment = {r["value"]: int(r["messages"]) for r in rows if r["what"] == "sentiment"}
    # 339 messages, each with one label.
    assert sum(sentiment.values()) == 339


@pytest.mark.slow
def test_concerns_reads_the_newest_voice_run(db):
    result = run("concerns", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    # The same counts as the per-message rows of the newest voice run.
    per_message = json.loads(run("voice", "--db", db, "--per-message", "--json").stdout)
    counts = {}
    for r in per_message:
        for c in r["concerns"]:
            counts[c] = counts.get(c, 0) + 1
    assert counts and {r["concern"]: r["messages"] for r in rows} == counts
    assert all(0 <= r["negative"] <= 1 and r["example"] for r in rows)
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


@pytest.mark.slow
def test_buzz_finds_the_hashtag_burst_with_its_messages(db):
    result = run("buzz", "--db", db, "--by", "tag", "--period", "day", "--all", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert all(r["count"] >= 5 and r["z"] >= 3.5 and r["messages"] for r in rows)
    # 5 statuses tagged #IchBinHanna on 2025-01-05 (counted in the raw JSON, reblogged ones included)
    # against a baseline well under one a day.
    burst = next(r for r in rows if r["key"] == "ichbinhanna" and r["start"].startswith("2025-01-05"))
    assert burst["count"] == 5 and burst["expected"] < 1


def test_advocates_detractors_first_each_side_by_weight(db):
    result = run("advocates", "--db", db, "--json", "--min-messages", "2")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    stances = [r["stance"] for r in rows]
    assert "detractor" in stances and "advocate" in stances
    assert stances == sorted(stances, key=lambda s: s != "detractor")
    for side, sign in (("detractor", -1), ("advocate", 1)):
        mine = [r for r in rows if r["stance"] == side]
        assert all(sign * r["mean_score"] > 0 for r in mine)
        assert [r["weight"] for r in mine] == sorted((r["weight"] for r in mine), reverse=True)


def test_bad_options_are_refused(db, tmp_path):
    assert run("voice", "--db", db, "--analyzer", "nope").exit_code == 2
    result = run("voice", "--db", db, "--analyzer", "transformer")
    assert result.exit_code == 2 and "--model" in result.output
    assert run("buzz", "--db", db, "--by", "colour").exit_code == 2
    missing = tmp_path / "none.yaml"
    assert run("voice", "--db", db, "--concerns", missing).exit_code == 2
