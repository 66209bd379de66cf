# SPDX-License-Identifier: GPL-2.0-only
"""Which routes a policy picks, apart from how often it changes them: path lengths, round-trip
propagation delay and goodput of a policy, and of the same policy holding each action for
``H`` steps.

Evidence for why a learned policy loses to EIGRP on TCP. Two explanations compete: route
flapping (a TCP flow whose path changes reorders and loses segments; measured by the share of
next-hop entries that change per step) and the routes themselves (a longer path has a longer
round trip, and a TCP flow's rate falls with its round-trip time; the fluid model sees neither).
Holding an action for ``H`` steps (the policy acts on the observation of every ``H``-th step
and its action is installed unchanged in between) removes most of the flapping and keeps the
policy's choice of routes: ``H`` = the episode length routes the whole episode by the policy's
first action. Every run plays the same reset seeds, and goodput is given relative to the
reference policy's on them (mean, 95% CI by a paired bootstrap over episodes, [min, max] over
the runs of an approach).

Per step, for every ordered node pair, the path is followed along the installed next hops;
path metrics are means over the pairs weighted by the bytes of the episode's demands between
them (``round trip``: the path to the destination plus the path back, which the ACKs take).

Usage::

    python experiments/route_quality.py POLICY [POLICY ...] [--hold 1 10 100]
        [--reference eigrp_paper] [--topology nx-XS] [--traffic tcp_high] [--episodes 30]
        [--seed 9001] [--workers 2] [--name route_quality] [--no-write]

POLICY: a policy name or a trained run directory (as ``packerl evaluate --policy``). Holds
apply to trained models only (the baselines' routing does not depend on the traffic).
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from tqdm import tqdm

import packerl  # noqa: F401  (registers the env ids)
from experiments._benchutil import load_sentence, markdown_table, write_results
from packerl.app.evaluate import EvalConfig, make_env, policy_action_type
from packerl.app.report import bootstrap_ratio_ci
from packerl.routing import next_hops_from_weights
from policies.factory import is_learned_model, make_policy, policy_slug

#: per-episode metrics of :func:`play`, in the order of the results table
METRICS = ("total_goodput_mb", "fluctuation", "hops", "excess_hops", "rtt_prop_ms",
           "retransmitted_mb")


class Hold:
    """A policy that acts through ``inner`` on every ``every``-th step's observation and repeats that action
    in between (step 0 always acts)."""

    def __init__(self, inner: Any, every: int):
        self.inner, self.every = inner, int(every)
        self._t, self._action = 0, None

    def reset(self) -> None:
        self.inner.reset()
        self._t, self._action = 0, None

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        if self._t % self.every == 0:
            self._action = self.inner.act(obs)
        self._t += 1
        return self._action


def path_metrics(table: np.ndarray, delay_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hops and propagation delay [ms] of every pair's path along ``table`` (``[u, z]``: u's
    next hop toward z, -1 none); ``delay_ms[u, v]``: the link's delay. Pairs whose path does
    not arrive within N hops (a loop or a missing route) are NaN; the diagonal is 0."""
    n = len(table)
    dst = np.broadcast_to(np.arange(n), (n, n))
    cur = np.broadcast_to(np.arange(n)[:, None], (n, n)).copy()
    hops = np.zeros((n, n))
    delay = np.zeros((n, n))
    for _ in range(n):
        moving = (cur != dst) & (cur >= 0)
        if not moving.any():
            break
        nxt = np.where(moving, table[np.maximum(cur, 0), dst], cur)
        ok = moving & (nxt >= 0)
        hops[ok] += 1
        delay[ok] += delay_ms[cur[ok], nxt[ok]]
        cur = np.where(moving & (nxt < 0), -1, nxt)
    lost = cur != dst
    hops[lost], delay[lost] = np.nan, np.nan
    return hops, delay


def play(policy_name: str, hold: int, topology: str, traffic: str, seed: int,
         episode_steps: int) -> dict[str, float]:
    """One episode of ``policy_name`` (holding each action for ``hold`` steps) on reset seed
    ``seed``: its goodput, the share of next-hop entries changed per step, and its paths."""
    env = make_env(EvalConfig(policy_name, topology, traffic, seed, episode_steps=episode_steps,
                              action_type=policy_action_type(policy_name)))
    try:
        policy = Hold(make_policy(policy_name, env, seed=seed), hold)
        obs, _ = env.reset(seed=seed)
        policy.reset()
        scenario = env.unwrapped.scenario
        n = int(scenario.topology.num_nodes)
        edges = np.asarray(scenario.topology.edges).reshape(-1, 2)
        delay_ms = np.zeros((n, n))
        delay_ms[edges[:, 0], edges[:, 1]] = scenario.topology.delay_ms
        delay_ms[edges[:, 1], edges[:, 0]] = scenario.topology.delay_ms
        weight = np.zeros((n, n))
        np.add.at(weight, (scenario.demands["src"], scenario.demands["dst"]),
                  scenario.demands["bytes"].astype(np.float64))
        weight /= weight.sum()
        edge_index = np.concatenate([edges.T, edges[:, ::-1].T], axis=1)
        min_hops, _ = path_metrics(
            next_hops_from_weights(n, edge_index, np.ones(edge_index.shape[1])), delay_ms)
        hops, excess, rtt, changes = [], [], [], []
        off = ~np.eye(n, dtype=bool)
        previous = None
        done = False
        while not done:
            action = policy.act(obs)
            table = env.unwrapped.next_hops_of(action)
            h, d = path_metrics(table, delay_ms)
            routed = np.isfinite(h) & (weight > 0)
            w = np.where(routed, weight, 0.0)
            w /= max(w.sum(), 1e-300)
            hops.append(float(np.nansum(w * h)))
            excess.append(float(np.nansum(w * (h - min_hops))))
            rtt.append(float(np.nansum(w * (d + d.T))))
            if previous is not None:
                changes.append(float((table[off] != previous[off]).mean()))
            previous = table
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        summary = info["episode_metrics"]
    finally:
        env.close()
    return {"total_goodput_mb": float(summary["total_goodput_mb"]),
            "fluctuation": float(np.mean(changes)) if changes else 0.0,
            "hops": float(np.mean(hops)), "excess_hops": float(np.mean(excess)),
            "rtt_prop_ms": float(np.mean(rtt)),
            "retransmitted_mb": float(summary["retransmitted_mb"])}


