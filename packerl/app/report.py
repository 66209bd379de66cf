# SPDX-License-Identifier: GPL-2.0-only
"""Tables, heatmaps and learning curves of a sweep's results (``packerl report RESULTS_DIR``).

Aggregation, per (policy, topology, traffic, link failures) cell of the evaluation grid:

1. per trial (= per training seed): the mean of every metric over the trial's evaluation
   episodes (``episodes.csv``);
2. across the policy's seeds: mean, min and max of those per-seed means;
3. **better half of seeds** (the paper's protocol, Section 6.3: "we exclude non-convergent runs
   by showing the performance of the better-performing half of the used random seeds"): the
   ``ceil(n/2)`` seeds of a learned policy with the highest mean goodput relative to EIGRP over
   *all* cells of the sweep (one ranking per policy, not per cell), then their mean, min, max.
   Baselines have one trial; for them all three rows coincide.
4. relative to the reference policy (the sweep file's ``reference``, default EIGRP; the
   reproduction sweeps use ``eigrp_paper``, the paper's EIGRP): value / the reference's mean in
   the same cell (every policy is evaluated on the same scenario seeds). Action fluctuation and
   inference time are shown as absolute values (the reference's are 0 or near 0).
Cells evaluated in the fluid model (the sweep's ``evaluation.network_models``) are cells of
their own (the ``network_model`` column): their own tables, heatmaps and grids.

5. a 95% confidence interval of the all-seeds ratio: a paired bootstrap over the evaluation
   episodes (the same resampled episode seeds for the policy's trials and the reference;
   :data:`BOOTSTRAP` resamples, fixed seed).

Outputs in ``OUT`` (default ``RESULTS_DIR/report``): ``summary.csv`` (long format, one row
per policy x cell x metric), ``tables.md`` (Figure 3/5/6 style: policy x metric per cell, and
Figure 4 style traffic grids), ``heatmap_*.png``, ``grid_*.png``, ``learning_curves.png``,
for sweeps with guard specs ``guards.md`` (:func:`guard_tables`: what each guard's audit logs
say, per cell) and ``timeline_*.png`` (one episode per guard), where the sweep covers the
paper's Figure 3/4 cells ``findings.md`` (:mod:`packerl.app.findings`: each of the paper's
findings checked cell by cell), and ``index.md`` linking them all.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from packerl.app import findings
from packerl.app.compare import ABSOLUTE_METRICS, HIGHER_IS_BETTER, RATIO_METRICS, ratio
from packerl.app.compare import format_number as _fmt
from packerl.app.results import load_config, load_episodes
from packerl.app.training import REFERENCE_DIR
from packerl.app.guard_report import (
    AUDIT_LEGEND,
    audit_summary,
    format_audit_summaries,
    load_audit_logs,
    plot_timeline,
)
from policies.factory import policy_slug
from synnet.presets import TRAFFIC_LEVELS as LEVELS
from synnet.presets import TRAFFIC_PROTOCOLS as PROTOCOLS
from policies.guard import guard_label, is_guard_spec, parse_guard_spec
from policies.registry import display_rank

#: the reference policy when the sweep file names none
DEFAULT_REFERENCE = "eigrp"
#: bootstrap resamples of the confidence intervals, and the seed of their generator
BOOTSTRAP, BOOTSTRAP_SEED = 2000, 0
METRICS: tuple[tuple[str, str], ...] = tuple((m, label) for m, label, _ in RATIO_METRICS) + \
    ABSOLUTE_METRICS
RELATIVE = {m for m, _, _ in RATIO_METRICS}
CSV_COLUMNS = ("policy", "topology", "traffic", "link_failures", "network_model", "metric",
               "reference",
               "relative", "seeds", "episodes_per_seed", "reference_mean", "mean", "min", "max",
               "better_half_seeds", "better_half_mean", "better_half_min", "better_half_max",
               "ratio_mean", "ratio_min", "ratio_max", "ratio_better_half_mean",
               "ratio_better_half_min", "ratio_better_half_max", "ratio_ci_low",
               "ratio_ci_high")


class Cell(NamedTuple):
    """One cell of the evaluation grid: every policy is evaluated on its scenarios."""

    topology: str
    traffic: str
    link_failures: str = "none"
    network_model: str = "packet"

    @classmethod
    def of_config(cls, cfg: dict[str, Any]) -> Cell:
        """The cell of an evaluation run's ``config.json``."""
        return cls(cfg["topology"], cfg["traffic"], cfg.get("link_failures") or "none",
                   cfg.get("network_model") or "packet")

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> Cell:
        """The cell of a :func:`aggregate` row."""
        return cls(*(row[f] for f in cls._fields))

    @property
    def group(self) -> tuple[str, str, str]:
        """(topology, link failures, network model): the cells of one heatmap or grid."""
        return (self.topology, self.link_failures, self.network_model)


