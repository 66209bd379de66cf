# SPDX-License-Identifier: GPL-2.0-only
"""Training runs side by side: the learning curves of an ablation and of the run it varies.

For every run directory it reads the periodic deterministic evaluation (``eval.csv``: return,
i.e. MB received per episode, drop ratio and delay on fixed seeds), the return of PPO's own
(sampled) rollouts per iteration from the run's TensorBoard stream, and the learned
exploration parameter of its checkpoint (FieldLines' temperature, M-Slim's sigma). It
prints one table per quantity (a row per evaluated iteration, a column per run) and writes
them with a plot of both curves to ``--out`` (``.json``, ``.md``, ``.png``).

Run: ``.venv/bin/python experiments/ablations.py RUN_DIR [RUN_DIR ...] [--labels A B ...]
[--out experiments/results/ablations]``. The runs should share their evaluation settings
(the sweep files in ``experiments/sweeps/ablations/`` share repro_train.yaml's).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EVAL_COLUMNS = ("return", "drop_ratio", "avg_delay_ms")


def eval_curve(run: Path) -> dict[int, dict[str, float]]:
    """``{iteration: {column: value}}`` of the run's ``eval.csv`` (empty if none)."""
    path = run / "eval.csv"
    if not path.is_file():
        return {}
    with path.open() as f:
        return {int(r["iteration"]): {c: float(r[c]) for c in EVAL_COLUMNS if c in r}
                for r in csv.DictReader(f)}


def rollout_curve(run: Path, steps_per_iteration: int) -> dict[int, float]:
    """``{iteration: mean episode return of that iteration's sampled rollouts}``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out: dict[int, float] = {}
    for events in sorted(run.glob("tensorboard/**/events.out.tfevents.*")):
        acc = EventAccumulator(str(events), size_guidance={"scalars": 0})
        acc.Reload()
        if "rollout/ep_rew_mean" in acc.Tags()["scalars"]:
            for e in acc.Scalars("rollout/ep_rew_mean"):
                out[round(e.step / steps_per_iteration)] = float(e.value)
    return dict(sorted(out.items()))


#: checkpoint parameters that set a policy's exploration, stored as logs: FieldLines'
#: Boltzmann temperature, M-Slim's Gaussian standard deviation
EXPLORATION_PARAMETERS = {"log_temperature": "temperature", "log_std": "sigma"}


def exploration(run: Path) -> str | None:
    """The learned exploration parameter of a run's checkpoint, as ``"<name> <value>"`` (None
    if it has no checkpoint or none of :data:`EXPLORATION_PARAMETERS`)."""
    import zipfile

    import torch

    path = run / "checkpoint.zip"
    if not path.is_file():
        return None
    with zipfile.ZipFile(path) as z, z.open("policy.pth") as f:
        state = torch.load(f, map_location="cpu", weights_only=True)
    for key, name in EXPLORATION_PARAMETERS.items():
        if key in state:
            return f"{name} {float(state[key].exp()):.3f}"
    return None


def summarise(run: Path) -> dict:
    config = json.loads((run / "config.json").read_text())
    steps = int(config["episodes_per_iteration"]) * int(config["episode_steps"])
    state = json.loads((run / "state.json").read_text()) if (run / "state.json").is_file() else {}
    return {"run": str(run), "policy_kwargs": config.get("policy_kwargs", {}),
            "learning_rate": config.get("learning_rate"),
            "warm_start_iterations": config.get("warm_start_iterations"),
            "noise_hold": config.get("noise_hold", 1),
            "iterations_done": state.get("iteration"), "wall_seconds": state.get("wall_seconds"),
            "exploration": exploration(run), "eval": eval_curve(run),
            "rollout": rollout_curve(run, steps)}


def table(runs: list[dict], labels: list[str], key: str, column: str | None,
          iterations: list[int]) -> list[str]:
    lines = ["| iteration | " + " | ".join(labels) + " |",
             "|---" * (len(labels) + 1) + "|"]
    for it in iterations:
        cells = []
        for r in runs:
            v = r[key].get(it)
            v = v.get(column) if isinstance(v, dict) else v
            cells.append("" if v is None else f"{v:.4g}")
        lines.append(f"| {it} | " + " | ".join(cells) + " |")
    return lines


def plot(runs: list[dict], labels: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for r, label in zip(runs, labels):
        if r["rollout"]:
            x, y = zip(*r["rollout"].items())
            axes[0].plot(x, y, label=label)
        if r["eval"]:
            x = sorted(r["eval"])
            axes[1].plot(x, [r["eval"][i]["return"] for i in x], marker="o", label=label)
    axes[0].set(title="PPO rollouts (sampled actions, training traffic)", xlabel="iteration",
                ylabel="return (MB received per episode)")
    axes[1].set(title="periodic evaluation (deterministic, eval traffic)", xlabel="iteration")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="training run directories")
    parser.add_argument("--labels", nargs="+", help="one label per run (default: run names)")
    parser.add_argument("--out", type=Path, default=Path("experiments/results/ablations"),
                        help="output path without suffix")
    args = parser.parse_args(argv)
    labels = args.labels or [r.name for r in args.runs]
    if len(labels) != len(args.runs):
        parser.error(f"{len(labels)} labels for {len(args.runs)} runs")
    for run in args.runs:
        if not (run / "config.json").is_file():
            parser.error(f"`{run}` is no training run directory (no config.json)")
    runs = [summarise(r) for r in args.runs]
    evaluated = sorted({i for r in runs for i in r["eval"]})
    common_rollout = sorted(set.intersection(*(set(r["rollout"]) for r in runs)))
    rollout_rows = [i for i in common_rollout if i % 5 == 0 or i == common_rollout[-1]]
    load = os.getloadavg()
    md = [f"# {args.out.name}", "",
          f"Command: `.venv/bin/python experiments/ablations.py {' '.join(map(str, args.runs))}"
          f" --labels {' '.join(labels)} --out {args.out}`", "",
          "| run | policy_kwargs | learning rate | warm start | noise held (steps) | iterations "
          "| wall h | exploration (learned) |", "|---|---|---|---|---|---|---|---|"]
    for r, label in zip(runs, labels):
        wall = "" if r["wall_seconds"] is None else f"{r['wall_seconds'] / 3600:.2f}"
        temp = r["exploration"] or ""
        md.append(f"| {label} | {r['policy_kwargs']} | {r['learning_rate']} | "
                  f"{r['warm_start_iterations']} | {r['noise_hold']} | {r['iterations_done']} | "
                  f"{wall} | {temp} |")
    md += ["", "Deterministic evaluation return (MB received per episode, mean of the run's "
           "eval episodes):", "", *table(runs, labels, "eval", "return", evaluated), "",
           "Deterministic evaluation drop ratio:", "",
           *table(runs, labels, "eval", "drop_ratio", evaluated), "",
           "PPO rollout return (sampled actions; warm-start iterations execute EIGRP's):", "",
           *table(runs, labels, "rollout", None, rollout_rows), "",
           f"Load average when summarised: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on "
           f"{os.cpu_count()} cores (wall times above were measured under the load of their "
           "own sessions).", ""]
    text = "\n".join(md)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(
        {"labels": labels, "runs": runs, "load_average": load}, indent=1, default=str))
    plot(runs, labels, args.out.with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
