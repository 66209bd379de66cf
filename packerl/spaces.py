# SPDX-License-Identifier: GPL-2.0-only
"""Fixed-shape observation and action spaces, and the conversions between them and graphs.

stable-baselines3 and Gymnasium's vector envs need fixed shapes, so a network state is padded
to ``max_nodes`` nodes and ``max_edges`` undirected edges (``2 * max_edges`` directed edge
slots) with masks. Directed edge slot ``2*i`` is topology edge ``i`` as ``(u, v)`` with
``u < v``, slot ``2*i + 1`` is ``(v, u)``; failed links keep their slots and are masked out.
Observations of this layout are built by :func:`packerl.observation.build_observation`.

Observation keys (every one is a ``Box``, so stable-baselines3's
``VecNormalize(norm_obs_keys=...)``, TorchRL and ``FlattenObservation`` accept all of them).
Gymnasium's ``Dict`` space sorts its keys, so the space, every observation and
``FlattenObservation``'s concatenation use alphabetical order (``OBSERVATION_KEYS``); below
they are listed by meaning:

Unbounded features are declared up to float32's largest value (``MAX_FEATURE``).

- ``global`` (9,) float32 >= 0: the paper's d_U = 9 global features (``GLOBAL_OBS_FEATURES``).
- ``edge_attr`` (2*max_edges, 10) float32 >= 0: d_E = 10 features per directed edge
  (``EDGE_OBS_FEATURES``); the queue fills (``queue_max_load``, ``queue_last_load``) lie in
  [0, 1].
- ``node_attr`` (max_nodes, 3) float32 >= 0: only with ``node_features=True``.
- ``link_props`` (2*max_edges, 2) float32 >= 0: raw datarate (bit/s) and delay (ms) of every
  edge slot, never normalised or stacked (EIGRP weights, FieldLines' positional distances).
- ``edge_index`` (2, 2*max_edges) int64 in [0, max_nodes - 1]: source and target of every slot.
- ``edge_mask`` (2*max_edges,) int8 in {0, 1}: 1 for slots holding a working link.
- ``node_mask`` (max_nodes,) int8 in {0, 1}: 1 for real nodes.
- ``adjacency`` (max_nodes, max_nodes) int8 in {0, 1}: ``[u, v]`` is 1 if v is a working
  neighbour of u (the valid next hops, for every destination).
- ``sizes`` (2,) int64: number of nodes and of working directed edges.
- ``last_next_hops`` (max_nodes, max_nodes) int64 in [-1, max_nodes - 1]: only with
  ``last_action=True`` on the next-hop id: the table installed by the previous step (node
  ids, -1 for "no route", the diagonal and padding; all -1 at S0).
- ``last_link_weights`` (2*max_edges,) float32 >= 0: only with ``last_action=True`` on the
  link-weight id: the positive weights applied at the previous step (1 for every working slot
  at S0, 0 for padded and failed slots).
- ``traffic_matrix`` (max_nodes, max_nodes) float32 >= 0: only with ``traffic_matrix=True``:
  ``[u, v]`` = the IP bytes node u sent towards destination v during the previous step (all 0
  at S0), what a traffic-engineering policy such as MAGNNETO optimises for.

Next-hop actions (``packerl/PackeRL-v0``), flat ``MultiDiscrete`` of ``max_nodes**2`` entries;
entry ``u * max_nodes + z`` routes node u's packets for destination z. Every element of the
space is a legal action on every topology and after every failure. Two encodings
(``NEXT_HOP_ENCODINGS``):

- ``"neighbor"`` (default), ``nvec = max_degree``: value k picks u's k-th working neighbour
  in increasing node-id order; k beyond u's working degree d wraps around (neighbour
  ``k mod d``). A node with no working link routes nothing. So the space has
  ``max_nodes**2 * max_degree`` choices instead of ``max_nodes**3``. A node with more than
  ``max_degree`` working neighbours can pick only its first ``max_degree``.
- ``"node"``, ``nvec = max_nodes``: value v is the next-hop node id. If v is not a working
  neighbour of u (u itself included) the entry means "no route": the simulator drops those
  packets and counts them (``drop_no_route_bytes``).

Entries for padded nodes and for ``u == z`` are ignored. With ``strict=True`` the environment
instead raises ``ValueError`` for an entry that is not a working neighbour (``"node"``) or a
value at or beyond u's degree (``"neighbor"``), for debugging a policy.

Link-weight actions (``packerl/PackeRL-LinkWeights-v0``), one value per directed edge slot,
routed by shortest paths (``LINK_WEIGHT_MODES``):

- ``"normalized"`` (default): ``Box(-1, 1)``; value a gives the weight
  ``lo * (hi / lo) ** ((a + 1) / 2)`` (log scale over ``link_weight_range = (lo, hi)``,
  default ``DEFAULT_LINK_WEIGHT_RANGE`` = (1, 100)), so clipped Gaussians, ``ClipAction`` and
  ``RescaleAction`` work. Shortest paths do not change when all weights are scaled, so only
  the ratio hi / lo matters.
- ``"raw"``: ``Box(MIN_LINK_WEIGHT, MAX_LINK_WEIGHT)``, the positive weight itself, for the
  classic protocols and M-Slim.

Padded and failed slots are ignored. Values outside the space (or of the wrong shape or
dtype) are refused with ``ValueError``; nothing is clipped or wrapped into range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from gymnasium import spaces

from synnet.presets import check_int as _check_int

ActionType = Literal["next_hop", "link_weights"]
ACTION_TYPES: tuple[str, ...] = ("next_hop", "link_weights")
NextHopEncoding = Literal["neighbor", "node"]
NEXT_HOP_ENCODINGS: tuple[str, ...] = ("neighbor", "node")
LinkWeightMode = Literal["normalized", "raw"]
LINK_WEIGHT_MODES: tuple[str, ...] = ("normalized", "raw")
#: (lo, hi) of the normalised link weights: -1 -> lo, +1 -> hi, log scale in between.
DEFAULT_LINK_WEIGHT_RANGE: tuple[float, float] = (1.0, 100.0)
#: Bounds of the raw link-weight space: float32's smallest normal and largest finite value.
#: stable-baselines3 refuses infinite bounds; every value in between is a legal weight.
MIN_LINK_WEIGHT = float(np.finfo(np.float32).tiny)
MAX_LINK_WEIGHT = float(np.finfo(np.float32).max)
#: Upper bound of unbounded observation features (finite, so checkers and wrappers accept it).
MAX_FEATURE = MAX_LINK_WEIGHT

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
#: edge features that are fractions of a capacity, hence bounded by 1
UNIT_EDGE_FEATURES: tuple[str, ...] = ("queue_max_load", "queue_last_load")

DATARATE = EDGE_OBS_FEATURES.index("datarate_bps")
DELAY = EDGE_OBS_FEATURES.index("delay_ms")

#: every key an observation can have, in the (alphabetical) order of the Dict space
OBSERVATION_KEYS: tuple[str, ...] = tuple(sorted((
    "global", "edge_attr", "node_attr", "link_props", "edge_index", "edge_mask", "node_mask",
    "adjacency", "sizes", "last_next_hops", "last_link_weights",
)))
LAST_ACTION_KEY: dict[str, str] = {"next_hop": "last_next_hops",
                                   "link_weights": "last_link_weights"}


def _features(count: int, shape: tuple[int, ...], unit: tuple[int, ...] = ()) -> spaces.Box:
    """Non-negative features; unbounded ones are declared up to float32's largest value."""
    high = np.full(shape + (count,), MAX_FEATURE, np.float32)
    high[..., list(unit)] = 1.0
    return spaces.Box(np.zeros_like(high), high, dtype=np.float32)


