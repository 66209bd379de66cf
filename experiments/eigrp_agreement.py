# SPDX-License-Identifier: GPL-2.0-only
"""How often a policy routes exactly as EIGRP would: per step, the share of next-hop entries
its table shares with EIGRP's on the same observation (both weightings: ``eigrp``, classic
units, and ``eigrp_paper``, the original code's), and the share of steps whose whole table is
EIGRP's.

Evidence for why a learned policy does or does not beat EIGRP: FieldLines is warm-started on
EIGRP's next hops and reads EIGRP distances as positional features, so a policy that agrees
on nearly every entry cannot route much better (or worse) than EIGRP. The policy plays its own
episodes (its deterministic actions), on the reset seeds of the training's periodic
evaluation by default; entries are the (node, destination) pairs EIGRP routes (node !=
destination, destination reachable).

Usage::

    python experiments/eigrp_agreement.py POLICY [POLICY ...] [--topology nx-XS]
        [--traffic tcp_high] [--episodes 4] [--seed 10000] [--no-write]

POLICY: a policy name or a trained run directory (as ``packerl evaluate --policy``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from tqdm import tqdm

import packerl  # noqa: F401  (registers the env ids)
from experiments._benchutil import load_sentence, markdown_table, write_results
from packerl.app.evaluate import EvalConfig, make_env, policy_action_type
from packerl.app.training import EVAL_SEED
from policies.factory import make_policy, policy_slug
from policies.guard import guard_label

REFERENCES = ("eigrp", "eigrp_paper")


def agreement(policy_name: str, topology: str, traffic: str, episodes: int, seed: int,
              episode_steps: int = 100) -> dict[str, Any]:
    """Per reference: the mean share of entries equal to its table (over every step of every
    episode), its min over steps, and the share of steps with the identical table."""
    shares: dict[str, list[float]] = {r: [] for r in REFERENCES}
    goodput = []
    for episode in range(episodes):  # in the env `packerl evaluate` gives the policy
        env = make_env(EvalConfig(policy_name, topology, traffic, seed + episode,
                                  episode_steps=episode_steps,
                                  action_type=policy_action_type(policy_name)))
        try:
            policy = make_policy(policy_name, env, seed=seed + episode)
            refs = {r: make_policy(r, env) for r in REFERENCES}
            obs, _ = env.reset(seed=seed + episode)
            for p in (policy, *refs.values()):
                p.reset()
            done = False
            while not done:
                action = policy.act(obs)
                table = env.unwrapped.next_hops_of(action)
                for name, ref in refs.items():
                    expected = env.unwrapped.next_hops_of(ref.act(obs))
                    routed = expected >= 0
                    shares[name].append(float((table[routed] == expected[routed]).mean()))
                obs, _, terminated, truncated, info = env.step(action)
                done = terminated or truncated
            goodput.append(float(info["episode_metrics"]["total_goodput_mb"]))
        finally:
            env.close()
    out: dict[str, Any] = {"policy": policy_name, "episodes": episodes,
                           "steps": len(shares[REFERENCES[0]]),
                           "mean_goodput_mb": float(np.mean(goodput))}
    for name, s in shares.items():
        a = np.asarray(s)
        out[name] = {"mean": float(a.mean()), "min": float(a.min()),
                     "identical_steps": float((a == 1.0).mean())}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("policies", nargs="+", help="policy names or trained run directories")
    parser.add_argument("--topology", default="nx-XS")
    parser.add_argument("--traffic", default="tcp_high")
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=EVAL_SEED,
                        help=f"first reset seed (default: {EVAL_SEED}, the training's "
                             "periodic evaluation)")
    parser.add_argument("--no-write", action="store_true", help="do not write result files")
    args = parser.parse_args(argv)
    if args.episodes < 1:
        parser.error("--episodes must be >= 1")
    load_start = list(os.getloadavg())
    results = [agreement(p, args.topology, args.traffic, args.episodes, args.seed)
               for p in tqdm(args.policies, desc="policies", unit="policy")]
    load_end = list(os.getloadavg())
    header = ["policy", "episodes x steps", "mean goodput [MB]"]
    for r in REFERENCES:
        label = guard_label(r)
        header += [f"entries as {label}", f"min over steps", f"steps identical to {label}"]
    rows = []
    for res in results:
        row = [guard_label(res["policy"]) if not Path(res["policy"]).exists()
               else policy_slug(res["policy"]), f"{res['episodes']} x "
               f"{res['steps'] // res['episodes']}", f"{res['mean_goodput_mb']:.2f}"]
        for r in REFERENCES:
            row += [f"{res[r]['mean']:.1%}", f"{res[r]['min']:.1%}",
                    f"{res[r]['identical_steps']:.1%}"]
        rows.append(row)
    body = (f"{args.topology} / {args.traffic}, reset seeds {args.seed}.."
            f"{args.seed + args.episodes - 1}; each policy plays its own episodes "
            "(deterministic actions) and every step its next-hop table is compared with the "
            "EIGRP tables of the same observation, over the entries EIGRP routes.\n\n"
            + markdown_table(header, rows) + "\n\n" + load_sentence(load_start, load_end))
    print(body)
    if not args.no_write:
        write_results("eigrp_agreement", "Agreement of policies with EIGRP's next hops", body,
                      {"topology": args.topology, "traffic": args.traffic,
                       "seed": args.seed, "results": results,
                       "load_average": [load_start, load_end]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
