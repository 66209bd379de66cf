# SPDX-License-Identifier: GPL-2.0-only
"""Shared helpers for the environment tests."""

from __future__ import annotations

import numpy as np

from packerl.routing import eigrp_weights, next_hops_from_weights
from packerl.spaces import DATARATE, DELAY, graph_of, next_hops_to_action


def eigrp_action(obs: dict, max_nodes: int) -> np.ndarray:
    """EIGRP next hops for an observation (small test helper)."""
    n, slots, ei = graph_of(obs)
    w = eigrp_weights(obs["link_props"][slots, 0], obs["link_props"][slots, 1])
    return next_hops_to_action(next_hops_from_weights(n, ei, w), max_nodes)


def eigrp_weights_action(obs: dict, max_edges: int) -> np.ndarray:
    w = np.ones(2 * max_edges, np.float32)
    slots = np.flatnonzero(obs["edge_mask"])
    w[slots] = eigrp_weights(obs["edge_attr"][slots, DATARATE], obs["edge_attr"][slots, DELAY])
    return w
