"""Engines: where the analyses' tables come from (see :mod:`whuffie.engines.base`).

:class:`~whuffie.engines.embedded.EmbeddedEngine` serves them from the embedded DuckDB store; an
open store's ``engine`` attribute is one.
"""

from whuffie.engines.base import Engine

__all__ = ["Engine"]
