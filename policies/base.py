# SPDX-License-Identifier: GPL-2.0-only
"""The policy interface shared by baselines and learned routing policies.

A policy maps the raw padded observation dict of *one* PackeRL environment (see
:mod:`packerl.spaces`) to an action of that environment's action space. It knows the padding
(``max_nodes``, ``max_edges``) from construction; :meth:`Policy.from_env` reads it from an
environment, so the usual way to get a policy is::

    env = gym.make("packerl/PackeRL-v0", topology="nx-XS", traffic="udp_high")
    policy = EIGRP.from_env(env)
    obs, info = env.reset(seed=1)
    policy.reset()
    obs, *_ = env.step(policy.act(obs))

Example:
    >>> from policies.baselines import OSPF
    >>> policy = OSPF(max_nodes=10, max_edges=40)
    >>> (policy.name, policy.action_type, policy.max_nodes)
    ('ospf', 'next_hop', 10)
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from packerl.spaces import ACTION_TYPES, ActionFormat, ActionType


class Policy(ABC):
    """A routing policy for one PackeRL environment.

    Subclasses set the class attribute ``name`` and implement :meth:`act`; stateful policies
    also override :meth:`reset`.

    Args:
        max_nodes: node padding of the environment's spaces.
        max_edges: undirected edge padding (the observation has ``2 * max_edges`` slots).
        action_type: ``"next_hop"`` (a flat ``max_nodes**2`` integer action for
            ``packerl/PackeRL-v0``) or ``"link_weights"`` (a ``2 * max_edges`` float32
            vector for ``packerl/PackeRL-LinkWeights-v0``), if the policy supports it.
        action_format: the environment's encoding of that action type (default: the
            environments' defaults; :meth:`from_env` reads it from the environment).

    Attributes:
        name: short identifier used in result directories and tables.
        action_type: which action space :meth:`act` produces.
    """

    name: ClassVar[str] = "policy"
    #: the action types a policy class can produce; the first is the default
    supported_action_types: ClassVar[tuple[str, ...]] = ("next_hop",)

    def __init__(self, max_nodes: int, max_edges: int, action_type: ActionType | None = None,
                 action_format: ActionFormat | None = None):
        if action_format is not None:
            action_type = action_type or action_format.action_type
        if int(max_nodes) < 1 or int(max_edges) < 1:
            raise ValueError(
                f"max_nodes and max_edges must be >= 1, got {max_nodes} and {max_edges}")
        action_type = action_type or self.supported_action_types[0]
        if action_type not in self.supported_action_types:
            raise ValueError(
                f"policy `{self.name}` cannot produce `{action_type}` actions; supported: "
                f"{list(self.supported_action_types)}")
        self.max_nodes = int(max_nodes)
        self.max_edges = int(max_edges)
        self.action_type: ActionType = action_type
        self.action_format = dataclasses.replace(action_format or ActionFormat(),
                                                 action_type=action_type)

    @classmethod
    def from_env(cls, env: Any, **kwargs: Any) -> Policy:
        """Build the policy for ``env`` (a PackeRL env, possibly wrapped): padding and action
        format come from ``env.unwrapped``; ``kwargs`` go to the constructor."""
        base = env.unwrapped
        kwargs.setdefault("action_format", ActionFormat.of_env(base))
        return cls(max_nodes=base.max_nodes, max_edges=base.max_edges, **kwargs)

    def next_hop_action(self, table: np.ndarray,
                        observation: dict[str, np.ndarray]) -> np.ndarray:
        """The environment's next-hop action for ``table`` (N, N) node ids."""
        return self.action_format.from_next_hops(table, observation)

    def link_weight_action(self, weights: np.ndarray,
                           observation: dict[str, np.ndarray]) -> np.ndarray:
        """The environment's link-weight action for positive ``weights`` (2*max_edges,)."""
        return self.action_format.from_weights(weights, observation["edge_mask"])

    def reset(self) -> None:  # noqa: B027 - optional hook, stateless policies keep it empty
        """Called at the start of every episode (before the first :meth:`act`)."""

    @abstractmethod
    def act(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        """The action for one (unbatched) padded observation."""

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(max_nodes={self.max_nodes}, max_edges={self.max_edges}, "
                f"action_type={self.action_type!r})")


__all__ = ["ACTION_TYPES", "ActionType", "Policy"]
