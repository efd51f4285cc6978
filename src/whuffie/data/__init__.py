"""Data shipped with Whuffie: the bundled real sample the demo and the tutorial use."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def sample_files() -> list[Path]:
    """The bundled, licence-clean real sample: a Stack Exchange dump (CC BY-SA 3.0), four XML files.

    Examples
    --------
    >>> [p.name for p in sample_files()]
    ['Comments.xml.gz', 'Posts.xml.gz', 'Users.xml.gz', 'Votes.xml.gz']
    """
    folder = Path(str(files("whuffie.data") / "sample" / "conlang.meta.stackexchange.com"))
    return sorted(folder.glob("*.xml.gz"))
