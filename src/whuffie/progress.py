"""How far long work has got: analyses report their phases to whoever listens.

An analysis calls :func:`phase` at each step that takes a while ("Infomap", "simulating the
degree set", 3 of 6); nothing happens unless a caller listens with :func:`reporting`. The CLI
draws the phases as a rich progress display; a notebook can log them. The listener travels in a
context variable, so analyses keep their signatures (and stay pure) while a caller several calls
up still hears them. Worker processes do not inherit it: work split over processes reports its
own progress (the voice step takes a ``progress`` callable).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: A listener: ``(description, done, total)``; ``done`` and ``total`` are ``None`` for a phase
#: that is not counted.
Listener = Callable[[str, int | None, int | None], None]

_listener: ContextVar[Listener | None] = ContextVar("whuffie_progress", default=None)


def phase(description: str, done: int | None = None, total: int | None = None) -> None:
    """Report the step the current work has reached (to the listener of :func:`reporting`, if any).

    Parameters
    ----------
    description : str
        The step, in a few words ("layout", "simulating the pagerank set").
    done, total : int, optional
        How many of how many, for a counted step.

    Examples
    --------
    >>> phase("nobody listens")          # does nothing
    >>> heard = []
    >>> with reporting(lambda *event: heard.append(event)):
    ...     phase("Infomap")
    ...     phase("resolution 0.5", 3, 9)
    >>> heard
    [('Infomap', None, None), ('resolution 0.5', 3, 9)]
    """
    listener = _listener.get()
    if listener is not None:
        listener(description, done, total)


@contextmanager
def reporting(listener: Listener) -> Iterator[None]:
    """Send the phases reported inside the block to ``listener``.

    Examples
    --------
    >>> with reporting(print):
    ...     phase("layout")
    layout None None
    """
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
