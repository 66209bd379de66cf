# SPDX-License-Identifier: GPL-2.0-only
"""Training throughput: where the time of a PPO iteration goes, for FieldLines and M-Slim.

Each configuration trains a fresh run for ``--iterations`` iterations of the paper's size (16
episodes x 100 steps, B.7 settings) on the policy's training scenario (registry: FieldLines
nx-XS flex, M-Slim NSFNet+GEANT2 flex), without periodic evaluation. The time is split by
timing SB3's calls in this process:

- simulation: the vector env's ``step_async`` + ``step_wait`` (simulators stepping, resets at
  episode ends, observation building);
- inference and buffer: the rest of ``collect_rollouts`` (policy forward, rollout buffer, SB3);
- update: ``PPO.train`` (n_epochs over the rollout);
- bookkeeping: everything else (checkpoint, statistics, setup), per iteration.

Core utilisation is the CPU time of this process and of its simulator processes (each
episode's simulator is a child process, reaped at the episode's end, so ``getrusage``
counts it) over the run's wall time times the machine's cores: what is left below 1 is
time when a core was idle (or busy with other work), e.g. while simulators wait for the
slowest of a lockstep step.

The configurations differ in the simulators stepped concurrently (``n_envs``) and the PyTorch
threads of the update (``update_threads``; rollouts always use 1). Projected hours = the
paper's 160,000 training steps at the measured steps per second. Run: ``.venv/bin/python experiments/bench_training.py`` (10-20 minutes on 2
cores; results in ``experiments/results/bench_training.{md,json}``). Configurations alternate
between policies so that a change of machine load affects both.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments._benchutil import load_sentence, markdown_table, write_results  # noqa: E402
from packerl.app.training import TrainConfig, train  # noqa: E402
from packerl.vector import PackeRLSB3VecEnv  # noqa: E402
from policies.registry import entry  # noqa: E402

#: the paper's training budget: 100 iterations x 16 episodes x 100 steps
PAPER_STEPS = 160_000
#: (n_envs, update_threads) of the configurations compared
CONFIGS = ((2, 1), (2, None), (4, None), (8, None))


@contextlib.contextmanager
def timed(owner: type, names: tuple[str, ...], into: dict[str, float], key: str):
    """Accumulate the wall time of ``owner``'s methods ``names`` in ``into[key]``."""
    originals = {n: getattr(owner, n) for n in names}

    def wrap(fn):
        def inner(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                into[key] += time.perf_counter() - t0
        return inner

    for n, fn in originals.items():
        setattr(owner, n, wrap(fn))
    try:
        yield
    finally:
        for n, fn in originals.items():
            setattr(owner, n, fn)


def measure(policy: str, iterations: int, n_envs: int, update_threads: int | None,
            episodes: int) -> dict[str, Any]:
    """One fresh training run, its time split (seconds per iteration)."""
    from stable_baselines3 import PPO

    times: dict[str, float] = defaultdict(float)
    scenario = entry(policy).train_scenario
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(policy=policy, iterations=iterations, eval_every=0, out=out,
                             n_envs=n_envs, update_threads=update_threads,
                             episodes_per_iteration=episodes, **scenario)
        cpu0, t0 = _cpu_seconds(), time.perf_counter()
        with timed(PackeRLSB3VecEnv, ("step_async", "step_wait"), times, "simulation"), \
                timed(PPO, ("collect_rollouts",), times, "rollout"), \
                timed(PPO, ("train",), times, "update"):
            train(config, progress=False)
        wall = time.perf_counter() - t0
        cpu = {k: v - cpu0[k] for k, v in _cpu_seconds().items()}
    per = {k: v / iterations for k, v in times.items()}
    per["inference_and_buffer"] = per["rollout"] - per["simulation"]
    per["bookkeeping"] = wall / iterations - per["rollout"] - per["update"]
    per["iteration"] = wall / iterations
    return {"policy": policy, "topology": scenario["topology"], "traffic": scenario["traffic"],
            "n_envs": n_envs, "update_threads": config.update_threads,
            "iterations": iterations, "steps_per_iteration": config.steps_per_iteration,
            "seconds_per_iteration": per,
            "cpu_seconds_per_iteration": {k: v / iterations for k, v in cpu.items()},
            "core_utilisation": (cpu["self"] + cpu["simulators"]) / (wall * (os.cpu_count() or 1)),
            "steps_per_second": config.steps_per_iteration / per["iteration"],
            "projected_hours_160k_steps": PAPER_STEPS / (config.steps_per_iteration /
                                                         per["iteration"]) / 3600}


def _cpu_seconds() -> dict[str, float]:
    """User + system CPU seconds so far of this process and of its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"self": own.ru_utime + own.ru_stime,
            "simulators": children.ru_utime + children.ru_stime}


def parse_config(text: str) -> tuple[int, int | None]:
    """``"N:T"`` -> (n_envs, update threads); ``T`` may be ``all`` (every core)."""
    try:
        n, t = text.split(":")
        return int(n), None if t == "all" else int(t)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"configuration {text!r} is not N_ENVS:THREADS (e.g. 4:all or 2:1)") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", nargs="+", default=["fieldlines", "mslim"])
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--episodes-per-iteration", type=int, default=16)
    parser.add_argument("--configs", nargs="+", type=parse_config, default=list(CONFIGS),
                        metavar="N_ENVS:THREADS",
                        help="configurations to measure, e.g. 4:all 2:1 (default: all of "
                             "CONFIGS; the baseline 2:1 is needed for the speed-up lines)")
    parser.add_argument("--out", type=Path, default=None, help="results directory")
    args = parser.parse_args(argv)
    load_start, t0 = list(os.getloadavg()), time.perf_counter()
    runs = []
    for n_envs, threads in args.configs:
        for policy in args.policies:
            print(f"{policy}: n_envs={n_envs}, update_threads={threads or 'all'} ...", flush=True)
            runs.append(measure(policy, args.iterations, n_envs, threads,
                                args.episodes_per_iteration))
    parts = ("simulation", "inference_and_buffer", "update", "bookkeeping")
    rows = []
    for r in runs:
        per = r["seconds_per_iteration"]
        rows.append([r["policy"], f"{r['topology']} / {r['traffic']}", r["n_envs"],
                     r["update_threads"], f"{per['iteration']:.1f}",
                     *(f"{per[p]:.1f} ({100 * per[p] / per['iteration']:.0f}%)" for p in parts),
                     f"{r['cpu_seconds_per_iteration']['simulators']:.1f}",
                     f"{r['cpu_seconds_per_iteration']['self']:.1f}",
                     f"{r['core_utilisation']:.2f}",
                     f"{r['steps_per_second']:.1f}", f"{r['projected_hours_160k_steps']:.2f}"])
    base = {r["policy"]: r for r in runs if (r["n_envs"], r["update_threads"]) == (2, 1)}
    ratios = [f"- {r['policy']}, n_envs={r['n_envs']}, update_threads={r['update_threads']}: "
              f"{base[r['policy']]['seconds_per_iteration']['iteration'] / r['seconds_per_iteration']['iteration']:.2f}x "
              "the iterations per hour of n_envs=2, update_threads=1"
              for r in runs if r["policy"] in base and r is not base[r["policy"]]]
    body = "\n".join([
        load_sentence(load_start, list(os.getloadavg())),
        f"Total wall time {time.perf_counter() - t0:.0f} s; {args.iterations} iteration(s) "
        "per configuration, fresh run each (the first iteration includes model setup and the "
        "simulators' first resets).", "",
        markdown_table(["policy", "scenario", "n_envs", "update threads", "s / iteration",
                        "simulation s", "inference + buffer s", "update s", "bookkeeping s",
                        "simulator CPU s", "trainer CPU s", "core utilisation",
                        "env steps/s", "hours for 160,000 steps"], rows), "",
        *(["Speed-up against n_envs=2 with a 1-thread update (same run, same machine):", "",
           *ratios] if ratios else [])])
    md, _ = write_results("bench_training", "Training throughput", body, {"runs": runs},
                          args.out)
    print(md.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
