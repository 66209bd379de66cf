# SPDX-License-Identifier: GPL-2.0-only
"""This project's simulation against the PackeRL paper's original code, on the original's own
scenarios (``experiments/fidelity/``: ten nx-XS-like episodes exported to synnet files, with
the metrics the original measured on them with its EIGRP, ``original_metrics.csv``).

Every scenario is replayed with the paper's EIGRP weighting (``eigrp_paper``, as the original
routes) and, for reference, with the classic one (``eigrp``); the episode totals are compared
with the original's (ratio = this project / original). Metrics as the paper defines them:
drop ratio = dropped / (dropped + received) bytes over the episode, average delay = mean
delay of the delivered packets. Known definition differences: retransmitted bytes include
IP/TCP headers here and only TCP payload in the original; max LU is the mean over steps of
the step's largest link utilisation here.

Run: ``.venv/bin/python experiments/fidelity.py`` (about a minute; results in
``experiments/results/fidelity.{md,json}``).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import packerl  # noqa: E402,F401 - registers the environments
from experiments._benchutil import load_sentence, markdown_table, write_results  # noqa: E402
from policies.factory import make_policy  # noqa: E402

DATA = Path(__file__).resolve().parent / "fidelity"
#: (our episode total, the original's column, label)
COMPARED = (
    ("received_mb", "orig_received_mb", "received MB"),
    ("sent_mb", "orig_sent_mb", "sent MB"),
    ("dropped_mb", "orig_dropped_mb", "dropped MB"),
    ("drop_ratio", "orig_drop_ratio", "drop ratio"),
    ("avg_delay_ms", "orig_avg_delay_ms", "avg delay ms"),
    ("max_link_util", "orig_max_lu", "max LU"),
    ("retransmitted_mb", "orig_retx_mb", "retransmitted MB"),
)


def replay(scenario: Path, policy: str) -> dict[str, float]:
    """Episode totals of one scenario file routed by ``policy``."""
    env = gym.make(packerl.ENV_ID, scenario=str(scenario))
    try:
        pol = make_policy(policy, env, seed=0)
        obs, _ = env.reset(seed=0)
        pol.reset()
        steps, done = [], False
        while not done:
            obs, _, terminated, truncated, info = env.step(pol.act(obs))
            steps.append(info["metrics"])
            done = terminated or truncated
        summary = info["episode_metrics"]
    finally:
        env.close()
    return {"received_mb": summary["total_goodput_mb"],
            "sent_mb": float(sum(m["sent_mb"] for m in steps)),
            "dropped_mb": float(sum(m["dropped_mb"] for m in steps)),
            "drop_ratio": summary["drop_ratio"], "avg_delay_ms": summary["avg_delay_ms"],
            "max_link_util": summary["max_link_util"],
            "retransmitted_mb": float(sum(m["retransmitted_mb"] for m in steps))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", nargs="+", default=["eigrp_paper", "eigrp"])
    parser.add_argument("--out", type=Path, default=None, help="results directory")
    args = parser.parse_args(argv)
    original = list(csv.DictReader((DATA / "original_metrics.csv").open()))
    load_start, t0 = list(os.getloadavg()), time.perf_counter()
    rows, data = [], {"episodes": []}
    for rec in tqdm(original, desc="fidelity", unit="scenario"):
        path = DATA / f"{rec['preset']}_s{rec['seed']}.npz"
        for policy in args.policies:
            ours = replay(path, policy)
            ratios = {k: ours[k] / float(rec[o]) if float(rec[o]) else float("nan")
                      for k, o, _ in COMPARED}
            data["episodes"].append({"scenario": path.name, "policy": policy, "ours": ours,
                                     "original": {o: float(rec[o]) for _, o, _ in COMPARED},
                                     "ratio": ratios})
    body = [load_sentence(load_start, list(os.getloadavg())),
            f"Wall time {time.perf_counter() - t0:.0f} s.", "",
            "Median ratio this project / original over the 5 scenarios of each preset "
            "(min..max in parentheses):", ""]
    for policy in args.policies:
        for preset in sorted({r["preset"] for r in original}):
            eps = [e for e in data["episodes"] if e["policy"] == policy
                   and e["scenario"].startswith(preset)]
            cells = []
            for k, _, _ in COMPARED:
                v = np.array([e["ratio"][k] for e in eps], np.float64)
                v = v[np.isfinite(v)]
                cells.append(f"{np.median(v):.3f} ({v.min():.3f}..{v.max():.3f})" if len(v)
                             else "n/a")
            rows.append([policy, preset, *cells])
    body.append(markdown_table(["routing", "scenarios", *(label for *_, label in COMPARED)],
                               rows))
    md, _ = write_results("fidelity", "Fidelity: this project vs the original code",
                          "\n".join(body), data, args.out)
    print(md.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
