# SPDX-License-Identifier: GPL-2.0-only
"""Benchmark the framework overhead: Python client stepping vs the simulator's raw mode.

One synnet scenario (default: nx-XS, 100 steps of 5 ms, fixed seed) with EIGRP next hops
fixed for the whole episode is simulated

* in **raw mode** (``write_raw_episode`` + ``run_raw_episode``: the simulator runs the whole
  episode from a file, no Python in the loop; ``run_seconds`` is the simulation's wall time,
  ``setup_seconds`` the topology setup), and
* through the **client** (``Simulator.reset`` + one ``sim.step`` per step with that step's
  demands and failures, next hops sent at step 0 only), timing the whole step loop.

Both runs use the same seed, so they must produce bit-identical totals; every global
counter is compared and the script fails loudly (exit status 1) on any difference.
The overhead ratio is ``client loop time / raw run_seconds`` (target <= 1.10). Raw and
client runs alternate (order flipped every repetition) and medians are reported.

Usage::

    python experiments/bench_overhead.py [--quick] [--reps 3] [--steps 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import synnet  # noqa: E402
from experiments._benchutil import (  # noqa: E402
    COUNTERS,
    TARGET_RATIO,
    counter_columns,
    eigrp_next_hops,
    markdown_table,
    run_raw,
    totals_mismatches,
    write_results,
)
from packerl.sim import Simulator, write_raw_episode  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of a running process (from /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def run_client(sc: synnet.Scenario, next_hops: np.ndarray, steps: int, seed: int) -> dict:
    clock = time.perf_counter
    cols = counter_columns()
    send = wait = 0.0
    with Simulator() as sim:
        t0 = clock()
        state = sim.reset(sc.topology, params={"step_ms": sc.step_ms}, seed=seed)
        reset_s = clock() - t0
        sums = state.global_features[cols].copy()
        sim_cpu0 = proc_cpu_seconds(sim.pid)
        py_cpu0 = time.process_time()
        t_loop = clock()
        for t in range(steps):
            ta = clock()
            sim.step_async(next_hops if t == 0 else None, sc.step_demands(t),
                           sc.step_failures(t))
            tb = clock()
            state = sim.step_wait()
            tc = clock()
            send += tb - ta
            wait += tc - tb
            sums += state.global_features[cols]
        loop = clock() - t_loop
        py_cpu = time.process_time() - py_cpu0
        sim_cpu = proc_cpu_seconds(sim.pid) - sim_cpu0
        active = state.g("demands_active")
    totals = dict(zip(COUNTERS, sums.tolist()))
    return {
        "reset_seconds": reset_s,
        "loop_seconds": loop,
        "send_seconds": send,  # step_async: slicing + validation + writing inputs + post
        "wait_read_seconds": wait,  # step_wait: waiting for the simulator + reading the state
        "python_cpu_seconds": py_cpu,  # CPU time of this process during the loop
        "sim_cpu_seconds": sim_cpu,  # CPU time of the simulator process during the loop
        "events_per_second": totals["events"] / loop if loop > 0 else float("nan"),
        "totals": totals,
        "demands_active_end": active,
    }


def bench_traffic(traffic: str, args, log) -> dict:
    sc = synnet.generate(topology=args.topology, traffic=traffic,
                         link_failures=args.link_failures, steps=args.steps, step_ms=5.0,
                         seed=args.scenario_seed)
    hops = eigrp_next_hops(sc.topology)
    tmp = Path(tempfile.mkdtemp(prefix="bench_overhead-"))
    path = tmp / f"{traffic}.raw"
    t0 = time.perf_counter()
    write_raw_episode(path, sc.topology, hops, sc.demands, sc.failures, steps=args.steps,
                      params={"step_ms": sc.step_ms}, seed=args.sim_seed)
    write_s = time.perf_counter() - t0
    raws, clients, ratios, cpu_ratios = [], [], [], []
    mismatches: list[str] = []
    reps = args.reps
    r = 0
    while r < reps:
        order = ("raw", "client") if r % 2 == 0 else ("client", "raw")
        got = {}
        for kind in order:
            log(f"  {traffic} rep {r + 1}/{reps}: {kind} ...")
            if kind == "raw":
                got["raw"] = run_raw(path)
                log(f"    raw run {got['raw']['run_seconds']:.3f} s")
            else:
                got["client"] = run_client(sc, hops, args.steps, args.sim_seed)
                log(f"    client loop {got['client']['loop_seconds']:.3f} s")
        raw, cli = got["raw"], got["client"]
        raws.append(raw)
        clients.append(cli)
        ratios.append(cli["loop_seconds"] / raw["run_seconds"])
        cpu_ratios.append((cli["python_cpu_seconds"] + cli["sim_cpu_seconds"])
                          / raw["run_seconds"])
        mismatches += totals_mismatches(r, {"raw": raw, "client": cli})
        # Same seed, same inputs: repetitions must agree with each other as well.
        if r > 0 and raws[0]["totals"] != raw["totals"]:
            mismatches.append(f"rep {r}: raw totals differ from rep 0")
        if r == 0 and raw["run_seconds"] < args.short_seconds:
            reps = max(reps, args.short_reps)  # short runs: more repetitions, same budget
        r += 1
    path.unlink(missing_ok=True)
    tmp.rmdir()

    def med(runs, key):
        return float(np.median([x[key] for x in runs]))

    return {
        "traffic": traffic,
        "topology": sc.topology.name,
        "nodes": sc.topology.num_nodes,
        "edges": sc.topology.num_edges,
        "demands": int(len(sc.demands)),
        "tcp_demands": int(sc.demands["is_tcp"].sum()),
        "failures": int(len(sc.failures)),
        "steps": args.steps,
        "raw_write_seconds": write_s,
        "raw": raws,
        "client": clients,
        "reps": reps,
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
        "median": {
            "raw_run_seconds": med(raws, "run_seconds"),
            "raw_setup_seconds": med(raws, "setup_seconds"),
            "raw_process_wall_seconds": med(raws, "process_wall_seconds"),
            "raw_events_per_second": med(raws, "events_per_second"),
            "client_reset_seconds": med(clients, "reset_seconds"),
            "client_loop_seconds": med(clients, "loop_seconds"),
            "client_send_seconds": med(clients, "send_seconds"),
            "client_wait_read_seconds": med(clients, "wait_read_seconds"),
            "client_events_per_second": med(clients, "events_per_second"),
            "client_python_cpu_seconds": med(clients, "python_cpu_seconds"),
            "client_sim_cpu_seconds": med(clients, "sim_cpu_seconds"),
            "raw_process_cpu_seconds": med(raws, "process_cpu_seconds"),
            "ratio": float(np.median(ratios)),
            "cpu_ratio": float(np.median(cpu_ratios)),
        },
        "total_events": raws[0]["totals"]["events"],
        "total_received_bytes": raws[0]["totals"]["received_bytes"],
        "identical": not mismatches,
        "mismatches": mismatches,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 repetition, 40 steps (unless given)")
    ap.add_argument("--reps", type=int, default=None, help="repetitions (default 3, quick 1)")
    ap.add_argument("--short-reps", type=int, default=None,
                    help="repetitions when a raw run takes < --short-seconds (default 9, "
                         "quick 3)")
    ap.add_argument("--short-seconds", type=float, default=3.0)
    ap.add_argument("--steps", type=int, default=None, help="steps (default 100, quick 40)")
    ap.add_argument("--topology", default="nx-XS")
    ap.add_argument("--traffic", nargs="+", default=["tcp_high", "udp_high"])
    ap.add_argument("--link-failures", default=None, choices=[None, "none", "weibull"],
                    help="synnet link-failure preset (default: none)")
    ap.add_argument("--scenario-seed", type=int, default=3)
    ap.add_argument("--sim-seed", type=int, default=7)
    ap.add_argument("--no-write", action="store_true", help="do not write result files")
    args = ap.parse_args(argv)
    args.reps = args.reps or (1 if args.quick else 3)
    args.steps = args.steps or (40 if args.quick else 100)
    args.short_reps = args.short_reps or (3 if args.quick else 9)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results = [bench_traffic(tr, args, log) for tr in args.traffic]

    head = ["traffic", "demands (TCP)", "steps", "reps", "events", "received bytes",
            "raw run [s]", "raw setup [s]", "client loop [s]", "send [s]", "wait+read [s]",
            "Python CPU [s]", "sim CPU [s]", "ratio", "CPU ratio", "raw events/s",
            "client events/s", "raw == client"]
    rows = []
    for r in results:
        m = r["median"]
        rows.append([
            r["traffic"], f"{r['demands']} ({r['tcp_demands']})", r["steps"], r["reps"],
            f"{r['total_events']:.0f}", f"{r['total_received_bytes']:.0f}",
            f"{m['raw_run_seconds']:.3f}", f"{m['raw_setup_seconds']:.4f}",
            f"{m['client_loop_seconds']:.3f}", f"{m['client_send_seconds']:.3f}",
            f"{m['client_wait_read_seconds']:.3f}", f"{m['client_python_cpu_seconds']:.3f}",
            f"{m['client_sim_cpu_seconds']:.3f}", f"{m['ratio']:.3f}", f"{m['cpu_ratio']:.3f}",
            f"{m['raw_events_per_second']:.0f}", f"{m['client_events_per_second']:.0f}",
            "OK" if r["identical"] else "**FAIL**",
        ])
    table = markdown_table(head, rows)
    per_rep = markdown_table(
        ["traffic", "rep", "order", "raw run [s]", "client loop [s]", "ratio", "CPU ratio"],
        [[r["traffic"], i + 1, "raw, client" if i % 2 == 0 else "client, raw",
          f"{r['raw'][i]['run_seconds']:.3f}", f"{r['client'][i]['loop_seconds']:.3f}",
          f"{r['ratios'][i]:.3f}", f"{r['cpu_ratios'][i]:.3f}"]
         for r in results for i in range(len(r["ratios"]))])
    verdicts = []
    for r in results:
        ok = r["median"]["ratio"] <= TARGET_RATIO
        verdicts.append(f"- {r['traffic']}: median ratio {r['median']['ratio']:.3f} -> target "
                        f"<= {TARGET_RATIO:.2f} {'MET' if ok else 'NOT MET'}")
    failed = [r for r in results if not r["identical"]]
    print(table)
    print()
    print(per_rep)
    print()
    print("\n".join(verdicts))
    for r in failed:
        print(f"\nFAIL: raw and client runs of {r['traffic']} differ:", file=sys.stderr)
        for m in r["mismatches"]:
            print(f"  {m}", file=sys.stderr)
    first = results[0]
    body = (
        f"Scenario: `synnet.generate(topology={args.topology!r}, traffic=..., "
        f"link_failures={args.link_failures!r}, steps={args.steps}, step_ms=5.0, "
        f"seed={args.scenario_seed})` ({first['topology']}, {first['nodes']} nodes, "
        f"{first['edges']} links, {first['failures']} link failures); simulator seed "
        f"{args.sim_seed}; EIGRP next hops (`packerl.routing`: `256 * (1e7/kbps + delay_us/10)`) fixed "
        f"for the whole episode. Medians over {args.reps} repetition(s), raw and client "
        "alternating (order flipped every repetition); runs whose raw simulation takes "
        f"< {args.short_seconds:g} s are repeated {args.short_reps} times.\n\n"
        "- raw run: simulator-reported `run_seconds` of raw mode (no Python in the loop); "
        "raw setup: its `setup_seconds` (topology installation).\n"
        "- client loop: wall time of the whole step loop (demand slicing, validation, "
        "bridge, simulation, state copies); send = time in `step_async` (slicing, "
        "validation, writing inputs), wait+read = time in `step_wait` (simulation + reading "
        "the state back). The client's `reset` is not included (see bench_reset).\n"
        "- Python CPU / sim CPU: CPU time (user + system) of this process and of the "
        "simulator process during the client loop.\n"
        f"- ratio = client loop / raw run (target <= {TARGET_RATIO:.2f}). CPU ratio = (Python CPU + sim "
        "CPU) / raw run: the total CPU the client mode burns relative to the raw simulation; "
        "less sensitive to scheduling noise than the wall-time ratio.\n"
        "- raw == client: every global counter summed over the episode (events, sent/"
        "received/dropped bytes and packets, drop reasons, app bytes, demands started/"
        "completed) and the active demands at the end are bit-identical.\n\n"
        f"{table}\n\nPer repetition:\n\n{per_rep}\n\n" + "\n".join(verdicts) + "\n"
    )
    if failed:
        body += "\n**FAIL: raw and client runs differ:**\n\n" + "\n".join(
            f"- {r['traffic']}: {m}" for r in failed for m in r["mismatches"]) + "\n"
    if not args.no_write:
        md, js = write_results("bench_overhead", "Framework overhead: client vs raw mode",
                               body, {"params": {k: v for k, v in vars(args).items()},
                                      "results": results})
        print(f"wrote {md} and {js}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
