# SPDX-License-Identifier: GPL-2.0-only
"""Benchmark the shared-memory bridge: ping round trips and empty steps.

* ``ping``: one command that simulates nothing; measures the pure client <-> simulator
  round trip (Python call, semaphore post, simulator wake-up, answer, Python wake-up).
* ``empty step``: ``sim.step()`` with no demands, no failures and unchanged routing, i.e.
  simulating an empty 5 ms step and reading the full state back: the minimum cost of an
  environment step.
* ``multi``: 1, 2 and 4 simulator instances alive in one process, pinged round robin
  (configurations interleaved in rounds to spread machine drift evenly).

Every call is timed with ``time.perf_counter_ns``. Target: median ping <= 50 us.

Usage::

    python experiments/bench_bridge.py [--quick] [--pings 20000] [--steps 5000]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from _benchutil import markdown_table, percentile, write_results  # noqa: E402

from packerl.sim import Simulator  # noqa: E402

TARGET_PING_US = 50.0

# A 2-node topology: 10 Mbit/s, 1 ms.
TWO_NODES = {
    "num_nodes": 2,
    "edges": np.array([[0, 1]]),
    "datarate_bps": np.array([1e7]),
    "delay_ms": np.array([1.0]),
}
TWO_NODE_HOPS = np.array([[-1, 1], [0, -1]])


def stats_us(ns: list[int] | np.ndarray) -> dict[str, float]:
    a = np.asarray(ns, dtype=np.float64) / 1e3
    return {
        "n": int(a.size),
        "median_us": float(np.median(a)),
        "p90_us": percentile(a, 90),
        "p99_us": percentile(a, 99),
        "mean_us": float(a.mean()),
        "min_us": float(a.min()),
        "max_us": float(a.max()),
    }


def time_pings(sims: list[Simulator], n: int) -> np.ndarray:
    """n pings, round robin over sims; returns per-call ns."""
    out = np.empty(n, dtype=np.int64)
    k = len(sims)
    clock = time.perf_counter_ns
    for i in range(n):
        sim = sims[i % k]
        t0 = clock()
        sim.ping()
        out[i] = clock() - t0
    return out


def time_empty_steps(sim: Simulator, n: int) -> np.ndarray:
    out = np.empty(n, dtype=np.int64)
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        sim.step()
        out[i] = clock() - t0
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small counts for a smoke run")
    ap.add_argument("--pings", type=int, default=None, help="pings (default 20000, quick 2000)")
    ap.add_argument("--steps", type=int, default=None,
                    help="empty steps (default 5000, quick 500)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="interleaved rounds of the multi-instance test (default 10, quick 4)")
    ap.add_argument("--no-write", action="store_true", help="do not write result files")
    args = ap.parse_args()
    n_ping = args.pings or (2000 if args.quick else 20000)
    n_step = args.steps or (500 if args.quick else 5000)
    rounds = args.rounds or (4 if args.quick else 10)
    warm = min(200, n_ping // 10)
    gc_was = gc.isenabled()
    gc.disable()  # no collector pauses inside the timed loops

    results: dict = {"params": {"pings": n_ping, "steps": n_step, "rounds": rounds,
                                "warmup": warm, "topology": "2 nodes, 10 Mbit/s, 1 ms",
                                "step_ms": 5.0}}

    # ---- single instance: ping and empty step, alternating blocks
    with Simulator() as sim:
        sim.reset(TWO_NODES, seed=1)
        sim.step(TWO_NODE_HOPS)  # install routing once; later steps keep it
        time_pings([sim], warm)
        time_empty_steps(sim, warm)
        pings, steps = [], []
        blocks = 4
        for b in range(blocks):
            pings.append(time_pings([sim], n_ping // blocks))
            steps.append(time_empty_steps(sim, n_step // blocks))
        state = sim.step()
        results["single_ping"] = stats_us(np.concatenate(pings))
        results["empty_step"] = stats_us(np.concatenate(steps))
        results["empty_step"]["events_in_last_step"] = state.g("events")
        results["empty_step"]["sim_time_ms_at_end"] = state.time_ms

    # ---- several instances alive in one process, round-robin pings
    counts = [1, 2, 4]
    sims = [Simulator() for _ in range(max(counts))]
    try:
        for i, s in enumerate(sims):
            s.reset(TWO_NODES, seed=i)
        pids = [s.pid for s in sims]
        assert len(set(pids)) == len(sims), pids
        time_pings(sims, warm)
        per = {k: [] for k in counts}
        block = max(1, n_ping // rounds)
        for _ in range(rounds):
            for k in counts:
                per[k].append(time_pings(sims[:k], block))
        alive = all(s.running for s in sims)
    finally:
        for s in sims:
            s.close()
    results["multi"] = {str(k): stats_us(np.concatenate(v)) for k, v in per.items()}
    results["multi_all_alive_at_end"] = alive
    if gc_was:
        gc.enable()

    # ---- report
    sp, es = results["single_ping"], results["empty_step"]
    ok = sp["median_us"] <= TARGET_PING_US
    results["target_median_ping_us"] = TARGET_PING_US
    results["target_met"] = ok
    head = ["measurement", "calls", "median [us]", "p90 [us]", "p99 [us]", "mean [us]",
            "max [us]"]

    def row(label, s):
        return [label, s["n"], f"{s['median_us']:.1f}", f"{s['p90_us']:.1f}",
                f"{s['p99_us']:.1f}", f"{s['mean_us']:.1f}", f"{s['max_us']:.0f}"]

    rows = [row("ping, 1 instance", sp), row("empty 5 ms step, 1 instance", es)]
    for k in counts:
        rows.append(row(f"ping, round robin over {k} of {max(counts)} alive instances",
                        results["multi"][str(k)]))
    table = markdown_table(head, rows)
    verdict = (f"Target median ping <= {TARGET_PING_US:.0f} us: "
               f"{'MET' if ok else 'NOT MET'} ({sp['median_us']:.1f} us).")
    print(table)
    print()
    print(verdict)
    print(f"all {max(counts)} instances alive at the end: {alive}")
    body = (
        "Bridge round trip between the Python client and the ns-3 simulator process "
        "(2-node topology). `ping` simulates nothing; the empty step simulates 5 ms with no "
        "traffic and unchanged routing and copies the full state back (minimum env-step "
        "cost). In the multi-instance rows all 4 simulators are alive; the rows ping the "
        "first k round robin, configurations interleaved in "
        f"{rounds} rounds. Garbage collection disabled during timing.\n\n"
        f"{table}\n\n{verdict}\n\n"
        f"All {max(counts)} instances still alive after the multi-instance test: {alive}.\n"
    )
    if not args.no_write:
        md, js = write_results("bench_bridge", "Bridge round-trip benchmark", body, results)
        print(f"wrote {md} and {js}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
