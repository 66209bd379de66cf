# SPDX-License-Identifier: GPL-2.0-only
"""The one builder of padded observations (the layout documented in :mod:`packerl.spaces`).

:func:`build_observation` turns the arrays of one network state (the graph's directed edge
slots, which of them work, and the feature columns named by ``EDGE_OBS_FEATURES``,
``GLOBAL_OBS_FEATURES`` and ``NODE_OBS_FEATURES``) into the padded dict of an
:func:`~packerl.spaces.observation_space`. The environment builds every observation with it;
so does anything that needs an observation without a simulator (the synthetic observations of
``experiments/synthetic.py`` for tests and benchmarks). Frame stacking comes afterwards
(:class:`packerl.wrappers.FrameStacker`).

Example:
    >>> import numpy as np
    >>> from packerl.spaces import EDGE_OBS_FEATURES, GLOBAL_OBS_FEATURES, observation_space
    >>> space = observation_space(max_nodes=4, max_edges=4)
    >>> edge_index = slot_edge_index(np.array([[0, 1], [1, 2]]))  # links 0-1 and 1-2
    >>> edge_index.tolist()
    [[0, 1, 1, 2], [1, 0, 2, 1]]
    >>> up = np.array([True, True, False, False])  # link 1-2 has failed
    >>> obs = build_observation(space, 3, edge_index, up,
    ...                         np.ones((4, len(EDGE_OBS_FEATURES))),
    ...                         np.zeros(len(GLOBAL_OBS_FEATURES)))
    >>> space.contains(obs), obs["sizes"].tolist(), obs["edge_mask"].tolist()[:5]
    (True, [3, 2], [1, 1, 0, 0, 0])
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from packerl.spaces import (
    DATARATE,
    DELAY,
    EDGE_OBS_FEATURES,
    GLOBAL_OBS_FEATURES,
    NODE_OBS_FEATURES,
)

__all__ = ["build_observation", "slot_edge_index"]


def slot_edge_index(edges: np.ndarray) -> np.ndarray:
    """The (2, 2K) int64 directed edge slots of K undirected edges, in the slot order of
    :mod:`packerl.spaces`: slot ``2i`` is edge ``i`` as given, ``2i + 1`` reversed."""
    edges = np.asarray(edges, np.int64).reshape(-1, 2)
    out = np.empty((2, 2 * len(edges)), np.int64)
    out[:, 0::2] = edges.T
    out[:, 1::2] = edges.T[::-1]
    return out


def _check_shape(name: str, array: np.ndarray, shape: tuple[int, ...], columns: str) -> None:
    if array.shape != shape:
        raise ValueError(f"`{name}` must have shape {shape} ({columns}), got {array.shape}")


def build_observation(
    space: spaces.Dict,
    num_nodes: int,
    edge_index: np.ndarray,
    edge_up: np.ndarray,
    edge_features: np.ndarray,
    global_features: np.ndarray,
    node_features: np.ndarray | None = None,
    *,
    adjacency: np.ndarray | None = None,
    last_next_hops: np.ndarray | None = None,
    last_link_weights: np.ndarray | None = None,
    traffic_matrix: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The padded observation of one network state, with the keys and key order of ``space``.

    Failed slots keep their place, masked out: their features, ``link_props`` and adjacency
    entries are zero. ``link_props`` are the raw datarate and delay columns of
    ``edge_features``.

    Args:
        space: the (unstacked) space from :func:`packerl.spaces.observation_space`; it gives
            the padding and which optional keys to build.
        num_nodes: N, the real nodes (ids ``0..N-1``).
        edge_index: (2, E) source and target of the graph's directed edge slots, E at most
            the space's ``2 * max_edges``.
        edge_up: (E,) True for the slots of working links.
        edge_features: (E, len(EDGE_OBS_FEATURES)) raw features, columns in that order.
        global_features: (len(GLOBAL_OBS_FEATURES),) raw features in that order.
        node_features: (N, len(NODE_OBS_FEATURES)), required if and only if the space has
            ``node_attr``.
        adjacency: the (max_nodes, max_nodes) int8 adjacency of the working links if the
            caller has it already (default: computed from ``edge_index`` and ``edge_up``).
        last_next_hops: for a space with ``last_next_hops``: the (N, N) table installed by
            the previous step, None at S0 (then all -1). Ignored by other spaces.
        last_link_weights: for a space with ``last_link_weights``: the (2 * max_edges,)
            weights applied at the previous step, None at S0 (then 1 per working slot).
            Ignored by other spaces.
        traffic_matrix: for a space with ``traffic_matrix``: the (N, N) IP bytes sent per
            (source, destination) during the previous step, None at S0 (then 0). Ignored by
            other spaces.

    Raises:
        ValueError: if an array's shape does not fit the feature lists or the padding.
    """
    max_nodes = space["node_mask"].shape[0]
    m = space["edge_mask"].shape[0]
    edge_index = np.asarray(edge_index)
    e2 = edge_index.shape[-1]
    if edge_index.ndim != 2 or edge_index.shape[0] != 2 or e2 > m:
        raise ValueError(f"`edge_index` must have shape (2, E) with E <= {m} edge slots (the "
                         f"space's 2 * max_edges), got {edge_index.shape}")
    if not 0 < num_nodes <= max_nodes:
        raise ValueError(f"`num_nodes` must lie in 1..{max_nodes} (the space's max_nodes), "
                         f"got {num_nodes}")
    up = np.asarray(edge_up).astype(bool)
    _check_shape("edge_up", up, (e2,), "one flag per edge slot")
    edge_features = np.asarray(edge_features)
    _check_shape("edge_features", edge_features, (e2, len(EDGE_OBS_FEATURES)),
                 "one column per EDGE_OBS_FEATURES entry")
    glob = np.asarray(global_features, np.float32)
    _check_shape("global_features", glob, (len(GLOBAL_OBS_FEATURES),),
                 "one entry per GLOBAL_OBS_FEATURES entry")
    if space["edge_attr"].shape[-1] != len(EDGE_OBS_FEATURES):
        raise ValueError(f"`space` has {space['edge_attr'].shape[-1]} edge features per slot, "
                         f"not {len(EDGE_OBS_FEATURES)}: pass the unstacked space and stack "
                         "afterwards (packerl.wrappers.FrameStacker)")

    edge_attr = np.zeros((m, len(EDGE_OBS_FEATURES)), np.float32)
    edge_attr[:e2] = edge_features * up[:, None]
    padded_index = np.zeros((2, m), np.int64)
    padded_index[:, :e2] = edge_index
    edge_mask = np.zeros(m, np.int8)
    edge_mask[:e2] = up
    node_mask = np.zeros(max_nodes, np.int8)
    node_mask[:num_nodes] = 1
    if adjacency is None:
        adjacency = np.zeros((max_nodes, max_nodes), np.int8)
        adjacency[edge_index[0, up], edge_index[1, up]] = 1
    obs: dict[str, np.ndarray] = {
        "global": glob,
        "edge_attr": edge_attr,
        "link_props": edge_attr[:, [DATARATE, DELAY]],
        "edge_index": padded_index,
        "edge_mask": edge_mask,
        "node_mask": node_mask,
        "adjacency": adjacency,
        "sizes": np.array([num_nodes, int(up.sum())], np.int64),
    }
    if ("node_attr" in space.spaces) != (node_features is not None):
        raise ValueError("`node_features` must be given exactly when the space has `node_attr` "
                         f"(it has{'' if 'node_attr' in space.spaces else ' not'})")
    if node_features is not None:
        node_features = np.asarray(node_features)
        _check_shape("node_features", node_features, (num_nodes, len(NODE_OBS_FEATURES)),
                     "one row per real node, one column per NODE_OBS_FEATURES entry")
        obs["node_attr"] = np.zeros((max_nodes, len(NODE_OBS_FEATURES)), np.float32)
        obs["node_attr"][:num_nodes] = node_features
    if "last_next_hops" in space.spaces:
        obs["last_next_hops"] = np.full((max_nodes, max_nodes), -1, np.int64)
        if last_next_hops is not None:
            n = last_next_hops.shape[0]
            obs["last_next_hops"][:n, :n] = last_next_hops
    if "last_link_weights" in space.spaces:
        obs["last_link_weights"] = (edge_mask.astype(np.float32) if last_link_weights is None
                                    else last_link_weights * edge_mask)
    if "traffic_matrix" in space.spaces:
        obs["traffic_matrix"] = np.zeros((max_nodes, max_nodes), np.float32)
        if traffic_matrix is not None:
            tm = np.asarray(traffic_matrix)
            _check_shape("traffic_matrix", tm, (num_nodes, num_nodes),
                         "one row and column per real node")
            obs["traffic_matrix"][:num_nodes, :num_nodes] = tm
    return {key: obs[key] for key in space.spaces}  # the space's (sorted) order
