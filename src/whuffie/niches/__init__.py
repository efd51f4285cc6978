"""Niches: the long tail of communities, what each one talks about, and who bridges them.

* :mod:`~whuffie.niches.analysis`: :func:`analyse_niches`, all of the below
  in one call (what ``whuffie niches`` runs);
* :mod:`~whuffie.niches.leiden`: :func:`detect_niches` (by default Leiden's
  modularity at the resolution where it agrees best with Infomap, see
  :func:`auto_resolution`; modularity with NetworKit, CPM with igraph, Infomap)
  and :func:`modularity`;
* :mod:`~whuffie.niches.profile`: :func:`niche_profiles` (size, attention,
  top voices, tags, distinctive terms, activity), :func:`niche_activity`,
  :func:`term_counts` and :func:`size_distribution` (the long tail);
* :mod:`~whuffie.niches.bridges`: :func:`participation`,
  :func:`betweenness`, :func:`bridges` (per actor) and :func:`niche_links`
  (pairs of niches).

All are pure functions of a :class:`~whuffie.graph.build.Graph`, the niche of
every node and Arrow tables; the CLI (``whuffie niches``) reads the store.
"""

from whuffie.niches.analysis import NicheAnalysis, NicheParams, analyse_niches
from whuffie.niches.bridges import betweenness, bridges, niche_links, participation
from whuffie.niches.leiden import (
    auto_resolution,
    default_resolution,
    detect_niches,
    infomap,
    modularity,
    undirected,
)
from whuffie.niches.profile import niche_activity, niche_profiles, size_distribution, term_counts

__all__ = [
    "NicheAnalysis",
    "NicheParams",
    "analyse_niches",
    "auto_resolution",
    "betweenness",
    "bridges",
    "default_resolution",
    "detect_niches",
    "infomap",
    "modularity",
    "niche_activity",
    "niche_links",
    "niche_profiles",
    "participation",
    "size_distribution",
    "term_counts",
    "undirected",
]
