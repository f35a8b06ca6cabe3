"""datasketch's optimal LSH banding, without importing scipy.

datasketch picks `b` bands x `r` rows for a Jaccard threshold by minimising the false positive
and false negative areas under the S-curve 1 - (1 - s**r)**b, integrated with
`scipy.integrate.quad`. Importing `datasketch.lsh` for that one choice loads scipy: about 40 MB
resident in a daemon that otherwise never needs it. The integrands are polynomials of degree
b*r <= num_perm, so Gauss-Legendre quadrature with num_perm // 2 + 1 nodes integrates them
exactly; the choice is datasketch's (tests compare both over a grid of thresholds).
"""

from __future__ import annotations

import numpy as np


def _integral(lo: float, hi: float, b: np.ndarray, r: np.ndarray, nodes: int, fn: bool) -> np.ndarray:
    x, w = np.polynomial.legendre.leggauss(nodes)
    s = (hi - lo) / 2 * x + (hi + lo) / 2  # nodes mapped onto [lo, hi]
    collide = 1 - (1 - s[None, :] ** r[:, None]) ** b[:, None]  # P(candidate) at similarity s
    value = 1 - collide if fn else collide
    return (hi - lo) / 2 * (value @ w)


def optimal_banding(threshold: float, num_perm: int, false_positive_weight: float = 0.5,
                    false_negative_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising the weighted false positive + false negative probability."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"LSH threshold must be between 0 and 1, got {threshold}")
    pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    b = np.array([p[0] for p in pairs], dtype=float)
    r = np.array([p[1] for p in pairs], dtype=float)
    nodes = num_perm // 2 + 1
    error = (false_positive_weight * _integral(0.0, threshold, b, r, nodes, fn=False)
             + false_negative_weight * _integral(threshold, 1.0, b, r, nodes, fn=True))
    return pairs[int(np.argmin(error))]  # first minimum, as datasketch's strict `<` scan keeps
