# SPDX-License-Identifier: GPL-2.0-only
"""Structural and attribute checks of generated topologies."""

import networkx as nx
import numpy as np
import pytest

import synnet
from synnet import topology as T

PRESET_RANGES = {"nx-XS": (6, 10), "nx-S": (11, 25), "nx-M": (26, 50), "nx-L": (51, 100), "nx-XL": (101, 250)}


def _topo(preset, seed, **kw):
    return synnet.generate(preset, "udp_low", None, steps=1, seed=seed, **kw).topology


@pytest.mark.parametrize("preset", ["nx-XS", "nx-S", "nx-M", "nx-L"])
def test_presets_connected_in_range_and_ba_small(preset):
    lo, hi = PRESET_RANGES[preset]
    models = set()
    for seed in range(12):
        sc = synnet.generate(preset, "udp_low", None, steps=1, seed=seed)
        topo = sc.topology
        models.add(sc.params["model"])
        assert lo <= topo.num_nodes <= hi
        assert nx.is_connected(topo.to_networkx())
        assert topo.name == f"{preset}/{sc.params['model']}"
        if sc.params["model"] == "ba":
            assert topo.num_nodes <= 50
    assert len(models) >= 2  # models are actually drawn


def test_ba_never_above_50_nodes_for_large_presets():
    for seed in range(15):
        assert synnet.generate("nx-L", "udp_low", None, steps=1, seed=seed).params["model"] in ("er", "ws")
    with pytest.raises(ValueError, match="limited to <= 50"):
        synnet.generate("nx-L", "udp_low", None, steps=1, seed=0, model="ba")
    with pytest.raises(ValueError, match="limited to <= 50"):
        synnet.generate("nx-S", "udp_low", None, steps=1, seed=0, model="ba", num_nodes=51)
    # model=ba on nx-M keeps N <= 50
    assert _topo("nx-M", 3, model="ba").num_nodes <= 50


def test_er_large_graph_is_connected_via_repair():
    g, repairs = T.make_graph("er", 300, np.random.default_rng(1))
    assert nx.is_connected(g) and g.number_of_nodes() == 300
    assert repairs > 0  # avg degree 3 at N=300 is essentially never connected
    avg_deg = 2 * g.number_of_edges() / 300
    assert 2.7 < avg_deg < 3.4


def test_model_parameters_respected():
    g, _ = T.make_graph("ws", 40, np.random.default_rng(0))
    assert g.number_of_edges() == 40 * 4 // 2
    g, _ = T.make_graph("ba", 30, np.random.default_rng(0))
    assert g.number_of_edges() == (30 - 2) * 2
    with pytest.raises(ValueError, match="unknown graph model"):
        T.make_graph("xx", 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="ws_k"):
        T.make_graph("ws", 4, np.random.default_rng(0))


@pytest.mark.parametrize("preset", ["nx-XS", "nx-M", "nx-XL", "nsfnet", "geant2"])
def test_edge_format_delay_and_datarate(preset):
    for seed in range(3):
        topo = _topo(preset, seed)
        e = topo.edges
        assert e.dtype == np.int32 and e.shape[1] == 2
        assert np.all(e[:, 0] < e[:, 1])
        assert np.array_equal(np.lexsort((e[:, 1], e[:, 0])), np.arange(len(e)))
        assert topo.delay_ms.mean() == pytest.approx(5.0, abs=1e-9)
        assert topo.delay_ms.min() >= 1.0
        assert topo.datarate_bps.min() == pytest.approx(50e6)
        assert topo.datarate_bps.max() == pytest.approx(200e6)
        assert topo.potentials.max() == pytest.approx(1.0) and topo.potentials.min() > 0
        assert np.allclose(topo.positions.mean(axis=0), 0.0, atol=1e-12)


