# SPDX-License-Identifier: GPL-2.0-only
"""The PackeRL demo (``make demo`` / ``python -m experiments.demo``).

Evaluates the classic and random baselines of the paper (EIGRP, OSPF, Random (LW),
Random (NH)) on fresh nx-XS scenarios with high mixed TCP/UDP traffic, prints their metrics
relative to EIGRP (the paper's Figure 3 layout) and writes the heatmap to
``results/demo/comparison.png``. Every policy sees the same scenarios (episode i uses reset
seed 9001 + i). Re-running reuses finished episodes; delete ``results/demo`` to start over.

Run ``python -m experiments.demo --help`` for options (traffic, episodes, output directory).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from packerl.app.compare import compare, format_comparison
from packerl.app.evaluate import evaluate
from packerl.app.plots import plot_comparison
from policies.registry import names, policy_label

POLICIES = names("baseline")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.demo",
                                     description=__doc__.split("\n\n")[1])
    parser.add_argument("--topology", default="nx-XS", help="topology preset (default: nx-XS)")
    parser.add_argument("--traffic", default="mixed_high",
                        help="traffic preset (default: mixed_high)")
    parser.add_argument("--episodes", type=int, default=10,
                        help="episodes per policy (default: 10)")
    parser.add_argument("--episode-steps", type=int, default=100,
                        help="steps per episode (default: 100 = 500 ms)")
    parser.add_argument("--seed", type=int, default=9001, help="base seed (default: 9001)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: number of CPUs)")
    parser.add_argument("--out", default="results/demo",
                        help="output directory (default: results/demo)")
    args = parser.parse_args(argv)

    out = Path(args.out)
    print(f"PackeRL demo: {', '.join(policy_label(p) for p in POLICIES)} on {args.topology} / "
          f"{args.traffic}, {args.episodes} episodes x {args.episode_steps} steps "
          f"(5 ms each), reset seeds {args.seed}..{args.seed + args.episodes - 1}; "
          f"results in {out}/", flush=True)
    started = time.perf_counter()
    try:
        runs = [evaluate(p, args.topology, args.traffic, args.episodes, args.seed, out,
                         episode_steps=args.episode_steps, workers=args.workers)
                for p in POLICIES]
    except ValueError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished episodes are kept; run the demo again to resume",
              file=sys.stderr)
        return 130
    comparisons = compare(runs, reference="eigrp")
    print()
    for comp in comparisons:
        print(format_comparison(comp))
    png = plot_comparison(comparisons, out / "comparison.png")
    print(f"\nheatmap: {png}")
    print(f"compare again with: packerl compare {out}/ --reference eigrp")
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
