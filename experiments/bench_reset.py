# SPDX-License-Identifier: GPL-2.0-only
"""Benchmark episode resets and peak memory per topology size.

For every preset (nx-XS ... nx-XL, one fixed-seed synnet scenario each):

* ``reset`` time: ``Simulator.reset`` = validation, spawning a fresh ``packerl-sim`` process
  and installing the topology, until S0 is back. The previous episode is closed first with
  ``close()`` (timed separately), so the reset column is the new-episode cost alone. The
  first reset of a ``Simulator`` (which also allocates the shared-memory segment) is
  reported separately. Presets are interleaved in rounds; medians are reported.
* memory: peak resident set of the simulator process (``VmHWM`` from
  ``/proc/<pid>/status``, read just before ``close``) right after reset and after
  ``--mem-steps`` steps of ``tcp_high`` traffic with EIGRP next hops, and the Python
  process's peak (``ru_maxrss``; monotonic over the whole run, so it is the peak up to
  and including that row) and current RSS.
* additionally the full 100-step nx-XS ``tcp_high`` episode.
* breakdown: a 1-step, no-traffic raw-mode run per preset (``packerl-sim --raw``) reports
  the simulator's own topology-installation time (``setup_seconds``) and the wall time of
  the whole process (start, ns-3 library loading, setup, 1 step, exit), timed in the same
  rounds.

Usage::

    python experiments/bench_reset.py [--quick] [--resets 5] [--mem-steps 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from _benchutil import (  # noqa: E402
    eigrp_next_hops,
    markdown_table,
    proc_status_kib,
    write_results,
)

import synnet  # noqa: E402
from packerl.sim import Simulator, run_raw_episode, write_raw_episode  # noqa: E402

PRESETS = ["nx-XS", "nx-S", "nx-M", "nx-L", "nx-XL"]


def python_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def python_rss_mib() -> float:
    v = proc_status_kib("self", "VmRSS")
    return v / 1024.0 if v is not None else float("nan")


def mib(kib: int | None) -> float:
    return kib / 1024.0 if kib is not None else float("nan")


def memory_run(sc: synnet.Scenario, steps: int, seed: int, log, label: str) -> dict:
    hops = eigrp_next_hops(sc.topology)
    sim = Simulator()
    try:
        sim.reset(sc.topology, params={"step_ms": sc.step_ms}, seed=seed)
        pid = sim.pid
        after_reset = proc_status_kib(pid, "VmHWM")
        events = 0.0
        demands = 0
        t0 = time.perf_counter()
        try:
            from tqdm import tqdm
            it = tqdm(range(steps), desc=label, leave=False, file=sys.stderr)
        except ImportError:  # pragma: no cover
            it = range(steps)
        for t in it:
            d = sc.step_demands(t)
            demands += len(d)
            state = sim.step(hops if t == 0 else None, d, sc.step_failures(t))
            events += state.g("events")
        wall = time.perf_counter() - t0
        hwm = proc_status_kib(pid, "VmHWM")
        rss = proc_status_kib(pid, "VmRSS")
    finally:
        sim.close()
    log(f"  {label}: {steps} steps in {wall:.1f} s, sim peak {mib(hwm):.1f} MiB")
    return {
        "steps": steps,
        "demands_sent": demands,
        "events": events,
        "step_loop_seconds": wall,
        "sim_vmhwm_after_reset_mib": mib(after_reset),
        "sim_vmhwm_mib": mib(hwm),
        "sim_vmrss_mib": mib(rss),
        "python_peak_mib": python_peak_mib(),
        "python_rss_mib": python_rss_mib(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 2 resets, 5 memory steps, no full episode")
    ap.add_argument("--resets", type=int, default=None, help="resets per preset (default 7)")
    ap.add_argument("--mem-steps", type=int, default=None,
                    help="tcp_high steps before reading the simulator's peak (default 20)")
    ap.add_argument("--full-steps", type=int, default=None,
                    help="steps of the full nx-XS episode (default 100; quick: skipped)")
    ap.add_argument("--presets", nargs="+", default=PRESETS)
    ap.add_argument("--scenario-seed", type=int, default=3)
    ap.add_argument("--sim-seed", type=int, default=7)
    ap.add_argument("--no-write", action="store_true", help="do not write result files")
    args = ap.parse_args()
    resets = args.resets or (2 if args.quick else 7)
    mem_steps = args.mem_steps or (5 if args.quick else 20)
    full_steps = args.full_steps if args.full_steps is not None else (0 if args.quick else 100)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    scen = {p: synnet.generate(topology=p, traffic="tcp_high", link_failures=None,
                               steps=100, step_ms=5.0, seed=args.scenario_seed)
            for p in args.presets}

    # ---- raw 1-step episodes for the setup breakdown
    tmp = Path(tempfile.mkdtemp(prefix="bench_reset-"))
    raw_files = {}
    for p in args.presets:
        t = scen[p].topology
        raw_files[p] = write_raw_episode(tmp / f"{p}.raw", t, eigrp_next_hops(t), None,
                                         steps=1, seed=args.sim_seed)
    raw_setup = {p: [] for p in args.presets}
    raw_wall = {p: [] for p in args.presets}

    # ---- reset timing, presets interleaved in rounds
    sims = {p: Simulator() for p in args.presets}
    first, reset_s, close_s = {}, {p: [] for p in args.presets}, {p: [] for p in args.presets}
    clock = time.perf_counter
    try:
        for p in args.presets:
            t0 = clock()
            sims[p].reset(scen[p].topology, seed=args.sim_seed)
            first[p] = clock() - t0
        for r in range(resets):
            log(f"reset round {r + 1}/{resets}")
            for p in args.presets:
                sim = sims[p]
                t0 = clock()
                sim.close()
                t1 = clock()
                sim.reset(scen[p].topology, seed=args.sim_seed)
                t2 = clock()
                close_s[p].append(t1 - t0)
                reset_s[p].append(t2 - t1)
                t0 = clock()
                res = run_raw_episode(raw_files[p])
                raw_wall[p].append(clock() - t0)
                raw_setup[p].append(float(res["setup_seconds"]))
    finally:
        for s in sims.values():
            s.close()
        for f in raw_files.values():
            f.unlink(missing_ok=True)
        tmp.rmdir()

    # ---- memory
    mem = {}
    for p in args.presets:
        mem[p] = memory_run(scen[p], mem_steps, args.sim_seed, log, f"{p} {mem_steps} steps")
    full = None
    if full_steps:
        sc = synnet.generate(topology="nx-XS", traffic="tcp_high", link_failures=None,
                             steps=full_steps, step_ms=5.0, seed=args.scenario_seed)
        full = memory_run(sc, full_steps, args.sim_seed, log, f"nx-XS {full_steps} steps")
        full["demands_total"] = int(len(sc.demands))

    rows_data = []
    for p in args.presets:
        t = scen[p].topology
        rows_data.append({
            "preset": p, "topology": t.name, "nodes": t.num_nodes, "edges": t.num_edges,
            "demands_total": int(len(scen[p].demands)),
            "first_reset_ms": first[p] * 1e3,
            "reset_ms_median": float(np.median(reset_s[p])) * 1e3,
            "reset_ms_min": float(np.min(reset_s[p])) * 1e3,
            "reset_ms_max": float(np.max(reset_s[p])) * 1e3,
            "close_ms_median": float(np.median(close_s[p])) * 1e3,
            "raw_setup_ms_median": float(np.median(raw_setup[p])) * 1e3,
            "raw_process_ms_median": float(np.median(raw_wall[p])) * 1e3,
            "reset_ms_all": [x * 1e3 for x in reset_s[p]],
            "close_ms_all": [x * 1e3 for x in close_s[p]],
            "memory": mem[p],
        })

    head = ["preset", "topology", "nodes", "links", "first reset [ms]", "reset median [ms]",
            "reset min-max [ms]", "close median [ms]", "of which setup [ms]",
            "raw 1-step process [ms]", "sim peak after reset [MiB]",
            f"sim peak after {mem_steps} steps [MiB]", "demands sent", "step loop [s]",
            "Python peak so far [MiB]", "Python RSS [MiB]"]
    rows = []
    for d in rows_data:
        m = d["memory"]
        rows.append([
            d["preset"], d["topology"], d["nodes"], d["edges"], f"{d['first_reset_ms']:.1f}",
            f"{d['reset_ms_median']:.1f}", f"{d['reset_ms_min']:.1f}-{d['reset_ms_max']:.1f}",
            f"{d['close_ms_median']:.1f}", f"{d['raw_setup_ms_median']:.1f}",
            f"{d['raw_process_ms_median']:.1f}", f"{m['sim_vmhwm_after_reset_mib']:.1f}",
            f"{m['sim_vmhwm_mib']:.1f}", m["demands_sent"], f"{m['step_loop_seconds']:.2f}",
            f"{m['python_peak_mib']:.1f}", f"{m['python_rss_mib']:.1f}",
        ])
    table = markdown_table(head, rows)
    print(table)
    full_txt = ""
    if full is not None:
        full_table = markdown_table(
            ["episode", "demands", "events", "step loop [s]", "sim peak after reset [MiB]",
             "sim peak at end [MiB]", "Python peak so far [MiB]", "Python RSS [MiB]"],
            [[f"nx-XS tcp_high, {full_steps} steps", full["demands_total"],
              f"{full['events']:.0f}", f"{full['step_loop_seconds']:.2f}",
              f"{full['sim_vmhwm_after_reset_mib']:.1f}", f"{full['sim_vmhwm_mib']:.1f}",
              f"{full['python_peak_mib']:.1f}", f"{full['python_rss_mib']:.1f}"]])
        print()
        print(full_table)
        full_txt = f"\nFull episode:\n\n{full_table}\n"
    body = (
        f"One synnet scenario per preset (`tcp_high`, no link failures, seed "
        f"{args.scenario_seed}); simulator seed {args.sim_seed}. Reset = `Simulator.reset` "
        "(validation + spawn of a new simulator process + topology installation, until S0 "
        "is back), median of "
        f"{resets} resets per preset with presets interleaved in rounds; the previous "
        "episode's `close()` is timed separately. First reset = the first `reset` of a new "
        "`Simulator` (also allocates the shared-memory segment). \"of which setup\" = "
        "the simulator's own topology-installation time (`setup_seconds` of a 1-step, "
        "no-traffic raw-mode run of the same topology; the rest of a reset is process "
        "start-up, ns-3 library loading and the bridge); \"raw 1-step process\" = wall "
        "time of that whole raw-mode process.\n\n"
        "Memory: simulator peak RSS = `VmHWM` of `/proc/<sim.pid>/status`, read right "
        f"after reset and after {mem_steps} steps of the scenario's `tcp_high` demands with "
        "fixed EIGRP next hops, just before `close()`. Python peak = `ru_maxrss` of this "
        "process, monotonic over the run (peak up to that row); Python RSS = current "
        "`VmRSS`.\n\n" + table + "\n" + full_txt
    )
    if not args.no_write:
        md, js = write_results("bench_reset", "Reset cost and peak memory", body,
                               {"params": {"resets": resets, "mem_steps": mem_steps,
                                           "full_steps": full_steps,
                                           "presets": args.presets,
                                           "scenario_seed": args.scenario_seed,
                                           "sim_seed": args.sim_seed},
                                "presets": rows_data, "full_episode": full})
        print(f"wrote {md} and {js}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
