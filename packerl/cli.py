# SPDX-License-Identifier: GPL-2.0-only
"""The ``packerl`` command line: evaluate routing policies and compare the results.

Examples::

    packerl evaluate --policy eigrp --topology nx-XS --traffic tcp_high --episodes 100 \\
        --seed 9001 --out results/
    packerl evaluate --policy random_nh --topology nx-XS --traffic tcp_high --episodes 100 \\
        --seed 9001 --out results/
    packerl compare results/* --reference eigrp --out results/comparison.png
    packerl sweep experiments/sweeps/fig3_smoke.yaml --out experiments/results/sweeps
    packerl report experiments/results/sweeps/fig3_smoke

Exit status: 0 on success, 1 when a run fails (e.g. the simulator crashes), 2 on bad usage
(unknown policy or preset names, out-of-range numbers, missing result directories), 130 when
interrupted (finished episodes are kept; re-run the same command to resume).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

USAGE_ERROR, RUN_ERROR, INTERRUPTED = 2, 1, 130
SHOWN = (("total_goodput_mb", "goodput [MB]"), ("avg_delay_ms", "avg delay [ms]"),
         ("max_delay_ms", "max delay [ms]"), ("avg_jitter_ms", "jitter [ms]"),
         ("drop_ratio", "drop ratio"), ("max_link_util", "max LU"),
         ("action_fluctuation", "action fluctuation"), ("inference_ms", "inference [ms]"))


def _number(kind: type, minimum: float, strict: bool, what: str):
    """An argparse type: ``kind`` values >= (or, with ``strict``, >) ``minimum``, finite."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (value > minimum if strict else value >= minimum) or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value
    return parse


_positive_int = _number(int, 1, False, "a positive integer")
_seed = _number(int, 0, False, "a non-negative integer")
_positive_float = _number(float, 0.0, True, "a positive number")


