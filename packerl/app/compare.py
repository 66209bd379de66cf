# SPDX-License-Identifier: GPL-2.0-only
"""Compare evaluation runs: each policy's mean metrics relative to a reference policy, per
(topology, traffic, link failures, steps) group, as in the paper's Figures 3-4, and their
plain-text tables.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from packerl.app.results import find_run_dirs, load_config, load_episodes, summarize
from policies.guard import guard_label, is_guard_spec
from policies.registry import display_rank, policy_label

#: metrics shown relative to the reference: (column, label, higher is better)
RATIO_METRICS: tuple[tuple[str, str, bool], ...] = (
    ("total_goodput_mb", "Goodput", True),
    ("avg_delay_ms", "Avg. delay", False),
    ("max_delay_ms", "Max. delay", False),
    ("avg_jitter_ms", "Jitter", False),
    ("drop_ratio", "Drop ratio", False),
    ("max_link_util", "Max. LU", False),
)
#: per ratio metric: is a higher value better?
HIGHER_IS_BETTER: dict[str, bool] = {m: h for m, _, h in RATIO_METRICS}
#: metrics shown as absolute values (the reference's are often 0): (column, label)
ABSOLUTE_METRICS: tuple[tuple[str, str], ...] = (
    ("action_fluctuation", "Action fluct."),
    ("inference_ms", "Inference [ms]"),
)
GROUP_KEYS: tuple[str, ...] = ("topology", "traffic", "link_failures", "episode_steps", "step_ms",
                              "network_model")


@dataclass
class Comparison:
    """Mean metrics of several policies on one (topology, traffic, ...) group, relative to a
    reference policy."""

    group: dict[str, Any]
    reference: str
    policies: list[str]
    episodes: dict[str, int]
    means: dict[str, dict[str, float]]
    ratios: dict[str, dict[str, float]]
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        g = self.group
        title = f"{g['topology']} / {g['traffic']}"
        if g.get("link_failures") not in (None, "none"):
            title += f" / failures: {g['link_failures']}"
        if g.get("episode_steps") != 100 or g.get("step_ms") != 5.0:
            title += f" / {g['episode_steps']} steps x {g['step_ms']:g} ms"
        if g.get("network_model") not in (None, "packet"):
            title += f" / {g['network_model']} model"
        return title


def ratio(value: float, reference: float) -> float:
    """``value / reference`` for result tables: NaN if either is missing, 1 for 0/0, inf for
    x/0."""
    if not (np.isfinite(value) and np.isfinite(reference)):
        return math.nan
    if reference == 0:
        return 1.0 if value == 0 else math.inf
    return value / reference


def compare(paths: list[str | os.PathLike], reference: str = "eigrp") -> list[Comparison]:
    """Group result directories by (topology, traffic, link failures, steps) and express each
    policy's mean metrics relative to ``reference`` (runs of one policy in a group, e.g. with
    different seeds, are pooled).

    Raises:
        FileNotFoundError: see :func:`find_run_dirs`; also when no run has finished episodes.
        ValueError: when no group contains the reference policy.
    """
    groups: dict[tuple, dict[str, list[dict[str, float]]]] = {}
    seeds: dict[tuple, dict[str, set[int]]] = {}
    configs: dict[tuple, dict[str, Any]] = {}
    for run in find_run_dirs(paths):
        cfg = load_config(run)
        rows = load_episodes(run)
        if not rows:
            continue
        key = tuple(json.dumps(cfg.get(k)) for k in GROUP_KEYS)
        configs[key] = {k: cfg.get(k) for k in GROUP_KEYS}
        groups.setdefault(key, {}).setdefault(cfg["policy"], []).extend(rows)
        seeds.setdefault(key, {}).setdefault(cfg["policy"], set()).update(r["seed"] for r in rows)
    if not groups:
        raise FileNotFoundError(f"no finished episodes in {[str(p) for p in paths]}")
    out = []
    for key, by_policy in groups.items():
        if reference not in by_policy:
            continue
        order = sorted(by_policy, key=lambda p: (p != reference, display_rank(p)))
        means = {p: {k: v["mean"] if v["mean"] is not None else math.nan
                     for k, v in summarize(by_policy[p]).items()} for p in order}
        ratios = {p: {m: ratio(means[p][m], means[reference][m]) for m, _, _ in RATIO_METRICS}
                  for p in order}
        notes = [f"`{p}` was evaluated on other episode seeds than `{reference}`: its ratios "
                 "compare different scenarios" for p in order
                 if seeds[key][p] != seeds[key][reference]]
        out.append(Comparison(group=configs[key], reference=reference, policies=order,
                              episodes={p: len(by_policy[p]) for p in order}, means=means,
                              ratios=ratios, notes=notes))
    if not out:
        found = sorted({p for g in groups.values() for p in g})
        raise ValueError(f"no result group contains the reference policy `{reference}`; "
                         f"policies found: {found}; evaluate `{reference}` on the same "
                         "topology and traffic, or pass --reference")
    return sorted(out, key=lambda c: c.title)


def format_number(x: float, digits: int = 3) -> str:
    """A metric value for tables: 3 significant digits, "n/a" for NaN/None, "inf"."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if math.isinf(x):
        return "inf"
    return f"{x:.{digits}g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"


def format_comparison(comp: Comparison) -> str:
    """A plain-text table: one row per policy, ratios to the reference with absolute means."""
    header = ["policy", "episodes", *(label for _, label, _ in RATIO_METRICS),
              *(label for _, label in ABSOLUTE_METRICS)]
    lines = [header]
    for p in comp.policies:
        cells = [guard_label(p) if is_guard_spec(p) else policy_label(p), str(comp.episodes[p])]
        for m, _, _ in RATIO_METRICS:
            cells.append(f"{format_number(comp.ratios[p][m])} ({format_number(comp.means[p][m])})")
        cells += [format_number(comp.means[p][m]) for m, _ in ABSOLUTE_METRICS]
        lines.append(cells)
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    text = [f"{comp.title}: mean over episodes relative to {policy_label(comp.reference)} "
            "(absolute mean in parentheses; goodput = total MB per episode)"]
    for j, row in enumerate(lines):
        text.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                              for i, (c, w) in enumerate(zip(row, widths))))
        if j == 0:
            text.append("  ".join("-" * w for w in widths))
    text += [f"note: {n}" for n in comp.notes]
    return "\n".join(text)


__all__ = ["ABSOLUTE_METRICS", "GROUP_KEYS", "RATIO_METRICS", "Comparison", "compare",
           "format_comparison", "format_number", "ratio"]
