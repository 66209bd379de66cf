# SPDX-License-Identifier: GPL-2.0-only
"""Benchmark the fluid model against the packet-level env: steps per second on nx-XS.

One process pinned to one core (``os.sched_setaffinity``; the packet env's simulator child
inherits the pin, so both models get the same single core). For each traffic preset and
seed, the same scenario (``reset(seed=s)`` draws it identically in both envs) is played
with EIGRP next hops computed once per episode after ``reset`` (no link failures, so the
topology is fixed), and four layers are timed, interleaved per seed so that the machine's
load hits them alike:

1. ``packet env``: ``gym.make("packerl/PackeRL-v0")``, the ``step`` calls.
2. ``fluid env``: ``gym.make("packerl/PackeRL-Fluid-v0")``, the ``step`` calls: the whole
   Gymnasium step, i.e. action decoding, the fluid step, metrics, reward and observation
   (the packet env's code but for the simulator).
3. ``fluid simulator``: :class:`packerl.fluid.FluidSimulator.step` on the same demands and
   table (the fluid model with its sources, TCP shares, queues and arrivals; no env around).
4. ``fluid kernel``: :meth:`packerl.fluid.FluidNetwork.evaluate`, one traffic matrix (the
   fluid env's ``tm_sent`` of each step) routed on the next hops with proportional overload,
   utilisation and delays, routes cached: the model a MAGNNETO-style optimiser calls Theta(E)
   times per decision. Also ``link_loads`` (loads only, no capacity effect).

Speed is reported as steps per second and as ratios to the packet env measured in the same
run (on a shared machine absolute numbers are noisy, ratios less so; the results file says
how busy the machine was). The
target of issue 13 is 10,000 fluid steps per second on nx-XS on one core.

Usage::

    python experiments/bench_fluid.py [--steps 100] [--seeds 3] [--core 0] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gymnasium as gym
import numpy as np

import packerl
from experiments._benchutil import (
    children_cpu_seconds,
    cpu_snapshot,
    load_sentence,
    markdown_table,
    other_work_sentence,
    write_results,
)
from packerl.fluid import FluidSimulator
from packerl.routing import eigrp_weights, next_hops_from_weights
from packerl.spaces import encode_next_hops, graph_of

PRESETS = ("udp_low", "udp_high", "mixed_medium", "tcp_low", "tcp_high")
TARGET_STEPS_PER_SECOND = 10_000


def _eigrp(obs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """EIGRP's next-hop table and the action that installs it."""
    n, slots, ei = graph_of(obs)
    w = eigrp_weights(obs["link_props"][slots, 0], obs["link_props"][slots, 1])
    table = next_hops_from_weights(n, ei, w)
    return table, encode_next_hops(table, obs["adjacency"], "neighbor")


def _time_env(env_id: str, traffic: str, seed: int, steps: int) -> dict[str, Any]:
    """Wall and CPU seconds of an episode's ``step`` calls; the CPU of the packet env
    includes its simulator process's whole life (start-up and reset too, a few ms)."""
    child0 = children_cpu_seconds()
    env = gym.make(env_id, topology="nx-XS", traffic=traffic, episode_steps=steps)
    obs, _ = env.reset(seed=seed)
    table, action = _eigrp(obs)
    tms = []
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        env.step(action)
        tms.append(env.unwrapped.state.tm_sent)  # a reference, no copy
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    scenario = env.unwrapped.scenario
    env.close()  # the simulator exits: its CPU time is now counted
    cpu += children_cpu_seconds() - child0
    return {"seconds": seconds, "cpu": cpu, "table": table, "scenario": scenario, "tms": tms}


def _time_simulator(scenario: Any, table: np.ndarray, steps: int) -> tuple[float, float]:
    sim = FluidSimulator(check_inputs=False)  # as the fluid env uses it
    sim.reset(scenario.topology, {"step_ms": scenario.step_ms})
    t0, c0 = time.perf_counter(), time.process_time()
    sim.step(table, scenario.step_demands(0), scenario.step_failures(0))
    for t in range(1, steps):
        sim.step(None, scenario.step_demands(t), scenario.step_failures(t))
    return time.perf_counter() - t0, time.process_time() - c0


