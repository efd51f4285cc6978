"""``whuffie voice``, ``concerns``, ``buzz``, ``inbox`` and ``advocates``: what the community says.

``whuffie voice`` runs the voice step (language, sentiment, concerns of every message) and
saves it; the other commands read the newest voice run, and run the step first when the
store has none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from whuffie.cli.common import (
    CsvOption,
    DbOption,
    FreshOption,
    JsonOption,
    NlOption,
    console,
    emit,
    err_console,
    noted,
    open_store,
    progress_console,
    reported_errors,
    working,
)
from whuffie.cli.graphopts import PlatformOption, SinceOption, UntilOption, split_list

if TYPE_CHECKING:
    import pyarrow as pa

    from whuffie.store.store import Store
    from whuffie.voice.analysis import VoiceParams

AnalyzerOption = Annotated[str, typer.Option(
    "--analyzer", help="Sentiment analyzer: lexicon (default, offline, English and French), vader "
                       "(plain VADER and its French port) or transformer (with --model).")]
ModelOption = Annotated[Path | None, typer.Option(
    "--model", help="Local folder of a transformers sentiment model (never downloaded).")]
ConcernsOption = Annotated[list[Path] | None, typer.Option(
    "--concerns", help="A YAML concern lexicon that adds concerns or words (repeatable).")]
TopOption = Annotated[int, typer.Option("--top", help="Rows to show.", min=1)]
BrandOption = Annotated[str, typer.Option(
    "--brand", help="The brand's accounts: handles or actor ids, comma-separated.")]


def voice_params(analyzer: str = "lexicon", model: Path | None = None, concerns: list[Path] | None = None,
                 platform: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, workers: int = 0) -> VoiceParams:
    """The voice step's parameters from command-line options, refusing bad ones."""
    from whuffie.voice.analysis import VoiceParams
    from whuffie.voice.sentiment import ANALYZERS

    if analyzer not in ANALYZERS:
        raise typer.BadParameter(f"{analyzer!r} is not an analyzer; choose one of "
                                 f"{', '.join(sorted(ANALYZERS))}", param_hint="--analyzer")
    if analyzer == "transformer" and model is None:
        raise typer.BadParameter("the transformer analyzer needs --model PATH", param_hint="--model")
    for path in concerns or ():
        if not path.is_file():
            raise typer.BadParameter(f"{path} does not exist", param_hint="--concerns")
    if since and until and since >= until:
        raise typer.BadParameter(f"--since {since} is not before --until {until}")
    return VoiceParams(analyzer=analyzer, model=str(model) if model else None,
                       concerns=tuple(str(p) for p in concerns or ()), platforms=split_list(platform) or (),
                       since=since, until=until, workers=workers)


