# SPDX-License-Identifier: GPL-2.0-only
"""Write one rendered frame of the environment (the README's picture).

Runs EIGRP on an nx-S scenario with high UDP traffic for a few steps and saves
``render_mode="rgb_array"``'s frame as a PNG.

Usage: python experiments/render_frame.py [--out docs/render.png] [--steps 6] [--seed 3]
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import matplotlib.image

import packerl
from policies.factory import make_policy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/render.png")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    env = gym.make(packerl.ENV_ID, topology="nx-S", traffic="udp_very_high",
                   episode_steps=args.steps, render_mode="rgb_array", render_destination=0)
    policy = make_policy("eigrp", env)
    obs, _ = env.reset(seed=args.seed)
    policy.reset()
    for _ in range(args.steps):
        obs, *_ = env.step(policy.act(obs))
    matplotlib.image.imsave(args.out, env.render())
    env.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