@dataclass
class TrialResult:
    trial_id: str
    policy: str
    seed: int | None
    #: cell -> metric -> mean over episodes
    means: dict[Cell, dict[str, float]] = field(default_factory=dict)
    episodes: dict[Cell, int] = field(default_factory=dict)
    #: cell -> metric -> {episode reset seed: value} (for the paired bootstrap)
    values: dict[Cell, dict[str, dict[int, float]]] = field(default_factory=dict)
    train_run: Path | None = None
    #: cell -> the guard's audit-log directory (guard specs evaluated with ``audit=``)
    audits: dict[Cell, Path] = field(default_factory=dict)


def load_trials(results: str | os.PathLike) -> list[TrialResult]:
    """Every trial under ``results`` (a sweep directory with ``trials/``) with finished
    evaluation episodes or a training run (still training: only its learning curve).

    Raises:
        FileNotFoundError: ``results`` holds no trials.
    """
    root = Path(results)
    tdirs = sorted(p for p in (root / "trials").glob("*") if (p / "trial.json").is_file())
    if not tdirs:
        raise FileNotFoundError(f"`{root}` holds no sweep trials (no trials/*/trial.json); "
                                "run `packerl sweep FILE --out ...` first")
    out = []
    for tdir in tdirs:
        spec = json.loads((tdir / "trial.json").read_text())
        tr = TrialResult(trial_id=spec["trial_id"], policy=spec["policy"], seed=spec["seed"])
        runs = sorted((tdir / "train").glob("*/config.json"))
        tr.train_run = runs[0].parent if runs else None
        for run in sorted((tdir / "eval").glob("*/episodes.csv")):
            rows = load_episodes(run.parent)
            if not rows:
                continue
            config = load_config(run.parent)
            key = Cell.of_config(config)
            if is_guard_spec(config["policy"]):
                audit = parse_guard_spec(config["policy"]).audit
                if audit is not None and Path(audit).is_dir():
                    tr.audits[key] = Path(audit)
            tr.episodes[key] = len(rows)
            tr.means[key] = {m: _nanmean([r[m] for r in rows]) for m, _ in METRICS}
            tr.values[key] = {m: {int(r["seed"]): float(r[m]) for r in rows} for m, _ in METRICS}
        if tr.means or tr.train_run is not None:  # a training run: its learning curve
            out.append(tr)
    if not any(t.means for t in out):
        raise FileNotFoundError(f"no finished evaluation episodes under `{root}/trials`")
    return out


def _nanmean(values: list[float]) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else math.nan


def better_half(trials: list[TrialResult], reference: dict) -> dict[str, list[str]]:
    """Per policy, the trial ids of its better half of seeds (see the module docstring)."""
    by_policy: dict[str, list[TrialResult]] = {}
    for t in trials:
        by_policy.setdefault(t.policy, []).append(t)
    chosen = {}
    for policy, ts in by_policy.items():
        def score(t: TrialResult) -> float:
            r = [ratio(m["total_goodput_mb"], reference[k]["total_goodput_mb"])
                 if k in reference else math.nan for k, m in t.means.items()]
            s = _nanmean(r)
            if not np.isfinite(s):  # no reference cell: absolute goodput
                s = _nanmean([m["total_goodput_mb"] for m in t.means.values()])
            return s if np.isfinite(s) else -math.inf
        ranked = sorted(ts, key=lambda t: (-score(t), t.trial_id))
        chosen[policy] = [t.trial_id for t in ranked[:math.ceil(len(ranked) / 2)]]
    return chosen


