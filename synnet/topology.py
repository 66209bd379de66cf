# SPDX-License-Identifier: GPL-2.0-only
"""Topology generation and link/node attribute assignment (PackeRL paper, App. A.5).

Graph models (all via NetworkX, all connected, all seeded from a NumPy generator):

* ``ba``  Barabasi-Albert, attachment ``m = ba_m`` (2); only for ``N <= 50``.
  BA graphs are connected by construction.
* ``er``  Erdos-Renyi ``G(N, p)`` with ``p = er_avg_degree / (N - 1)`` (3 / (N-1)).
  Resampled (new seed each time) up to ``_ER_MAX_TRIES`` times until connected. For
  large ``N`` an average degree of 3 is practically never connected, so after that
  the last sample is *repaired*: every component other than the largest is joined to
  the largest by one edge between uniformly drawn nodes (seeded). The number of
  repair edges is recorded in ``params["er_repair_edges"]``.
* ``ws``  Watts-Strogatz via ``nx.connected_watts_strogatz_graph`` (``k = ws_k`` = 4,
  rewiring ``ws_p`` = 0.3), which itself resamples until connected.

Fixed topologies ``nsfnet`` and ``geant2`` are read from ``synnet/data/*.json``.

Attribute assignment (all graphs):

1. Layout: ``nx.spring_layout(G, seed=layout_seed)`` (Fruchterman-Reingold, seed 9001),
   then centred so the mean position is the origin.
2. Location weight ``w_p = 1 / (||x_i|| + 0.01)`` (the 0.01 avoids a division by zero
   for a node at the origin; spring_layout coordinates lie in [-1, 1]), min-max scaled
   to [1, 10]. Degree weight ``w_d`` = degree, min-max scaled to [1, 10].
3. Potential ``c' = 0.6 w_d + 0.4 w_p``, ``c = c' / max(c')``.
4. Delay: Euclidean edge length times ``U[0.9, 1.1]``, then multiplied by
   ``delay_mean_ms / mean`` so the mean is ``delay_mean_ms`` (5 ms). If the minimum is
   then below ``delay_min_ms`` (1 ms), the affine map ``d -> a + b d`` that keeps the
   mean at 5 ms and moves the minimum to exactly 1 ms is applied
   (``b = (mean - min_target) / (mean - min(d))``). Order and relative spacing of the
   delays are preserved. If all lengths are equal (or zero), every delay is the mean.
5. Datarate: ``max(c_u, c_v)`` times ``U[0.9, 1.1]``, min-max scaled into
   ``[datarate_min, datarate_max]`` (50e6 .. 200e6 bps).
   Fixed topologies with known capacities instead min-max scale the shipped capacities
   into the same interval (no perturbation): for NSFNet 10 kbps -> 50 Mbps and
   40 kbps -> 200 Mbps. GEANT2 has no known capacities (see ``data/geant2.json``) and
   uses the synthetic rule.

Min-max scaling of an all-equal vector returns the interval midpoint (no NaN).
"""

from __future__ import annotations

import json
from importlib import resources

import networkx as nx
import numpy as np

from .checks import MAX_NODES, check_int
from .scenario import Topology

MODELS = ("ba", "er", "ws")
FIXED_TOPOLOGIES = ("nsfnet", "geant2")
BA_MAX_NODES = 50
_ER_MAX_TRIES = 50
_LOCATION_EPS = 0.01

TOPOLOGY_DEFAULTS: dict[str, float | int] = {
    "ba_m": 2,
    "er_avg_degree": 3.0,
    "ws_k": 4,
    "ws_p": 0.3,
    "layout_seed": 9001,
    "perturbation": 0.1,
    "delay_mean_ms": 5.0,
    "delay_min_ms": 1.0,
    "datarate_min": 50e6,
    "datarate_max": 200e6,
}


