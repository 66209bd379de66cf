# SPDX-License-Identifier: GPL-2.0-only
"""Evaluate a routing policy over many episodes, in parallel, with resumable result files.

Episode ``i`` resets the environment with seed ``seed + i`` and seeds the policy with the same
number, so results depend only on ``(policy, topology, traffic, link_failures, episode_steps,
step_ms, seed)`` and never on the number of worker processes. Every worker process builds its
own environment (and simulator) and policy per episode.

Results go to ``out_dir/<policy>__<topology>__<traffic>__seed<seed>`` (with ``__<failures>``
appended when link failures are on); :mod:`packerl.app.results` describes the files.

Example:
    >>> from packerl.app.evaluate import evaluate
    >>> run = evaluate("eigrp", "nx-XS", "udp_low", episodes=2, seed=1, out_dir="results",
    ...                episode_steps=5, workers=1, progress=False)  # doctest: +SKIP
    >>> sorted(p.name for p in run.iterdir())  # doctest: +SKIP
    ['config.json', 'episodes.csv', 'summary.json']
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from packerl import ENV_ID, FLUID_ENV_ID, FLUID_LINK_WEIGHTS_ENV_ID, LINK_WEIGHTS_ENV_ID
from packerl.app.results import (
    CONFIG_FILE,
    EPISODE_COLUMNS,
    EPISODE_METRICS,
    EPISODES_FILE,
    STEP_COLUMNS,
    STEP_METRICS,
    STEPS_FILE,
    SUMMARY_FILE,
    Appender,
    load_episodes,
    read_csv,
    summarize,
    write_csv,
)
from packerl.sim.launcher import pool_worker_init
from policies.factory import (
    check_policy_name,
    env_requirements,
    is_learned_model,
    make_policy,
    policy_slug,
)
from policies.guard import is_guard_spec
from policies.threads import torch_threads
from policies.runs import load_run

#: the network models an evaluation can run in, and the env id of each (model, action type)
NETWORK_MODELS: tuple[str, ...] = ("packet", "fluid")
ENV_IDS: dict[tuple[str, str], str] = {
    ("packet", "next_hop"): ENV_ID, ("packet", "link_weights"): LINK_WEIGHTS_ENV_ID,
    ("fluid", "next_hop"): FLUID_ENV_ID, ("fluid", "link_weights"): FLUID_LINK_WEIGHTS_ENV_ID,
}

@dataclass(frozen=True)
class EvalConfig:
    """What determines an evaluation's results (the number of episodes only extends it)."""

    policy: str
    topology: str
    traffic: str
    seed: int
    link_failures: str | None = None
    episode_steps: int = 100
    step_ms: float = 5.0
    action_type: str = "next_hop"
    synnet_kwargs: dict[str, Any] = field(default_factory=dict)
    #: ``"packet"`` (ns-3) or ``"fluid"`` (:mod:`packerl.fluid`, the same scenarios)
    network_model: str = "packet"

    @property
    def run_name(self) -> str:
        name = f"{policy_slug(self.policy)}__{self.topology}__{self.traffic}__seed{self.seed}"
        if self.link_failures not in (None, "none"):
            name += f"__{self.link_failures}"
        if self.network_model != "packet":
            name += f"__{self.network_model}"
        return name

    def env_kwargs(self) -> dict[str, Any]:
        """The env's keyword arguments, with the options the policy needs
        (:func:`policies.factory.env_requirements`)."""
        return dict(topology=self.topology, traffic=self.traffic,
                    link_failures=self.link_failures, episode_steps=self.episode_steps,
                    step_ms=self.step_ms, synnet_kwargs=dict(self.synnet_kwargs),
                    **env_requirements(self.policy))

    @property
    def env_id(self) -> str:
        return ENV_IDS[(self.network_model, self.action_type)]


def policy_action_type(policy_name: str, default: str = "next_hop") -> str:
    """The env variant ``policy_name`` acts in: a trained model's own (the one it was trained
    for, from its run description), else ``default``."""
    return load_run(policy_name).action_type if is_learned_model(policy_name) else default


# --------------------------------------------------------------------------------- workers


def make_env(config: EvalConfig):
    """The environment an evaluation uses (validates the configuration's names)."""
    return gym.make(config.env_id, **config.env_kwargs())


#: torch's intra-op threads while an episode runs (see :mod:`policies.threads`): one, as each
#: worker process plays one episode next to its simulator
EPISODE_TORCH_THREADS = 1


