# SPDX-License-Identifier: GPL-2.0-only
"""Benchmark the full Gymnasium environment: env steps per second, vector speed-up, overhead.

Policy for every run: EIGRP next hops computed from the observation (``link_props`` holds the
raw datarate and delay of every edge slot, ``edge_mask`` the working slots) with
``packerl.routing.eigrp_weights`` + ``next_hops_from_weights``, ONCE per episode right after
``reset`` (the topology is fixed when ``link_failures=None``) and reused at every step.

1. **Throughput** on nx-XS per traffic type (100-step episodes, no link failures):
   (a) one ``PackeRLEnv``, (b) ``PackeRLVectorEnv`` with 2 sub-environments (simulators
   stepped concurrently). Both modes play the same episodes (seeds 1..E; sub-env i of a
   vector batch gets seed ``s_i`` through ``reset(seed=[...])``, which yields exactly the
   scenario and simulator seed a single env gets from ``reset(seed=s_i)``). Only ``step``
   calls are timed as env time; the policy (EIGRP from the observation) and ``reset`` are
   timed separately. Modes alternate (order flipped per traffic type and round); medians
   over rounds.
2. **Overhead** of the full Gymnasium env over the simulator's raw mode for one tcp_high and
   one udp_high scenario: wall time of the ``env.step`` calls vs raw ``run_seconds`` of the
   same scenario (``env.unwrapped.scenario``), the same next-hop table and the same
   simulator seed (captured by wrapping ``env.unwrapped._sim.reset``). Every global counter
   summed over the episode must match raw mode exactly (OK / MISMATCH). Raw and env runs
   alternate; medians.

The original implementation's steps per hour are not measured here, so nothing is compared
with them.

Usage::

    python experiments/bench_env.py [--quick] [--rounds 3] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from experiments._benchutil import (  # noqa: E402
    COUNTERS,
    TARGET_RATIO,
    counter_columns,
    load_sentence,
    markdown_table,
    now,
    run_raw,
    totals_mismatches,
    write_results,
)
from packerl.env import PackeRLEnv  # noqa: E402
from packerl.routing import eigrp_weights, next_hops_from_weights  # noqa: E402
from packerl.sim import write_raw_episode  # noqa: E402
from packerl.spaces import encode_next_hops, graph_of  # noqa: E402
from packerl.vector import PackeRLVectorEnv  # noqa: E402

_COLS = counter_columns()
clock = time.perf_counter


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ----------------------------------------------------------------------------------- policy

def eigrp_table(obs: dict[str, np.ndarray]) -> np.ndarray:
    """(N, N) EIGRP next-hop table from one (unbatched) observation."""
    n, slots, edge_index = graph_of(obs)
    props = np.asarray(obs["link_props"], dtype=np.float64)[slots]
    return next_hops_from_weights(n, edge_index, eigrp_weights(props[:, 0], props[:, 1]))


def eigrp_action(obs: dict[str, np.ndarray]) -> np.ndarray:
    return encode_next_hops(eigrp_table(obs), obs["adjacency"], "node")


def make_env(topology: str, traffic: str, steps: int) -> PackeRLEnv:
    """The benchmarked env: no link failures, 5 ms steps, node-id actions (the same table
    drives the env and the raw-mode replay)."""
    return PackeRLEnv(topology=topology, traffic=traffic, link_failures=None,
                      episode_steps=steps, step_ms=5.0, next_hop_encoding="node")


# ------------------------------------------------------------------------ 1. throughput

def run_single(env: PackeRLEnv, seeds: list[int], steps: int,
               fresh: bool) -> dict[str, Any]:
    """Play one episode per seed; returns env step time, resets, policy times.

    ``fresh``: the env has never been reset; its first reset is kept apart (it also creates
    the shared-memory segment and has no previous simulator process to end).
    """
    resets, first, policy, step_s, eps = [], [], [], [], []
    for i, s in enumerate(seeds):
        t0 = clock()
        obs, _ = env.reset(seed=s)
        (first if fresh and i == 0 else resets).append(clock() - t0)
        t0 = clock()
        action = eigrp_action(obs)
        policy.append(clock() - t0)
        ep = 0.0
        truncated = False
        for _ in range(steps):
            t0 = clock()
            obs, _, _, truncated, info = env.step(action)
            ep += clock() - t0
        assert truncated, "episode did not truncate at episode_steps"
        step_s.append(ep)
        eps.append({"seed": s, "step_seconds": ep, "nodes": info["num_nodes"],
                    "goodput_mb": info["episode_metrics"]["total_goodput_mb"]})
    return {"env_steps": steps * len(seeds), "step_seconds": float(sum(step_s)),
            "reset_seconds": resets, "first_reset_seconds": first,
            "policy_seconds": policy, "episodes": eps}


def run_vector(venv: PackeRLVectorEnv, seeds: list[int], steps: int,
               fresh: bool) -> dict[str, Any]:
    """Play the seeds in batches of ``num_envs`` concurrent episodes."""
    k = venv.num_envs
    resets, first, policy, batches = [], [], [], []
    step_total = 0.0
    for b in range(0, len(seeds), k):
        batch = seeds[b:b + k]
        t0 = clock()
        obs, _ = venv.reset(seed=batch)
        (first if fresh and b == 0 else resets).append(clock() - t0)
        t0 = clock()
        actions = np.stack([eigrp_action({key: v[i] for key, v in obs.items()})
                            for i in range(k)])
        policy.append(clock() - t0)
        ep = 0.0
        trunc = np.zeros(k, bool)
        for _ in range(steps):
            t0 = clock()
            obs, _, _, trunc, infos = venv.step(actions)
            ep += clock() - t0
        assert trunc.all(), "vector episodes did not truncate together"
        step_total += ep
        gp = [float(m["total_goodput_mb"]) for m in
              _unbatch_info(infos.get("episode_metrics", {}), k)]
        batches.append({"seeds": batch, "step_seconds": ep, "goodput_mb": gp})
    return {"env_steps": steps * len(seeds), "step_seconds": step_total,
            "reset_seconds": resets, "first_reset_seconds": first,
            "policy_seconds": policy, "batches": batches}


def _unbatch_info(info: Any, k: int) -> list[dict[str, float]]:
    """Gymnasium vector infos hold {key: array over envs}; back to one dict per env."""
    if not info:
        return [{"total_goodput_mb": float("nan")}] * k
    return [{key: v[i] for key, v in info.items() if not key.startswith("_")}
            for i in range(k)]


def bench_throughput(args) -> dict[str, Any]:
    out: dict[str, Any] = {}
    singles = {tr: make_env(args.topology, tr, args.steps) for tr in args.traffic}
    vectors = {tr: PackeRLVectorEnv([lambda tr=tr: make_env(args.topology, tr, args.steps)]
                                    * args.vector_envs)
               for tr in args.traffic}
    try:
        for tr in args.traffic:
            out[tr] = {"seeds": seeds_for(args, tr), "single": [], "vector": []}
        for r in range(args.rounds):
            for j, tr in enumerate(args.traffic):
                seeds = out[tr]["seeds"]
                order = ("single", "vector") if (r + j) % 2 == 0 else ("vector", "single")
                for mode in order:
                    log(f"[{time.strftime('%H:%M:%S')} load {load()[0]}] round {r + 1}/"
                        f"{args.rounds} {tr} {mode} seeds {seeds} ...")
                    if mode == "single":
                        res = run_single(singles[tr], seeds, args.steps, fresh=r == 0)
                    else:
                        res = run_vector(vectors[tr], seeds, args.steps, fresh=r == 0)
                    res["round"] = r
                    res["steps_per_second"] = res["env_steps"] / res["step_seconds"]
                    out[tr][mode].append(res)
                    log(f"    {res['env_steps']} env steps in {res['step_seconds']:.2f} s "
                        f"-> {res['steps_per_second']:.1f} env steps/s")
    finally:
        for env in singles.values():
            env.close()
        for venv in vectors.values():
            venv.close()
    for tr, d in out.items():
        d["summary"] = summarize(d, args)
        # Same seeds, same policy: the vector env must reproduce the single env's episodes.
        single_gp = [e["goodput_mb"] for e in d["single"][0]["episodes"]]
        vector_gp = [g for b in d["vector"][0]["batches"] for g in b["goodput_mb"]]
        d["same_episodes"] = bool(np.allclose(single_gp, vector_gp, rtol=0, atol=1e-9))
        d["goodput_mb"] = {"single": single_gp, "vector": vector_gp}
    return out


def seeds_for(args, traffic: str) -> list[int]:
    e = args.episodes_tcp if traffic.startswith("tcp") else args.episodes_udp
    e = max(args.vector_envs, -(-e // args.vector_envs) * args.vector_envs)  # full batches
    return list(range(1, e + 1))


def summarize(d: dict[str, Any], args) -> dict[str, Any]:
    def med(xs):
        return float(np.median(xs))

    s: dict[str, Any] = {}
    for mode in ("single", "vector"):
        runs = d[mode]
        sps = med([x["steps_per_second"] for x in runs])
        resets = [t for x in runs for t in x["reset_seconds"]]
        first = [t for x in runs for t in x["first_reset_seconds"]]
        policy = [t for x in runs for t in x["policy_seconds"]]
        # incl. reset + policy: what a rollout loop would see
        incl = med([x["env_steps"] / (x["step_seconds"] + sum(x["reset_seconds"])
                                      + sum(x["first_reset_seconds"])
                                      + sum(x["policy_seconds"])) for x in runs])
        s[mode] = {
            "steps_per_second": sps,
            "steps_per_hour": sps * 3600,
            "steps_per_second_min": float(min(x["steps_per_second"] for x in runs)),
            "steps_per_second_max": float(max(x["steps_per_second"] for x in runs)),
            "reset_ms_median": med(resets) * 1e3 if resets else float("nan"),
            "first_reset_ms_median": med(first) * 1e3 if first else float("nan"),
            "policy_ms_median": med(policy) * 1e3,
            "policy_ms_per_step": med(policy) * 1e3 / args.steps,
            "steps_per_second_incl_reset_policy": incl,
            "steps_per_hour_incl_reset_policy": incl * 3600,
        }
    s["vector"]["reset_ms_median_per_env"] = s["vector"]["reset_ms_median"] / args.vector_envs
    s["vector"]["first_reset_ms_median_per_env"] = (s["vector"]["first_reset_ms_median"]
                                                    / args.vector_envs)
    s["vector"]["policy_ms_median"] /= args.vector_envs  # per episode, like single
    s["vector"]["policy_ms_per_step"] /= args.vector_envs
    s["speedup"] = s["vector"]["steps_per_second"] / s["single"]["steps_per_second"]
    s["speedup_per_round"] = [v["steps_per_second"] / x["steps_per_second"]
                              for x, v in zip(d["single"], d["vector"])]
    return s


# --------------------------------------------------------------------------- 2. overhead

def env_episode(env: PackeRLEnv, seed: int, steps: int,
                captured: list[int]) -> dict[str, Any]:
    """One episode through the full env; sums every global counter (S0 included, as raw)."""
    obs, _ = env.reset(seed=seed)
    base = env.unwrapped
    sums = base.state.global_features[_COLS].astype(np.float64).copy()
    t0 = clock()
    action = eigrp_action(obs)
    policy = clock() - t0
    loop = 0.0
    for _ in range(steps):
        t0 = clock()
        env.step(action)
        loop += clock() - t0
        sums += base.state.global_features[_COLS]
    return {"step_seconds": loop, "policy_seconds": policy, "sim_seed": captured[-1],
            "table": eigrp_table(obs), "scenario": base.scenario,
            "totals": dict(zip(COUNTERS, sums.tolist())),
            "demands_active_end": base.state.g("demands_active")}


def bench_overhead(args, traffic: str) -> dict[str, Any]:
    env = make_env(args.topology, traffic, args.steps)
    captured: list[int] = []
    sim = env.unwrapped._sim
    orig_reset = sim.reset

    def capturing_reset(topology, params=None, seed=0):
        captured.append(int(seed))
        return orig_reset(topology, params, seed=seed)

    sim.reset = capturing_reset  # instance attribute shadows the method
    reps = args.reps_tcp if traffic.startswith("tcp") else args.reps_udp
    tmp = Path(tempfile.mkdtemp(prefix="bench_env-"))
    path = tmp / f"{traffic}.raw"
    raws, envs, ratios, mismatches = [], [], [], []
    try:
        for r in range(reps):
            order = ("env", "raw") if r % 2 == 0 else ("raw", "env")
            if r == 0:
                order = ("env", "raw")  # the raw file needs the env's scenario and seed
            got: dict[str, Any] = {}
            for kind in order:
                if kind == "env":
                    got["env"] = env_episode(env, args.overhead_seed, args.steps, captured)
                    log(f"  {traffic} rep {r + 1}/{reps}: env steps "
                        f"{got['env']['step_seconds']:.3f} s (sim seed "
                        f"{got['env']['sim_seed']})")
                    if r == 0:
                        e0 = got["env"]
                        sc = e0["scenario"]
                        write_raw_episode(path, sc.topology, e0["table"], sc.demands,
                                          sc.failures, steps=args.steps,
                                          params={"step_ms": sc.step_ms}, seed=e0["sim_seed"])
                else:
                    got["raw"] = run_raw(path)
                    log(f"  {traffic} rep {r + 1}/{reps}: raw run "
                        f"{got['raw']['run_seconds']:.3f} s")
            e, w = got["env"], got["raw"]
            mismatches += totals_mismatches(r, {"env": e, "raw": w})
            if envs and e["sim_seed"] != envs[0]["sim_seed"]:
                mismatches.append(f"rep {r}: simulator seed changed")
            ratios.append(e["step_seconds"] / w["run_seconds"])
            raws.append(w)
            envs.append({k: v for k, v in e.items() if k not in ("table", "scenario")})
    finally:
        env.close()
        path.unlink(missing_ok=True)
        tmp.rmdir()
    sc = env.unwrapped.scenario
    return {
        "traffic": traffic, "seed": args.overhead_seed, "sim_seed": envs[0]["sim_seed"],
        "demands": int(len(sc.demands)), "tcp_demands": int(sc.demands["is_tcp"].sum()),
        "nodes": sc.topology.num_nodes, "edges": sc.topology.num_edges,
        "topology": sc.topology.name, "reps": reps, "raw": raws, "env": envs,
        "ratios": ratios, "ratio": float(np.median(ratios)),
        "raw_run_seconds": float(np.median([x["run_seconds"] for x in raws])),
        "env_step_seconds": float(np.median([x["step_seconds"] for x in envs])),
        "policy_ms": float(np.median([x["policy_seconds"] for x in envs])) * 1e3,
        "events": raws[0]["totals"]["events"],
        "received_bytes": raws[0]["totals"]["received_bytes"],
        "identical": not mismatches, "mismatches": mismatches,
    }


# ------------------------------------------------------------------------------- report

def _ms(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{x:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 20 steps, 2 episodes, 1 round, 1 overhead repetition")
    ap.add_argument("--topology", default="nx-XS")
    ap.add_argument("--traffic", nargs="+",
                    default=["udp_medium", "udp_high", "tcp_medium", "tcp_high"])
    ap.add_argument("--steps", type=int, default=None, help="episode steps (100, quick 20)")
    ap.add_argument("--episodes-udp", type=int, default=None, help="episodes (4, quick 2)")
    ap.add_argument("--episodes-tcp", type=int, default=None, help="episodes (2, quick 2)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="throughput rounds, modes alternating (default 3, quick 1)")
    ap.add_argument("--vector-envs", type=int, default=2)
    ap.add_argument("--overhead-traffic", nargs="+", default=["tcp_high", "udp_high"])
    ap.add_argument("--overhead-seed", type=int, default=1)
    ap.add_argument("--reps-tcp", type=int, default=None, help="overhead reps (3, quick 1)")
    ap.add_argument("--reps-udp", type=int, default=None, help="overhead reps (7, quick 1)")
    ap.add_argument("--no-write", action="store_true", help="do not write result files")
    args = ap.parse_args(argv)
    q = args.quick
    args.steps = args.steps or (20 if q else 100)
    args.episodes_udp = args.episodes_udp or (2 if q else 4)
    args.episodes_tcp = args.episodes_tcp or 2
    args.rounds = args.rounds or (1 if q else 3)
    args.reps_tcp = args.reps_tcp or (1 if q else 3)
    args.reps_udp = args.reps_udp or (1 if q else 7)

    load_start, t_start, date_start = load(), clock(), now()
    log(f"load at start: {load_start}")
    thr = bench_throughput(args)
    ovh = [bench_overhead(args, tr) for tr in args.overhead_traffic]
    load_end, wall = load(), clock() - t_start
    log(f"load at end: {load_end}; total {wall:.0f} s")

    # ---- table 1: throughput
    head1 = ["traffic", "episodes x steps", "single env steps/s", "single env steps/h",
             "single min-max steps/s", f"vector ({args.vector_envs}) env steps/s",
             "vector env steps/h", "vector min-max steps/s", "speedup",
             "speedup per round", "reset single [ms]", "reset vector per env [ms]",
             "first reset single / vector per env [ms]",
             "policy per episode [ms]", "single steps/h incl. reset+policy",
             "same episodes"]
    rows1 = []
    for tr in args.traffic:
        d = thr[tr]
        s, v = d["summary"]["single"], d["summary"]["vector"]
        rows1.append([
            tr, f"{len(d['seeds'])} x {args.steps}", f"{s['steps_per_second']:.1f}",
            f"{s['steps_per_hour']:,.0f}",
            f"{s['steps_per_second_min']:.1f}-{s['steps_per_second_max']:.1f}",
            f"{v['steps_per_second']:.1f}", f"{v['steps_per_hour']:,.0f}",
            f"{v['steps_per_second_min']:.1f}-{v['steps_per_second_max']:.1f}",
            f"{d['summary']['speedup']:.2f}",
            ", ".join(f"{x:.2f}" for x in d["summary"]["speedup_per_round"]),
            _ms(s['reset_ms_median']), _ms(v['reset_ms_median_per_env']),
            f"{_ms(s['first_reset_ms_median'])} / {_ms(v['first_reset_ms_median_per_env'])}",
            f"{s['policy_ms_median']:.2f}",
            f"{s['steps_per_hour_incl_reset_policy']:,.0f}",
            "OK" if d["same_episodes"] else "**DIFFER**",
        ])
    table1 = markdown_table(head1, rows1)

    # ---- table 2: overhead
    head2 = ["traffic", "demands (TCP)", "seed / sim seed", "reps", "events",
             "received bytes", "raw run [s]", "env steps [s]", "ratio env/raw",
             "ratio per rep", f"target <= {TARGET_RATIO:.2f}", "env == raw"]
    rows2 = []
    for o in ovh:
        rows2.append([
            o["traffic"], f"{o['demands']} ({o['tcp_demands']})",
            f"{o['seed']} / {o['sim_seed']}", o["reps"], f"{o['events']:.0f}",
            f"{o['received_bytes']:.0f}", f"{o['raw_run_seconds']:.3f}",
            f"{o['env_step_seconds']:.3f}", f"{o['ratio']:.3f}",
            ", ".join(f"{x:.3f}" for x in o["ratios"]),
            "MET" if o["ratio"] <= TARGET_RATIO else "NOT MET",
            "OK" if o["identical"] else "**MISMATCH**",
        ])
    table2 = markdown_table(head2, rows2)

    print(table1, table2, sep="\n\n")
    failed = [o for o in ovh if not o["identical"]]
    for o in failed:
        print(f"\nMISMATCH env vs raw for {o['traffic']}:", file=sys.stderr)
        for m in o["mismatches"]:
            print(f"  {m}", file=sys.stderr)
    differ = [tr for tr in args.traffic if not thr[tr]["same_episodes"]]

    body = (
        f"Started {date_start}; load average (1, 5, 15 min) at start {load_start}, at end "
        f"{load_end}; total wall time {wall:.0f} s. {load_sentence(load_start, load_end)} "
        "Medians are reported.\n\n"
        f"Environment: `PackeRLEnv(topology={args.topology!r}, traffic=..., "
        f"link_failures=None, episode_steps={args.steps}, step_ms=5.0, "
        "next_hop_encoding='node')`. Policy: EIGRP next "
        "hops (`packerl.routing.eigrp_weights` = `256 * (1e7/kbps + delay_us/10)`, "
        "`next_hops_from_weights`) computed from the observation (`link_props` of the "
        "`edge_mask` slots) once per episode after `reset` and reused at every step.\n\n"
        "## 1. Throughput: single env vs vector env\n\n"
        f"Episodes with seeds 1..E in both modes (E = {args.episodes_udp} for udp, "
        f"{args.episodes_tcp} for tcp; the vector env plays them in batches of "
        f"{args.vector_envs} concurrent episodes via `reset(seed=[...])`). "
        f"{args.rounds} round(s); in every round each traffic type runs both modes, order "
        "flipped between traffic types and rounds; every env object is created once and "
        "reused (its first reset also starts the shared-memory segment).\n\n"
        "- env steps/s = env steps / wall time of the `step` calls only (policy and reset "
        "excluded); vector = aggregate over sub-envs (`num_envs` x vector steps / time of "
        "`vector.step`). Median over rounds; min-max over rounds.\n"
        f"- speedup = vector / single env steps/s (at most ~{os.cpu_count()} on "
        f"{os.cpu_count()} cores).\n"
        "- reset: median wall time of `env.reset` (single) and of `vector.reset` divided "
        "by the number of sub-envs, excluding each env's first reset (shown apart). A "
        "reset ends the previous episode's simulator process, starts a new one and "
        "installs the topology; after a long TCP episode ending the old process costs "
        "more.\n"
        "- policy per episode: median time to compute the EIGRP table and action from the "
        "observation (once per episode; per step it is this divided by the episode "
        "steps).\n"
        "- incl. reset+policy: env steps / (step + reset + policy time).\n"
        "- same episodes: the total goodput of every episode is identical in the single and "
        "the vector env (same seeds give the same scenarios and simulator seeds).\n\n"
        f"{table1}\n\n"
        "## 2. Framework overhead: full Gymnasium env vs raw mode\n\n"
        f"One scenario per traffic type: `env.reset(seed={args.overhead_seed})`; the scenario "
        "is `env.unwrapped.scenario`, the simulator seed is captured by wrapping "
        "`env.unwrapped._sim.reset`, and the raw episode is written with "
        "`write_raw_episode` from the same scenario, the same EIGRP table and that seed. "
        f"env steps = wall time of the {args.steps} `env.step` calls (validation, demand "
        "slicing, bridge, simulation, observation, metrics, reward); raw run = the "
        "simulator's `run_seconds` in raw mode (no Python in the loop, setup excluded). "
        "Raw and env runs alternate (env first in rep 1, since the raw file needs its seed, "
        "then flipped every repetition); medians. env == raw: every global counter (events, "
        "sent/received/dropped/retransmitted bytes and packets, drop reasons, app bytes, "
        "demands started/completed) summed over the episode including S0, and the active "
        "demands at the end, are bit-identical.\n\n"
        f"{table2}\n"
    )
    if failed:
        body += "\n**MISMATCH env vs raw:**\n\n" + "\n".join(
            f"- {o['traffic']}: {m}" for o in failed for m in o["mismatches"]) + "\n"
    if differ:
        body += ("\n**The single and vector env played different episodes for: "
                 + ", ".join(differ) + "**\n")
    if not args.no_write:
        md, js = write_results(
            "bench_env", "Environment throughput, vector speed-up and overhead", body,
            {"params": vars(args), "load_start": load_start, "load_end": load_end,
             "wall_seconds": wall,
             "throughput": thr, "overhead": ovh})
        print(f"wrote {md} and {js}")
    return 1 if failed or differ else 0


if __name__ == "__main__":
    sys.exit(main())
