# SPDX-License-Identifier: GPL-2.0-only
"""packerl.render.render_network: frame shape, determinism, sensitivity to inputs, validation."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from matplotlib.figure import Figure

import synnet
from packerl.render import render_network
from packerl.routing import next_hops_from_weights

SIZE = (320, 240)  # small frames keep the module fast


@pytest.fixture(scope="module")
def net() -> dict:
    sc = synnet.generate(topology="nx-XS", traffic="udp_low", link_failures=None, steps=1,
                         seed=0)
    topo = sc.topology
    n, e = topo.num_nodes, topo.num_edges
    edge_index = np.empty((2, 2 * e), np.int64)
    edge_index[:, 0::2] = topo.edges.T
    edge_index[:, 1::2] = topo.edges[:, ::-1].T
    return {
        "positions": np.asarray(topo.positions), "edges": np.asarray(topo.edges),
        "link_up": np.ones(e, bool), "utilisation": np.full(2 * e, 0.2),
        "drop_packets": np.zeros(2 * e),
        "next_hops": next_hops_from_weights(n, edge_index, np.ones(2 * e)),
        "destination": 0, "step": 3}


def draw(net: dict, **changes) -> np.ndarray:
    kw = {**net, **changes}
    size = kw.pop("size", SIZE)
    return render_network(**kw, size=size)


@pytest.fixture(scope="module")
def base(net) -> np.ndarray:
    return draw(net)


def test_shape_dtype_and_exact_size(net, base):
    assert base.shape == (SIZE[1], SIZE[0], 3)
    assert base.dtype == np.uint8 and base.flags.c_contiguous
    assert base.min() < 100 and base.max() == 255  # something drawn on a white background
    odd = draw(net, size=(203, 117), next_hops=None)  # sizes where figsize * dpi is inexact
    assert odd.shape == (117, 203, 3)


def test_deterministic(net, base):
    again = draw(net)
    assert np.array_equal(again, base)
    assert again is not base


def test_utilisation_changes_pixels(net, base):
    util = net["utilisation"].copy()
    util[0] = 0.95  # one direction of edge 0 only: the link shows the max of both
    assert not np.array_equal(draw(net, utilisation=util), base)
    # The scale is fixed and clipped at 1: 3.0 and 7.0 draw the same frame.
    high = [draw(net, utilisation=np.full_like(util, x)) for x in (3.0, 7.0)]
    assert np.array_equal(*high)


def test_destination_changes_pixels(net, base):
    assert not np.array_equal(draw(net, destination=1), base)


def test_failed_link_and_drops_change_pixels(net, base):
    up = net["link_up"].copy()
    up[2] = False
    failed = draw(net, link_up=up)
    assert not np.array_equal(failed, base)
    drops = net["drop_packets"].copy()
    drops[5] = 17.0
    dropped = draw(net, drop_packets=drops)
    assert not np.array_equal(dropped, base)
    # Drops are marked in red: strongly red pixels appear above the legend (whose "drops"
    # swatch is red in every frame).
    def red(frame: np.ndarray) -> int:
        f = frame[: -SIZE[1] // 8].astype(int)
        return int(np.sum((f[..., 0] > 180) & (f[..., 1] < 90) & (f[..., 2] < 90)))

    assert red(base) == 0 and red(dropped) > 30


def test_routes_drawn_only_when_given(net, base):
    assert not np.array_equal(draw(net, next_hops=None), base)
    # -1 entries (and the destination's own row) draw no arrows: same as no table at all
    none = np.full_like(net["next_hops"], -1)
    assert np.array_equal(draw(net, next_hops=none), draw(net, next_hops=None))


@pytest.mark.parametrize("change, match", [
    ({"positions": np.zeros((10, 3))}, r"positions must have shape \(N, 2\)"),
    ({"edges": np.zeros((20, 3), np.int64)}, r"edges must have shape \(E, 2\)"),
    ({"link_up": np.ones(19, bool)}, r"link_up must have shape \(E,\) = \(20,\)"),
    ({"utilisation": np.zeros(20)}, r"utilisation must have shape \(2E,\) = \(40,\)"),
    ({"drop_packets": np.zeros((40, 1))}, r"drop_packets must have shape \(2E,\)"),
    ({"next_hops": np.zeros((9, 9), np.int64)}, r"next_hops must have shape \(N, N\)"),
    ({"destination": 10}, r"destination must lie in \[0, 9\]"),
    ({"size": (640,)}, r"size must be a \(width, height\) pair"),
    ({"utilisation": np.full(40, -0.5)}, r"utilisation must be finite and >= 0"),
])
def test_bad_inputs_raise_value_error(net, change, match):
    assert net["positions"].shape == (10, 2) and net["edges"].shape == (20, 2)
    with pytest.raises(ValueError, match=match):
        draw(net, **change)


def test_no_figure_survives_a_frame(net, monkeypatch):
    figures: list[weakref.ref] = []
    init = Figure.__init__

    def tracking_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        figures.append(weakref.ref(self))

    monkeypatch.setattr(Figure, "__init__", tracking_init)
    draw(net)
    gc.collect()
    assert len(figures) == 1 and figures[0]() is None