def test_delay_rule_affine_when_minimum_too_small():
    lengths = np.array([0.0, 1.0, 1.0, 1.0, 10.0])
    d = T.edge_delays(lengths, np.random.default_rng(0))
    assert d.mean() == pytest.approx(5.0) and d.min() == pytest.approx(1.0)
    assert np.array_equal(np.argsort(d, kind="stable")[[0, -1]], [0, 4])
    # no affine step needed: pure scaling keeps ratios
    lengths = np.array([1.0, 1.2, 1.1])
    d = T.edge_delays(lengths, np.random.default_rng(0), perturbation=0.0)
    assert np.allclose(d / d[0], lengths / lengths[0])


def test_degenerate_values_do_not_produce_nan():
    assert np.all(T.minmax_scale(np.array([3.0, 3.0]), 50e6, 200e6) == 125e6)
    d = T.edge_delays(np.zeros(4), np.random.default_rng(0))
    assert np.all(d == 5.0)
    g = nx.cycle_graph(6)  # all degrees equal
    topo = T.assign_attributes(g, "ring", np.random.default_rng(0), perturbation=0.0)
    assert np.all(np.isfinite(topo.potentials)) and np.all(np.isfinite(topo.datarate_bps))
    g = nx.path_graph(2)
    topo = T.assign_attributes(g, "pair", np.random.default_rng(0))
    assert topo.delay_ms.tolist() == [5.0] and np.isfinite(topo.datarate_bps).all()


def test_potential_formula():
    pos = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    deg = np.array([2.0, 1.0, 1.0])
    c = T.node_potentials(pos, deg)
    w_p = T.minmax_scale(1 / (np.linalg.norm(pos, axis=1) + 0.01), 1, 10)
    w_d = T.minmax_scale(deg, 1, 10)
    expected = 0.6 * w_d + 0.4 * w_p
    assert np.allclose(c, expected / expected.max())
    assert c[0] == 1.0


def test_fixed_topologies_sizes_and_capacities(nsfnet_topology):
    topo = nsfnet_topology
    assert topo.num_nodes == 14 and topo.num_edges == 21
    fast = {tuple(e) for e, r in zip(topo.edges.tolist(), topo.datarate_bps) if r == 200e6}
    assert fast == {(3, 4), (4, 5), (7, 10)}  # the 40 kbps links of KDN nsfnetbw
    assert set(topo.datarate_bps.tolist()) == {50e6, 200e6}
    geant = _topo("geant2", 0)
    assert geant.num_nodes == 24 and geant.num_edges == 37
    assert nx.is_connected(geant.to_networkx())
    names = {synnet.generate("nsfnet+geant2", "udp_low", None, steps=1, seed=s).topology.name for s in range(10)}
    assert names == {"nsfnet", "geant2"}


def test_fixed_topology_rejects_structure_overrides():
    with pytest.raises(ValueError, match="cannot be overridden"):
        synnet.generate("nsfnet", num_nodes=10)


def test_to_networkx_attributes(nsfnet_topology):
    g = nsfnet_topology.to_networkx()
    for u, v, data in g.edges(data=True):
        k = data["index"]
        assert sorted((u, v)) == nsfnet_topology.edges[k].tolist()
        assert data["datarate_bps"] == nsfnet_topology.datarate_bps[k]
        assert data["delay_ms"] == nsfnet_topology.delay_ms[k]


def test_topology_validation_errors():
    good = dict(name="x", num_nodes=3, edges=[[0, 1], [1, 2]], datarate_bps=[1.0, 1.0], delay_ms=[1.0, 1.0],
                positions=np.zeros((3, 2)), potentials=np.ones(3))
    synnet.Topology(**good)
    with pytest.raises(ValueError, match="u < v"):
        synnet.Topology(**{**good, "edges": [[1, 0], [1, 2]]})
    with pytest.raises(ValueError, match="sorted"):
        synnet.Topology(**{**good, "edges": [[1, 2], [0, 1]]})
    with pytest.raises(ValueError, match="shape"):
        synnet.Topology(**{**good, "delay_ms": [1.0]})
    with pytest.raises(ValueError, match="endpoints"):
        synnet.Topology(**{**good, "edges": [[0, 1], [1, 5]]})