def build_parser() -> argparse.ArgumentParser:
    from policies.baselines import POLICIES

    parser = argparse.ArgumentParser(
        prog="packerl", description="Train, evaluate and compare routing policies on PackeRL.")
    sub = parser.add_subparsers(dest="command", required=True,
                                metavar="{train,evaluate,compare,sweep,report}")

    tr = sub.add_parser(
        "train", help="train FieldLines or M-Slim with PPO (defaults: the paper's B.7)",
        description="Train a GNN routing policy with stable-baselines3 PPO. Every iteration "
                    "collects --episodes-per-iteration episodes with --envs simulators in "
                    "parallel and is checkpointed; --resume continues an interrupted run. "
                    "The run directory is OUT/<policy>__<topology>__<traffic>__seed<SEED>; "
                    "pass it to `packerl evaluate --policy`.")
    tr.add_argument("--policy", required=True, choices=["fieldlines", "mslim"])
    tr.add_argument("--topology", default="nx-XS", help="synnet topology preset (default: nx-XS)")
    tr.add_argument("--traffic", default="flex", help="synnet traffic preset (default: flex)")
    tr.add_argument("--link-failures", default=None, help="none or weibull (default: none)")
    tr.add_argument("--iterations", type=_positive_int, default=100,
                    help="PPO iterations (default: 100 = 160,000 steps)")
    tr.add_argument("--episodes-per-iteration", type=_positive_int, default=16,
                    help="episodes per iteration (default: 16)")
    tr.add_argument("--episode-steps", type=_positive_int, default=100,
                    help="steps per episode (default: 100)")
    tr.add_argument("--envs", type=_positive_int, default=2,
                    help="environments stepped in parallel (default: 2)")
    tr.add_argument("--n-epochs", type=_positive_int, default=10, help="PPO epochs (default: 10)")
    tr.add_argument("--batch-size", type=_positive_int, default=400,
                    help="minibatch size (default: 400)")
    tr.add_argument("--lr", type=_positive_float, default=None,
                    help="Adam learning rate (default: 5e-5 FieldLines, 3e-3 M-Slim)")
    tr.add_argument("--warm-start", type=int, default=None,
                    help="iterations executing EIGRP's actions (default: 5 FieldLines, 0 M-Slim)")
    tr.add_argument("--eval-every", type=int, default=10,
                    help="evaluate every N iterations, 0 = never (default: 10)")
    tr.add_argument("--eval-episodes", type=_positive_int, default=4,
                    help="episodes per evaluation (default: 4)")
    tr.add_argument("--seed", type=_seed, default=0, help="seed (default: 0)")
    tr.add_argument("--out", default="runs", help="parent of the run directory (default: runs)")
    tr.add_argument("--resume", action="store_true", help="continue the run from its checkpoint")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")

    ev = sub.add_parser(
        "evaluate", help="run a policy for some episodes and write episodes.csv/summary.json",
        description="Run a routing policy on fresh synnet scenarios (episode i uses reset "
                    "seed SEED + i) in parallel worker processes. Results go to "
                    "OUT/<policy>__<topology>__<traffic>__seed<SEED>; re-running the same "
                    "command skips the episodes already finished.")
    ev.add_argument("--policy", required=True,
                    help=f"policy name: {', '.join(sorted(POLICIES))}")
    ev.add_argument("--topology", default="nx-XS", help="synnet topology preset "
                    "(default: nx-XS)")
    ev.add_argument("--traffic", default="tcp_high", help="synnet traffic preset, e.g. "
                    "udp_high, mixed_medium, tcp_high (default: tcp_high)")
    ev.add_argument("--link-failures", default=None,
                    help="link failure preset: none or weibull (default: none)")
    ev.add_argument("--episodes", type=_positive_int, default=100,
                    help="number of episodes (default: 100)")
    ev.add_argument("--seed", type=_seed, default=9001, help="base seed (default: 9001)")
    ev.add_argument("--out", default="results", help="output directory (default: results)")
    ev.add_argument("--workers", type=_positive_int, default=None,
                    help="worker processes (default: number of CPUs)")
    ev.add_argument("--episode-steps", type=_positive_int, default=100,
                    help="steps per episode (default: 100)")
    ev.add_argument("--step-ms", type=_positive_float, default=5.0,
                    help="simulated milliseconds per step (default: 5)")
    ev.add_argument("--per-step", action="store_true", help="also write steps.csv")
    ev.add_argument("--no-progress", action="store_true", help="no progress bar")

    cmp_ = sub.add_parser(
        "compare", help="tabulate results relative to a reference policy and plot a heatmap",
        description="Group result directories by topology/traffic/failures and show each "
                    "policy's mean metrics relative to the reference policy (as in the "
                    "paper's Figures 3-4).")
    cmp_.add_argument("results", nargs="+",
                      help="result directories (runs, or directories holding runs)")
    cmp_.add_argument("--reference", default="eigrp", help="reference policy (default: eigrp)")
    cmp_.add_argument("--out", default=None,
                      help="heatmap PNG path (default: comparison.png next to the results)")

    sw = sub.add_parser(
        "sweep", help="run the trials of a sweep YAML file (Ray, or plain processes)",
        description="Train and evaluate every trial of a sweep file (see packerl/sweep.py and "
                    "experiments/sweeps/). Runs on an embedded Ray instance on this machine "
                    "(or plain processes when Ray is not installed), or on an existing Ray "
                    "cluster with --address. Results go to OUT/<name>/trials/<trial>/; "
                    "re-running the same command skips finished trials and resumes "
                    "unfinished ones.")
    sw.add_argument("file", help="sweep YAML file")
    sw.add_argument("--out", default="sweeps", help="parent of the sweep's result directory "
                    "(default: sweeps)")
    sw.add_argument("--address", default=None,
                    help="address of an existing Ray cluster (e.g. auto or ray://host:10001)")
    sw.add_argument("--backend", default="auto", choices=["auto", "ray", "processes"],
                    help="execution engine (default: auto = Ray if installed, else processes)")
    sw.add_argument("--num-cpus", type=_positive_int, default=None,
                    help="CPUs of the local Ray instance or process pool (default: all)")
    sw.add_argument("--only", nargs="+", default=None, metavar="TRIAL",
                    help="run only these trial ids")
    sw.add_argument("--dry-run", action="store_true",
                    help="list the trials and their simulation budget, run nothing")

    rp = sub.add_parser(
        "report", help="tables, heatmaps and learning curves of a sweep's results",
        description="Aggregate a sweep's per-episode results (mean over episodes, then "
                    "mean/min/max over seeds and the better half of seeds, relative to EIGRP) "
                    "into Markdown/CSV tables, heatmaps in the style of the paper's Figures "
                    "3-6, learning curves and an index.md linking them.")
    rp.add_argument("results", help="a sweep's result directory (OUT/<name> of packerl sweep)")
    rp.add_argument("--out", default=None, help="output directory (default: RESULTS/report)")
    return parser


