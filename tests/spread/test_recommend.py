"""Whom to approach is the set the simulation finds best; supercritical presets are answered at once."""

from __future__ import annotations

import shutil
import tracemalloc

import pytest

import whuffie
from tests.conftest import cli
from whuffie.spread.branching import BranchingModel, forecast


@pytest.fixture
def demo_store(sample_db, tmp_path):
    path = tmp_path / "s.duckdb"
    shutil.copy(sample_db, path)
    return path


@pytest.mark.slow
def test_the_recommended_set_is_the_best_measured(demo_store):
    with whuffie.open(demo_store) as store:
        r = store.seeds(5)
    comparison = r["seed_comparison"].to_pylist()
    best = max(comparison, key=lambda row: row["mean"])
    s = r.summary
    # On the bundled sample CELF's set beats IMM's in the same 10,000 runs: CELF is recommended.
    assert (s["recommended"], best["method"]) == ("celf", "celf")
    assert r.to_arrow().column("actor_id").to_pylist() == best["seeds"]
    assert s["recommended_mean"] == best["mean"] > s["imm_mean"]
    assert s["small_graph"] and s["nodes"] == 65 and round(s["guarantee"], 3) == 0.132
    shown = cli("seeds", "--db", demo_store, "--k", 5)
    assert "the celf set" in shown.output and "says little" in shown.output
    assert "IMM guarantees at least 1 - 1/e - epsilon = 13%" in " ".join(shown.output.split())


@pytest.mark.parametrize(("name", "valence", "survival"), [
    ("traditional", "positive", 0.7968),   # q = exp(2 (q - 1)): q = 0.2032
    ("web", "negative", 0.9997),           # q = exp(8 (q - 1)): q = 0.000335
    ("efluential", "negative", 1.0),
])
def test_a_supercritical_preset_is_answered_analytically_in_bounded_memory(name, valence, survival):
    tracemalloc.start()
    try:
        f = forecast(BranchingModel.preset(name), [(valence, "efluential")], runs=10_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Before: 10,000 runs of up to 10,000 people each, 101 s and 7 GB on the demo store.
    assert f.supercritical and round(f.survival, 4) == survival
    assert peak < 20e6 and len(f.simulation.sizes) <= 2_000 and f.simulation.sizes.max() <= 100
    # The share of simulated runs that outgrow the cap agrees with the analytic survival.
    assert abs(f.simulation.capped.mean() - f.survival) < 0.03


def test_a_subcritical_forecast_is_unchanged():
    from whuffie.spread.branching import Delay, Group, Offspring, simulate

    m = BranchingModel({("neutral", "ordinary"): Group(Offspring(0.5), Delay(0.0, 1.0))})
    f = forecast(m, [("neutral", "ordinary")], runs=5_000, seed=3)
    assert not f.supercritical and f.survival == 0.0
    assert (f.simulation.sizes == simulate(m, [("neutral", "ordinary")], runs=5_000, seed=3).sizes).all()


def test_spread_with_a_preset_says_it_never_dies_out(demo_store):
    result = cli("spread", "--from", "Adarain", "--model", "efluential", "--db", demo_store)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "never dies out with probability" in text and "no finite expected reach" in text
    with whuffie.open(demo_store, read_only=True) as store:
        summary = store.runs()[-1]
    assert summary["analysis"] == "spread"
