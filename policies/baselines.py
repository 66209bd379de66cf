# SPDX-License-Identifier: GPL-2.0-only
"""Classic and random routing baselines (PackeRL paper, Section 6.1 and Appendix B.5).

- :class:`OSPF`: shortest paths over ``1e8 / datarate`` link weights.
- :class:`EIGRP`: shortest paths over ``256 * (1e7 / bw_kbps + delay_us / 10)``;
  :class:`PaperEIGRP` over ``256 * (1e7 / bw_kbps + delay_ms * 10)``, as the paper's original
  code computes it (the reference of the paper's figures).
  Both recompute shortest paths only when the topology changes (a link fails or comes back):
  the result is cached under a hash of the working edge set, datarates and delays.
- :class:`RandomNextHop` (Random (NH)): a uniformly random neighbour for every (u, z), every
  step.
- :class:`RandomLinkWeights` (Random (LW)): shortest paths over link weights drawn from
  U[1, 10) per directed edge, every step.

All of them produce next-hop actions for ``packerl/PackeRL-v0``; the shortest-path ones and
Random (LW) can also produce link-weight actions (``action_type="link_weights"``) for
``packerl/PackeRL-LinkWeights-v0``.

Example:
    >>> import gymnasium as gym, packerl
    >>> env = gym.make("packerl/PackeRL-v0", topology="nx-XS", traffic="udp_low",
    ...                episode_steps=2)
    >>> policy = EIGRP.from_env(env)
    >>> obs, info = env.reset(seed=3)
    >>> policy.reset()
    >>> obs, reward, terminated, truncated, info = env.step(policy.act(obs))
    >>> policy.recomputations
    1
    >>> env.close()
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from packerl.routing import eigrp_weights, next_hops_from_weights, ospf_weights
from packerl.spaces import DATARATE, DELAY, ActionType, graph_of
from policies.base import Policy

#: weight given to padded and failed edge slots in link-weight actions (the env ignores them)
UNUSED_SLOT_WEIGHT = 1.0


def link_properties(observation: dict[str, np.ndarray],
                    slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw (datarate_bps, delay_ms) of the given edge slots, as float64.

    Read from the observation's ``link_props`` key (raw values, never normalised or stacked)
    when present, else from the ``edge_attr`` columns ``DATARATE`` and ``DELAY``.
    """
    props = observation.get("link_props")
    if props is not None:
        props = np.asarray(props, dtype=np.float64)
        return props[slots, 0], props[slots, 1]
    attr = np.asarray(observation["edge_attr"], dtype=np.float64)
    return attr[slots, DATARATE], attr[slots, DELAY]


def _padded_weights(slots: np.ndarray, weights: np.ndarray, max_edges: int) -> np.ndarray:
    out = np.full(2 * max_edges, UNUSED_SLOT_WEIGHT, np.float64)
    out[slots] = weights
    return out


