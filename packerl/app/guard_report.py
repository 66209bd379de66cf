# SPDX-License-Identifier: GPL-2.0-only
"""Views of guarded evaluations: what the guard's audit logs say, side by side with the
outcome of guarded, unguarded and fallback routing on the same scenarios.

- :func:`audit_summary`: over the audit logs of one guard spec (:mod:`policies.audit`), the
  shadow agreement (share of next-hop entries where the wrapped policy's table equals the
  fallback's), the would-have-changed rate (share of steps in which the guarded decision
  differs from the installed table; in shadow mode: what the wrapped policy would have
  changed), the share of steps the wrapped policy routed, fallbacks per 100 steps and their
  reasons, recoveries, each check's failure rate and the guard's inference time.
- :func:`guard_comparison`: evaluates policies (e.g. ``eigrp``, a wrapped policy and guard
  specs around it) with :func:`packerl.app.evaluate.evaluate` on the same episode seeds, with
  and without link failures, and returns :func:`packerl.app.compare.compare` tables plus the
  audit summaries of the guard specs.
- :func:`plot_timeline`: one episode's timeline from its audit log (who routed, the entries
  changed, the monitored telemetry, fallbacks with their reasons).

Example:
    >>> reason_kinds("check failed: inputs (2 features outside), reachability (3 looped)")
    ['inputs', 'reachability']
    >>> reason_kinds("degraded for 3 steps: drop ratio 0.4 > 0.2")
    ['degraded']
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from packerl.app.compare import (
    ABSOLUTE_METRICS,
    RATIO_METRICS,
    Comparison,
    compare,
    format_number,
)
from packerl.app.evaluate import evaluate
from policies.audit import read_audit
from policies.guard import CHECKS, guard_label, is_guard_spec, parse_guard_spec
from policies.registry import policy_label

AuditLogs = list[tuple[dict[str, Any], list[dict[str, Any]]]]


def reason_kinds(reason: str) -> list[str]:
    """The kinds of a fallback reason: the names of the failed checks, ``degraded`` or
    ``circuit breaker``."""
    if reason.startswith("check failed: "):
        return [c for c in CHECKS + ("encoding",)
                if re.search(rf"(^|, ){c} \(", reason[len("check failed: "):])]
    if reason.startswith("degraded"):
        return ["degraded"]
    if reason.startswith("circuit breaker"):
        return ["circuit breaker"]
    return ["other"]


def load_audit_logs(paths: Iterable[str | os.PathLike]) -> AuditLogs:
    """The (header, steps) of every ``*.jsonl`` audit log in ``paths`` (files or
    directories), sorted by file name."""
    return [read_audit(f) for f in audit_files(paths)]


def audit_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Every ``*.jsonl`` audit log in ``paths`` (files or directories), sorted by name."""
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(p.glob("*.jsonl")) if p.is_dir() else [p])
    return files


def audit_summary(logs: AuditLogs) -> dict[str, Any]:
    """What the guard did over some episodes (see the module docstring); JSON-serialisable."""
    steps = [r for _, s in logs for r in s]
    if not steps:
        raise ValueError("no audit records: evaluate a guard spec with `audit=<dir>` first")
    reasons: Counter = Counter()
    fallbacks = recoveries = 0
    for r in steps:
        for e in r["events"]:
            if e["event"] == "fallback":
                fallbacks += 1
                reasons.update(reason_kinds(e["reason"]))
            elif e["event"] == "recovered":
                recoveries += 1
    agreement = [r["agreement"] for r in steps if r["agreement"] is not None]
    return {
        "episodes": len(logs),
        "steps": len(steps),
        "mode": logs[0][0]["options"].get("mode", "guard"),
        "wrapped_routed": float(np.mean([r["installed"] == "wrapped" for r in steps])),
        "agreement": float(np.mean(agreement)) if agreement else None,
        "would_change_rate": float(np.mean([r["would_change"] > 0 for r in steps])),
        "would_change_entries": float(np.mean([r["would_change"] for r in steps])),
        "fallbacks": fallbacks,
        "fallbacks_per_100_steps": 100.0 * fallbacks / len(steps),
        "fallback_reasons": dict(reasons.most_common()),
        "recoveries": recoveries,
        "check_failure_rate": {c: float(np.mean([not r["checks"][c]["ok"] for r in steps]))
                               for c in CHECKS},
        "inference_ms": float(np.mean([r["inference_ms"] for r in steps
                                       if r["inference_ms"] is not None])),
    }


