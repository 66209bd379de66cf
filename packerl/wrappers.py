# SPDX-License-Identifier: GPL-2.0-only
"""Observation wrappers used by the paper's policies (Appendix B.4).

- :class:`StackFeatures`: the last ``k`` observations' features side by side (oldest first,
  zeros before the episode's first step), so a policy sees recent dynamics (default k = 4).
- :class:`NormalizeFeatures`: running mean/std normalisation of the feature arrays, computed
  over real entries only (padding and failed edges never enter the statistics).

Only the feature keys (``global``, ``edge_attr``, ``node_attr``) change; graph structure keys
pass through. Both wrappers support the split ``send_step``/``finish_step`` protocol that
:class:`packerl.vector.PackeRLVectorEnv` uses to step simulators concurrently.

For training with stable-baselines3 you may instead use ``VecNormalize(venv,
norm_obs_keys=["global", "edge_attr"])``, which shares statistics across environments.

:class:`HorizonCheck` is applied by ``gym.make`` itself (the registered ids list it): it
refuses a ``max_episode_steps`` that differs from the environment's own horizon.
"""

from __future__ import annotations

import os
import pickle
from collections import deque
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers.utils import RunningMeanStd

FEATURE_KEYS = ("global", "edge_attr", "node_attr")


class _SplitStepWrapper(gym.ObservationWrapper):
    """An observation wrapper that also passes the split-step protocol through."""

    def send_step(self, action: Any) -> None:
        self.env.send_step(action)  # type: ignore[attr-defined]

    def finish_step(self):
        obs, reward, terminated, truncated, info = self.env.finish_step()  # type: ignore
        return self.observation(obs), reward, terminated, truncated, info

    def next_hops_of(self, action: Any) -> np.ndarray:
        return self.env.next_hops_of(action)  # type: ignore[attr-defined]

    def send_next_hops(self, table: np.ndarray) -> None:
        self.env.send_next_hops(table)  # type: ignore[attr-defined]

    def action_masks(self) -> np.ndarray:
        return self.env.unwrapped.action_masks()  # type: ignore[attr-defined]


