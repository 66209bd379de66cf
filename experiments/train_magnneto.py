# SPDX-License-Identifier: GPL-2.0-only
"""Train MAGNNETO in the fluid model on NSFNet + GEANT2 (resumable) and report its learning
curve (:func:`policies.magnneto.train`).

Re-running the same command resumes from the run directory's checkpoint until ``--episodes``
are done. The report (``<run_dir>/curve.md`` and, unless ``--no-write``,
``experiments/results/<--results-name>.json/.md``, default ``train_magnneto``) gives, per
block of episodes and per topology, the mean maximum LU of the initial random weights, of the
final weights and the lowest reached, and the mean return (total MLU reduction); per fifth of
the run, the mean relative reduction (return / initial MLU), the first sign of learning across
matrices; with several episodes per matrix, how often a matrix's last episodes beat its first
(learning within a matrix); and the machine load.

Usage::

    python experiments/train_magnneto.py --run-dir experiments/runs/magnneto_seed0 \\
        --episodes 1000 [--seed 0] [--traffic mixed_medium] [--block 10]

    # the original MAGNNETO-TE's schedule: 50 consecutive episodes on each of 50 TMs
    python experiments/train_magnneto.py --run-dir experiments/runs/magnneto_tm50_seed0 \
        --episodes 2500 --episodes-per-tm 50 --block 50 --results-name train_magnneto_tm50
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from experiments._benchutil import (
    cpu_snapshot,
    load_sentence,
    markdown_table,
    other_work_sentence,
    write_results,
)
from policies.magnneto import train


def curve_table(curve: list[dict], block: int) -> str:
    """The learning curve in blocks of ``block`` episodes, per topology."""
    rows = []
    for start in range(0, len(curve), block):
        part = curve[start:start + block]
        for topo in sorted({r["topology"] for r in part}):
            rs = [r for r in part if r["topology"] == topo]
            rows.append([f"{start}..{start + len(part) - 1}", topo, len(rs),
                         f"{np.mean([r['initial_mlu'] for r in rs]):.3f}",
                         f"{np.mean([r['final_mlu'] for r in rs]):.3f}",
                         f"{np.mean([r['min_mlu'] for r in rs]):.3f}",
                         f"{np.mean([r['return'] for r in rs]):+.3f}",
                         f"{np.mean([r['entropy'] for r in rs]):.3f}"])
    return markdown_table(["episodes", "topology", "n", "initial MLU", "final MLU", "min MLU",
                           "return", "entropy"], rows)


def relative_reduction(row: dict) -> float:
    """An episode's return as a share of its random start's MLU."""
    return row["return"] / row["initial_mlu"]


def progress_table(curve: list[dict], parts: int = 5) -> str:
    """Mean, min and max relative reduction per ``parts``-th of the run, and entropy per topology."""
    topologies = sorted({r["topology"] for r in curve})
    rows = []
    for part in np.array_split(np.arange(len(curve)), parts):
        rs = [curve[i] for i in part]
        if not rs:
            continue
        reduction = [relative_reduction(r) for r in rs]
        rows.append([f"{part[0]}..{part[-1]}", f"{100 * np.mean(reduction):.1f}%",
                     f"{100 * np.min(reduction):.1f}%", f"{100 * np.max(reduction):.1f}%",
                     *(f"{np.mean([r['entropy'] for r in rs if r['topology'] == t]):.3f}"
                       if any(r["topology"] == t for r in rs) else "-" for t in topologies)])
    return markdown_table(["episodes", "mean MLU reduction", "min", "max",
                           *(f"entropy {t}" for t in topologies)], rows)


def within_tm_sentence(curve: list[dict], episodes_per_tm: int, first: int = 10) -> str:
    """How many matrices' last ``first`` episodes reduce the MLU more than their first ones."""
    if episodes_per_tm < 2 * first:
        return ""
    blocks = [curve[i:i + episodes_per_tm]
              for i in range(0, len(curve) - episodes_per_tm + 1, episodes_per_tm)]
    gains = [np.mean([relative_reduction(r) for r in b[-first:]])
             - np.mean([relative_reduction(r) for r in b[:first]]) for b in blocks]
    return (f"Within a matrix: its last {first} episodes reduce the MLU more than its first "
            f"{first} in {sum(g > 0 for g in gains)} of {len(blocks)} matrices (mean "
            f"difference {100 * np.mean(gains):+.1f} points).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--episodes", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--traffic", default="mixed_medium")
    parser.add_argument("--topologies", nargs="+", default=["nsfnet", "geant2"])
    parser.add_argument("--episodes-per-tm", type=int, default=1,
                        help="consecutive episodes on one traffic matrix (the original: 50)")
    parser.add_argument("--checkpoint-every", type=int, default=5)
    parser.add_argument("--block", type=int, default=10, help="episodes per curve row")
    parser.add_argument("--results-name", default="train_magnneto",
                        help="experiments/results/<name>.json/.md to write")
    parser.add_argument("--no-write", action="store_true",
                        help="do not write experiments/results/train_magnneto.*")
    args = parser.parse_args(argv)
    if args.episodes_per_tm < 1:
        parser.error(f"--episodes-per-tm must be at least 1, got {args.episodes_per_tm}")
    load_start, cpu_start = list(os.getloadavg()), cpu_snapshot()
    t0 = time.perf_counter()
    curve = train(args.run_dir, args.episodes, topologies=args.topologies,
                  traffic=args.traffic, seed=args.seed, checkpoint_every=args.checkpoint_every,
                  episodes_per_tm=args.episodes_per_tm)
    seconds = time.perf_counter() - t0
    load_end, cpu_end = list(os.getloadavg()), cpu_snapshot()
    body = "\n\n".join([
        f"Run directory `{args.run_dir}`, seed {args.seed}, topologies "
        f"{', '.join(args.topologies)}, TMs: mean per-step sent bytes of "
        f"`{args.traffic}` scenarios (fluid model, EIGRP), {args.episodes_per_tm} "
        f"consecutive episode(s) per TM; {len(curve)} episodes done "
        f"({seconds:.0f} s in this invocation, one "
        "torch thread). MLU = maximum link utilisation of the episode's TM in the fluid "
        "model (no capacity limit); return = initial - final MLU.",
        curve_table(curve, args.block),
        "Per fifth of the run: mean relative MLU reduction (return / initial MLU) per "
        "episode, its min and max, and the policy's mean entropy per topology.",
        progress_table(curve),
        *filter(None, [within_tm_sentence(curve, args.episodes_per_tm)]),
        load_sentence(load_start, load_end) + " " + other_work_sentence(cpu_start, cpu_end),
    ])
    (args.run_dir / "curve.md").write_text("# MAGNNETO learning curve\n\n" + body + "\n")
    print(body)
    if not args.no_write:
        write_results(args.results_name, "MAGNNETO trained in the fluid model: learning curve",
                      body, {"run_dir": str(args.run_dir), "seed": args.seed,
                             "episodes": len(curve), "curve": curve,
                             "seconds_this_invocation": seconds, "load_start": load_start,
                             "load_end": load_end})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
