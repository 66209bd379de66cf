# SPDX-License-Identifier: GPL-2.0-only
"""A trained PPO model (FieldLines or M-Slim) behind the common :class:`Policy` interface.

It replays the training observation pipeline on raw observations: normalisation with the
statistics saved next to the model (frozen), then stacking of the last ``k`` frames, which
:meth:`reset` clears at the start of every episode. Actions are deterministic (argmax for
FieldLines, the Gaussian mean for M-Slim).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from packerl.wrappers import FrameStacker, normalize
from policies.base import Policy


def resolve_model(path: str | Path) -> tuple[Path, Path, Path]:
    """(model.zip, stats.pkl, config.json) for a run directory or a model/checkpoint zip."""
    p = Path(path)
    if p.is_dir():
        p = p / "model.zip" if (p / "model.zip").exists() else p / "checkpoint.zip"
    if not p.is_file():
        raise ValueError(f"no trained model at `{path}`; give a run directory or a .zip file "
                         "written by `packerl train`")
    stats = p.with_name(p.stem + "_stats.pkl")
    config = p.with_name("config.json")
    for needed in (stats, config):
        if not needed.is_file():
            raise ValueError(f"`{needed}` is missing next to `{p}`; a trained model needs the "
                             "normalisation statistics and config.json of its run")
    return p, stats, config


class LearnedPolicy(Policy):
    """A model trained by ``packerl train``.

    Args:
        path: run directory or model ``.zip``.
        max_nodes, max_edges: the evaluation environment's padding (must match the model's).
        action_type: must match the model's (``next_hop`` for FieldLines, ``link_weights``
            for M-Slim); taken from the run's config when None.
    """

    name = "learned"
    supported_action_types = ("next_hop", "link_weights")

    def __init__(self, path: str | Path, max_nodes: int, max_edges: int,
                 action_type: str | None = None):
        from stable_baselines3 import PPO

        from packerl.training import POLICY_CLASSES, TrainConfig, load_stats

        model_path, stats_path, config_path = resolve_model(path)
        self.config = TrainConfig.from_json(config_path)
        own = POLICY_CLASSES[self.config.policy][2]
        if action_type is not None and action_type != own:
            raise ValueError(f"the model at `{path}` produces `{own}` actions, the environment "
                             f"takes `{action_type}`; evaluate it on the matching env variant")
        super().__init__(max_nodes, max_edges, own)  # type: ignore[arg-type]
        self.name = f"{self.config.policy}:{Path(path).name}"
        self.stats = load_stats(stats_path)
        self.k = self.config.stack
        self.policy = self._policy_for_padding(PPO.load(model_path, device="cpu"))
        self._stack = FrameStacker(self.k)

    def _policy_for_padding(self, model: Any) -> Any:
        """The trained policy with this environment's padding.

        The GNN's parameters do not depend on the padding, only SB3's declared spaces do: a
        fresh policy of the same class is built for this env's spaces and given the trained
        weights, so a model trained on small graphs runs on larger (or smaller) ones.
        """
        from packerl.spaces import (
            link_weight_action_space,
            next_hop_action_space,
            observation_space,
        )
        from packerl.wrappers import stacked_space

        trained = model.policy
        node_features = "node_attr" in model.observation_space.spaces
        obs_space = stacked_space(observation_space(self.max_nodes, self.max_edges,
                                                    node_features), self.k)
        action_space = (next_hop_action_space(self.max_nodes) if self.action_type == "next_hop"
                        else link_weight_action_space(self.max_edges))
        if obs_space == model.observation_space and action_space == model.action_space:
            return trained
        kwargs = trained._get_constructor_parameters()
        kwargs.update(observation_space=obs_space, action_space=action_space)
        policy = type(trained)(**kwargs)
        policy.load_state_dict(trained.state_dict())
        policy.set_training_mode(False)
        return policy

    @classmethod
    def from_env(cls, env: Any, path: str | Path = "", **kwargs: Any) -> LearnedPolicy:
        base = env.unwrapped
        return cls(path, base.max_nodes, base.max_edges, getattr(base, "action_type", None))

    def reset(self) -> None:
        self._stack.clear()

    def act(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        obs = self._stack(normalize(observation, self.stats))
        batch = {k: v[None] for k, v in obs.items()}
        action, _ = self.policy.predict(batch, deterministic=True)
        return np.asarray(action[0])
