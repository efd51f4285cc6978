"""The report's first section: what the store holds and how it got there."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from whuffie.report.html import Section, actor_cell, section, shown_by, zero_filled
from whuffie.store import results
from whuffie.store.store import Store

if TYPE_CHECKING:
    from whuffie.privacy.disclosure import Shown


@section(order=10)
def overview(store: Store, shown: Shown | None = None) -> Section:
    """Counts per platform, interactions per kind, activity over time, most active actors."""
    shown = shown_by(store, shown)
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
    relative = st["span"].get("relative", 0)
    on_clock = (f"{relative:,} message{'s' if relative != 1 else ''} from exports whose times count on "
                "a clock of their own (seconds from an arbitrary start, as the coordination-network "
                "toolkit's CSV allows)")
    if st["span"]["first"]:
        s.blocks.append(("text", f"Messages from {st['span']['first'][:10]} to "
                                 f"{st['span']['last'][:10]} (UTC)."
                         + (f" Not counted in these dates: {on_clock}." if relative else "")))
    elif relative:
        s.blocks.append(("text", f"No message has a calendar date: {on_clock}. The chart below counts "
                                 "weeks of that clock, shown from 1970-01-01."))
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
        span = [(min(r["week"] for r in weekly), 0), (max(r["week"] for r in weekly), 0)]
        for p in sorted({r["platform"] for r in weekly}):
            # Zero-filled over the whole span: a silent week is a 0, not a line drawn across it.
            x, y = zero_filled(span + [(r["week"], r["n"]) for r in weekly if r["platform"] == p], "week")
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=p))
        fig.update_layout(title="Messages per week", height=320,
                          margin=dict(l=40, r=20, t=50, b=40))
        s.blocks.append(("figure", fig))
    top = store.engine.top_authors(15).to_pylist()
    received = store.engine.top_recognised(15).to_pylist()
    names = shown.labels([r["actor"] for r in top + received])
    if top:
        s.blocks.append(("text", "Most active voices (messages written; hover a name for the actor's id):"))
        s.blocks.append(("table", {"columns": ["who", "messages"], "fold": 5, "rows": [
            {**actor_cell("who", shown.actor(r["actor"]), names.get(r["actor"])), "messages": r["messages"]}
            for r in top]}))
    if received:
        s.blocks.append(("text", "Who receives the most attention (distinct people who reply, "
                                 "mention, reshare, link, email, vote or rate):"))
        s.blocks.append(("table", {"columns": ["who", "from_people", "received"], "fold": 5, "rows": [
            {**actor_cell("who", shown.actor(r["actor"]), names.get(r["actor"])),
             "from_people": r["from_people"],
             "received": r["received"]} for r in received]}))
    return s


#: Each analysis the report shows: (result it reads, what is missing without it, how to get it,
#: what data it needs: "graph" for interactions, "text" for messages).
ANALYSES = (
    ("efluentials", "who matters (the e-fluentials)", "whuffie efluentials", "graph"),
    ("pyramid_counts", "the influence pyramid", "whuffie pyramid", "graph"),
    ("niches", "the niches", "whuffie niches", "graph"),
    ("voice_messages", "what the community says (sentiment, concerns)", "whuffie voice", "text"),
    ("buzz_episodes", "what is rising (bursts)", "whuffie buzz --by term --period week", "text"),
    ("advocates", "advocates and detractors", "whuffie advocates", "text"),
    ("inbox_inbound", "the brand's inbox", "whuffie inbox --brand HANDLE", "text"),
    ("cascades", "the cascades of word of mouth", "whuffie cascades", "text"),
    ("seed_comparison", "whom to approach", "whuffie seeds", "graph"),
)


@section(order=12)
def missing(store: Store, shown: Shown | None = None) -> Section | None:
    """What the report cannot show yet, and the command that adds it."""
    st = store.status()
    has = {"graph": sum(st["interactions"].values()) > 0, "text": sum(st["messages"].values()) > 0}
    todo = [(what, f"{command} --db {store.path}") for name, what, command, needs in ANALYSES
            if has[needs] and results.find(store, name) is None]
    if not todo:
        return None
    s = Section("missing", "Not in this report yet")
    s.blocks.append(("text", "The report shows the analyses saved in the store. These have not been "
                             "run on it; each command below adds one, and "
                             f"'whuffie analyze --db {store.path}' runs them all "
                             "(the brand's inbox needs the brand's accounts):"))
    s.blocks.append(("todo", todo))
    return s


@section(order=90)
def provenance(store: Store, shown: Shown | None = None) -> Section:
    """Every import and a summary of the quarantine."""
    s = Section("provenance", "Imports and quarantine")
    imports = store.imports()
    for row in imports:
        row["file"] = Path(row["path"]).name
        row["file@title"] = row["path"]
    if len(imports) > 10:
        per_format: dict[str, dict] = {}
        for row in imports:
            f = per_format.setdefault(row["format"], {"format": row["format"], "files": 0, "read": 0,
                                                      "stored": 0, "duplicate": 0, "quarantined": 0})
            f["files"] += 1
            for key in ("read", "stored", "duplicate", "quarantined"):
                f[key] += row[key] or 0
        s.blocks.append(("text", f"{len(imports):,} files imported, by format:"))
        s.blocks.append(("table", {
            "columns": ["format", "files", "read", "stored", "duplicate", "quarantined"],
            "rows": sorted(per_format.values(), key=lambda r: -r["files"])}))
    s.blocks.append(("table", {
        "columns": ["import_id", "file", "format", "status", "read", "stored", "duplicate",
                    "quarantined", "duration_s"],
        "rows": imports,
        "fold": 10,
    }))
    reasons = store.quarantine_reasons(20)
    if reasons:
        s.blocks.append(("text", "Quarantined records by reason (see 'whuffie quarantine'):"))
        s.blocks.append(("table", {"columns": ["reason", "records", "example_file"],
                                   "rows": reasons}))
    else:
        s.blocks.append(("text", "No record was quarantined."))
    return s
