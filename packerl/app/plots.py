# SPDX-License-Identifier: GPL-2.0-only
"""Heatmaps of :class:`~packerl.app.compare.Comparison` results (the paper's Figures 3-4)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from packerl.app.compare import ABSOLUTE_METRICS, RATIO_METRICS, Comparison, format_number
from policies.guard import guard_label


def plot_comparison(comparisons: list[Comparison], path: str | os.PathLike) -> Path:
    """Heatmap(s) in the style of the paper's Figures 3-4: rows = metrics, columns =
    policies, colour = value relative to the reference (green = better, log scale, clipped
    at 0.5x / 2x), annotated with the ratio and the absolute mean. One panel per group."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [label for _, label, _ in RATIO_METRICS] + [label for _, label in ABSOLUTE_METRICS]
    width = max(len(c.policies) for c in comparisons)
    fig, axes = plt.subplots(len(comparisons), 1, squeeze=False,
                             figsize=(2.0 + 1.6 * width, 0.2 + 3.8 * len(comparisons)))
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#dddddd")
    norm = Normalize(-1.0, 1.0)
    for ax, comp in zip(axes[:, 0], comparisons):
        score = np.full((len(rows), len(comp.policies)), np.nan)
        for j, p in enumerate(comp.policies):
            for i, (m, _, higher) in enumerate(RATIO_METRICS):
                r = comp.ratios[p][m]
                if np.isfinite(r) and r > 0:
                    score[i, j] = np.clip(np.log2(r) * (1 if higher else -1), -1, 1)
                elif r == 0 or np.isinf(r):
                    score[i, j] = (1 if (r == 0) != higher else -1)
        ax.imshow(np.ma.masked_invalid(score), cmap=cmap, norm=norm, aspect="auto")
        for j, p in enumerate(comp.policies):
            for i, (m, _, _) in enumerate(RATIO_METRICS):
                colour = "white" if abs(np.nan_to_num(score[i, j])) > 0.75 else "black"
                ax.text(j, i, f"{format_number(comp.ratios[p][m])}\n{format_number(comp.means[p][m])}",
                        ha="center", va="center", fontsize=8, color=colour)
            for k, (m, _) in enumerate(ABSOLUTE_METRICS):
                ax.text(j, len(RATIO_METRICS) + k, format_number(comp.means[p][m]), ha="center",
                        va="center", fontsize=8)
        ax.set_xticks(range(len(comp.policies)),
                      [f"{guard_label(p)}\n({comp.episodes[p]} ep.)" for p in comp.policies],
                      fontsize=8)
        ax.set_yticks(range(len(rows)), rows, fontsize=8)
        ax.set_title(f"{comp.title} (relative to {guard_label(comp.reference)}; "
                     "2nd line: absolute)", fontsize=9)
        ax.axhline(len(RATIO_METRICS) - 0.5, color="black", linewidth=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


__all__ = ["plot_comparison"]