def _evaluate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from packerl.evaluation import compare, evaluate
    from packerl.evaluation import format_number as _fmt
    from policies.baselines import check_policy_name

    try:
        check_policy_name(args.policy)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"evaluating {args.policy} on {args.topology} / {args.traffic}"
          f"{' / failures: ' + args.link_failures if args.link_failures else ''}: "
          f"{args.episodes} episodes x {args.episode_steps} steps, seeds {args.seed}.."
          f"{args.seed + args.episodes - 1}", flush=True)
    try:
        run = evaluate(args.policy, args.topology, args.traffic, args.episodes, args.seed,
                       args.out, link_failures=args.link_failures,
                       episode_steps=args.episode_steps, workers=args.workers,
                       step_ms=args.step_ms, per_step=args.per_step,
                       progress=not args.no_progress)
    except ValueError as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        print("\ninterrupted: finished episodes are kept; run the same command again to "
              "resume", file=sys.stderr)
        return INTERRUPTED
    except Exception as exc:  # a failed episode: say which, without a traceback
        print(f"packerl evaluate: error: {exc}", file=sys.stderr)
        return RUN_ERROR
    comp = compare([run], reference=args.policy)[0]
    means = comp.means[args.policy]
    print(f"mean over {comp.episodes[args.policy]} episodes: " + ", ".join(
        f"{label} {_fmt(means[m])}" for m, label in SHOWN))
    print(f"results: {run}")
    return 0


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from packerl.training import TrainConfig, train

    try:
        config = TrainConfig(
            policy=args.policy, topology=args.topology, traffic=args.traffic,
            link_failures=None if args.link_failures in (None, "none") else args.link_failures,
            iterations=args.iterations, episodes_per_iteration=args.episodes_per_iteration,
            episode_steps=args.episode_steps, n_envs=args.envs, n_epochs=args.n_epochs,
            batch_size=args.batch_size, learning_rate=args.lr,
            warm_start_iterations=args.warm_start, eval_every=args.eval_every,
            eval_episodes=args.eval_episodes, seed=args.seed, out=args.out)
        from packerl.env import PackeRLEnv

        PackeRLEnv(topology=config.topology, traffic=config.traffic,
                   link_failures=config.link_failures).close()  # preset names, early
    except ValueError as exc:
        parser.error(str(exc))
    print(f"training {config.policy} on {config.topology} / {config.traffic}: "
          f"{config.iterations} iterations x {config.steps_per_iteration} steps, "
          f"{config.n_envs} parallel environments -> {config.run_dir()}", flush=True)
    try:
        run = train(config, resume=args.resume, progress=not args.no_progress)
    except FileExistsError as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        print("\ninterrupted: the last finished iteration is checkpointed; add --resume to "
              "continue", file=sys.stderr)
        return INTERRUPTED
    print(f"model: {run / 'model.zip'}  (evaluate with: packerl evaluate --policy {run} ...)")
    return 0


def _compare(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from packerl.evaluation import compare, find_run_dirs, format_comparison, plot_comparison

    try:
        runs = find_run_dirs(args.results)
        comparisons = compare(runs, reference=args.reference)
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    for comp in comparisons:
        print(format_comparison(comp))
        print()
    if args.out is not None:
        out = Path(args.out)
    else:
        parents = {r.parent.resolve() for r in runs}
        base = Path(os.path.commonpath(parents)) if parents else Path(".")
        out = base / "comparison.png"
    print(f"heatmap: {plot_comparison(comparisons, out)}")
    return 0


def _sweep(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from packerl.sweep import SweepConfigError, load_sweep, run_sweep

    try:
        sweep = load_sweep(args.file)
    except (FileNotFoundError, SweepConfigError) as exc:
        parser.error(str(exc))
    trials = sweep.trials()
    if args.dry_run:
        for t in trials:
            train = (f"model from sweep {t.models_from}; " if t.models_from else
                     f"train {t.train.get('iterations', 100)} "
                     f"iterations on {t.train['topology']}/{t.train['traffic']}; "
                     if t.train else "")
            episodes = sum(c.episodes for c in t.cells)
            print(f"{t.trial_id}: {train}evaluate {len(t.cells)} cell(s), {episodes} "
                  f"episodes x {t.episode_steps} steps")
        print(f"{len(trials)} trial(s) -> {Path(args.out) / sweep.name}")
        return 0
    try:
        result = run_sweep(sweep, args.out, backend=args.backend, address=args.address,
                           num_cpus=args.num_cpus, only=args.only,
                           log=lambda line: print(line, flush=True))
    except (SweepConfigError, ValueError) as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        print("\ninterrupted: finished trials are kept; run the same command again to "
              "resume", file=sys.stderr)
        return INTERRUPTED
    print(f"{len(result.finished)} finished, {len(result.skipped)} skipped (already done), "
          f"{len(result.failed)} failed -> {result.root}")
    for tid, error in result.failed.items():
        print(f"failed: {tid}: {error.splitlines()[-1] if error else ''}", file=sys.stderr)
    return RUN_ERROR if result.failed else 0


def _report(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from packerl.report import report

    try:
        index = report(args.results, args.out)
    except FileNotFoundError as exc:
        parser.error(str(exc))
    print(f"report: {index}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``packerl`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        sub = parser._subparsers._group_actions[0].choices[args.command]  # for its prog
        if args.command == "train":
            return _train(args, sub)
        if args.command == "evaluate":
            return _evaluate(args, sub)
        if args.command == "sweep":
            return _sweep(args, sub)
        if args.command == "report":
            return _report(args, sub)
        return _compare(args, sub)
    except SystemExit as exc:  # argparse's usage errors (status 2) and --help (status 0)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


if __name__ == "__main__":
    sys.exit(main())