@contextmanager
def voice_progress() -> Iterator[Callable[[int, int], None]]:
    """A progress bar for the voice step (on stderr: stdout may be JSON or CSV)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("Listening"), BarColumn(), MofNCompleteColumn(), TextColumn("messages"),
                  TimeRemainingColumn(), console=progress_console, transient=True) as bars:
        task = bars.add_task("voice", total=None)
        yield lambda done, total: bars.update(task, completed=done, total=total)


def voice_table(store: Store) -> tuple[pa.Table, int | None]:
    """The newest ``voice_messages`` result and its run, running the voice step first when there is none."""
    from whuffie.api.runner import latest

    table, run = latest(store, "voice", "voice_messages")
    if table is None:
        err_console.print("No voice run in this store yet: running 'whuffie voice' first.", markup=False)
        with voice_progress() as progress:
            result = noted(store.voice(progress=progress))
        return result.to_arrow(), result.run_id
    return table, run


def voice(
    db: DbOption = None,
    analyzer: AnalyzerOption = "lexicon",
    model: ModelOption = None,
    concerns: ConcernsOption = None,
    platform: PlatformOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    workers: Annotated[int, typer.Option(help="Processes (0: one per core).", min=0)] = 0,
    per_message: Annotated[bool, typer.Option(
        "--per-message", help="One row per message: language, sentiment, score, concerns.")] = False,
    top: TopOption = 20,
    fresh: FreshOption = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Language, sentiment (French, English) and concerns of every message; saved as a run."""
    with reported_errors():
        params = voice_params(analyzer, model, concerns, platform, since, until, workers)
        with open_store(db, analysis=True) as store:
            with voice_progress() as progress:
                result = noted(store.voice(params, progress=progress, fresh=fresh))
            run, table = result.run_id, result.to_arrow()
            if per_message:
                rows = _per_message_rows(store, table, None if (as_json or as_csv or as_nl) else top)
        if per_message:
            columns = ["message", "lang", "sentiment", "score", "concerns"]
            if not (as_json or as_csv or as_nl):
                columns = [*columns, "text"]
            emit(rows, columns, as_json=as_json, as_csv=as_csv, as_nl=as_nl,
                 title=f"Voice (run {run}), the first {len(rows):,} messages")
            return
        s = result.summary
        # Shares of sentiment are of the messages read; the others have no sentiment.
        rows = [{"what": "sentiment", "value": k, "messages": v,
                 "share": v / s["read"] if s["read"] else 0.0} for k, v in s["sentiment"].items()]
        if s["unread"]:
            rows.append({"what": "sentiment", "value": "none (language not read)", "messages": s["unread"],
                         "share": s["unread"] / s["messages"]})
        rows += [{"what": "language", "value": k, "messages": v, "share": v / s["messages"]}
                 for k, v in list(s["languages"].items())[:top]]
        rows += [{"what": "concern", "value": k, "messages": v, "share": v / s["messages"]}
                 for k, v in list(s["concerns"].items())[:top]]
        emit(rows, ["what", "value", "messages", "share"], as_json=as_json, as_csv=as_csv, as_nl=as_nl,
             title=f"Voice (run {run}): {s['messages']:,} messages")
        if not (as_json or as_csv or as_nl):
            if s["unread"]:
                langs = ", ".join(f"{k} {v:,}" for k, v in list(s["unread_languages"].items())[:5])
                console.print(f"{s['unread']:,} messages are in languages the '{params.analyzer}' analyzer "
                              f"does not read ({langs}): they have no sentiment, rather than a wrong one; "
                              "sentiment shares are of the other messages.", markup=False)
            console.print("Per message: whuffie voice --per-message --json; concerns: whuffie concerns; "
                          "what is rising: whuffie buzz", markup=False)


def _per_message_rows(store: Store, table: pa.Table, limit: int | None) -> list[dict[str, Any]]:
    rows = table.slice(0, limit).to_pylist() if limit else table.to_pylist()
    texts: dict[str, str] = {}
    if limit:
        found = store.engine.messages(["message_id", "text", "title"], ids=[r["message_id"] for r in rows])
        texts = {r["message_id"]: r["text"] if r["text"] is not None else r["title"]
                 for r in found.to_pylist()}
    return [{"message": r["message_id"], "lang": r["lang"], "sentiment": r["sentiment"],
             "score": None if r["score"] is None else round(float(r["score"]), 4),
             "concerns": list(r["concerns"] or []),
             "text": (texts.get(r["message_id"]) or "")[:120]} for r in rows]


