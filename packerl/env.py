# SPDX-License-Identifier: GPL-2.0-only
"""The PackeRL Gymnasium environment: packet-level routing on ns-3.

Each ``reset(seed=...)`` draws a new synnet scenario (topology, traffic, link failures) from
the environment's RNG (or uses the fixed scenario given), starts a simulator process for it
and returns S0. Each ``step(action)`` installs the routing, feeds the step's demands and
failures, simulates ``step_ms`` and returns S(t+1). The episode horizon is a truncation.

Example:
    >>> import gymnasium as gym, packerl
    >>> env = gym.make("packerl/PackeRL-v0", topology="nx-XS", traffic="udp_low",
    ...                episode_steps=3)
    >>> obs, info = env.reset(seed=1)
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    >>> env.spec.max_episode_steps
    3
    >>> env.close()

Every element of the action spaces is a legal action (see :mod:`packerl.spaces` for the
encodings), so generic RL clients need no masks or transforms; ``action_masks()`` is there for
those that want one (sb3-contrib's MaskablePPO).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import synnet
from packerl.observation import build_observation
from packerl.rewards import parse_reward, reward_of, step_metrics
from packerl.routing import ACTION_RELATIVE_TIE, next_hops_from_weights
from packerl.sim import SimState, Simulator
from packerl.sim.validation import (
    MAX_EDGES,
    MAX_NODES,
    MAX_STEP_MS,
    MAX_STEPS,
    MAX_TIMEOUT_S,
    MIN_STEP_MS,
    check_bool,
    check_float,
    check_int,
)
from packerl.spaces import (
    DEFAULT_LINK_WEIGHT_RANGE,
    EDGE_OBS_FEATURES,
    GLOBAL_OBS_FEATURES,
    NODE_OBS_FEATURES,
    ActionFormat,
    ActionType,
    LinkWeightMode,
    NextHopEncoding,
    check_action,
    check_choice,
    encode_next_hops,
    next_hop_action_mask,
    observation_space,
)

_SEED_HIGH = 2**31 - 1
#: default ``max_degree`` for random presets: 32 where Barabasi-Albert hubs can occur (up to
#: 50 nodes; the largest hub seen in 30 draws at 50 nodes had 24 links), else 16 (ER and WS
#: graphs of up to 250 nodes had at most 11); never more than ``max_nodes - 1``
_DEFAULT_MAX_DEGREE = {"ba": 32, "other": 16}


def _preset_max_nodes(topology: Any) -> int:
    """The largest node count a topology preset (or fixed topology) can produce."""
    if isinstance(topology, synnet.Topology):
        return topology.num_nodes
    preset = synnet.TOPOLOGY_PRESETS.get(topology)
    if preset is None:
        valid = sorted(synnet.TOPOLOGY_PRESETS)
        raise ValueError(f"unknown topology preset {topology!r}; valid: {valid}")
    if "nodes" in preset:
        return int(preset["nodes"][1])
    return max(_fixed_topology(name).num_nodes for name in preset["fixed"])


@functools.lru_cache(maxsize=None)
def _fixed_topology(name: str) -> synnet.Topology:
    return synnet.generate(topology=name, traffic="udp_low", link_failures=None, steps=1,
                           seed=0).topology


def _max_degree_of(topology: synnet.Topology) -> int:
    return int(np.bincount(np.asarray(topology.edges).ravel()).max())


def _default_max_degree(topology: Any, max_nodes: int) -> int:
    """``max_degree`` for the ``"neighbor"`` encoding when none is given: the exact largest
    degree of fixed topologies, else the bound of ``_DEFAULT_MAX_DEGREE``."""
    if isinstance(topology, synnet.Topology):
        return max(1, _max_degree_of(topology))
    preset = synnet.TOPOLOGY_PRESETS[topology]
    if "fixed" in preset:
        return max(_max_degree_of(_fixed_topology(name)) for name in preset["fixed"])
    ba_possible = preset["nodes"][0] <= synnet.topology.BA_MAX_NODES
    return max(1, min(max_nodes - 1, _DEFAULT_MAX_DEGREE["ba" if ba_possible else "other"]))


class PackeRLEnv(gym.Env[dict[str, np.ndarray], np.ndarray]):
    """Routing optimisation on a packet-level ns-3 simulation (see the module docstring).

    Args:
        topology: synnet topology preset (``"nx-XS"`` ... ``"nx-XL"``, ``"nsfnet"``,
            ``"geant2"``, ``"nsfnet+geant2"``) or a ``synnet.Topology``.
        traffic: synnet traffic preset, e.g. ``"tcp_high"`` or ``"flex"``.
        link_failures: None / ``"none"`` or ``"weibull"``.
        episode_steps: steps per episode, an int in [1, 1e6] (default: 100, i.e. 500 ms).
        step_ms: simulated milliseconds per step, in [1e-3, 1e6] (default: 5).
        reward: reward spec (see :mod:`packerl.rewards`; default: goodput).
        max_nodes: node padding, at most ``MAX_NODES`` = 5000 (default: the preset's largest
            size).
        max_edges: undirected edge padding (default: 4 x max_nodes).
        node_features: include per-node features in the observation (default: False, as the
            paper's experiments).
        action_type: ``"next_hop"`` (a neighbour per routing node and destination) or
            ``"link_weights"`` (a weight per directed edge, routed by shortest paths).
        scenario: a fixed ``synnet.Scenario`` (or a path to one) to replay at every reset.
        synnet_kwargs: extra keyword overrides for ``synnet.generate``.
        sim_timeout: seconds before a silent simulator is declared hung.
        next_hop_encoding: ``"neighbor"`` (value k = u's k-th working neighbour, default) or
            ``"node"`` (value = next-hop node id, a non-neighbour means "no route"); see
            :mod:`packerl.spaces`.
        max_degree: size of each entry's choice in the ``"neighbor"`` encoding (default: the
            largest degree of a fixed topology; for random presets 32 up to 50 nodes, else
            16, at most ``max_nodes - 1``).
        strict: raise ``ValueError`` for next-hop entries that are not a working neighbour
            (``"node"``) or that wrap around (``"neighbor"``), instead of routing them as
            documented; for debugging policies.
        link_weights: ``"normalized"`` (``Box(-1, 1)`` mapped to ``link_weight_range`` on a
            log scale, default) or ``"raw"`` (the positive weights themselves).
        link_weight_range: ``(lo, hi)`` of the normalised weights (default: (1, 100)).
        last_action: add the previous step's action to the observation (``last_next_hops``
            or ``last_link_weights``, see :mod:`packerl.spaces`).
        traffic_matrix: add the previous step's traffic matrix of sent bytes
            (``traffic_matrix``, see :mod:`packerl.spaces`), e.g. for MAGNNETO.
        render_mode: None or ``"rgb_array"`` (``render()`` draws the network at the current
            step: link utilisation, drops, failed links and the routes toward
            ``render_destination``).
        render_destination: the destination whose installed routes ``render()`` draws.

    Raises:
        ValueError: for an argument of the wrong type or out of range. Scalars are checked
            strictly (``True`` is not an integer, ``2.5`` or ``"100"`` are not step counts,
            ``"no"`` is not a boolean; see :func:`packerl.sim.validation.check_int`), and the
            message says what was given and what is accepted.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        topology: str | synnet.Topology = "nx-XS",
        traffic: str = "tcp_high",
        link_failures: str | None = None,
        episode_steps: int = 100,
        step_ms: float = 5.0,
        reward: str | Mapping[str, float] = "goodput",
        max_nodes: int | None = None,
        max_edges: int | None = None,
        node_features: bool = False,
        action_type: ActionType = "next_hop",
        scenario: synnet.Scenario | str | os.PathLike | None = None,
        synnet_kwargs: Mapping[str, Any] | None = None,
        sim_timeout: float = 600.0,
        next_hop_encoding: NextHopEncoding = "neighbor",
        max_degree: int | None = None,
        strict: bool = False,
        link_weights: LinkWeightMode = "normalized",
        link_weight_range: tuple[float, float] = DEFAULT_LINK_WEIGHT_RANGE,
        last_action: bool = False,
        traffic_matrix: bool = False,
        render_mode: str | None = None,
        render_destination: int = 0,
    ):
        if not (scenario is None or isinstance(scenario, (synnet.Scenario, str, os.PathLike))):
            raise ValueError(f"scenario must be a synnet.Scenario, the path of a scenario file or "
                             f"None, got {scenario!r} ({type(scenario).__name__})")
        if isinstance(scenario, (str, os.PathLike)):
            scenario = synnet.Scenario.load(Path(scenario))
        if scenario is not None:
            topology, episode_steps, step_ms = scenario.topology, scenario.steps, scenario.step_ms
        if render_mode is not None:
            check_choice("render_mode", render_mode, tuple(self.metadata["render_modes"]))
        if not (synnet_kwargs is None or isinstance(synnet_kwargs, Mapping)):
            raise ValueError(f"synnet_kwargs must be a mapping of synnet.generate keywords or "
                             f"None, got {synnet_kwargs!r} ({type(synnet_kwargs).__name__})")
        self.topology = topology
        self.traffic = traffic
        self.link_failures = link_failures
        self.episode_steps = check_int("episode_steps", episode_steps, 1, MAX_STEPS)
        self.step_ms = check_float("step_ms", step_ms, MIN_STEP_MS, MAX_STEP_MS,
                                   why="the simulator needs steps of 1 microsecond to 1000 s")
        self.reward_weights = parse_reward(reward)
        self.node_features = check_bool("node_features", node_features)
        self.action_type: ActionType = action_type
        self.fixed_scenario = scenario
        self.synnet_kwargs = dict(synnet_kwargs or {})
        sim_timeout = check_float("sim_timeout", sim_timeout, 0.0, MAX_TIMEOUT_S, lo_open=True,
                                  why="it is the seconds one simulator command may take")
        if scenario is None:  # fail now, not at the first reset, on bad names
            synnet.generate(topology=topology, traffic=traffic, link_failures=link_failures,
                            steps=1, step_ms=self.step_ms, seed=0, **self.synnet_kwargs)
        self.max_nodes = (check_int("max_nodes", max_nodes, 2, MAX_NODES) if max_nodes is not None
                          else _preset_max_nodes(topology))
        self.max_edges = (check_int("max_edges", max_edges, 1, MAX_EDGES) if max_edges is not None
                          else 4 * self.max_nodes)
        if max_degree is None:
            max_degree = _default_max_degree(topology, self.max_nodes)
        max_degree = check_int("max_degree", max_degree, 1, MAX_NODES)
        #: the action type and encoding (one record; the attributes below read it)
        self.action_format = ActionFormat(action_type, next_hop_encoding, max_degree,
                                          link_weights, link_weight_range)
        self.strict = check_bool("strict", strict)
        self.last_action = check_bool("last_action", last_action)
        self.traffic_matrix = check_bool("traffic_matrix", traffic_matrix)
        self.render_mode = render_mode
        self.render_destination = check_int("render_destination", render_destination, 0,
                                            MAX_NODES - 1)
        self.observation_space = observation_space(
            self.max_nodes, self.max_edges, self.node_features,
            last_action=action_type if self.last_action else None,
            traffic_matrix=self.traffic_matrix)
        self.action_space = self.action_format.space(self.max_nodes, self.max_edges)
        self._spec: gym.envs.registration.EnvSpec | None = None
        self._sim = Simulator(timeout=sim_timeout)
        self.scenario: synnet.Scenario | None = None
        self.state: SimState | None = None
        self._t = 0
        self._table: np.ndarray | None = None
        self._history: list[dict[str, float]] = []
        self._needs_reset = True
        self._episode = 0  # counts resets; keys the adjacency cache
        self._adjacency_key: tuple | None = None
        self._adjacency_cache = np.zeros((0, 0), np.int8)
        self._weights: np.ndarray | None = None  # link weights applied by the last step
        self._candidate_weights: np.ndarray | None = None
        self._degree_warned = False

    @property
    def next_hop_encoding(self) -> NextHopEncoding:
        """``"neighbor"`` or ``"node"`` (see :mod:`packerl.spaces`)."""
        return self.action_format.next_hop_encoding

    @property
    def max_degree(self) -> int:
        """Choices per next-hop entry in the ``"neighbor"`` encoding."""
        return int(self.action_format.max_degree)

    @property
    def link_weight_mode(self) -> LinkWeightMode:
        """``"normalized"`` or ``"raw"``."""
        return self.action_format.link_weights

    @property
    def link_weight_range(self) -> tuple[float, float]:
        """``(lo, hi)`` of the normalised link weights."""
        return self.action_format.link_weight_range

    @property
    def spec(self) -> gym.envs.registration.EnvSpec | None:
        """The spec ``gym.make`` gave this env, with ``max_episode_steps`` = the horizon."""
        return self._spec

    @spec.setter
    def spec(self, value: gym.envs.registration.EnvSpec | None) -> None:
        if value is not None and value.max_episode_steps is None:
            value = dataclasses.replace(value, max_episode_steps=self.episode_steps)
        self._spec = value

    # ------------------------------------------------------------------------ Gymnasium API

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, np.ndarray], dict]:
        super().reset(seed=seed)
        options = options or {}
        scenario = options.get("scenario", self.fixed_scenario)
        if scenario is None:
            scenario = synnet.generate(
                topology=self.topology, traffic=self.traffic, link_failures=self.link_failures,
                steps=self.episode_steps, step_ms=self.step_ms,
                seed=int(self.np_random.integers(_SEED_HIGH)), **self.synnet_kwargs)
        self._check_fits(scenario)
        self.scenario = scenario
        sim_seed = int(self.np_random.integers(_SEED_HIGH))
        self.state = self._sim.reset(scenario.topology, {"step_ms": scenario.step_ms},
                                     seed=sim_seed)
        self._t = 0
        self._table = None
        self._weights = None
        self._history = []
        self._needs_reset = False
        self._episode += 1
        self._warn_degree(scenario.topology)
        return self._observe(self.state), self._info(None)

    def step(self, action: np.ndarray):
        self.send_step(action)
        return self.finish_step()

    def close(self) -> None:
        self._sim.close()

    def render(self) -> np.ndarray | None:
        """The network at the current step as an RGB array (``render_mode="rgb_array"``);
        None without a render mode."""
        if self.render_mode is None:
            return None
        if self.scenario is None or self.state is None:
            raise gym.error.ResetNeeded("call reset() before render()")
        from packerl.render import render_network

        topo = self.scenario.topology
        return render_network(
            np.asarray(topo.positions), np.asarray(topo.edges), self._sim.link_up,
            self.state.edge("link_util"), self.state.edge("drop_packets"), self._table,
            min(self.render_destination, topo.num_nodes - 1), self._t)

    def action_masks(self) -> np.ndarray:
        """A mask for sb3-contrib's MaskablePPO (next-hop variant): flat booleans of shape
        (max_nodes**2 * nvec,), for every (u, z) the values that reach a distinct working
        neighbour (see :func:`packerl.spaces.next_hop_action_mask`). Values outside the mask
        are legal too."""
        if self.action_type != "next_hop":
            raise AttributeError("action_masks() exists for the next-hop action variant only")
        if self.state is None:
            raise gym.error.ResetNeeded("call reset() before action_masks()")
        return next_hop_action_mask(self._adjacency(), self.scenario.topology.num_nodes,
                                    self.next_hop_encoding, self.max_degree)

    def encode_next_hops(self, table: np.ndarray) -> np.ndarray:
        """The next-hop action (this env's encoding) that installs ``table`` (N, N) of node
        ids on the current topology (-1 = no route); ValueError if it uses a link that is
        not working."""
        if self.action_type != "next_hop":
            raise AttributeError("encode_next_hops() exists for the next-hop variant only")
        if self.state is None:
            raise gym.error.ResetNeeded("call reset() before encode_next_hops()")
        return encode_next_hops(table, self._adjacency(), self.next_hop_encoding,
                                self.max_degree)

    # ------------------------------------------------------------ split step (vector envs)

    def send_step(self, action: np.ndarray) -> None:
        """Validate ``action`` and start simulating the step (see :meth:`finish_step`).

        Vector envs call this for all their environments, then :meth:`finish_step` for all,
        so that the simulators run concurrently.
        """
        self.send_next_hops(self.next_hops_of(action))

    def send_next_hops(self, table: np.ndarray) -> None:
        """Start the step with an already validated next-hop table (see :meth:`next_hops_of`)."""
        if self._needs_reset or self.scenario is None:
            raise gym.error.ResetNeeded("call reset() before step() (the episode has ended)")
        t = self._t
        unchanged = self._table is not None and np.array_equal(table, self._table)
        self._sim.step_async(None if unchanged else table, self.scenario.step_demands(t),
                             self.scenario.step_failures(t))
        self._pending_table = table
        self._pending_weights, self._candidate_weights = self._candidate_weights, None

    def finish_step(self):
        """Wait for the step started by :meth:`send_step`; returns Gymnasium's 5-tuple."""
        self.state = self._sim.step_wait()
        self._t += 1
        table = self._pending_table
        metrics = step_metrics(self.state)
        if self._table is None:
            metrics["action_fluctuation"] = 0.0  # nothing to change from; not in the mean
        else:
            off = ~np.eye(table.shape[0], dtype=bool)
            metrics["action_fluctuation"] = float((table != self._table)[off].mean())
        self._table = table
        self._weights = self._pending_weights
        self._history.append(metrics)
        reward = reward_of(metrics, self.reward_weights)
        truncated = self._t >= self.episode_steps
        self._needs_reset = truncated
        return self._observe(self.state), reward, False, truncated, self._info(metrics)

    # ----------------------------------------------------------------------------- helpers

    def next_hops_of(self, action: Any) -> np.ndarray:
        """The (N, N) next-hop table an action stands for.

        Raises:
            ValueError: if ``action`` is not an element of the action space (shape, dtype,
                range), or in strict mode for entries that are no working neighbour.
        """
        if self.scenario is None or self.state is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        n = self.scenario.topology.num_nodes
        if self.action_type == "next_hop":
            arr = check_action(action, self.action_space, "next-hop")
            return self.action_format.to_next_hops(arr, self._adjacency(), n, self.strict)
        arr = check_action(action, self.action_space, "link-weight")
        slots = self._working_slots()
        w = self.action_format.to_weights(arr)[slots]  # in-space: finite and positive
        applied = np.zeros(2 * self.max_edges, np.float32)
        applied[slots] = w
        self._candidate_weights = applied
        return next_hops_from_weights(n, self.state.edge_index[:, slots], w, ACTION_RELATIVE_TIE)

    def _warn_degree(self, topology: synnet.Topology) -> None:
        if (self.action_type != "next_hop" or self.next_hop_encoding != "neighbor"
                or self._degree_warned):
            return
        degree = _max_degree_of(topology)
        if degree > self.max_degree:
            self._degree_warned = True
            gym.logger.warn(
                f"a node of this scenario has {degree} neighbours, more than max_degree="
                f"{self.max_degree}: it can route only over its first {self.max_degree} "
                "(by node id); make the environment with a larger max_degree to use them all")

    def _working_slots(self) -> np.ndarray:
        up = np.repeat(self._sim.link_up, 2)
        return np.flatnonzero(up)

    def _adjacency(self) -> np.ndarray:
        """Valid next hops (a copy); rebuilt only when the topology or a link changed."""
        key = (self._episode, self._sim.link_up.tobytes())
        if self._adjacency_key != key:
            adj = np.zeros((self.max_nodes, self.max_nodes), np.int8)
            ei = self.state.edge_index[:, self._working_slots()]
            adj[ei[0], ei[1]] = 1
            self._adjacency_key, self._adjacency_cache = key, adj
        return self._adjacency_cache.copy()

    def _check_fits(self, scenario: synnet.Scenario) -> None:
        topo = scenario.topology
        if topo.num_nodes > self.max_nodes or topo.num_edges > self.max_edges:
            raise ValueError(
                f"scenario topology has {topo.num_nodes} nodes and {topo.num_edges} edges, more "
                f"than the padding (max_nodes={self.max_nodes}, max_edges={self.max_edges}); "
                "create the environment with larger max_nodes/max_edges"
            )

    def _observe(self, state: SimState) -> dict[str, np.ndarray]:
        node_features = None
        if self.node_features:
            node_features = np.stack([state.node(k) for k in NODE_OBS_FEATURES], axis=1)
        return build_observation(
            self.observation_space, state.node_features.shape[0], state.edge_index,
            np.repeat(self._sim.link_up, 2),
            np.stack([state.edge(k) for k in EDGE_OBS_FEATURES], axis=1),
            [state.g(k) for k in GLOBAL_OBS_FEATURES], node_features,
            adjacency=self._adjacency(), last_next_hops=self._table,
            last_link_weights=self._weights,
            traffic_matrix=state.tm_sent if self.traffic_matrix else None)

    def _info(self, metrics: dict[str, float] | None) -> dict[str, Any]:
        info: dict[str, Any] = {"step": self._t, "num_nodes": self.scenario.topology.num_nodes,
                                "num_edges": self.scenario.topology.num_edges}
        if metrics is not None:
            info["metrics"] = metrics
        if self._needs_reset and self._history:
            info["episode_metrics"] = episode_summary(self._history)
        return info