class ShortestPathPolicy(Policy):
    """Static shortest-path routing over link weights derived from datarate and delay.

    Shortest paths are recomputed only when the topology seen in the observation changes;
    :attr:`recomputations` counts the shortest-path computations (for tests and benchmarks).
    """

    supported_action_types = ("next_hop", "link_weights")

    def __init__(self, max_nodes: int, max_edges: int, action_type: ActionType | None = None,
                 **kwargs: Any):
        super().__init__(max_nodes, max_edges, action_type, **kwargs)
        self.recomputations = 0
        self._key: bytes | None = None
        self._weights: np.ndarray | None = None
        self._action: np.ndarray | None = None

    def link_weights(self, datarate_bps: np.ndarray, delay_ms: np.ndarray) -> np.ndarray:
        """Per-edge weights from datarate (bit/s) and delay (ms)."""
        raise NotImplementedError

    @staticmethod
    def topology_key(observation: dict[str, np.ndarray]) -> bytes:
        """A digest of what the routing depends on: working edge slots, their endpoints,
        datarates and delays."""
        mask = np.ascontiguousarray(observation["edge_mask"], dtype=np.int8)
        slots = np.flatnonzero(mask)
        datarate, delay = link_properties(observation, slots)
        h = hashlib.blake2b(digest_size=16)
        for part in (mask,
                     np.ascontiguousarray(np.asarray(observation["edge_index"])[:, slots]),
                     datarate, delay,
                     np.asarray(observation["node_mask"], dtype=np.int8)):
            h.update(part.tobytes())
        return h.digest()

    def _update(self, observation: dict[str, np.ndarray]) -> None:
        key = self.topology_key(observation)
        if key == self._key:
            return
        n, slots, edge_index = graph_of(observation)
        w = self.link_weights(*link_properties(observation, slots))
        table = next_hops_from_weights(n, edge_index, w)
        self.recomputations += 1
        self._weights = _padded_weights(slots, w, self.max_edges)
        self._action = (self.link_weight_action(self._weights, observation)
                        if self.action_type == "link_weights"
                        else self.next_hop_action(table, observation))
        self._key = key

    def weights(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        """The (2 * max_edges,) float64 link-weight vector for ``observation`` (padded and
        failed slots get :data:`UNUSED_SLOT_WEIGHT`)."""
        self._update(observation)
        return self._weights.copy()

    def act(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        self._update(observation)
        return self._action.copy()


class OSPF(ShortestPathPolicy):
    """OSPF: link weight ``1e8 / datarate_bps`` (B.5)."""

    name = "ospf"

    def link_weights(self, datarate_bps: np.ndarray, delay_ms: np.ndarray) -> np.ndarray:
        return ospf_weights(datarate_bps)


class EIGRP(ShortestPathPolicy):
    """EIGRP with default K-values: ``256 * (1e7 / bw_kbps + delay_us / 10)`` (B.5), in
    EIGRP's own units (:func:`packerl.routing.eigrp_weights`, variant ``"classic"``)."""

    name = "eigrp"
    variant = "classic"

    def link_weights(self, datarate_bps: np.ndarray, delay_ms: np.ndarray) -> np.ndarray:
        return eigrp_weights(datarate_bps, delay_ms, self.variant)


class PaperEIGRP(EIGRP):
    """EIGRP as the PackeRL paper's original code computes it: ``256 * (1e7 / bw_kbps +
    delay_ms * 10)`` (variant ``"paper"``), the reference of the paper's figures."""

    name = "eigrp_paper"
    variant = "paper"


class RandomNextHop(Policy):
    """Random (NH): every step, a uniformly random neighbour of u for every (u, z).

    Args:
        seed: seed of the policy's ``numpy.random.Generator`` (None: fresh entropy).
    """

    name = "random_nh"

    def __init__(self, max_nodes: int, max_edges: int, action_type: ActionType | None = None,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(max_nodes, max_edges, action_type, **kwargs)
        self.rng = np.random.default_rng(seed)

    def act(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        n = int(np.asarray(observation["node_mask"]).sum())
        adj = np.asarray(observation["adjacency"])[:n, :n].astype(bool)
        deg = adj.sum(axis=1)
        if (deg == 0).any():
            u = int(np.flatnonzero(deg == 0)[0])
            raise ValueError(f"node {u} has no working link; Random (NH) needs a neighbour "
                             "for every node")
        # neighbours of each u in ascending id order come first in each row
        neighbours = np.argsort(~adj, axis=1, kind="stable")
        pick = self.rng.integers(0, deg[:, None], size=(n, n))
        table = np.take_along_axis(neighbours, pick, axis=1).astype(np.int32)
        np.fill_diagonal(table, -1)
        return self.next_hop_action(table, observation)


class RandomLinkWeights(Policy):
    """Random (LW): shortest paths over weights drawn from U[1, 10) per directed edge, every
    step.

    Args:
        seed: seed of the policy's ``numpy.random.Generator`` (None: fresh entropy).
    """

    name = "random_lw"
    supported_action_types = ("next_hop", "link_weights")
    low, high = 1.0, 10.0

    def __init__(self, max_nodes: int, max_edges: int, action_type: ActionType | None = None,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(max_nodes, max_edges, action_type, **kwargs)
        self.rng = np.random.default_rng(seed)

    def act(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        n, slots, edge_index = graph_of(observation)
        w = self.rng.uniform(self.low, self.high, size=len(slots))
        if self.action_type == "link_weights":
            return self.link_weight_action(_padded_weights(slots, w, self.max_edges), observation)
        return self.next_hop_action(next_hops_from_weights(n, edge_index, w), observation)


__all__ = [
    "EIGRP",
    "OSPF",
    "PaperEIGRP",
    "RandomLinkWeights",
    "RandomNextHop",
    "ShortestPathPolicy",
    "link_properties",
]
