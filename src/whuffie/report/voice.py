"""The report's community-voice section: sentiment and concerns over time, what is rising, the inbox.

It shows the newest voice run (``whuffie voice``; ``whuffie demo`` runs it), the newest buzz run
(``whuffie buzz``) and the newest inbox run (``whuffie inbox --brand``), and is left out when the
store holds no voice run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.compute as pc

from whuffie import arrowsql
from whuffie.report.html import Section, actor_cell, section, shown_by, zero_filled
from whuffie.store import results
from whuffie.store.store import Store

if TYPE_CHECKING:
    from whuffie.privacy.disclosure import Shown

_SENTIMENT_COLOURS = {"negative": "#d62728", "neutral": "#bdbdbd", "positive": "#2ca02c"}


def _times(store: Store, voice: pa.Table) -> pa.Table:
    """The voice rows with their messages' times (undated messages left out, and times on a
    relative clock too when the store holds calendar dates)."""
    times = store.engine.messages(["message_id", "created_at"], ids=voice["message_id"], require=["time"])
    return arrowsql.query("SELECT v.message_id, v.sentiment, v.concerns, m.created_at FROM v "
                          "JOIN m USING (message_id)",
                          v=voice.select(["message_id", "sentiment", "concerns"]), m=times)


def _period(dated: pa.Table) -> str:
    """Weeks, or months when the messages span more than two years, or days under two months."""
    if dated.num_rows == 0:
        return "week"
    lo, hi = pc.min(dated["created_at"]).as_py(), pc.max(dated["created_at"]).as_py()
    days = (hi - lo).days
    return "month" if days > 730 else "day" if days < 60 else "week"


def _over_time(dated: pa.Table, period: str) -> tuple[list[dict], list[dict]]:
    feelings = arrowsql.query(f"""
        SELECT date_trunc('{period}', created_at) AS t, sentiment, count(*) AS n
          FROM d WHERE sentiment IS NOT NULL GROUP BY ALL ORDER BY t""", d=dated)
    concerns = arrowsql.query(f"""
        SELECT date_trunc('{period}', created_at) AS t, concern, count(*) AS n
          FROM (SELECT created_at, unnest(concerns) AS concern FROM d) GROUP BY ALL ORDER BY t""", d=dated)
    return ([{"t": r["t"], "sentiment": r["sentiment"], "n": r["n"]} for r in feelings.to_pylist()],
            [{"t": r["t"], "concern": r["concern"], "n": r["n"]} for r in concerns.to_pylist()])


@section(order=50)
def community_voice(store: Store, shown: Shown | None = None) -> Section | None:
    """Sentiment and concerns over time, the concerns' tone, bursts and the inbox."""
    voice = results.find(store, "voice_messages")
    if voice is None or voice.num_rows == 0:
        return None
    shown = shown_by(store, shown)
    from whuffie.voice.analysis import summarise

    s = Section("voice", "What the community says")
    info = summarise(voice)
    n = max(info["messages"], 1)
    read = max(info["read"], 1)
    langs = list(info["languages"].items())[:3]
    s.blocks.append(("cards", [
        ("messages", info["messages"]),
        ("with a sentiment", info["read"]),
        ("negative", f"{info['sentiment']['negative'] / read:.0%}"),
        ("positive", f"{info['sentiment']['positive'] / read:.0%}"),
        ("raise a concern", f"{sum(1 for c in voice.column('concerns').to_pylist() if c) / n:.0%}"),
        ("languages", ", ".join(f"{k} {v / n:.0%}" if v >= n / 100 else f"{k} ({v})" for k, v in langs)),
    ]))
    if info["unread"]:
        unread = ", ".join(f"{k} {v:,}" for k, v in list(info["unread_languages"].items())[:6])
        many = info["unread"] != 1
        s.blocks.append(("text", f"{info['unread']:,} message{'s are' if many else ' is'} in a language the "
                                 f"analyzer does not read ({unread}): no sentiment rather than a wrong one; "
                                 "the shares above are of the other messages."))
    analyzer = voice.column("analyzer_version")[0].as_py() if voice.num_rows else ""
    s.blocks.append(("text", (
        f"Sentiment by the '{voice.column('analyzer')[0].as_py()}' analyzer ({analyzer}); concerns from the "
        "bilingual concern lexicon (see 'whuffie concerns --lexicon'). Inbound first: these are the "
        "complaints to carry back into the organisation.")))
    dated = _times(store, voice)
    period = _period(dated)
    feelings, concerns = _over_time(dated, period)
    span = [(min(r["t"] for r in feelings), 0), (max(r["t"] for r in feelings), 0)] if feelings else []
    if feelings:
        fig = go.Figure()
        for label in ("negative", "neutral", "positive"):
            x, y = zero_filled(span + [(r["t"], r["n"]) for r in feelings if r["sentiment"] == label], period)
            fig.add_trace(go.Bar(x=x, y=y, name=label, marker_color=_SENTIMENT_COLOURS[label]))
        fig.update_layout(barmode="stack", title=f"Messages by sentiment, per {period}", height=340,
                          margin=dict(l=40, r=20, t=50, b=40))
        s.blocks.append(("figure", fig))
    top = list(info["concerns"])[:8]
    if concerns and top:
        fig = go.Figure()
        for concern in top:
            x, y = zero_filled(span + [(r["t"], r["n"]) for r in concerns if r["concern"] == concern], period)
            fig.add_trace(go.Scatter(x=x, y=y, name=concern, mode="lines"))
        fig.update_layout(title=f"Concerns raised, per {period}", height=340,
                          margin=dict(l=40, r=20, t=50, b=40))
        s.blocks.append(("figure", fig))
        from whuffie.voice.analysis import concern_summary
        from whuffie.voice.concerns import ConcernLexicon

        concerned = voice.filter(pc.greater(pc.list_value_length(voice["concerns"]), 0))
        messages = store.engine.messages(["message_id", "actor_id", "text", "title"],
                                         ids=concerned["message_id"])
        rows = concern_summary(voice, messages, ConcernLexicon.load(), examples=1)[:10]
        excerpts = shown.texts([r.get("excerpt") for r in rows])
        s.blocks.append(("text", "Each concern with the share of its messages that are negative and its "
                                 "most negative message:"))
        s.blocks.append(("table", {
            "columns": ["concern", "messages", "negative", "authors", "most negative message"],
            "rows": [{"concern": r["label"] or r["concern"], "messages": r["messages"],
                      "negative": f"{r['negative']:.0%}", "authors": r["authors"],
                      "most negative message": excerpt or ""}
                     for r, excerpt in zip(rows, excerpts, strict=True)],
        }))
    _buzz_blocks(store, s)
    _inbox_blocks(store, s, shown)
    _advocate_blocks(store, s, shown)
    return s


