# SPDX-License-Identifier: GPL-2.0-only
"""How much worse a trained policy routes while exploring: the same checkpoint, the same
scenarios, actions sampled (as in PPO's rollouts) vs deterministic (as in evaluation).

A large gap means the rollouts that PPO learns from look little like the policy being
evaluated, one suspect when a learned policy does not improve (see the reproduction notes).

Run: ``.venv/bin/python experiments/exploration_gap.py RUN_DIR [--traffic tcp_high]
[--episodes 4]``; prints the mean return (MB received per episode) of both modes and their
ratio, on reset seeds 10000.. (those of the training's periodic evaluation).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from packerl.app.training import TrainConfig, make_env  # noqa: E402
from packerl.vector import PackeRLSB3VecEnv  # noqa: E402
from packerl.wrappers import load_stats  # noqa: E402


def mode_probability(model, obs) -> float:
    """Mean probability, over the real (node, destination) entries, of the entry's most
    likely next hop: 1 means sampling is deterministic, 1/degree means uniform."""
    import torch

    with torch.no_grad():
        dist = model.policy.get_distribution(model.policy.obs_to_tensor(obs)[0])
        edges = dist.chosen_edges(dist.mode())
        logp = dist.logits.gather(0, edges.clamp_min(0)) - dist.log_normalizer
        real = dist.valid & (edges >= 0)
        return float(logp.exp()[real].mean())


def returns(run: Path, traffic: str, episodes: int, deterministic: bool,
            sharpness: list[float] | None = None) -> list[float]:
    """Returns of ``episodes`` episodes of the run's latest checkpoint (and, into
    ``sharpness``, every step's :func:`mode_probability`)."""
    from stable_baselines3 import PPO

    config = TrainConfig.from_json(run / "config.json")
    stats = load_stats(run / "checkpoint_stats.pkl")
    venv = PackeRLSB3VecEnv([lambda: make_env(config, stats, traffic=traffic,
                                              update_stats=False)])
    # the spaces of today's env (a run's pickled spaces may be of older classes)
    model = PPO.load(run / "checkpoint.zip", device="cpu", custom_objects={
        "observation_space": venv.observation_space, "action_space": venv.action_space})
    model.set_random_seed(0)
    print(f"{run.name}: temperature {float(model.policy.temperature.detach()):.3f}")
    out = []
    try:
        for episode in range(episodes):
            venv.seed(10_000 + episode)
            obs, total, done = venv.reset(), 0.0, False
            while not done:
                if sharpness is not None:
                    sharpness.append(mode_probability(model, obs))
                action, _ = model.predict(obs, deterministic=deterministic)
                obs, reward, dones, _ = venv.step(action)
                total += float(reward[0])
                done = bool(dones[0])
            out.append(total)
    finally:
        venv.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="training run directory (with checkpoint.zip)")
    parser.add_argument("--traffic", default="tcp_high")
    parser.add_argument("--episodes", type=int, default=4)
    args = parser.parse_args(argv)
    if not (args.run / "checkpoint.zip").is_file():
        parser.error(f"no checkpoint.zip in `{args.run}`")
    greedy = returns(args.run, args.traffic, args.episodes, True)
    sharpness: list[float] = []
    sampled = returns(args.run, args.traffic, args.episodes, False, sharpness)
    print(f"{args.run.name} on {args.traffic}, {args.episodes} episodes (seeds 10000..): "
          f"deterministic {np.mean(greedy):.2f} {np.round(greedy, 2).tolist()}, "
          f"sampled {np.mean(sampled):.2f} {np.round(sampled, 2).tolist()}, "
          f"sampled / deterministic {np.mean(sampled) / np.mean(greedy):.3f}; "
          f"probability of the most likely next hop per entry while sampling: mean "
          f"{np.mean(sharpness):.3f} (min {np.min(sharpness):.3f}, max {np.max(sharpness):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
