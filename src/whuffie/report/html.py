"""The HTML report: one self-contained folder that opens offline.

``write_report(store, out)`` renders ``out/index.html`` from a Jinja2 template
with autoescaping (every string that came from data is escaped) and writes
Plotly's JavaScript bundle beside it, so the report needs no network. The
report is a list of sections; each analysis contributes one by appending a
function to :data:`SECTIONS` that takes the store and the report's
:class:`~whuffie.privacy.disclosure.Shown` and returns a :class:`Section` (or
``None`` when it has nothing to show). Sections show the store's newest saved
runs (``store.result(name)``) and read anything else through the store's
engine; the report runs no analysis itself. Sections name actors and quote
texts through the ``Shown`` (its labels, ids and texts), so private individuals
appear as the report's disclosure says (see :mod:`whuffie.privacy.disclosure`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import plotly.graph_objects as go
from markupsafe import Markup

from whuffie.errors import WhuffieError
from whuffie.store.store import Store
from whuffie.version import __version__

if TYPE_CHECKING:
    from whuffie.privacy.disclosure import Shown


@dataclass
class Section:
    """One part of the report.

    ``blocks`` is a list of ``(kind, payload)``: ``("text", str)``,
    ``("cards", [(label, value), ...])``, ``("table", {"columns": [...],
    "rows": [...], "fold": n})`` (rows after the ``n``-th folded away; a row's
    ``"<column>@title"`` is shown on hover, see :func:`actor_cell`),
    ``("todo", [(what, command), ...])`` or ``("figure", plotly Figure)``.
    """

    id: str
    title: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)


#: A section builder: the store and the report's view of it give a section, or ``None``.
Builder = Callable[[Store, "Shown | None"], Section | None]
#: Functions that build the report's sections, with their place in the report.
SECTIONS: list[tuple[int, Builder]] = []


def shown_by(store: Store, shown: Shown | None) -> Shown:
    """The report's view of the store: ``shown``, or the default disclosure's (private individuals
    pseudonymised) when a section is built on its own."""
    from whuffie.privacy.disclosure import Disclosure

    return shown if shown is not None else Disclosure().bind(store)


def zero_filled(points: list[tuple[datetime, int]], unit: str) -> tuple[list[datetime], list[int]]:
    """A series of counts per period with every period of its span present (0 when nothing happened).

    A chart that joins the periods it has would draw a line across a silent month as if activity
    went on; the zeros show the silence. ``unit`` is ``day``, ``week`` (Monday starts) or ``month``.

    Examples
    --------
    >>> t, n = zero_filled([(datetime(2024, 1, 1), 3), (datetime(2024, 1, 22), 1)], "week")
    >>> [d.day for d in t], n
    ([1, 8, 15, 22], [3, 0, 0, 1])
    """
    import numpy as np

    if not points:
        return [], []
    given = {np.datetime64(t, "us"): n for t, n in points}
    lo, hi = min(given), max(given)
    if unit == "month":
        months = np.arange(lo.astype("datetime64[M]"), hi.astype("datetime64[M]") + 1)
        grid = months.astype("datetime64[us]")
    else:
        step = np.timedelta64(7 if unit == "week" else 1, "D").astype("timedelta64[us]")
        grid = np.arange(lo, hi + step, step)
    return ([t.astype(datetime) for t in grid], [int(given.get(t, 0)) for t in grid])


def actor_cell(column: str, actor: str, label: str | None) -> dict[str, str]:
    """A table cell showing an actor by handle or name, with the actor id on hover.

    ``actor`` is the id to show (a private individual's pseudonym: see
    :meth:`whuffie.privacy.disclosure.Shown.ids`).

    Examples
    --------
    >>> actor_cell("who", "x:42", "ann")
    {'who': 'ann', 'who@title': 'x:42'}
    >>> actor_cell("who", "x:42", None), actor_cell("who", "anon-0123456789", "anon-0123456789")
    ({'who': 'x:42'}, {'who': 'anon-0123456789'})
    """
    if not label or label == actor:
        return {column: actor}
    return {column: label, f"{column}@title": actor}


def section(order: int) -> Callable[[Builder], Builder]:
    """Register a section builder (decorator); sections appear by increasing ``order``."""

    def register(fn: Builder) -> Builder:
        SECTIONS.append((order, fn))
        return fn

    return register


def _figure_json(fig: go.Figure) -> Markup:
    # The JSON goes inside a <script> element: "<" must not appear raw, or a
    # "</script>" in an actor's name would end the element.
    text = fig.to_json().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("whuffie.report", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
)
_env.filters["figure_json"] = _figure_json


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


_env.filters["fmt"] = _fmt


def write_report(store: Store, out: str | Path, title: str = "Whuffie report",
                 shown: Shown | None = None) -> tuple[Path, list[str]]:
    """Write the HTML report of a store to a folder.

    Parameters
    ----------
    store : Store
        The store to describe.
    out : str or Path
        The folder; created if missing. ``index.html`` and ``plotly.min.js``
        are written into it.
    title : str
        The report's title.
    shown : Shown, optional
        What the report shows of private individuals
        (:meth:`whuffie.privacy.disclosure.Disclosure.bind`); by default their handles and ids are
        pseudonymised. It counts the private individuals the report names as pseudonyms.

    Returns
    -------
    (Path, list of str)
        The path of ``index.html``, and the ids of the sections it shows.

    Examples
    --------
    >>> import tempfile, whuffie
    >>> out = tempfile.mkdtemp()
    >>> with whuffie.open(":memory:") as store:
    ...     index, sections = write_report(store, out)
    >>> index.name, sections
    ('index.html', ['overview', 'provenance'])
    """
    # Importing registers the built-in sections, in this order.
    from whuffie.report import influence, spread, summary, voice  # noqa: F401
    from whuffie.report.export import file_target, folder_target, replacing

    out = folder_target(out, "the report is a folder (give a folder's name)", parents=True,
                        doing="write the report to")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WhuffieError(f"cannot write the report to {out}: {exc.strerror or exc}") from exc
    index, bundle = file_target(out / "index.html"), file_target(out / "plotly.min.js")
    shown = shown_by(store, shown)
    builders = [fn for _, fn in sorted(SECTIONS, key=lambda item: item[0])]
    sections = [s for s in (build(store, shown) for build in builders) if s is not None]
    html = _env.get_template("report.html.j2").render(
        title=title,
        disclosure=shown.note(),
        sections=sections,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        db=str(store.path),
        map_link="map.html" if (out / "map.html").exists() else None,
    )
    with replacing(index) as f:
        f.write(html)
    if not bundle.exists():
        from plotly.offline import get_plotlyjs

        with replacing(bundle) as f:
            f.write(get_plotlyjs())
    return index, [section.id for section in sections]