def run_episode(config: EvalConfig, episode: int,
                per_step: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run episode ``episode`` of ``config`` in this process.

    Returns:
        ``(row, step_rows)``: the episode's CSV row and (with ``per_step``) its step rows.
    """
    seed = config.seed + episode
    started = time.perf_counter()
    env = make_env(config)
    try:
        with torch_threads(EPISODE_TORCH_THREADS):
            row, steps = _play(config, env, episode, seed, per_step)
    finally:
        env.close()
    row["wall_s"] = time.perf_counter() - started
    return row, steps


def _play(config: EvalConfig, env: gym.Env, episode: int, seed: int,
          per_step: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One episode of ``config``'s policy on ``env`` from reset seed ``seed``."""
    policy = make_policy(config.policy, env, seed=seed)
    obs, info = env.reset(seed=seed)
    policy.reset()
    inference, steps = [], []
    truncated = terminated = False
    while not (truncated or terminated):
        t0 = time.perf_counter()
        action = policy.act(obs)
        inference.append((time.perf_counter() - t0) * 1e3)
        obs, reward, terminated, truncated, info = env.step(action)
        if per_step:
            m = info["metrics"]
            steps.append({"episode": episode, "step": info["step"] - 1,
                          "reward": float(reward), **{k: m.get(k, math.nan)
                                                      for k in STEP_METRICS},
                          "inference_ms": inference[-1]})
    summary = info["episode_metrics"]
    row: dict[str, Any] = {"episode": episode, "seed": seed, "num_nodes": info["num_nodes"],
                           "num_edges": info["num_edges"], "steps": int(summary["steps"])}
    row.update({k: float(summary.get(k, math.nan)) for k in EPISODE_METRICS})
    row["inference_ms"] = float(np.mean(inference))
    return row, steps


def _worker(config: EvalConfig, episode: int, per_step: bool):
    try:
        return run_episode(config, episode, per_step)
    except Exception as exc:  # travel back with the episode that failed
        raise RuntimeError(f"episode {episode} (reset seed {config.seed + episode}) of "
                           f"`{config.run_name}` failed: {type(exc).__name__}: {exc}") from exc


#: the config key holding a trained policy's path relative to the evaluation's run directory
RELATIVE_POLICY = "policy_relative"


def _json_config(config: EvalConfig, run_dir: Path) -> dict[str, Any]:
    out = json.loads(json.dumps(asdict(config)))
    if out["network_model"] == "packet":  # as runs written before the fluid model existed
        del out["network_model"]
    if not is_guard_spec(config.policy) and Path(config.policy).exists():
        out[RELATIVE_POLICY] = os.path.relpath(Path(config.policy).resolve(), run_dir.resolve())
    return out


def _config_diff(stored: dict[str, Any], wanted: dict[str, Any]) -> dict[str, tuple]:
    """What differs between a run directory's stored configuration and the requested one. A
    trained policy at the same place relative to the run directory is the same policy, so a
    results tree that moved as a whole (a fresh clone elsewhere) resumes."""
    stored, wanted = dict(stored), dict(wanted)
    here, there = stored.pop(RELATIVE_POLICY, None), wanted.pop(RELATIVE_POLICY, None)
    if here is not None and here == there:
        stored.pop("policy"), wanted.pop("policy")
    return {k: (stored.get(k), wanted.get(k)) for k in {**stored, **wanted}
            if stored.get(k) != wanted.get(k)}


# ---------------------------------------------------------------------------------- evaluate


def evaluate(
    policy_name: str,
    topology: str,
    traffic: str,
    episodes: int,
    seed: int,
    out_dir: str | os.PathLike,
    link_failures: str | None = None,
    episode_steps: int = 100,
    workers: int | None = None,
    *,
    step_ms: float = 5.0,
    action_type: str = "next_hop",
    per_step: bool = False,
    progress: bool = True,
    synnet_kwargs: Mapping[str, Any] | None = None,
    network_model: str = "packet",
) -> Path:
    """Evaluate ``policy_name`` for ``episodes`` episodes and write the result files.

    Args:
        policy_name: a registered baseline or a trained model (see
            :func:`policies.registry.make_policy`).
        topology, traffic, link_failures: synnet presets.
        episodes: number of episodes (episode ``i`` uses reset seed ``seed + i``).
        seed: base seed.
        out_dir: parent directory of the run directory.
        episode_steps: steps per episode (default: 100).
        workers: worker processes (default: ``min(os.cpu_count(), episodes to run)``); with 1
            the episodes run in this process.
        step_ms: simulated ms per step (default: 5).
        action_type: environment variant, ``"next_hop"`` or ``"link_weights"``.
        per_step: also write ``steps.csv``.
        progress: show a tqdm progress bar.
        synnet_kwargs: extra overrides for ``synnet.generate``.
        network_model: ``"packet"`` (ns-3, default) or ``"fluid"`` (the flow-level model of
            :mod:`packerl.fluid` on the same scenarios; the run name ends in ``__fluid``).

    Returns:
        The run directory.

    Raises:
        ValueError: unknown policy/preset names, out-of-range numbers, or a run directory
            holding results of a different configuration.
    """
    from tqdm.auto import tqdm

    check_policy_name(policy_name)
    for what, value in (("episodes", episodes), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"`{what}` must be an integer, got {value!r}")
    if episodes < 1:
        raise ValueError(f"`episodes` must be >= 1, got {episodes}")
    if seed < 0:
        raise ValueError(f"`seed` must be >= 0, got {seed}")
    if workers is not None and (isinstance(workers, bool) or int(workers) != workers
                                or workers < 1):
        raise ValueError(f"`workers` must be an integer >= 1, got {workers!r}")
    if network_model not in NETWORK_MODELS:
        raise ValueError(f"unknown network model {network_model!r}; valid: "
                         f"{list(NETWORK_MODELS)}")
    if link_failures == "none":
        link_failures = None
    config = EvalConfig(policy=policy_name, topology=topology, traffic=traffic, seed=int(seed),
                        link_failures=link_failures, episode_steps=int(episode_steps),
                        step_ms=float(step_ms),
                        action_type=policy_action_type(policy_name, action_type),
                        synnet_kwargs=dict(synnet_kwargs or {}), network_model=network_model)
    env = make_env(config)  # validates names and numbers before anything is written
    try:
        make_policy(policy_name, env, seed=0)
    finally:
        env.close()

    run_dir = Path(out_dir) / config.run_name
    run_dir.mkdir(parents=True, exist_ok=True)
    wanted = _json_config(config, run_dir)
    config_path = run_dir / CONFIG_FILE
    if config_path.exists():
        diff = _config_diff(json.loads(config_path.read_text()), wanted)
        if diff:
            raise ValueError(f"`{run_dir}` holds results of a different configuration "
                             f"(stored vs requested: {diff}); use another output directory "
                             "or delete it")
    else:
        config_path.write_text(json.dumps(wanted, indent=2) + "\n")

    episodes_path, steps_path = run_dir / EPISODES_FILE, run_dir / STEPS_FILE
    rows = {int(r["episode"]): r for r in read_csv(episodes_path, EPISODE_COLUMNS)}
    write_csv(episodes_path, EPISODE_COLUMNS, [rows[i] for i in sorted(rows)])
    if per_step:  # keep only steps of finished episodes (a crash may leave a partial one)
        steps = [r for r in read_csv(steps_path, STEP_COLUMNS) if int(r["episode"]) in rows]
        write_csv(steps_path, STEP_COLUMNS, steps)
    todo = [i for i in range(episodes) if i not in rows]
    workers = int(workers) if workers is not None else max(1, min(os.cpu_count() or 1,
                                                                  len(todo)))

    ep_out = Appender(episodes_path, EPISODE_COLUMNS)
    st_out = Appender(steps_path, STEP_COLUMNS) if per_step else None
    bar = tqdm(total=episodes, initial=episodes - len(todo), desc=config.run_name,
               unit="ep", disable=not progress, dynamic_ncols=True)

    def record(result: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        row, step_rows = result
        if st_out is not None:
            st_out.write(step_rows)
        ep_out.write([row])
        rows[row["episode"]] = row
        bar.update(1)

    try:
        if todo and workers == 1:
            for i in todo:
                record(_worker(config, i, per_step))
        elif todo:
            ctx = multiprocessing.get_context(
                "forkserver" if "forkserver" in multiprocessing.get_all_start_methods()
                else "spawn")
            # each worker dies with the fork server, which exits when this process dies
            with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx,
                                     initializer=pool_worker_init,
                                     initargs=(os.getpid(),)) as pool:
                pending: set[Future] = {pool.submit(_worker, config, i, per_step)
                                        for i in todo}
                try:
                    while pending:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for fut in done:
                            record(fut.result())
                except BaseException:
                    for fut in pending:
                        fut.cancel()
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
    finally:
        bar.close()
        ep_out.close()
        if st_out is not None:
            st_out.close()

    ordered = [rows[i] for i in sorted(rows)]
    write_csv(episodes_path, EPISODE_COLUMNS, ordered)
    if per_step:
        steps = sorted(read_csv(steps_path, STEP_COLUMNS),
                       key=lambda r: (int(r["episode"]), int(r["step"])))
        write_csv(steps_path, STEP_COLUMNS, steps)
    numeric = load_episodes(run_dir)
    selected = [r for r in numeric if r["episode"] < episodes]
    summary = {
        "config": wanted,
        "episodes": len(selected),
        "episode_indices": [r["episode"] for r in selected],
        "metrics": summarize(selected),
    }
    (run_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return run_dir


__all__ = ["EvalConfig", "evaluate", "make_env", "run_episode"]
