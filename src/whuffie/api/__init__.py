"""The library: one documented call per analysis, each returning a :class:`~whuffie.api.result.Result`.

``whuffie.open(path)`` gives a :class:`~whuffie.api.store.Store` whose methods run the analyses
(``store.influence()``, ``store.niches()``, ``store.voice()``...). A call saves its run in the store
with its parameters, inputs and data snapshot, and asking again for the same thing on the same data
returns the saved run (``fresh=True`` computes again). The command line, the demo, the report and
notebooks all go through these calls. See ``docs/api.md``.
"""

from whuffie.api.result import OutputResult, Result
from whuffie.api.store import Store, open

__all__ = ["OutputResult", "Result", "Store", "open"]
