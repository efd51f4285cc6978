"""The whole job on a store: every analysis its data supports, the map and the report, in one call."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from whuffie.api.result import Result
from whuffie.errors import WhuffieError

if TYPE_CHECKING:
    from whuffie.privacy.disclosure import Disclosure
    from whuffie.store.store import Store

#: The steps of :func:`analyze`, in order, with what each does (for progress displays).
STEPS = (
    ("influence", "Measuring influence"),
    ("efluentials", "Finding the e-fluentials"),
    ("niches", "Finding the niches"),
    ("pyramid", "Placing members on the influence pyramid"),
    ("voice", "Listening: language, sentiment and concerns"),
    ("buzz", "Looking for bursts"),
    ("advocates", "Finding advocates and detractors"),
    ("cascades", "Rebuilding the cascades"),
    ("seeds", "Choosing whom to approach"),
    ("map", "Drawing the map"),
    ("report", "Writing the report"),
)


@dataclass
class Chain:
    """What :func:`analyze` did.

    Attributes
    ----------
    results : dict of str to Result
        The result of every step that ran, in order.
    skipped : dict of str to str
        The steps that could not run on this store's data, with why.
    """

    results: dict[str, Result] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def analyze(store: Store, out: str | Path | None = "whuffie-report", *, title: str = "Whuffie report",
            seeds: int = 5, step: Callable[[str, str], AbstractContextManager] | None = None,
            voice_progress: Callable[[int, int], None] | None = None,
            disclosure: Disclosure | None = None) -> Chain:
    """Run every analysis the store's data supports, then draw the map and write the report.

    Influence, e-fluentials, niches and the pyramid need interactions; the voice step and buzz need
    texts; the cascades need replies, reshares or quotes; whom to approach needs the graph. A step
    the data cannot support is skipped with the reason, and the chain goes on.

    Parameters
    ----------
    store : Store
        An open store.
    out : str or Path, optional
        The report's folder (``index.html`` and ``map.html``); ``None`` writes neither.
    title : str
        The report's title.
    seeds : int
        How many people to approach.
    step : callable, optional
        ``step(name, description)`` returns a context manager entered around each step (a progress
        display).
    voice_progress : callable, optional
        Called with (messages done, messages in all) during the voice step.
    disclosure : Disclosure, optional
        What the map and the report show of private individuals (default: pseudonymised; see
        :mod:`whuffie.privacy.disclosure`).

    Returns
    -------
    Chain

    Examples
    --------
    >>> import whuffie
    >>> with whuffie.open(":memory:") as store:
    ...     chain = store.analyze(None)
    >>> list(chain.results), chain.skipped["influence"]
    ([], 'the store holds no interaction')
    """
    chain = Chain()
    around = step or (lambda name, description: nullcontext())
    status = store.status()
    interactions = sum(status["interactions"].values())
    messages = sum(status["messages"].values())
    folder = Path(out) if out is not None else None
    calls: dict[str, Callable[[], Result]] = {
        "influence": store.influence,
        "efluentials": store.efluentials,
        "niches": store.niches,
        "pyramid": store.pyramid,
        "voice": lambda: store.voice(progress=voice_progress),
        "buzz": lambda: store.buzz("term", "week"),
        "advocates": store.advocates,
        "cascades": store.cascades,
        "seeds": lambda: store.seeds(seeds),
    }
    if folder is not None:
        calls["map"] = lambda: store.map(folder / "map.html", disclosure=disclosure)
        calls["report"] = lambda: store.report(folder, title=title, disclosure=disclosure)
    needs_graph = {"influence", "efluentials", "niches", "pyramid", "seeds", "map"}
    needs_text = {"voice", "buzz", "advocates", "cascades"}
    if folder is not None:
        from whuffie.api.outputs import report_folder

        report_folder(folder)
    for name, description in STEPS:
        if name not in calls:
            continue
        if name in needs_graph and not interactions:
            chain.skipped[name] = "the store holds no interaction"
            continue
        if name in needs_text and not messages:
            chain.skipped[name] = "the store holds no message"
            continue
        with around(name, description):
            try:
                chain.results[name] = calls[name]()
            except WhuffieError as exc:
                if name == "report":
                    raise
                chain.skipped[name] = str(exc)
    return chain
