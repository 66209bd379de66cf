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
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packerl.app.compare import compare, format_comparison, format_number
from packerl.app.evaluate import NETWORK_MODELS, evaluate
from packerl.app.options import add_dataclass_arguments, dataclass_kwargs
from packerl.app.plots import plot_comparison
from packerl.app.report import UnknownReferenceError, report
from packerl.app.results import ResultsFormatError, find_run_dirs
from packerl.app.sweep import SweepConfigError, load_sweep, run_sweep
from packerl.app.training import TrainConfig, check_rollout_memory, train
from packerl.env import PackeRLEnv
from policies.factory import check_policy_name
from policies.registry import names

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


def _check_writable_dir(path: str | os.PathLike, option: str) -> None:
    """Raise ``ValueError`` unless ``path`` is, or can be created as, a writable directory.

    Creates nothing that stays: a probe file in the nearest existing ancestor is removed at
    once (``os.access`` would say yes to root on a read-only file system).
    """
    probe = Path(path)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        raise ValueError(f"{option} `{path}` is not writable: `{probe}` is not a directory")
    try:
        fd, name = tempfile.mkstemp(dir=probe, prefix=".packerl-write-test-")
    except OSError as exc:
        raise ValueError(f"{option} `{path}` is not writable: cannot create files in "
                         f"`{probe}` ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(name)


def _check_writable_file(path: str | os.PathLike, option: str) -> None:
    """Raise ``ValueError`` unless the file ``path`` can be written (see above)."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{option} `{path}` is a directory; expected a file path (e.g. "
                         f"`{p / 'comparison.png'}`)")
    _check_writable_dir(p.parent, option)


#: TrainConfig fields `packerl train` does not offer (structured values)
TRAIN_SKIPPED = ("policy_kwargs",)


def _command(sub: Any, run: Callable[[argparse.Namespace], int], name: str, **kwargs: Any
             ) -> argparse.ArgumentParser:
    """A subcommand whose parsed arguments carry its handler (``run``) and its parser's
    ``usage_error`` (argparse's error: one line, exit status 2)."""
    parser = sub.add_parser(name, **kwargs)
    parser.set_defaults(run=run, usage_error=parser.error)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``packerl`` parser; every subcommand sets ``run`` (its handler) and
    ``usage_error`` (its parser's error, exit status 2)."""
    parser = argparse.ArgumentParser(
        prog="packerl", description="Train, evaluate and compare routing policies on PackeRL.")
    sub = parser.add_subparsers(dest="command", required=True,
                                metavar="{train,evaluate,compare,sweep,report}")

    tr = _command(
        sub, _train, "train",
        help="train FieldLines or M-Slim with PPO (defaults: the paper's B.7)",
        description="Train a GNN routing policy with stable-baselines3 PPO. Every iteration "
                    "collects --episodes-per-iteration episodes with --n-envs simulators in "
                    "parallel and is checkpointed; --resume continues an interrupted run. "
                    "The run directory is OUT/<policy>__<topology>__<traffic>__seed<SEED>; "
                    "pass it to `packerl evaluate --policy`.")
    train_fields = add_dataclass_arguments(
        tr, TrainConfig, skip=TRAIN_SKIPPED, required=("policy",),
        choices={"policy": names("learned")},
        aliases={"learning_rate": ["--lr"], "warm_start_iterations": ["--warm-start"],
                 "n_envs": ["--envs"]})
    tr.add_argument("--resume", action="store_true", help="continue the run from its checkpoint")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")
    tr.set_defaults(fields=train_fields)

    ev = _command(
        sub, _evaluate, "evaluate",
        help="run a policy for some episodes and write episodes.csv/summary.json",
        description="Run a routing policy on fresh synnet scenarios (episode i uses reset "
                    "seed SEED + i) in parallel worker processes. Results go to "
                    "OUT/<policy>__<topology>__<traffic>__seed<SEED>; re-running the same "
                    "command skips the episodes already finished.")
    ev.add_argument("--policy", required=True,
                    help=f"policy name: {', '.join(names('baseline'))}, a trained run "
                         "directory or model .zip, a MAGNNETO run directory, or a guard spec "
                         "guard:<policy>[,option=value...]")
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
    ev.add_argument("--network-model", choices=NETWORK_MODELS, default="packet",
                    help="packet (ns-3, default) or fluid (the flow-level model on the same "
                         "scenarios)")
    ev.add_argument("--per-step", action="store_true", help="also write steps.csv")
    ev.add_argument("--no-progress", action="store_true", help="no progress bar")

    cmp_ = _command(
        sub, _compare, "compare",
        help="tabulate results relative to a reference policy and plot a heatmap",
        description="Group result directories by topology/traffic/failures and show each "
                    "policy's mean metrics relative to the reference policy (as in the "
                    "paper's Figures 3-4).")
    cmp_.add_argument("results", nargs="+",
                      help="result directories (runs, or directories holding runs)")
    cmp_.add_argument("--reference", default="eigrp", help="reference policy (default: eigrp)")
    cmp_.add_argument("--out", default=None,
                      help="heatmap PNG path (default: comparison.png next to the results)")

    sw = _command(
        sub, _sweep, "sweep",
        help="run the trials of a sweep YAML file (Ray, or plain processes)",
        description="Train and evaluate every trial of a sweep file (see packerl/app/sweep.py and "
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

    rp = _command(
        sub, _report, "report",
        help="tables, heatmaps and learning curves of a sweep's results",
        description="Aggregate a sweep's per-episode results (mean over episodes, then "
                    "mean/min/max over seeds and the better half of seeds, relative to EIGRP) "
                    "into Markdown/CSV tables, heatmaps in the style of the paper's Figures "
                    "3-6, learning curves and an index.md linking them.")
    rp.add_argument("results", help="a sweep's result directory (OUT/<name> of packerl sweep)")
    rp.add_argument("--out", default=None, help="output directory (default: RESULTS/report)")
    rp.add_argument("--reference", default=None, metavar="POLICY",
                    help="the policy every value is relative to (default: the sweep file's "
                         "reference, else eigrp); e.g. eigrp beside a sweep on eigrp_paper")

    au = _command(
        sub, _audit, "audit",
        help="what a guard did: summary of its audit logs, timeline, bit-exact replay",
        description="Summarise the JSON lines audit logs a guard wrote (audit=<dir>): shadow "
                    "agreement, would-have-changed rates, fallbacks and their reasons, check "
                    "failures. --replay re-simulates every logged episode and checks that "
                    "the installed tables and observations are bit-identical.")
    au.add_argument("logs", nargs="+", help="audit directories or .jsonl files")
    au.add_argument("--timeline", default=None, metavar="PNG",
                    help="also draw the first episode's timeline to this file")
    au.add_argument("--replay", action="store_true",
                    help="re-simulate every episode and compare it with its log")
    return parser


def _evaluate(args: argparse.Namespace) -> int:
    try:
        check_policy_name(args.policy)
        _check_writable_dir(args.out, "--out")
    except ValueError as exc:
        args.usage_error(str(exc))
    print(f"evaluating {args.policy} on {args.topology} / {args.traffic}"
          f"{' / failures: ' + args.link_failures if args.link_failures else ''}"
          f"{' in the fluid model' if args.network_model == 'fluid' else ''}: "
          f"{args.episodes} episodes x {args.episode_steps} steps, seeds {args.seed}.."
          f"{args.seed + args.episodes - 1}", flush=True)
    try:
        run = evaluate(args.policy, args.topology, args.traffic, args.episodes, args.seed,
                       args.out, link_failures=args.link_failures,
                       episode_steps=args.episode_steps, workers=args.workers,
                       step_ms=args.step_ms, per_step=args.per_step,
                       progress=not args.no_progress, network_model=args.network_model)
    except ValueError as exc:
        args.usage_error(str(exc))
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
        f"{label} {format_number(means[m])}" for m, label in SHOWN))
    print(f"results: {run}")
    return 0


def _train(args: argparse.Namespace) -> int:
    try:
        config = TrainConfig(**dataclass_kwargs(args, args.fields))
        PackeRLEnv(topology=config.topology, traffic=config.traffic,
                   link_failures=config.link_failures).close()  # preset names, early
        check_rollout_memory(config)
        _check_writable_dir(config.out, "--out")
    except ValueError as exc:
        args.usage_error(str(exc))
    print(f"training {config.policy} on {config.topology} / {config.traffic}: "
          f"{config.iterations} iterations x {config.steps_per_iteration} steps, "
          f"{config.n_envs} parallel environments -> {config.run_dir()}", flush=True)
    try:
        run = train(config, resume=args.resume, progress=not args.no_progress)
    except FileExistsError as exc:
        args.usage_error(str(exc))
    except KeyboardInterrupt:
        print("\ninterrupted: the last finished iteration is checkpointed; add --resume to "
              "continue", file=sys.stderr)
        return INTERRUPTED
    print(f"model: {run / 'model.zip'}  (evaluate with: packerl evaluate --policy {run} ...)")
    return 0


def _compare(args: argparse.Namespace) -> int:
    try:
        runs = find_run_dirs(args.results)
        if args.out is not None:
            _check_writable_file(args.out, "--out")
        comparisons = compare(runs, reference=args.reference)
    except (FileNotFoundError, ValueError) as exc:
        args.usage_error(str(exc))
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


def _sweep(args: argparse.Namespace) -> int:
    try:
        sweep = load_sweep(args.file)
        trials = sweep.trials(args.only)
    except (FileNotFoundError, SweepConfigError, ValueError) as exc:
        args.usage_error(str(exc))
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
        _check_writable_dir(args.out, "--out")
    except ValueError as exc:
        args.usage_error(str(exc))
    try:
        result = run_sweep(sweep, args.out, backend=args.backend, address=args.address,
                           num_cpus=args.num_cpus, only=args.only,
                           log=lambda line: print(line, flush=True))
    except (SweepConfigError, ValueError) as exc:
        args.usage_error(str(exc))
    except KeyboardInterrupt:
        print("\ninterrupted: finished trials are kept; run the same command again to "
              "resume", file=sys.stderr)
        return INTERRUPTED
    print(f"{len(result.finished)} finished, {len(result.skipped)} skipped (already done), "
          f"{len(result.failed)} failed -> {result.root}")
    for tid, error in result.failed.items():
        print(f"failed: {tid}: {error.splitlines()[-1] if error else ''}", file=sys.stderr)
    return RUN_ERROR if result.failed else 0


def _report(args: argparse.Namespace) -> int:
    try:
        if Path(args.results).is_dir():  # else report() says what is missing
            _check_writable_dir(Path(args.results) / "report" if args.out is None else args.out,
                                "--out")
    except ValueError as exc:
        args.usage_error(str(exc))
    try:
        index = report(args.results, args.out, reference=args.reference)
    except (FileNotFoundError, ResultsFormatError, UnknownReferenceError) as exc:
        args.usage_error(str(exc))
    print(f"report: {index}")
    return 0


def _logged_spec(header: dict[str, Any]) -> str:
    """The guard spec an audit log's header records (its wrapped policy and options)."""
    from policies.guard import GuardConfig

    return GuardConfig(inner=header["wrapped"], **{
        k: tuple(v) if isinstance(v, list) else v
        for k, v in header.get("options", {}).items()}).spec()


def _audit(args: argparse.Namespace) -> int:
    from packerl.app.guard_report import (
        AUDIT_LEGEND,
        audit_files,
        audit_summary,
        format_audit_summaries,
        load_audit_logs,
        plot_timeline,
    )
    from policies.audit import AuditLogError, replay

    missing = [p for p in args.logs if not Path(p).exists()]
    if missing:
        args.usage_error(f"no such audit directory or file: {', '.join(missing)}")
    try:
        if args.timeline is not None:
            _check_writable_dir(Path(args.timeline).parent, "--timeline")
        per_path = {p: load_audit_logs([p]) for p in args.logs}
        # one row per path, labelled by the guard spec its first log records
        summaries = {_logged_spec(logs[0][0]): audit_summary(logs)
                     for logs in per_path.values() if logs}
    except (AuditLogError, ValueError) as exc:
        args.usage_error(str(exc))
    if not summaries:
        args.usage_error(f"no audit logs (*.jsonl) in {', '.join(args.logs)}")
    print("\n".join(f"{p}: {len(logs)} episode(s) of {_logged_spec(logs[0][0])}"
                    for p, logs in per_path.items() if logs))
    print("\n" + format_audit_summaries(summaries) + "\n\n" + AUDIT_LEGEND)
    if args.timeline is not None:
        header, steps = next(logs for logs in per_path.values() if logs)[0]
        print(f"timeline: {plot_timeline(header, steps, args.timeline)}")
    if not args.replay:
        return 0
    different = 0
    for f in audit_files(args.logs):
        try:
            result = replay(None, f)
        except AuditLogError as exc:
            print(f"packerl audit: error: {exc}", file=sys.stderr)
            return RUN_ERROR
        different += not result.identical
        print(f"replay {f}: {len(result.tables)} steps, "
              + ("identical" if result.identical else
                 f"tables differ at steps {result.table_mismatches}, observations at "
                 f"{result.observation_mismatches}"))
    return RUN_ERROR if different else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``packerl`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.run(args)
    except SystemExit as exc:  # argparse's usage errors (status 2) and --help (status 0)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


if __name__ == "__main__":
    sys.exit(main())
