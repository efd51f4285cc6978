"""Whuffie: community intelligence from the real conversations around a brand or community.

Examples
--------
>>> import whuffie
>>> with whuffie.open(":memory:") as store:
...     store.status()["quarantined"]
0
"""

from __future__ import annotations

from whuffie.api import Result, Store, open
from whuffie.data import sample_files
from whuffie.errors import EngineError, SchemaError, SourceError, WhuffieError
from whuffie.privacy.disclosure import Disclosure
from whuffie.version import __version__

__all__ = [
    "Disclosure",
    "EngineError",
    "Result",
    "SchemaError",
    "SourceError",
    "Store",
    "WhuffieError",
    "__version__",
    "open",
    "sample_files",
]
