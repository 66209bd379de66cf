# SPDX-License-Identifier: GPL-2.0-only
"""Synthetic observations for tests and benchmarks: a random synnet topology, random features.

Built with the environment's own builder (:func:`packerl.observation.build_observation`) and
stacked with the wrappers' :class:`~packerl.wrappers.FrameStacker`, so they have exactly the
layout a policy sees from ``paper_wrappers(env)``, without a simulator. The features are raw
(not normalised) random values inside the observation space; the datarate and delay columns
(and so ``link_props``) are the topology's own. A policy's inference cost does not depend on
the values.

Example:
    >>> obs, space = synthetic_observation(10, frames=4)
    >>> space.contains(obs), obs["edge_attr"].shape
    (True, (80, 40))
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

import synnet
from packerl.observation import build_observation, slot_edge_index
from packerl.spaces import (
    DATARATE,
    DELAY,
    EDGE_OBS_FEATURES,
    GLOBAL_OBS_FEATURES,
    observation_space,
)
from packerl.wrappers import FrameStacker, stacked_space
from synnet.topology import assign_attributes, make_graph

__all__ = ["synthetic_observation", "synthetic_topology"]


def synthetic_topology(num_nodes: int, rng: np.random.Generator,
                       model: str = "ws") -> synnet.Topology:
    """A connected synnet topology of ``num_nodes`` nodes (Watts-Strogatz unless ``model``
    says ``"ba"`` or ``"er"``), with synnet's datarates and delays."""
    graph, _ = make_graph(model, num_nodes, rng)
    return assign_attributes(graph, "synthetic", rng)


def synthetic_observation(num_nodes: int, frames: int = 4, seed: int = 0,
                          model: str = "ws", max_nodes: int | None = None,
                          max_edges: int | None = None
                          ) -> tuple[dict[str, np.ndarray], spaces.Dict]:
    """A padded observation of ``frames`` stacked random states of one synthetic topology.

    Args:
        num_nodes: real nodes.
        frames: stacked frames, oldest first, each with its own random features (default: 4,
            as ``paper_wrappers``; 1 gives the unstacked environment layout).
        seed: seed of the topology and the features (default: 0).
        model: synnet graph model, ``"ws"``, ``"ba"`` or ``"er"`` (default: ``"ws"``).
        max_nodes: node padding (default: ``num_nodes``).
        max_edges: undirected edge padding (default: the environment's ``4 * max_nodes``, or
            the topology's edge count if larger).

    Returns:
        ``(observation, observation_space)``: the space is the stacked
        :func:`packerl.spaces.observation_space` and contains the observation.
    """
    rng = np.random.default_rng(seed)
    topo = synthetic_topology(num_nodes, rng, model)
    max_nodes = num_nodes if max_nodes is None else int(max_nodes)
    if max_edges is None:
        max_edges = max(4 * max_nodes, topo.num_edges)
    space = observation_space(max_nodes, max_edges)
    edge_index = slot_edge_index(topo.edges)
    slots = edge_index.shape[1]
    up = np.ones(slots, bool)
    stacker = FrameStacker(frames)
    for _ in range(frames):
        edge_features = rng.random((slots, len(EDGE_OBS_FEATURES)))
        edge_features[:, DATARATE] = np.repeat(topo.datarate_bps, 2)
        edge_features[:, DELAY] = np.repeat(topo.delay_ms, 2)
        obs = stacker(build_observation(space, num_nodes, edge_index, up, edge_features,
                                        rng.random(len(GLOBAL_OBS_FEATURES))))
    return obs, stacked_space(space, frames)