def bootstrap_ratio_ci(values: list[dict[int, float]], reference: list[dict[int, float]],
                       level: float = 0.95) -> tuple[float, float]:
    """Confidence interval of mean(values) / mean(reference) by a paired bootstrap over the
    episode seeds all of them share (``values``: one {seed: value} per trial of the policy;
    ``reference``: the same for the reference policy's trials). NaN if none is shared."""
    shared = sorted(set.intersection(*(set(v) for v in values + reference)))
    if not shared:
        return math.nan, math.nan
    x = np.array([[v[e] for e in shared] for v in values], np.float64)
    r = np.array([[v[e] for e in shared] for v in reference], np.float64).mean(axis=0)
    idx = np.random.default_rng(BOOTSTRAP_SEED).integers(0, len(shared),
                                                         (BOOTSTRAP, len(shared)))
    ratios = np.array([ratio(a, b) for a, b in zip(x[:, idx].mean(axis=(0, 2)),
                                                   r[idx].mean(axis=1))])
    ratios = ratios[~np.isnan(ratios)]
    if not len(ratios):
        return math.nan, math.nan
    tail = 100 * (1 - level) / 2
    # x/0 ratios are inf: interpolating between them would give inf - inf
    method = "linear" if np.isfinite(ratios).all() else "nearest"
    return (float(np.percentile(ratios, tail, method=method)),
            float(np.percentile(ratios, 100 - tail, method=method)))


def _on_shared_episodes(values: list[dict[int, float]],
                        reference: list[dict[int, float]]) -> tuple[np.ndarray, float]:
    """Each trial's mean and the reference's mean over the episode seeds all of them share, so
    that a ratio compares the same scenarios (a partly evaluated trial is compared on its
    finished part, as :func:`bootstrap_ratio_ci` resamples it). NaN if none is shared."""
    shared = sorted(set.intersection(*(set(v) for v in values + reference)))
    if not shared:
        return np.full(len(values), math.nan), math.nan
    x = np.array([_nanmean([v[e] for e in shared]) for v in values])
    return x, _nanmean([_nanmean([v[e] for e in shared]) for v in reference])


class UnknownReferenceError(ValueError):
    """The requested reference policy has no trial in the results (a usage error)."""


def _seed_stats(per_seed: np.ndarray, in_half: np.ndarray) -> dict[str, float]:
    """Mean, min and max over the seeds, and the same over the better half's seeds
    (``in_half``), keyed as in :data:`CSV_COLUMNS`."""
    stats = {}
    for prefix, x in (("", per_seed), ("better_half_", per_seed[in_half])):
        stats |= {f"{prefix}mean": _nanmean(list(x)), f"{prefix}min": float(np.nanmin(x)),
                  f"{prefix}max": float(np.nanmax(x))}
    return stats


def aggregate(trials: list[TrialResult],
              reference_policy: str = DEFAULT_REFERENCE) -> list[dict[str, Any]]:
    """The rows of ``summary.csv`` (see :data:`CSV_COLUMNS`), relative to
    ``reference_policy``."""
    ref_trials = [t for t in trials if t.policy == reference_policy]
    reference = {k: {m: _nanmean([t.means[k][m] for t in ref_trials if k in t.means])
                     for m, _ in METRICS}
                 for k in {k for t in ref_trials for k in t.means}}
    half = better_half(trials, reference)
    cells = sorted({k for t in trials for k in t.means})
    policies = sorted({t.policy for t in trials}, key=display_rank)
    rows = []
    for cell in cells:
        for policy in policies:
            ts = [t for t in trials if t.policy == policy and cell in t.means]
            if not ts:
                continue
            in_half = np.array([t.trial_id in half[policy] for t in ts])
            if not in_half.any():
                in_half[:] = True
            for m, _ in METRICS:
                ref = reference.get(cell, {}).get(m, math.nan)
                rel = m in RELATIVE
                stats = _seed_stats(np.array([t.means[cell][m] for t in ts]), in_half)
                row = {"policy": policy, **cell._asdict(), "metric": m,
                       "reference": reference_policy,
                       "relative": rel, "seeds": len(ts),
                       "episodes_per_seed": min(t.episodes[cell] for t in ts),
                       "reference_mean": ref, "better_half_seeds": int(in_half.sum()),
                       **stats}
                refs = [t.values[cell][m] for t in ref_trials if cell in t.values]
                if rel and refs:  # on the episodes every trial and the reference finished
                    seeds, ref = _on_shared_episodes([t.values[cell][m] for t in ts], refs)
                    stats = _seed_stats(seeds, in_half)
                for stat, x in stats.items():
                    row[f"ratio_{stat}"] = ratio(x, ref) if rel else math.nan
                row["ratio_ci_low"], row["ratio_ci_high"] = (
                    bootstrap_ratio_ci([t.values[cell][m] for t in ts], refs)
                    if rel and refs else (math.nan, math.nan))
                rows.append(row)
    return rows


