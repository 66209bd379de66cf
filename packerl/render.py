# SPDX-License-Identifier: GPL-2.0-only
"""One frame of the network as an RGB array (the env's ``render_mode="rgb_array"``).

:func:`render_network` draws the topology at one step:

* nodes at their layout positions, labelled with their ids; the destination whose routes are
  shown is filled orange and drawn larger;
* every working link as a solid line coloured by the larger of its two directions' link
  utilisation on the fixed ``viridis`` colormap with the fixed scale ``[0, 1]`` (values above
  1 are clipped to the top colour; the colourbar, labelled "link utilisation", has an arrow
  for that);
* failed links as dashed grey lines;
* links that dropped packets this step with a thick red outline and a red ``"N drops"``
  label (the sum of both directions) at their midpoint;
* the installed routes toward the destination as black arrows ``u -> next_hops[u, dest]``
  (slightly curved so that the link colour underneath stays visible);
* a title ``"step S | destination D | T drops"``, plus an optional second line.

The figure is a :class:`matplotlib.figure.Figure` drawn on its own
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`: no pyplot, no global state, no
display. Layout and style are set explicitly (fixed axes rectangles, explicit font sizes and
colours), so the same inputs give the same pixels (with one matplotlib installation and its
fonts; a user's ``rcParams`` such as the font family can still change the look).
"""

from __future__ import annotations

import math
import operator

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

__all__ = ["UTILISATION_CMAP", "render_network"]

UTILISATION_CMAP = "viridis"
"""Name of the fixed colormap for link utilisation (scale ``[0, 1]``, clipped above)."""

_DPI = 100
_DROP_COLOR = "#d62728"
_FAILED_COLOR = "#9a9a9a"
_ROUTE_COLOR = "black"
_DEST_COLOR = "#ff9f1c"
_NODE_COLOR = "white"
_MIN_SIZE = 32


def render_network(
    positions: np.ndarray,
    edges: np.ndarray,
    link_up: np.ndarray,
    utilisation: np.ndarray,
    drop_packets: np.ndarray,
    next_hops: np.ndarray | None,
    destination: int,
    step: int,
    *,
    size: tuple[int, int] = (640, 480),
    title: str = "",
) -> np.ndarray:
    """Draw the network at one step and return the frame as an RGB array.

    Args:
        positions: ``(N, 2)`` finite float layout coordinates of the ``N`` nodes.
        edges: ``(E, 2)`` integer undirected edges (``u < v`` in PackeRL; any ``u != v`` in
            ``[0, N)`` is drawn); row ``i`` is topology edge ``i``.
        link_up: ``(E,)`` bool (or 0/1 integer), False once edge ``i`` has failed.
        utilisation: ``(2E,)`` finite float ``>= 0`` link utilisation per directed slot: slot
            ``2i`` is ``(u, v)``, slot ``2i + 1`` is ``(v, u)`` of edge ``i``. A link is coloured
            by the maximum of its two slots, clipped to ``[0, 1]``.
        drop_packets: ``(2E,)`` finite float ``>= 0`` packets dropped on each directed slot this
            step; a link is marked when the sum of its two slots is positive.
        next_hops: ``(N, N)`` integer table, ``[u, z]`` = the neighbour ``u`` forwards to for
            destination ``z``, ``-1`` = none; ``None`` (e.g. before the first step) draws no
            routes. Entries equal to ``u`` itself are skipped like ``-1``.
        destination: The node in ``[0, N)`` whose installed routes are drawn (and highlighted).
        step: The step index shown in the title.
        size: Output ``(width, height)`` in pixels, each at least 32.
        title: Optional extra text, shown as a second title line.

    Returns:
        A new C-contiguous ``(height, width, 3)`` uint8 array.

    Raises:
        ValueError: An input has the wrong shape or dtype, or an out-of-range value (the message
            says what is expected).
    """
    pos, edg, up, util, drops, table, dest, step, (width, height) = _validate(
        positions, edges, link_up, utilisation, drop_packets, next_hops, destination, step, size)
    title = str(title)

    fig = Figure(figsize=((width + 0.5) / _DPI, (height + 0.5) / _DPI), dpi=_DPI,
                 facecolor="white")
    canvas = FigureCanvasAgg(fig)
    try:
        _draw(fig, pos, edg, up, util, drops, table, dest, step, title, width, height)
        canvas.draw()
        buf = np.asarray(canvas.buffer_rgba())
        if buf.shape != (height, width, 4):
            raise RuntimeError(
                f"Agg canvas has shape {buf.shape}, expected {(height, width, 4)}")
        frame = np.array(buf[..., :3], dtype=np.uint8, order="C")  # a copy
    finally:
        # A matplotlib figure is a web of reference cycles that only the cyclic garbage
        # collector frees (nothing outside this function refers to it: no pyplot). Free the
        # large part, the Agg pixel buffer, right now; the artists are small garbage.
        # (fig.clear() would not help: clearing axes re-creates their ticks.)
        renderer = getattr(canvas, "renderer", None)
        canvas.renderer = None  # type: ignore[assignment]
        if renderer is not None:
            # Text artists cache the renderer; dropping its attributes (the C++ renderer and
            # the bound methods taken from it) frees the pixel buffer right away.
            renderer.__dict__.clear()
        del canvas, fig, renderer
    return frame


