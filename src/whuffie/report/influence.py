"""The report's influence sections: who matters, the influence pyramid, the niches, the map.

Each section shows the newest stored run of its analysis (``whuffie demo`` runs them all; so do
``whuffie influence``, ``efluentials``, ``pyramid`` and ``niches``), and is left out when the store
holds none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from whuffie.report.html import Section, actor_cell, section, shown_by
from whuffie.store import results
from whuffie.store.store import Store

if TYPE_CHECKING:
    from whuffie.privacy.disclosure import Shown

LEVELS = ("amateur", "enthusiast", "wannabe", "expert")
#: Rows shown before a long list is folded away, and the most a section lists at all.
FOLD = 10
SHOWN = 100
_LEVEL_COLOURS = {"amateur": "#c6dbef", "enthusiast": "#6baed6", "wannabe": "#fd8d3c",
                  "expert": "#08519c"}


def _explanations(store: Store, shown: Shown, listed: list[dict]) -> dict[str, str]:
    """The explanation of each listed e-fluential, its recognisers named as the report names actors.

    The saved explanation names them by handle; it is rebuilt from the ``efluential_recognisers``
    rows of the same run (the strongest ``recognisers`` of each, as the run named them).
    """
    from whuffie.influence.efluentials import explanation

    run = results.latest_run(store, "efluentials")
    named = (results.run_info(store, run)["params"] or {}).get("recognisers", 5) if run else 5
    # The listed e-fluentials' named recognisers only (the table holds every recogniser of all).
    found = store.arrow(
        "SELECT actor_id, recogniser, recogniser_rank, weight FROM result_efluential_recognisers "
        "WHERE run_id = (SELECT max(run_id) FROM result_efluential_recognisers) AND position <= ? "
        "AND actor_id IN (SELECT unnest(?)) ORDER BY actor_id, position",
        [int(named), [r["actor_id"] for r in listed]])
    strongest: dict[str, list[dict]] = {}
    for r in found.to_pylist():
        strongest.setdefault(r["actor_id"], []).append(r)
    labels = shown.labels({r["recogniser"] for rs in strongest.values() for r in rs})
    return {row["actor_id"]: explanation(row, [
        (labels.get(r["recogniser"]) or r["recogniser"], r["recogniser_rank"], r["weight"])
        for r in strongest.get(row["actor_id"], [])]) for row in listed}


@section(order=20)
def who_matters(store: Store, shown: Shown | None = None) -> Section | None:
    """The e-fluentials, each with why: who recognises them and how recognised those are."""
    efl = results.find(store, "efluentials")
    if efl is None or efl.num_rows == 0:
        return None
    shown = shown_by(store, shown)
    rows = efl.sort_by("rank").to_pylist()
    listed = rows[:SHOWN]
    handles = shown.labels([r["actor_id"] for r in listed], names=True)
    explained = _explanations(store, shown, listed)
    s = Section("who-matters", "Who matters: the e-fluentials")
    s.blocks.append(("text", (
        f"The {len(rows):,} actors with the highest recursive influence (PageRank on who pays "
        "attention to whom): not the loudest, but those recognised by people who are themselves "
        "recognised. The explanation says who recognises them; hover a name for the actor's id."
        + (f" The first {SHOWN} are listed; all of them: whuffie efluentials --csv." if len(rows) > SHOWN
           else ""))))
    s.blocks.append(("table", {
        "columns": ["rank", "who", "recognisers", "of them e-fluentials", "explanation"],
        "rows": [{"rank": r["rank"], **actor_cell("who", shown.actor(r["actor_id"]),
                                                  handles.get(r["actor_id"])),
                  "recognisers": r.get("recognisers"),
                  "of them e-fluentials": r.get("efluential_recognisers"),
                  "explanation": explained[r["actor_id"]]} for r in listed],
        "fold": FOLD,
    }))
    return s


@section(order=30)
def influence_pyramid(store: Store, shown: Shown | None = None) -> Section | None:
    """Level counts per window and the migration between the last two windows."""
    counts = results.find(store, "pyramid_counts")
    if counts is None or counts.num_rows == 0:
        return None
    rows = counts.sort_by("window_start").to_pylist()
    s = Section("pyramid", "The influence pyramid")
    s.blocks.append(("text", (
        "Amateurs write once and are barely noticed; enthusiasts take part regularly or get some "
        "recognition; wannabes are among the most active but not yet recognised; experts are "
        "among the most recognised. Levels are computed per window from the messages written and "
        "the attention received in it.")))
    fig = go.Figure()
    for level in LEVELS:
        fig.add_trace(go.Bar(x=[r["window_start"] for r in rows], y=[r.get(level, 0) for r in rows],
                             name=level, marker_color=_LEVEL_COLOURS[level]))
    fig.update_layout(barmode="stack", title="Participants by level, per window", height=340,
                      margin=dict(l=40, r=20, t=50, b=40))
    s.blocks.append(("figure", fig))
    migration = results.find(store, "pyramid_migration")
    if migration is not None and migration.num_rows:
        last = max(migration.column("window_start").to_pylist())
        cells = [c for c in migration.to_pylist() if c["window_start"] == last]
        sources = [lvl for lvl in ("new", *LEVELS) if any(c["from_level"] == lvl for c in cells)]
        targets = [lvl for lvl in (*LEVELS, "left") if any(c["to_level"] == lvl for c in cells)]
        grid = {(c["from_level"], c["to_level"]): c["actors"] for c in cells}
        s.blocks.append(("text", f"Migration into the window starting {last:%Y-%m-%d} "
                                 "(rows: level before; columns: level now):"))
        s.blocks.append(("table", {
            "columns": ["from", *targets],
            "rows": [{"from": src, **{t: grid.get((src, t), 0) for t in targets}} for src in sources],
        }))
    return s


@section(order=40)
def niches(store: Store, shown: Shown | None = None) -> Section | None:
    """The niches of the long tail: who speaks in each, about what, and who bridges them."""
    table = results.find(store, "niches")
    if table is None or table.num_rows == 0:
        return None
    shown = shown_by(store, shown)
    rows = table.sort_by("niche").to_pylist()
    voices = sorted({v for r in rows[:20] for v in (r.get("top_voices") or [])[:3]})
    handles = shown.labels(voices, names=True)
    s = Section("niches", "Niches: the long tail")
    summary = results.find(store, "niche_summary")
    if summary is not None and summary.num_rows:
        info = summary.to_pylist()[0]
        s.blocks.append(("cards", [
            ("niches", info["niches"]), ("actors", info["actors"]),
            ("modularity", round(info["modularity"], 3) if info["modularity"] is not None else None),
            ("largest niche", f"{info['largest_share']:.0%} of actors"),
            ("niches under 5 members", f"{info['small_share']:.0%}"),
        ]))
    s.blocks.append(("table", {
        "fold": FOLD,
        "columns": ["niche", "size", "attention", "voices", "tags", "terms", "sites"],
        "rows": [{
            "niche": r["niche"], "size": r["size"],
            "attention": f"{r['attention_share']:.0%}",
            "voices": ", ".join(handles.get(v, v) for v in (r.get("top_voices") or [])[:3]),
            "tags": ", ".join((r.get("top_tags") or [])[:4]),
            "terms": ", ".join((r.get("top_terms") or [])[:4]),
            "sites": ", ".join((r.get("top_domains") or [])[:3]),
        } for r in rows[:20]],
    }))
    sizes = sorted((r["size"] for r in rows), reverse=True)
    if len(sizes) > 1:
        fig = go.Figure(go.Scatter(x=list(range(1, len(sizes) + 1)), y=sizes, mode="lines+markers",
                                   marker_color="#4c78a8"))
        fig.update_layout(title="Niche sizes by rank (the long tail)", height=320,
                          xaxis_title="niche rank", yaxis_title="members",
                          xaxis_type="log" if len(sizes) > 20 else "linear",
                          yaxis_type="log" if sizes[0] > 50 * max(sizes[-1], 1) else "linear",
                          margin=dict(l=50, r=20, t=50, b=40))
        s.blocks.append(("figure", fig))
    members = results.find(store, "memberships")
    if members is not None and members.num_rows:
        # Brokers first (betweenness), then how evenly their attention spreads over niches. An actor
        # no shortest path goes through (betweenness 0: a web page many niches link to, someone who
        # is only talked about) spreads nothing from one niche to another: not a bridge.
        rows = members.to_pylist()
        measured = any(m.get("betweenness") is not None for m in rows)
        best = sorted((m for m in rows if (m.get("participation") or 0) > 0
                       and (not measured or (m.get("betweenness") or 0) > 0)),
                      key=lambda m: (-(m.get("betweenness") or 0), -(m["participation"] or 0)))[:10]
        names = shown.labels([m["actor_id"] for m in best], names=True)
        s.blocks.append(("text", "The bridges: actors whose attention is spread over several niches "
                                 "(participation coefficient), with their betweenness:"))
        s.blocks.append(("table", {
            "columns": ["who", "niche", "participation", "betweenness"],
            "rows": [{**actor_cell("who", shown.actor(m["actor_id"]), names.get(m["actor_id"])),
                      "niche": m["niche"], "participation": m["participation"],
                      "betweenness": m.get("betweenness")} for m in best],
        }))
    return s
