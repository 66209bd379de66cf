# SPDX-License-Identifier: GPL-2.0-only
"""Vector environments that step all their simulators concurrently.

Each PackeRL environment already runs its simulator in a separate process, so a vector env
needs no worker processes of its own: it validates every action, sends every step ("send
all"), then collects every answer ("wait for all"). The simulators run in parallel while the
Python process blocks (GIL released), and nothing but NumPy arrays crosses a process boundary.

- :class:`PackeRLVectorEnv`: a Gymnasium ``VectorEnv`` (autoreset mode NEXT_STEP).
- :class:`PackeRLSB3VecEnv`: a stable-baselines3 ``VecEnv`` (reset at once, the final
  observation in ``info["terminal_observation"]``), available when SB3 is installed.

Sub-environments are ``PackeRLEnv`` instances, optionally wrapped by
:mod:`packerl.wrappers` (which pass the split-step protocol through).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array, iterate

from packerl.error import NoStepPending, StepAlreadyPending

EnvFn = Callable[[], gym.Env]


def _check_split_step(env: gym.Env, index: int) -> None:
    if not (hasattr(env, "next_hops_of") and hasattr(env, "send_next_hops")
            and hasattr(env, "finish_step")):
        raise TypeError(
            f"environment {index} ({type(env).__name__}) does not support concurrent stepping; "
            "build sub-environments with packerl.env.PackeRLEnv and packerl.wrappers only "
            "(not gym.make, whose wrappers hide send/finish)"
        )


def build_envs(env_fns: Sequence[EnvFn]) -> list[gym.Env]:
    """Build the sub-environments and check they support concurrent stepping and agree on
    their spaces."""
    if not env_fns:
        raise ValueError("env_fns is empty; give at least one environment constructor")
    envs = [fn() for fn in env_fns]
    for i, env in enumerate(envs):
        _check_split_step(env, i)
        if env.observation_space != envs[0].observation_space or \
                env.action_space != envs[0].action_space:
            raise ValueError(f"environment {i} has other spaces than environment 0; use "
                             "the same max_nodes/max_edges/action_type everywhere")
    return envs


def step_concurrently(envs: Sequence[gym.Env], actions: Sequence[Any]) -> list[tuple]:
    """Validate all actions, send all steps, then wait for all; returns the 5-tuples.

    A bad action, or an environment whose episode has ended, raises (naming the environment)
    before any step is sent. If sending still fails part-way (a simulator error), the steps
    already sent are waited for and those environments need a reset, so no simulator is left
    half-way; the error is raised after that. Likewise, if waiting for one environment fails,
    the others are still waited for, and every environment of the batch needs a reset (the
    results nobody will see have advanced their episodes).
    """
    tables = []
    for i, (env, action) in enumerate(zip(envs, actions, strict=True)):
        if getattr(env.unwrapped, "_needs_reset", False):
            raise gym.error.ResetNeeded(
                f"environment {i}: call reset() before step() (the episode has ended)")
        try:
            tables.append(env.next_hops_of(action))
        except ValueError as exc:
            raise ValueError(f"environment {i}: {exc}") from exc
    for sent, (env, table) in enumerate(zip(envs, tables)):
        try:
            env.send_next_hops(table)
        except Exception as exc:
            exc.add_note(f"(raised by environment {sent}; the steps sent before were waited "
                         "for and those environments need a reset)")
            _wait_all(envs[:sent], exc)
            raise
    results: list[tuple] = []
    error: Exception | None = None
    for i, env in enumerate(envs):
        try:
            results.append(env.finish_step())
        except Exception as exc:  # noqa: BLE001 - re-raised below, after the others are awaited
            if error is None:
                exc.add_note(f"(raised by environment {i}; every environment of the batch "
                             "needs a reset)")
                error = exc
            else:
                error.add_note(f"environment {i} failed too: {exc!r}")
    if error is not None:
        for env in envs:
            _mark_needs_reset(env)
        raise error
    return results


def _wait_all(envs: Sequence[gym.Env], error: Exception) -> None:
    """Wait for steps in flight whose results nobody will read; those envs then need a reset.

    Every env is waited for even if one fails; such failures are noted on ``error``.
    """
    for i, env in enumerate(envs):
        try:
            env.finish_step()
        except Exception as exc:  # noqa: BLE001 - noted on `error`; it needs a reset anyway
            error.add_note(f"environment {i} failed while its step was awaited: {exc!r}")
        finally:
            _mark_needs_reset(env)


def _mark_needs_reset(env: gym.Env) -> None:
    env.unwrapped._needs_reset = True  # type: ignore[attr-defined]


class PackeRLVectorEnv(VectorEnv):
    """A Gymnasium vector env over PackeRL environments, stepped concurrently.

    Args:
        env_fns: callables that build the sub-environments (``PackeRLEnv``, optionally with
            :mod:`packerl.wrappers`); they must share observation and action spaces.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, env_fns: Sequence[EnvFn]):
        self.envs = build_envs(env_fns)
        self.num_envs = len(self.envs)
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._obs = create_empty_array(self.single_observation_space, self.num_envs)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None):
        if seed is None or isinstance(seed, int):
            seeds = [None if seed is None else seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"got {len(seeds)} seeds for {self.num_envs} environments")
        infos: dict[str, Any] = {}
        observations = []
        for i, (env, s) in enumerate(zip(self.envs, seeds)):
            obs, info = env.reset(seed=s, options=options)
            observations.append(obs)
            infos = self._add_info(infos, info, i)
        self._autoreset[:] = False
        self._obs = concatenate(self.single_observation_space, observations, self._obs)
        return self._obs, infos

    def step(self, actions: Any):
        actions = list(iterate(self.action_space, actions))
        stepping = [i for i in range(self.num_envs) if not self._autoreset[i]]
        results = dict(zip(stepping, step_concurrently(
            [self.envs[i] for i in stepping], [actions[i] for i in stepping])))
        observations, infos = [], {}
        rewards = np.zeros(self.num_envs)
        terminations = np.zeros(self.num_envs, dtype=bool)
        truncations = np.zeros(self.num_envs, dtype=bool)
        for i, env in enumerate(self.envs):
            if self._autoreset[i]:
                obs, info = env.reset()
            else:
                obs, rewards[i], terminations[i], truncations[i], info = results[i]
            observations.append(obs)
            infos = self._add_info(infos, info, i)
        self._autoreset = terminations | truncations
        self._obs = concatenate(self.single_observation_space, observations, self._obs)
        return self._obs, rewards, terminations, truncations, infos

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple:
        """Call a method (or read an attribute) on every sub-environment."""
        out = []
        for env in self.envs:
            attr = getattr(env, name)
            out.append(attr(*args, **kwargs) if callable(attr) else attr)
        return tuple(out)

    def action_masks(self) -> np.ndarray:
        """Stacked ``action_masks()`` of the sub-environments (for MaskablePPO)."""
        return np.stack([env.unwrapped.action_masks() for env in self.envs])

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.envs:
            env.close()


