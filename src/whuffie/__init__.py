"""Whuffie: community intelligence from the real conversations around a brand or community.

Examples
--------
>>> import whuffie
>>> with whuffie.open(":memory:") as store:
...     store.status()["quarantined"]
0
"""

from __future__ import annotations

__version__ = "0.1.0"

from whuffie.errors import EngineError, SchemaError, SourceError, WhuffieError
from whuffie.store.store import Store, open

__all__ = [
    "EngineError",
    "SchemaError",
    "SourceError",
    "Store",
    "WhuffieError",
    "__version__",
    "open",
]
