# SPDX-License-Identifier: GPL-2.0-only
"""The PackeRL paper's findings on nx-XS (Figures 3 and 4, Sections 7.1 and 7.4) as claims a
sweep's results can confirm or contradict, cell by cell (``findings.md`` of ``packerl
report``).

A :class:`Finding` says: on these cells, this policy is better (or worse) than the reference
(EIGRP) on this metric. Its verdict in a cell comes from the 95% confidence interval of the
all-seeds ratio to the reference (:func:`packerl.app.report.bootstrap_ratio_ci`, a paired
bootstrap over the evaluation episodes):

- **holds**: the interval lies entirely on the claimed side of 1;
- **contradicted**: it lies entirely on the other side;
- **undecided**: it contains 1 (the sweep cannot tell the two apart).

A :class:`Trend` says: the policy's ratio gets better from one traffic setting to another
(more intense, more TCP). It compares point estimates (all-seeds means), since its two cells
are evaluated on different scenarios; it has no interval and says so.

Only packet-level cells of the finding's topology count: the paper's figures route packets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from packerl.app.compare import HIGHER_IS_BETTER, RATIO_METRICS
from packerl.app.compare import format_number as _fmt
from policies.guard import guard_label
from policies.magnneto_policy import is_magnneto_run
from policies.registry import display_rank
from synnet.presets import TRAFFIC_LEVELS as LEVELS
from synnet.presets import TRAFFIC_PROTOCOLS as PROTOCOLS

METRIC_LABEL = {m: label for m, label, _ in RATIO_METRICS}
#: the policy name that stands for any MAGNNETO run directory
MAGNNETO = "magnneto"
#: the paper's evaluation budget, for the tables' caveats
PAPER_SEEDS, PAPER_EPISODES = 16, 100
HOLDS, CONTRADICTED, UNDECIDED = "holds", "contradicted", "undecided"


@dataclass(frozen=True)
class Finding:
    """A claim: on the cells ``{protocol}_{level}`` of ``topology``, each of ``policies`` is
    better (``better=True``) or worse than the reference on ``metric``."""

    key: str
    source: str
    claim: str
    policies: tuple[str, ...]
    metric: str
    better: bool
    levels: tuple[str, ...] = LEVELS
    protocols: tuple[str, ...] = PROTOCOLS
    topology: str = "nx-XS"

    def traffics(self) -> list[str]:
        return [f"{p}_{lv}" for p in self.protocols for lv in self.levels]


@dataclass(frozen=True)
class Trend:
    """A claim: each of ``policies`` has a better ratio to the reference on ``metric`` in the
    second traffic of every pair in ``pairs`` than in the first."""

    key: str
    source: str
    claim: str
    policies: tuple[str, ...]
    metric: str
    pairs: tuple[tuple[str, str], ...]
    topology: str = "nx-XS"


_LEARNED = ("mslim", "fieldlines")

#: the paper's findings, in the order of its text
FINDINGS: tuple[Finding, ...] = (
    Finding("ospf_below_eigrp", "Section 7.1, Figure 3",
            "EIGRP slightly outperforms OSPF in all evaluated scenarios",
            ("ospf",), "total_goodput_mb", better=False),
    Finding("random_far_below", "Section 7.1, Figure 3",
            "the two random policies perform significantly worse than all other approaches",
            ("random_nh", "random_lw"), "total_goodput_mb", better=False),
    Finding("magnneto_below_eigrp", "Sections 7.1 and 7.4, Figure 3",
            "MAGNNETO performs worse than the static shortest-path baselines (EIGRP)",
            (MAGNNETO,), "total_goodput_mb", better=False),
    Finding("learned_lower_delay", "Section 7.1, Figures 3 and 4",
            "M-Slim and FieldLines provide routing performance that rivals EIGRP, with "
            "consistently lower average packet delays", _LEARNED, "avg_delay_ms", better=True),
    Finding("learned_goodput_intense", "Figure 4",
            "for more intense traffic, they outperform EIGRP in goodput and drop ratio",
            _LEARNED, "total_goodput_mb", better=True, levels=("high", "very_high")),
    Finding("learned_drops_intense", "Figure 4",
            "for more intense traffic, they outperform EIGRP in goodput and drop ratio",
            _LEARNED, "drop_ratio", better=True, levels=("high", "very_high")),
    Finding("eigrp_goodput_low", "Section 7.1",
            "for scenarios with low traffic intensity, EIGRP is able to maintain a slightly "
            "higher goodput", _LEARNED, "total_goodput_mb", better=False, levels=("low",)),
    Finding("mslim_goodput_but_low", "Section 7.4",
            "M-Slim outperforms them in all scenarios except those with low-volume traffic",
            ("mslim",), "total_goodput_mb", better=True,
            levels=("medium", "high", "very_high")),
)

TRENDS: tuple[Trend, ...] = (
    Trend("gain_grows_with_intensity", "Section 7.1, Figure 4",
          "the performance of FieldLines and M-Slim relative to EIGRP improves for scenarios "
          "with intense [...] traffic", _LEARNED, "total_goodput_mb",
          tuple((f"{p}_low", f"{p}_very_high") for p in PROTOCOLS)),
    Trend("gain_grows_with_tcp", "Section 7.1, Figure 4",
          "[...] improves for scenarios with [...] TCP-heavy traffic; the sending rate "
          "dynamics of TCP-dominated traffic amplify the reported difference",
          _LEARNED, "total_goodput_mb", tuple((f"udp_{lv}", f"tcp_{lv}") for lv in LEVELS)),
)


def policy_matches(policy: str, wanted: str) -> bool:
    """True if the result rows' ``policy`` is the finding's ``wanted`` (``"magnneto"``: any
    MAGNNETO run directory, as sweeps name them)."""
    return policy == wanted or (wanted == MAGNNETO and is_magnneto_run(policy))


def verdict(ci_low: float, ci_high: float, claimed_above_one: bool) -> str:
    """:data:`HOLDS`, :data:`CONTRADICTED` or :data:`UNDECIDED` for a ratio's interval (no
    interval, NaN: undecided)."""
    if math.isnan(ci_low) or math.isnan(ci_high):
        return UNDECIDED
    above, below = ci_low > 1.0, ci_high < 1.0
    if above or below:
        return HOLDS if above == claimed_above_one else CONTRADICTED
    return UNDECIDED


def _claimed_above_one(metric: str, better: bool) -> bool:
    return better == HIGHER_IS_BETTER[metric]


@dataclass
class CellVerdict:
    finding: Finding
    policy: str
    traffic: str
    row: dict[str, Any]
    verdict: str


def _metric_rows(rows: Iterable[dict[str, Any]], topology: str, metric: str
                 ) -> dict[tuple[str, str], dict[str, Any]]:
    """(policy, traffic) -> the packet-level, no-failure row of ``metric`` on ``topology``."""
    return {(r["policy"], r["traffic"]): r for r in rows
            if r["metric"] == metric and r["topology"] == topology
            and r.get("network_model", "packet") == "packet" and r["link_failures"] == "none"
            and np.isfinite(r["reference_mean"])}


def _policies(found: Iterable[str], wanted: tuple[str, ...]) -> list[str]:
    return sorted({p for p in found for w in wanted if policy_matches(p, w)}, key=display_rank)


def check(rows: list[dict[str, Any]], findings: Iterable[Finding] = FINDINGS
          ) -> list[CellVerdict]:
    """The verdict of every finding in every cell the rows (:func:`packerl.app.report.
    aggregate`) cover, for every policy of the finding the rows hold."""
    out = []
    for f in findings:
        cells = _metric_rows(rows, f.topology, f.metric)
        up = _claimed_above_one(f.metric, f.better)
        for policy in _policies({p for p, _ in cells}, f.policies):
            for traffic in f.traffics():
                r = cells.get((policy, traffic))
                if r is not None:
                    out.append(CellVerdict(f, policy, traffic, r,
                                           verdict(r["ratio_ci_low"], r["ratio_ci_high"], up)))
    return out


def check_trends(rows: list[dict[str, Any]], trends: Iterable[Trend] = TRENDS
                 ) -> list[tuple[Trend, str, str, str, float, float, bool]]:
    """Per trend, policy and pair present in the rows: ``(trend, policy, first, second,
    ratio in first, ratio in second, the second is better)``."""
    out = []
    for t in trends:
        cells = _metric_rows(rows, t.topology, t.metric)
        sign = 1.0 if HIGHER_IS_BETTER[t.metric] else -1.0
        for policy in _policies({p for p, _ in cells}, t.policies):
            for a, b in t.pairs:
                ra, rb = cells.get((policy, a)), cells.get((policy, b))
                if ra is None or rb is None:
                    continue
                x, y = ra["ratio_mean"], rb["ratio_mean"]
                out.append((t, policy, a, b, x, y, bool(sign * (y - x) > 0)))
    return out


def _ratio_text(r: dict[str, Any]) -> str:
    text = _fmt(r["ratio_mean"])
    if np.isfinite(r["ratio_ci_low"]):
        text += f" (CI {_fmt(r['ratio_ci_low'])}-{_fmt(r['ratio_ci_high'])})"
    if r["seeds"] > 1:
        text += f" [{_fmt(r['ratio_min'])}, {_fmt(r['ratio_max'])}]"
    return text


def markdown(rows: list[dict[str, Any]], sweep: str, reference: str,
             label: Callable[[str], str] = guard_label) -> str:
    """``findings.md``: a summary table and, per finding, its verdict in every cell; empty if
    the rows cover none of the findings."""
    verdicts = check(rows)
    trends = check_trends(rows)
    if not verdicts and not trends:
        return ""
    ref = label(reference)
    seeds = sorted({r["seeds"] for r in rows if r["seeds"] > 1}) or [1]
    episodes = sorted({r["episodes_per_seed"] for r in rows})
    lines = [f"# {sweep}: the paper's findings, checked", "",
             (f"Each finding of the paper (its words quoted) against this sweep, relative to "
              f"{ref}, on packet-level cells. Verdict per cell from the 95% confidence "
              "interval of the all-seeds ratio (paired bootstrap over the evaluation "
              "episodes): **holds** = the interval lies on the claimed side of 1, "
              "**contradicted** = on the other side, **undecided** = it contains 1. "
              f"Learned policies: {'/'.join(map(str, seeds))} training seed(s) (the paper: "
              f"{PAPER_SEEDS}); {'/'.join(map(str, episodes))} episodes per cell (the paper: "
              f"{PAPER_EPISODES}). Cell values: ratio (CI) [min, max over seeds]; better half: "
              "the paper's protocol (Section 6.3), shown beside, never instead."), "",
             "| finding | policy | metric | holds | undecided | contradicted |",
             "|---|---|---|---|---|---|"]
    groups: dict[tuple[str, str], list[CellVerdict]] = {}
    for v in verdicts:
        groups.setdefault((v.finding.key, v.policy), []).append(v)
    for (key, policy), vs in groups.items():
        f = vs[0].finding
        counts = [sum(v.verdict == s for v in vs) for s in (HOLDS, UNDECIDED, CONTRADICTED)]
        lines.append(f"| {key} | {label(policy)} | {METRIC_LABEL[f.metric]} | "
                     + " | ".join(f"{c}/{len(vs)}" for c in counts) + " |")
    for t in TRENDS:
        ts = [x for x in trends if x[0] is t]
        for policy in dict.fromkeys(x[1] for x in ts):
            mine = [x for x in ts if x[1] == policy]
            lines.append(f"| {t.key} | {label(policy)} | {METRIC_LABEL[t.metric]} | "
                         f"{sum(x[6] for x in mine)}/{len(mine)} pairs (point estimates) | "
                         f"| {sum(not x[6] for x in mine)}/{len(mine)} pairs |")
    lines.append("")
    for key in dict.fromkeys(v.finding.key for v in verdicts):
        vs = [v for v in verdicts if v.finding.key == key]
        f = vs[0].finding
        side = "better" if f.better else "worse"
        lines += [f"## {key}", "", f"> \"{f.claim}\" ({f.source})", "",
                  f"Claimed: {side} than {ref} on {METRIC_LABEL[f.metric]} "
                  f"({'higher' if HIGHER_IS_BETTER[f.metric] else 'lower'} is better).", "",
                  "| policy | traffic | ratio to " + ref + " | better half | verdict |",
                  "|---|---|---|---|---|"]
        for v in vs:
            lines.append(f"| {label(v.policy)} | {v.traffic} | {_ratio_text(v.row)} | "
                         f"{_fmt(v.row['ratio_better_half_mean'])} | {v.verdict} |")
        lines.append("")
    for t in TRENDS:
        ts = [x for x in trends if x[0] is t]
        if not ts:
            continue
        lines += [f"## {t.key}", "", f"> \"{t.claim}\" ({t.source})", "",
                  (f"Claimed: the ratio to {ref} on {METRIC_LABEL[t.metric]} is better in the "
                   "second traffic of each pair. Point estimates (all-seeds means): the two "
                   "traffics are different scenarios, so no paired interval."), "",
                  "| policy | from | to | ratio from | ratio to | better |", "|---|---|---|---|---|---|"]
        for _, policy, a, b, x, y, ok in ts:
            lines.append(f"| {label(policy)} | {a} | {b} | {_fmt(x)} | {_fmt(y)} | "
                         f"{'yes' if ok else 'no'} |")
        lines.append("")
    return "\n".join(lines)


__all__ = ["CONTRADICTED", "FINDINGS", "HOLDS", "TRENDS", "UNDECIDED", "CellVerdict", "Finding",
           "Trend", "check", "check_trends", "markdown", "policy_matches", "verdict"]
