"""The influence pyramid: amateur -> enthusiast -> wannabe -> expert, window by window.

Members of a community do not all play the same part, and they change parts
over time. For every time window (a UTC week or month) each participant gets
one level from two numbers measured in that window only: **activity**, the
messages they wrote, and **recognition**, the weighted attention they received
(replies, mentions, reshares, votes... with the kind weights of the graph).
Levels are then followed from one window to the next: who came, who left, who
climbed.

The levels, from the top
------------------------
``expert``
    Recognised more than almost anyone: among the top ``expert_share`` (10%)
    of the window's recognised actors (recognition > 0) by recognition, and
    with at least ``min_expert_recognition`` (2: one reply or two votes never
    make an expert, however quiet the window). Activity does not matter: an
    expert may write little and be answered a lot.
``wannabe``
    Not an expert, but among the most active: in the top ``active_share``
    (25%) by activity of the window's *regulars*, the actors who wrote at least
    ``min_activity`` (2) messages. Seeking attention, not (yet) recognised at
    the expert level.
``enthusiast``
    Neither of the above, but taking part beyond a single pass: at least
    ``min_activity`` messages, or at least ``min_recognition`` (1: one reply
    or mention received, or two votes).
``amateur``
    Every other participant: one message and less recognition than that, or a
    stray vote received without writing.

A participant of a window is an actor who wrote a message in it or received
attention in it; everyone else is absent from that window.

Why these rules
---------------
- *Top shares, not fixed numbers*, because a busy week of a large forum and a
  quiet month of a small one differ by orders of magnitude; each window is
  judged against itself. "The top share" of ``n`` actors is the
  ``floor(share * n)`` first (at least one), as for the e-fluentials, and
  actors *tied* with the last one are in too: two members who received exactly
  the same attention are given the same level rather than one picked by id.
  With heavy ties at the top a level can therefore hold more than its share.
- *The wannabe cut is taken among regulars, not among everyone who wrote*:
  most participants of a community post once (64-69% of the authors of each
  week of the Reddit dump of December 2005, 29-60% in each month of the Stack
  Exchange meta dump with ten writers or more), so the 75th percentile of activity among all
  writers is 2 messages in every Reddit week, the floor of enthusiasm itself,
  and every regular would be called a wannabe (15, 56 and 98 actors). Among
  regulars the top quarter starts at 3 to 5 messages (4, 28 and 31 actors).
- *A floor for experts*: in a window where a handful of people got one reply
  each, the "top 10%" is a tie at one reply, and one reply is chance.
- *Recognition is weighted*, with the weights of
  :data:`~whuffie.graph.build.DEFAULT_KIND_WEIGHTS`, negative ratings and
  self-attention left out, exactly as in the attention graph.

Every threshold is a :class:`PyramidParams` field, recorded with the run, and
the cuts each window used (``wannabe_cut``, ``expert_cut``) are kept with the
levels so that any actor's level can be checked by hand.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whuffie.errors import WhuffieError

#: The levels, from the bottom of the pyramid to the top.
LEVELS = ("amateur", "enthusiast", "wannabe", "expert")
#: Where a migration can come from ("new": absent from the previous window) and go to.
FROM_LEVELS = ("new", *LEVELS)
TO_LEVELS = (*LEVELS, "left")
#: Kinds of move between consecutive windows.
MOVES = ("up", "down", "new", "left")
#: Window units.
UNITS = ("week", "month")


@dataclass(frozen=True)
class PyramidParams:
    """The thresholds of the pyramid (see the module documentation for the reasoning).

    Parameters
    ----------
    expert_share : float
        Share of the window's recognised actors that are experts, by recognition.
    active_share : float
        Share of the window's regulars that are wannabes (or experts), by activity.
    min_activity : int
        Messages that make a regular (an enthusiast at least).
    min_recognition : float
        Recognition that makes an enthusiast at least.
    min_expert_recognition : float
        Recognition below which no one is an expert.
    """

    expert_share: float = 0.10
    active_share: float = 0.25
    min_activity: int = 2
    min_recognition: float = 1.0
    min_expert_recognition: float = 2.0

    def __post_init__(self) -> None:
        for name in ("expert_share", "active_share"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise WhuffieError(f"{name} must be in (0, 1], got {value}")
        if self.min_activity < 1:
            raise WhuffieError(f"min_activity must be at least 1, got {self.min_activity}")
        if self.min_recognition < 0 or self.min_expert_recognition < 0:
            raise WhuffieError("minimum recognitions must be >= 0")

    def as_dict(self) -> dict:
        """The parameters, JSON-ready."""
        return {"expert_share": self.expert_share, "active_share": self.active_share,
                "min_activity": self.min_activity, "min_recognition": self.min_recognition,
                "min_expert_recognition": self.min_expert_recognition}


class Pyramid(NamedTuple):
    """The result of :func:`pyramid`.

    Attributes
    ----------
    counts : pyarrow.Table
        One row per window: ``window_start``, ``previous_start``,
        ``participants``, the count of each level, ``new``, ``left``, ``up``,
        ``down`` (moves from the previous window; null for the first) and the
        cuts used, ``wannabe_cut`` and ``expert_cut`` (null for a window
        without regulars or recognised actors, or levels that do not carry them).
    migration : pyarrow.Table
        For every pair of consecutive windows, every cell of the migration
        matrix: ``window_start``, ``previous_start``, ``from_level`` (a level or
        ``new``), ``to_level`` (a level or ``left``), ``actors``.
    moves : pyarrow.Table
        Every actor whose level changed between consecutive windows:
        ``window_start``, ``previous_start``, ``actor_id``, ``from_level``,
        ``to_level``, ``move`` (``up``, ``down``, ``new`` or ``left``).
    """

    counts: pa.Table
    migration: pa.Table
    moves: pa.Table


def top_cut(values: np.ndarray, share: float) -> float | None:
    """The value an actor must reach to be in the top ``share`` of ``values``.

    The ``floor(share * n)``-th largest value (at least the largest); ``None``
    for no values. Everyone at or above it is in, ties included.

    Examples
    --------
    >>> top_cut(np.array([1, 1, 2, 5, 3, 1, 1, 1, 4, 2, 2, 6]), 0.25)
    4.0
    >>> top_cut(np.array([2.0, 2.0, 1.0]), 0.10), top_cut(np.array([]), 0.1)
    (2.0, None)
    """
    n = len(values)
    if n == 0:
        return None
    k = max(1, math.floor(round(share * n, 9)))
    return float(np.partition(np.asarray(values, dtype=np.float64), n - k)[n - k])


def pyramid_levels(windows: pa.Table, params: PyramidParams | None = None) -> pa.Table:
    """The level of every participant of every window.

    Parameters
    ----------
    windows : pyarrow.Table
        One row per (window, actor): ``window_start`` (timestamp), ``actor_id``,
        ``activity`` (messages written in the window) and ``recognition``
        (weighted attention received in it). Rows with neither are ignored.
    params : PyramidParams, optional

    Returns
    -------
    pyarrow.Table
        ``window_start``, ``actor_id``, ``activity``, ``recognition``, ``level``
        and the window's ``wannabe_cut`` and ``expert_cut`` (null when the
        window has no regular, or no one recognised), sorted by window, level
        from the top, recognition, activity and actor.

    Examples
    --------
    >>> from datetime import datetime
    >>> w = datetime(2024, 1, 1)
    >>> t = pa.table({"window_start": [w] * 5, "actor_id": ["a", "b", "c", "d", "e"],
    ...               "activity": [1, 9, 3, 1, 2], "recognition": [6.0, 0.0, 1.0, 0.0, 0.0]})
    >>> levels = pyramid_levels(t)
    >>> dict(zip(levels.column("actor_id").to_pylist(), levels.column("level").to_pylist()))
    {'a': 'expert', 'b': 'wannabe', 'c': 'enthusiast', 'e': 'enthusiast', 'd': 'amateur'}
    """
    params = params or PyramidParams()
    missing = {"window_start", "actor_id", "activity", "recognition"} - set(windows.column_names)
    if missing:
        raise WhuffieError(f"the window table lacks column(s) {', '.join(sorted(missing))}")
    activity_all = windows.column("activity").to_numpy(zero_copy_only=False)
    recognition_all = windows.column("recognition").to_numpy(zero_copy_only=False)
    present = (np.nan_to_num(activity_all) > 0) | (np.nan_to_num(recognition_all) > 0)
    data = windows.filter(pa.array(present)).select(
        ["window_start", "actor_id", "activity", "recognition"]).sort_by(
        [("window_start", "ascending"), ("actor_id", "ascending")])
    starts = data.column("window_start").to_numpy()
    _refuse_duplicates(starts, data.column("actor_id"))
    act = np.nan_to_num(data.column("activity").to_numpy(zero_copy_only=False)).astype(np.int64)
    rec = np.nan_to_num(data.column("recognition").to_numpy(zero_copy_only=False)).astype(np.float64)

    level = np.zeros(len(act), dtype=np.int64)
    wannabe_cut = np.full(len(act), np.nan)
    expert_cut = np.full(len(act), np.nan)
    bounds = np.r_[0, np.flatnonzero(starts[1:] != starts[:-1]) + 1, len(act)] if len(act) else [0]
    for lo, hi in itertools.pairwise(bounds):
        a, r = act[lo:hi], rec[lo:hi]
        wcut = top_cut(a[a >= params.min_activity], params.active_share)
        ecut = top_cut(r[r > 0], params.expert_share)
        expert = (r >= ecut) & (r >= params.min_expert_recognition) if ecut is not None \
            else np.zeros(len(a), dtype=bool)
        wannabe = ~expert & (a >= wcut) if wcut is not None else np.zeros(len(a), dtype=bool)
        enthusiast = ~expert & ~wannabe & ((a >= params.min_activity) | (r >= params.min_recognition))
        level[lo:hi] = np.select([expert, wannabe, enthusiast], [3, 2, 1], 0)
        wannabe_cut[lo:hi] = np.nan if wcut is None else wcut
        expert_cut[lo:hi] = np.nan if ecut is None else ecut

    out = pa.table({
        "window_start": data.column("window_start"),
        "actor_id": data.column("actor_id"),
        "activity": pa.array(act, pa.int64()),
        "recognition": pa.array(rec, pa.float64()),
        "level": pa.array(LEVELS, pa.string()).take(pa.array(level)),
        "wannabe_cut": pa.array(wannabe_cut, pa.float64(), mask=np.isnan(wannabe_cut)),
        "expert_cut": pa.array(expert_cut, pa.float64(), mask=np.isnan(expert_cut)),
        "_order": pa.array(-level),
    })
    return out.sort_by([("window_start", "ascending"), ("_order", "ascending"),
                        ("recognition", "descending"), ("activity", "descending"),
                        ("actor_id", "ascending")]).drop_columns(["_order"])


def pyramid(levels: pa.Table, windows: Sequence[datetime] | None = None) -> Pyramid:
    """Level counts per window and migrations between consecutive windows.

    Parameters
    ----------
    levels : pyarrow.Table
        At least ``window_start``, ``actor_id`` and ``level``, one row per
        participant of a window (:func:`pyramid_levels`).
    windows : sequence of datetime, optional
        Every window in order, empty ones included (see :func:`window_starts`);
        by default the windows of ``levels``. Consecutive means consecutive in
        this list: someone absent for a window "left" and comes back "new".

    Returns
    -------
    Pyramid
        ``(counts, migration, moves)``.

    Raises
    ------
    WhuffieError
        When ``levels`` holds a window missing from ``windows`` or an unknown level.

    Examples
    --------
    >>> from datetime import datetime
    >>> w1, w2 = datetime(2024, 1, 1), datetime(2024, 1, 8)
    >>> levels = pa.table({"window_start": [w1, w1, w2, w2], "actor_id": ["a", "b", "a", "c"],
    ...                    "level": ["amateur", "expert", "wannabe", "amateur"]})
    >>> result = pyramid(levels)
    >>> result.counts.select(["participants", "amateur", "expert", "new", "left", "up"]).to_pylist()[1]
    {'participants': 2, 'amateur': 1, 'expert': 0, 'new': 1, 'left': 1, 'up': 1}
    >>> result.moves.select(["actor_id", "from_level", "to_level", "move"]).to_pylist()[0]
    {'actor_id': 'a', 'from_level': 'amateur', 'to_level': 'wannabe', 'move': 'up'}
    """
    starts = levels.column("window_start").to_numpy().astype("datetime64[us]")
    if windows is None:
        order = np.unique(starts)
    else:
        order = np.array([np.datetime64(w, "us") for w in windows], dtype="datetime64[us]")
        unknown = np.setdiff1d(np.unique(starts), order)
        if len(unknown):
            raise WhuffieError(f"the levels hold window {unknown[0]} that is not in the window list")
    level_arr = pc.index_in(levels.column("level"), value_set=pa.array(LEVELS))
    if level_arr.null_count:
        bad = levels.column("level").filter(pc.is_null(level_arr))[0].as_py()
        raise WhuffieError(f"unknown level {bad!r}; levels are {', '.join(LEVELS)}")
    level = level_arr.to_numpy(zero_copy_only=False).astype(np.int64)
    actor_ids = levels.column("actor_id").combine_chunks() if levels.num_rows else pa.array([], pa.string())
    actors = pc.unique(actor_ids).sort()
    actor_code = pc.index_in(actor_ids, value_set=actors).to_numpy(zero_copy_only=False).astype(np.int64)
    window_index = np.searchsorted(order, starts)

    # Rows grouped by window, actors ascending inside each: one sort, then slices.
    rows = np.lexsort((actor_code, window_index))
    bounds = np.searchsorted(window_index[rows], np.arange(len(order) + 1))
    by_window = [(actor_code[rows[a:b]], level[rows[a:b]]) for a, b in itertools.pairwise(bounds)]
    if any(np.any(np.diff(codes) == 0) for codes, _ in by_window):
        raise WhuffieError("an actor appears twice in one window of the levels; give one row per "
                           "(window, actor)")

    counts: dict[str, list] = {k: [] for k in (
        "window_start", "previous_start", "participants", *LEVELS, "new", "left", "up", "down")}
    cells_all = []
    # Moves as parallel code arrays: window, actor, from (FROM_LEVELS), to (TO_LEVELS), move (MOVES).
    move_parts: list[tuple[np.ndarray, ...]] = []
    for i, start in enumerate(order.tolist()):
        cur_actor, cur_level = by_window[i]
        counts["window_start"].append(start)
        counts["participants"].append(len(cur_actor))
        per_level = np.bincount(cur_level, minlength=len(LEVELS))
        for j, name in enumerate(LEVELS):
            counts[name].append(int(per_level[j]))
        if i == 0:
            counts["previous_start"].append(None)
            for k in ("new", "left", "up", "down"):
                counts[k].append(None)
            continue
        prev_actor, prev_level = by_window[i - 1]
        _, ip, ic = np.intersect1d(prev_actor, cur_actor, assume_unique=True, return_indices=True)
        left = np.setdiff1d(np.arange(len(prev_actor)), ip, assume_unique=True)
        new = np.setdiff1d(np.arange(len(cur_actor)), ic, assume_unique=True)
        # Cell (from, to): from 0 = new, 1..4 = levels; to 0..3 = levels, 4 = left.
        cells = np.zeros((len(FROM_LEVELS), len(TO_LEVELS)), dtype=np.int64)
        np.add.at(cells, (prev_level[ip] + 1, cur_level[ic]), 1)
        np.add.at(cells, (0, cur_level[new]), 1)
        np.add.at(cells, (prev_level[left] + 1, len(LEVELS)), 1)
        cells_all.append((i, cells))
        delta = cur_level[ic] - prev_level[ip]
        counts["previous_start"].append(order[i - 1].tolist())
        counts["new"].append(len(new))
        counts["left"].append(len(left))
        counts["up"].append(int((delta > 0).sum()))
        counts["down"].append(int((delta < 0).sum()))

        changed = np.flatnonzero(delta != 0)
        for who, src, dst, kind in (
            (cur_actor[ic[changed]], prev_level[ip[changed]] + 1, cur_level[ic[changed]],
             np.where(delta[changed] > 0, 0, 1)),
            (cur_actor[new], np.zeros(len(new), np.int64), cur_level[new], np.full(len(new), 2)),
            (prev_actor[left], prev_level[left] + 1, np.full(len(left), len(LEVELS)),
             np.full(len(left), 3)),
        ):
            move_parts.append((np.full(len(who), i), who, src, dst, kind))

    ts = pa.timestamp("us")
    cut_table = _cuts(levels, ts)
    counts_table = pa.table({
        "window_start": pa.array(counts["window_start"], ts),
        "previous_start": pa.array(counts["previous_start"], ts),
        "participants": pa.array(counts["participants"], pa.int64()),
        **{name: pa.array(counts[name], pa.int64()) for name in LEVELS},
        **{k: pa.array(counts[k], pa.int64()) for k in ("new", "left", "up", "down")},
    })
    if cut_table is not None:
        counts_table = counts_table.join(cut_table, "window_start", join_type="left outer").sort_by(
            "window_start")
    else:
        for name in ("wannabe_cut", "expert_cut"):
            counts_table = counts_table.append_column(name, pa.nulls(len(order), pa.float64()))
    pairs = [(f, t) for f in range(len(FROM_LEVELS)) for t in range(len(TO_LEVELS))
             if not (FROM_LEVELS[f] == "new" and TO_LEVELS[t] == "left")]
    pair_from = np.array([f for f, _ in pairs], dtype=np.int64)
    pair_to = np.array([t for _, t in pairs], dtype=np.int64)
    mig_window = np.repeat(np.array([i for i, _ in cells_all], dtype=np.int64), len(pairs))
    mig_from = np.tile(pair_from, len(cells_all))
    mig_to = np.tile(pair_to, len(cells_all))
    mig_actors = (np.concatenate([c[pair_from, pair_to] for _, c in cells_all]) if cells_all
                  else np.zeros(0, np.int64))
    migration_table = pa.table({
        "window_start": _windows(order, mig_window, ts),
        "previous_start": _windows(order, mig_window - 1, ts),
        "from_level": pa.array(FROM_LEVELS).take(pa.array(mig_from)),
        "to_level": pa.array(TO_LEVELS).take(pa.array(mig_to)),
        "actors": pa.array(mig_actors, pa.int64()),
    })
    mv = [np.concatenate([p[k] for p in move_parts]).astype(np.int64) if move_parts
          else np.zeros(0, np.int64) for k in range(5)]
    moves_table = pa.table({
        "window_start": _windows(order, mv[0], ts),
        "previous_start": _windows(order, mv[0] - 1, ts),
        "actor_id": actors.take(pa.array(mv[1])),
        "from_level": pa.array(FROM_LEVELS).take(pa.array(mv[2])),
        "to_level": pa.array(TO_LEVELS).take(pa.array(mv[3])),
        "move": pa.array(MOVES).take(pa.array(mv[4])),
    })
    return Pyramid(counts_table, migration_table, moves_table)


def _refuse_duplicates(starts: np.ndarray, actor_ids: pa.ChunkedArray) -> None:
    """Refuse two rows for one actor in one window (rows sorted by window, then actor)."""
    ids = actor_ids.to_numpy(zero_copy_only=False)
    same = (starts[1:] == starts[:-1]) & (ids[1:] == ids[:-1])
    if same.any():
        i = int(np.flatnonzero(same)[0])
        raise WhuffieError(f"actor {ids[i]!r} has two rows for the window starting {starts[i]}; "
                           "give one row per (window, actor)")


def _windows(order: np.ndarray, index: np.ndarray, ts: pa.DataType) -> pa.Array:
    """Window starts by position in ``order``."""
    return pa.array(order[index] if len(order) else np.zeros(0, "datetime64[us]"), ts)


def _cuts(levels: pa.Table, ts: pa.DataType) -> pa.Table | None:
    """The cuts of each window, when the levels carry them."""
    if not {"wannabe_cut", "expert_cut"} <= set(levels.column_names):
        return None
    cuts = levels.select(["window_start", "wannabe_cut", "expert_cut"]).group_by("window_start").aggregate(
        [("wannabe_cut", "max"), ("expert_cut", "max")])
    return pa.table({
        "window_start": cuts.column("window_start").cast(ts),
        "wannabe_cut": cuts.column("wannabe_cut_max"),
        "expert_cut": cuts.column("expert_cut_max"),
    })


def window_starts(first: datetime, last: datetime, unit: str) -> list[datetime]:
    """Every window start from the window holding ``first`` to the one holding ``last`` (UTC).

    Weeks start on Monday 00:00, months on the 1st, as DuckDB's ``date_trunc``.

    Examples
    --------
    >>> [d.day for d in window_starts(datetime(2005, 12, 14), datetime(2005, 12, 31), "week")]
    [12, 19, 26]
    >>> [d.month for d in window_starts(datetime(2019, 11, 30), datetime(2020, 2, 1), "month")]
    [11, 12, 1, 2]
    """
    if unit not in UNITS:
        raise WhuffieError(f"window unit must be one of {', '.join(UNITS)}, got {unit!r}")
    start, stop = truncate(first, unit), truncate(last, unit)
    out = []
    while start <= stop:
        out.append(start)
        start = window_end(start, unit)
    return out


def truncate(moment: datetime, unit: str) -> datetime:
    """The start of the window holding ``moment``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def window_end(start: datetime, unit: str) -> datetime:
    """The start of the window after the one starting at ``start``."""
    if unit == "week":
        return start + timedelta(days=7)
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