def episode_summary(history: list[Mapping[str, float]]) -> dict[str, float]:
    """Per-episode metrics as the paper defines them, and the per-step means beside them.

    - ``drop_ratio``: dropped / (dropped + received) bytes over the episode;
      ``step_mean_drop_ratio`` is the mean of the steps' ratios.
    - ``avg_delay_ms``: the mean one-way delay of every packet delivered in the episode (the
      steps' means weighted by their delivered packets); ``step_mean_avg_delay_ms`` is the
      unweighted mean over steps.
    - ``goodput_mb``: mean MB received per step; ``total_goodput_mb``: their sum.
    - ``max_delay_ms``: the largest packet delay of the episode.
    - ``avg_jitter_ms``, ``max_link_util`` and the byte counters: means over steps.
    - ``action_fluctuation``: mean over the steps that had a previous action (from the
      second step on).
    """
    summary = {k: float(np.mean([h[k] for h in history])) for k in history[0]}
    changes = [h["action_fluctuation"] for h in history[1:]]
    summary["action_fluctuation"] = float(np.mean(changes)) if changes else 0.0
    summary["total_goodput_mb"] = float(sum(h["goodput_mb"] for h in history))
    summary["max_delay_ms"] = float(max(h["max_delay_ms"] for h in history))
    summary["steps"] = float(len(history))
    dropped = sum(h["dropped_mb"] for h in history)
    total = dropped + summary["total_goodput_mb"]
    summary["step_mean_drop_ratio"] = summary["drop_ratio"]
    summary["drop_ratio"] = float(dropped / total) if total > 0 else 0.0
    packets = np.array([h["received_packets"] for h in history], np.float64)
    delays = np.array([h["avg_delay_ms"] for h in history], np.float64)
    summary["step_mean_avg_delay_ms"] = summary["avg_delay_ms"]
    summary["avg_delay_ms"] = (float(packets @ delays / packets.sum()) if packets.sum() > 0
                               else 0.0)
    return summary


class PackeRLLinkWeightsEnv(PackeRLEnv):
    """The link-weight variant: one positive weight per directed edge, routed by shortest
    paths (``packerl/PackeRL-LinkWeights-v0``)."""

    def __init__(self, **kwargs: Any):
        kwargs["action_type"] = "link_weights"
        super().__init__(**kwargs)


__all__ = ["PackeRLEnv", "PackeRLLinkWeightsEnv", "episode_summary"]
