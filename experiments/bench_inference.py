# SPDX-License-Identifier: GPL-2.0-only
"""Inference time per step of FieldLines, M-Slim, MAGNNETO and EIGRP on nx-XS ... nx-XL sizes.

Targets (SPEC): FieldLines <= 10 ms and M-Slim <= 100 ms at 250 nodes on one CPU core.
FieldLines: observation -> next-hop action (its APSP is cached per topology and reported
apart). M-Slim: observation -> link weights, plus the environment's weights -> next hops
(SciPy Dijkstra), which it needs every step. MAGNNETO (:mod:`policies.magnneto_policy`): its
whole Theta(E) optimisation loop on a random traffic matrix plus the final shortest paths,
every step (Section 6.1), on the sizes up to ``--magnneto-max-nodes`` (default 50: nx-XS, nx-S,
nx-M; a step takes seconds there already). EIGRP: weights -> next hops once per topology.
Untrained policies on synthetic observations (:mod:`experiments.synthetic`): inference cost
does not depend on the weights' or the features' values.

Usage: python experiments/bench_inference.py [--quick] [--sizes 10 25]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from experiments._benchutil import load_sentence, markdown_table, write_results  # noqa: E402
from experiments.synthetic import synthetic_observation  # noqa: E402

SIZES = {"nx-XS": 10, "nx-S": 25, "nx-M": 50, "nx-L": 100, "nx-XL": 250}
#: the SPEC's targets (not measurements): milliseconds per step at 250 nodes on one core
TARGET_MS = {"FieldLines": 10.0, "M-Slim": 100.0}


class _Threads:
    """Set torch's intra-op threads for a measurement (None: leave them), then restore."""

    def __init__(self, threads: int | None):
        self.threads = threads

    def __enter__(self) -> None:
        import torch

        self.old = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)

    def __exit__(self, *exc) -> None:
        import torch

        torch.set_num_threads(self.old)


def fieldlines_inference(num_nodes: int, repeats: int = 50, warmup: int = 5, seed: int = 0,
                         threads: int | None = 1, deterministic: bool = True
                         ) -> dict[str, float]:
    """Time one FieldLines action (obs -> next-hop action) on a ``num_nodes`` topology.

    The APSP is cached after the first call (same topology), as in an episode without link
    failures; ``apsp_ms`` reports that one-off cost separately.

    Returns:
        ``num_nodes``, ``num_edges`` (directed), ``mean_ms``, ``median_ms``, ``p95_ms``,
        ``min_ms`` per step, and ``apsp_ms`` (one-off per topology).
    """
    import torch

    from packerl.spaces import next_hop_action_space
    from policies.fieldlines import FieldLinesPolicy

    obs, space = synthetic_observation(num_nodes, seed=seed)
    p = obs["node_mask"].shape[0]
    working = obs["edge_mask"] > 0
    with _Threads(threads):
        torch.manual_seed(seed)
        policy = FieldLinesPolicy(space, next_hop_action_space(p, "node"), lambda _: 5e-5)
        policy.set_training_mode(False)
        t0 = time.perf_counter()
        policy.cache.get(num_nodes, obs["edge_index"][:, working], obs["link_props"][working])
        apsp_ms = (time.perf_counter() - t0) * 1e3
        times = []
        with torch.no_grad():
            for i in range(warmup + repeats):
                t0 = time.perf_counter()
                tensors = {k: torch.as_tensor(v[None]) for k, v in obs.items()}
                policy._predict(tensors, deterministic=deterministic).numpy()
                if i >= warmup:
                    times.append((time.perf_counter() - t0) * 1e3)
    return {"num_nodes": num_nodes, "num_edges": int(working.sum()),
            "mean_ms": float(np.mean(times)), "median_ms": float(np.median(times)),
            "p95_ms": float(np.percentile(times, 95)), "min_ms": float(np.min(times)),
            "apsp_ms": apsp_ms}


