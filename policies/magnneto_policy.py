# SPDX-License-Identifier: GPL-2.0-only
"""MAGNNETO as a routing policy of the packet-level (or fluid) environment, as Section 6.1 of
the PackeRL paper evaluates it.

Every step the policy reads the previous step's traffic matrix of sent bytes (the env's
``traffic_matrix`` key: make the env with ``traffic_matrix=True``; :func:`env_requirements`
says so to :mod:`packerl.app.evaluate`), runs one MAGNNETO optimisation episode on it in the
fluid model (:func:`policies.magnneto.optimise`: zero LU, random integer weights in
``INITIAL_WEIGHTS``, Theta(E) increments over the working links) and installs the final
weights as shortest paths (next hops, smallest-id ties). Only next-hop actions: MAGNNETO's
integer weights tie often, and the link-weight env's normalised encoding would break those ties
differently from the fluid model the weights were optimised in. At S0 the matrix is all zero: the first step routes on shortest paths
of the random initial weights.

A MAGNNETO run directory (:func:`policies.magnneto.train`) is the policy's name for
``packerl evaluate`` and sweeps: ``make_policy("runs/magnneto-seed0", env)``.

Example:
    >>> import gymnasium as gym, packerl
    >>> from policies.magnneto import MagnnetoActor
    >>> env = gym.make("packerl/PackeRL-Fluid-v0", topology="nx-XS", traffic="udp_low",
    ...                episode_steps=2, traffic_matrix=True)
    >>> policy = MagnnetoPolicy.from_env(env, actor=MagnnetoActor(), seed=0, horizon=3)
    >>> obs, info = env.reset(seed=1)
    >>> policy.reset()
    >>> env.action_space.contains(policy.act(obs))
    True
    >>> env.close()
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from packerl.fluid import FluidNetwork
from packerl.routing import next_hops_from_weights
from packerl.spaces import ActionFormat, ActionType, graph_of
from policies.base import Policy
from policies.baselines import link_properties
from policies.magnneto import MagnnetoActor, MagnnetoTask, NumpyActor, load_actor, optimise

#: the observation key the policy reads, and the env option that adds it
TRAFFIC_MATRIX_KEY = "traffic_matrix"


def is_magnneto_run(name: Any) -> bool:
    """True if ``name`` is a run directory of :func:`policies.magnneto.train` (its
    ``config.json`` names the policy and a ``checkpoint.pt`` is there)."""
    if not isinstance(name, (str, os.PathLike)):
        return False
    run = Path(name)
    try:
        config = json.loads((run / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(config, dict) and config.get("policy") == "magnneto"
            and (run / "checkpoint.pt").is_file())


def env_requirements(name: Any) -> dict[str, Any]:
    """The environment options the policy called ``name`` needs (``{}`` for most)."""
    return {TRAFFIC_MATRIX_KEY: True} if is_magnneto_run(name) else {}


class MagnnetoPolicy(Policy):
    """MAGNNETO's optimisation loop, run every step on the last step's traffic matrix.

    Args:
        actor: the trained actor (:func:`policies.magnneto.load_actor`).
        max_nodes, max_edges, action_type, action_format: as :class:`~policies.base.Policy`.
        seed: seeds the initial weights and the actor's sampling (per episode, from
            :meth:`reset`).
        greedy: pick the most likely link at every increment instead of sampling.
        horizon: increments per optimisation (default: Theta(E),
            :func:`policies.magnneto.horizon_of` of the working links).
        step_ms: the step the traffic matrix covers (the env's ``step_ms``).
    """

    name: ClassVar[str] = "magnneto"
    supported_action_types = ("next_hop",)

    def __init__(self, actor: MagnnetoActor, max_nodes: int, max_edges: int,
                 action_type: ActionType | None = None,
                 action_format: ActionFormat | None = None, seed: int | None = 0,
                 greedy: bool = False, horizon: int | None = None, step_ms: float = 5.0):
        super().__init__(max_nodes, max_edges, action_type, action_format)
        self.actor = actor.eval()
        self._numpy_actor = NumpyActor(self.actor)
        self.seed = seed
        self.greedy = bool(greedy)
        self.horizon = horizon
        self.step_ms = float(step_ms)
        self._rng = np.random.default_rng(seed)
        self._network: tuple[bytes, FluidNetwork] | None = None
        #: the last optimisation's maximum LU before and after (for logs and tests)
        self.last_result: dict[str, Any] | None = None

    @classmethod
    def from_env(cls, env: Any, run: str | os.PathLike | None = None,
                 actor: MagnnetoActor | None = None, **kwargs: Any) -> MagnnetoPolicy:
        """The policy for ``env`` with the actor of ``run`` (a MAGNNETO run directory) or
        ``actor``.

        Raises:
            ValueError: the env's observations carry no traffic matrix, or neither ``run``
                nor ``actor`` is given.
        """
        base = env.unwrapped
        if TRAFFIC_MATRIX_KEY not in base.observation_space.spaces:
            raise ValueError("MAGNNETO optimises the last step's traffic matrix: make the "
                             f"environment with `{TRAFFIC_MATRIX_KEY}=True`, e.g. "
                             f"gym.make(\"packerl/PackeRL-v0\", {TRAFFIC_MATRIX_KEY}=True)")
        if (run is None) == (actor is None):
            raise ValueError("give exactly one of `run` (a MAGNNETO run directory) and "
                             "`actor`")
        kwargs.setdefault("action_format", ActionFormat.of_env(base))
        kwargs.setdefault("step_ms", base.step_ms)
        return cls(actor if actor is not None else load_actor(run), base.max_nodes,
                   base.max_edges, **kwargs)

    def reset(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def _working_network(self, observation: dict[str, np.ndarray]) -> FluidNetwork:
        """The fluid model of the working links (cached while they do not change)."""
        n, slots, _ = graph_of(observation)
        forward = slots[slots % 2 == 0]  # a link fails both ways: its even slot says it
        key = b"".join(np.ascontiguousarray(a).tobytes() for a in (
            forward, np.asarray(observation["edge_index"])[:, forward],
            np.asarray(observation["link_props"])[forward], np.array([n])))
        if self._network is None or self._network[0] != key:
            datarate, delay = link_properties(observation, forward)
            self._network = (key, FluidNetwork(
                n, np.asarray(observation["edge_index"])[:, forward].T, datarate, delay,
                self.step_ms))
        return self._network[1]

    def act(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        if TRAFFIC_MATRIX_KEY not in observation:
            raise ValueError(f"the observation has no `{TRAFFIC_MATRIX_KEY}`: make the "
                             f"environment with `{TRAFFIC_MATRIX_KEY}=True`")
        net = self._working_network(observation)
        n = net.num_nodes
        tm = np.asarray(observation[TRAFFIC_MATRIX_KEY], np.float64)[:n, :n]
        task = MagnnetoTask(net, tm, self._rng, horizon=self.horizon)
        result = optimise(self._numpy_actor, task, seed=int(self._rng.integers(2**31 - 1)),
                          greedy=self.greedy)
        self.last_result = {k: result[k] for k in ("initial_mlu", "final_mlu")}
        table = next_hops_from_weights(n, net.edge_index, result["weights"])
        return self.next_hop_action(table, observation)


__all__ = ["TRAFFIC_MATRIX_KEY", "MagnnetoPolicy", "env_requirements", "is_magnneto_run"]
