"""Branching process: simulation against analytic expectations, fitting recovers known parameters."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from whuffie.errors import WhuffieError
from whuffie.spread.branching import (
    BranchingModel,
    Delay,
    Group,
    Offspring,
    fit_branching,
    goodness,
    holdout,
    simulate,
)
from whuffie.spread.cascades import CascadeSet, cascades


def _model(**groups) -> BranchingModel:
    return BranchingModel({tuple(k.split("_")): g for k, g in groups.items()})


@pytest.mark.parametrize("dispersion", [math.inf, 0.5])
def test_subcritical_mean_size_is_one_over_one_minus_m(dispersion):
    m = 0.6
    model = _model(neutral_ordinary=Group(Offspring(m, dispersion), Delay(0.0, 1.0)))
    sim = simulate(model, [("neutral", "ordinary")], runs=40_000, seed=3)
    # Total progeny of a Galton-Watson process: mean 1 / (1 - m); its variance is
    # (m (1 - m) + sigma^2) / (1 - m)^3 with offspring variance sigma^2 = m + m^2 / k.
    var = m + (m * m / dispersion if math.isfinite(dispersion) else 0.0)
    se = math.sqrt((m * (1 - m) + var) / (1 - m) ** 3 / 40_000)
    assert abs(sim.mean - 1 / (1 - m)) < 4 * se
    if not math.isfinite(dispersion):
        # No offspring at all with probability exp(-m) (Poisson).
        share0 = float((sim.depths == 0).mean())
        assert abs(share0 - math.exp(-m)) < 4 * math.sqrt(share0 * (1 - share0) / 40_000)


def test_several_roots_and_roles():
    # The root (ordinary, mean 2) reaches people who are all e-fluential (share 1) with mean 0.5:
    # expected size 1 + 2 / (1 - 0.5) = 5 per root; two roots make 10.
    model = _model(
        positive_ordinary=Group(Offspring(2.0), Delay(0.0, 1.0), efluential_share=1.0),
        positive_efluential=Group(Offspring(0.5), Delay(0.0, 1.0), efluential_share=1.0),
    )
    sim = simulate(model, [("positive", "ordinary")] * 2, runs=40_000, seed=1)
    assert sim.mean == pytest.approx(10.0, abs=0.1)
    with pytest.raises(WhuffieError, match="no valence 'negative'"):
        simulate(model, [("negative", "ordinary")])


def test_caps_and_time_to_half():
    sim = simulate(BranchingModel.preset("web"), [("negative", "ordinary")], runs=200, max_size=500)
    assert sim.sizes.max() == 500 and sim.capped.mean() > 0.95
    # Root tells exactly 2 (after 60 s each), they tell no one: 3 people at 0, 60, 60 -> half (2nd) at 60.
    model = _model(neutral_ordinary=Group(Offspring(0.0, empirical=np.array([0])), Delay(math.log(60), 0.0),
                                          root_offspring=Offspring(2.0, empirical=np.array([2]))))
    sim = simulate(model, [("neutral", "ordinary")], runs=5, times=True)
    assert sim.sizes.tolist() == [3] * 5 and sim.depths.tolist() == [1] * 5
    assert np.allclose(sim.times, 60.0)


def test_presets_are_labelled_as_presets():
    for name, (pos, neg) in {"traditional": (2, 8), "web": (8, 8), "efluential": (11, 17)}.items():
        m = BranchingModel.preset(name)
        assert m.is_preset and m.note.startswith("Preset, not a measurement")
        assert m.group("positive", "efluential").offspring.mean == pos
        assert m.group("negative", "efluential").offspring.mean == neg
        assert not math.isfinite(m.group("negative").offspring.dispersion)  # Poisson
    assert not _model(neutral_ordinary=Group(Offspring(1.0), Delay(0.0, 1.0))).is_preset
    with pytest.raises(WhuffieError, match="no branching preset"):
        BranchingModel.preset("viral")


# Known parameters: root Poisson(5); relays negative binomial (k = 0.5) with mean 0.3 (positive) or
# 0.6 (negative); delays lognormal(mu 6, sigma 1.2) seconds.
TRUTH = {"positive": 0.3, "negative": 0.6}
K, ROOT_MEAN, MU, SIGMA = 0.5, 5.0, 6.0, 1.2


def _synthetic(n_per_valence: int = 400, seed: int = 7) -> CascadeSet:
    """Trees grown with numpy draws independent of ``simulate``."""
    rng = np.random.default_rng(seed)
    cols = {c: [] for c in ("cascade", "message_id", "actor_id", "parent_id", "depth", "delay_seconds")}
    summary = {c: [] for c in ("cascade", "root", "size", "depth", "valence", "label")}
    serial = 0
    for valence, m in TRUTH.items():
        for _ in range(n_per_valence):
            root = f"m{serial}"
            frontier = [(root, 0.0)]
            cols["cascade"].append(root)
            cols["message_id"].append(root)
            cols["parent_id"].append(None)
            cols["depth"].append(0)
            cols["delay_seconds"].append(0.0)
            size, depth = 1, 0
            while frontier:
                nxt = []
                for mid, t in frontier:
                    n = rng.poisson(ROOT_MEAN) if mid == root else rng.negative_binomial(K, K / (K + m))
                    for d in rng.lognormal(MU, SIGMA, n):
                        serial += 1
                        child = f"m{serial}"
                        nxt.append((child, t + d))
                        cols["cascade"].append(root)
                        cols["message_id"].append(child)
                        cols["parent_id"].append(mid)
                        cols["depth"].append(depth + 1)
                        cols["delay_seconds"].append(t + d)
                if nxt:
                    depth += 1
                size += len(nxt)
                frontier = nxt
            serial += 1
            for k, v in zip(summary, (root, f"a{root}", size, depth, valence, None), strict=True):
                summary[k].append(v)
    cols["actor_id"] = [f"a{m}" for m in cols["message_id"]]
    n = len(cols["message_id"])
    nodes = pa.table({**cols, "stub": [False] * n, "efluential": [False] * n})
    return CascadeSet(nodes, pa.table(summary))


@pytest.fixture(scope="module")
def synthetic() -> CascadeSet:
    return _synthetic()


def test_fit_recovers_known_parameters(synthetic):
    model = fit_branching(synthetic, by="valence")
    assert not model.is_preset and model.valences == ["negative", "positive"]
    for valence, m in TRUTH.items():
        g = model.group(valence)
        n = g.nodes - g.roots
        # Standard error of a negative binomial mean: sqrt((m + m^2 / k) / n).
        assert abs(g.offspring.mean - m) < 4 * math.sqrt((m + m * m / K) / n)
        assert g.offspring.dispersion == pytest.approx(K, rel=0.35)
        assert abs(g.root_offspring.mean - ROOT_MEAN) < 4 * math.sqrt(ROOT_MEAN / g.roots)
        assert g.delay.mu == pytest.approx(MU, abs=0.1) and g.delay.sigma == pytest.approx(SIGMA, abs=0.1)
        assert g.root_delay.mu == pytest.approx(MU, abs=0.1)
    pooled = fit_branching(synthetic, separate_root=False).group("negative")
    assert pooled.root_offspring is None and pooled.offspring.mean > TRUTH["negative"]


def test_goodness_and_holdout_on_data_from_the_model(synthetic):
    fit = goodness(fit_branching(synthetic), synthetic, per_cascade=20, seed=0)
    assert fit["all"]["cascades"] == len(synthetic)
    assert fit["all"]["ks_size"] < 0.08 and fit["all"]["ks_depth"] < 0.08
    assert {(g["valence"], g["role"]) for g in fit["groups"]} == {("positive", "ordinary"),
                                                                 ("negative", "ordinary")}
    h = holdout(synthetic, share=0.7, seed=0)
    assert (h["train"], h["test"]) == (560, 240)
    # A correct model puts about 90% of the observed sizes in its 5-95% interval.
    assert 0.82 <= h["coverage"] <= 0.97
    # A wrong model (the folklore's 8 per person) covers few: the check can fail.
    wrong = BranchingModel.preset("web")
    sizes = synthetic.summary["size"].to_numpy()
    lo, hi = simulate(wrong, [("negative", "ordinary")], runs=200, max_size=2_000).interval()
    assert ((sizes >= lo) & (sizes <= hi)).mean() < 0.1


def test_fit_on_store_cascades_with_explicit_efluentials(store):
    store.con.execute("""INSERT INTO messages (message_id, platform, actor_id, created_at, kind, reply_to,
        is_stub) VALUES ('x:1', 'x', 'x:ann', '2024-01-01 10:00', 'post', NULL, false),
        ('x:2', 'x', 'x:bob', '2024-01-01 10:01', 'reply', 'x:1', false),
        ('x:3', 'x', 'x:cat', '2024-01-01 10:03', 'reply', 'x:2', false),
        ('x:4', 'x', 'x:dan', '2024-01-01 10:07', 'reply', 'x:2', false)""")
    model = fit_branching(cascades(store.engine.cascade_links()), efluentials=["x:bob"])
    efl, ordinary = model.group("unknown", "efluential"), model.group("unknown", "ordinary")
    # bob (e-fluential) told 2, after 2 and 6 minutes; ann (the root) told 1 (bob: all e-fluential).
    assert (efl.offspring.mean, efl.nodes, efl.roots) == (2.0, 1, 0)
    assert efl.delay.median == pytest.approx(math.sqrt(120 * 360))  # lognormal median = geometric mean
    assert (ordinary.root_offspring.mean, ordinary.efluential_share) == (1.0, 1.0)
    assert ordinary.offspring.mean == 0.0  # cat and dan told no one