def _traffic_rank(cell: Cell) -> tuple:
    split = _split_traffic(cell.traffic)
    rank = (1, 0, 0) if split is None else (0, PROTOCOLS.index(split[0]),
                                            LEVELS.index(split[1]))
    return (cell.network_model != "packet", cell.network_model, cell.topology, *rank,
            cell.traffic, cell.link_failures)


def write_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (repr(float(v)) if isinstance(v, float) else v)
                             for k, v in r.items()})
    return path


# ------------------------------------------------------------------------------- markdown


def _cell_title(cell: Cell) -> str:
    return (f"{cell.topology} / {cell.traffic}"
            + ("" if cell.link_failures == "none" else f" / failures: {cell.link_failures}")
            + ("" if cell.network_model == "packet" else f" / {cell.network_model} model"))


def _group_title(group: tuple[str, str, str]) -> str:
    """A heatmap's or grid's (topology, failures, model) in words."""
    topology, failures, model = group
    return (topology + ("" if failures == "none" else " with failures")
            + ("" if model == "packet" else f", {model} model"))


def _group_stem(group: tuple[str, str, str]) -> str:
    """A file-name-safe ``topology[_failures][_model]``."""
    topology, failures, model = group
    name = "_".join([topology] + [v for v, d in ((failures, "none"), (model, "packet"))
                                  if v != d])
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", name).strip("_")


