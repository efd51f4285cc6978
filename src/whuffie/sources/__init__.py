"""Source readers: one module per format, registered under a kebab-case id.

Readers are discovered through the ``whuffie.readers`` entry-point group; the
built-in ones are declared there in ``pyproject.toml`` exactly as a third-party
package would declare its own, so ``pip install whuffie-reader-foo`` adds a
format without touching Whuffie.

Examples
--------
>>> "twarc2" in reader_ids()
True
>>> get_reader("reddit").platform
'reddit'
"""

from __future__ import annotations

import warnings
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from whuffie.errors import SourceError
from whuffie.sources.base import Bad, Raw, Reader, Sample
from whuffie.sources.io import HEAD_SIZE, Input, head_bytes

__all__ = [
    "Bad",
    "Input",
    "Raw",
    "Reader",
    "Sample",
    "get_reader",
    "reader_classes",
    "reader_ids",
    "sniff",
]

#: A sniffer must be at least this sure for ``--format auto`` to pick it.
SNIFF_THRESHOLD = 0.5


#: Entry points that failed to load: name -> error. A broken plug-in must not
#: take the other readers down; ``whuffie formats`` shows these.
BROKEN: dict[str, str] = {}


@cache
def reader_classes() -> dict[str, type[Reader]]:
    """All registered reader classes by id, in id order."""
    found: dict[str, type[Reader]] = {}
    for ep in entry_points(group="whuffie.readers"):
        try:
            cls = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plug-in is reported, not fatal
            BROKEN[ep.name] = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"reader {ep.name!r} ({ep.value}) cannot be loaded: {exc}",
                          stacklevel=2)
            continue
        if not (isinstance(cls, type) and issubclass(cls, Reader)):
            raise SourceError(f"entry point {ep.name!r} ({ep.value}) is not a Reader subclass")
        if cls.id != ep.name:
            raise SourceError(f"reader {ep.value} is registered as {ep.name!r} but its id is {cls.id!r}")
        found[ep.name] = cls
    return dict(sorted(found.items()))


def reader_ids() -> list[str]:
    """The ids of every registered reader."""
    return list(reader_classes())


def get_reader(format_id: str, **options: str) -> Reader:
    """Instantiate the reader registered as ``format_id`` with its options.

    Raises
    ------
    SourceError
        When no reader has that id.
    """
    classes = reader_classes()
    if format_id not in classes:
        raise SourceError(
            f"unknown format {format_id!r}; known formats: {', '.join(classes)} "
            "(or 'auto' to detect it)"
        )
    return classes[format_id](**options)


def sniff(path: str | Path, head: bytes | None = None) -> tuple[str | None, float]:
    """Detect the format of a file: the surest reader and how sure it is.

    Returns ``(None, best_score)`` when no reader reaches
    :data:`SNIFF_THRESHOLD`.
    """
    path = Path(path)
    if head is None:
        head = head_bytes(path, HEAD_SIZE)
    name = _plain_name(path)
    sample = Sample(path, head, name)
    best, best_score = None, 0.0
    for rid, cls in reader_classes().items():
        try:
            score = float(cls.sniff(sample))
        except Exception:  # noqa: BLE001 - a sniffer bug must not stop detection by the others
            score = 0.0
        if score > best_score:
            best, best_score = rid, score
    if best_score < SNIFF_THRESHOLD:
        return None, best_score
    return best, best_score


def _plain_name(path: Path) -> str:
    from whuffie.sources.io import COMPRESSED_SUFFIXES, compression_of

    name = path.name
    if name.lower().endswith(COMPRESSED_SUFFIXES) and compression_of(path):
        name = name.rsplit(".", 1)[0]
    return name
