# SPDX-License-Identifier: GPL-2.0-only
"""A trained PPO model (FieldLines or M-Slim) behind the common :class:`Policy` interface.

It replays the training observation pipeline on raw observations: normalisation with the
statistics saved next to the model (frozen), then stacking of the last ``k`` frames, which
:meth:`reset` clears at the start of every episode. Actions are deterministic (argmax for
FieldLines, the Gaussian mean for M-Slim).

A model acts in the encoding it was trained in (FieldLines: next-hop node ids, M-Slim: raw
link weights); its routing is re-encoded for the evaluation environment's action format.
If the model observed its previous action and the environment does not provide it, the
policy feeds its own previous action.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from packerl.spaces import LAST_ACTION_KEY, ActionFormat, decode_next_hops, observation_space
from packerl.wrappers import FrameStacker, load_stats, normalize, stacked_space
from policies.base import Policy
from policies.runs import load_run


@functools.lru_cache(maxsize=8)
def _load_policy(model_path: str, mtime_ns: int, size: int, max_nodes: int, max_edges: int,
                 stack: int, last_action: str | None, model_format: ActionFormat) -> Any:
    """A trained SB3 policy built for this padding, loaded once per process and file version.

    The GNNs' parameters do not depend on the padding, only SB3's declared spaces do, so the
    spaces are rebuilt from the run's description for this padding and handed to SB3 instead of the
    pickled ones (which also keeps models loadable when a space class changes): a model
    trained on small graphs runs on larger (or smaller) ones. Inference is stateless, so the
    episodes of an evaluation share one loaded policy (``mtime_ns``/``size`` key the file's
    version).
    """
    from stable_baselines3 import PPO

    obs_space = stacked_space(observation_space(max_nodes, max_edges, False, last_action), stack)
    action_space = model_format.space(max_nodes, max_edges)
    model = PPO.load(model_path, device="cpu", custom_objects={
        "observation_space": obs_space, "action_space": action_space})
    model.policy.set_training_mode(False)
    return model.policy


class LearnedPolicy(Policy):
    """A model trained by ``packerl train``.

    Args:
        path: run directory or model ``.zip``.
        max_nodes, max_edges: the evaluation environment's padding (any: the policy is
            rebuilt for it).
        action_type: must match the model's (``next_hop`` for FieldLines, ``link_weights``
            for M-Slim); taken from the run's description when None.
        action_format: the evaluation environment's action format (default: the
            environments' defaults).
    """

    name = "learned"
    supported_action_types = ("next_hop", "link_weights")

    def __init__(self, path: str | Path, max_nodes: int, max_edges: int,
                 action_type: str | None = None, action_format: ActionFormat | None = None):
        run = load_run(path)
        own = run.action_type
        if action_type is not None and action_type != own:
            raise ValueError(f"the model at `{path}` produces `{own}` actions, the environment "
                             f"takes `{action_type}`; evaluate it on the matching env variant")
        super().__init__(max_nodes, max_edges, own, action_format)  # type: ignore[arg-type]
        self.run = run
        self.model_format = run.action_format
        self.name = f"{run.policy}:{Path(path).name}"
        self.stats = load_stats(run.stats)
        self.k = run.stack
        last = own if run.last_action else None
        stat = run.model.stat()
        self.policy = _load_policy(str(run.model.resolve()), stat.st_mtime_ns, stat.st_size,
                                   self.max_nodes, self.max_edges, self.k, last,
                                   self.model_format)
        self._stack = FrameStacker(self.k)
        self._last_key = LAST_ACTION_KEY[own]
        self._own_last = run.last_action
        self._last: np.ndarray | None = None

    @classmethod
    def from_env(cls, env: Any, path: str | Path = "", **kwargs: Any) -> LearnedPolicy:
        base = env.unwrapped
        return cls(path, base.max_nodes, base.max_edges, base.action_type,
                   ActionFormat.of_env(base))

    def reset(self) -> None:
        self._stack.clear()
        self._last = None

    def act(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        observation = self._with_last_action(observation)
        obs = self._stack(normalize(observation, self.stats))
        if not self._own_last:
            obs.pop(self._last_key, None)
        batch = {k: v[None] for k, v in obs.items()}
        action, _ = self.policy.predict(batch, deterministic=True)
        own = np.asarray(action[0])
        if self.action_type == "next_hop":
            n = int(np.asarray(observation["node_mask"]).sum())
            table = decode_next_hops(own, observation["adjacency"], n, "node")
            self._last = table
            return self.next_hop_action(table, observation)
        self._last = np.where(np.asarray(observation["edge_mask"]).astype(bool), own, 0.0)
        return self.link_weight_action(own, observation)

    def _with_last_action(self, observation: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The observation with the model's previous action where the model reads one and
        the environment does not observe it (see :mod:`packerl.spaces`)."""
        if not self._own_last or self._last_key in observation:
            return observation
        out = dict(observation)
        if self.action_type == "next_hop":
            last = np.full((self.max_nodes, self.max_nodes), -1, np.int64)
            if self._last is not None:
                n = self._last.shape[0]
                last[:n, :n] = self._last
        else:
            mask = np.asarray(observation["edge_mask"]).astype(np.float32)
            last = mask if self._last is None else (self._last * mask).astype(np.float32)
        out[self._last_key] = last
        return out