def _time_kernel(scenario: Any, table: np.ndarray, tms: list[np.ndarray],
                 repeats: int) -> tuple[float, float, float]:
    """Wall seconds per ``evaluate``, CPU seconds per ``evaluate``, wall per ``link_loads``."""
    from packerl.fluid import FluidNetwork

    topo = scenario.topology
    net = FluidNetwork(topo.num_nodes, topo.edges, topo.datarate_bps, topo.delay_ms,
                       scenario.step_ms)
    net.evaluate(table, tms[0])  # routes once
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        for tm in tms:
            net.evaluate(table, tm)
    evaluate = (time.perf_counter() - t0) / (repeats * len(tms))
    evaluate_cpu = (time.process_time() - c0) / (repeats * len(tms))
    t0 = time.perf_counter()
    for _ in range(repeats):
        for tm in tms:
            net.link_loads(table, tm)
    loads = (time.perf_counter() - t0) / (repeats * len(tms))
    return evaluate, evaluate_cpu, loads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per episode")
    parser.add_argument("--seeds", type=int, default=3, help="episodes per traffic preset")
    parser.add_argument("--core", type=int, default=0, help="the core to pin to")
    parser.add_argument("--kernel-repeats", type=int, default=5,
                        help="passes over an episode's traffic matrices for the kernel")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.core})
    load_start, cpu_start = list(os.getloadavg()), cpu_snapshot()
    rows, cpu_rows, data = [], [], {}
    for traffic in PRESETS:
        per = {k: [] for k in ("packet", "fluid_env", "fluid_sim", "kernel", "loads",
                               "packet_cpu", "fluid_env_cpu", "fluid_sim_cpu", "kernel_cpu")}
        for seed in range(args.seeds):
            packet = _time_env(packerl.ENV_ID, traffic, seed, args.steps)
            fluid = _time_env(packerl.FLUID_ENV_ID, traffic, seed, args.steps)
            sim, sim_cpu = _time_simulator(fluid["scenario"], fluid["table"], args.steps)
            kernel, kernel_cpu, loads = _time_kernel(fluid["scenario"], fluid["table"],
                                                     fluid["tms"], args.kernel_repeats)
            per["packet"].append(args.steps / packet["seconds"])
            per["fluid_env"].append(args.steps / fluid["seconds"])
            per["fluid_sim"].append(args.steps / sim)
            per["kernel"].append(1.0 / kernel)
            per["loads"].append(1.0 / loads)
            per["packet_cpu"].append(args.steps / packet["cpu"])
            per["fluid_env_cpu"].append(args.steps / fluid["cpu"])
            per["fluid_sim_cpu"].append(args.steps / sim_cpu)
            per["kernel_cpu"].append(1.0 / kernel_cpu)
        med = {k: statistics.median(v) for k, v in per.items()}
        data[traffic] = {"steps_per_second": per, "median": med}
        rows.append([traffic, f"{med['packet']:.0f}", f"{med['fluid_env']:.0f}",
                     f"{med['fluid_env'] / med['packet']:.1f}x", f"{med['fluid_sim']:.0f}",
                     f"{med['fluid_sim'] / med['packet']:.1f}x", f"{med['kernel']:.0f}",
                     f"{med['kernel'] / med['packet']:.0f}x", f"{med['loads']:.0f}"])
        cpu_rows.append([traffic, f"{med['packet_cpu']:.0f}", f"{med['fluid_env_cpu']:.0f}",
                         f"{med['fluid_env_cpu'] / med['packet_cpu']:.1f}x",
                         f"{med['fluid_sim_cpu']:.0f}", f"{med['kernel_cpu']:.0f}",
                         f"{med['kernel_cpu'] / med['packet_cpu']:.0f}x"])
        print(traffic, {k: round(v) for k, v in med.items()}, flush=True)
    load_end, cpu_end = list(os.getloadavg()), cpu_snapshot()
    header = ["traffic", "packet env", "fluid env", "ratio", "fluid simulator", "ratio",
              "fluid kernel", "ratio", "link loads only"]
    cpu_header = ["traffic", "packet env", "fluid env", "ratio", "fluid simulator",
                  "fluid kernel", "ratio"]

    def met(x: float) -> str:
        return "met" if x >= TARGET_STEPS_PER_SECOND else "NOT met"

    kernel_min = min(d["median"]["kernel"] for d in data.values())
    kernel_cpu_min = min(d["median"]["kernel_cpu"] for d in data.values())
    env_cpu_max = max(d["median"]["fluid_env_cpu"] for d in data.values())
    verdict = (f"Target {TARGET_STEPS_PER_SECOND} fluid steps/s on nx-XS on one core. The fluid "
               f"kernel (one traffic matrix on a routing, with overload and delays) reaches "
               f"{kernel_cpu_min:.0f} steps per CPU second at its slowest preset "
               f"({met(kernel_cpu_min)}) and {kernel_min:.0f} per wall second on the shared core "
               f"({met(kernel_min)}). The whole Gymnasium step of the fluid env reaches at most "
               f"{env_cpu_max:.0f} steps per CPU second ({met(env_cpu_max)}): it is the packet "
               "env's Python step (action decoding, metrics, observation) with the fluid "
               "simulator's bookkeeping (sources, TCP shares, queues, arrivals) inside.")
    body = "\n\n".join([
        f"nx-XS, EIGRP next hops, {args.steps}-step episodes, {args.seeds} seeds per preset "
        f"(medians of steps per second over seeds), one process pinned to core {args.core} "
        "(the packet simulator inherits the pin). Ratios are to the packet env in the same "
        "run.",
        "Steps per wall second:",
        markdown_table(header, rows),
        "Steps per CPU second of the process (the packet env's simulator process included, "
        "its start-up and reset too), what one core does when it is not shared:",
        markdown_table(cpu_header, cpu_rows),
        verdict,
        load_sentence(load_start, load_end) + " " + other_work_sentence(cpu_start, cpu_end),
    ])
    print(markdown_table(header, rows))
    print(markdown_table(cpu_header, cpu_rows))
    print(verdict)
    print(load_sentence(load_start, load_end))
    if not args.no_write:
        md, js = write_results(
            "bench_fluid", "Fluid model vs packet env: steps per second on nx-XS", body,
            {"steps": args.steps, "seeds": args.seeds, "core": args.core,
             "presets": data, "load_start": load_start, "load_end": load_end,
             "target_steps_per_second": TARGET_STEPS_PER_SECOND})
        print(f"wrote {md} and {js}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