def concerns(
    db: DbOption = None,
    examples: Annotated[int, typer.Option(help="Example messages per concern (most negative first).",
                                          min=0)] = 1,
    lexicon: Annotated[bool, typer.Option(
        "--lexicon", help="Print the concern lexicon (defaults plus --concerns files) and stop.")] = False,
    extra: ConcernsOption = None,
    fresh: FreshOption = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """The concerns people raise (environment, workers, health, price, service...), most voiced first.

    The lexicon is YAML: ``--lexicon`` prints it, ``--concerns FILE`` adds concerns or words (the
    voice step must then run again with the same ``--concerns``).
    """
    from whuffie.voice.concerns import ConcernLexicon

    with reported_errors():
        lex = ConcernLexicon.load(extra=[str(p) for p in extra or ()])
        if lexicon:
            if not (as_json or as_csv or as_nl):
                # YAML: the starting point of a user's own lexicon (whuffie concerns --lexicon > mine.yaml).
                typer.echo(lex.dump(), nl=False)
                return
            data = lex.to_dict()["concerns"]
            rows = [{"concern": cid, **{f"label_{k}": v for k, v in entry["label"].items()},
                     **{f"terms_{k}": v for k, v in entry["terms"].items()}}
                    for cid, entry in data.items()]
            emit(rows, list(rows[0]) if rows else ["concern"], as_json=as_json, as_csv=as_csv, as_nl=as_nl)
            return
        with open_store(db, analysis=True) as store:
            voice_table(store)
            with working("Counting the concerns"):
                rows = noted(store.concerns(extra=[str(p) for p in extra or ()], examples=examples,
                                            fresh=fresh)).to_arrow().to_pylist()
        emit(rows, ["concern", "label", "messages", "share", "negative", "mean_score", "authors",
                    "example", "excerpt"][: None if examples else 7],
             as_json=as_json, as_csv=as_csv, as_nl=as_nl, title="Concerns raised",
             empty="No message raises a concern of the lexicon.")


def buzz(
    db: DbOption = None,
    dimension: Annotated[str, typer.Option(
        "--by", help="What to track: tag, term, concern or niche.")] = "tag",
    period: Annotated[str, typer.Option(help="hour, day, week or month.")] = "day",
    baseline: Annotated[int, typer.Option(help="Periods of history in the rolling baseline.", min=3)] = 28,
    threshold: Annotated[float, typer.Option(help="Robust z-score from which a period bursts.")] = 3.5,
    min_count: Annotated[int, typer.Option(help="Fewest messages in a bursting period.", min=1)] = 5,
    recent: Annotated[int, typer.Option(help="'Rising now' = bursting in the last N periods.", min=1)] = 1,
    show_all: Annotated[bool, typer.Option("--all", help="Every burst episode, not only the rising.")
                        ] = False,
    examples: Annotated[int, typer.Option(help="Messages shown per rising key.", min=0)] = 3,
    top: TopOption = 20,
    fresh: FreshOption = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """What is rising now: bursts of tags, terms, concerns or niches against their own baseline."""
    if dimension not in ("tag", "term", "concern", "niche"):
        raise typer.BadParameter(f"{dimension!r} is not one of tag, term, concern, niche", param_hint="--by")
    if period not in ("hour", "day", "week", "month"):
        raise typer.BadParameter(f"{period!r} is not one of hour, day, week, month", param_hint="--period")
    with reported_errors():
        with open_store(db, analysis=True) as store:
            if dimension == "concern":
                voice_table(store)
            with working("Looking for bursts"):
                result = noted(store.buzz(dimension, period, baseline=baseline, threshold=threshold,
                                          min_count=min_count, recent=recent, fresh=fresh))
            run = result.run_id
            table = result["buzz_episodes"] if show_all else result["buzz_rising"]
            rows = table.to_pylist()[: None if (as_json or as_csv or as_nl) else top]
            if examples and not as_csv:
                for r in rows:
                    msgs = result.evidence(r["burst_id"]).slice(0, examples).to_pylist()
                    r["messages"] = [m["message_id"] for m in msgs]
                    first = store.engine.messages(["text"], ids=r["messages"][:1]).to_pylist()
                    r["example"] = (first[0]["text"] or "")[:100] if first else None
        columns = list(table.column_names)
        if examples and not as_csv:
            columns += ["example"] if not as_json else ["messages", "example"]
        if not (as_json or as_csv or as_nl):
            fmt = "%Y-%m-%d %H:00" if period == "hour" else "%Y-%m-%d"
            for r in rows:
                for c in ("start", "end"):
                    r[c] = r[c].strftime(fmt) if r.get(c) else None
            shown = ("key", "start", "end", "count", "expected", "z", "example")
            columns = [c for c in shown if c in columns]
        emit(rows, columns, as_json=as_json, as_csv=as_csv, as_nl=as_nl,
             title=f"{'Bursts' if show_all else 'Rising now'} by {dimension} (per {period}, run {run})",
             empty="No burst in this store at these settings." if show_all else
             "Nothing is rising: no burst in the last period (see --all for earlier bursts).")


def inbox(
    brand: BrandOption,
    db: DbOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    view: Annotated[str, typer.Option(
        "--show", help="unanswered (who is waiting for an answer), inbound, outbound or silent "
                       "(brand posts that started no conversation).")] = "unanswered",
    top: TopOption = 20,
    fresh: FreshOption = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """The brand's inbox: response rate and time, who is still waiting, posts that fell flat."""
    if view not in ("unanswered", "inbound", "outbound", "silent"):
        raise typer.BadParameter(f"{view!r} is not one of unanswered, inbound, outbound, silent",
                                 param_hint="--show")
    with reported_errors():
        with open_store(db, analysis=True) as store:
            voice_table(store)
            with working("Reading the inbox"):
                result = noted(store.inbox(split_list(brand) or (), since=since, until=until, fresh=fresh))
            brands = result.params["brands"]
            table = {"unanswered": result.unanswered, "inbound": result["inbox_inbound"],
                     "outbound": result["inbox_outbound"], "silent": result.silent}[view]
            rows = table.to_pylist()[: None if (as_json or as_csv or as_nl) else top]
            _add_text(store, rows)
        for r in rows:
            r["message"] = r.pop("message_id")
            if "actor_id" in r:
                r["actor"] = r.pop("actor_id")
        columns = ["message", *[c for c in table.column_names if c not in ("message_id", "actor_id")]]
        if "actor_id" in table.column_names:
            columns.insert(1, "actor")
        if not (as_json or as_csv or as_nl):
            columns = [c for c in columns if c in ("message", "actor", "created_at", "via", "sentiment",
                                                   "response_seconds", "priority", "replies", "reshares",
                                                   "likes", "conversation_rate")] + ["text"]
        emit(rows, columns + (["text"] if (as_json or as_csv or as_nl) else []),
             as_json=as_json, as_csv=as_csv, as_nl=as_nl,
             title=f"{view.capitalize()} ({', '.join(brands)})", empty=f"No {view} message.")
        if not (as_json or as_csv or as_nl):
            s = result.summary
            console.print(_inbox_line(s), markup=False)


def _inbox_line(s: dict[str, Any]) -> str:
    rate = s.get("response_rate")
    median = s.get("median_response_seconds")
    return (f"{s.get('inbound', 0):,} inbound messages, {s.get('answered', 0):,} answered"
            + (f" ({rate:.0%})" if rate is not None else "")
            + (f", median response {_duration(median)}" if median is not None else ""))


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"




def _add_text(store: Store, rows: list[dict[str, Any]]) -> None:
    ids = [r["message_id"] for r in rows if r.get("message_id")]
    found = store.engine.messages(["message_id", "text", "title"], ids=ids).to_pylist() if ids else []
    texts = {r["message_id"]: r["text"] if r["text"] is not None else r["title"] for r in found}
    for r in rows:
        r["text"] = (texts.get(r.get("message_id")) or "")[:140]


def advocates(
    db: DbOption = None,
    brand: Annotated[str | None, typer.Option(
        "--brand", help="Only messages to the brand (handles or actor ids, comma-separated).")] = None,
    topic: Annotated[str | None, typer.Option(
        "--topic", help="Only messages with these words or hashtags, comma-separated.")] = None,
    side: Annotated[str, typer.Option(help="both, advocates or detractors.")] = "both",
    min_messages: Annotated[int, typer.Option(help="Fewest messages about the brand/topic.", min=1)] = 2,
    top: TopOption = 20,
    fresh: FreshOption = False,
    as_json: JsonOption = False,
    as_nl: NlOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Advocates and detractors by influence and reach: the negative voices that carry furthest first."""
    if side not in ("both", "advocates", "detractors"):
        raise typer.BadParameter(f"{side!r} is not one of both, advocates, detractors", param_hint="--side")
    with reported_errors():
        with open_store(db, analysis=True) as store:
            voice_table(store)
            with working("Finding advocates and detractors"):
                table = noted(store.advocates(brands=split_list(brand), topic=split_list(topic),
                                              min_messages=min_messages, fresh=fresh)).to_arrow()
        rows = table.to_pylist()
        if side != "both":
            rows = [r for r in rows if r["stance"] == side[:-1]]
        else:
            rows = [r for r in rows if r["stance"] in ("advocate", "detractor")]
        rows = rows[: None if (as_json or as_csv or as_nl) else top]
        for r in rows:
            r["actor"] = r.pop("actor_id")
            r["evidence"] = list(r.get("evidence") or [])
        columns = ["actor", *[c for c in table.column_names if c != "actor_id"]]
        if not (as_json or as_csv or as_nl):
            columns = [c for c in columns if c in ("actor", "handle", "stance", "messages", "mean_score",
                                                   "consistency", "reach", "weight")]
        emit(rows, columns, as_json=as_json, as_csv=as_csv, as_nl=as_nl, title="Detractors and advocates",
             empty="No actor is consistently positive or negative here.")
