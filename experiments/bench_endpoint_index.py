# SPDX-License-Identifier: GPL-2.0-only
"""Benchmark the simulator's endpoint and socket indexes (``cpp/sim/endpoint-index.cc``,
``cpp/sim/tcp-socket-index.cc``) against ns-3's linear scans: simulator CPU seconds per
episode, and the episode totals of both.

The same ``packerl-sim`` runs every episode twice in raw mode (``packerl.sim.run_raw_episode``:
no Python in the loop), once with ``PACKERL_DEMUX_INDEX=0`` (ns-3's full scans of a node's
endpoints per arriving packet and per allocation, and of its TCP sockets per added or removed
socket) and once with the indexes, interleaved per repetition so that the machine's load hits
both alike. Scenarios: nx-XS, EIGRP next hops, 100 steps of 5 ms, one seed per traffic preset
(``flex`` is the training preset of FieldLines and M-Slim). CPU seconds (not wall) are compared: on a shared machine they are
what the simulator itself spent. The totals (bytes, packets, drops, events) must be equal.

Usage::

    python experiments/bench_endpoint_index.py [--reps 2] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import synnet
from experiments._benchutil import (
    cpu_snapshot,
    eigrp_next_hops,
    load_sentence,
    markdown_table,
    other_work_sentence,
    run_raw,
    write_results,
)
from packerl.sim import write_raw_episode

#: (traffic preset, scenario seed) of the benchmarked episodes
SCENARIOS = (("udp_high", 5), ("mixed_high", 3), ("tcp_high", 1), ("tcp_high", 2),
             ("tcp_very_high", 4), ("flex", 6), ("flex", 7))
FLAG = "PACKERL_DEMUX_INDEX"


def _run(path: Path, index: bool) -> dict[str, Any]:
    old = os.environ.get(FLAG)
    os.environ[FLAG] = "1" if index else "0"
    try:
        return run_raw(path)
    finally:
        if old is None:
            os.environ.pop(FLAG, None)
        else:
            os.environ[FLAG] = old


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2, help="repetitions (default: 2)")
    parser.add_argument("--no-write", action="store_true", help="do not write result files")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be >= 1")
    tmp = Path(tempfile.mkdtemp(prefix="bench_endpoint_index-"))
    files = []
    for traffic, seed in SCENARIOS:
        sc = synnet.generate(topology="nx-XS", traffic=traffic, steps=100, step_ms=5.0,
                             seed=seed)
        path = tmp / f"{traffic}_seed{seed}.raw"
        write_raw_episode(path, sc.topology, eigrp_next_hops(sc.topology), sc.demands,
                          sc.failures, steps=100, params={"step_ms": sc.step_ms}, seed=seed)
        files.append((traffic, seed, path))
    load_start, cpu_start = list(os.getloadavg()), cpu_snapshot()
    runs: dict[tuple[str, int], dict[str, list]] = {}
    for rep in range(args.reps):
        for traffic, seed, path in files:
            for index in (False, True):
                r = _run(path, index)
                entry = runs.setdefault((traffic, seed), {"scan": [], "index": []})
                entry["index" if index else "scan"].append(r)
                print(f"rep {rep + 1}/{args.reps} {traffic} seed {seed} "
                      f"{'index' if index else 'scan '}: {r['process_cpu_seconds']:.2f} s CPU",
                      flush=True)
    load_end, cpu_end = list(os.getloadavg()), cpu_snapshot()
    rows, data, scan_total, index_total = [], [], 0.0, 0.0
    for (traffic, seed), entry in runs.items():
        scan = [r["process_cpu_seconds"] for r in entry["scan"]]
        index = [r["process_cpu_seconds"] for r in entry["index"]]
        equal = all(a["totals"] == b["totals"] for a, b in zip(entry["scan"], entry["index"]))
        scan_total += sum(scan)
        index_total += sum(index)
        ms, mi = statistics.median(scan), statistics.median(index)
        rows.append([traffic, seed, f"{ms:.2f}", f"{mi:.2f}", f"{ms / mi:.2f}x",
                     "yes" if equal else "NO"])
        data.append({"traffic": traffic, "seed": seed, "scan_cpu_s": scan, "index_cpu_s": index,
                     "totals_equal": equal, "events": entry["scan"][0]["totals"]["events"]})
    body = (f"nx-XS, EIGRP next hops, 100 steps x 5 ms, raw mode, {args.reps} repetition(s) "
            "interleaved; simulator CPU seconds per episode (median over repetitions), ns-3's "
            f"linear endpoint and socket scans ({FLAG}=0) vs the indexes.\n\n"
            + markdown_table(["traffic", "seed", "scan CPU [s]", "index CPU [s]", "ratio",
                              "totals equal"], rows)
            + f"\n\nAll episodes: {scan_total:.1f} s vs {index_total:.1f} s CPU, "
              f"{scan_total / index_total:.2f}x.\n\n"
            + load_sentence(load_start, load_end) + " "
            + other_work_sentence(cpu_start, cpu_end))
    print(body)
    if not args.no_write:
        write_results("bench_endpoint_index", "Simulator endpoint and socket indexes vs ns-3's linear scans",
                      body, {"scenarios": data, "load_average": [load_start, load_end]})
    return 0 if all(d["totals_equal"] for d in data) else 1


if __name__ == "__main__":
    raise SystemExit(main())