try:  # stable-baselines3 is optional
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv as _SB3VecEnv
except ImportError:  # pragma: no cover - exercised only without SB3
    _SB3VecEnv = None


if _SB3VecEnv is not None:

    class PackeRLSB3VecEnv(_SB3VecEnv):
        """A stable-baselines3 ``VecEnv`` over PackeRL environments, stepped concurrently.

        Finished episodes reset at once; the last observation of an episode is in
        ``info["terminal_observation"]``, and ``info["TimeLimit.truncated"]`` marks the
        horizon, as SB3 expects.
        """

        def __init__(self, env_fns: Sequence[EnvFn]):
            self.envs = build_envs(env_fns)
            super().__init__(len(self.envs), self.envs[0].observation_space,
                             self.envs[0].action_space)
            self._actions: list[Any] | None = None
            self._seeds: list[int | None] = [None] * self.num_envs
            self._options: list[dict] = [{} for _ in range(self.num_envs)]

        def seed_each(self, seeds: Sequence[int | None]) -> None:
            """Seed the next reset of each environment by its own entry of ``seeds``
            (SB3's ``seed(s)`` gives environment ``i`` the seed ``s + i``); equal seeds make
            environments draw the same scenarios, episode after episode.

            Raises:
                ValueError: unless there is one seed per environment.
            """
            if len(seeds) != self.num_envs:
                raise ValueError(f"seed_each needs one seed per environment ({self.num_envs}), "
                                 f"got {len(seeds)}")
            self._seeds = list(seeds)

        def reset(self):
            observations = []
            for i, env in enumerate(self.envs):
                obs, info = env.reset(seed=self._seeds[i], options=self._options[i] or None)
                self.reset_infos[i] = info
                observations.append(obs)
            self._seeds = [None] * self.num_envs  # SB3 uses seeds and options once
            self._reset_options()
            return self._stack(observations)

        def step_async(self, actions: np.ndarray) -> None:
            if self._actions is not None:
                raise StepAlreadyPending(
                    "step_async() was called twice; call step_wait() before the next step")
            self._actions = list(actions)

        def step_wait(self):
            if self._actions is None:
                raise NoStepPending("no step is pending; call step_async() first")
            actions, self._actions = self._actions, None  # consumed even if stepping fails
            results = step_concurrently(self.envs, actions)
            observations, infos = [], []
            rewards = np.zeros(self.num_envs, np.float32)
            dones = np.zeros(self.num_envs, bool)
            for i, (obs, reward, terminated, truncated, info) in enumerate(results):
                info = dict(info)
                rewards[i] = reward
                dones[i] = terminated or truncated
                if dones[i]:
                    info["TimeLimit.truncated"] = truncated and not terminated
                    info["terminal_observation"] = obs
                    obs, self.reset_infos[i] = self.envs[i].reset()
                observations.append(obs)
                infos.append(info)
            return self._stack(observations), rewards, dones, infos

        def _stack(self, observations: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
            return {k: np.stack([o[k] for o in observations]) for k in observations[0]}

        def close(self) -> None:
            for env in self.envs:
                env.close()

        def get_attr(self, attr_name: str, indices=None) -> list[Any]:
            return [getattr(self.envs[i], attr_name) for i in self._get_indices(indices)]

        def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
            for i in self._get_indices(indices):
                setattr(self.envs[i], attr_name, value)

        def env_method(self, method_name: str, *args, indices=None, **kwargs) -> list[Any]:
            return [getattr(self.envs[i], method_name)(*args, **kwargs)
                    for i in self._get_indices(indices)]

        def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
            from stable_baselines3.common import env_util

            return [env_util.is_wrapped(self.envs[i], wrapper_class)
                    for i in self._get_indices(indices)]

        def action_masks(self) -> np.ndarray:
            """Stacked ``action_masks()`` of the sub-environments (for MaskablePPO)."""
            return np.stack([env.unwrapped.action_masks() for env in self.envs])

__all__ = ["PackeRLVectorEnv", "build_envs", "step_concurrently"] + (
    ["PackeRLSB3VecEnv"] if _SB3VecEnv is not None else [])