def _flags(shape: tuple[int, ...]) -> spaces.Box:
    return spaces.Box(0, 1, shape, np.int8)


def observation_space(max_nodes: int, max_edges: int, node_features: bool = False,
                      last_action: ActionType | None = None,
                      traffic_matrix: bool = False) -> spaces.Dict:
    """The padded Dict observation space (keys sorted, as in ``OBSERVATION_KEYS``).

    Args:
        max_nodes, max_edges: the padding.
        node_features: add ``node_attr``.
        last_action: add the previous action's key for this action type (None: no key).
        traffic_matrix: add ``traffic_matrix``.
    """
    m = 2 * max_edges
    unit = tuple(EDGE_OBS_FEATURES.index(f) for f in UNIT_EDGE_FEATURES)
    entries: dict[str, spaces.Space] = {
        "global": _features(len(GLOBAL_OBS_FEATURES), ()),
        "edge_attr": _features(len(EDGE_OBS_FEATURES), (m,), unit),
    }
    if node_features:
        entries["node_attr"] = _features(len(NODE_OBS_FEATURES), (max_nodes,))
    entries.update(
        link_props=_features(2, (m,)),
        edge_index=spaces.Box(0, max_nodes - 1, (2, m), np.int64),
        edge_mask=_flags((m,)),
        node_mask=_flags((max_nodes,)),
        adjacency=_flags((max_nodes, max_nodes)),
        sizes=spaces.Box(0, max(max_nodes, m), (2,), np.int64),
    )
    if last_action == "next_hop":
        entries["last_next_hops"] = spaces.Box(-1, max_nodes - 1, (max_nodes, max_nodes),
                                               np.int64)
    elif last_action == "link_weights":
        entries["last_link_weights"] = spaces.Box(0.0, MAX_LINK_WEIGHT, (m,), np.float32)
    elif last_action is not None:
        raise ValueError(f"unknown action type {last_action!r}; valid: {list(ACTION_TYPES)}")
    if traffic_matrix:
        entries["traffic_matrix"] = spaces.Box(0.0, MAX_FEATURE, (max_nodes, max_nodes),
                                               np.float32)
    return spaces.Dict(entries)  # Gymnasium sorts the keys


