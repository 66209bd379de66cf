# SPDX-License-Identifier: GPL-2.0-only
"""PPO training of FieldLines and M-Slim with stable-baselines3 (PackeRL paper, Appendix B.7).

One iteration = ``episodes_per_iteration`` full episodes collected by ``n_envs`` environments
stepped concurrently (:class:`packerl.vector.PackeRLSB3VecEnv`), then ``n_epochs`` PPO epochs;
one SB3 ``learn()`` call runs all iterations and a callback acts between them.
Observations go through the paper's pipeline (running normalisation shared by all training
environments, then the last 4 frames stacked). FieldLines executes EIGRP's actions for its
first ``warm_start_iterations`` iterations. After every iteration the run directory gets a
checkpoint (model, normalisation statistics, iteration counter), so an interrupted run loses
at most one iteration and ``resume=True`` continues from there.

Run directory layout (``<out>/<policy>__<topology>__<traffic>__seed<seed>/``)::

    config.json          the TrainConfig
    policy.json          what loading a model needs (policy, class, action format, stacking,
                         statistics files; see policies.runs)
    checkpoint.zip       the latest model (SB3 format)
    checkpoint_stats.pkl the normalisation statistics that go with it
    state.json           {"iteration": i, ...} of the latest checkpoint
    eval.csv             periodic deterministic evaluation
    reference/           EIGRP on the same evaluation episodes (evaluate_reference)
    tensorboard/         SB3 + evaluation scalars
    model.zip, model_stats.pkl   the final model (also loadable by `packerl evaluate`)
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
import types
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from packerl.env import PackeRLEnv
from packerl.spaces import ActionFormat
from packerl.vector import PackeRLSB3VecEnv
from packerl.wrappers import load_stats, paper_wrappers, save_stats
from policies.registry import PolicyEntry, entry, names
from policies.runs import describe, record_digests, write_description
from synnet.presets import DRAWN_TRAFFIC


#: reset seed of the first periodic-evaluation episode (episode i: EVAL_SEED + i)
EVAL_SEED = 10_000
#: the directory of a run's reference evaluation (:func:`evaluate_reference`)
REFERENCE_DIR = "reference"


@dataclass
class TrainConfig:
    """Everything a training run depends on (defaults: the paper's Appendix B.7)."""

    policy: str = "fieldlines"
    """which policy to train (a learned policy of the registry: fieldlines, mslim)"""
    topology: str = "nx-XS"
    """synnet topology preset of the training scenarios"""
    traffic: str = "flex"
    """synnet traffic preset ("flex" draws intensity and TCP share per episode; "tcp_flex" and
    the like draw the intensity only)"""
    link_failures: str | None = None
    """None or 'weibull'"""
    episode_steps: int = 100
    """steps per episode (5 ms each)"""
    iterations: int = 100
    """PPO iterations (100 x 16 episodes x 100 steps = 160,000 steps; 0 saves the network as
    initialised, untrained, with identity normalisation statistics: the control that shows
    what training adds)"""
    episodes_per_iteration: int = 16
    """episodes collected per iteration"""
    n_envs: int = 4
    """environments stepped concurrently (each runs its own simulator process; on 2 cores 4
    keep both busier than 2, see experiments/results/bench_training.md)"""
    n_epochs: int = 10
    """PPO epochs per iteration"""
    batch_size: int = 400
    """PPO minibatch size"""
    gamma: float = 0.99
    """discount factor"""
    gae_lambda: float = 0.95
    """GAE lambda"""
    clip_range: float = 0.2
    """PPO policy clip range"""
    clip_range_vf: float | None = 0.2
    """PPO value clip range (None: no clipping)"""
    vf_coef: float = 0.5
    """value loss coefficient"""
    max_grad_norm: float = 0.5
    """gradient norm clipping"""
    noise_hold: int = 1
    """steps each draw of exploration noise is held (1: a fresh draw every step, the paper;
    the episode length: one perturbation per episode; a divisor of episode_steps; only
    for policies that hold noise, M-Slim: see policies/mslim.py)"""
    learning_rate: float | None = None
    """Adam learning rate (default: the policy's registry entry, 5e-5 FieldLines, 3e-3 M-Slim)"""
    warm_start_iterations: int | None = None
    """iterations that execute EIGRP's actions (default: the policy's registry entry, 5
    FieldLines, 0 M-Slim)"""
    stack: int = 4
    """observations stacked (B.4)"""
    normalize: bool = True
    """normalise the observation features by running mean and std (B.4; False: raw features,
    for the ablation; the run then saves empty statistics and is evaluated on raw features)"""
    eval_every: int = 10
    """evaluate every this many iterations (0: never)"""
    eval_episodes: int = 4
    """deterministic evaluation episodes (fixed seeds)"""
    eval_traffic: str | None = None
    """traffic preset for evaluation (default: tcp_high for the drawn presets such as flex,
    else the same)"""
    seed: int = 0
    """seeds PPO, the environments' scenario draws and the simulators"""
    out: str = "runs"
    """parent directory of the run directory"""
    torch_threads: int = 1
    """PyTorch intra-op threads during rollouts; the simulators need the other cores (small
    GNNs gain nothing from more threads, and oversubscribed cores slow everything down)"""
    update_threads: int | None = None
    """PyTorch intra-op threads during the PPO update, when the simulators are idle (default:
    all cores)"""
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    """keyword arguments of the SB3 policy class"""
    last_action: bool | None = None
    """observe the previous step's action (default: True for M-Slim, which reads its last
    link weights, False for FieldLines)"""

    def __post_init__(self) -> None:
        if self.policy not in names("learned"):
            raise ValueError(f"unknown policy {self.policy!r}; valid: {list(names('learned'))}")
        if self.update_threads is None:
            self.update_threads = os.cpu_count() or 1
        if int(self.iterations) < 0:
            raise ValueError(f"`iterations` must be >= 0, got {self.iterations}")
        for name in ("episodes_per_iteration", "n_envs", "n_epochs", "noise_hold",
                     "batch_size", "episode_steps", "stack", "eval_episodes", "torch_threads",
                     "update_threads"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"`{name}` must be >= 1, got {getattr(self, name)}")
        for name in ("eval_every", "seed"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"`{name}` must be >= 0, got {getattr(self, name)}")
        if self.episodes_per_iteration % self.n_envs:
            raise ValueError(
                f"episodes_per_iteration ({self.episodes_per_iteration}) must be a multiple of "
                f"n_envs ({self.n_envs}) so that every environment runs whole episodes")
        spec = self.entry
        if self.noise_hold > 1 and not spec.holds_noise:
            holding = [e for e in names("learned") if entry(e).holds_noise]
            raise ValueError(f"`noise_hold` > 1 needs a policy that holds its exploration "
                             f"noise ({holding}); {self.policy} draws it every step")
        if self.episode_steps % self.noise_hold:
            raise ValueError(f"`noise_hold` ({self.noise_hold}) must divide `episode_steps` "
                             f"({self.episode_steps}) so that no draw spans two episodes")
        if self.learning_rate is None:
            self.learning_rate = spec.learning_rate
        if not (math.isfinite(self.learning_rate) and 0 < self.learning_rate < 1):
            raise ValueError(f"`learning_rate` must be in (0, 1), got {self.learning_rate}")
        if self.warm_start_iterations is None:
            self.warm_start_iterations = spec.warm_start
        if int(self.warm_start_iterations) < 0:
            raise ValueError(f"`warm_start_iterations` must be >= 0, got "
                             f"{self.warm_start_iterations}")
        if self.last_action is None:
            self.last_action = spec.observes_last_action
        if self.eval_traffic is None:
            self.eval_traffic = "tcp_high" if self.traffic in DRAWN_TRAFFIC else self.traffic

    @property
    def entry(self) -> PolicyEntry:
        """The policy's registry entry."""
        return entry(self.policy)

    @property
    def action_type(self) -> str:
        return self.entry.action_type

    @property
    def action_format(self) -> ActionFormat:
        """The action encoding the policy trains in (its SB3 distribution's layout)."""
        return ActionFormat(self.action_type, **self.entry.train_env_kwargs)

    @property
    def steps_per_iteration(self) -> int:
        return self.episodes_per_iteration * self.episode_steps

    def run_dir(self) -> Path:
        return Path(self.out) / f"{self.policy}__{self.topology}__{self.traffic}__seed{self.seed}"

    @classmethod
    def from_json(cls, path: Path) -> TrainConfig:
        data = json.loads(Path(path).read_text())
        known = {f.name for f in fields(cls)}
        data.setdefault("last_action", False)  # runs written before the option observed none
        return cls(**{k: v for k, v in data.items() if k in known})

    def env_kwargs(self) -> dict[str, Any]:
        """The environment options the policy is trained with (action encoding, last action)."""
        return {**self.entry.train_env_kwargs, "last_action": bool(self.last_action)}

    def description(self) -> dict[str, Any]:
        """What the run directory says about its models (see :mod:`policies.runs`)."""
        return describe(self.policy, self.entry.target, self.action_format, self.stack,
                        bool(self.last_action))


def _type_ok(value: Any, hint: Any) -> bool:
    """Whether ``value`` (parsed YAML/JSON) fits the annotation ``hint`` without conversion."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    origin = typing.get_origin(hint) or hint
    return isinstance(value, origin)


def _type_name(hint: Any) -> str:
    return " or ".join("null" if h is type(None) else getattr(h, "__name__", str(h))
                       for h in (typing.get_args(hint) if typing.get_origin(hint) in (
                           typing.Union, types.UnionType) else (hint,)))


def strict_train_config(values: Mapping[str, Any]) -> TrainConfig:
    """A :class:`TrainConfig` from untyped data (a sweep file), refusing wrong types.

    ``TrainConfig`` itself converts (``int(2.5) == 2``); here ``iterations: 2.5`` or
    ``learning_rate: fast`` is a ``ValueError`` naming the field, the expected and the found type.
    """
    hints = typing.get_type_hints(TrainConfig)
    for name, value in values.items():
        if name in hints and not _type_ok(value, hints[name]):
            raise ValueError(f"`{name}` must be {_type_name(hints[name])}, found {value!r} "
                             f"({type(value).__name__})")
    return TrainConfig(**values)


#: the largest PPO rollout buffer a run may allocate: steps per iteration x the stacked,
#: padded observation as float32 (SB3's buffer type), 4 GiB
MAX_ROLLOUT_BYTES = 4 << 30


def rollout_bytes(config: TrainConfig) -> int:
    """Bytes of the observations in one iteration's PPO rollout buffer (no simulator runs)."""
    env = make_env(config, {})
    try:
        space = env.observation_space
        parts = space.spaces.values() if hasattr(space, "spaces") else [space]
        per_step = sum(int(np.prod(s.shape)) for s in parts) * 4
    finally:
        env.close()
    return config.steps_per_iteration * per_step


def check_rollout_memory(config: TrainConfig) -> None:
    """Refuse, with a ``ValueError``, a run whose rollout buffer exceeds MAX_ROLLOUT_BYTES."""
    need = rollout_bytes(config)
    if need > MAX_ROLLOUT_BYTES:
        raise ValueError(
            f"`episode_steps` x `episodes_per_iteration` = {config.steps_per_iteration} steps "
            f"per iteration need a {need / 2**30:.1f} GiB rollout buffer on {config.topology}, "
            f"more than the {MAX_ROLLOUT_BYTES / 2**30:.0f} GiB allowed "
            "(packerl.app.training.MAX_ROLLOUT_BYTES); lower `episode_steps` or "
            "`episodes_per_iteration`")


def make_env(config: TrainConfig, stats: dict, *, traffic: str | None = None,
             update_stats: bool = True):
    """One wrapped training/evaluation environment."""
    env = PackeRLEnv(topology=config.topology, traffic=traffic or config.traffic,
                     link_failures=config.link_failures, episode_steps=config.episode_steps,
                     action_type=config.action_type,  # type: ignore[arg-type]
                     **config.env_kwargs())
    return paper_wrappers(env, k=config.stack, stats=stats, update=update_stats,
                          normalize=config.normalize)


def _save_checkpoint(model: Any, stats: dict, run: Path, iteration: int, extra: dict) -> None:
    tmp = run / "checkpoint.tmp.zip"
    model.save(tmp)
    save_stats(stats, run / "checkpoint_stats.pkl")
    os.replace(tmp, run / "checkpoint.zip")
    record_digests(run, "checkpoint.zip")
    state = {"iteration": iteration, "num_timesteps": int(model.num_timesteps), **extra}
    (run / "state.json.tmp").write_text(json.dumps(state, indent=2))
    os.replace(run / "state.json.tmp", run / "state.json")


def evaluate_reference(run_dir: str | os.PathLike, policy: str = "eigrp",
                       workers: int | None = 1) -> Path:
    """Evaluate ``policy`` on exactly the episodes of a run's periodic evaluation (its
    topology, ``eval_traffic``, link failures and reset seeds ``EVAL_SEED + i``) into
    ``run_dir/reference/``: the level its learning curve is read against
    (``packerl report`` draws it). Resumable like ``packerl evaluate``.

    Returns:
        The evaluation's run directory.
    """
    from packerl.app.evaluate import evaluate

    run = Path(run_dir)
    config = TrainConfig.from_json(run / "config.json")
    return evaluate(policy, config.topology, config.eval_traffic, config.eval_episodes,
                    EVAL_SEED, run / REFERENCE_DIR, link_failures=config.link_failures,
                    episode_steps=config.episode_steps, workers=workers, progress=False)


def evaluate_model(model: Any, config: TrainConfig, stats: dict,
                   episodes: int) -> dict[str, float]:
    """Deterministic episodes on fixed seeds with frozen statistics; mean episode metrics."""
    frozen = {k: v for k, v in stats.items()}
    venv = PackeRLSB3VecEnv([lambda: make_env(config, frozen, traffic=config.eval_traffic,
                                              update_stats=False)])
    rows = []
    try:
        for episode in range(episodes):
            venv.seed(EVAL_SEED + episode)
            obs = venv.reset()
            ret, done = 0.0, False
            while not done:
                action, _ = model.predict(obs, deterministic=True)
                obs, reward, dones, infos = venv.step(action)
                ret += float(reward[0])
                done = bool(dones[0])
            metrics = infos[0].get("episode_metrics", {})
            rows.append({"return": ret, **metrics})
    finally:
        venv.close()
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def _iteration_callback(config: TrainConfig, run: Path, stats: dict, start: int,
                        prior_seconds: float, progress: bool) -> Any:
    """The SB3 callback that turns one ``learn()`` call into checkpointed iterations."""
    import torch
    from stable_baselines3.common.callbacks import BaseCallback
    from tqdm.auto import tqdm

    rollout_threads = max(1, int(config.torch_threads))
    update_threads = max(1, int(config.update_threads or 1))

    class IterationCallback(BaseCallback):
        """Per PPO iteration (one rollout, then one update): sets the warm start before the
        rollout; after the update (SB3 has no hook there, so at the next rollout's start or at
        the end of training) runs the periodic evaluation and writes the checkpoint."""

        def __init__(self) -> None:
            super().__init__()
            self.iteration = start  # iterations finished
            self.running = False  # an iteration's rollout or update is under way
            self.warm = False

        def _on_training_start(self) -> None:
            self.t0 = time.monotonic()
            self.bar = tqdm(total=config.iterations, initial=start, unit="it",
                            desc=f"train {config.policy}", disable=not progress)

        def _on_rollout_start(self) -> None:
            torch.set_num_threads(rollout_threads)
            if self.running:
                self._finish_iteration()
            self.warm = self.iteration < int(config.warm_start_iterations or 0)
            if hasattr(self.model.policy, "warm_start"):
                self.model.policy.warm_start = self.warm
            self.running = True

        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:  # the update follows; the simulators wait
            torch.set_num_threads(update_threads)

        def _on_training_end(self) -> None:
            torch.set_num_threads(rollout_threads)
            if self.running:
                self._finish_iteration()
            self.bar.close()

        def _finish_iteration(self) -> None:
            self.iteration += 1
            self.running = False
            model = self.model
            returns = [e["r"] for e in model.ep_info_buffer]
            extra = {"mean_return": float(np.mean(returns)) if returns else None,
                     "warm_start": self.warm,
                     "wall_seconds": prior_seconds + time.monotonic() - self.t0}
            result = None
            if config.eval_every and self.iteration % config.eval_every == 0:
                result = evaluate_model(model, config, stats, config.eval_episodes)
                for key, value in result.items():
                    self.logger.record(f"eval/{key}", value)
                self.logger.dump(model.num_timesteps)
                extra["eval_return"] = result["return"]
            _save_checkpoint(model, stats, run, self.iteration, extra)
            # the row follows its checkpoint: a crash in between loses the row, which the
            # resume re-creates (see _reconcile_eval); never a row without its checkpoint
            if result is not None:
                _append_eval(run / "eval.csv", self.iteration, int(model.num_timesteps), result)
            self.bar.set_postfix(ret=extra["mean_return"], warm=self.warm)
            self.bar.update(1)

    return IterationCallback()


def new_model(config: TrainConfig, venv: Any, tensorboard_log: str | None = None) -> Any:
    """A fresh SB3 PPO model with the run's settings on ``venv`` (``config.seed`` fixes the
    initial network, whatever the traffic)."""
    from stable_baselines3 import PPO

    return PPO(
        config.entry.load(), venv, learning_rate=config.learning_rate,
        n_steps=config.steps_per_iteration // config.n_envs, batch_size=config.batch_size,
        n_epochs=config.n_epochs, gamma=config.gamma, gae_lambda=config.gae_lambda,
        clip_range=config.clip_range, clip_range_vf=config.clip_range_vf,
        vf_coef=config.vf_coef, max_grad_norm=config.max_grad_norm,
        use_sde=config.noise_hold > 1, sde_sample_freq=config.noise_hold,
        policy_kwargs=config.policy_kwargs, tensorboard_log=tensorboard_log, seed=config.seed,
        device="cpu", verbose=0)


def train(config: TrainConfig, *, resume: bool = False, progress: bool = True) -> Path:
    """Train (or resume) a run; returns the run directory. See the module docstring.

    One ``learn()`` call runs every remaining iteration (one TensorBoard stream); an SB3
    callback applies the warm start, evaluates and checkpoints per iteration.
    """
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    torch.set_num_threads(max(1, int(config.torch_threads)))

    check_rollout_memory(config)
    run = config.run_dir()
    if run.exists() and (run / "state.json").exists() and not resume:
        raise FileExistsError(f"`{run}` already holds a run; pass resume=True (--resume) to "
                              "continue it, or choose another --out/--seed")
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text(json.dumps(asdict(config), indent=2))
    write_description(run, config.description())
    if config.eval_every > 0:  # the level the learning curve is read against (resumable)
        evaluate_reference(run)

    stats: dict = {}
    env_fns = [lambda: make_env(config, stats)] * config.n_envs
    venv = VecMonitor(PackeRLSB3VecEnv(env_fns))
    n_steps = config.steps_per_iteration // config.n_envs
    start = 0
    prior_seconds = 0.0  # wall time of the run before a resume
    tensorboard = str(run / "tensorboard")
    try:
        if resume and (run / "checkpoint.zip").exists():
            state = json.loads((run / "state.json").read_text())
            start = int(state["iteration"])
            prior_seconds = float(state.get("wall_seconds") or 0.0)
        # a resumed run draws new scenarios instead of replaying those of its first iterations
        venv.seed(config.seed + 1_000_003 * start)
        if start > 0:
            load_stats(run / "checkpoint_stats.pkl", stats)
            model = PPO.load(run / "checkpoint.zip", env=venv, device="cpu",
                             tensorboard_log=tensorboard)
        else:
            model = new_model(config, venv, tensorboard_log=tensorboard)
        if start > 0:
            _reconcile_eval(run / "eval.csv", start, config, model, stats)
        remaining = max(0, config.iterations - start)
        if remaining:
            model.learn(total_timesteps=remaining * n_steps * config.n_envs,
                        callback=_iteration_callback(config, run, stats, start, prior_seconds,
                                                     progress),
                        reset_num_timesteps=False, tb_log_name="ppo", progress_bar=False)
        elif config.iterations == 0 and config.eval_every and not (run / "eval.csv").exists():
            # the untrained control: its learning curve is one point, the level training starts at
            _append_eval(run / "eval.csv", 0, 0,
                         evaluate_model(model, config, stats, config.eval_episodes))
        model.save(run / "model.zip")
        save_stats(stats, run / "model_stats.pkl")
        record_digests(run, "model.zip")
    finally:
        venv.close()
    return run


def _reconcile_eval(path: Path, iteration: int, config: TrainConfig, model: Any,
                    stats: dict) -> None:
    """Make ``eval.csv`` agree with the checkpoint of ``iteration`` before a resume.

    Rows past the checkpoint (written by a run that crashed before its next checkpoint) and
    repeated rows are dropped; the checkpoint's own row, if a crash came between checkpoint and
    row, is re-created: the evaluation is deterministic (fixed seeds, the checkpoint's frozen
    statistics), so the row is the one the crash lost.
    """
    rows: list[dict[str, str]] = []
    columns: list[str] | None = None
    if path.exists() and path.stat().st_size:
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or [])
            seen: set[int] = set()
            total = 0
            for row in reader:
                total += 1
                it = int(row["iteration"])
                if it <= iteration and it not in seen:
                    seen.add(it)
                    rows.append(row)
        if len(rows) != total:
            tmp = path.with_name(path.name + ".tmp")
            with tmp.open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore",
                                        restval="")
                writer.writeheader()
                writer.writerows(rows)
            os.replace(tmp, path)
    has_row = any(int(r["iteration"]) == iteration for r in rows)
    if config.eval_every and iteration % config.eval_every == 0 and not has_row:
        result = evaluate_model(model, config, stats, config.eval_episodes)
        _append_eval(path, iteration, int(model.num_timesteps), result)


def _append_eval(path: Path, iteration: int, timesteps: int, result: dict[str, float]) -> None:
    """Append one evaluation row; a resumed run keeps the columns the file started with."""
    row = {"iteration": iteration, "timesteps": timesteps, **result}
    columns = list(row)
    if path.exists() and path.stat().st_size:
        with path.open(newline="") as f:
            columns = next(csv.reader(f))
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore", restval="")
        if f.tell() == 0:
            writer.writeheader()
        writer.writerow(row)
