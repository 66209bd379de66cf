# SPDX-License-Identifier: GPL-2.0-only
"""Inference time per step of FieldLines, M-Slim and EIGRP on nx-XS ... nx-XL sizes.

Targets (SPEC): FieldLines <= 10 ms and M-Slim <= 100 ms at 250 nodes on one CPU core.
FieldLines: observation -> next-hop action (its APSP is cached per topology and reported
apart). M-Slim: observation -> link weights, plus the environment's weights -> next hops
(SciPy Dijkstra), which it needs every step. EIGRP: weights -> next hops once per topology.
Untrained policies: inference cost does not depend on the weights' values.

Usage: python experiments/bench_inference.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from experiments._benchutil import markdown_table, write_results  # noqa: E402

SIZES = {"nx-XS": 10, "nx-S": 25, "nx-M": 50, "nx-L": 100, "nx-XL": 250}


def eigrp_ms(num_nodes: int, repeats: int) -> float:
    """Median time of EIGRP's weights -> next hops on the FieldLines benchmark topology."""
    from packerl.routing import eigrp_weights, next_hops_from_weights
    from policies.fieldlines import benchmark_observation

    obs = benchmark_observation(num_nodes, 0)
    slots = np.flatnonzero(obs["edge_mask"])
    w = eigrp_weights(obs["link_props"][slots, 0], obs["link_props"][slots, 1])
    ei = obs["edge_index"][:, slots]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        next_hops_from_weights(num_nodes, ei, w)
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from policies import fieldlines, mslim

    repeats = 10 if args.quick else 50
    load_start = os.getloadavg()
    rows = []
    for preset, n in SIZES.items():
        fl = fieldlines.benchmark_inference(n, repeats=repeats)
        ms = mslim.benchmark_inference(n, repeats=repeats)
        rows.append({
            "preset": preset, "nodes": n, "directed edges": fl["num_edges"],
            "FieldLines mean [ms]": round(fl["mean_ms"], 2),
            "FieldLines p95 [ms]": round(fl["p95_ms"], 2),
            "FieldLines APSP once [ms]": round(fl["apsp_ms"], 2),
            "M-Slim policy mean [ms]": round(ms["mean_ms"], 2),
            "M-Slim policy p95 [ms]": round(ms["p95_ms"], 2),
            "M-Slim + Dijkstra mean [ms]": round(ms["mean_ms"] + ms["apsp_mean_ms"], 2),
            "EIGRP table [ms]": round(eigrp_ms(n, repeats), 2),
        })
        print(rows[-1], flush=True)
    last = rows[-1]
    header = list(rows[0])
    body = "\n".join([
        f"Load average at start {load_start}, at end {os.getloadavg()} (2 cores; a busy "
        "machine inflates these numbers).", "",
        "Synthetic topologies of each preset's largest size "
        "(`policies.fieldlines.benchmark_observation`, `policies.mslim.synthetic_observation`); "
        f"{repeats} timed repetitions after warm-up; untrained weights; one PyTorch thread.", "",
        markdown_table(header, [[r[h] for h in header] for r in rows]), "",
        f"Targets at 250 nodes: FieldLines <= 10 ms (measured mean {last['FieldLines mean [ms]']}"
        f" ms); M-Slim <= 100 ms (measured policy + Dijkstra "
        f"{last['M-Slim + Dijkstra mean [ms]']} ms).",
    ])
    md, _ = write_results("bench_inference", "Inference time per step", body,
                          {"rows": rows, "repeats": repeats})
    text = md.read_text()
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
