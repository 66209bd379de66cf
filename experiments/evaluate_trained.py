# SPDX-License-Identifier: GPL-2.0-only
"""Evaluate trained FieldLines / M-Slim models against EIGRP on nx-XS (issue 5's table).

For every traffic setting in {udp, tcp} x {medium, high, very_high} it runs EIGRP and each
given trained model on the same episode seeds with ``packerl.app.evaluate.evaluate`` and writes
the comparison relative to EIGRP (text tables and a heatmap, as ``packerl compare`` does) to
``experiments/results/trained_eval/``. Runs are resumable: re-running skips finished episodes.

Usage:
    python experiments/evaluate_trained.py RUN_DIR [RUN_DIR ...] [--episodes 100] [--seed 9001]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from experiments._benchutil import RESULTS, write_results  # noqa: E402

TRAFFIC = [f"{p}_{lvl}" for p in ("udp", "tcp") for lvl in ("medium", "high", "very_high")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="training run directories (or model .zip files)")
    parser.add_argument("--episodes", type=int, default=100, help="episodes per setting")
    parser.add_argument("--episode-steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=9001)
    parser.add_argument("--topology", default="nx-XS")
    parser.add_argument("--traffic", nargs="*", default=TRAFFIC)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", default=str(RESULTS / "trained_eval"))
    args = parser.parse_args(argv)

    from packerl.app.compare import compare, format_comparison
    from packerl.app.evaluate import evaluate
    from packerl.app.plots import plot_comparison

    out = Path(args.out)
    started = time.monotonic()
    for traffic in args.traffic:
        for policy in ["eigrp", *args.runs]:
            print(f"== {policy} on {args.topology} / {traffic}", flush=True)
            evaluate(policy, args.topology, traffic, args.episodes, args.seed, out / "runs",
                     episode_steps=args.episode_steps, workers=args.workers)
    comparisons = compare([out / "runs"], reference="eigrp")
    tables = "\n\n".join("```\n" + format_comparison(c) + "\n```" for c in comparisons)
    png = plot_comparison(comparisons, out / "comparison.png")
    body = (f"Models: {', '.join(f'`{r}`' for r in args.runs)}; {args.episodes} episodes x "
            f"{args.episode_steps} steps per setting on {args.topology}, reset seeds "
            f"{args.seed}..{args.seed + args.episodes - 1} (the same for every policy). "
            f"Wall time {time.monotonic() - started:.0f} s. Heatmap: `{png.name}`.\n\n{tables}")
    md, _ = write_results("trained_eval", "Trained policies vs EIGRP", body,
                          {"runs": args.runs, "episodes": args.episodes}, out_dir=out)
    print(md.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