def mslim_inference(num_nodes: int, repeats: int = 50, warmup: int = 5, seed: int = 0,
                    threads: int | None = 1) -> dict[str, float]:
    """Time one M-Slim routing decision on a synthetic ``num_nodes`` topology.

    The policy time is ``MSlimPolicy.predict(obs, deterministic=True)`` for one unbatched
    observation (observation to tensors, line digraph, actor MPN, Softplus, back to NumPy),
    excluding the shortest-path step; ``apsp_*`` is the environment's weights -> next hops
    (:func:`packerl.routing.next_hops_from_weights`, SciPy Dijkstra) on the same weights.

    Args:
        num_nodes: topology size.
        repeats: timed repetitions (default: 50).
        warmup: untimed repetitions first (default: 5).
        seed: topology and initialisation seed (default: 0).
        threads: torch intra-op threads during the measurement (default: 1, one core;
            None leaves torch's setting).

    Returns:
        ``mean_ms``, ``p95_ms`` (policy), ``apsp_mean_ms``, ``apsp_p95_ms``, ``num_nodes``,
        ``num_links`` (working directed edges) and ``num_arcs`` (line-digraph arcs).
    """
    import torch

    from packerl.routing import next_hops_from_weights
    from packerl.spaces import graph_of, link_weight_action_space
    from policies.mslim import MSlimPolicy, line_digraph

    obs, space = synthetic_observation(num_nodes, seed=seed)
    action_space = link_weight_action_space(obs["edge_mask"].shape[0] // 2, "raw")
    torch.manual_seed(seed)
    policy = MSlimPolicy(space, action_space, lambda _: 3e-3)
    policy.set_training_mode(False)
    n, slots, ei = graph_of(obs)
    policy_ms, apsp_ms = [], []
    with _Threads(threads):
        for i in range(warmup + repeats):
            t0 = time.perf_counter()
            weights, _ = policy.predict(obs, deterministic=True)
            t1 = time.perf_counter()
            next_hops_from_weights(n, ei, weights[slots].astype(np.float64))
            t2 = time.perf_counter()
            if i >= warmup:
                policy_ms.append((t1 - t0) * 1e3)
                apsp_ms.append((t2 - t1) * 1e3)
    arcs = line_digraph(torch.as_tensor(ei), n).shape[1]
    return {
        "num_nodes": float(n), "num_links": float(len(slots)), "num_arcs": float(arcs),
        "mean_ms": float(np.mean(policy_ms)), "p95_ms": float(np.percentile(policy_ms, 95)),
        "apsp_mean_ms": float(np.mean(apsp_ms)), "apsp_p95_ms": float(np.percentile(apsp_ms, 95)),
    }


def magnneto_inference(num_nodes: int, repeats: int = 3, seed: int = 0,
                       threads: int | None = 1) -> dict[str, float]:
    """Time MAGNNETO's decision of one step (:class:`policies.magnneto_policy.MagnnetoPolicy`:
    Theta(E) increments, each an actor MPNN pass and a fluid re-routing, then the final next
    hops) on a synthetic ``num_nodes`` topology with a random traffic matrix.

    Returns:
        ``mean_ms``, ``min_ms`` per step and ``horizon`` (increments per step).
    """
    import torch

    from policies.magnneto import MagnnetoActor, horizon_of
    from policies.magnneto_policy import TRAFFIC_MATRIX_KEY, MagnnetoPolicy

    obs, _ = synthetic_observation(num_nodes, frames=1, seed=seed)
    rng = np.random.default_rng(seed)
    tm = rng.exponential(1e4, (num_nodes, num_nodes)).astype(np.float32)
    np.fill_diagonal(tm, 0.0)
    obs = {**obs, TRAFFIC_MATRIX_KEY: tm}
    torch.manual_seed(seed)
    policy = MagnnetoPolicy(MagnnetoActor(), obs["node_mask"].shape[0],
                            obs["edge_mask"].shape[0] // 2, seed=seed)
    times = []
    with _Threads(threads):
        for _ in range(repeats):
            t0 = time.perf_counter()
            policy.act(obs)
            times.append((time.perf_counter() - t0) * 1e3)
    return {"mean_ms": float(np.mean(times)), "min_ms": float(np.min(times)),
            "horizon": float(horizon_of(int(obs["edge_mask"].sum())))}


def eigrp_ms(num_nodes: int, repeats: int, seed: int = 0) -> float:
    """Median time of EIGRP's weights -> next hops on the synthetic topology."""
    from packerl.routing import eigrp_weights, next_hops_from_weights
    from packerl.spaces import graph_of

    obs, _ = synthetic_observation(num_nodes, frames=1, seed=seed)
    n, slots, ei = graph_of(obs)
    w = eigrp_weights(obs["link_props"][slots, 0], obs["link_props"][slots, 1])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        next_hops_from_weights(n, ei, w)
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="node counts (default: the nx-XS ... nx-XL largest sizes)")
    parser.add_argument("--magnneto-max-nodes", type=int, default=50,
                        help="time MAGNNETO up to this many nodes (default: 50)")
    parser.add_argument("--magnneto-repeats", type=int, default=3,
                        help="timed MAGNNETO steps per size (default: 3)")
    parser.add_argument("--no-write", action="store_true", help="do not write result files")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    sizes = ({f"{n} nodes": n for n in args.sizes} if args.sizes else SIZES)
    repeats = 10 if args.quick else 50
    load_start = list(os.getloadavg())
    rows = []
    for preset, n in sizes.items():
        fl = fieldlines_inference(n, repeats=repeats)
        ms = mslim_inference(n, repeats=repeats)
        mg = (magnneto_inference(n, repeats=args.magnneto_repeats)
              if n <= args.magnneto_max_nodes else None)
        rows.append({
            "preset": preset, "nodes": n, "directed edges": fl["num_edges"],
            "FieldLines mean [ms]": round(fl["mean_ms"], 2),
            "FieldLines p95 [ms]": round(fl["p95_ms"], 2),
            "FieldLines APSP once [ms]": round(fl["apsp_ms"], 2),
            "M-Slim policy mean [ms]": round(ms["mean_ms"], 2),
            "M-Slim policy p95 [ms]": round(ms["p95_ms"], 2),
            "M-Slim + Dijkstra mean [ms]": round(ms["mean_ms"] + ms["apsp_mean_ms"], 2),
            "MAGNNETO mean [ms]": round(mg["mean_ms"], 1) if mg else "not run",
            "MAGNNETO increments": int(mg["horizon"]) if mg else "-",
            "EIGRP table [ms]": round(eigrp_ms(n, repeats), 2),
        })
        print(rows[-1], flush=True)
    load_end = list(os.getloadavg())
    last = rows[-1]
    header = list(rows[0])
    intro = (f"Load average at start {load_start}, at end {load_end}. "
             f"{load_sentence(load_start, load_end)}")
    setup = ("Synthetic Watts-Strogatz topologies of the sizes below (by default each nx "
             "preset's largest), random "
             "features (`experiments.synthetic.synthetic_observation`, 4 stacked frames); "
             f"{repeats} timed repetitions after warm-up; untrained weights; one PyTorch "
             f"thread. MAGNNETO: {args.magnneto_repeats} timed steps per size (no warm-up), "
             "each its whole optimisation loop on a random traffic matrix.")
    verdict = (f"SPEC targets at 250 nodes: FieldLines <= {TARGET_MS['FieldLines']:g} ms, "
               f"M-Slim <= {TARGET_MS['M-Slim']:g} ms. Measured at {last['nodes']} nodes: "
               f"FieldLines mean {last['FieldLines mean [ms]']} ms, M-Slim policy + Dijkstra "
               f"{last['M-Slim + Dijkstra mean [ms]']} ms.")
    table = markdown_table(header, [[r[h] for h in header] for r in rows])
    body = f"{intro}\n\n{setup}\n\n{table}\n\n{verdict}"
    if args.no_write:
        print(body)
        return 0
    md, _ = write_results("bench_inference", "Inference time per step", body,
                          {"rows": rows, "repeats": repeats})
    print(md.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
