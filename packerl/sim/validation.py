# SPDX-License-Identifier: GPL-2.0-only
"""Input validation for the simulator client.

Everything is checked in Python, vectorised, before it reaches the simulator, and every error
names the offending entry and says what is accepted. The simulator checks again, but its
messages are a second line of defence, not the user interface.

Scalars go through :func:`check_int`, :func:`check_float` and :func:`check_bool` (strict:
``bool`` is not an integer, a string is not a number, NaN and infinities are refused), and every
value is held to a range the simulator can represent: the limits (``MAX_DATARATE_BPS``,
``MIN_UDP_RATE_BPS``, ``MIN_STEP_MS``, ``MAX_DEMAND_BYTES``, ...) are documented once, in
:mod:`synnet.presets`, which scenario generation checks against too, and re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from synnet.presets import (
    MAX_DATARATE_BPS,
    MAX_DELAY_MS,
    MAX_DEMAND_BYTES,
    MAX_EDGES,
    MAX_EPISODE_MS,
    MAX_NODES,
    MAX_QUEUE_PACKETS,
    MAX_QUEUE_SCALE,
    MAX_SIM_SEED,
    MAX_STEP_MS,
    MAX_STEPS,
    MAX_UDP_RATE_BPS,
    MIN_DATARATE_BPS,
    MIN_QUEUE_SCALE,
    MIN_STEP_MS,
    MIN_UDP_RATE_BPS,
    check_bool,
    check_float,
    check_int,
)

#: Longest accepted simulator timeout (s), about 116 days.
MAX_TIMEOUT_S = 1e7
#: Bits of the MTU-sized packets the simulator's device buffers are counted in.
_MTU_BITS = 1500.0 * 8.0

__all__ = [
    "MAX_DATARATE_BPS", "MAX_DELAY_MS", "MAX_DEMAND_BYTES", "MAX_EDGES", "MAX_EPISODE_MS",
    "MAX_NODES", "MAX_QUEUE_PACKETS", "MAX_QUEUE_SCALE", "MAX_SIM_SEED", "MAX_STEPS",
    "MAX_STEP_MS", "MAX_TIMEOUT_S", "MAX_UDP_RATE_BPS", "MIN_DATARATE_BPS", "MIN_QUEUE_SCALE",
    "MIN_STEP_MS", "MIN_UDP_RATE_BPS", "TopologyArrays", "check_bool", "check_buffers",
    "check_float", "check_int", "validate_demands", "validate_failures", "validate_next_hops",
    "validate_topology",
]

DEMAND_FIELDS = ("time_ms", "src", "dst", "bytes", "is_tcp", "rate_bps")
FAILURE_FIELDS = ("time_ms", "edge")


@dataclass(frozen=True)
class TopologyArrays:
    """A validated topology: ``edges`` (E, 2) int32 with u < v, per-edge datarate and delay."""

    num_nodes: int
    edges: np.ndarray
    datarate_bps: np.ndarray
    delay_ms: np.ndarray

    @property
    def num_edges(self) -> int:
        return int(self.edges.shape[0])


def _field(obj: Any, name: str, what: str) -> np.ndarray:
    if isinstance(obj, Mapping):
        if name not in obj:
            raise ValueError(f"{what} lacks `{name}`; give a mapping or object with it")
        return np.asarray(obj[name])
    if isinstance(obj, np.ndarray) and obj.dtype.names is not None:
        if name not in obj.dtype.names:
            raise ValueError(
                f"{what} lacks field `{name}`; its fields are {obj.dtype.names}"
            )
        return obj[name]
    if hasattr(obj, name):
        return np.asarray(getattr(obj, name))
    raise ValueError(f"{what} lacks `{name}`; give a mapping, structured array or object with it")


def _scalar(obj: Any, name: str, what: str) -> Any:
    """A scalar field as given (a 0-d array becomes its NumPy scalar), for the strict checks."""
    if isinstance(obj, Mapping):
        if name not in obj:
            raise ValueError(f"{what} lacks `{name}`; give a mapping or object with it")
        value = obj[name]
    elif hasattr(obj, name):
        value = getattr(obj, name)
    else:
        raise ValueError(f"{what} lacks `{name}`; give a mapping or object with it")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    return value


def _numeric(obj: Any, name: str, what: str) -> np.ndarray:
    """A numeric column as float64; strings, booleans and objects are refused, not parsed."""
    raw = np.asarray(_field(obj, name, what))
    if raw.dtype.kind not in "iuf":
        raise ValueError(f"`{name}` must hold numbers, got dtype {raw.dtype}")
    return np.asarray(raw, dtype=np.float64)


def _empty(value: Any) -> bool:
    """True for an empty list or tuple: no events this step."""
    return isinstance(value, (list, tuple)) and len(value) == 0


def _require_int(arr: np.ndarray, name: str) -> None:
    if arr.dtype.kind not in "iu":
        raise ValueError(f"`{name}` must hold integers, got dtype {arr.dtype}")


def _require_finite(arr: np.ndarray, name: str) -> None:
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"`{name}` must be numeric, got dtype {arr.dtype}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"`{name}`[{i}] is {arr[i]}; it must be a finite number")


def validate_topology(topology: Any) -> TopologyArrays:
    """Check a topology (synnet ``Topology``, mapping or object with ``num_nodes``, ``edges``,
    ``datarate_bps``, ``delay_ms``) and return it as contiguous arrays.

    Raises:
        ValueError: on a wrong shape or dtype, an unknown node id, a self-loop or duplicate
            edge, a non-positive datarate, a negative or NaN delay, or a disconnected graph.
    """
    num_nodes = check_int("`num_nodes`", _scalar(topology, "num_nodes", "topology"), 2, MAX_NODES,
                          why="the simulator's shared memory holds 20 bytes per node pair; "
                              "split larger networks or raise packerl.sim.validation.MAX_NODES")
    edges = np.asarray(_field(topology, "edges", "topology"))
    if edges.ndim != 2 or edges.shape[1] != 2 or edges.shape[0] == 0:
        raise ValueError(f"`edges` must have shape (E, 2) with E >= 1, got {edges.shape}")
    _require_int(edges, "edges")
    if edges.shape[0] > MAX_EDGES:
        raise ValueError(f"the topology has {edges.shape[0]} edges; at most {MAX_EDGES} fit the "
                         "simulator's shared memory")
    rate = _numeric(topology, "datarate_bps", "topology")
    delay = _numeric(topology, "delay_ms", "topology")
    e = edges.shape[0]
    for name, arr in (("datarate_bps", rate), ("delay_ms", delay)):
        if arr.shape != (e,):
            raise ValueError(f"`{name}` must have shape ({e},) like `edges`, got {arr.shape}")
        _require_finite(arr, name)
    bad = (edges < 0) | (edges >= num_nodes)
    if bad.any():
        i = int(np.flatnonzero(bad.any(axis=1))[0])
        raise ValueError(
            f"edge {i} = {tuple(edges[i].tolist())} names an unknown node; "
            f"node ids are 0..{num_nodes - 1}"
        )
    loops = edges[:, 0] == edges[:, 1]
    if loops.any():
        i = int(np.flatnonzero(loops)[0])
        raise ValueError(f"edge {i} = {tuple(edges[i].tolist())} is a self-loop; drop it")
    canon = np.sort(edges, axis=1)
    _, first, counts = np.unique(canon, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = canon[first[np.flatnonzero(counts > 1)[0]]]
        raise ValueError(f"edge {tuple(dup.tolist())} appears more than once; merge duplicates")
    bad_rate = (rate < MIN_DATARATE_BPS) | (rate > MAX_DATARATE_BPS)
    if bad_rate.any():
        i = int(np.flatnonzero(bad_rate)[0])
        raise ValueError(
            f"`datarate_bps`[{i}] is {rate[i]}; datarates must lie in [{MIN_DATARATE_BPS:g}, "
            f"{MAX_DATARATE_BPS:g}] bps (ns-3 holds them as a 64-bit bps count)")
    bad_delay = (delay < 0) | (delay > MAX_DELAY_MS)
    if bad_delay.any():
        i = int(np.flatnonzero(bad_delay)[0])
        raise ValueError(f"`delay_ms`[{i}] is {delay[i]}; delays must lie in [0, "
                         f"{MAX_DELAY_MS:g}] ms")
    adj = csr_matrix((np.ones(e), (canon[:, 0], canon[:, 1])), shape=(num_nodes, num_nodes))
    ncomp, labels = connected_components(adj, directed=False)
    if ncomp > 1:
        lonely = np.flatnonzero(labels != labels[0])[:5].tolist()
        raise ValueError(
            f"the topology is disconnected ({ncomp} components; e.g. nodes {lonely} cannot "
            "reach node 0); only connected topologies are accepted"
        )
    return TopologyArrays(
        num_nodes=num_nodes,
        edges=np.ascontiguousarray(canon, dtype=np.int32),
        datarate_bps=np.ascontiguousarray(rate),
        delay_ms=np.ascontiguousarray(delay),
    )


def check_buffers(topology: TopologyArrays, queue_scale: float) -> None:
    """Refuse a device buffer the simulator cannot hold: each link buffers
    ``ceil(datarate * 2 * delay * queue_scale / 12000 bits)`` packets, at most
    ``MAX_QUEUE_PACKETS`` (the simulator counts them in a uint32)."""
    with np.errstate(over="ignore"):
        packets = np.ceil(topology.datarate_bps * 2.0 * topology.delay_ms / 1e3 * queue_scale
                          / _MTU_BITS)
    bad = packets > MAX_QUEUE_PACKETS
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"edge {i}'s device buffer would hold {packets[i]:.3g} packets (datarate "
            f"{topology.datarate_bps[i]:g} bps x round trip {2 * topology.delay_ms[i]:g} ms x "
            f"queue_scale {queue_scale:g}), more than the {MAX_QUEUE_PACKETS} the simulator "
            "holds; lower `queue_scale`, the datarate or the delay")


def validate_next_hops(next_hops: Any, adjacency: np.ndarray) -> np.ndarray:
    """Check an (N, N) next-hop table against the current adjacency (failed links removed).

    Entry ``[u, z]`` is the neighbour of ``u`` that packets for ``z`` go to, or -1 for "no
    route" (they are dropped and counted). The diagonal is ignored.

    Returns:
        The table as a C-contiguous int32 array.
    """
    n = adjacency.shape[0]
    arr = np.asarray(next_hops)
    if arr.shape != (n, n):
        raise ValueError(f"`next_hops` must have shape ({n}, {n}), got {arr.shape}")
    _require_int(arr, "next_hops")
    unknown = (arr < -1) | (arr >= n)
    if unknown.any():
        u, z = (int(x) for x in np.argwhere(unknown)[0])
        raise ValueError(
            f"next_hops[{u}, {z}] = {arr[u, z]} is not a node id; use 0..{n - 1} or -1 (no route)"
        )
    want = arr >= 0
    np.fill_diagonal(want, False)
    ok = np.take_along_axis(adjacency, np.clip(arr, 0, n - 1), axis=1)
    bad = want & ~ok
    if bad.any():
        u, z = (int(x) for x in np.argwhere(bad)[0])
        neigh = np.flatnonzero(adjacency[u]).tolist()
        raise ValueError(
            f"next_hops[{u}, {z}] = {arr[u, z]} is not a neighbour of node {u} over a working "
            f"link; node {u}'s neighbours are {neigh} (or use -1 for no route)"
        )
    return np.ascontiguousarray(arr, dtype=np.int32)


def _in_step(times: np.ndarray, start: float, end: float, what: str) -> None:
    bad = (times < start) | (times >= end)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{what}[{i}] arrives at {times[i]} ms, outside this step's window "
            f"[{start}, {end}) ms"
        )


def validate_demands(demands: Any, num_nodes: int, start_ms: float, end_ms: float) -> dict:
    """Check one step's demands; return their columns (see ``DEMAND_FIELDS``).

    Accepts a structured array (e.g. ``synnet.DEMAND_DTYPE``), a mapping of columns, or None
    or an empty list (no demands). Sizes lie in [1, ``MAX_DEMAND_BYTES``], ``is_tcp`` is
    boolean or 0/1, UDP rates lie in [``MIN_UDP_RATE_BPS``, ``MAX_UDP_RATE_BPS``].
    The common case (everything valid) costs one combined vectorised check; only when it
    fails are the columns examined again to name the offending entry.
    """
    if demands is None or _empty(demands):
        return _no_demands()
    cols = {f: np.asarray(_field(demands, f, "demands")).reshape(-1) for f in DEMAND_FIELDS}
    count = cols["time_ms"].shape[0]
    for f, col in cols.items():
        if col.shape[0] != count:
            raise ValueError(f"demand column `{f}` has {col.shape[0]} entries, `time_ms` {count}")
    if count == 0:  # empty columns of any dtype: no demands this step
        return _no_demands()
    for f in ("src", "dst", "bytes"):
        _require_int(cols[f], f"demands.{f}")
    if cols["is_tcp"].dtype.kind not in "biu":
        raise ValueError(f"`demands.is_tcp` must be boolean, got dtype {cols['is_tcp'].dtype}")
    for f in ("time_ms", "rate_bps"):
        if cols[f].dtype.kind not in "iuf":
            raise ValueError(f"`demands.{f}` must be numeric, got dtype {cols[f].dtype}")
    src, dst, t, rate = cols["src"], cols["dst"], cols["time_ms"], cols["rate_bps"]
    is_tcp = cols["is_tcp"].astype(bool, copy=False)
    size = cols["bytes"]
    with np.errstate(invalid="ignore"):
        bad = ((src < 0) | (src >= num_nodes) | (dst < 0) | (dst >= num_nodes) | (src == dst)
               | (size <= 0) | (size > MAX_DEMAND_BYTES) | ~(t >= start_ms) | ~(t < end_ms)
               | ~np.isfinite(rate)
               | (~is_tcp & ~((rate >= MIN_UDP_RATE_BPS) & (rate <= MAX_UDP_RATE_BPS))))
        if cols["is_tcp"].dtype.kind != "b":
            bad |= (cols["is_tcp"] != 0) & (cols["is_tcp"] != 1)
    if bad.any():
        _explain_bad_demands(cols, num_nodes, start_ms, end_ms)
    cols["is_tcp"] = is_tcp
    return cols


def _no_demands() -> dict:
    return {
        "time_ms": np.empty(0, np.float64), "src": np.empty(0, np.int32),
        "dst": np.empty(0, np.int32), "bytes": np.empty(0, np.int64),
        "is_tcp": np.empty(0, np.uint8), "rate_bps": np.empty(0, np.float64),
    }


def _explain_bad_demands(cols: dict, num_nodes: int, start_ms: float, end_ms: float) -> None:
    """Raise the ValueError that names the first problem in a batch known to be invalid."""
    for f in ("time_ms", "rate_bps"):
        _require_finite(cols[f], f"demands.{f}")
    for f in ("src", "dst"):
        bad = (cols[f] < 0) | (cols[f] >= num_nodes)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"demands.{f}[{i}] = {cols[f][i]} is not a node id; use 0..{num_nodes - 1}"
            )
    same = cols["src"] == cols["dst"]
    if same.any():
        i = int(np.flatnonzero(same)[0])
        raise ValueError(f"demand {i} has src == dst == {cols['src'][i]}; they must differ")
    if (cols["bytes"] <= 0).any():
        i = int(np.flatnonzero(cols["bytes"] <= 0)[0])
        raise ValueError(f"demands.bytes[{i}] = {cols['bytes'][i]}; sizes must be positive")
    if (cols["bytes"] > MAX_DEMAND_BYTES).any():
        i = int(np.flatnonzero(cols["bytes"] > MAX_DEMAND_BYTES)[0])
        raise ValueError(f"demands.bytes[{i}] = {cols['bytes'][i]}; sizes must be at most 2**53 "
                         f"= {MAX_DEMAND_BYTES} bytes (the simulator's int64 field and double "
                         "counters); split the demand")
    if cols["is_tcp"].dtype.kind != "b":
        flag = cols["is_tcp"]
        odd = (flag != 0) & (flag != 1)
        if odd.any():
            i = int(np.flatnonzero(odd)[0])
            raise ValueError(f"demands.is_tcp[{i}] = {flag[i]}; use True/1 (TCP) or False/0 (UDP)")
    is_tcp = cols["is_tcp"].astype(bool)
    rate = cols["rate_bps"]
    bad_rate = ~is_tcp & ~((rate >= MIN_UDP_RATE_BPS) & (rate <= MAX_UDP_RATE_BPS))
    if bad_rate.any():
        i = int(np.flatnonzero(bad_rate)[0])
        raise ValueError(
            f"demands.rate_bps[{i}] = {rate[i]}; UDP demands need a positive rate in "
            f"[{MIN_UDP_RATE_BPS:g}, {MAX_UDP_RATE_BPS:g}] bps (slower ones space their packets "
            "beyond the simulator's clock)"
        )
    _in_step(cols["time_ms"].astype(np.float64), start_ms, end_ms, "demands.time_ms")
    raise AssertionError("unreachable: a demand was flagged but no check names it")


def validate_failures(
    failures: Any, up: np.ndarray, start_ms: float, end_ms: float
) -> dict:
    """Check one step's link failures against the links still up; return contiguous columns."""
    if failures is None or _empty(failures):
        return {"time_ms": np.empty(0, np.float64), "edge": np.empty(0, np.int32)}
    cols = {f: np.asarray(_field(failures, f, "failures")).reshape(-1) for f in FAILURE_FIELDS}
    if cols["time_ms"].shape != cols["edge"].shape:
        raise ValueError("failure columns `time_ms` and `edge` differ in length")
    if cols["edge"].size == 0:
        return {"time_ms": np.empty(0, np.float64), "edge": np.empty(0, np.int32)}
    _require_int(cols["edge"], "failures.edge")
    _require_finite(cols["time_ms"], "failures.time_ms")
    e = up.shape[0]
    edge = cols["edge"]
    bad = (edge < 0) | (edge >= e)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"failures.edge[{i}] = {edge[i]} is not an edge index; use 0..{e - 1}")
    down = ~up[edge]
    if down.any():
        i = int(np.flatnonzero(down)[0])
        raise ValueError(f"failures.edge[{i}] = {edge[i]} has already failed")
    uniq, counts = np.unique(edge, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"edge {uniq[counts > 1][0]} fails more than once in this step")
    _in_step(cols["time_ms"].astype(np.float64), start_ms, end_ms, "failures.time_ms")
    return {
        "time_ms": np.ascontiguousarray(cols["time_ms"], np.float64),
        "edge": np.ascontiguousarray(edge, np.int32),
    }
