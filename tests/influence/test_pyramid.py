"""The influence pyramid on real dumps: levels recomputed independently, migrations consistent."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import whuffie
from whuffie.cli import app
from whuffie.errors import WhuffieError
from whuffie.graph.build import DEFAULT_KIND_WEIGHTS
from whuffie.influence.pyramid import (
    FROM_LEVELS,
    LEVELS,
    TO_LEVELS,
    PyramidParams,
    pyramid,
    pyramid_levels,
    window_starts,
)
from whuffie.store.results import load

runner = CliRunner()
REDDIT = "formats/reddit_pushshift_ndjson/RC_2005-12.ndjson"
STACKEXCHANGE = "stackexchange_conlang_meta"


def cli(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


# -- an independent implementation of the documented rules ------------------------------


def expected_levels(activity: dict, recognition: dict, params: PyramidParams | None = None) -> dict:
    """actor -> level in one window, straight from the module documentation."""
    params = params or PyramidParams()
    actors = set(activity) | {a for a, r in recognition.items() if r > 0}

    def cut(values, share):
        ranked = sorted(values, reverse=True)
        if not ranked:
            return None
        return ranked[max(1, math.floor(round(share * len(ranked), 9))) - 1]

    wcut = cut([n for n in activity.values() if n >= params.min_activity], params.active_share)
    ecut = cut([r for r in recognition.values() if r > 0], params.expert_share)
    out = {}
    for a in actors:
        n, r = activity.get(a, 0), recognition.get(a, 0.0)
        if ecut is not None and r >= ecut and r >= params.min_expert_recognition:
            out[a] = "expert"
        elif wcut is not None and n >= wcut:
            out[a] = "wannabe"
        elif n >= params.min_activity or r >= params.min_recognition:
            out[a] = "enthusiast"
        else:
            out[a] = "amateur"
    return out


def monday(moment: datetime) -> datetime:
    day = datetime(moment.year, moment.month, moment.day)
    return day - timedelta(days=day.weekday())


def reddit_by_week(path) -> tuple[dict, dict]:
    """Messages written and replies received per author per week, from the raw dump."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    by_id = {r["id"]: r for r in rows}

    def author(r):
        return None if r["author"] in ("[deleted]", "[removed]") else r["author"]

    activity: dict = defaultdict(Counter)
    recognition: dict = defaultdict(Counter)
    replies = 0
    for r in rows:
        week = monday(datetime.fromtimestamp(int(r["created_utc"]), UTC))
        if author(r):
            activity[week]["reddit:" + author(r)] += 1
        parent = by_id.get(r["parent_id"][3:]) if r["parent_id"].startswith("t1_") else None
        if parent and author(r) and author(parent):
            replies += 1
            if author(r) != author(parent):
                recognition[week]["reddit:" + author(parent)] += 1.0
    assert replies == 220 and sum(sum(c.values()) for c in activity.values()) == 890
    return activity, recognition


def levels_by_window(levels: pa.Table) -> dict:
    out: dict = defaultdict(dict)
    for r in levels.to_pylist():
        out[r["window_start"]][r["actor_id"]] = r["level"]
    return out


def check_migrations(result, levels: dict, windows: list) -> None:
    """Matrix margins and moves agree with set arithmetic on the two windows' members."""
    counts = {r["window_start"]: r for r in result.counts.to_pylist()}
    cells = defaultdict(dict)
    for r in result.migration.to_pylist():
        cells[r["window_start"]][(r["from_level"], r["to_level"])] = r["actors"]
    moves = defaultdict(list)
    for r in result.moves.to_pylist():
        moves[r["window_start"]].append(r)
    assert set(cells) == set(windows[1:])
    for prev, cur in itertools.pairwise(windows):
        before, after = levels.get(prev, {}), levels.get(cur, {})
        m = cells[cur]
        assert len(m) == len(FROM_LEVELS) * len(TO_LEVELS) - 1
        for lv in LEVELS:
            previous_count = sum(1 for x in before.values() if x == lv)
            assert sum(m[(lv, to)] for to in TO_LEVELS) == previous_count == counts[prev][lv]
            assert sum(m[(f, lv)] for f in FROM_LEVELS) == counts[cur][lv]
        new, left = set(after) - set(before), set(before) - set(after)
        assert sum(m[("new", lv)] for lv in LEVELS) == len(new) == counts[cur]["new"]
        assert sum(m[(lv, "left")] for lv in LEVELS) == len(left) == counts[cur]["left"]
        rank = {lv: i for i, lv in enumerate(LEVELS)}
        stayed = set(before) & set(after)
        up = {a for a in stayed if rank[after[a]] > rank[before[a]]}
        down = {a for a in stayed if rank[after[a]] < rank[before[a]]}
        got = defaultdict(set)
        for mv in moves[cur]:
            got[mv["move"]].add(mv["actor_id"])
            assert mv["previous_start"] == prev
            assert mv["from_level"] == before.get(mv["actor_id"], "new")
            assert mv["to_level"] == after.get(mv["actor_id"], "left")
        assert got["up"] == up and got["down"] == down and got["new"] == new and got["left"] == left
        assert counts[cur]["up"] == len(up) and counts[cur]["down"] == len(down)


