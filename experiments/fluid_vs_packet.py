# SPDX-License-Identifier: GPL-2.0-only
"""Where the fluid model is close to packets and where it is not: the same scenarios and
routings in ``packerl/PackeRL-v0`` (ns-3) and ``packerl/PackeRL-Fluid-v0``.

For each traffic preset, seed and routing policy, both environments are reset with the same
seed (hence the same synnet scenario: topology, demands) and driven by the same policy built
with the same seed (EIGRP: static; Random (LW): shortest paths over link weights drawn from
U[1, 10) every step, the same draws in both, as it only reads the topology). Per episode the
paper's metrics (``episode_summary``): goodput (MB per episode), drop ratio, mean packet
delay, and the largest link utilisation (mean over steps of the step's maximum). The tables
give the means over seeds and the fluid/packet ratio of the means (for drop ratio and link
utilisation the difference, fluid - packet, as they can be 0).

Usage::

    python experiments/fluid_vs_packet.py [--topology nx-XS] [--steps 100] [--seeds 3]
        [--policies eigrp random_lw] [--presets udp_low ...] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gymnasium as gym
import numpy as np

import packerl
from experiments._benchutil import load_sentence, markdown_table, write_results
from policies.factory import make_policy
from policies.registry import policy_label

PRESETS = ("udp_low", "udp_medium", "udp_high", "mixed_low", "mixed_medium", "mixed_high",
           "tcp_low", "tcp_medium", "tcp_high")
POLICIES = ("eigrp", "random_lw")
#: episode metrics compared, and whether the table shows a ratio (else a difference)
METRICS = {"total_goodput_mb": "ratio", "avg_delay_ms": "ratio", "drop_ratio": "diff",
           "max_link_util": "diff"}
ENVS = {"packet": packerl.ENV_ID, "fluid": packerl.FLUID_ENV_ID}


def run_episode(env_id: str, policy: str, topology: str, traffic: str, seed: int,
                steps: int) -> dict[str, float]:
    """One episode's summary metrics (and its wall seconds)."""
    env = gym.make(env_id, topology=topology, traffic=traffic, episode_steps=steps)
    try:
        pol = make_policy(policy, env, seed=seed)
        obs, _ = env.reset(seed=seed)
        t0 = time.perf_counter()
        truncated = False
        while not truncated:
            obs, _, _, truncated, info = env.step(pol.act(obs))
        out = {k: float(info["episode_metrics"][k]) for k in METRICS}
        out["seconds"] = time.perf_counter() - t0
        return out
    finally:
        env.close()


def _reading(summary: dict[str, Any]) -> str:
    """One sentence per protocol family: the range of the fluid/packet goodput and delay
    ratios over policies and load levels, and the largest drop-ratio gap (from the table)."""
    lines = ["Reading (computed from the rows above):"]
    for family in ("udp", "mixed", "tcp"):
        cells = [c for cells in summary.values() for t, c in cells.items()
                 if t.startswith(family + "_")]
        if not cells:
            continue
        good = [c["total_goodput_mb"]["ratio"] for c in cells]
        delay = [c["avg_delay_ms"]["ratio"] for c in cells]
        drops = [c["drop_ratio"]["diff"] for c in cells]
        lines.append(
            f"- {family.upper()}: fluid/packet goodput {min(good):.2f} .. {max(good):.2f}, "
            f"delay {min(delay):.2f} .. {max(delay):.2f}, drop ratio gap "
            f"{min(drops):+.3f} .. {max(drops):+.3f}.")
    lines.append("The fluid model's TCP sources take their max-min share at once (no slow "
                 "start, loss recovery or ACKs; see packerl.fluid), which is where it departs "
                 "from packets most.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topology", default="nx-XS")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--policies", nargs="+", default=list(POLICIES))
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    load_start = list(os.getloadavg())
    results: dict[str, Any] = {}
    for policy in args.policies:
        for traffic in args.presets:
            cell = {name: [] for name in ENVS}
            for seed in range(args.seeds):
                for name, env_id in ENVS.items():
                    cell[name].append(run_episode(env_id, policy, args.topology, traffic,
                                                  seed, args.steps))
            results.setdefault(policy, {})[traffic] = cell
            mean = {name: {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
                    for name, runs in cell.items()}
            print(policy, traffic, {n: {k: round(v, 4) for k, v in m.items()}
                                    for n, m in mean.items()}, flush=True)
    load_end = list(os.getloadavg())
    header = ["traffic"] + [
        f"{k} {part}" for k in METRICS for part in
        ("packet", "fluid", "fluid/packet" if METRICS[k] == "ratio" else "fluid - packet")]
    sections = [
        f"{args.topology}, {args.steps}-step episodes of {args.steps * 5} ms, seeds "
        f"0..{args.seeds - 1}, no link failures; both envs reset with the same seed (same "
        "scenario) and driven by the same policy with the same seed. Means over seeds. "
        "Goodput: MB received per episode; delay: mean one-way packet delay (ms); drop "
        "ratio: dropped / (dropped + received) bytes; max link util: mean over steps of the "
        "largest link utilisation.",
    ]
    summary: dict[str, Any] = {}
    for policy, cells in results.items():
        rows = []
        for traffic, cell in cells.items():
            mean = {name: {k: float(np.mean([r[k] for r in runs])) for k in METRICS}
                    for name, runs in cell.items()}
            p, f = mean["packet"], mean["fluid"]
            row = [traffic]
            for k, kind in METRICS.items():
                gap = (f[k] / p[k] if p[k] > 0 else float("nan")) if kind == "ratio" \
                    else f[k] - p[k]
                row += [f"{p[k]:.4g}", f"{f[k]:.4g}",
                        f"{gap:.2f}" if kind == "ratio" else f"{gap:+.3f}"]
                summary.setdefault(policy, {}).setdefault(traffic, {})[k] = {
                    "packet": p[k], "fluid": f[k], kind: gap}
            rows.append(row)
        sections.append(f"### {policy_label(policy)}\n\n" + markdown_table(header, rows))
    sections.append(_reading(summary))
    sections.append(load_sentence(load_start, load_end)
                    + " Speed is not compared here (see bench_fluid).")
    body = "\n\n".join(sections)
    print(body)
    if not args.no_write:
        md, js = write_results(
            "fluid_vs_packet", "Fluid model vs packet env on the same scenarios and routings",
            body, {"topology": args.topology, "steps": args.steps, "seeds": args.seeds,
                   "policies": args.policies, "presets": args.presets,
                   "episodes": results, "summary": summary, "load_start": load_start,
                   "load_end": load_end})
        print(f"wrote {md} and {js}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