def check_choice(name: str, value: Any, valid: tuple[str, ...]) -> None:
    """Raise ValueError naming the accepted values if ``value`` is not one of ``valid``."""
    if value not in valid:
        raise ValueError(f"unknown {name} {value!r}; valid: {', '.join(map(repr, valid))}")


def next_hop_action_space(max_nodes: int, encoding: NextHopEncoding = "neighbor",
                          max_degree: int | None = None) -> spaces.MultiDiscrete:
    """One choice per (routing node, destination), flattened row-major (see the module doc).

    ``max_degree`` is required for the ``"neighbor"`` encoding (values 0..max_degree-1).
    """
    check_choice("next-hop encoding", encoding, NEXT_HOP_ENCODINGS)
    if encoding == "node":
        return spaces.MultiDiscrete(np.full(max_nodes * max_nodes, max_nodes, np.int64))
    if max_degree is None:
        raise ValueError("the 'neighbor' encoding needs max_degree >= 1, got None")
    max_degree = _check_int("max_degree", max_degree, 1, None)
    return spaces.MultiDiscrete(np.full(max_nodes * max_nodes, max_degree, np.int64))


def link_weight_action_space(max_edges: int,
                             mode: LinkWeightMode = "normalized") -> spaces.Box:
    """One value per directed edge slot: ``Box(-1, 1)`` (normalised) or the raw weight."""
    check_choice("link-weight mode", mode, LINK_WEIGHT_MODES)
    if mode == "normalized":
        return spaces.Box(-1.0, 1.0, (2 * max_edges,), np.float32)
    return spaces.Box(MIN_LINK_WEIGHT, MAX_LINK_WEIGHT, (2 * max_edges,), np.float32)


def check_action(action: Any, space: spaces.Box | spaces.MultiDiscrete, what: str) -> np.ndarray:
    """``action`` as an array if it is an element of ``space``; else a ValueError that says
    what is wrong (shape, dtype or the first value out of range) and what is accepted."""
    arr = np.asarray(action)
    if arr.shape != space.shape:
        raise ValueError(f"{what} action must have shape {space.shape}, got {arr.shape}")
    if isinstance(space, spaces.MultiDiscrete):
        if arr.dtype.kind not in "iu":
            raise ValueError(f"{what} action must hold integers, got dtype {arr.dtype}")
        bad = (arr < 0) | (arr >= space.nvec)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{what} action [{i}] is {arr.flat[i]}, outside the space; entries "
                             f"must lie in 0..{int(space.nvec.flat[i]) - 1}")
        return arr
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{what} action must be numeric, got dtype {arr.dtype}")
    with np.errstate(invalid="ignore"):
        bad = ~((arr >= space.low) & (arr <= space.high))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{what} action [{i}] is {arr.flat[i]}, outside the space; values must "
                         f"lie in [{space.low.flat[i]}, {space.high.flat[i]}] (nothing is "
                         "clipped for you)")
    return arr


