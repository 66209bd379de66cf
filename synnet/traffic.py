# SPDX-License-Identifier: GPL-2.0-only
"""Traffic demand generation (PackeRL paper, App. A.6 / B.3).

Notation: ``H`` = steps, ``tau`` = step length in ms, ``T = H * tau`` (episode length, ms),
``c`` = node traffic potentials of the topology.

1. Potential matrix ``B = c c^T``, multiplied elementwise by ``U[0.9, 1.1]``, diagonal set
   to 0, normalised so ``sum(B) = T``. The off-diagonal entries in row-major order
   ``(0,1), (0,2), ..., (1,0), (1,2), ...`` give per-pair budgets ``b_k`` (ms) with
   segment bounds ``E_k = b_0 + ... + b_k`` (``E_{-1} = 0``, ``E_last = T``).
2. ONE stream of inter-arrival times ``x_1, x_2, ...`` is drawn from a log-logistic
   distribution (``scipy.stats.fisk``) with shape ``beta_t = iat_shape`` (1.5) and scale
   ``alpha_t = (lambda_flow + 1/5) / m_eff``; every draw is capped at ``iat_cap_ms``
   (50 ms). Its cumulative sums ``s_j`` are kept while ``s_j < T``.
3. Stream time ``s_j`` belongs to pair ``k = searchsorted(E, s_j, side="right")``; its
   arrival time in the episode is::

       time_ms = (s_j - E_{k-1}) * T / b_k          (in [0, T))

   i.e. the part of the stream that covers the pair's budget ``b_k`` is stretched back
   onto the whole episode ("divide by b_ij" in the paper, with ``b_ij`` expressed as a
   fraction ``b_k / T``). Hence each pair's expected number of demands is proportional
   to ``b_k`` and the total is about ``T / E[x]``. Everything is vectorised
   (``np.cumsum`` + ``np.searchsorted``), no per-demand or per-pair Python loop.
4. Sizes: Pareto with minimum ``size_min_bytes`` (10 B) and shape
   ``beta_s = 0.4 + ln(x^(-1/37))`` with ``x = 0.1 + lambda_flow``, capped at
   ``size_cap_bytes`` (1e12 B), floored to int64.
5. Protocol: ``is_tcp ~ Bernoulli(p_tcp)`` per demand. TCP demands get ``rate_bps = 0``;
   UDP demands smaller than ``udp_small_bytes`` (100 kB) send at ``udp_small_rate_bps``
   (1 Gbps), larger ones at ``U[udp_rate_min_bps, udp_rate_max_bps]`` (1 .. 5 Mbps).
6. ``m_eff = m_traffic * g(N)`` with graph-class factor :func:`graph_factor`.

The result is sorted stably by ``time_ms``.
"""

from __future__ import annotations

import math

import numpy as np

from .checks import MAX_STEP_MS, MAX_STEPS, MIN_STEP_MS, check_float, check_int
from .scenario import DEMAND_DTYPE, Topology

GRAPH_CLASSES = ("er", "ws", "ba", "fixed")

TRAFFIC_DEFAULTS: dict[str, float] = {
    "lambda_flow": 0.5,
    "iat_shape": 1.5,
    "iat_cap_ms": 50.0,
    "size_min_bytes": 10.0,
    "size_cap_bytes": 1e12,
    "udp_small_bytes": 100_000.0,
    "udp_small_rate_bps": 1e9,
    "udp_rate_min_bps": 1e6,
    "udp_rate_max_bps": 5e6,
    "traffic_perturbation": 0.1,
}


def graph_factor(graph_class: str, num_nodes: int) -> float:
    """Graph-class traffic factor ``g(N)``.

    ``er``: ``max(1, 16 sqrt(N) - 30)``; ``ws``/``ba``: ``max(1, 22 sqrt(N + 10) - 75)``;
    ``fixed`` (NSFNet, GEANT2, user topologies): 10.
    """
    n = float(num_nodes)
    if graph_class == "er":
        return max(1.0, 16.0 * math.sqrt(n) - 30.0)
    if graph_class in ("ws", "ba"):
        return max(1.0, 22.0 * math.sqrt(n + 10.0) - 75.0)
    if graph_class == "fixed":
        return 10.0
    raise ValueError(f"unknown graph class {graph_class!r}; valid: {', '.join(GRAPH_CLASSES)}")


def size_shape(lambda_flow: float) -> float:
    """Pareto shape ``beta_s = 0.4 + ln((0.1 + lambda_flow)^(-1/37))``."""
    return 0.4 - math.log(0.1 + lambda_flow) / 37.0


def iat_scale(lambda_flow: float, m_eff: float) -> float:
    """Log-logistic scale ``alpha_t = (lambda_flow + 1/5) / m_eff`` (ms)."""
    return (lambda_flow + 0.2) / m_eff


def sample_interarrivals(
    n: int, shape: float, scale: float, cap: float, rng: np.random.Generator
) -> np.ndarray:
    """Draw ``n`` log-logistic (fisk) inter-arrival times, each capped at ``cap``.

    Uses inverse-CDF sampling, ``x = scale * (u / (1 - u))^(1 / shape)``, which is exactly
    ``scipy.stats.fisk(shape, scale=scale).ppf(u)`` but avoids scipy's per-call overhead.
    """
    u = rng.random(n)
    with np.errstate(divide="ignore", over="ignore"):
        x = scale * np.power(u / (1.0 - u), 1.0 / shape)
    return np.minimum(x, cap)


