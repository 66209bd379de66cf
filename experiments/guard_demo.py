# SPDX-License-Identifier: GPL-2.0-only
"""The guard on a small setting: guarded vs unguarded vs EIGRP on the same scenarios, with and
without link failures, shadow-mode agreement, fallback frequency and reasons, and the
timeline of one episode.

Wrapped policies: the FieldLines checkpoint of the running reproduction training (copied to a
temporary directory first, since training rewrites it; a copy caught mid-write fails the
checksum and is taken again) and Random (NH). The guard's input ranges are recorded from
EIGRP on FieldLines' training scenarios (nx-XS / flex), so the input check asks "is this
telemetry like the training telemetry?".

    .venv/bin/python experiments/guard_demo.py [--episodes 3] [--steps 100]

Writes experiments/results/guard_demo.{json,md,png}. The machine is shared with a training
run: inference times and wall times are loaded-machine numbers (the load average is recorded).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import gymnasium as gym

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import packerl
from experiments._benchutil import cpu_snapshot, other_cores, other_work_sentence
from packerl.app.guard_report import (
    format_audit_summaries,
    format_guard_comparison,
    guard_comparison,
    guard_label,
    load_audit_logs,
    plot_timeline,
)
from policies.baselines import EIGRP
from policies.guard import record_ranges
from policies.runs import TamperedRunError, load_run

RESULTS = Path(__file__).resolve().parent / "results"
MAX_CHANGE = 0.1  # share of next-hop entries the wrapped policy may change per step
MAX_DROP_RATIO = 0.15  # a step with more drops is degraded (3 in a row: fallback)
CHECKPOINT = (RESULTS / "sweeps" / "repro_train" / "trials" / "fieldlines__nx-XS__flex__seed0"
              / "train" / "fieldlines__nx-XS__flex__seed0")


def copy_checkpoint(src: Path, dst: Path, attempts: int = 5) -> Path:
    """A verified copy of a run directory that training may be rewriting."""
    for _ in range(attempts):
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("tensorboard"))
        try:
            load_run(dst)
            return dst
        except TamperedRunError:  # copied between a save and its digest
            time.sleep(5)
    raise SystemExit(f"could not take a consistent copy of {src}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--episodes", type=int, default=3)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--seed", type=int, default=9001)
    ap.add_argument("--topology", default="nx-XS")
    ap.add_argument("--traffic", default="tcp_high")
    ap.add_argument("--work", default="/tmp/guard_demo")
    args = ap.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    load_start, cpu_start = os.getloadavg(), cpu_snapshot()
    t0 = time.time()

    wrapped = {"random_nh": "random_nh", "random_lw": "random_lw"}
    if CHECKPOINT.is_dir():  # one directory per iteration: results never mix checkpoints
        run = copy_checkpoint(CHECKPOINT, work / "fieldlines_copy")
        state = json.loads((run / "state.json").read_text())
        named = work / f"fieldlines_iter{state['iteration']}"
        shutil.rmtree(named, ignore_errors=True)
        run = run.rename(named)
        wrapped["fieldlines"] = str(run)
    else:
        state = None
        print(f"no checkpoint at {CHECKPOINT}: only Random (NH) is wrapped", file=sys.stderr)

    env = gym.make(packerl.ENV_ID, topology=args.topology, traffic="flex",
                   episode_steps=args.steps)
    try:  # reference ranges: EIGRP on the training distribution (nx-XS / flex)
        ranges = record_ranges(env, EIGRP.from_env(env), episodes=4, seed=1000,
                               source=f"EIGRP on 4 {args.topology} / flex training episodes")
    finally:
        env.close()
    ranges_path = ranges.save(work / "ranges.json")

    policies = ["eigrp"]
    guards = {}
    for key, inner in wrapped.items():
        guarded = (f"guard:{inner},ranges={ranges_path},range_margin=0.25,budget_ms=1000,"
                   f"max_change={MAX_CHANGE},max_drop_ratio={MAX_DROP_RATIO},"
                   f"degraded_steps=3,recovery_steps=5,"
                   f"audit={work / 'audit' / (key + '_guard')}")
        shadow = f"guard:{inner},mode=shadow,audit={work / 'audit' / (key + '_shadow')}"
        policies += [inner, guarded, shadow]
        guards[key] = (guarded, shadow)
    print(f"guard demo: {len(policies)} policies on {args.topology} / {args.traffic}, "
          f"{args.episodes} episodes x {args.steps} steps, with and without link failures; "
          f"load average at start {load_start}", flush=True)
    result = guard_comparison(policies, args.topology, args.traffic, args.episodes, args.seed,
                              work / "results", episode_steps=args.steps)

    def events(log):
        return sum(len(r["events"]) for r in log[1])

    timeline_key, (header, steps) = max(
        ((key, log) for key in guards
         for log in load_audit_logs([work / "audit" / f"{key}_guard" / "weibull"])),
        key=lambda item: events(item[1]))
    png = plot_timeline(header, steps, RESULTS / "guard_demo.png",
                        title=f"{guard_label(guards[timeline_key][0])} on {args.topology} / "
                              f"{args.traffic} with link failures, episode seed "
                              f"{header['seed']}")

    load_end, cpu_end = os.getloadavg(), cpu_snapshot()
    out = {
        "command": "python experiments/guard_demo.py " + " ".join(argv or sys.argv[1:]),
        "setting": {"topology": args.topology, "traffic": args.traffic,
                    "episodes": args.episodes, "steps": args.steps, "seed": args.seed},
        "fieldlines_checkpoint": state,
        "ranges": ranges.source,
        "policies": policies,
        "comparisons": {k: {"policies": c.policies, "episodes": c.episodes, "means": c.means,
                            "ratios": c.ratios} for k, c in result["comparisons"].items()},
        "audit": result["audit"],
        "timeline": {"guard": guards[timeline_key][0], "seed": header["seed"]},
        "load_average": {"start": load_start, "end": load_end},
        "wall_s": time.time() - t0,
        "other_cores": other_cores(cpu_start, cpu_end),
    }
    (RESULTS / "guard_demo.json").write_text(json.dumps(out, indent=2, default=str) + "\n")
    md = [f"# Guard demo: {args.topology} / {args.traffic}, {args.episodes} episodes x "
          f"{args.steps} steps (seeds {args.seed}..{args.seed + args.episodes - 1})", "",
          f"Command: `{out['command']}`. Load average {load_start} at the start, {load_end} at "
          f"the end. {other_work_sentence(cpu_start, cpu_end)} Inference and wall times are "
          "noisy when other work shares the cores.",
          "", f"FieldLines checkpoint: {state}." if state else "No FieldLines checkpoint.", "",
          f"Guard options: input ranges from {ranges.source} (margin 25% of each range), "
          "inference budget 1000 ms (the tables' inference column: what each policy took per "
          "step in this run), at most {MAX_CHANGE:.0%} of next-hop entries changed per step, fallback "
          f"to EIGRP after 3 steps with a drop ratio above {MAX_DROP_RATIO}, back after 5 "
          "healthy steps. Random (NH) tables loop; Random (LW) tables are loop-free shortest "
          "paths over random weights.", ""]
    for key, comp in result["comparisons"].items():
        md += [f"## Link failures: {key}", "", format_guard_comparison(comp), "",
               "What the guards did (from their audit logs):", "",
               format_audit_summaries(result["audit"][key]), ""]
    md += [f"![timeline]({png.name})", "",
           f"Timeline: {guard_label(guards[timeline_key][0])}, the episode with the most guard "
           f"events (seed {header['seed']}, link failures on)."]
    (RESULTS / "guard_demo.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