def _index(rows: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """(*cell, policy, metric) -> row."""
    return {(*Cell.of_row(r), r["policy"], r["metric"]): r for r in rows}


def _value_cell(r: dict[str, Any], half: bool) -> str:
    p = "better_half_" if half else ""
    n = r["better_half_seeds"] if half else r["seeds"]
    # without a reference in the cell the relative metrics are shown as absolute values
    relative = r["relative"] and np.isfinite(r["reference_mean"])
    pre = "ratio_" if relative else ""
    text = _fmt(r[f"{pre}{p}mean"])
    if not half and relative and np.isfinite(r["ratio_ci_low"]):
        text += f" (CI {_fmt(r['ratio_ci_low'])}-{_fmt(r['ratio_ci_high'])})"
    if n > 1:
        text += f" [{_fmt(r[f'{pre}{p}min'])}, {_fmt(r[f'{pre}{p}max'])}]"
    return text


def grids(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Cell groups (topology, failures, network model) whose traffics cover at least 6 cells
    of the ``{udp,mixed,tcp}_{low,...,very_high}`` grid: they also get Figure 4 style
    grids."""
    traffics: dict[tuple[str, str, str], set[str]] = {}
    for r in rows:
        traffics.setdefault(Cell.of_row(r).group, set()).add(r["traffic"])
    return [g for g, ts in sorted(traffics.items())
            if sum(_split_traffic(t) is not None for t in ts) >= 6]


def _split_traffic(name: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"(udp|mixed|tcp)_(low|medium|high|very_high)", name)
    return (m.group(1), m.group(2)) if m else None


def markdown_tables(rows: list[dict[str, Any]], sweep: str,
                    reference_policy: str = DEFAULT_REFERENCE) -> str:
    ref = guard_label(reference_policy)
    idx = _index(rows)
    cells = sorted({Cell.of_row(r) for r in rows}, key=_traffic_rank)
    policies = sorted({r["policy"] for r in rows}, key=display_rank)
    if not any(r["policy"] == reference_policy for r in rows):
        lines = [f"# {sweep}: results (absolute: no {ref} trial to relate them to)", ""]
    else:
        lines = [f"# {sweep}: results relative to {ref}", ""]
    lines += [
             ("Per cell of the evaluation grid: each trial's mean over its evaluation episodes, "
             "then across a policy's training seeds. Relative metrics (goodput ... max. LU) are "
             f"value / {ref}'s mean on the same scenarios (goodput: higher is better; the "
             "others: lower is better); action fluctuation and inference time are absolute. "
             "`x (CI l-h) [a, b]` = mean over seeds (95% confidence interval: paired "
             "bootstrap over the evaluation episodes) [min, max over seeds]. Inference time is "
             "the wall time of a policy's act() in the evaluation worker, under whatever load "
             "the machine had while the sweep ran: compare it across policies only with a "
             "benchmark run on an idle machine (`experiments/bench_inference.py`)."), "",
             "- **all seeds**: every training seed.",
             ("- **better half of seeds** (the paper's protocol, Section 6.3): per learned "
             f"policy the ceil(n/2) seeds with the highest mean goodput relative to {ref} over "
             "all cells of this sweep. Baselines have a single trial."), ""]
    for cell in cells:
        for half in (True, False):
            lines += [(f"## {_cell_title(cell)}: "
                      f"{'better half of seeds (paper protocol)' if half else 'all seeds'}"), ""]
            header = ["policy", "seeds", "episodes"] + [label for _, label in METRICS]
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            for p in policies:
                first = idx.get((*cell, p, METRICS[0][0]))
                if first is None:
                    continue
                n = first["better_half_seeds"] if half else first["seeds"]
                cells_ = [guard_label(p), str(n), str(first["episodes_per_seed"])]
                cells_ += [_value_cell(idx[(*cell, p, m)], half) for m, _ in METRICS]
                lines.append("| " + " | ".join(cells_) + " |")
            lines.append("")
    for group in grids(rows):
        topo, fail, model = group
        lines += [f"## Traffic grid on {_group_title(group)} (Figure 4 style; better half of "
                  "seeds)", "",
                  f"Cell: value relative to {ref} (absolute mean in parentheses).", ""]
        for p in (p for p in policies if p != reference_policy):
            for m, label in METRICS:
                if m not in RELATIVE:
                    continue
                lines += [f"### {guard_label(p)}: {label}", "",
                          "| protocol | " + " | ".join(LEVELS) + " |",
                          "|---|" + "---|" * len(LEVELS)]
                for proto in PROTOCOLS:
                    out = []
                    for level in LEVELS:
                        r = idx.get((topo, f"{proto}_{level}", fail, model, p, m))
                        out.append("" if r is None else
                                   f"{_fmt(r['ratio_better_half_mean'])} "
                                   f"({_fmt(r['better_half_mean'])})")
                    if any(out):
                        lines.append(f"| {proto} | " + " | ".join(out) + " |")
                lines.append("")
    return "\n".join(lines)


# -------------------------------------------------------------------------------- figures


def _score(ratio: float, metric: str) -> float:
    """Colour score in [-1, 1] (green = better than the reference), log2 scale clipped at
    0.5x/2x."""
    if not np.isfinite(ratio) or ratio <= 0:
        if ratio == 0:
            return 1.0 if not HIGHER_IS_BETTER[metric] else -1.0
        if np.isinf(ratio):
            return 1.0 if HIGHER_IS_BETTER[metric] else -1.0
        return math.nan
    return float(np.clip(np.log2(ratio) * (1 if HIGHER_IS_BETTER[metric] else -1), -1, 1))


def _ink(score: float) -> str:
    return "white" if abs(float(np.nan_to_num(score))) > 0.75 else "black"


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_heatmaps(rows: list[dict[str, Any]], path: Path, cells: list[tuple],
                  title: str) -> Path:
    """Figures 3/5/6 style: per cell a panel, rows = metrics, columns = policies; first line
    the better-half mean relative to the reference, second line [min, max] over those
    seeds."""
    from matplotlib.colors import Normalize

    plt = _plt()
    idx = _index(rows)
    policies = sorted({r["policy"] for r in rows}, key=display_rank)
    ncols = min(4, len(cells))
    nrows = math.ceil(len(cells) / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(1.2 + 1.35 * len(policies) * ncols, 0.4 + 4.4 * nrows))
    for ax in axes.flat[len(cells):]:
        ax.axis("off")
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#dddddd")
    for ax, cell in zip(axes.flat, cells):
        ps = [p for p in policies if (*cell, p, METRICS[0][0]) in idx]
        score = np.full((len(METRICS), len(ps)), np.nan)
        for j, p in enumerate(ps):
            for i, (m, _) in enumerate(METRICS):
                r = idx[(*cell, p, m)]
                if m in RELATIVE:
                    score[i, j] = _score(r["ratio_better_half_mean"], m)
                    text = _fmt(r["ratio_better_half_mean"])
                    if r["better_half_seeds"] > 1:
                        text += (f"\n[{_fmt(r['ratio_better_half_min'], 2)}, "
                                 f"{_fmt(r['ratio_better_half_max'], 2)}]")
                else:
                    text = _fmt(r["better_half_mean"])
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color=_ink(score[i, j]))
        ax.imshow(np.ma.masked_invalid(score), cmap=cmap, norm=Normalize(-1, 1), aspect="auto")
        ax.set_xticks(range(len(ps)), [guard_label(p) for p in ps], fontsize=7, rotation=30)
        ax.set_yticks(range(len(METRICS)), [label for _, label in METRICS], fontsize=7)
        ax.axhline(len(RELATIVE) - 0.5, color="black", linewidth=0.8)
        ax.set_title(_cell_title(cell), fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_grid(rows: list[dict[str, Any]], path: Path, group: tuple[str, str, str],
              policy: str, reference_policy: str = DEFAULT_REFERENCE) -> Path:
    """Figure 4 style for the cells of ``group`` (topology, failures, network model): one
    panel per metric, protocol x intensity, ratio to the reference and the absolute mean
    (better half of seeds)."""
    topology, failures, model = group
    from matplotlib.colors import Normalize

    plt = _plt()
    idx = _index(rows)
    rel = [(m, label) for m, label in METRICS if m in RELATIVE]
    fig, axes = plt.subplots(1, len(rel), squeeze=False, figsize=(3.1 * len(rel), 2.9))
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#dddddd")
    for ax, (m, label) in zip(axes[0], rel):
        score = np.full((len(PROTOCOLS), len(LEVELS)), np.nan)
        for i, proto in enumerate(PROTOCOLS):
            for j, level in enumerate(LEVELS):
                r = idx.get((topology, f"{proto}_{level}", failures, model, policy, m))
                if r is None:
                    continue
                score[i, j] = _score(r["ratio_better_half_mean"], m)
                ax.text(j, i, f"{_fmt(r['ratio_better_half_mean'])}\n"
                        f"{_fmt(r['better_half_mean'])}", ha="center", va="center", fontsize=7,
                        color=_ink(score[i, j]))
        ax.imshow(np.ma.masked_invalid(score), cmap=cmap, norm=Normalize(-1, 1), aspect="auto")
        ax.set_xticks(range(len(LEVELS)), ["low", "med.", "high", "v. high"], fontsize=7)
        ax.set_yticks(range(len(PROTOCOLS)), ["UDP", "TCP/UDP", "TCP"], fontsize=7)
        ax.set_title(label, fontsize=8)
    fig.suptitle(f"{guard_label(policy)} on {_group_title(group)}: relative to "
                 f"{guard_label(reference_policy)} "
                 "(2nd line: absolute mean; better half of seeds)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_learning_curves(trials: list[TrialResult], path: Path) -> Path | None:
    """Deterministic evaluation return (``eval.csv``) over training steps, one line per seed,
    and as a dashed line the reference policy's mean return on the same episodes where a run
    has one (:func:`packerl.app.training.evaluate_reference`)."""
    learned = [t for t in trials if t.train_run is not None]
    if not learned:
        return None
    plt = _plt()
    policies = sorted({t.policy for t in learned}, key=display_rank)
    fig, axes = plt.subplots(1, len(policies), squeeze=False, figsize=(4.2 * len(policies), 3.2))
    for ax, p in zip(axes[0], policies):
        drawn: set[tuple[str, float]] = set()
        for t in (t for t in learned if t.policy == p):
            ev = t.train_run / "eval.csv"
            if ev.is_file():
                with ev.open() as f:
                    data = list(csv.DictReader(f))
                if data:
                    ax.plot([int(r["timesteps"]) / 1e3 for r in data],
                            [float(r["return"]) for r in data], marker="o", markersize=3,
                            label=f"seed {t.seed}")
                    for ref in sorted((t.train_run / REFERENCE_DIR).glob("*/episodes.csv")):
                        rows = load_episodes(ref.parent)
                        name = guard_label(load_config(ref.parent)["policy"])
                        level = _nanmean([r["total_goodput_mb"] for r in rows])
                        if rows and (name, round(level, 9)) not in drawn:  # seeds share them
                            drawn.add((name, round(level, 9)))
                            ax.axhline(level, color="0.35", linestyle="--", linewidth=0.8,
                                       label=f"{name} on the same episodes")
        ax.set_title(f"{guard_label(p)}: evaluation return", fontsize=9)
        ax.set_xlabel("training steps (thousands)", fontsize=8)
        ax.set_ylabel("episode return (goodput MB)", fontsize=8)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------- report


def guard_tables(trials: list[TrialResult]) -> str:
    """Per cell, a table of :func:`~packerl.app.guard_report.audit_summary` over every
    guard trial's audit logs (a policy's seeds pooled); empty if no trial has any."""
    logs: dict[Cell, dict[str, list]] = {}
    for t in trials:
        for cell, audit in t.audits.items():
            logs.setdefault(cell, {}).setdefault(t.policy, []).extend(load_audit_logs([audit]))
    lines = []
    for cell in sorted(logs, key=_traffic_rank):
        summaries = {p: audit_summary(v) for p, v in sorted(logs[cell].items(),
                                                           key=lambda kv: display_rank(kv[0]))
                     if v}
        if summaries:
            lines += [f"## {_cell_title(cell)}", "", format_audit_summaries(summaries), ""]
    if not lines:
        return ""
    return "\n".join(["# Guards: what the audit logs say", "", AUDIT_LEGEND, "", *lines])


def plot_guard_timelines(trials: list[TrialResult], out: Path) -> list[tuple[str, Path]]:
    """One timeline plot per guard policy: the first audit log of its first trial's first
    cell (with link failures if it has such a cell)."""
    done: list[tuple[str, Path]] = []
    for t in trials:
        if not t.audits or t.policy in {p for p, _ in done}:
            continue
        cell = sorted(t.audits, key=lambda c: (c.link_failures == "none",
                                               _traffic_rank(c)))[0]
        found = load_audit_logs([t.audits[cell]])
        if not found:
            continue
        header, steps = found[0]
        png = plot_timeline(header, steps, out / f"timeline_{policy_slug(t.policy)}.png",
                            title=f"{guard_label(t.policy)}: {_cell_title(cell)}, "
                                  f"episode seed {header.get('seed')}")
        done.append((t.policy, png))
    return done


def sweep_reference(results: Path) -> str:
    """The reference policy named by the sweep file stored in ``results`` (default EIGRP)."""
    path = Path(results) / "sweep.yaml"
    if not path.is_file():
        return DEFAULT_REFERENCE
    import yaml

    data = yaml.safe_load(path.read_text()) or {}
    return str(data.get("reference") or DEFAULT_REFERENCE)


def report(results: str | os.PathLike, out: str | os.PathLike | None = None,
           reference: str | None = None) -> Path:
    """Write every table and figure of the sweep in ``results`` and an ``index.md``.

    ``reference`` is the policy the values are relative to (default: the sweep file's
    ``reference``, else EIGRP).

    Returns:
        The path of ``index.md``.

    Raises:
        FileNotFoundError: ``results`` holds no finished trials.
        UnknownReferenceError: ``reference`` is given and no trial evaluated that policy.
    """
    results = Path(results)
    trials = load_trials(results)
    policies = sorted({t.policy for t in trials})
    if reference is not None and reference not in policies:
        raise UnknownReferenceError(f"--reference `{reference}`: no trial of `{results}` "
                                    f"evaluated it; its policies: {', '.join(policies)}")
    out = Path(out) if out is not None else results / "report"
    out.mkdir(parents=True, exist_ok=True)
    reference = reference or sweep_reference(results)
    ref = guard_label(reference)
    rows = aggregate(trials, reference)
    name = results.resolve().name
    files: list[tuple[str, str]] = []
    files.append(("summary.csv", "all numbers (long format: policy x cell x metric)"))
    write_csv(rows, out / "summary.csv")
    (out / "tables.md").write_text(markdown_tables(rows, name, reference) + "\n")
    files.append(("tables.md", ("tables per cell (Figures 3/5/6 style) and traffic grids "
                  "(Figure 4 style)")))
    checked = findings.markdown(rows, name, reference)
    if checked:
        (out / "findings.md").write_text(checked + "\n")
        files.append(("findings.md", "the paper's findings, checked cell by cell (holds / "
                      "undecided / contradicted)"))
    has_ref = any(r["policy"] == reference for r in rows)
    cells_by_group: dict[tuple[str, str, str], set[Cell]] = {}
    for r in rows:
        cell = Cell.of_row(r)
        cells_by_group.setdefault(cell.group, set()).add(cell)
    if has_ref:
        grid_groups = set(grids(rows))
        for group, cells in sorted(cells_by_group.items()):
            stem = _group_stem(group)
            fname = f"heatmap_{stem}.png"
            plot_heatmaps(rows, out / fname, sorted(cells, key=_traffic_rank),
                          f"{name}: mean relative to {ref} (better half of seeds; "
                          "2nd line: [min, max] over those seeds)")
            files.append((fname, (f"{_group_title(group)}: policies x metrics per traffic "
                                  "(Figures 3/5/6 style)")))
            if group in grid_groups:
                for p in sorted({r["policy"] for r in rows} - {reference}, key=display_rank):
                    fname = f"grid_{stem}_{policy_slug(p)}.png"
                    plot_grid(rows, out / fname, group, p, reference)
                    files.append((fname, (f"{guard_label(p)} on {_group_title(group)}: "
                                          "traffic grid (Figure 4 style)")))
    guards = guard_tables(trials)
    if guards:
        (out / "guards.md").write_text(guards + "\n")
        files.append(("guards.md", "what the guards did: shadow agreement, would-have-changed "
                      "rates, fallbacks and their reasons, check failures (from the audit logs)"))
        for policy, png in plot_guard_timelines(trials, out):
            files.append((png.name, f"{guard_label(policy)}: timeline of one episode"))
    curves = plot_learning_curves(trials, out / "learning_curves.png")
    if curves is not None:
        files.append((curves.name, "learning curves (evaluation return during training)"))
    lines = [f"# Report: {name}", "",
             f"Results directory: `{results}`; {len(trials)} trial(s): "
             + ", ".join(f"`{t.trial_id}`" for t in trials) + ".", ""]
    if not has_ref:
        lines += [f"No {ref} trial (the reference): values are absolute, no heatmaps.", ""]
    lines += [f"- [{f}]({f}): {what}" for f, what in files]
    sweep_file = results / "sweep.yaml"
    if sweep_file.is_file():
        lines += ["", "Sweep file as run:", "", "```yaml", sweep_file.read_text().rstrip(),
                  "```"]
    (out / "index.md").write_text("\n".join(lines) + "\n")
    return out / "index.md"


__all__ = ["CSV_COLUMNS", "Cell", "UnknownReferenceError", "aggregate", "better_half",
           "bootstrap_ratio_ci", "guard_tables",
           "load_trials", "plot_guard_timelines", "report", "sweep_reference"]
