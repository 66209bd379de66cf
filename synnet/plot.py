# SPDX-License-Identifier: GPL-2.0-only
"""Plots of a scenario: topology (as PackeRL Figs. 10-11) and demand arrivals/volume over time.

Uses matplotlib's non-interactive Agg backend so it works headless.
"""

from __future__ import annotations

import os

import numpy as np

from .scenario import Scenario


def plot_scenario(scenario: Scenario, path: str | os.PathLike) -> None:
    """Draw ``scenario`` to an image file (format from the suffix, e.g. ``.png``).

    Left: the topology at its layout positions, node size by traffic potential, edge width
    by datarate, failed links dashed red. Right: demand arrivals per step and demand volume
    per step (bytes, log scale), with failure times marked.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    topo = scenario.topology
    fig = plt.figure(figsize=(12, 5.5))
    ax = fig.add_subplot(1, 2, 1)
    pos = topo.positions
    segs = pos[topo.edges] if topo.num_edges else np.empty((0, 2, 2))
    rate = topo.datarate_bps
    span = np.ptp(rate) if rate.size else 0.0
    widths = 0.5 + 3.5 * ((rate - rate.min()) / span if span > 0 else np.full_like(rate, 0.5))
    failed = np.zeros(topo.num_edges, dtype=bool)
    failed[scenario.failures["edge"]] = True
    ax.add_collection(LineCollection(segs[~failed], linewidths=widths[~failed], colors="0.35", zorder=1))
    if failed.any():
        ax.add_collection(
            LineCollection(segs[failed], linewidths=widths[failed], colors="tab:red", linestyles="--", zorder=1)
        )
    ax.scatter(pos[:, 0], pos[:, 1], s=30 + 300 * topo.potentials, c=topo.potentials, cmap="viridis",
               edgecolors="k", zorder=2)
    ax.set_title(f"{topo.name}: {topo.num_nodes} nodes, {topo.num_edges} links")
    ax.set_aspect("equal")
    ax.autoscale()
    ax.set_xticks([])
    ax.set_yticks([])

    steps = scenario.steps
    step_idx = np.minimum((scenario.demands["time_ms"] // scenario.step_ms).astype(np.int64), steps - 1)
    counts = np.bincount(step_idx, minlength=steps)
    volume = np.bincount(step_idx, weights=scenario.demands["bytes"].astype(np.float64), minlength=steps)
    ax1 = fig.add_subplot(2, 2, 2)
    ax1.bar(np.arange(steps), counts, width=1.0, color="tab:blue")
    ax1.set_ylabel("arrivals / step")
    ax2 = fig.add_subplot(2, 2, 4, sharex=ax1)
    ax2.bar(np.arange(steps), np.maximum(volume, 1.0), width=1.0, color="tab:orange")
    ax2.set_yscale("log")
    ax2.set_ylabel("bytes / step")
    ax2.set_xlabel(f"step ({scenario.step_ms:g} ms)")
    for ft in scenario.failures["time_ms"]:
        for a in (ax1, ax2):
            a.axvline(ft / scenario.step_ms, color="tab:red", lw=0.8, ls="--")
    fig.tight_layout()
    fig.savefig(os.fspath(path), dpi=110)
    plt.close(fig)
