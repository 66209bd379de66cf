# SPDX-License-Identifier: GPL-2.0-only
"""Link-failure model: connectivity, uniqueness, timing and the Weibull rate."""

import networkx as nx
import numpy as np
import pytest

import synnet
from synnet import failures as F
from synnet import topology as T


def _topo(g, name="g"):
    return T.assign_attributes(g, name, np.random.default_rng(0))


def test_failures_never_disconnect_and_are_unique():
    topo = _topo(nx.connected_watts_strogatz_graph(20, 4, 0.3, seed=1))
    total = 0
    for seed in range(40):
        # a high failure scale stresses the bridge logic (many failures per step)
        f = synnet.generate_failures(topo, steps=100, step_ms=5.0, failure_scale=0.05, rng=np.random.default_rng(seed))
        total += len(f)
        assert len(np.unique(f["edge"])) == len(f)
        g = topo.to_networkx()
        g.remove_edges_from(map(tuple, topo.edges[f["edge"]].tolist()))
        assert nx.is_connected(g)
        assert np.all(np.diff(f["time_ms"]) >= 0)
        assert f["time_ms"].min(initial=0) >= 0 and f["time_ms"].max(initial=0) < 500
    assert total > 40 * 10  # the stress setting actually fails many links


def test_tree_never_fails():
    topo = _topo(nx.balanced_tree(2, 3))
    f = synnet.generate_failures(topo, steps=100, failure_scale=1.0, rng=np.random.default_rng(0))
    assert len(f) == 0


def test_failure_times_uniform_within_steps():
    topo = _topo(nx.complete_graph(10))
    times = []
    for seed in range(30):
        f = synnet.generate_failures(topo, steps=50, step_ms=4.0, failure_scale=0.01, rng=np.random.default_rng(seed))
        times.append(f["time_ms"])
    frac = (np.concatenate(times) / 4.0) % 1.0
    assert len(frac) > 100
    from scipy import stats

    assert stats.kstest(frac, "uniform").pvalue > 1e-3


def test_weibull_rate_matches_theory():
    # K8: 28 links, no bridges until many links are gone, so E[#failures] ~= H * E[p_t] * 28
    topo = _topo(nx.complete_graph(8))
    counts = [
        len(synnet.generate_failures(topo, steps=100, rng=np.random.default_rng(s))) for s in range(600)
    ]
    expected = 100 * F.expected_failure_probability(0.8, 0.001) * 28
    assert expected == pytest.approx(3.17, abs=0.01)
    assert np.mean(counts) == pytest.approx(expected, rel=0.12)
    # a different shape changes the rate noticeably (the test can fail)
    assert F.expected_failure_probability(2.0, 0.001) < 0.9 * F.expected_failure_probability(0.8, 0.001)


def test_failures_in_scenario_and_step_view(small_scenario):
    sc = small_scenario
    assert sc.params["link_failures"] == "weibull"
    seen = np.concatenate([sc.step_failures(t)["edge"] for t in range(sc.steps)])
    assert np.array_equal(np.sort(seen), np.sort(sc.failures["edge"]))
    none = synnet.generate("nx-S", "udp_low", None, steps=20, seed=1, )
    assert len(none.failures) == 0 and none.failures.dtype == synnet.FAILURE_DTYPE


def test_failure_parameter_errors(nsfnet_topology):
    with pytest.raises(ValueError, match="failure_shape"):
        synnet.generate_failures(nsfnet_topology, failure_shape=0)
    with pytest.raises(ValueError, match="failure_scale"):
        synnet.generate_failures(nsfnet_topology, failure_scale=-1)
    with pytest.raises(ValueError, match="link_failures='weibull'"):
        synnet.generate("nsfnet", link_failures=None, failure_scale=0.01)