# -- real data ----------------------------------------------------------------------------


@pytest.mark.slow
def test_reddit_weeks_match_the_raw_dump(shared, store):
    activity, recognition = reddit_by_week(shared / REDDIT)
    store.ingest([str(shared / REDDIT)])
    db = store.path
    store.close()

    result = cli("pyramid", "--db", db, "--window", "week", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    weeks = sorted(activity)
    assert [r["window"] for r in rows] == ["2005-12-12", "2005-12-19", "2005-12-26"]
    assert [monday(w).date().isoformat() for w in weeks] == [r["window"] for r in rows]

    with whuffie.open(db, read_only=True) as s:
        stored = levels_by_window(load(s, "pyramid_levels"))
    for week, row in zip(weeks, rows, strict=True):
        expected = expected_levels(activity[week], recognition[week])
        assert stored[week] == expected
        tally = Counter(expected.values())
        assert {lv: row[lv] for lv in LEVELS} == {lv: tally[lv] for lv in LEVELS}
        assert row["participants"] == len(expected)
    # What the independent computation gives, written down so a change in the reader shows.
    assert [(r["participants"], r["amateur"], r["enthusiast"], r["wannabe"], r["expert"])
            for r in rows] == [(48, 30, 12, 4, 2), (165, 92, 44, 25, 4), (274, 146, 97, 22, 9)]


@pytest.mark.slow
def test_reddit_migrations_are_consistent(shared, store):
    store.ingest([str(shared / REDDIT)])
    db = store.path
    store.close()
    result = cli("pyramid", "--db", db, "--window", "week", "--moves", "--json")
    assert result.exit_code == 0, result.output
    moves = json.loads(result.stdout)
    assert set(moves[0]) == {"window", "previous", "actor", "handle", "from", "to", "move"}

    with whuffie.open(db, read_only=True) as s:
        levels = load(s, "pyramid_levels")
    windows = sorted(set(levels.column("window_start").to_pylist()))
    result = pyramid(levels, windows)
    check_migrations(result, levels_by_window(levels), windows)
    assert len(moves) == result.moves.num_rows
    assert Counter(m["move"] for m in moves) == Counter(result.moves.column("move").to_pylist())


def stackexchange_by_month(store) -> tuple[dict, dict]:
    """Activity and recognition per month, recomputed in Python from the store's rows."""
    activity: dict = defaultdict(Counter)
    recognition: dict = defaultdict(Counter)
    for actor, created in store.con.execute(
            "SELECT actor_id, created_at FROM messages WHERE NOT is_stub").fetchall():
        if actor is not None and created is not None:
            activity[datetime(created.year, created.month, 1)][actor] += 1
    for source, target, kind, created, weight, value in store.con.execute(
            "SELECT source, target, kind, created_at, weight, value FROM interactions").fetchall():
        if None in (source, target, created) or source == target:
            continue
        if kind == "rating" and (value or 0) < 0:
            continue
        recognition[datetime(created.year, created.month, 1)][target] += \
            weight * DEFAULT_KIND_WEIGHTS.get(kind, 1.0)
    return activity, recognition


@pytest.mark.slow
def test_stackexchange_months_match_a_python_recount(shared, store):
    store.ingest([str(shared / STACKEXCHANGE)])
    activity, recognition = stackexchange_by_month(store)
    db = store.path
    store.close()
    params = ["--expert-share", "0.2", "--min-expert-recognition", "3"]
    result = cli("pyramid", "--db", db, "--json", *params)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    # Every month from February 2018 to August 2020, empty ones included.
    assert len(rows) == 31 and rows[0]["window"] == "2018-02-01" and rows[-1]["window"] == "2020-08-01"
    assert sum(r["participants"] == 0 for r in rows) == 31 - len(set(activity) | set(recognition))

    custom = PyramidParams(expert_share=0.2, min_expert_recognition=3.0)
    with whuffie.open(db, read_only=True) as s:
        levels = load(s, "pyramid_levels")
    stored = levels_by_window(levels)
    for row in rows:
        month = datetime.fromisoformat(row["window"])
        expected = expected_levels(activity.get(month, {}), recognition.get(month, {}), custom)
        assert stored.get(month, {}) == expected
        tally = Counter(expected.values())
        assert {lv: row[lv] for lv in LEVELS} == {lv: tally[lv] for lv in LEVELS}
    assert rows[0]["participants"] == 41 and rows[0]["expert"] > 0

    windows = window_starts(datetime(2018, 2, 6), datetime(2020, 8, 25), "month")
    check_migrations(pyramid(levels, windows), levels_by_window(levels), windows)


@pytest.mark.slow
def test_the_terminal_shows_counts_and_the_last_matrix(shared, store):
    store.ingest([str(shared / STACKEXCHANGE)])
    db = store.path
    store.close()
    result = cli("pyramid", "--db", db, "--since", "2018-02-01", "--until", "2018-05-01")
    assert result.exit_code == 0, result.output
    assert "2018-04" in result.output and "2018-05" not in result.output
    assert "Migration 2018-03-01 -> 2018-04-01" in result.output
    result = cli("pyramid", "--db", db, "--matrix", "--csv", "--until", "2018-05-01")
    lines = result.stdout.splitlines()
    assert lines[0] == "window,previous,from,to,actors" and len(lines) == 1 + 2 * 24


@pytest.mark.slow
def test_bad_window_and_undated_store_are_errors(shared, store):
    store.ingest([str(shared / "zachary_karate")])
    db = store.path
    store.close()
    result = runner.invoke(app, ["pyramid", "--db", str(db), "--window", "year"])
    assert result.exit_code == 2 and "week, month" in result.output
    result = cli("pyramid", "--db", db)
    assert result.exit_code == 1 and "the pyramid needs times" in result.output


# -- the rules on hand-made windows --------------------------------------------------------

W1, W2, W3 = datetime(2024, 1, 1), datetime(2024, 1, 8), datetime(2024, 1, 15)


def window(rows):
    return pa.table({"window_start": pa.array([r[0] for r in rows], pa.timestamp("us")),
                     "actor_id": [r[1] for r in rows], "activity": [r[2] for r in rows],
                     "recognition": [float(r[3]) for r in rows]})


def test_ties_at_the_cut_share_the_level_and_the_floor_holds():
    t = window([(W1, "a", 1, 3), (W1, "b", 1, 3), (W1, "c", 1, 1), (W1, "d", 0, 1),
                (W1, "e", 0, 0), (W1, "f", 5, 0), (W1, "g", 2, 0), (W1, "h", 2, 0)])
    levels = pyramid_levels(t)
    got = dict(zip(levels.column("actor_id").to_pylist(), levels.column("level").to_pylist(), strict=True))
    # e did nothing: not a participant. a and b tie at the top of four recognised actors.
    assert got == {"a": "expert", "b": "expert", "c": "enthusiast", "d": "enthusiast",
                   "f": "wannabe", "g": "enthusiast", "h": "enthusiast"}
    assert set(levels.column("expert_cut").to_pylist()) == {3.0}
    assert set(levels.column("wannabe_cut").to_pylist()) == {5.0}
    # One reply is not expertise.
    low = pyramid_levels(window([(W1, "a", 1, 1), (W1, "b", 1, 0.5)]))
    assert low.column("level").to_pylist() == ["enthusiast", "amateur"]
    assert pyramid_levels(window([(W1, "a", 1, 1)]), PyramidParams(min_expert_recognition=1)
                          ).column("level").to_pylist() == ["expert"]


def test_absence_for_a_window_is_leaving_and_coming_back_is_new():
    levels = pa.table({"window_start": pa.array([W1, W1, W3], pa.timestamp("us")),
                       "actor_id": ["a", "b", "a"], "level": ["amateur", "expert", "expert"]})
    result = pyramid(levels, [W1, W2, W3])
    counts = result.counts.to_pylist()
    assert [c["participants"] for c in counts] == [2, 0, 1]
    assert [(c["new"], c["left"]) for c in counts] == [(None, None), (0, 2), (1, 0)]
    assert [(m["actor_id"], m["from_level"], m["to_level"], m["move"])
            for m in result.moves.to_pylist()] == [
        ("a", "amateur", "left", "left"), ("b", "expert", "left", "left"), ("a", "new", "expert", "new")]
    with pytest.raises(WhuffieError, match="not in the window list"):
        pyramid(levels, [W1, W2])
    with pytest.raises(WhuffieError, match="unknown level 'guru'"):
        pyramid(levels.set_column(2, "level", pa.array(["guru", "expert", "expert"])))
    with pytest.raises(WhuffieError, match="expert_share"):
        PyramidParams(expert_share=0)
    with pytest.raises(WhuffieError, match="actor 'a' has two rows"):
        pyramid_levels(window([(W1, "a", 1, 0), (W1, "a", 2, 0)]))
