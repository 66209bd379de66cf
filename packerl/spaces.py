# SPDX-License-Identifier: GPL-2.0-only
"""Fixed-shape observation and action spaces, and the conversions between them and graphs.

stable-baselines3 and Gymnasium's vector envs need fixed shapes, so a network state is padded
to ``max_nodes`` nodes and ``max_edges`` undirected edges (``2 * max_edges`` directed edge
slots) with masks. Directed edge slot ``2*i`` is topology edge ``i`` as ``(u, v)`` with
``u < v``, slot ``2*i + 1`` is ``(v, u)``; failed links keep their slots and are masked out.

Observation keys, in this order:

- ``global`` (9,): the paper's d_U = 9 global features (``GLOBAL_OBS_FEATURES``).
- ``edge_attr`` (2*max_edges, 10): d_E = 10 features per directed edge (``EDGE_OBS_FEATURES``).
- ``node_attr`` (max_nodes, 3): only with ``node_features=True`` (``NODE_OBS_FEATURES``).
- ``link_props`` (2*max_edges, 2): raw datarate (bit/s) and delay (ms) of every edge slot,
  never normalised or stacked, for policies that need the true link properties (EIGRP
  weights, FieldLines' positional distances).
- ``edge_index`` (2, 2*max_edges) int64: source and target node of every edge slot.
- ``edge_mask`` (2*max_edges,) int8: 1 for slots holding a working link.
- ``node_mask`` (max_nodes,) int8: 1 for real nodes.
- ``adjacency`` (max_nodes, max_nodes) int8: ``[u, v]`` is 1 if v is a valid next hop of u,
  i.e. the valid-next-hop mask for every destination.
- ``sizes`` (2,) int64: number of nodes and of working directed edges.

Action (next-hop variant): a flat ``MultiDiscrete([max_nodes] * max_nodes**2)``; entry
``u * max_nodes + z`` is the neighbour of ``u`` that packets for ``z`` are forwarded to.
Entries for padded nodes and for ``u == z`` are ignored (their mask allows only 0).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
from gymnasium import spaces

GLOBAL_OBS_FEATURES: tuple[str, ...] = (
    "max_link_util",
    "avg_link_util",
    "avg_delay_ms",
    "max_delay_ms",
    "avg_jitter_ms",
    "sent_bytes",
    "received_bytes",
    "dropped_bytes",
    "retransmitted_bytes",
)
EDGE_OBS_FEATURES: tuple[str, ...] = (
    "link_util",
    "queue_max_load",
    "queue_last_load",
    "queue_capacity_pkts",
    "datarate_bps",
    "delay_ms",
    "tx_bytes",
    "rx_bytes",
    "drop_bytes",
    "drop_packets",
)
NODE_OBS_FEATURES: tuple[str, ...] = ("sent_bytes", "received_bytes", "retransmitted_bytes")

DATARATE = EDGE_OBS_FEATURES.index("datarate_bps")
DELAY = EDGE_OBS_FEATURES.index("delay_ms")


def observation_space(max_nodes: int, max_edges: int, node_features: bool = False) -> spaces.Dict:
    """The padded Dict observation space (keys in the documented order)."""
    m = 2 * max_edges
    inf = np.float32(np.inf)
    entries: dict[str, spaces.Space] = {
        "global": spaces.Box(-inf, inf, (len(GLOBAL_OBS_FEATURES),), np.float32),
        "edge_attr": spaces.Box(-inf, inf, (m, len(EDGE_OBS_FEATURES)), np.float32),
    }
    if node_features:
        entries["node_attr"] = spaces.Box(-inf, inf, (max_nodes, len(NODE_OBS_FEATURES)),
                                          np.float32)
    entries.update(
        link_props=spaces.Box(0, inf, (m, 2), np.float32),
        edge_index=spaces.Box(0, max_nodes - 1, (2, m), np.int64),
        edge_mask=spaces.MultiBinary(m),
        node_mask=spaces.MultiBinary(max_nodes),
        adjacency=spaces.MultiBinary((max_nodes, max_nodes)),
        sizes=spaces.Box(0, max(max_nodes, m), (2,), np.int64),
    )
    return spaces.Dict(entries)  # insertion order is kept for a dict of spaces


class NextHopSpace(spaces.MultiDiscrete):
    """The next-hop ``MultiDiscrete`` space, whose ``sample()`` draws *valid* actions.

    Without an explicit mask, ``sample()`` uses the environment's current action mask (the
    neighbours of every node), so ``env.action_space.sample()`` is a random valid routing, as
    users of ``check_env`` and random baselines expect. Pickling drops the link to the env.
    """

    def __init__(self, max_nodes: int, seed: int | np.random.Generator | None = None):
        super().__init__(np.full(max_nodes * max_nodes, max_nodes, dtype=np.int64), seed=seed)
        self.max_nodes = max_nodes
        self._mask_source: weakref.WeakMethod | None = None

    def attach(self, mask_source: Any) -> None:
        """Use ``mask_source()`` (a bound method returning the flat mask) when sampling."""
        self._mask_source = weakref.WeakMethod(mask_source)

    def sample(self, mask: Any = None, probability: Any = None) -> np.ndarray:
        if mask is None and probability is None and self._mask_source is not None:
            source = self._mask_source()
            flat = source() if source is not None else None
            if flat is not None:
                p = self.max_nodes
                rows = flat.reshape(p * p, p).astype(np.int8)
                mask = tuple(rows)
        return super().sample(mask=mask, probability=probability)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_mask_source"] = None
        return state


def next_hop_action_space(max_nodes: int) -> NextHopSpace:
    """One neighbour choice per (routing node, destination), flattened row-major."""
    return NextHopSpace(max_nodes)


#: Upper bound declared for link weights: float32's largest value. stable-baselines3 refuses
#: boxes with infinite bounds; the environment still rejects weights that are not finite and > 0.
MAX_LINK_WEIGHT = float(np.finfo(np.float32).max)


def link_weight_action_space(max_edges: int) -> spaces.Box:
    """One positive weight per directed edge slot (bounded by ``MAX_LINK_WEIGHT``)."""
    return spaces.Box(0.0, MAX_LINK_WEIGHT, (2 * max_edges,), np.float32)


def graph_of(obs: dict[str, np.ndarray]) -> tuple[int, np.ndarray, np.ndarray]:
    """The real graph inside a padded observation.

    Returns:
        ``(num_nodes, slots, edge_index)``: the number of nodes, the indices of the working
        directed edge slots, and their (2, M) source/target node ids.
    """
    n = int(np.asarray(obs["node_mask"]).sum())
    slots = np.flatnonzero(np.asarray(obs["edge_mask"]))
    return n, slots, np.asarray(obs["edge_index"])[:, slots]


def next_hop_action_mask(adjacency: np.ndarray, num_nodes: int) -> np.ndarray:
    """Flat boolean mask for ``MultiDiscrete`` actions (sb3-contrib's MaskablePPO layout).

    Shape ``(max_nodes**3,)``: for entry (u, z), the ``max_nodes`` booleans saying which values
    are valid: the neighbours of u for real u != z, only 0 for padded or diagonal entries.
    """
    p = adjacency.shape[0]
    adj = adjacency.astype(bool)
    mask = np.broadcast_to(adj[:, None, :], (p, p, p)).copy()
    ignored = np.ones((p, p), bool)
    ignored[:num_nodes, :num_nodes] = False
    np.fill_diagonal(ignored, True)
    mask[ignored] = False
    mask[ignored, 0] = True
    return mask.reshape(-1)


def action_to_next_hops(action: Any, max_nodes: int, num_nodes: int) -> np.ndarray:
    """Turn a flat (or square) next-hop action into the (N, N) table the simulator takes.

    Raises:
        ValueError: on a wrong shape or a non-integer dtype. Neighbour checks are done by the
            simulator client, which names the offending entry.
    """
    arr = np.asarray(action)
    if arr.shape not in ((max_nodes * max_nodes,), (max_nodes, max_nodes)):
        raise ValueError(
            f"next-hop action must have shape ({max_nodes * max_nodes},) or "
            f"({max_nodes}, {max_nodes}), got {arr.shape}"
        )
    if arr.dtype.kind not in "iu":
        raise ValueError(f"next-hop action must hold integers, got dtype {arr.dtype}")
    table = arr.reshape(max_nodes, max_nodes)[:num_nodes, :num_nodes].astype(np.int32)
    np.fill_diagonal(table, -1)
    return table


def next_hops_to_action(table: np.ndarray, max_nodes: int) -> np.ndarray:
    """Embed an (N, N) next-hop table into a flat padded action (ignored entries = 0)."""
    n = table.shape[0]
    out = np.zeros((max_nodes, max_nodes), np.int64)
    out[:n, :n] = np.where(table >= 0, table, 0)
    return out.reshape(-1)
