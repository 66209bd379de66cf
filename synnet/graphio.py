# SPDX-License-Identifier: GPL-2.0-only
"""Import user topologies from GraphML / GML files (e.g. Internet Topology Zoo).

Rules:

* The file type is chosen by suffix: ``.graphml``/``.xml`` -> GraphML, ``.gml`` -> GML
  (GML nodes are identified by their ``id``, so Topology Zoo files with duplicate labels load).
* Directed graphs are read as undirected. Self-loops are dropped.
* Parallel links between the same two nodes (multi-edges, or both directions of a
  directed graph) are collapsed into one link whose datarate is the **maximum** and whose
  explicit delay (if any) is the **minimum** of the parallel links.
* Datarate: the first attribute of ``datarate_attrs`` present on the edge
  (default ``LinkSpeedRaw`` (Topology Zoo, bps), ``datarate_bps``, ``bandwidth``,
  ``capacity``), interpreted as bps. An edge with none of them raises a ValueError naming
  the attributes and the edge, unless ``default_datarate_bps`` is given. With
  ``datarate_range=(lo, hi)`` the datarates are min-max scaled into that interval.
* Positions: ``(Longitude, Latitude)`` when every node has both (``position_attrs``),
  otherwise the Fruchterman-Reingold layout (seed 9001); centred on the origin.
* Delay: the ``delay_attr`` edge attribute (ms) if given; otherwise computed from the
  positions with the synthetic rule (mean 5 ms, min >= 1 ms, see :mod:`synnet.topology`).
* Potentials: from positions and degrees as for synthetic graphs.
* Nodes are renumbered ``0..N-1`` in file order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import networkx as nx
import numpy as np

from . import topology as topo_mod
from .presets import MAX_DATARATE_BPS, MIN_DATARATE_BPS, check_float
from .scenario import Topology

DEFAULT_DATARATE_ATTRS = ("LinkSpeedRaw", "datarate_bps", "bandwidth", "capacity")


def _read(path: str) -> nx.Graph:
    suffix = os.path.splitext(path)[1].lower()
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such topology file: {path!r}")
    try:
        if suffix in (".graphml", ".xml"):
            return nx.read_graphml(path)
        if suffix == ".gml":
            return nx.read_gml(path, label="id")
    except Exception as exc:  # networkx raises many types for malformed input
        raise ValueError(f"could not parse {path!r} as {suffix[1:].upper()}: {exc}") from exc
    raise ValueError(f"unsupported topology file suffix {suffix!r} for {path!r}; accepted: .graphml, .xml, .gml")


def _as_float(value: object, what: str) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{what} must be a positive finite number, got {value!r}")
    return v


def _coordinate(value: object, what: str) -> float:
    """A finite position coordinate (any sign), or a ValueError naming the node."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} is not a number: {value!r}; positions need numeric "
                         "coordinates (or drop the attributes to get a computed layout)") from None
    if not np.isfinite(v):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return v


