# SPDX-License-Identifier: GPL-2.0-only
"""Speed report in the style of the PackeRL paper's Figure 7.

Left side (inference time per step and graph size): measured fresh, on one CPU core, with
``experiments.bench_inference.fieldlines_inference`` and ``mslim_inference`` on synthetic
observations of synnet topologies of the given sizes (untrained weights: the time does not
depend on them). M-Slim's time per step is its policy pass plus the shortest-path
step that turns its link weights into next hops (it needs one per step); FieldLines needs an
APSP only when the topology changes (reported apart). Optionally also the mean inference time
per step measured in real episodes of a sweep (``episodes.csv``'s ``inference_ms``, which
includes the trained-model pipeline: normalisation and frame stacking).

Right side (simulation steps per hour, excluding inference and learning): the topology of
``experiments/results/bench_env.json`` (env ``step`` time only, EIGRP, one env on one core;
not re-measured: its date, episode length and rounds are read from the file); larger presets
measured fresh here with bench_env's code (``bench_env.run_single``) but short episodes
(``--steps``, default 20 steps of each of ``--episodes`` episodes: the first steps of an
episode are cheaper than later ones, so these are optimistic).

Framework overhead (env / raw simulator, same scenario and routing): from
``experiments/results/bench_overhead.json`` and ``bench_env.json`` (not re-measured).

Usage::

    python experiments/speed_report.py [--sizes 8 18 38 75 175 250] [--presets nx-S nx-M]
        [--steps 20] [--episodes 1] [--sweep experiments/results/sweeps/fig3_smoke] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from experiments._benchutil import (  # noqa: E402
    RESULTS,
    TARGET_RATIO,
    load_sentence,
    markdown_table,
    write_results,
)
from experiments.bench_inference import (  # noqa: E402
    TARGET_MS,
    fieldlines_inference,
    mslim_inference,
)

TRAFFICS = ("udp_medium", "udp_high", "tcp_medium", "tcp_high")


def inference_times(sizes: list[int], repeats: int) -> list[dict[str, float]]:
    rows = []
    for n in sizes:
        fl = fieldlines_inference(n, repeats=repeats, warmup=3)
        ms = mslim_inference(n, repeats=repeats, warmup=3)
        rows.append({"num_nodes": n, "num_edges": fl["num_edges"],
                     "fieldlines_ms": fl["mean_ms"], "fieldlines_apsp_once_ms": fl["apsp_ms"],
                     "mslim_policy_ms": ms["mean_ms"], "mslim_apsp_ms": ms["apsp_mean_ms"],
                     "mslim_ms": ms["mean_ms"] + ms["apsp_mean_ms"]})
        print(f"inference n={n}: FieldLines {fl['mean_ms']:.2f} ms, M-Slim "
              f"{ms['mean_ms'] + ms['apsp_mean_ms']:.2f} ms", flush=True)
    return rows


def steps_per_hour(preset: str, traffic: str, steps: int, episodes: int) -> dict[str, Any]:
    """Env ``step`` time with fixed EIGRP next hops, excluding inference (bench_env's code)."""
    from experiments.bench_env import make_env, run_single

    env = make_env(preset, traffic, steps)
    try:
        res = run_single(env, list(range(1, episodes + 1)), steps, fresh=True)
    finally:
        env.close()
    return {"preset": preset, "traffic": traffic, "steps": res["env_steps"],
            "seconds": res["step_seconds"],
            "steps_per_hour": 3600.0 * res["env_steps"] / res["step_seconds"],
            "nodes": [e["nodes"] for e in res["episodes"]]}


def sweep_inference(sweep: Path) -> dict[tuple[str, str], tuple[float, int]]:
    """(policy, topology) -> (mean inference ms per step over episodes, episodes)."""
    out: dict[tuple[str, str], list[float]] = {}
    for trial in sorted((sweep / "trials").glob("*/trial.json")):
        policy = json.loads(trial.read_text())["policy"]
        for ep in sorted(trial.parent.glob("eval/*/episodes.csv")):
            topo = json.loads((ep.parent / "config.json").read_text())["topology"]
            with ep.open() as f:
                out.setdefault((policy, topo), []).extend(
                    float(r["inference_ms"]) for r in csv.DictReader(f))
    return {k: (float(np.mean(v)), len(v)) for k, v in out.items()}


def plot(inference: list[dict], sim_rows: list[tuple[str, str, float]], path: Path) -> Path:
    """Figure 7 style: inference ms per step over graph size (left), env steps per hour per
    preset and traffic (right)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 3.6))
    nodes = [r["num_nodes"] for r in inference]
    left.plot(nodes, [r["fieldlines_ms"] for r in inference], marker="o", label="FieldLines")
    left.plot(nodes, [r["mslim_ms"] for r in inference], marker="s",
              label="M-Slim (policy + APSP)")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("nodes")
    left.set_ylabel("inference time per step [ms]")
    left.set_title("Inference (one core)", fontsize=9)
    left.legend(fontsize=8)
    presets = list(dict.fromkeys(p for p, _, _ in sim_rows))
    width = 0.8 / len(TRAFFICS)
    for k, traffic in enumerate(TRAFFICS):
        values = [next((v for p, t, v in sim_rows if p == preset and t == traffic), np.nan)
                  for preset in presets]
        right.bar(np.arange(len(presets)) + (k - (len(TRAFFICS) - 1) / 2) * width, values,
                  width, label=traffic)
    right.set_xticks(range(len(presets)), presets)
    right.set_yscale("log")
    right.set_ylabel("env steps per hour")
    right.set_title("Simulation (excl. inference and learning; one env)", fontsize=9)
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 18, 38, 75, 175, 250])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--presets", nargs="*", default=["nx-S", "nx-M"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--episodes", type=int, default=1)
    ap.add_argument("--sweep", type=Path, default=None,
                    help="a sweep result directory whose episodes' inference times to add")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load_start = list(os.getloadavg())
    inference = inference_times(args.sizes, args.repeats)
    sim = []
    for preset in args.presets:
        for traffic in TRAFFICS:
            r = steps_per_hour(preset, traffic, args.steps, args.episodes)
            print(f"sim {preset} {traffic}: {r['steps_per_hour']:,.0f} steps/h", flush=True)
            sim.append(r)
    env_bench = json.loads((RESULTS / "bench_env.json").read_text())
    over_bench = json.loads((RESULTS / "bench_overhead.json").read_text())
    swept = sweep_inference(args.sweep) if args.sweep else {}

    load_end = list(os.getloadavg())
    body = [(f"Started {started}; load average at start {load_start}, at end {load_end}. "
             f"{load_sentence(load_start, load_end)}"), "",
            "## Inference time per step (Figure 7, left)", "",
            ("Measured now, one PyTorch thread, untrained weights (time does not depend on "
            f"them), {args.repeats} timed repetitions after 3 warm-up ones, synthetic "
            "observation on a synnet topology of that size. FieldLines: one policy pass "
            "(APSP cached per topology, its one-off cost shown apart). M-Slim: policy pass + "
            "the per-step shortest paths from its link weights. SPEC targets at 250 nodes: "
            f"FieldLines <= {TARGET_MS['FieldLines']:g} ms, M-Slim <= "
            f"{TARGET_MS['M-Slim']:g} ms."), ""]
    body.append(markdown_table(
        ["nodes", "directed edges", "FieldLines [ms]", ("FieldLines APSP once per topology "
         "[ms]"), "M-Slim policy [ms]", "M-Slim APSP [ms]", "M-Slim total [ms]"],
        [[r["num_nodes"], r["num_edges"], f"{r['fieldlines_ms']:.2f}",
          f"{r['fieldlines_apsp_once_ms']:.2f}", f"{r['mslim_policy_ms']:.2f}",
          f"{r['mslim_apsp_ms']:.2f}", f"{r['mslim_ms']:.2f}"] for r in inference]))
    if swept:
        body += ["", (f"Mean inference time per step in real evaluation episodes of "
                 f"`{args.sweep}` (`episodes.csv` column `inference_ms`; trained-model "
                 "pipeline including normalisation and frame stacking; the baselines compute "
                 "their shortest paths once per topology):"), ""]
        body.append(markdown_table(["policy", "topology", "episodes", "inference [ms/step]"],
                                   [[p, t, n, f"{ms:.3f}"] for (p, t), (ms, n)
                                    in sorted(swept.items())]))
    body += ["", "## Simulation steps per hour (Figure 7, right)", "",
             ("Env `step` wall time only (simulation + shared-memory bridge + observation; "
             "inference and learning excluded), static EIGRP routing, one env."), ""]
    measured = env_bench["params"]
    stored = [(measured["topology"], traffic,
               env_bench["throughput"][traffic]["summary"]["single"]["steps_per_hour"])
              for traffic in env_bench["throughput"]]
    rows = [[preset, traffic, f"{value:,.0f}",
             (f"bench_env.json ({env_bench['date']}; {measured['steps']}-step episodes, median "
              f"of {measured['rounds']} round(s))")] for preset, traffic, value in stored]
    for r in sim:
        rows.append([f"{r['preset']} ({'/'.join(map(str, r['nodes']))} nodes)", r["traffic"],
                     f"{r['steps_per_hour']:,.0f}",
                     (f"measured now ({r['steps']} steps: first {args.steps} steps of "
                     f"{args.episodes} episode(s); optimistic)")])
    body.append(markdown_table(["preset", "traffic", "env steps/h", "source"], rows))
    body += ["", "## Framework overhead against raw simulator mode", "",
             ("Wall time of an episode through the client (or the full Gymnasium env) divided "
             "by the same scenario simulated by the C++ core alone in raw mode with the same "
             f"fixed routing (target <= {TARGET_RATIO:.2f}). Not re-measured: the numbers of the "
             "benchmark files named."), ""]
    orow = []
    for r in over_bench["results"]:
        orow.append([r["traffic"], "client loop / raw", f"{r['median']['ratio']:.3f}",
                     ", ".join(f"{x:.3f}" for x in r["ratios"]),
                     f"bench_overhead.json ({over_bench['date']})"])
    for r in env_bench["overhead"]:
        orow.append([r["traffic"], "Gymnasium env steps / raw", f"{r['ratio']:.3f}",
                     ", ".join(f"{x:.3f}" for x in r["ratios"]),
                     f"bench_env.json ({env_bench['date']})"])
    body.append(markdown_table(["traffic", "what", "median ratio", "per repetition",
                                "source"], orow))
    sim_rows = stored + [(r["preset"], r["traffic"], r["steps_per_hour"]) for r in sim]
    args.out.mkdir(parents=True, exist_ok=True)
    plot(inference, sim_rows, args.out / "speed_report.png")
    body.append("\n![Figure 7 style: inference time and simulation speed](speed_report.png)")
    write_results("speed_report", "Speed report (paper Figure 7 style)", "\n".join(body),
                  {"started": started, "inference": inference, "simulation": sim,
                   "sweep_inference": {f"{p}|{t}": v for (p, t), v in swept.items()},
                   "sources": {"bench_env": env_bench["date"],
                               "bench_overhead": over_bench["date"]}},
                  out_dir=args.out)
    print(f"wrote {args.out / 'speed_report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