def _buzz_blocks(store: Store, s: Section) -> None:
    episodes = results.find(store, "buzz_episodes")
    volumes = results.find(store, "buzz_volumes")
    if episodes is None:
        return
    run = results.latest_run(store, "buzz")
    params = results.run_info(store, run)["params"] if run else {}
    episodes_rows = sorted(episodes.to_pylist(), key=lambda r: -(r.get("z") or 0))[:10]
    period = params.get("period", "day")
    s.blocks.append(("text", (
        f"Bursts of {params.get('dimension', 'tags')}s (per {period}): periods far "
        "above the key's own rolling baseline (robust z-score). "
        + ("None found." if not episodes_rows else "The strongest:"))))
    if not episodes_rows:
        return
    # A burst runs from the start of its first period to the end of its last: shown as days (hours
    # for hourly bursts), never as midnight timestamps.
    shown = "%Y-%m-%d %H:00" if period == "hour" else "%Y-%m-%d"
    rows = [{"key": r["key"], "from": r["start"].strftime(shown),
             "to": (_period_end(r["end"], period) - timedelta(seconds=1)).strftime(shown),
             "peak": r["peak"].strftime(shown), "periods": r["periods"], "messages": r["count"],
             "expected": round(r["expected"], 1), "z": round(r["z"], 1)} for r in episodes_rows]
    s.blocks.append(("table", {"columns": list(rows[0]), "rows": rows}))
    if volumes is not None and volumes.num_rows:
        keys = list(dict.fromkeys(r["key"] for r in rows))[:5]
        fig = go.Figure()
        for key in keys:
            pts = sorted((r for r in volumes.to_pylist() if r["key"] == key), key=lambda r: r["period_start"])
            fig.add_trace(go.Scatter(x=[r["period_start"] for r in pts], y=[r["count"] for r in pts],
                                     name=str(key), mode="lines"))
        fig.update_layout(title="Volume of the bursting keys", height=320,
                          margin=dict(l=40, r=20, t=50, b=40))
        s.blocks.append(("figure", fig))


