"""Agreement between two partitions (NMI, ARI), written here because scikit-learn is not a dependency.

Both are computed from the contingency table of the two labelings, as in
scikit-learn: NMI with the arithmetic-mean normalisation (Danon et al. 2005),
ARI after Hubert & Arabie (1985).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _contingency(a, b) -> np.ndarray:
    _, ai = np.unique(np.asarray(a), return_inverse=True)
    _, bi = np.unique(np.asarray(b), return_inverse=True)
    c = sp.coo_matrix((np.ones(len(ai)), (ai, bi)), shape=(ai.max() + 1, bi.max() + 1)).toarray()
    return c


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def nmi(a, b) -> float:
    """Normalised mutual information, arithmetic normalisation (1 = same partition)."""
    c = _contingency(a, b)
    n = c.sum()
    ha, hb = _entropy(c.sum(axis=1)), _entropy(c.sum(axis=0))
    if ha == 0 and hb == 0:
        return 1.0
    pij = c / n
    outer = np.outer(c.sum(axis=1), c.sum(axis=0)) / n**2
    nz = pij > 0
    mi = float((pij[nz] * np.log(pij[nz] / outer[nz])).sum())
    return mi / ((ha + hb) / 2)


def ari(a, b) -> float:
    """Adjusted Rand index (1 = same partition, about 0 = chance)."""
    c = _contingency(a, b)

    def pairs(x):
        return (x * (x - 1) / 2).sum()

    n = c.sum()
    index = pairs(c)
    ea, eb = pairs(c.sum(axis=1)), pairs(c.sum(axis=0))
    expected = ea * eb / pairs(np.array([n]))
    top = (ea + eb) / 2
    if top == expected:
        return 1.0
    return float((index - expected) / (top - expected))