def _validate(positions: np.ndarray, edges: np.ndarray, link_up: np.ndarray,
              utilisation: np.ndarray, drop_packets: np.ndarray, next_hops: np.ndarray | None,
              destination: int, step: int, size: tuple[int, int]) -> tuple:
    """Check and normalise the inputs of :func:`render_network` (ValueError if invalid)."""
    try:
        width, height = (operator.index(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be a (width, height) pair of ints, got {size!r}") from None
    if width < _MIN_SIZE or height < _MIN_SIZE:
        raise ValueError(f"size must be at least ({_MIN_SIZE}, {_MIN_SIZE}) pixels, got {size!r}")

    pos = np.asarray(positions)
    if pos.ndim != 2 or pos.shape[1] != 2 or pos.shape[0] < 1:
        raise ValueError(f"positions must have shape (N, 2) with N >= 1, got {pos.shape}")
    if not (np.issubdtype(pos.dtype, np.number) and not np.iscomplexobj(pos)):
        raise ValueError(f"positions must be real numbers, got dtype {pos.dtype}")
    pos = pos.astype(np.float64)
    if not np.all(np.isfinite(pos)):
        raise ValueError("positions must be finite")
    n = pos.shape[0]

    edg = np.asarray(edges)
    if edg.ndim != 2 or edg.shape[1] != 2:
        raise ValueError(f"edges must have shape (E, 2), got {edg.shape}")
    if edg.size and not np.issubdtype(edg.dtype, np.integer):
        raise ValueError(f"edges must be integers, got dtype {edg.dtype}")
    edg = edg.astype(np.int64)
    e = edg.shape[0]
    if e and (edg.min() < 0 or edg.max() >= n):
        raise ValueError(f"edge endpoints must lie in [0, {n - 1}] (N = {n} positions)")
    if e and np.any(edg[:, 0] == edg[:, 1]):
        raise ValueError("edges must not be self-loops (u != v)")

    up = np.asarray(link_up)
    if up.shape != (e,):
        raise ValueError(f"link_up must have shape (E,) = ({e},), got {up.shape}")
    if up.dtype != np.bool_:
        if not (np.issubdtype(up.dtype, np.integer) and np.all((up == 0) | (up == 1))):
            raise ValueError(f"link_up must be bool (or 0/1 integers), got dtype {up.dtype}")
        up = up.astype(bool)

    util = _slot_values("utilisation", utilisation, e)
    drops = _slot_values("drop_packets", drop_packets, e)

    table = None
    if next_hops is not None:
        table = np.asarray(next_hops)
        if table.shape != (n, n):
            raise ValueError(
                f"next_hops must have shape (N, N) = ({n}, {n}) or be None, got {table.shape}")
        if not np.issubdtype(table.dtype, np.integer):
            raise ValueError(f"next_hops must be integers, got dtype {table.dtype}")
        table = table.astype(np.int64)
        if table.min() < -1 or table.max() >= n:
            raise ValueError(f"next_hops entries must be -1 (none) or a node id in [0, {n - 1}]")

    try:
        dest = operator.index(destination)
        step = operator.index(step)
    except TypeError:
        raise ValueError(
            f"destination and step must be ints, got {destination!r} and {step!r}") from None
    if not 0 <= dest < n:
        raise ValueError(f"destination must lie in [0, {n - 1}], got {dest}")
    return pos, edg, up, util, drops, table, dest, step, (width, height)


def _slot_values(name: str, values: np.ndarray, e: int) -> np.ndarray:
    """A ``(2E,)`` finite non-negative float64 array of per-directed-slot values."""
    a = np.asarray(values)
    if a.shape != (2 * e,):
        raise ValueError(f"{name} must have shape (2E,) = ({2 * e},) for E = {e} edges, "
                         f"got {a.shape}")
    real = (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_) and not np.iscomplexobj(a)
    if a.size and not real:
        raise ValueError(f"{name} must be real numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{name} must be finite and >= 0")
    return a


def _format_count(x: float) -> str:
    """A packet count: an integer if (nearly) integral, else 3 significant digits."""
    r = round(x)
    return str(int(r)) if abs(x - r) < 1e-6 else f"{x:.3g}"


def _draw(fig: Figure, pos: np.ndarray, edg: np.ndarray, up: np.ndarray, util: np.ndarray,
          drops: np.ndarray, table: np.ndarray | None, dest: int, step: int, title: str,
          width: int, height: int) -> None:
    """Draw all artists onto ``fig`` (sizes scale with the output size and node count)."""
    n, e = pos.shape[0], edg.shape[0]
    pt = 72.0 / _DPI  # points per pixel
    scale = min(width / 640.0, height / 480.0)
    font = float(np.clip(10.0 * scale, 5.0, 14.0))
    title_font = float(np.clip(11.0 * scale, 5.5, 15.0))
    node_r_px = float(np.clip(min(width, height) / (6.0 * math.sqrt(n) + 10.0), 3.0, 14.0))
    node_r_pt = node_r_px * pt
    link_w = max(1.0, 3.0 * scale) * pt * 1.4
    cmap = matplotlib.colormaps[UTILISATION_CMAP]
    norm = Normalize(vmin=0.0, vmax=1.0, clip=True)

    two_lines = bool(title)
    top = 1.0 - (2.6 if two_lines else 1.6) * title_font / pt / height
    bottom = 1.9 * font / pt / height  # room for the legend
    ax = fig.add_axes((0.02, bottom, 0.80, max(top - bottom, 0.1)))
    cax = fig.add_axes((0.86, bottom + 0.05 * (top - bottom), 0.03, 0.9 * (top - bottom)))
    ax.set_axis_off()

    # Axis limits from the layout with a margin, widened along one axis so that the data
    # aspect matches the axes box: equal scales on x and y without matplotlib's adjustable
    # limits (which warn when both limits are fixed).
    box_w, box_h = 0.80 * width, max(top - bottom, 0.1) * height
    lo, hi = pos.min(axis=0), pos.max(axis=0)
    span = hi - lo
    pad = 0.07 * float(span.max()) if span.max() > 1e-9 else 1.0
    half = (span + 2.0 * pad) / 2.0
    half = np.maximum(half, [half[1] * box_w / box_h, half[0] * box_h / box_w])
    centre = (lo + hi) / 2.0
    ax.set_xlim(centre[0] - half[0], centre[0] + half[0])
    ax.set_ylim(centre[1] - half[1], centre[1] + half[1])

    segs = pos[edg] if e else np.zeros((0, 2, 2))
    link_util = np.maximum(util[0::2], util[1::2]) if e else np.zeros(0)
    link_drops = drops[0::2] + drops[1::2] if e else np.zeros(0)
    dropping = link_drops > 0

    if dropping.any():
        ax.add_collection(LineCollection(segs[dropping], colors=_DROP_COLOR,
                                         linewidths=link_w * 3.0, capstyle="round", zorder=1))
    if (~up).any():
        ax.add_collection(LineCollection(segs[~up], colors=_FAILED_COLOR, linewidths=link_w * 0.7,
                                         linestyles=(0, (4, 3)), zorder=2))
    if up.any():
        colors = cmap(norm(link_util[up]))
        ax.add_collection(LineCollection(segs[up], colors=colors, linewidths=link_w,
                                         capstyle="round", zorder=2))

    # Routes toward the destination (u != dest, valid entry, not a self-loop).
    if table is not None:
        hops = table[:, dest]
        for u in range(n):
            v = int(hops[u])
            if u == dest or v < 0 or v == u:
                continue
            ax.add_patch(FancyArrowPatch(
                tuple(pos[u]), tuple(pos[v]), arrowstyle="-|>",
                mutation_scale=max(6.0, 12.0 * scale), connectionstyle="arc3,rad=0.18",
                shrinkA=node_r_pt + 1.0, shrinkB=node_r_pt + 1.5, linewidth=max(0.6, scale),
                color=_ROUTE_COLOR, zorder=3))

    # Nodes and labels.
    face = np.array([_DEST_COLOR if i == dest else _NODE_COLOR for i in range(n)], dtype=object)
    sizes = np.full(n, (2.0 * node_r_pt) ** 2)
    sizes[dest] = (2.0 * node_r_pt * 1.3) ** 2
    ax.scatter(pos[:, 0], pos[:, 1], s=sizes, c=list(face), edgecolors="black",
               linewidths=max(0.5, scale), zorder=4)
    label_font = float(np.clip(node_r_pt * 1.0, 4.0, 11.0))
    for i in range(n):
        ax.text(pos[i, 0], pos[i, 1], str(i), ha="center", va="center", fontsize=label_font,
                fontweight="bold" if i == dest else "normal", color="black", zorder=5)

    # Drop counts at the link midpoints.
    for i in np.flatnonzero(dropping):
        mid = segs[i].mean(axis=0)
        ax.text(mid[0], mid[1], f"{_format_count(link_drops[i])} drops", ha="center",
                va="center", fontsize=font * 0.8, color=_DROP_COLOR, zorder=6,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                      "alpha": 0.8})

    # Colourbar on the fixed scale.
    mappable = ScalarMappable(norm=norm, cmap=cmap)
    cbar = fig.colorbar(mappable, cax=cax, extend="max")
    cbar.set_label("link utilisation", fontsize=font)
    cbar.set_ticks([0.0, 0.25, 0.5, 0.75, 1.0])
    cbar.ax.tick_params(labelsize=font * 0.85)

    # Title and legend.
    total = _format_count(float(drops.sum()))
    head = f"step {step} | destination {dest} | {total} drops"
    fig.text(0.5, 1.0 - 0.4 * title_font / pt / height, head, ha="center", va="top",
             fontsize=title_font, color="black")
    if two_lines:
        fig.text(0.5, 1.0 - 1.5 * title_font / pt / height, title, ha="center", va="top",
                 fontsize=title_font * 0.9, color="black")
    handles = [
        Line2D([], [], color=cmap(0.6), linewidth=link_w, label="working link"),
        Line2D([], [], color=_FAILED_COLOR, linewidth=link_w * 0.7, linestyle=(0, (4, 3)),
               label="failed link"),
        Line2D([], [], color=_DROP_COLOR, linewidth=link_w * 2.0, label="drops"),
        Line2D([], [], color=_ROUTE_COLOR, linewidth=max(0.6, scale), marker=">",
               markersize=font * 0.6, label=f"route to {dest}"),
    ]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.44, 0.0), ncol=4,
               fontsize=font * 0.8, frameon=False, handlelength=1.8, columnspacing=1.2,
               borderaxespad=0.2)
