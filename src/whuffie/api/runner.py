"""Running an analysis as a run: reuse a saved one, or compute through the engine and save.

Every library call goes through :func:`run`: it fingerprints the request (analysis, parameters,
the runs it reads, what the store holds, the Whuffie version), returns the saved run with that
fingerprint when there is one (unless ``fresh``), and otherwise computes and saves a new run. A
store opened read-only is written only when it can be (``writable_on_demand``); otherwise the
result is returned unsaved, with a note.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa

from whuffie.api.result import Result
from whuffie.errors import WhuffieError
from whuffie.graph.build import GraphSpec
from whuffie.store import results

if TYPE_CHECKING:
    from whuffie.store.store import Store

R = TypeVar("R", bound=Result)

#: The graph filters every graph analysis takes as keyword arguments (see :class:`GraphSpec`).
GRAPH_FILTERS = ("kinds", "weights", "since", "until", "platforms", "min_weight")
#: The filters of analyses that read messages rather than the graph.
MESSAGE_FILTERS = ("since", "until", "platforms")


def as_time(value: Any, name: str) -> datetime | None:
    """A filter's time as a naive UTC datetime: a datetime, a date or an ISO 8601 string.

    Examples
    --------
    >>> as_time("2024-05-01", "since"), as_time(None, "until")
    (datetime.datetime(2024, 5, 1, 0, 0), None)
    >>> as_time("2024-05-01T12:00+02:00", "since")
    datetime.datetime(2024, 5, 1, 10, 0)
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise WhuffieError(f"{name} {value!r} is not a time: give an ISO 8601 date or date-time "
                               "(2024-05-01 or 2024-05-01T12:00)") from None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    raise WhuffieError(f"{name} {value!r} is not a time")


def _items(value: Any, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    items = tuple(str(v).strip() for v in value if str(v).strip())
    if not items:
        raise WhuffieError(f"{name} is empty; leave it out to keep everything")
    return items


def graph_spec(spec: GraphSpec | None = None, **filters: Any) -> GraphSpec:
    """The :class:`GraphSpec` of a call: ``spec`` itself, or one built from the filter keywords.

    Examples
    --------
    >>> graph_spec(kinds="reply,mention", since="2024-01-01").as_dict()["kinds"]
    ['mention', 'reply']
    >>> graph_spec(kind="reply")
    Traceback (most recent call last):
    ...
    whuffie.errors.WhuffieError: unknown filter(s) kind; the graph filters are kinds, weights, since, \
until, platforms, min_weight
    """
    unknown = sorted(set(filters) - set(GRAPH_FILTERS))
    if unknown:
        raise WhuffieError(f"unknown filter(s) {', '.join(unknown)}; the graph filters are "
                           f"{', '.join(GRAPH_FILTERS)}")
    if spec is not None:
        if any(v is not None for k, v in filters.items() if k != "min_weight") or filters.get("min_weight"):
            raise WhuffieError("give either spec or filter keywords, not both")
        return spec
    since, until = as_time(filters.get("since"), "since"), as_time(filters.get("until"), "until")
    if since and until and since >= until:
        raise WhuffieError(f"since {since} is not before until {until}")
    weights = filters.get("weights") or {}
    if not isinstance(weights, Mapping):
        raise WhuffieError("weights must map interaction kinds to numbers, e.g. {'vote': 0.2}; "
                           f"got {weights!r}")
    return GraphSpec(kinds=_items(filters.get("kinds"), "kinds"), weights=dict(weights), since=since,
                     until=until, platforms=_items(filters.get("platforms"), "platforms"),
                     min_weight=float(filters.get("min_weight") or 0.0))


def message_scope(**filters: Any) -> dict[str, Any]:
    """``platforms``, ``since`` and ``until`` of an analysis that reads messages.

    Examples
    --------
    >>> message_scope(since="2024-01-01")["since"]
    datetime.datetime(2024, 1, 1, 0, 0)
    >>> message_scope(kinds="reply")
    Traceback (most recent call last):
    ...
    whuffie.errors.WhuffieError: this analysis reads messages, not the graph: kinds do(es) not apply \
(it takes since, until, platforms)
    """
    unknown = sorted(set(filters) - set(MESSAGE_FILTERS))
    if unknown:
        raise WhuffieError(f"this analysis reads messages, not the graph: {', '.join(unknown)} do(es) not "
                           f"apply (it takes {', '.join(MESSAGE_FILTERS)})")
    since, until = as_time(filters.get("since"), "since"), as_time(filters.get("until"), "until")
    if since and until and since >= until:
        raise WhuffieError(f"since {since} is not before until {until}")
    return {"platforms": _items(filters.get("platforms"), "platforms"), "since": since, "until": until}


def scope_params(scope: Mapping[str, Any]) -> dict[str, Any]:
    """A message scope, JSON-ready (recorded with the run)."""
    return {"platforms": sorted(scope["platforms"]) if scope.get("platforms") else None,
            "since": scope["since"].isoformat() if scope.get("since") else None,
            "until": scope["until"].isoformat() if scope.get("until") else None}


def latest(store: Store, analysis: str, table: str) -> tuple[pa.Table | None, int | None]:
    """The newest run of ``analysis`` and its ``table``, or ``(None, None)`` when there is none."""
    run = results.latest_run(store, analysis)
    if run is None:
        return None, None
    try:
        return results.load(store, table, run), run
    except WhuffieError:
        return None, None


def run(
    store: Store,
    analysis: str,
    params: Mapping[str, Any],
    compute: Callable[[], tuple[Mapping[str, pa.Table], Mapping[str, Any]]],
    *,
    cls: type[R] = Result,
    inputs: Mapping[str, Any] | None = None,
    fresh: bool = False,
    seed: int | None = None,
    main: str = "",
) -> R:
    """Return the saved run of this request, or compute and save a new one.

    Parameters
    ----------
    store : Store
        The store.
    analysis : str
        What runs.
    params : mapping
        Every parameter that decides the result, JSON-ready.
    compute : callable
        Computes the result: returns ``(tables, summary)``.
    cls : type
        The :class:`Result` subclass to return.
    inputs : mapping, optional
        The runs whose results the computation reads, by analysis.
    fresh : bool
        Compute again even when a saved run matches.
    seed : int, optional
        The random seed, recorded with the run.
    main : str
        The result's main table.

    Returns
    -------
    Result
    """
    params, inputs = dict(params), dict(inputs or {})
    snap = results.snapshot(store)
    print_ = results.fingerprint(analysis, params, inputs, snap)
    if not fresh:
        found = results.find_run(store, analysis, print_)
        if found is not None:
            info = results.run_info(store, found)
            return cls(analysis, info["params"], results.run_tables(store, found), info["summary"] or {},
                       found, True, info["inputs"] or {}, main, store=store)
    started = time.perf_counter()
    tables, summary = compute()
    tables, summary = dict(tables), dict(summary)
    run_id, note = None, None
    if store.read_only and not store.make_writable():
        note = (f"not saved: {store.path} is open read-only" if not store.writable_on_demand
                else f"not saved: {store.path} is in use by another process")
    else:
        run_id = results.save_run(store, analysis, tables, params, seed, store.engine.name, started,
                                  inputs=inputs, summary=summary, snap=snap)
    return cls(analysis, params, tables, summary, run_id, False, inputs, main, note, store=store)
