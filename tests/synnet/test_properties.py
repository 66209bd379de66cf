# SPDX-License-Identifier: GPL-2.0-only
"""Property-based tests over random generation parameters (hypothesis)."""

import networkx as nx
import pytest
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synnet


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    num_nodes=st.integers(5, 40),
    model=st.sampled_from(["ba", "er", "ws"]),
    m_traffic=st.floats(0.05, 4.0),
    p_tcp=st.floats(0.0, 1.0),
    steps=st.integers(1, 40),
    step_ms=st.sampled_from([1.0, 2.5, 5.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_invariants(num_nodes, model, m_traffic, p_tcp, steps, step_ms, seed):
    sc = synnet.generate("nx-S", "mixed_low", "weibull", steps=steps, step_ms=step_ms, seed=seed,
                         num_nodes=num_nodes, model=model, m_traffic=m_traffic, p_tcp=p_tcp, failure_scale=0.01)
    topo = sc.topology
    assert topo.num_nodes == num_nodes
    g = topo.to_networkx()
    assert nx.is_connected(g)
    assert abs(topo.delay_ms.mean() - 5.0) < 1e-9 and topo.delay_ms.min() >= 1.0 - 1e-12
    assert topo.datarate_bps.min() >= 50e6 and topo.datarate_bps.max() <= 200e6
    d = sc.demands
    assert d.dtype == synnet.DEMAND_DTYPE
    assert np.all(np.diff(d["time_ms"]) >= 0)
    assert d["time_ms"].min(initial=0) >= 0 and d["time_ms"].max(initial=0) < steps * step_ms
    assert np.all(d["src"] != d["dst"]) and np.all((d["src"] >= 0) & (d["dst"] < num_nodes))
    assert np.all(d["bytes"] >= 10)
    assert np.all((d["rate_bps"] == 0) == d["is_tcp"])
    assert sum(len(sc.step_demands(t)) for t in range(steps)) == len(d)
    f = sc.failures
    assert len(np.unique(f["edge"])) == len(f)
    g.remove_edges_from(map(tuple, topo.edges[f["edge"]].tolist()))
    assert nx.is_connected(g)
    assert sum(len(sc.step_failures(t)) for t in range(steps)) == len(f)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), preset=st.sampled_from(["nx-XS", "nsfnet", "geant2"]))
def test_determinism_and_roundtrip(tmp_path_factory, seed, preset):
    a = synnet.generate(preset, "flex", "weibull", steps=10, seed=seed)
    b = synnet.generate(preset, "flex", "weibull", steps=10, seed=seed)
    assert a.demands.tobytes() == b.demands.tobytes() and a.params == b.params
    path = tmp_path_factory.mktemp("rt") / "s.npz"
    a.save(path)
    c = synnet.Scenario.load(path)
    assert c.demands.tobytes() == a.demands.tobytes() and c.failures.tobytes() == a.failures.tobytes()
    assert c.topology.delay_ms.tobytes() == a.topology.delay_ms.tobytes() and c.params == a.params


@pytest.mark.slow
def test_large_presets_generate_quickly_and_stay_valid():
    import time

    for preset in ("nx-XL", "nx-XXL"):
        t0 = time.perf_counter()
        sc = synnet.generate(preset, "tcp_very_high", "weibull", steps=100, seed=1)
        elapsed = time.perf_counter() - t0
        assert nx.is_connected(sc.topology.to_networkx())
        if preset == "nx-XL":
            assert elapsed < 2.0