def weights_from_action(action: np.ndarray,
                        weight_range: tuple[float, float] = DEFAULT_LINK_WEIGHT_RANGE
                        ) -> np.ndarray:
    """Normalised actions in [-1, 1] -> positive weights on ``weight_range`` (log scale)."""
    lo, hi = weight_range
    return lo * (hi / lo) ** ((np.asarray(action, np.float64) + 1.0) / 2.0)


def action_from_weights(weights: np.ndarray,
                        weight_range: tuple[float, float] = DEFAULT_LINK_WEIGHT_RANGE
                        ) -> np.ndarray:
    """Positive weights -> normalised float32 actions (the inverse of
    :func:`weights_from_action`).

    The weights are first scaled so that the smallest is ``lo`` (shortest paths do not change);
    ratios beyond ``hi / lo`` are clipped, the only case where routing can change.
    """
    lo, hi = weight_range
    w = np.asarray(weights, np.float64)
    scaled = w * (lo / w.min()) if w.size else w
    a = 2.0 * np.log(scaled / lo) / np.log(hi / lo) - 1.0
    return np.clip(a, -1.0, 1.0).astype(np.float32)


def neighbor_lists(adjacency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Working neighbours of every node in increasing id order.

    Returns:
        ``(neighbors, degree)``: (P, max(1, max degree)) int64 ids, padded with -1, and (P,)
        the number of working neighbours.
    """
    adj = np.asarray(adjacency).astype(bool)
    degree = adj.sum(axis=1)
    width = max(1, int(degree.max(initial=0)))
    neighbors = np.full((adj.shape[0], width), -1, np.int64)
    rows, cols = np.nonzero(adj)  # row-major: columns increase within a row
    rank = np.arange(rows.size) - np.repeat(np.cumsum(degree) - degree, degree)
    neighbors[rows, rank] = cols
    return neighbors, degree


def graph_of(obs: dict[str, np.ndarray]) -> tuple[int, np.ndarray, np.ndarray]:
    """The real graph inside a padded observation.

    Returns:
        ``(num_nodes, slots, edge_index)``: the number of nodes, the indices of the working
        directed edge slots, and their (2, M) source/target node ids.
    """
    n = int(np.asarray(obs["node_mask"]).sum())
    slots = np.flatnonzero(np.asarray(obs["edge_mask"]))
    return n, slots, np.asarray(obs["edge_index"])[:, slots]


def next_hop_action_mask(adjacency: np.ndarray, num_nodes: int,
                         encoding: NextHopEncoding = "neighbor",
                         max_degree: int | None = None) -> np.ndarray:
    """Flat boolean mask for ``MultiDiscrete`` actions (sb3-contrib's MaskablePPO layout).

    For each entry (u, z) the ``nvec`` booleans saying which values route to a working
    neighbour without wrapping: ranks below u's degree (``"neighbor"``) or the neighbours'
    ids (``"node"``); only 0 for padded, diagonal and isolated entries. Unmasked values are
    legal too; the mask only removes duplicates and no-route choices.
    """
    p = adjacency.shape[0]
    adj = np.asarray(adjacency).astype(bool)
    if encoding == "node":
        per_row = adj
    else:
        if max_degree is None:
            raise ValueError("the 'neighbor' encoding needs max_degree")
        per_row = np.arange(int(max_degree))[None, :] < adj.sum(axis=1)[:, None]
    width = per_row.shape[1]
    mask = np.broadcast_to(per_row[:, None, :], (p, p, width)).copy()
    ignored = np.ones((p, p), bool)
    ignored[:num_nodes, :num_nodes] = False
    np.fill_diagonal(ignored, True)
    ignored |= ~per_row.any(axis=1)[:, None]
    mask[ignored] = False
    mask[ignored, 0] = True
    return mask.reshape(-1)


def decode_next_hops(action: np.ndarray, adjacency: np.ndarray, num_nodes: int,
                     encoding: NextHopEncoding = "neighbor", strict: bool = False
                     ) -> np.ndarray:
    """The (N, N) int32 next-hop table (node ids, -1 = no route) that an in-space action
    stands for on the current working topology (see the module docstring).

    Raises:
        ValueError: with ``strict=True``, for the first entry that is not a working neighbour
            (``"node"``) or a value at or beyond u's working degree (``"neighbor"``).
    """
    n = num_nodes
    p = adjacency.shape[0]
    adj = np.asarray(adjacency)[:n, :n].astype(bool)
    values = np.asarray(action, np.int64).reshape(p, p)[:n, :n]
    off = ~np.eye(n, dtype=bool)
    if encoding == "node":
        ok = np.take_along_axis(adj, np.clip(values, 0, n - 1), axis=1) & (values < n)
        table = np.where(ok, values, -1)
        bad = off & ~ok
        if strict and bad.any():
            u, z = (int(x) for x in np.argwhere(bad)[0])
            raise ValueError(
                f"next-hop action entry ({u}, {z}) = {values[u, z]} is not a working neighbour "
                f"of node {u} (strict mode); its neighbours are {np.flatnonzero(adj[u]).tolist()}")
    else:
        neighbors, degree = neighbor_lists(adj)
        bad = off & (values >= degree[:, None])
        if strict and bad.any():
            u, z = (int(x) for x in np.argwhere(bad)[0])
            raise ValueError(
                f"next-hop action entry ({u}, {z}) = {values[u, z]} is at or beyond node {u}'s "
                f"{int(degree[u])} working neighbours (strict mode); use 0..{int(degree[u]) - 1}")
        rank = values % np.maximum(degree, 1)[:, None]
        table = np.where(degree[:, None] > 0, np.take_along_axis(neighbors, rank, axis=1), -1)
    table = table.astype(np.int32)
    np.fill_diagonal(table, -1)
    return table


def encode_next_hops(table: np.ndarray, adjacency: np.ndarray,
                     encoding: NextHopEncoding = "neighbor",
                     max_degree: int | None = None) -> np.ndarray:
    """Embed an (N, N) next-hop table (node ids, -1 = no route) into a flat padded action.

    The inverse of :func:`decode_next_hops` wherever the table routes over working links.
    Ignored entries (diagonal, padding) get 0; so do "no route" entries in the
    ``"neighbor"`` encoding, which cannot express them (``"node"`` uses u's own id).

    Raises:
        ValueError: if an entry is not a working neighbour, or (``"neighbor"``) its rank is not
            below ``max_degree``.
    """
    table = np.asarray(table)
    p = adjacency.shape[0]
    if table.ndim != 2 or table.shape[0] != table.shape[1] or table.shape[0] > p:
        raise ValueError(f"next_hops must be an (N, N) table with N <= {p}, got shape "
                         f"{table.shape}")
    if table.dtype.kind not in "iu":
        raise ValueError(f"next_hops must hold integer node ids, got dtype {table.dtype}")
    n = table.shape[0]
    unknown = (table < -1) | (table >= n)
    if unknown.any():
        u, z = (int(x) for x in np.argwhere(unknown)[0])
        raise ValueError(f"next_hops[{u}, {z}] = {table[u, z]} is not a node id; use "
                         f"0..{n - 1} or -1 (no route)")
    adj = np.asarray(adjacency).astype(bool)
    off = ~np.eye(n, dtype=bool)
    routed = off & (table >= 0)
    valid = np.take_along_axis(adj[:n, :n], np.clip(table, 0, n - 1), axis=1)
    bad = routed & ~valid
    if bad.any():
        u, z = (int(x) for x in np.argwhere(bad)[0])
        raise ValueError(f"next_hops[{u}, {z}] = {table[u, z]} is not a working neighbour of "
                         f"node {u}; neighbours: {np.flatnonzero(adj[u]).tolist()}")
    out = np.zeros((p, p), np.int64)
    if encoding == "node":
        own = np.broadcast_to(np.arange(n)[:, None], (n, n))
        out[:n, :n] = np.where(routed, table, np.where(off, own, 0))
        return out.reshape(-1)
    rank_of = np.cumsum(adj, axis=1) - 1  # rank of v among u's neighbours, where adj[u, v]
    ranks = np.take_along_axis(rank_of[:n, :n], np.clip(table, 0, n - 1), axis=1)
    ranks = np.where(routed, ranks, 0)
    if max_degree is not None and (ranks >= max_degree).any():
        u, z = (int(x) for x in np.argwhere(ranks >= max_degree)[0])
        raise ValueError(f"next_hops[{u}, {z}] = {table[u, z]} is node {u}'s neighbour number "
                         f"{ranks[u, z]}, beyond max_degree={max_degree}; make the environment "
                         "with a larger max_degree")
    out[:n, :n] = ranks
    return out.reshape(-1)


@dataclass(frozen=True)
class ActionFormat:
    """How an environment reads its actions: the action type and its encoding.

    Policies hold one (from :meth:`of_env`) to turn their routing (a next-hop table or link
    weights) into an action of that environment's space.
    """

    action_type: ActionType = "next_hop"
    next_hop_encoding: NextHopEncoding = "neighbor"
    max_degree: int | None = None
    link_weights: LinkWeightMode = "normalized"
    link_weight_range: tuple[float, float] = DEFAULT_LINK_WEIGHT_RANGE

    def __post_init__(self) -> None:  # names as the environment's constructor arguments
        check_choice("action_type", self.action_type, ACTION_TYPES)
        check_choice("next_hop_encoding", self.next_hop_encoding, NEXT_HOP_ENCODINGS)
        check_choice("link_weights", self.link_weights, LINK_WEIGHT_MODES)
        if self.max_degree is not None:
            object.__setattr__(self, "max_degree",
                               _check_int("max_degree", self.max_degree, 1, None))
        pair = tuple(self.link_weight_range) if isinstance(self.link_weight_range,
                                                            (tuple, list)) else ()
        if len(pair) != 2 or not all(isinstance(x, (int, float, np.integer, np.floating))
                                     and not isinstance(x, (bool, np.bool_)) for x in pair):
            raise ValueError(f"link_weight_range must be (lo, hi) with 0 < lo < hi < inf, got "
                             f"{self.link_weight_range!r}")
        lo, hi = (float(x) for x in pair)
        if not (np.isfinite(hi) and 0 < lo < hi):
            raise ValueError(f"link_weight_range must be (lo, hi) with 0 < lo < hi < inf, got "
                             f"{tuple(self.link_weight_range)}")
        object.__setattr__(self, "link_weight_range", (lo, hi))

    @classmethod
    def of_env(cls, env: Any) -> ActionFormat:
        """The format of a PackeRL environment (wrapped or not)."""
        return env.unwrapped.action_format

    def to_next_hops(self, action: np.ndarray, adjacency: np.ndarray, num_nodes: int,
                     strict: bool = False) -> np.ndarray:
        """The (N, N) next-hop table an in-space next-hop action stands for."""
        return decode_next_hops(action, adjacency, num_nodes, self.next_hop_encoding, strict)

    def to_weights(self, action: np.ndarray) -> np.ndarray:
        """The positive float64 weights an in-space link-weight action stands for."""
        if self.link_weights == "normalized":
            return weights_from_action(action, self.link_weight_range)
        return np.asarray(action, np.float64)

    def space(self, max_nodes: int, max_edges: int) -> spaces.Space:
        """The action space of this format for the given padding."""
        if self.action_type == "next_hop":
            return next_hop_action_space(max_nodes, self.next_hop_encoding,
                                         self.max_degree or max_nodes)
        return link_weight_action_space(max_edges, self.link_weights)

    def from_next_hops(self, table: np.ndarray, observation: dict[str, np.ndarray]
                       ) -> np.ndarray:
        """The next-hop action that installs ``table`` (node ids) on the observed topology."""
        return encode_next_hops(table, observation["adjacency"], self.next_hop_encoding,
                                self.max_degree)

    def from_weights(self, weights: np.ndarray, edge_mask: np.ndarray) -> np.ndarray:
        """The link-weight action for positive ``weights`` (2*max_edges,) of the working slots
        (``edge_mask``); other slots get a neutral in-space value."""
        used = np.asarray(edge_mask).astype(bool)
        w = np.asarray(weights, np.float64)
        if self.link_weights == "raw":
            return np.where(used, w, 1.0).astype(np.float32)
        out = np.zeros(w.shape, np.float32)
        out[used] = action_from_weights(w[used], self.link_weight_range)
        return out
