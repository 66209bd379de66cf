# SPDX-License-Identifier: GPL-2.0-only
"""Shared helpers for the environment tests."""

from __future__ import annotations

import numpy as np

from packerl.routing import eigrp_weights, next_hops_from_weights
from packerl.spaces import DATARATE, DELAY, encode_next_hops, graph_of


def eigrp_action(obs: dict, max_nodes: int, encoding: str = "neighbor") -> np.ndarray:
    """EIGRP next hops for an observation (small test helper)."""
    n, slots, ei = graph_of(obs)
    w = eigrp_weights(obs["link_props"][slots, 0], obs["link_props"][slots, 1])
    action = encode_next_hops(next_hops_from_weights(n, ei, w), obs["adjacency"], encoding)
    assert action.shape == (max_nodes * max_nodes,)
    return action


def eigrp_weights_action(obs: dict, env) -> np.ndarray:
    """EIGRP's link weights as an action of ``env``'s link-weight format."""
    from packerl.spaces import ActionFormat

    w = np.ones(obs["edge_mask"].shape, np.float64)
    slots = np.flatnonzero(obs["edge_mask"])
    w[slots] = eigrp_weights(obs["edge_attr"][slots, DATARATE], obs["edge_attr"][slots, DELAY])
    return ActionFormat.of_env(env).from_weights(w, obs["edge_mask"])