#: what the columns of :func:`format_audit_summaries` mean
AUDIT_LEGEND = ("Agreement: share of next-hop entries where the wrapped policy's table equals "
                "the fallback's. Would change: share of steps (and of entries) in which the "
                "guarded decision differs from the installed table. Check columns: share of "
                "steps in which the check failed.")


def format_audit_summaries(summaries: dict[str, dict[str, Any]]) -> str:
    """A Markdown table of :func:`audit_summary` results, one row per guard spec."""
    head = ["guard", "mode", "steps", "wrapped routed", "agreement", "would change (steps)",
            "would change (entries)", "fallbacks / 100 steps", "reasons", "recoveries",
            *(f"{c} failed" for c in CHECKS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, s in summaries.items():
        cells = [guard_label(name), s["mode"], str(s["steps"]), f"{s['wrapped_routed']:.1%}",
                 "n/a" if s["agreement"] is None else f"{s['agreement']:.1%}",
                 f"{s['would_change_rate']:.1%}", f"{s['would_change_entries']:.1%}",
                 format_number(s["fallbacks_per_100_steps"]),
                 ", ".join(f"{k} {v}" for k, v in s["fallback_reasons"].items()) or "-",
                 str(s["recoveries"]),
                 *(f"{s['check_failure_rate'][c]:.1%}" for c in CHECKS)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def guard_comparison(policies: list[str], topology: str, traffic: str, episodes: int,
                     seed: int, out_dir: str | os.PathLike,
                     link_failures: Iterable[str | None] = (None, "weibull"),
                     episode_steps: int = 100, reference: str = "eigrp",
                     workers: int | None = 1) -> dict[str, Any]:
    """Evaluate ``policies`` on the same episode seeds for every link-failure setting and
    compare them with ``reference``.

    Guard specs should carry ``audit=<dir>`` (one directory per spec) for the audit
    summaries; results go to ``out_dir/<failures>/`` (resumable, as ``packerl evaluate``).

    Returns:
        ``{"comparisons": {failures: Comparison}, "audit": {failures: {spec: summary}}}``.
    """
    out: dict[str, Any] = {"comparisons": {}, "audit": {}}
    for failures in link_failures:
        key = failures or "none"
        runs = []
        audits: dict[str, dict[str, Any]] = {}
        for policy in policies:
            spec = policy
            if is_guard_spec(policy) and parse_guard_spec(policy).audit is not None:
                config = parse_guard_spec(policy)
                audit_dir = Path(config.audit) / key
                spec = replace(config, audit=str(audit_dir)).spec()
            runs.append(evaluate(spec, topology, traffic, episodes, seed,
                                 Path(out_dir) / key, link_failures=failures,
                                 episode_steps=episode_steps, workers=workers, progress=False))
            if spec != policy:
                audits[policy] = audit_summary(load_audit_logs([audit_dir]))
        (comp,) = [c for c in compare(runs, reference=reference)]
        out["comparisons"][key] = comp
        out["audit"][key] = audits
    return out


def format_guard_comparison(comp: Comparison) -> str:
    """A Markdown table of a comparison with short guard labels: each metric's mean relative
    to the reference, with the absolute mean in parentheses."""
    head = ["policy", "episodes", *(label for _, label, _ in RATIO_METRICS),
            *(label for _, label in ABSOLUTE_METRICS)]
    lines = [f"{comp.title}: mean over episodes relative to {guard_label(comp.reference)} "
             "(absolute mean in parentheses; goodput = total MB per episode)", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in comp.policies:
        cells = [guard_label(p), str(comp.episodes[p])]
        cells += [f"{format_number(comp.ratios[p][m])} ({format_number(comp.means[p][m])})"
                  for m, _, _ in RATIO_METRICS]
        cells += [format_number(comp.means[p][m]) for m, _ in ABSOLUTE_METRICS]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [f"note: {n}" for n in comp.notes]
    return "\n".join(lines)


def plot_timeline(header: dict[str, Any], steps: list[dict[str, Any]],
                  path: str | os.PathLike, title: str = "") -> Path:
    """One episode of a guard, step by step: who routed (and the mode), the share of
    next-hop entries changed and the shadow agreement, the monitored drop ratio and delay,
    with a marker and the reason at every fallback."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(len(steps))
    n = len(steps[0]["table"]) if steps and "table" in steps[0] else 1
    entries = max(n * (n - 1), 1)
    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(10, 6.5),
                             gridspec_kw={"height_ratios": [1, 2, 2]})
    wrapped = np.array([r["installed"] == "wrapped" for r in steps], float)
    axes[0].fill_between(t, 0, wrapped, step="mid", color="tab:green", alpha=0.6,
                         label=f"{guard_label(header['wrapped'])} routes")
    axes[0].fill_between(t, 0, 1 - wrapped, step="mid", color="tab:grey", alpha=0.4,
                         label=f"fallback ({policy_label(header['fallback'])}) routes")
    axes[0].set_yticks([])
    axes[0].legend(loc="upper right", fontsize=7, ncol=2)
    axes[1].plot(t, [r["changed"] / entries for r in steps], color="tab:blue",
                 label="entries changed (installed)")
    axes[1].plot(t, [r["would_change"] for r in steps], color="tab:orange", linestyle="--",
                 label="guarded decision would change (vs installed)")
    axes[1].plot(t, [np.nan if r["agreement"] is None else r["agreement"] for r in steps],
                 color="tab:purple", linestyle=":", label="agreement with fallback")
    axes[1].set_ylabel("share of entries")
    axes[1].set_ylim(-0.02, 1.02)
    axes[1].legend(loc="upper right", fontsize=7)
    axes[2].plot(t, [r["telemetry"]["drop_ratio"] for r in steps], color="tab:red",
                 label="drop ratio")
    axes[2].set_ylabel("drop ratio")
    ax2 = axes[2].twinx()
    ax2.plot(t, [r["telemetry"]["avg_delay_ms"] for r in steps], color="tab:brown",
             linestyle="--", label="avg. delay [ms]")
    ax2.set_ylabel("avg. delay [ms]")
    handles = axes[2].get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    axes[2].legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=7)
    axes[2].set_xlabel("step (telemetry of step t shows the table installed at t - 1)")
    for r in steps:
        for e in r["events"]:
            if e["event"] in ("fallback", "recovered", "breaker_tripped"):
                colour = "tab:red" if e["event"] == "fallback" else "tab:green"
                for ax in axes:
                    ax.axvline(r["step"], color=colour, linewidth=0.8, alpha=0.7)
                if e["event"] == "fallback":
                    axes[0].annotate(", ".join(reason_kinds(e["reason"])), (r["step"], 0.5),
                                     fontsize=6, rotation=90, va="center", ha="right")
    fig.suptitle(title or f"guard timeline: {guard_label(header['wrapped'])}, seed "
                 f"{header.get('seed')}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


__all__ = ["AUDIT_LEGEND", "audit_summary", "format_audit_summaries", "format_guard_comparison",
           "guard_comparison", "guard_label", "load_audit_logs", "plot_timeline",
           "reason_kinds"]