def _period_end(start: datetime, period: str) -> datetime:
    """The first instant after the period starting at ``start``."""
    if period == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[period]


def _inbox_blocks(store: Store, s: Section, shown: Shown | None = None) -> None:
    inbound = results.find(store, "inbox_inbound")
    if inbound is None:
        return
    shown = shown_by(store, shown)
    run = results.latest_run(store, "inbox")
    params = results.run_info(store, run)["params"] if run else {}
    rows = inbound.to_pylist()
    answered = sum(1 for r in rows if r.get("answered"))
    waits = sorted(r["response_seconds"] for r in rows if r.get("response_seconds") is not None)
    brands = params.get("brands", [])
    # The brand's own accounts, named by the user, are not private individuals.
    brand_names = store.handles(brands, names=True)
    waiting = sorted((r for r in rows if not r.get("answered")), key=lambda r: -(r.get("priority") or 0))[:10]
    names = shown.labels([r["actor_id"] for r in waiting], names=True)
    s.blocks.append(("text", "The brand's inbox (from 'whuffie inbox --brand'): messages that reply to "
                             "or mention the brand's accounts, and whether the brand answered."))
    s.blocks.append(("cards", [
        ("brand", ", ".join(brand_names.get(b, b) for b in brands)),
        ("inbound messages", len(rows)),
        ("answered", f"{answered / len(rows):.0%}" if rows else "-"),
        ("median response", f"{waits[len(waits) // 2] / 3600:.1f} h" if waits else "-"),
    ]))
    if waiting:
        found = arrowsql.query("SELECT message_id, left(coalesce(text, title), 160) AS excerpt FROM m",
                               m=store.engine.messages(["message_id", "text", "title"],
                                                       ids=[r["message_id"] for r in waiting]))
        texts = dict(zip(found["message_id"].to_pylist(), shown.texts(found["excerpt"].to_pylist()),
                         strict=True))
        s.blocks.append(("text", "Who is waiting for an answer (most influential and most negative first):"))
        s.blocks.append(("table", {
            "columns": ["author", "when", "sentiment", "message"],
            "rows": [{**actor_cell("author", shown.actor(r["actor_id"]), names.get(r["actor_id"])),
                      "when": r.get("created_at"), "sentiment": r.get("sentiment"),
                      "message": texts.get(r["message_id"]) or ""} for r in waiting],
            "fold": 5,
        }))
    if waits:
        fig = go.Figure(go.Histogram(x=[w / 3600 for w in waits], marker_color="#4c78a8"))
        fig.update_layout(title="Response time (hours)", height=280, margin=dict(l=40, r=20, t=50, b=40))
        s.blocks.append(("figure", fig))


def _advocate_blocks(store: Store, s: Section, shown: Shown | None = None) -> None:
    table = results.find(store, "advocates")
    if table is None or table.num_rows == 0:
        return
    rows = [r for r in table.to_pylist() if r.get("stance") in ("advocate", "detractor")]
    if not rows:
        return
    shown = shown_by(store, shown)
    detractors = [r for r in rows if r["stance"] == "detractor"][:8]
    advocates = [r for r in rows if r["stance"] == "advocate"][:8]
    names = shown.labels([r["actor_id"] for r in detractors + advocates])
    s.blocks.append(("text", "Detractors whose voice carries furthest, then advocates (weighted by "
                             "influence and reach):"))
    s.blocks.append(("table", {
        "columns": ["stance", "who", "messages", "mean score", "reach"],
        "rows": [{"stance": r["stance"], **actor_cell("who", shown.actor(r["actor_id"]),
                                                      names.get(r["actor_id"])),
                  "messages": r["messages"], "mean score": round(r["mean_score"], 2),
                  "reach": r.get("reach")} for r in detractors + advocates],
    }))
