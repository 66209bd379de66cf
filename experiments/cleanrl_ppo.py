# SPDX-License-Identifier: GPL-2.0-only
"""Single-file, CleanRL-style PPO on the PackeRL environments, through plain Gymnasium.

Nothing project-specific is used besides the registered env ids: the vector env comes from
``gymnasium.make_vec`` and is wrapped by standard Gymnasium vector wrappers only
(``FlattenObservation``, ``RecordEpisodeStatistics``, ``ClipAction`` for Box actions and,
unless ``--no-normalize``, ``NormalizeObservation``/``NormalizeReward``). There is no action
masking: every element of both action spaces is a legal action.

- ``packerl/PackeRL-v0`` (``MultiDiscrete``): one categorical per action dimension, from a
  logits layer of size ``sum(nvec)`` split by ``nvec``.
- ``packerl/PackeRL-LinkWeights-v0`` (``Box(-1, 1)``): a diagonal Gaussian with a
  state-independent log-std; ``ClipAction`` clips what the env gets, while PPO stores and
  scores the unclipped sample.

Autoreset: Gymnasium's default NEXT_STEP mode. The step that returns ``truncated`` also
returns the real final observation, so the value the policy computes for it on the next
step is the bootstrap value; that next step only resets the env (its action is ignored,
reward 0), so it is recorded as invalid and left out of the PPO loss. Episodes end by
truncation at the horizon, so the value is bootstrapped there (``terminated`` cuts it).

Usage:
    python experiments/cleanrl_ppo.py --env-id packerl/PackeRL-LinkWeights-v0 \\
        --total-timesteps 20000 --out results/ppo_lw.csv
    python experiments/cleanrl_ppo.py --help
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Categorical, Normal
from tqdm import tqdm

import packerl  # noqa: F401  (registers the env ids)

CSV_COLUMNS = ("iteration", "global_step", "mean_return", "episodes", "pg_loss", "v_loss",
               "entropy", "approx_kl", "clipfrac", "explained_var", "learning_rate",
               "wall_s", "sps")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (argparse exits with code 2 and one line on bad usage)."""
    p = argparse.ArgumentParser(prog="cleanrl_ppo.py",
                                description="CleanRL-style PPO on PackeRL via plain Gymnasium.")
    p.add_argument("--env-id", default="packerl/PackeRL-v0")
    p.add_argument("--topology", default="nx-XS")
    p.add_argument("--traffic", default="udp_low")
    p.add_argument("--episode-steps", type=positive_int, default=100)
    p.add_argument("--num-envs", type=positive_int, default=2)
    p.add_argument("--num-steps", type=positive_int, default=32, help="rollout steps per env")
    p.add_argument("--total-timesteps", type=positive_int, default=10_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--learning-rate", type=float, default=3e-4)
    p.add_argument("--anneal-lr", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--vectorization-mode", choices=("sync", "async"), default="sync")
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--gae-lambda", type=float, default=0.95)
    p.add_argument("--num-minibatches", type=positive_int, default=4)
    p.add_argument("--update-epochs", type=positive_int, default=4)
    p.add_argument("--clip-coef", type=float, default=0.2)
    p.add_argument("--ent-coef", type=float, default=0.01)
    p.add_argument("--vf-coef", type=float, default=0.5)
    p.add_argument("--max-grad-norm", type=float, default=0.5)
    p.add_argument("--norm-adv", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=True,
                   help="NormalizeObservation + NormalizeReward (default: on)")
    p.add_argument("--hidden", type=positive_int, default=64, help="MLP width")
    p.add_argument("--torch-threads", type=positive_int, default=1,
                   help="torch CPU threads (default 1: the simulators need the other cores)")
    p.add_argument("--out", default=None, help="CSV file of per-iteration results")
    p.add_argument("--save-model", default=None, help="save the final state_dict here")
    args = p.parse_args(argv)
    if args.total_timesteps < args.num_envs * args.num_steps:
        p.error(f"--total-timesteps ({args.total_timesteps}) is less than one rollout "
                f"(--num-envs x --num-steps = {args.num_envs * args.num_steps})")
    return args


def make_envs(args: argparse.Namespace) -> gym.vector.VectorEnv:
    """``gymnasium.make_vec`` plus standard vector wrappers (default NEXT_STEP autoreset)."""
    envs = gym.make_vec(args.env_id, num_envs=args.num_envs,
                        vectorization_mode=args.vectorization_mode, topology=args.topology,
                        traffic=args.traffic, episode_steps=args.episode_steps)
    envs = gym.wrappers.vector.FlattenObservation(envs)
    envs = gym.wrappers.vector.RecordEpisodeStatistics(envs)  # raw returns, before scaling
    if isinstance(envs.single_action_space, gym.spaces.Box):
        envs = gym.wrappers.vector.ClipAction(envs)
    if args.normalize:
        envs = gym.wrappers.vector.NormalizeObservation(envs)
        envs = gym.wrappers.vector.TransformObservation(envs, lambda o: np.clip(o, -10, 10))
        envs = gym.wrappers.vector.NormalizeReward(envs, gamma=args.gamma)
        envs = gym.wrappers.vector.TransformReward(envs, lambda r: np.clip(r, -10, 10))
    return envs


def layer_init(layer: nn.Linear, std: float = np.sqrt(2), bias: float = 0.0) -> nn.Linear:
    """CleanRL's orthogonal initialisation."""
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


def mlp(n_in: int, n_out: int, hidden: int, out_std: float) -> nn.Sequential:
    """Two tanh hidden layers."""
    return nn.Sequential(layer_init(nn.Linear(n_in, hidden)), nn.Tanh(),
                         layer_init(nn.Linear(hidden, hidden)), nn.Tanh(),
                         layer_init(nn.Linear(hidden, n_out), std=out_std))


class MultiCategorical:
    """Independent categoricals, one per MultiDiscrete dimension.

    The logits (B, sum(nvec)) are split by ``nvec``; for speed the pieces are laid side by
    side in one (B, D, max(nvec)) tensor whose surplus slots (``k >= nvec[d]``, only when
    nvec is non-uniform) get probability 0. Every real action keeps its own logit.
    """

    def __init__(self, logits: torch.Tensor, index: torch.Tensor, pad: torch.Tensor):
        self.dist = Categorical(logits=logits[:, index].masked_fill(pad, -1e9))

    @staticmethod
    def layout(nvec: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(D, max(nvec)) logit column of every (dimension, value), and the surplus slots."""
        n, k = np.array(nvec)[:, None], np.arange(max(nvec))[None, :]
        offsets = np.cumsum([0] + nvec[:-1])[:, None]
        return torch.as_tensor(offsets + np.minimum(k, n - 1)), torch.as_tensor(k >= n)

    def sample(self) -> torch.Tensor:
        return self.dist.sample()

    def log_prob(self, action: torch.Tensor) -> torch.Tensor:
        return self.dist.log_prob(action).sum(1)

    def entropy(self) -> torch.Tensor:
        return self.dist.entropy().sum(1)


class Agent(nn.Module):
    """Separate actor and critic MLPs on the flattened observation."""

    def __init__(self, obs_dim: int, action_space: gym.Space, hidden: int):
        super().__init__()
        self.critic = mlp(obs_dim, 1, hidden, out_std=1.0)
        if isinstance(action_space, gym.spaces.MultiDiscrete):
            nvec = [int(n) for n in action_space.nvec.reshape(-1)]
            index, pad = MultiCategorical.layout(nvec)
            self.register_buffer("index", index)
            self.register_buffer("pad", pad)
            self.actor = mlp(obs_dim, sum(nvec), hidden, out_std=0.01)
            self.discrete, self.action_dim = True, len(nvec)
        elif isinstance(action_space, gym.spaces.Box):
            dim = int(np.prod(action_space.shape))
            self.actor = mlp(obs_dim, dim, hidden, out_std=0.01)
            self.actor_logstd = nn.Parameter(torch.zeros(1, dim))
            self.discrete, self.action_dim = False, dim
        else:
            raise TypeError(f"unsupported action space {action_space}")

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)

    def get_action_and_value(self, x: torch.Tensor, action: torch.Tensor | None = None):
        """Sample (or score) an action; returns action, log-prob, entropy, value."""
        if self.discrete:
            dist = MultiCategorical(self.actor(x), self.index, self.pad)
        else:
            mean = self.actor(x)
            dist = Normal(mean, self.actor_logstd.expand_as(mean).exp())
        if action is None:
            action = dist.sample()
        logprob, entropy = dist.log_prob(action), dist.entropy()
        if not self.discrete:
            logprob, entropy = logprob.sum(1), entropy.sum(1)
        return action, logprob, entropy, self.get_value(x)


@dataclass
class Rollout:
    """One rollout, (num_steps, num_envs, ...). ``valid[t]`` is False for the NEXT_STEP
    autoreset steps (action ignored, env reset), which are left out of the loss."""

    obs: torch.Tensor
    actions: torch.Tensor
    logprobs: torch.Tensor
    values: torch.Tensor
    rewards: torch.Tensor
    terminated: torch.Tensor  # this step ended the episode by termination
    done: torch.Tensor  # this step ended the episode (terminated or truncated)
    valid: torch.Tensor
    episode_returns: list[float] = field(default_factory=list)


def to_env_action(action: torch.Tensor, space: gym.Space) -> np.ndarray:
    """Batched torch action -> what ``envs.step`` takes (Box actions are clipped by
    ClipAction; the unclipped sample stays in the rollout)."""
    a = action.cpu().numpy()
    if isinstance(space, gym.spaces.MultiDiscrete):
        return (a + space.start.reshape(-1)).reshape((-1, *space.shape)).astype(space.dtype)
    return a.reshape((-1, *space.shape)).astype(space.dtype)


def collect_rollout(envs, agent: Agent, obs: torch.Tensor, autoreset: np.ndarray,
                    num_steps: int):
    """Step the vector env ``num_steps`` times; returns the rollout and the carried state."""
    def zeros(*shape, dtype=torch.float32):
        return torch.zeros((num_steps, envs.num_envs, *shape), dtype=dtype)

    act_dtype = torch.long if agent.discrete else torch.float32
    r = Rollout(obs=zeros(obs.shape[1]), actions=zeros(agent.action_dim, dtype=act_dtype),
                logprobs=zeros(), values=zeros(), rewards=zeros(), terminated=zeros(),
                done=zeros(), valid=zeros(dtype=torch.bool))
    for t in range(num_steps):
        r.obs[t], r.valid[t] = obs, torch.as_tensor(~autoreset)
        with torch.no_grad():
            action, r.logprobs[t], _, r.values[t] = agent.get_action_and_value(obs)
        r.actions[t] = action
        next_obs, reward, terminated, truncated, infos = envs.step(
            to_env_action(action, envs.single_action_space))
        r.rewards[t] = torch.as_tensor(reward, dtype=torch.float32)
        r.terminated[t] = torch.as_tensor(terminated, dtype=torch.float32)
        autoreset = np.logical_or(terminated, truncated)
        r.done[t] = torch.as_tensor(autoreset, dtype=torch.float32)
        if "episode" in infos:
            r.episode_returns += [float(x) for x in infos["episode"]["r"][infos["_episode"]]]
        obs = torch.as_tensor(next_obs, dtype=torch.float32)
    return r, obs, autoreset


def compute_gae(r: Rollout, next_value: torch.Tensor, gamma: float, lam: float):
    """Generalised advantage estimation; returns (advantages, returns).

    The value after step t is ``values[t + 1]`` (``next_value`` after the last step). After a
    truncation that is the value of the real final observation, because NEXT_STEP returns
    it as the next observation; termination zeroes it, and ``done`` stops the recursion so
    the autoreset step never leaks into the episode before it.
    """
    advantages = torch.zeros_like(r.rewards)
    last = torch.zeros_like(next_value)
    for t in reversed(range(r.rewards.shape[0])):
        nxt = next_value if t == r.rewards.shape[0] - 1 else r.values[t + 1]
        delta = r.rewards[t] + gamma * nxt * (1 - r.terminated[t]) - r.values[t]
        last = delta + gamma * lam * (1 - r.done[t]) * last
        advantages[t] = last
    return advantages, advantages + r.values


def ppo_loss(agent: Agent, mb: dict[str, torch.Tensor], args) -> tuple[torch.Tensor, dict]:
    """One minibatch's loss: clipped surrogate + value loss - entropy bonus, and stats."""
    _, logprob, entropy, value = agent.get_action_and_value(mb["obs"], mb["actions"])
    logratio = logprob - mb["logprobs"]
    ratio = logratio.exp()
    adv = mb["advantages"]
    if args.norm_adv and len(adv) > 1:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    clipped = ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)
    pg_loss = torch.max(-adv * ratio, -adv * clipped).mean()
    v_clipped = mb["values"] + (value - mb["values"]).clamp(-args.clip_coef, args.clip_coef)
    v_loss = 0.5 * torch.max((value - mb["returns"]) ** 2,
                             (v_clipped - mb["returns"]) ** 2).mean()  # clipped value loss
    loss = pg_loss - args.ent_coef * entropy.mean() + args.vf_coef * v_loss
    with torch.no_grad():
        stats = {"pg_loss": pg_loss.item(), "v_loss": v_loss.item(),
                 "entropy": entropy.mean().item(),
                 "approx_kl": ((ratio - 1) - logratio).mean().item(),
                 "clipfrac": ((ratio - 1).abs() > args.clip_coef).float().mean().item()}
    return loss, stats


def explained_variance(pred: torch.Tensor, target: torch.Tensor) -> float:
    """1 - Var(target - pred) / Var(target) (NaN when the target has no variance)."""
    var = target.var().item() if len(target) > 1 else 0.0
    return 1 - (target - pred).var().item() / var if var > 0 else float("nan")


def ppo_update(agent: Agent, optimizer, r: Rollout, advantages, returns, args,
               rng: np.random.Generator) -> dict[str, float]:
    """``update_epochs`` passes of minibatch PPO over the valid samples; mean stats."""
    keep = torch.as_tensor(np.flatnonzero(r.valid.flatten().numpy()))
    batch = {"obs": r.obs.flatten(0, 1), "actions": r.actions.flatten(0, 1),
             "logprobs": r.logprobs.flatten(), "values": r.values.flatten(),
             "advantages": advantages.flatten(), "returns": returns.flatten()}
    batch = {k: v[keep] for k, v in batch.items()}
    stats = []
    for _ in range(args.update_epochs):
        for idx in np.array_split(rng.permutation(len(keep)), args.num_minibatches):
            if len(idx) == 0:
                continue
            loss, mb_stats = ppo_loss(agent, {k: v[idx] for k, v in batch.items()}, args)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
            optimizer.step()
            stats.append(mb_stats)
    keys = ("pg_loss", "v_loss", "entropy", "approx_kl", "clipfrac")
    out = {k: float(np.mean([s[k] for s in stats])) if stats else float("nan") for k in keys}
    out["explained_var"] = explained_variance(batch["values"], batch["returns"])
    return out


@dataclass
class TrainResult:
    """What :func:`train` returns (for tests and notebooks)."""

    agent: Agent
    initial_params: dict[str, torch.Tensor]
    rows: list[dict]
    episode_returns: list[float]


def seed_everything(seed: int, threads: int) -> None:
    """Seed Python, NumPy and torch (the envs are seeded by their first reset)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)


def train(args: argparse.Namespace, envs: gym.vector.VectorEnv) -> TrainResult:
    """Run PPO on ``envs`` (from :func:`make_envs`) as configured by :func:`parse_args`."""
    rng = np.random.default_rng(args.seed)  # minibatch shuffling
    agent = Agent(int(np.prod(envs.single_observation_space.shape)),
                  envs.single_action_space, args.hidden)
    initial = {k: v.detach().clone() for k, v in agent.state_dict().items()}
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    batch = args.num_envs * args.num_steps
    iterations = args.total_timesteps // batch
    obs, _ = envs.reset(seed=args.seed)
    obs = torch.as_tensor(obs, dtype=torch.float32)
    autoreset = np.zeros(args.num_envs, dtype=bool)
    rows, all_returns, started = [], [], time.perf_counter()
    with contextlib.ExitStack() as stack:
        writer = None
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            writer = csv.DictWriter(stack.enter_context(open(args.out, "w", newline="")),
                                    fieldnames=CSV_COLUMNS)
            writer.writeheader()
        bar = tqdm(range(1, iterations + 1), desc="PPO", unit="it")
        for it in bar:
            if args.anneal_lr:
                optimizer.param_groups[0]["lr"] = args.learning_rate * (1 - (it - 1) / iterations)
            rollout, obs, autoreset = collect_rollout(envs, agent, obs, autoreset,
                                                      args.num_steps)
            with torch.no_grad():
                advantages, returns = compute_gae(rollout, agent.get_value(obs), args.gamma,
                                                  args.gae_lambda)
            stats = ppo_update(agent, optimizer, rollout, advantages, returns, args, rng)
            all_returns += rollout.episode_returns
            wall = time.perf_counter() - started
            ep = rollout.episode_returns
            row = {"iteration": it, "global_step": it * batch,
                   "mean_return": float(np.mean(ep)) if ep else "", "episodes": len(ep),
                   **stats, "learning_rate": optimizer.param_groups[0]["lr"],
                   "wall_s": round(wall, 3), "sps": round(it * batch / wall, 2)}
            rows.append(row)
            if writer:
                writer.writerow(row)
            bar.set_postfix(ret=f"{np.mean(ep):.3g}" if ep else "-", sps=f"{row['sps']:.0f}")
    if args.save_model:
        torch.save(agent.state_dict(), args.save_model)
    return TrainResult(agent, initial, rows, all_returns)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: 0 on success, 2 on bad usage (one line on stderr)."""
    args = parse_args(argv)
    seed_everything(args.seed, args.torch_threads)
    try:  # unknown env ids, topologies, traffic presets: one line, not a traceback
        envs = make_envs(args)
    except (gym.error.Error, ValueError) as exc:
        print(f"cleanrl_ppo.py: error: {exc}", file=sys.stderr)
        return 2
    try:
        result = train(args, envs)
    finally:
        envs.close()
    steps, wall = result.rows[-1]["global_step"], result.rows[-1]["wall_s"]
    last = result.episode_returns[-10:]
    ret = f"{np.mean(last):.4g} (last {len(last)} episodes)" if last else "n/a (no episode ended)"
    print(f"PPO {args.env_id} on {args.topology}/{args.traffic}: {len(result.rows)} iterations, "
          f"{steps} steps in {wall:.1f} s ({steps / wall:.0f} SPS), mean return {ret}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
