"""How word of mouth travels: the cascades, forecasts of reach and whom to approach, as library calls.

Each function is also a method of an open store (``store.cascades(...)``); see :mod:`whuffie.api`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from whuffie.api.result import CascadesResult, SeedsResult, SpreadResult
from whuffie.api.runner import graph_spec, latest, message_scope, run, scope_params
from whuffie.errors import WhuffieError
from whuffie.graph.build import GraphSpec, build_graph
from whuffie.progress import phase

if TYPE_CHECKING:
    from whuffie.spread.branching import BranchingModel
    from whuffie.spread.cascades import CascadeSet
    from whuffie.spread.diffusion import DiffusionGraph
    from whuffie.store.store import Store

#: The models on the interaction graph; the others are branching processes.
GRAPH_MODELS = ("ic", "lt")
#: Graphs with at most this many nodes also get CELF (Monte-Carlo greedy) in the seed comparison.
CELF_LIMIT = 300


def cascades(store: Store, *, fresh: bool = False, **filters: Any) -> CascadesResult:
    """The cascades that really happened (reply, reshare, quote, link trees; e-mail threads).

    Also fits the branching process on them (by valence, or by the source's label when only that is
    known) and simulates it, and forecasts the reach of the top advocates and detractors.

    Parameters
    ----------
    store : Store
        An open store.
    fresh : bool
        Compute again even when a saved run matches.
    **filters
        ``platforms`` (messages of these platforms), ``since``, ``until`` (cascades that started
        in that window).

    Returns
    -------
    CascadesResult
        Tables ``cascades`` (main, largest first), ``cascade_nodes`` (every message with its
        parent), and with ten cascades of two people or more ``branching_model``,
        ``cascade_simulated`` and, with an advocates run, ``advocate_forecasts``.

    Examples
    --------
    >>> import whuffie, datetime as dt
    >>> from whuffie.model import Message, Records
    >>> t = dt.datetime(2024, 1, 1)
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(messages=[Message("x:1", "x", "x:ann", t, text="news"),
    ...         Message("x:2", "x", "x:bob", t, kind="reply", reply_to="x:1", text="wow")]))
    ...     r = store.cascades()
    >>> r.to_arrow().select(["cascade", "size", "depth"]).to_pylist(), r.evidence("x:1").num_rows
    ([{'cascade': 'x:1', 'size': 2, 'depth': 1}], 2)
    """
    from whuffie.spread.branching import fit_branching, forecast
    from whuffie.spread.cascades import cascades as rebuild

    scope = message_scope(**filters)
    voice, voice_run = latest(store, "voice", "voice_messages")
    efl, efl_run = latest(store, "efluentials", "efluentials")
    adv, adv_run = latest(store, "advocates", "advocates")

    def compute():
        links = store.engine.cascade_links(scope["platforms"])
        result = rebuild(links, voice=voice, efluentials=efl, since=scope["since"], until=scope["until"])
        tables: dict[str, pa.Table] = {"cascades": result.summary, "cascade_nodes": result.nodes}
        summary = result.summary
        grown = summary.filter(pc.greater_equal(summary["size"], 2)) if summary.num_rows else summary
        by = None
        if grown.num_rows >= 10:
            labelled = any(v is not None for v in grown.column("label").to_pylist())
            valenced = any(v is not None for v in grown.column("valence").to_pylist())
            by = "label" if labelled and not valenced else "valence"
            model = fit_branching(result, by=by)
            tables["branching_model"] = model.describe()
            sims = []
            for valence in model.valences:
                sim = forecast(model, [(valence, "ordinary")], runs=2_000, seed=0).simulation
                sims.append(pa.table({"valence": [valence] * len(sim.sizes),
                                      "size": sim.sizes.astype("int64"),
                                      "depth": sim.depths.astype("int64")}))
            tables["cascade_simulated"] = pa.concat_tables(sims)
            forecasts = _advocate_forecasts(adv, efl, model)
            if forecasts is not None:
                tables["advocate_forecasts"] = forecasts
        sizes = summary["size"].to_numpy() if summary.num_rows else []
        return tables, {"cascades": summary.num_rows, "grown": int((sizes >= 2).sum()) if len(sizes) else 0,
                        "largest": int(max(sizes, default=0)), "fitted_by": by, "cycles": result.cycles}

    return run(store, "cascades", scope_params(scope), compute, cls=CascadesResult,
               inputs={"voice": voice_run, "efluentials": efl_run, "advocates": adv_run}, fresh=fresh)


def _advocate_forecasts(advocates: pa.Table | None, efl: pa.Table | None, model: BranchingModel) -> Any:
    """Expected reach of the five strongest detractors and advocates under a fitted branching model."""
    from whuffie.spread.branching import forecast

    if model.by != "valence" or advocates is None:
        return None
    efl_ids = set(efl.column("actor_id").to_pylist()) if efl is not None else set()
    rows = []
    for stance, valence in (("detractor", "negative"), ("advocate", "positive")):
        if valence not in model.valences:
            continue
        for r in [r for r in advocates.to_pylist() if r["stance"] == stance][:5]:
            role = "efluential" if r["actor_id"] in efl_ids else "ordinary"
            f = forecast(model, [(valence, role)], runs=2_000, seed=0)
            lo, hi = f.simulation.interval(5, 95)
            mean = None if f.supercritical else f.simulation.mean
            rows.append({"actor_id": r["actor_id"], "handle": r.get("handle"), "stance": stance,
                         "valence": valence, "role": role, "expected_reach": mean, "p5": lo,
                         "p95": None if f.supercritical else hi, "survival": f.survival})
    return pa.Table.from_pylist(rows, schema=_FORECASTS) if rows else None


_FORECASTS = pa.schema([
    ("actor_id", pa.string()), ("handle", pa.string()), ("stance", pa.string()), ("valence", pa.string()),
    ("role", pa.string()), ("expected_reach", pa.float64()), ("p5", pa.float64()), ("p95", pa.float64()),
    ("survival", pa.float64()),
])


def cascade_set(result: CascadesResult, min_size: int = 1) -> CascadeSet:
    """The :class:`~whuffie.spread.cascades.CascadeSet` of a cascades result, without smaller cascades."""
    from whuffie.spread.cascades import CascadeSet

    summary = result["cascades"]
    cs = CascadeSet(result["cascade_nodes"], summary, list(result.summary.get("cycles") or []))
    if min_size <= 1:
        return cs
    return cs.select(summary.filter(pc.greater_equal(summary["size"], min_size))["cascade"].to_pylist())


def actor_ids(store: Store, names: Sequence[str] | str) -> list[str]:
    """Actor ids from ids or handles (``@`` optional, case-insensitive); the first actor per handle."""
    names = [n.strip() for n in (names.split(",") if isinstance(names, str) else names) if n.strip()]
    if not names:
        raise WhuffieError("give at least one actor (an actor id or a handle)")
    out = []
    for name in names:
        found = store.engine.actor_ids(name)
        if not found:
            raise WhuffieError(f"no actor {name!r} in {store.path}; give an actor id (platform:id) or a "
                               "handle (see 'whuffie influence')")
        out.append(found[0])
    return out


def diffusion_graph(store: Store, prob: str | float = "auto", valence: str | None = None,
                    spec: GraphSpec | None = None) -> tuple[DiffusionGraph, str, int | None]:
    """The diffusion graph of a store, how its probabilities were set, and the cascades run fitted on.

    With ``prob="auto"`` the probabilities are fitted per interaction kind on the store's cascades
    (:func:`cascades`, in the platforms and window of ``spec``); with a ``valence`` only on the
    cascades whose first message has that sentiment, since good and bad news need not travel alike.
    ``"wc"`` is the weighted cascade (1 / what the listener follows); a number is the probability of
    every edge. ``spec`` (all interactions by default) selects the graph word of mouth travels on.
    """
    from whuffie.spread.diffusion import DiffusionGraph, fit_ic

    spec = spec or GraphSpec()
    if prob not in ("auto", "wc"):
        try:
            value = float(prob)
        except (TypeError, ValueError):
            raise WhuffieError(f"prob {prob!r} is not auto, wc or a probability") from None
        if not 0 < value <= 1:
            raise WhuffieError(f"probability {value} is not in (0, 1]")
        graph = build_graph(store.engine, spec)
        return DiffusionGraph.from_graph(graph, value), f"p = {value} on every edge", None
    if valence and prob != "auto":
        raise WhuffieError("a valence needs probabilities fitted on the cascades (prob auto)")
    if prob == "auto":
        found = cascades(store, platforms=spec.platforms, since=spec.since, until=spec.until)
        cs = cascade_set(found, min_size=2)
        if valence:
            chosen = [r["cascade"] for r in cs.summary.select(["cascade", "valence"]).to_pylist()
                      if r["valence"] == valence]
            if not chosen:
                raise WhuffieError(f"no cascade in {store.path} starts with a {valence} message (run "
                                   "'whuffie voice' first, or leave out the valence)")
            cs = cs.select(chosen)
        if cs.nodes.num_rows:
            fit = fit_ic(cs.nodes, store.engine.interactions(
                spec, ["source", "target", "kind", "created_at", "weight"]))
            if any(fit.successes.values()):
                kinds = ", ".join(f"{k} {max(p, 0.0):.3g}" for k, p in sorted(fit.prob.items()))
                return (DiffusionGraph.from_edge_kinds(store.engine.edge_kinds(spec), spec,
                                                       prob_by_kind=fit.prob, default=0.0),
                        f"fitted per kind on {fit.cascades:,} {valence + ' ' if valence else ''}cascades "
                        f"({kinds})", found.run_id)
        if valence:
            raise WhuffieError(f"the {valence} cascades of {store.path} hold no reply, reshare or quote "
                               "along an interaction: nothing to fit; leave out the valence")
        return (DiffusionGraph.from_graph(build_graph(store.engine, spec)),
                "weighted cascade (1 / what the listener follows)", found.run_id)
    return DiffusionGraph.from_graph(build_graph(store.engine, spec)), \
        "weighted cascade (1 / what the listener follows)", None


def spread(store: Store, origin: Sequence[str] | str, spec: GraphSpec | None = None, *, model: str = "ic",
           valence: str | None = None, prob: str | float = "auto", runs: int = 10_000, seed: int = 0,
           top: int = 10, fresh: bool = False, **filters: Any) -> SpreadResult:
    """Forecast how far word of mouth travels from given people: expected reach, 5-95%, who is reached.

    Parameters
    ----------
    store : Store
        An open store.
    origin : sequence of str or str
        Who tells first: actor ids or handles.
    spec : GraphSpec, optional
        The interaction graph of the graph models; or the filter keywords (``kinds``, ``since``...).
    model : str
        ``ic`` or ``lt`` (on the interaction graph), ``fitted`` (the branching process fitted on the
        store's cascades) or a preset: ``traditional``, ``web``, ``efluential`` (rules of thumb).
    valence : str, optional
        The experience told (``positive``, ``negative``, ``neutral``; Twitter15's labels).
    prob : str or float
        Graph models: ``auto`` (fitted per kind on the cascades), ``wc`` or a probability.
    runs, seed : int
        Monte-Carlo runs and random seed.
    top : int
        How many of the most likely reached to keep.
    fresh : bool
        Compute again even when a saved run matches.

    Returns
    -------
    SpreadResult
        ``summary``: ``expected_reach``, ``p5``, ``p95``, ``hops_mean``, ``hops_max`` and how the
        model was set; table ``spread_reached``.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Records, Tie
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=[Tie("x:1", "x", "x:fan", "x:star", "mention")]))
    ...     r = store.spread("x:star", prob=1.0, runs=100)
    >>> r.summary["expected_reach"], r.to_arrow().to_pylist()
    (2.0, [{'actor_id': 'x:fan', 'share': 1.0}])
    """
    from whuffie.spread.branching import PRESETS

    if model not in (*GRAPH_MODELS, "fitted", *PRESETS):
        raise WhuffieError(f"{model!r} is not one of {', '.join((*GRAPH_MODELS, 'fitted', *PRESETS))}")
    spec = graph_spec(spec, **filters)
    actors = actor_ids(store, origin)
    efl, efl_run = latest(store, "efluentials", "efluentials")
    inputs: dict[str, Any] = {"efluentials": efl_run}

    if model in GRAPH_MODELS:
        from whuffie.spread.diffusion import simulate_ic, simulate_lt

        g, how, cascades_run = diffusion_graph(store, prob, valence, spec)
        inputs["cascades"] = cascades_run

        def compute():
            simulate = simulate_ic if model == "ic" else simulate_lt
            result = simulate(g, g.node_index(actors), runs=runs, seed=seed)
            lo, hi = result.interval(5, 95)
            reached = result.top_reached(top).select(["actor_id", "share"])
            return {"spread_reached": reached}, {
                "model": model, "probabilities": how, "from": actors, "runs": runs,
                "expected_reach": result.mean, "p5": lo, "p95": hi, "hops_mean": float(result.hops.mean()),
                "hops_max": int(result.hops.max())}
    else:
        fitted = (cascades(store, platforms=spec.platforms, since=spec.since, until=spec.until)
                  if model == "fitted" else None)
        inputs["cascades"] = fitted.run_id if fitted is not None else None

        def compute():
            nobody = pa.table({"actor_id": pa.array([], pa.string()), "share": pa.array([], pa.float64())})
            return {"spread_reached": nobody}, _branching_forecast(fitted, model, actors, valence, runs, seed,
                                                                   efl)

    params = {"from": actors, "model": model, "valence": valence, "prob": str(prob), "runs": runs,
              "seed": seed, "top": top, "graph": spec.as_dict()}
    return run(store, "spread", params, compute, cls=SpreadResult, inputs=inputs, fresh=fresh, seed=seed)


def _branching_forecast(fitted: CascadesResult | None, model: str, actors: list[str], valence: str | None,
                        runs: int, seed: int, efl: pa.Table | None) -> dict[str, Any]:
    from whuffie.spread.branching import BranchingModel, fit_branching, forecast

    if fitted is not None:
        cs = cascade_set(fitted)
        labelled = any(v is not None for v in cs.summary.column("label").to_pylist())
        valenced = any(v is not None for v in cs.summary.column("valence").to_pylist())
        by = "valence" if valenced or not labelled else "label"
        bm = fit_branching(cs, by=by)
    else:
        bm = BranchingModel.preset(model)
    valence = valence or ("positive" if "positive" in bm.valences else bm.valences[0])
    if valence not in bm.valences:
        raise WhuffieError(f"the {bm.name} model knows the valences {', '.join(bm.valences)}, "
                           f"not {valence!r}")
    efl_ids = set(efl.column("actor_id").to_pylist()) if efl is not None else set()
    roots = [(valence, "efluential" if a in efl_ids else "ordinary") for a in actors]
    f = forecast(bm, roots, runs=runs, seed=seed)
    sim = f.simulation
    lo, hi = sim.interval(5, 95)
    dies = sim.sizes[~sim.capped]
    out = {"model": bm.name, "note": bm.note or f"fitted by {bm.by}", "valence": valence,
           "from": actors, "roles": [r for _, r in roots], "runs": len(sim.sizes),
           "reproduction": f.reproduction, "supercritical": f.supercritical, "survival": f.survival}
    if f.supercritical:
        # No finite expected reach: say how likely it is to never die out, and what it reaches when it
        # does die out (early); the percentiles beyond the share that dies out are unbounded.
        dead = 1 - f.survival
        out.update({"expected_reach": None, "p5": lo if dead >= 0.05 else None,
                    "p95": hi if dead >= 0.95 else None,
                    "reach_if_it_dies_out": float(dies.mean()) if len(dies) else None,
                    "hops_mean": None, "hops_max": None})
    else:
        out.update({"expected_reach": sim.mean, "p5": lo, "p95": hi, "hops_mean": float(sim.depths.mean()),
                    "hops_max": int(sim.depths.max()), "capped_runs": int(sim.capped.sum()),
                    "cap": bm.max_size})
    return out


def seeds(store: Store, k: int = 20, spec: GraphSpec | None = None, *, epsilon: float = 0.5,
          model: str = "ic", prob: str | float = "auto", only_positive: bool = False, compare: bool = True,
          runs: int = 10_000, seed: int = 0, fresh: bool = False, **filters: Any) -> SeedsResult:
    """Whom to approach so that word of mouth spreads furthest: IMM against the usual heuristics.

    Parameters
    ----------
    store : Store
        An open store.
    k : int
        How many people to approach.
    spec : GraphSpec, optional
        The interaction graph word of mouth travels on; or the filter keywords (``kinds``...).
    epsilon : float
        IMM's epsilon: within ``1 - 1/e - epsilon`` of the best.
    model : {"ic", "lt"}
        The diffusion model.
    prob : str or float
        ``auto`` (fitted per kind on the cascades), ``wc`` or a probability.
    only_positive : bool
        Only actors who already spoke positively (mean sentiment above 0 in the newest voice run).
    compare : bool
        Compare with top degree, PageRank, coreness, the e-fluentials (and CELF on small graphs) by
        Monte-Carlo spread.
    runs, seed : int
        Monte-Carlo runs and random seed.
    fresh : bool
        Compute again even when a saved run matches.

    Returns
    -------
    SeedsResult
        Tables ``seed_set`` (the set to approach: the one the Monte-Carlo comparison finds best, or
        IMM's without ``compare``), ``seeds`` (IMM's, in order, with its estimate after each seed)
        and ``seed_comparison`` (every set, best first). ``summary``: ``recommended`` (the method),
        ``recommended_mean``, ``imm_mean`` (IMM's set in the same simulation), ``spread`` (IMM's own
        estimate), ``guarantee`` (IMM's bound, ``1 - 1/e - epsilon`` of the best), ``small_graph``
        (the graph is small enough for Monte-Carlo greedy, where the bound says little),
        ``probabilities``.

    Examples
    --------
    >>> import whuffie
    >>> from whuffie.model import Records, Tie
    >>> ties = [Tie(f"x:{i}", "x", f"x:f{i}", "x:star", "mention") for i in range(5)]
    >>> with whuffie.open(":memory:") as store:
    ...     _ = store.add(Records(ties=ties))
    ...     r = store.seeds(1, prob=1.0, runs=100)
    >>> r.to_arrow().column("actor_id").to_pylist(), r.summary["spread"], r.summary["recommended_mean"]
    (['x:star'], 6.0, 6.0)
    """
    from whuffie.spread.seeds import celf, compare_seeds, heuristic_seeds, imm

    if model not in GRAPH_MODELS:
        raise WhuffieError(f"{model!r} is not ic or lt")
    spec = graph_spec(spec, **filters)
    g, how, cascades_run = diffusion_graph(store, prob, spec=spec)
    efl, efl_run = latest(store, "efluentials", "efluentials")
    inputs: dict[str, Any] = {"cascades": cascades_run, "efluentials": efl_run if compare else None}
    voice_table = None
    if only_positive:
        from whuffie.api.voice import voice_input

        voice_table, inputs["voice"] = voice_input(store)

    def compute():
        from whuffie import arrowsql

        candidates = None
        if voice_table is not None:
            messages = store.engine.messages(["message_id", "actor_id"], ids=voice_table["message_id"])
            positive = arrowsql.query("SELECT m.actor_id FROM v JOIN m USING (message_id) "
                                      "GROUP BY m.actor_id HAVING avg(v.score) > 0",
                                      v=voice_table.select(["message_id", "score"]), m=messages)
            wanted = set(positive["actor_id"].to_pylist())
            candidates = [i for i, a in enumerate(g.nodes.tolist()) if a in wanted]
        phase("IMM")
        chosen = imm(g, k, epsilon=epsilon, seed=seed, candidates=candidates, model=model)
        tables = {"seed_set": None, "seeds": chosen.to_table()}
        if compare:
            graph = build_graph(store.engine, spec)
            sets = {"imm": chosen.seeds.tolist()}
            for name in ("degree", "pagerank", "coreness", "efluentials"):
                if name == "efluentials" and efl is None:
                    continue  # no e-fluentials run in this store: nothing to compare
                picked = heuristic_seeds(g, k, name, graph=graph, efluentials=efl, candidates=candidates)
                if len(picked):
                    sets[name] = list(picked)
            if g.n <= CELF_LIMIT:
                phase("CELF")
                sets["celf"] = celf(g, k, runs=min(runs, 1000), seed=seed, candidates=candidates,
                                    model=model).seeds.tolist()
            tables["seed_comparison"] = compare_seeds(g, k, sets, runs=runs, seed=seed, model=model)
        else:
            tables["seed_comparison"] = compare_seeds(g, k, {"imm": chosen.seeds.tolist()}, runs=runs,
                                                      seed=seed, model=model)
        rows = tables["seed_comparison"].to_pylist()
        # The set to approach is the one the simulation finds best: IMM's guarantee is a bound, the
        # same Monte-Carlo runs for every set are the measurement.
        best = rows[0]
        imm_row = next(r for r in rows if r["method"] == "imm")
        tables["seed_set"] = pa.table({
            "position": pa.array(range(1, len(best["seeds"]) + 1), pa.int64()),
            "actor_id": pa.array(best["seeds"], pa.string()),
            "method": pa.array([best["method"]] * len(best["seeds"]), pa.string())})
        guarantee = 1 - 1 / math.e - epsilon
        return tables, {"recommended": best["method"], "recommended_mean": best["mean"],
                        "recommended_p5": best["p5"], "recommended_p95": best["p95"],
                        "imm_mean": imm_row["mean"], "methods": len(rows), "spread": chosen.spread,
                        "guarantee": guarantee, "small_graph": g.n <= CELF_LIMIT, "nodes": g.n,
                        "probabilities": how, "runs": runs, "best": best["method"]}

    params = {"k": k, "epsilon": epsilon, "model": model, "prob": str(prob), "only_positive": only_positive,
              "compare": compare, "runs": runs, "graph": spec.as_dict()}
    return run(store, "seeds", params, compute, cls=SeedsResult, inputs=inputs, fresh=fresh, seed=seed)