def _arrival_stream(total: float, shape: float, scale: float, cap: float, rng: np.random.Generator) -> np.ndarray:
    """Cumulative arrival times ``s_j < total`` of one capped log-logistic stream."""
    if shape > 1:
        mean = scale * (math.pi / shape) / math.sin(math.pi / shape)
    else:  # infinite mean; the cap bounds it
        mean = cap / 2.0
    mean = max(min(mean, cap), 1e-300)
    expected = total / mean
    chunk = int(min(max(expected * 1.02 + 6.0 * math.sqrt(expected) + 16, 16), 5e7))
    parts: list[np.ndarray] = []
    offset = 0.0
    while True:
        s = offset + np.cumsum(sample_interarrivals(chunk, shape, scale, cap, rng))
        if s[-1] >= total:
            parts.append(s[: np.searchsorted(s, total, side="left")])
            break
        parts.append(s)
        offset = float(s[-1])
        chunk = int(min(max((total - offset) / mean * 1.1 + 16, 16), 5e7))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def pair_budgets(
    potentials: np.ndarray, total_ms: float, rng: np.random.Generator, perturbation: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-major off-diagonal pair budgets of ``B`` (summing to ``total_ms``).

    Returns:
        ``(src, dst, b)`` arrays over all ordered pairs ``i != j``.
    """
    c = np.asarray(potentials, dtype=np.float64)
    n = len(c)
    b_mat = np.outer(c, c) * rng.uniform(1.0 - perturbation, 1.0 + perturbation, size=(n, n))
    off = ~np.eye(n, dtype=bool)
    src, dst = np.nonzero(off)
    b = b_mat[off]
    s = b.sum()
    if not s > 0:
        raise ValueError("traffic potentials must not all be zero")
    return src.astype(np.int32), dst.astype(np.int32), b * (total_ms / s)


def generate_traffic(
    topology: Topology,
    *,
    steps: int = 100,
    step_ms: float = 5.0,
    m_traffic: float = 1.5,
    p_tcp: float = 0.5,
    graph_class: str = "fixed",
    traffic_factor: float | None = None,
    rng: np.random.Generator | None = None,
    **params: float,
) -> np.ndarray:
    """Generate the demands of one episode for ``topology`` (see module docstring).

    Args:
        topology: Network whose ``potentials`` shape the traffic matrix (N >= 2).
        steps: Number of steps ``H``.
        step_ms: Step length ``tau`` in ms.
        m_traffic: Traffic intensity multiplier (> 0).
        p_tcp: Share of TCP demands in [0, 1].
        graph_class: ``"er"``, ``"ws"``, ``"ba"`` or ``"fixed"``; selects ``g(N)``.
        traffic_factor: Overrides ``g(N)`` if given (> 0).
        rng: NumPy generator (a fresh unseeded one if None).
        **params: Overrides of :data:`TRAFFIC_DEFAULTS`.

    Returns:
        Demands as a :data:`DEMAND_DTYPE` array, sorted by ``time_ms``.

    Raises:
        ValueError: on unknown parameter names or out-of-range values.
    """
    unknown = sorted(set(params) - set(TRAFFIC_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown traffic parameter(s) {unknown}; valid: {', '.join(sorted(TRAFFIC_DEFAULTS))}")
    p = {**TRAFFIC_DEFAULTS, **params}
    if rng is None:
        rng = np.random.default_rng()
    if topology.num_nodes < 2:
        raise ValueError("traffic needs a topology with at least 2 nodes")
    if not m_traffic > 0:
        raise ValueError(f"m_traffic must be > 0, got {m_traffic}")
    if not 0.0 <= p_tcp <= 1.0:
        raise ValueError(f"p_tcp must lie in [0, 1], got {p_tcp}")
    steps = check_int("steps", steps, 1, MAX_STEPS)
    step_ms = check_float("step_ms", step_ms, MIN_STEP_MS, MAX_STEP_MS)
    factor = graph_factor(graph_class, topology.num_nodes) if traffic_factor is None else float(traffic_factor)
    if not factor > 0:
        raise ValueError(f"traffic_factor must be > 0, got {factor}")
    total = int(steps) * float(step_ms)
    m_eff = float(m_traffic) * factor

    src_pair, dst_pair, b = pair_budgets(topology.potentials, total, rng, float(p["traffic_perturbation"]))
    bounds = np.cumsum(b)
    bounds[-1] = total
    starts = np.concatenate(([0.0], bounds[:-1]))

    alpha = iat_scale(float(p["lambda_flow"]), m_eff)
    s = _arrival_stream(total, float(p["iat_shape"]), alpha, float(p["iat_cap_ms"]), rng)
    k = np.searchsorted(bounds, s, side="right")
    k = np.minimum(k, len(b) - 1)
    t = (s - starts[k]) * (total / b[k])
    t = np.clip(t, 0.0, np.nextafter(total, 0.0))

    n = len(s)
    demands = np.empty(n, dtype=DEMAND_DTYPE)
    demands["time_ms"] = t
    demands["src"] = src_pair[k]
    demands["dst"] = dst_pair[k]

    beta_s = size_shape(float(p["lambda_flow"]))
    size = (rng.pareto(beta_s, size=n) + 1.0) * float(p["size_min_bytes"])
    size = np.minimum(size, float(p["size_cap_bytes"]))
    demands["bytes"] = np.maximum(np.floor(size), float(p["size_min_bytes"])).astype(np.int64)

    is_tcp = rng.random(n) < p_tcp
    demands["is_tcp"] = is_tcp
    udp_rates = rng.uniform(float(p["udp_rate_min_bps"]), float(p["udp_rate_max_bps"]), size=n)
    small = demands["bytes"] < float(p["udp_small_bytes"])
    rate = np.where(small, float(p["udp_small_rate_bps"]), udp_rates)
    demands["rate_bps"] = np.where(is_tcp, 0.0, rate)

    order = np.argsort(demands["time_ms"], kind="stable")
    return demands[order]
