"""The report's word-of-mouth section: the cascades that happened, the model fitted on them,
forecasts for the advocates and detractors, and whom to approach.

It shows the newest ``cascades`` run (``whuffie cascades``; ``whuffie demo`` runs it) and the newest
``seeds`` run (``whuffie seeds``), and is left out when the store holds neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from whuffie.report.html import Section, section, shown_by
from whuffie.store import results
from whuffie.store.store import Store

if TYPE_CHECKING:
    from whuffie.privacy.disclosure import Shown

_COLOURS = {"negative": "#d62728", "positive": "#2ca02c", "neutral": "#7f7f7f", "unknown": "#9467bd",
            "false": "#d62728", "true": "#2ca02c", "non-rumor": "#1f77b4", "unverified": "#ff7f0e"}
_MARGIN = dict(l=50, r=20, t=50, b=40)


def _ccdf(sizes: list[int]) -> tuple[list[int], list[float]]:
    """Share of cascades at least as large as each size."""
    values = np.sort(np.asarray(sizes))
    if not len(values):
        return [], []
    unique = np.unique(values)
    share = 1.0 - np.searchsorted(values, unique, side="left") / len(values)
    return unique.tolist(), share.tolist()


@section(order=60)
def word_of_mouth(store: Store, shown: Shown | None = None) -> Section | None:
    """Observed cascades against the fitted model, by valence; forecasts; the seed comparison."""
    summary = results.find(store, "cascades")
    comparison = results.find(store, "seed_comparison")
    if (summary is None or summary.num_rows == 0) and comparison is None:
        return None
    shown = shown_by(store, shown)
    s = Section("word-of-mouth", "How word of mouth travels")
    if summary is not None and summary.num_rows:
        rows = [r for r in summary.to_pylist() if r["size"] >= 2]
        sizes = sorted(r["size"] for r in rows)
        s.blocks.append(("cards", [
            ("cascades (2+ people)", len(rows)),
            ("largest", sizes[-1] if sizes else 0),
            ("median size", sizes[len(sizes) // 2] if sizes else 0),
            ("mean depth", round(sum(r["depth"] for r in rows) / len(rows), 2) if rows else 0),
            ("mean virality", round(sum(r["virality"] or 0 for r in rows) / len(rows), 2) if rows else 0),
        ]))
        s.blocks.append(("text", (
            "A cascade is a tree of replies, reshares and quotes (or an e-mail thread) grown from one "
            "message; its size counts the distinct people in it, its structural virality the average "
            "distance between two of them (1 for a broadcast, more for person-to-person chains).")))
        run = results.latest_run(store, "cascades")
        by = (results.run_info(store, run)["summary"] or {}).get("fitted_by") if run else None
        simulated = results.find(store, "cascade_simulated")
        key = "label" if by == "label" else "valence"
        fig = go.Figure()
        groups = sorted({r[key] or "unknown" for r in rows})
        for group in groups:
            x, y = _ccdf([r["size"] for r in rows if (r[key] or "unknown") == group])
            fig.add_trace(go.Scatter(x=x, y=y, mode="markers", name=f"{group}: observed",
                                     marker=dict(color=_COLOURS.get(group, "#4c78a8"), size=5)))
        if simulated is not None and simulated.num_rows:
            for group in sorted(set(simulated.column("valence").to_pylist())):
                x, y = _ccdf([r["size"] for r in simulated.to_pylist() if r["valence"] == group])
                fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=f"{group}: fitted model",
                                         line=dict(color=_COLOURS.get(group, "#4c78a8"), dash="dash")))
        fig.update_layout(title=f"Cascade sizes by {key}: observed and simulated from the fitted model",
                          xaxis_type="log", yaxis_type="log", xaxis_title="people in the cascade",
                          yaxis_title="share of cascades at least this large", height=380, margin=_MARGIN)
        s.blocks.append(("figure", fig))
        model = results.find(store, "branching_model")
        if model is not None and model.num_rows:
            s.blocks.append(("text", f"The branching model fitted on these cascades, by {key}: how many "
                                     "people each teller tells (mean, and the dispersion k: small k means "
                                     "a few tellers do all the telling) and how long they take."))
            s.blocks.append(("table", {
                "columns": [key, "role", "people told (relays)", "k", "people told (first teller)",
                            "median delay (min)", "tellers"],
                "rows": [{key: r["valence"], "role": r["role"],
                          "people told (relays)": round(r["offspring_mean"], 3),
                          "k": round(r["offspring_dispersion"], 3) if r["offspring_dispersion"] else None,
                          "people told (first teller)": round(r["root_offspring_mean"], 2),
                          "median delay (min)": round(r["delay_median_seconds"] / 60, 1)
                          if r["delay_median_seconds"] is not None else None,
                          "tellers": r["nodes"]} for r in model.to_pylist()],
            }))
        forecasts = results.find(store, "advocate_forecasts")
        if forecasts is not None and forecasts.num_rows:
            rows_f = forecasts.to_pylist()
            forecast_names = shown.labels([r["actor_id"] for r in rows_f])
            fig = go.Figure(go.Bar(
                x=[forecast_names.get(r["actor_id"]) or r["actor_id"] for r in rows_f],
                y=[r["expected_reach"] for r in rows_f],
                error_y=dict(type="data", symmetric=False,
                             array=[r["p95"] - r["expected_reach"] for r in rows_f],
                             arrayminus=[r["expected_reach"] - r["p5"] for r in rows_f]),
                marker_color=[_COLOURS[r["valence"]] for r in rows_f]))
            fig.update_layout(title="Forecast reach of the strongest detractors (red) and advocates (green), "
                                    "fitted model, 5-95%", height=340, margin=_MARGIN,
                              yaxis_title="people reached")
            s.blocks.append(("figure", fig))
    if comparison is not None and comparison.num_rows:
        run = results.latest_run(store, "seeds")
        info = results.run_info(store, run) if run else {}
        params = {**(info.get("params") or {}), **(info.get("summary") or {})}
        chosen = results.find(store, "seed_set")
        if chosen is not None and chosen.num_rows and "recommended" in params:
            ids = chosen.column("actor_id").to_pylist()
            names = shown.labels(ids, names=True)
            s.blocks.append(("text", (
                f"Whom to approach: {', '.join(names.get(a, a) for a in ids)}, the {params['recommended']} "
                f"set, which reaches {params['recommended_mean']:,.1f} people on average (IMM's set: "
                f"{params['imm_mean']:,.1f}), the most of the {params['methods']} sets of "
                f"{params.get('k', '')} compared by the same Monte-Carlo simulation "
                f"({params.get('model', 'ic')}, {params.get('probabilities', '')}): IMM's (within "
                "1 - 1/e - epsilon of the best, with high probability), CELF's on small graphs and the "
                "usual rules of thumb.")))
        else:  # a run saved before the recommended set existed
            s.blocks.append(("text", (
                f"Whom to approach: {params.get('k', '')} seeds chosen by IMM (within 1 - 1/e - epsilon of "
                "the best, with high probability) against the usual rules of thumb, each set's spread "
                f"measured by the same Monte-Carlo simulation ({params.get('model', 'ic')}, "
                f"{params.get('probabilities', '')}).")))
        rows_c = comparison.to_pylist()
        fig = go.Figure(go.Bar(
            x=[r["method"] for r in rows_c], y=[r["mean"] for r in rows_c], marker_color="#4c78a8",
            error_y=dict(type="data", symmetric=False, array=[r["p95"] - r["mean"] for r in rows_c],
                         arrayminus=[r["mean"] - r["p5"] for r in rows_c])))
        fig.update_layout(title="Expected people reached by each seed set (5-95%)", height=320,
                          margin=_MARGIN)
        s.blocks.append(("figure", fig))
    return s