def load_topology(
    path: str | os.PathLike,
    *,
    datarate_attrs: str | Sequence[str] = DEFAULT_DATARATE_ATTRS,
    default_datarate_bps: float | None = None,
    datarate_range: tuple[float, float] | None = None,
    delay_attr: str | None = None,
    position_attrs: tuple[str, str] = ("Longitude", "Latitude"),
    name: str | None = None,
    seed: int = 0,
) -> Topology:
    """Load a GraphML/GML file as a :class:`Topology` (rules in the module docstring).

    Args:
        path: ``.graphml``/``.xml`` or ``.gml`` file.
        datarate_attrs: Edge attribute name(s) holding the datarate in bps, tried in order.
        default_datarate_bps: Datarate for edges lacking every datarate attribute
            (None: such edges are an error).
        datarate_range: Optional ``(lo, hi)`` to min-max scale datarates into.
        delay_attr: Optional edge attribute holding the delay in ms.
        position_attrs: Node attribute names used as (x, y) positions if all nodes have them.
        name: Topology name (default: the graph's ``label``/``name`` or the file stem).
        seed: Seed for the delay perturbation.

    Raises:
        ValueError: unparsable file, missing/invalid attribute (naming attribute and edge),
            empty or disconnected graph.
    """
    if default_datarate_bps is not None:
        default_datarate_bps = check_float(
            "default_datarate_bps", default_datarate_bps, MIN_DATARATE_BPS, MAX_DATARATE_BPS,
            why="it is the datarate (bit/s) of links without one in the file; None makes them an error",
        )
    path = os.fspath(path)
    raw = _read(path)
    attrs = (datarate_attrs,) if isinstance(datarate_attrs, str) else tuple(datarate_attrs)
    nodes = list(raw.nodes())
    if len(nodes) < 2:
        raise ValueError(f"{path!r}: a topology needs at least 2 nodes, found {len(nodes)}")
    idx = {v: i for i, v in enumerate(nodes)}
    rates: dict[tuple[int, int], float] = {}
    delays: dict[tuple[int, int], float] = {}
    for u, v, data in raw.edges(data=True):
        if u == v:
            continue
        key = tuple(sorted((idx[u], idx[v])))
        label = f"edge ({u!r}, {v!r})"
        rate = None
        for a in attrs:
            if a in data:
                rate = _as_float(data[a], f"{path!r}: attribute {a!r} of {label}")
                break
        if rate is None:
            if default_datarate_bps is None:
                raise ValueError(
                    f"{path!r}: {label} has no datarate attribute (looked for {', '.join(map(repr, attrs))}); "
                    "pass datarate_attrs=... or default_datarate_bps=..."
                )
            rate = float(default_datarate_bps)
        rates[key] = max(rates.get(key, 0.0), rate)
        if delay_attr is not None:
            if delay_attr not in data:
                raise ValueError(f"{path!r}: {label} has no delay attribute {delay_attr!r}")
            d = _as_float(data[delay_attr], f"{path!r}: attribute {delay_attr!r} of {label}")
            delays[key] = min(delays.get(key, np.inf), d)
    g = nx.empty_graph(len(nodes))
    g.add_edges_from(rates)
    if not nx.is_connected(g):
        comps = nx.number_connected_components(g)
        raise ValueError(f"{path!r}: the topology is disconnected ({comps} components); synnet needs a connected graph")
    edges = topo_mod.sorted_edges(g)
    keys = [tuple(e) for e in edges.tolist()]
    rate_arr = np.array([rates[k] for k in keys], dtype=np.float64)
    if datarate_range is not None:
        lo, hi = map(float, datarate_range)
        if not 0 < lo <= hi:
            raise ValueError(f"datarate_range must satisfy 0 < lo <= hi, got {datarate_range!r}")
        rate_arr = topo_mod.minmax_scale(rate_arr, lo, hi)

    lonlat = [(raw.nodes[v].get(position_attrs[0]), raw.nodes[v].get(position_attrs[1])) for v in nodes]
    if all(x is not None and y is not None for x, y in lonlat):
        pos = np.array([[_coordinate(c, f"{path!r}: node {v!r} {name}")
                         for c, name in zip(xy, position_attrs)]
                        for v, xy in zip(nodes, lonlat)], dtype=np.float64)
        pos -= pos.mean(axis=0)
    else:
        pos = topo_mod.layout(g, int(topo_mod.TOPOLOGY_DEFAULTS["layout_seed"]))
    degrees = np.array([g.degree(i) for i in range(len(nodes))], dtype=np.float64)
    potentials = topo_mod.node_potentials(pos, degrees)
    if delay_attr is not None:
        delay_arr = np.array([delays[k] for k in keys], dtype=np.float64)
    else:
        lengths = np.linalg.norm(pos[edges[:, 0]] - pos[edges[:, 1]], axis=1)
        delay_arr = topo_mod.edge_delays(lengths, np.random.default_rng(seed))
    if name is None:
        name = str(raw.graph.get("label") or raw.graph.get("name") or os.path.splitext(os.path.basename(path))[0])
    return Topology(
        name=name, num_nodes=len(nodes), edges=edges, datarate_bps=rate_arr, delay_ms=delay_arr,
        positions=pos, potentials=potentials,
    )