class HorizonCheck(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Refuse a ``TimeLimit`` that disagrees with the environment's horizon.

    A PackeRL episode is ``episode_steps`` long (its scenario is generated for exactly that
    many steps) and the environment truncates it itself; ``gym.make(..., max_episode_steps=K)``
    with another K would cut episodes short or never apply. ``gym.make`` adds this wrapper
    (registered in the ids' ``additional_wrappers``) after its ``TimeLimit``.

    Raises:
        ValueError: if the wrapped spec's ``max_episode_steps`` is not ``episode_steps``.
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        limit = env.spec.max_episode_steps if env.spec is not None else None
        horizon = int(env.unwrapped.episode_steps)  # type: ignore[attr-defined]
        if limit is not None and limit != horizon:
            raise ValueError(
                f"max_episode_steps={limit} conflicts with the episode horizon episode_steps="
                f"{horizon}; PackeRL truncates its episodes itself: pass "
                f"episode_steps={limit} instead of max_episode_steps (or leave both equal)")


class FrameStacker:
    """The last ``k`` values of each feature key side by side (zeros before the first)."""

    def __init__(self, k: int):
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k
        self._frames: dict[str, deque] = {}

    def clear(self) -> None:
        self._frames = {}

    def __call__(self, observation: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = dict(observation)
        for key in FEATURE_KEYS:
            if key not in observation:
                continue
            frames = self._frames.get(key)
            if frames is None:
                frames = deque([np.zeros_like(observation[key])] * (self.k - 1), maxlen=self.k)
                self._frames[key] = frames
            frames.append(observation[key])
            out[key] = np.concatenate(list(frames), axis=-1)
        return out


def stacked_space(space: spaces.Dict, k: int) -> spaces.Dict:
    """The observation space after stacking ``k`` frames of the feature keys."""
    entries = dict(space.spaces)
    for key in FEATURE_KEYS:
        if key in entries:
            box = entries[key]
            entries[key] = spaces.Box(np.concatenate([box.low] * k, axis=-1),
                                      np.concatenate([box.high] * k, axis=-1), dtype=box.dtype)
    return spaces.Dict(entries)


class StackFeatures(_SplitStepWrapper):
    """Concatenate the last ``k`` observations' features along their last axis.

    ``global`` (9,) becomes (9k,), ``edge_attr`` (M, 10) becomes (M, 10k); the newest
    observation is last. Before ``k`` steps have passed the older slots are zeros.
    """

    def __init__(self, env: gym.Env, k: int = 4):
        super().__init__(env)
        self.stacker = FrameStacker(k)
        self.k = k
        self.observation_space = stacked_space(env.observation_space, k)

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self.stacker.clear()
        return self.observation(obs), info

    def observation(self, observation: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.stacker(observation)


def normalize(observation: dict[str, np.ndarray], stats: dict[str, RunningMeanStd],
              epsilon: float = 1e-8, clip: float = 10.0) -> dict[str, np.ndarray]:
    """Normalise the feature keys with ``stats`` (no update); padding stays zero."""
    out = dict(observation)
    for key, rms in stats.items():
        if key not in observation:
            continue
        scaled = (observation[key] - rms.mean) / np.sqrt(rms.var + epsilon)
        scaled = np.clip(scaled, -clip, clip).astype(np.float32)
        if key == "edge_attr":
            scaled *= np.asarray(observation["edge_mask"])[:, None]
        elif key == "node_attr":
            scaled *= np.asarray(observation["node_mask"])[:, None]
        out[key] = scaled
    return out


class NormalizeFeatures(_SplitStepWrapper):
    """Running mean/std normalisation of the feature keys, per feature column.

    Args:
        env: the environment.
        epsilon: added to the variance (default: 1e-8).
        clip: clip normalised values to [-clip, clip] (default: 10).
        update: update the statistics (set False to evaluate with frozen statistics).
        stats: a dict of ``RunningMeanStd`` per key to use and fill; several environments
            given the same dict share their statistics (as in one vector env), and it is
            what a training checkpoint saves.
    """

    def __init__(self, env: gym.Env, epsilon: float = 1e-8, clip: float = 10.0,
                 update: bool = True, stats: dict[str, RunningMeanStd] | None = None):
        super().__init__(env)
        self.epsilon, self.clip, self.update = epsilon, clip, update
        keys = [key for key in FEATURE_KEYS if key in env.observation_space.spaces]
        if stats is None:
            stats = {}
        for key in keys:  # a dict passed in is filled and shared (e.g. by a vector env's envs)
            stats.setdefault(key, RunningMeanStd(shape=(env.observation_space[key].shape[-1],)))
        self.stats = stats
        entries = dict(env.observation_space.spaces)
        for key in keys:
            entries[key] = spaces.Box(-clip, clip, entries[key].shape, np.float32)
        self.observation_space = spaces.Dict(entries)

    def _rows(self, key: str, obs: dict[str, np.ndarray]) -> np.ndarray:
        x = obs[key]
        if key == "edge_attr":
            return x[np.asarray(obs["edge_mask"]).astype(bool)]
        if key == "node_attr":
            return x[np.asarray(obs["node_mask"]).astype(bool)]
        return x[None, :]

    def observation(self, observation: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.update:
            for key, rms in self.stats.items():
                rows = self._rows(key, observation)
                if len(rows):
                    rms.update(rows.astype(np.float64))
        return normalize(observation, self.stats, self.epsilon, self.clip)


def paper_wrappers(env: gym.Env, k: int = 4, stats: dict[str, RunningMeanStd] | None = None,
                   update: bool = True, normalize: bool = True) -> gym.Env:
    """The observation pipeline of the paper's policies: normalise (unless ``normalize`` is
    False: ``stats`` then stays empty), then stack the last k."""
    if not normalize:
        return StackFeatures(env, k=k)
    return StackFeatures(NormalizeFeatures(env, stats=stats, update=update), k=k)


def save_stats(stats: dict[str, RunningMeanStd], path: str | os.PathLike) -> None:
    """Write normalisation statistics (mean, var, count per key) atomically to ``path``."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump({k: (v.mean, v.var, v.count) for k, v in stats.items()}, f)
    os.replace(tmp, path)


def load_stats(path: str | os.PathLike,
               into: dict[str, RunningMeanStd] | None = None) -> dict[str, RunningMeanStd]:
    """Read statistics written by :func:`save_stats` (into an existing shared dict if given,
    so that wrappers holding it see the loaded values)."""
    with Path(path).open("rb") as f:
        raw = pickle.load(f)
    into = {} if into is None else into
    for key, (mean, var, count) in raw.items():
        rms = into.setdefault(key, RunningMeanStd(shape=np.shape(mean)))
        rms.mean, rms.var, rms.count = np.array(mean), np.array(var), count
    return into
