# SPDX-License-Identifier: GPL-2.0-only
"""Evaluate a reference policy (EIGRP by default) on exactly the episodes of training runs'
periodic evaluation, so that their learning curves can be read against it.

Writes ``<run>/reference/<policy>__...`` (:func:`packerl.app.training.evaluate_reference`,
resumable); ``packerl report`` then draws the reference as a dashed line on the learning
curves.

Usage::

    python experiments/eval_reference.py experiments/results/sweeps/repro_train/trials/*/train/*
        [--policy eigrp]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from packerl.app.results import load_episodes
from packerl.app.training import evaluate_reference


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="training run directories")
    parser.add_argument("--policy", default="eigrp", help="reference policy (default: eigrp)")
    args = parser.parse_args(argv)
    missing = [str(r) for r in args.runs if not (r / "config.json").is_file()]
    if missing:
        parser.error(f"not a training run directory (no config.json): {', '.join(missing)}")
    for run in args.runs:
        ref = evaluate_reference(run, args.policy)
        rows = load_episodes(ref)
        mean = sum(r["total_goodput_mb"] for r in rows) / len(rows)
        print(f"{run}: {args.policy} {mean:.2f} MB mean goodput over {len(rows)} episodes "
              f"(seeds {rows[0]['seed']}..{rows[-1]['seed']}) -> {ref}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
