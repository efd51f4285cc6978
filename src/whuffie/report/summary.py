"""The report's first section: what the store holds and how it got there."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

from whuffie.report.html import Section, section
from whuffie.store.store import Store


@section(order=10)
def overview(store: Store) -> Section:
    """Counts per platform, interactions per kind, activity over time, most active actors."""
    st = store.status()
    s = Section("overview", "What the store holds")
    total_messages = sum(st["messages"].values())
    total_actors = sum(st["actors"].values())
    total_interactions = sum(st["interactions"].values())
    s.blocks.append(("cards", [
        ("messages", total_messages), ("actors", total_actors),
        ("interactions", total_interactions), ("ratings", st["ratings"]),
        ("imports", st["imports"]["total"]), ("quarantined", st["quarantined"]),
    ]))
    if st["span"]["first"]:
        s.blocks.append(("text", f"Messages from {st['span']['first'][:10]} to "
                                 f"{st['span']['last'][:10]} (UTC)."))
    platforms = sorted(set(st["messages"]) | set(st["actors"]))
    s.blocks.append(("table", {
        "columns": ["platform", "messages", "actors"],
        "rows": [{"platform": p, "messages": st["messages"].get(p, 0),
                  "actors": st["actors"].get(p, 0)} for p in platforms],
    }))
    kinds = {k: v for k, v in st["interactions"].items() if v}
    if kinds:
        fig = go.Figure(go.Bar(x=list(kinds), y=list(kinds.values()), marker_color="#4c78a8"))
        fig.update_layout(title="Interactions by kind (who pays attention to whom)",
                          height=320, margin=dict(l=40, r=20, t=50, b=40))
        s.blocks.append(("figure", fig))
    weekly = sorted(({"platform": r["platform"], "week": r["created_at"], "n": r["n"]}
                     for r in store.engine.message_counts(["platform"], unit="week").to_pylist()),
                    key=lambda r: (r["week"], r["platform"]))
    if weekly:
        fig = go.Figure()
        for p in sorted({r["platform"] for r in weekly}):
            rows = [r for r in weekly if r["platform"] == p]
            fig.add_trace(go.Scatter(x=[r["week"] for r in rows], y=[r["n"] for r in rows],
                                     mode="lines+markers", name=p))
        fig.update_layout(title="Messages per week", height=320,
                          margin=dict(l=40, r=20, t=50, b=40))
        s.blocks.append(("figure", fig))
    top = store.engine.top_authors(15).to_pylist()
    if top:
        s.blocks.append(("text", "Most active voices (messages written):"))
        s.blocks.append(("table", {"columns": ["actor", "handle", "messages"], "rows": top}))
    received = store.engine.top_recognised(15).to_pylist()
    if received:
        s.blocks.append(("text", "Who receives the most attention (distinct people who reply, "
                                 "mention, reshare, link, email, vote or rate):"))
        s.blocks.append(("table", {"columns": ["actor", "handle", "from_people", "received"],
                                   "rows": received}))
    return s


@section(order=90)
def provenance(store: Store) -> Section:
    """Every import and a summary of the quarantine."""
    s = Section("provenance", "Imports and quarantine")
    imports = store.imports()
    for row in imports:
        row["file"] = Path(row["path"]).name
    s.blocks.append(("table", {
        "columns": ["import_id", "file", "format", "status", "read", "stored", "duplicate",
                    "quarantined", "duration_s"],
        "rows": imports,
    }))
    reasons = store.quarantine_reasons(20)
    if reasons:
        s.blocks.append(("text", "Quarantined records by reason (see 'whuffie quarantine'):"))
        s.blocks.append(("table", {"columns": ["reason", "records", "example_file"],
                                   "rows": reasons}))
    else:
        s.blocks.append(("text", "No record was quarantined."))
    return s