def minmax_scale(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Linearly map ``x`` onto ``[lo, hi]``; an all-equal (or empty) ``x`` maps to the midpoint."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x.copy()
    xmin, xmax = x.min(), x.max()
    span = xmax - xmin
    if not span > 0 or not np.isfinite(span):
        return np.full_like(x, (lo + hi) / 2.0)
    out = lo + (x - xmin) * ((hi - lo) / span)
    return np.clip(out, lo, hi)


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def make_graph(model: str, num_nodes: int, rng: np.random.Generator, **kw: float) -> tuple[nx.Graph, int]:
    """Sample a connected graph of the given model.

    Args:
        model: One of ``"ba"``, ``"er"``, ``"ws"``.
        num_nodes: Number of nodes ``N``.
        rng: Source of randomness (NetworkX gets integer seeds drawn from it).
        **kw: ``ba_m``, ``er_avg_degree``, ``ws_k``, ``ws_p`` (defaults from TOPOLOGY_DEFAULTS).

    Returns:
        The graph (nodes ``0..N-1``) and the number of ER repair edges (0 otherwise).

    Raises:
        ValueError: for an unknown model or parameters the model cannot satisfy.
    """
    p = {**TOPOLOGY_DEFAULTS, **kw}
    n = check_int("num_nodes", num_nodes, 1, MAX_NODES)
    if model == "ba":
        m = int(p["ba_m"])
        if n > BA_MAX_NODES:
            raise ValueError(f"Barabasi-Albert graphs are limited to <= {BA_MAX_NODES} nodes, got {n}")
        if not 1 <= m < n:
            raise ValueError(f"ba_m must satisfy 1 <= ba_m < num_nodes ({n}), got {m}")
        return nx.barabasi_albert_graph(n, m, seed=_seed(rng)), 0
    if model == "ws":
        k = int(p["ws_k"])
        if not 2 <= k < n:
            raise ValueError(f"ws_k must satisfy 2 <= ws_k < num_nodes ({n}), got {k}")
        try:
            return nx.connected_watts_strogatz_graph(n, k, float(p["ws_p"]), tries=1000, seed=_seed(rng)), 0
        except nx.NetworkXError as exc:  # pragma: no cover - practically unreachable for k >= 2
            raise ValueError(f"could not sample a connected Watts-Strogatz graph: {exc}") from exc
    if model == "er":
        prob = min(1.0, float(p["er_avg_degree"]) / max(n - 1, 1))
        g = nx.empty_graph(n)
        for _ in range(_ER_MAX_TRIES):
            g = nx.fast_gnp_random_graph(n, prob, seed=_seed(rng))
            if nx.is_connected(g):
                return g, 0
        comps = sorted(nx.connected_components(g), key=lambda c: (-len(c), min(c)))
        giant = np.array(sorted(comps[0]))
        for comp in comps[1:]:
            members = np.array(sorted(comp))
            g.add_edge(int(rng.choice(members)), int(rng.choice(giant)))
        return g, len(comps) - 1
    raise ValueError(f"unknown graph model {model!r}; valid models: {', '.join(MODELS)}")


def load_fixed(name: str) -> tuple[nx.Graph, np.ndarray | None, str]:
    """Load a shipped topology.

    Returns:
        ``(graph, capacities or None, source string)``; capacities are aligned with
        ``sorted(graph.edges)``.
    """
    if name not in FIXED_TOPOLOGIES:
        raise ValueError(f"unknown fixed topology {name!r}; valid: {', '.join(FIXED_TOPOLOGIES)}")
    text = resources.files("synnet").joinpath("data", f"{name}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    g = nx.empty_graph(int(data["num_nodes"]))
    caps: dict[tuple[int, int], float | None] = {}
    for u, v, cap in data["edges"]:
        u, v = sorted((int(u), int(v)))
        g.add_edge(u, v)
        caps[(u, v)] = cap
    ordered = [caps[e] for e in sorted(caps)]
    cap_arr = None if any(c is None for c in ordered) else np.asarray(ordered, dtype=np.float64)
    return g, cap_arr, data["source"]


def sorted_edges(g: nx.Graph) -> np.ndarray:
    """Edges of ``g`` as a lexicographically sorted ``(E, 2)`` int32 array with ``u < v``."""
    e = np.array([sorted(uv) for uv in g.edges()], dtype=np.int32).reshape(-1, 2)
    if len(e):
        e = e[np.lexsort((e[:, 1], e[:, 0]))]
    return e


def layout(g: nx.Graph, seed: int = 9001) -> np.ndarray:
    """Fruchterman-Reingold layout of ``g`` (nodes ``0..N-1``) centred on the origin."""
    n = g.number_of_nodes()
    if n == 1:
        return np.zeros((1, 2))
    pos = nx.spring_layout(g, seed=int(seed))
    xy = np.array([pos[i] for i in range(n)], dtype=np.float64)
    return xy - xy.mean(axis=0)


def node_potentials(positions: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """Traffic potentials ``c`` from layout positions and degrees (see module docstring)."""
    dist = np.linalg.norm(positions, axis=1)
    w_p = minmax_scale(1.0 / (dist + _LOCATION_EPS), 1.0, 10.0)
    w_d = minmax_scale(np.asarray(degrees, dtype=np.float64), 1.0, 10.0)
    c = 0.6 * w_d + 0.4 * w_p
    return c / c.max()


def edge_delays(
    lengths: np.ndarray, rng: np.random.Generator, mean_ms: float = 5.0, min_ms: float = 1.0, perturbation: float = 0.1
) -> np.ndarray:
    """Delays with mean ``mean_ms`` and minimum ``>= min_ms`` from edge lengths (module docstring)."""
    lengths = np.asarray(lengths, dtype=np.float64)
    if lengths.size == 0:
        return lengths.copy()
    d = lengths * rng.uniform(1.0 - perturbation, 1.0 + perturbation, size=lengths.shape)
    mean = d.mean()
    if not mean > 0 or np.ptp(d) == 0:
        return np.full_like(d, mean_ms)
    d = d * (mean_ms / mean)
    dmin = d.min()
    if dmin < min_ms:
        b = (mean_ms - min_ms) / (mean_ms - dmin)
        d = min_ms + b * (d - dmin)
        d = np.maximum(d, min_ms)  # guard against -0 ulp rounding
    return d


def assign_attributes(
    g: nx.Graph,
    name: str,
    rng: np.random.Generator,
    capacities: np.ndarray | None = None,
    **kw: float,
) -> Topology:
    """Turn a connected graph into a :class:`Topology` with positions, potentials, delays, datarates.

    Args:
        g: Graph with nodes ``0..N-1``.
        name: Topology name.
        rng: Randomness for the U[0.9, 1.1] perturbations.
        capacities: Optional per-edge capacities aligned with :func:`sorted_edges`; if given
            they are min-max scaled into the datarate interval instead of the synthetic rule.
        **kw: Overrides of TOPOLOGY_DEFAULTS (layout_seed, perturbation, delay_mean_ms,
            delay_min_ms, datarate_min, datarate_max).
    """
    p = {**TOPOLOGY_DEFAULTS, **kw}
    n = g.number_of_nodes()
    edges = sorted_edges(g)
    pos = layout(g, int(p["layout_seed"]))
    degrees = np.array([g.degree(i) for i in range(n)], dtype=np.float64)
    c = node_potentials(pos, degrees)
    u, v = edges[:, 0], edges[:, 1]
    lengths = np.linalg.norm(pos[u] - pos[v], axis=1)
    pert = float(p["perturbation"])
    delay = edge_delays(lengths, rng, float(p["delay_mean_ms"]), float(p["delay_min_ms"]), pert)
    lo, hi = float(p["datarate_min"]), float(p["datarate_max"])
    if capacities is not None:
        rate = minmax_scale(capacities, lo, hi)
    else:
        raw = np.maximum(c[u], c[v]) * rng.uniform(1.0 - pert, 1.0 + pert, size=len(edges))
        rate = minmax_scale(raw, lo, hi)
    return Topology(
        name=name, num_nodes=n, edges=edges, datarate_bps=rate, delay_ms=delay, positions=pos, potentials=c
    )
