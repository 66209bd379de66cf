# SPDX-License-Identifier: GPL-2.0-only
"""Random link failures (PackeRL paper, App. A.6).

For every step ``t``:

1. draw a failure probability ``p_t = failure_scale * W`` with ``W ~ Weibull(failure_shape)``
   (``rng.weibull``; defaults shape 0.8, scale 0.001, so ``E[p_t] = 0.001 * Gamma(2.25)``
   ~= 1.133e-3);
2. draw ``Bernoulli(p_t)`` for every link that is still up (one vectorised draw, always
   for all up links so the random stream does not depend on the graph structure);
3. of the links that came up "failed", only those that are not bridges of the current,
   already degraded graph may fail. They are removed one at a time in random order and
   each is re-checked for being a bridge just before removal (an edge is a bridge iff
   its endpoints are disconnected without it), so several failures in the same step can
   never disconnect the graph;
4. each failure time is uniform inside its step: ``(t + U[0, 1)) * step_ms``.

Failed links stay down for the rest of the episode, so every edge fails at most once.
Expected failures per episode ~= ``steps * E[p_t] * (number of non-bridge links)``.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from .checks import MAX_STEP_MS, MAX_STEPS, MIN_STEP_MS, check_float, check_int
from .scenario import FAILURE_DTYPE, Topology

FAILURE_DEFAULTS: dict[str, float] = {"failure_shape": 0.8, "failure_scale": 0.001}


def expected_failure_probability(shape: float = 0.8, scale: float = 0.001) -> float:
    """Mean per-step, per-link failure probability ``scale * Gamma(1 + 1/shape)`` (ignoring clipping at 1)."""
    return scale * math.gamma(1.0 + 1.0 / shape)


def generate_failures(
    topology: Topology,
    *,
    steps: int = 100,
    step_ms: float = 5.0,
    failure_shape: float = 0.8,
    failure_scale: float = 0.001,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Sample the link failures of one episode (see module docstring).

    Args:
        topology: The (connected) network; failures index ``topology.edges`` rows.
        steps: Number of steps.
        step_ms: Step length in ms.
        failure_shape: Weibull shape (> 0).
        failure_scale: Weibull scale (>= 0); 0 disables failures.
        rng: NumPy generator (a fresh unseeded one if None).

    Returns:
        A :data:`FAILURE_DTYPE` array sorted by time.
    """
    if not failure_shape > 0:
        raise ValueError(f"failure_shape must be > 0, got {failure_shape}")
    if not failure_scale >= 0:
        raise ValueError(f"failure_scale must be >= 0, got {failure_scale}")
    steps = check_int("steps", steps, 1, MAX_STEPS)
    step_ms = check_float("step_ms", step_ms, MIN_STEP_MS, MAX_STEP_MS)
    if rng is None:
        rng = np.random.default_rng()
    edges = topology.edges
    num_edges = len(edges)
    g = nx.Graph()
    g.add_nodes_from(range(topology.num_nodes))
    g.add_edges_from(map(tuple, edges.tolist()))
    up = np.ones(num_edges, dtype=bool)
    times: list[float] = []
    failed: list[int] = []
    for t in range(int(steps)):
        p_t = min(1.0, failure_scale * rng.weibull(failure_shape))
        draws = rng.random(num_edges) < p_t
        candidates = np.flatnonzero(draws & up)
        if candidates.size == 0:
            continue
        rng.shuffle(candidates)
        for k in candidates.tolist():
            u, v = int(edges[k, 0]), int(edges[k, 1])
            # (u, v) is a bridge iff removing it disconnects u from v; a bidirectional BFS
            # is much cheaper than recomputing all bridges for every candidate.
            g.remove_edge(u, v)
            if not nx.has_path(g, u, v):
                g.add_edge(u, v)
                continue
            up[k] = False
            failed.append(k)
            times.append((t + rng.random()) * step_ms)
    out = np.empty(len(failed), dtype=FAILURE_DTYPE)
    out["time_ms"] = times
    out["edge"] = failed
    return out[np.argsort(out["time_ms"], kind="stable")]
