# SPDX-License-Identifier: GPL-2.0-only
"""Statistical and structural checks of the traffic model (fixed seeds)."""

import math

import numpy as np
import pytest
from scipy import stats

import synnet
from synnet import traffic as TR


@pytest.fixture(scope="module")
def big_demands(nsfnet_topology):
    return synnet.generate_traffic(
        nsfnet_topology, steps=100, step_ms=5.0, m_traffic=3.0, p_tcp=0.3, graph_class="fixed",
        rng=np.random.default_rng(3),
    )


def test_interarrival_distribution_is_loglogistic():
    scale = 0.7 / 30.0
    x = TR.sample_interarrivals(20000, 1.5, scale, np.inf, np.random.default_rng(0))
    assert stats.kstest(x, stats.fisk(1.5, scale=scale).cdf).pvalue > 0.01
    # a wrong shape is detected
    assert stats.kstest(x, stats.fisk(2.0, scale=scale).cdf).pvalue < 1e-6


def test_interarrival_cap():
    scale, cap = 10.0, 50.0
    x = TR.sample_interarrivals(50000, 1.5, scale, cap, np.random.default_rng(1))
    assert x.max() == cap
    frac = np.mean(x == cap)
    expected = stats.fisk(1.5, scale=scale).sf(cap)
    assert frac == pytest.approx(expected, rel=0.1)
    below = x[x < cap]
    cond = stats.fisk(1.5, scale=scale)
    assert stats.kstest(below, lambda v: cond.cdf(v) / cond.cdf(cap)).pvalue > 0.01


def test_graph_factor_and_shapes():
    assert TR.graph_factor("er", 100) == pytest.approx(16 * 10 - 30)
    assert TR.graph_factor("er", 4) == 2.0
    assert TR.graph_factor("er", 2) == 1.0
    assert TR.graph_factor("ws", 90) == pytest.approx(22 * 10 - 75)
    assert TR.graph_factor("ba", 15) == TR.graph_factor("ws", 15)
    assert TR.graph_factor("fixed", 14) == 10.0
    with pytest.raises(ValueError, match="unknown graph class"):
        TR.graph_factor("tree", 5)
    assert TR.size_shape(0.5) == pytest.approx(0.4 + math.log(0.6 ** (-1 / 37)))
    assert TR.iat_scale(0.5, 10.0) == pytest.approx(0.07)


def test_demand_count_matches_interarrival_mean(nsfnet_topology):
    # renewal process: E[count] ~= T / E[inter-arrival]; the IAT variance is infinite
    # (shape 1.5), so single episodes fluctuate by several percent -> average 20 seeds.
    scale = TR.iat_scale(0.5, 30.0)
    expected = 500.0 / stats.fisk(1.5, scale=scale).mean()
    counts = [
        len(synnet.generate_traffic(nsfnet_topology, m_traffic=3.0, rng=np.random.default_rng(s)))
        for s in range(20)
    ]
    assert np.mean(counts) == pytest.approx(expected, rel=0.03)


def test_times_sorted_in_range_and_uniform(big_demands):
    t = big_demands["time_ms"]
    assert np.all(np.diff(t) >= 0)
    assert t.min() >= 0 and t.max() < 500.0
    # arrivals are spread uniformly over the episode in aggregate
    assert stats.kstest(t, stats.uniform(0, 500).cdf).pvalue > 1e-3


def test_pairs_proportional_to_potential_product(nsfnet_topology):
    d = synnet.generate_traffic(nsfnet_topology, m_traffic=30.0, rng=np.random.default_rng(5))
    assert np.all(d["src"] != d["dst"])
    assert d["src"].min() >= 0 and d["dst"].max() < 14
    n = nsfnet_topology.num_nodes
    counts = np.zeros((n, n))
    np.add.at(counts, (d["src"], d["dst"]), 1)
    c = nsfnet_topology.potentials
    expected = np.outer(c, c)
    np.fill_diagonal(expected, 0)
    expected *= counts.sum() / expected.sum()
    off = ~np.eye(n, dtype=bool)
    # perturbation is only +-10%, so counts track c_i c_j closely
    assert np.corrcoef(counts[off], expected[off])[0, 1] > 0.9
    assert abs(counts[off].sum() - expected[off].sum()) < 1e-6


def test_sizes_pareto_min_cap_and_tail(big_demands):
    sizes = big_demands["bytes"]
    assert sizes.dtype == np.int64 and sizes.min() >= 10 and sizes.max() <= 10**12
    shape = TR.size_shape(0.5)
    n = len(sizes)
    # integer sizes are floor(X), X ~ Pareto(shape, scale 10): P(bytes >= k) = (10 / k) ** shape
    for k in (11, 15, 30, 100, 1_000, 10_000, 100_000, 1_000_000):
        p = (10 / k) ** shape
        assert abs(np.mean(sizes >= k) - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-9, k
    # a wrong shape would be detected at the median
    assert abs(np.median(sizes) - 10 * 2 ** (1 / shape)) < 0.1 * 10 * 2 ** (1 / shape)
    assert abs(np.median(sizes) - 10 * 2 ** (1 / 0.6)) > 5


def test_tcp_share_and_udp_rate_rule(big_demands):
    d = big_demands
    n = len(d)
    share = d["is_tcp"].mean()
    assert abs(share - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n)
    assert np.all(d["rate_bps"][d["is_tcp"]] == 0)
    udp = d[~d["is_tcp"]]
    small = udp["bytes"] < 100_000
    assert np.all(udp["rate_bps"][small] == 1e9)
    big = udp["rate_bps"][~small]
    assert big.size > 20 and big.min() >= 1e6 and big.max() <= 5e6
    assert stats.kstest(big, stats.uniform(1e6, 4e6).cdf).pvalue > 1e-3


def test_udp_only_and_tcp_only(nsfnet_topology):
    rng = np.random.default_rng(0)
    d = synnet.generate_traffic(nsfnet_topology, steps=10, m_traffic=1.0, p_tcp=0.0, rng=rng)
    assert not d["is_tcp"].any() and np.all(d["rate_bps"] > 0)
    d = synnet.generate_traffic(nsfnet_topology, steps=10, m_traffic=1.0, p_tcp=1.0, rng=rng)
    assert d["is_tcp"].all() and np.all(d["rate_bps"] == 0)


def test_more_traffic_means_more_demands(nsfnet_topology):
    counts = [
        len(synnet.generate_traffic(nsfnet_topology, steps=20, m_traffic=m, rng=np.random.default_rng(0)))
        for m in (0.25, 1.5, 3.0)
    ]
    assert counts[0] < counts[1] < counts[2]


def test_generate_traffic_errors(nsfnet_topology):
    with pytest.raises(ValueError, match="unknown traffic parameter"):
        synnet.generate_traffic(nsfnet_topology, bogus=1.0)
    with pytest.raises(ValueError, match="p_tcp"):
        synnet.generate_traffic(nsfnet_topology, p_tcp=1.5)
    with pytest.raises(ValueError, match="m_traffic"):
        synnet.generate_traffic(nsfnet_topology, m_traffic=0)