def approach_of(policy_name: str) -> str:
    """The approach a policy belongs to: its slug without a trailing ``__seed<k>``, so that
    the seeds of one training configuration form one row."""
    slug = policy_slug(policy_name)
    head, sep, tail = slug.rpartition("__seed")
    return head if sep and tail.isdigit() else slug


def _play(job: tuple[str, int, str, str, int, int]) -> tuple[str, int, int, dict[str, float]]:
    policy_name, hold, topology, traffic, seed, steps = job
    return policy_name, hold, seed, play(policy_name, hold, topology, traffic, seed, steps)


def summarise(results: dict[tuple[str, int], dict[int, dict[str, float]]], reference: str
              ) -> list[dict[str, Any]]:
    """One row per (approach, hold): goodput relative to the reference on the shared seeds
    (mean over runs, paired-bootstrap CI, [min, max] over runs) and the other metrics' means
    over runs and episodes."""
    ref = [{s: m["total_goodput_mb"] for s, m in results[(reference, 1)].items()}]
    ref_mean = float(np.mean(list(ref[0].values())))
    groups: dict[tuple[str, int], list[str]] = {}
    for name, hold in results:
        groups.setdefault((approach_of(name), hold), []).append(name)
    rows = []
    for (approach, hold), names in groups.items():
        good = [{s: m["total_goodput_mb"] for s, m in results[(n, hold)].items()}
                for n in names]
        per_run = [float(np.mean([g[s] for s in ref[0]])) / ref_mean for g in good]
        lo, hi = bootstrap_ratio_ci(good, ref)
        row = {"approach": approach, "hold": hold, "runs": len(names),
               "goodput_ratio": float(np.mean(per_run)), "ci": [lo, hi],
               "min": min(per_run), "max": max(per_run)}
        for k in METRICS:
            row[k] = float(np.mean([m[k] for n in names for m in results[(n, hold)].values()]))
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("policies", nargs="+", help="policy names or trained run directories")
    parser.add_argument("--hold", type=int, nargs="+", default=[1],
                        help="steps each action is held (1: the policy as it is)")
    parser.add_argument("--reference", default="eigrp_paper")
    parser.add_argument("--topology", default="nx-XS")
    parser.add_argument("--traffic", default="tcp_high")
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=9001, help="first reset seed")
    parser.add_argument("--episode-steps", type=int, default=100)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--name", default="route_quality",
                        help="results file stem (experiments/results/<name>.{md,json})")
    parser.add_argument("--no-write", action="store_true", help="do not write result files")
    args = parser.parse_args(argv)
    if args.episodes < 1 or args.workers < 1 or min(args.hold) < 1:
        parser.error("--episodes, --workers and every --hold must be >= 1")
    seeds = range(args.seed, args.seed + args.episodes)
    jobs = [(args.reference, 1, args.topology, args.traffic, s, args.episode_steps)
            for s in seeds]
    jobs += [(p, h, args.topology, args.traffic, s, args.episode_steps)
             for p in args.policies if p != args.reference
             for h in (args.hold if is_learned_model(p) else [1]) for s in seeds]
    load_start = list(os.getloadavg())
    results: dict[tuple[str, int], dict[int, dict[str, float]]] = {}
    with ProcessPoolExecutor(args.workers) as pool:
        for name, hold, seed, m in tqdm(pool.map(_play, jobs), total=len(jobs),
                                        desc="episodes", unit="ep"):
            results.setdefault((name, hold), {})[seed] = m
    load_end = list(os.getloadavg())
    rows = summarise(results, args.reference)
    header = ["approach", "hold [steps]", "runs", f"goodput / {args.reference}",
              "entries changed per step", "path hops", "hops above fewest",
              "round-trip propagation [ms]", "retransmitted [MB/step]"]
    table = [[r["approach"], r["hold"], r["runs"],
              f"{r['goodput_ratio']:.3f} (CI {r['ci'][0]:.3f}-{r['ci'][1]:.3f}) "
              f"[{r['min']:.3f}, {r['max']:.3f}]", f"{r['fluctuation']:.3f}",
              f"{r['hops']:.2f}", f"{r['excess_hops']:.3f}", f"{r['rtt_prop_ms']:.2f}",
              f"{r['retransmitted_mb']:.4f}"] for r in rows]
    body = (f"{args.topology} / {args.traffic}, reset seeds {seeds[0]}..{seeds[-1]} for every "
            f"policy ({args.episodes} episodes of {args.episode_steps} steps per run and hold); "
            "path metrics weighted by the bytes of the episode's demands per node pair.\n\n"
            + markdown_table(header, table) + "\n\n" + load_sentence(load_start, load_end))
    print(body)
    if not args.no_write:
        write_results(args.name, "Route choice versus route changes", body,
                      {"topology": args.topology, "traffic": args.traffic,
                       "seeds": list(seeds), "reference": args.reference, "rows": rows,
                       "episodes": {f"{n}|{h}": v for (n, h), v in results.items()},
                       "load_average": [load_start, load_end]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
