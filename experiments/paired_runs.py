# SPDX-License-Identifier: GPL-2.0-only
"""Evaluation runs of one cell side by side, paired by seed: each approach relative to a
reference policy on the same episodes, and each approach relative to another one seed by
seed.

Why: an ablation asks whether a change helps the same network. A training run of seed ``i``
starts from the same initial network whatever it is trained on, so the trained run of seed
``i`` is compared with the untrained network of seed ``i`` (or with the default training of
seed ``i``), episode by episode on the same reset seeds, rather than pooled means of
different seeds with each other.

Usage::

    python experiments/paired_runs.py --approach NAME RUN [RUN ...] [--approach ...]
        --reference RUN [--against NAME] [--metric total_goodput_mb] [--name NAME]
        [--no-write]

RUN: an evaluation run directory (``episodes.csv``, as written by ``packerl evaluate`` and
``packerl sweep``). The ``i``-th RUN of every approach is its seed ``i``; every approach
needs as many runs as the first. Ratios are means over the episode seeds all runs share
(mean over an approach's runs / the reference's mean), with a 95% CI from a paired bootstrap
over those episodes (:func:`packerl.app.report.bootstrap_ratio_ci`); ``[min, max]`` over the
approach's runs. Writes ``experiments/results/<name>.{md,json}`` unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from experiments._benchutil import markdown_table, write_results
from packerl.app.compare import ratio
from packerl.app.report import bootstrap_ratio_ci
from packerl.app.results import EPISODE_METRICS, load_config, load_episodes


class UsageError(ValueError):
    """Bad command-line input (printed as one line, exit status 2)."""


def per_seed(run: Path, metric: str) -> dict[int, float]:
    """``{episode reset seed: metric}`` of an evaluation run directory.

    Raises:
        UsageError: the directory is not an evaluation run, or it has no finished episode.
    """
    try:
        load_config(run)
        rows = load_episodes(run)
    except (FileNotFoundError, ValueError) as err:
        raise UsageError(f"{run}: {err}") from None
    if not rows:
        raise UsageError(f"{run}: no finished episode in its episodes.csv")
    return {r["seed"]: float(r[metric]) for r in rows}


def shared_means(runs: list[dict[int, float]], shared: list[int]) -> list[float]:
    """Each run's mean over the ``shared`` episode seeds."""
    return [float(np.mean([r[s] for s in shared])) for r in runs]


def compare(values: list[dict[int, float]],
            reference: list[dict[int, float]]) -> dict[str, float]:
    """``values``' mean relative to ``reference``'s on the episodes all of them share, with
    its bootstrap CI and the [min, max] of the single runs' ratios."""
    shared = sorted(set.intersection(*(set(v) for v in values + reference)))
    ref = float(np.mean(shared_means(reference, shared)))
    singles = [ratio(m, ref) for m in shared_means(values, shared)]
    lo, hi = bootstrap_ratio_ci(values, reference)
    return {"ratio": ratio(float(np.mean(shared_means(values, shared))), ref), "ci_low": lo,
            "ci_high": hi, "min": min(singles), "max": max(singles), "episodes": len(shared)}


def paired(values: list[dict[int, float]],
           against: list[dict[int, float]]) -> list[dict[str, float]]:
    """Run ``i`` of ``values`` relative to run ``i`` of ``against``, for every ``i``."""
    return [compare([v], [a]) for v, a in zip(values, against)]


def _fmt(c: dict[str, float]) -> str:
    return f"{c['ratio']:.3f} (CI {c['ci_low']:.3f}-{c['ci_high']:.3f})"


def tables(approaches: dict[str, list[dict[int, float]]], reference: list[dict[int, float]],
           reference_name: str, against: str | None, metric: str) -> tuple[str, dict[str, Any]]:
    """The markdown body and the JSON data of the comparison."""
    shared = sorted(set.intersection(*(set(r) for runs in approaches.values()
                                       for r in runs + reference)))
    rows, data = [], {"metric": metric, "reference": reference_name, "episodes": shared,
                      "approaches": {}}
    for name, runs in approaches.items():
        c = compare(runs, reference)
        means = shared_means(runs, shared)
        rows.append([name, len(runs), " / ".join(f"{m:.2f}" for m in means),
                     f"{_fmt(c)} [{c['min']:.3f}, {c['max']:.3f}]"])
        data["approaches"][name] = {"per_seed_mean": means, "vs_reference": c}
    ref_mean = float(np.mean(shared_means(reference, shared)))
    body = (f"{len(shared)} episodes shared by every run; `{metric}`: mean per run (seed 0 / 1"
            f" / ...), relative to {reference_name} ({ref_mean:.2f}): mean over runs, 95% CI "
            "by a paired bootstrap over the episodes, [min, max] over the runs.\n\n"
            + markdown_table(["approach", "runs", f"{metric} per seed",
                              f"relative to {reference_name}"], rows))
    if against is not None:
        prow = []
        for name, runs in approaches.items():
            if name == against:
                continue
            k = min(len(runs), len(approaches[against]))
            pairs = paired(runs[:k], approaches[against][:k])
            pooled = compare(runs[:k], approaches[against][:k])
            higher = sum(p["ci_low"] > 1 for p in pairs)
            lower = sum(p["ci_high"] < 1 for p in pairs)
            prow.append([name, " / ".join(_fmt(p) for p in pairs), _fmt(pooled),
                         f"{higher} higher, {lower} lower, {k - higher - lower} undecided"])
            data["approaches"][name]["vs_" + against] = {"per_seed": pairs, "pooled": pooled}
        body += (f"\n\nSeed by seed against `{against}` (run i / run i of {against}, the "
                 "same initial network when both come from seed i):\n\n"
                 + markdown_table(["approach", "per seed", "pooled", "seeds (by CI)"], prow))
    return body + "\n", data


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--approach", nargs="+", action="append", required=True,
                        metavar=("NAME", "RUN"), help="a name and its runs, seed 0 first")
    parser.add_argument("--reference", nargs="+", required=True, metavar="RUN",
                        help="the reference policy's run(s)")
    parser.add_argument("--reference-name", default="the reference")
    parser.add_argument("--against", help="an approach's NAME to compare the others with, "
                        "seed by seed")
    parser.add_argument("--metric", default="total_goodput_mb", choices=EPISODE_METRICS)
    parser.add_argument("--name", default="paired_runs", help="results file stem")
    parser.add_argument("--title", default="Paired evaluation runs")
    parser.add_argument("--no-write", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        approaches: dict[str, list[dict[int, float]]] = {}
        for item in args.approach:
            if len(item) < 2:
                raise UsageError(f"--approach {item[0]}: give a name and at least one run")
            approaches[item[0]] = [per_seed(Path(r), args.metric) for r in item[1:]]
        if args.against is not None and args.against not in approaches:
            raise UsageError(f"--against {args.against!r} is not an approach; give one of "
                             f"{list(approaches)}")
        reference = [per_seed(Path(r), args.metric) for r in args.reference]
        if not set.intersection(*(set(r) for runs in approaches.values()
                                  for r in runs + reference)):
            raise UsageError("the runs share no episode seed; evaluate them on the same "
                             "--seed and --episodes")
    except UsageError as err:
        print(f"paired_runs.py: error: {err}", file=sys.stderr)
        return 2
    body, data = tables(approaches, reference, args.reference_name, args.against,
                        args.metric)
    print(body)
    if not args.no_write:
        data["runs"] = {item[0]: item[1:] for item in args.approach}
        data["reference_runs"] = args.reference
        md, _ = write_results(args.name, args.title, body, data)
        print(f"wrote {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
