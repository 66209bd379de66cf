# SPDX-License-Identifier: GPL-2.0-only
"""Preset names, overrides and their error messages."""

import pytest

import synnet
from synnet.presets import DRAWN_TRAFFIC, OVERRIDE_SPECS


def test_preset_tables():
    assert set(synnet.TOPOLOGY_PRESETS) == {"nx-XS", "nx-S", "nx-M", "nx-L", "nx-XL", "nx-XXL", "nsfnet", "geant2",
                                            "nsfnet+geant2"}
    assert len(synnet.TRAFFIC_PRESETS) == 16
    assert DRAWN_TRAFFIC == {"flex", "udp_flex", "mixed_flex", "tcp_flex"}
    assert synnet.TRAFFIC_PRESETS["mixed_medium"] == {"m_traffic": 0.75, "p_tcp": 0.5}
    assert synnet.TRAFFIC_PRESETS["udp_very_high"] == {"m_traffic": 3.0, "p_tcp": 0.0}
    assert synnet.TRAFFIC_PRESETS["tcp_low"] == {"m_traffic": 0.25, "p_tcp": 1.0}


@pytest.mark.parametrize("name", sorted(synnet.TRAFFIC_PRESETS))
def test_traffic_presets_resolve(name):
    sc = synnet.generate("nx-XS", name, None, steps=2, seed=0)
    spec = synnet.TRAFFIC_PRESETS[name]
    if name in DRAWN_TRAFFIC:
        assert 0.1 <= sc.params["m_traffic"] <= 4.0 and 0 <= sc.params["p_tcp"] <= 1
    else:
        assert sc.params["m_traffic"] == spec["m_traffic"] and sc.params["p_tcp"] == spec["p_tcp"]


def test_flex_draws_vary():
    vals = {synnet.generate("nx-XS", "flex", None, steps=1, seed=s).params["m_traffic"] for s in range(5)}
    assert len(vals) == 5


@pytest.mark.parametrize(("name", "p_tcp"), [("udp_flex", 0.0), ("mixed_flex", 0.5),
                                             ("tcp_flex", 1.0)])
def test_protocol_flex_presets_draw_flex_intensities_with_a_fixed_mix(name, p_tcp):
    for seed in range(4):
        flex = synnet.generate("nx-XS", "flex", None, steps=20, seed=seed)
        fixed = synnet.generate("nx-XS", name, None, steps=20, seed=seed)
        assert fixed.params["m_traffic"] == flex.params["m_traffic"]
        assert fixed.params["p_tcp"] == p_tcp
        assert len(fixed.demands) > 0
        if p_tcp in (0.0, 1.0):
            assert (fixed.demands["is_tcp"] == bool(p_tcp)).all()


def test_overrides_are_applied():
    sc = synnet.generate("nx-S", "tcp_high", "weibull", steps=10, seed=1, num_nodes=8, model="er", m_traffic=2.0,
                         p_tcp=0.3, failure_shape=1.2, failure_scale=0.002, delay_mean_ms=8.0,
                         datarate_min=10e6, datarate_max=20e6)
    p = sc.params
    assert sc.topology.num_nodes == 8 and p["model"] == "er" and sc.topology.name == "nx-S/er"
    assert (p["m_traffic"], p["p_tcp"], p["failure_shape"], p["failure_scale"]) == (2.0, 0.3, 1.2, 0.002)
    assert sc.topology.delay_ms.mean() == pytest.approx(8.0)
    assert sc.topology.datarate_bps.min() == pytest.approx(10e6) and sc.topology.datarate_bps.max() == pytest.approx(20e6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"topology": "nx-XXS"}, r"unknown topology preset 'nx-XXS'; valid: nx-XS, nx-S.*Did you mean 'nx-XS'"),
        ({"topology": "NSFNET"}, r"Did you mean 'nsfnet'"),
        ({"traffic": "tcp_hihg"}, r"unknown traffic preset 'tcp_hihg'; valid: .*flex.*Did you mean 'tcp_high'"),
        ({"link_failures": "poisson"}, r"unknown link-failure preset 'poisson'; valid: none, weibull"),
        ({"num_nodez": 5}, r"unknown parameter 'num_nodez'.*Did you mean 'num_nodes'"),
        ({"num_nodes": 2}, r"num_nodes must lie in \[3, 5000\]"),
        ({"num_nodes": 7.5}, r"num_nodes must be an integer"),
        ({"p_tcp": 1.5}, r"p_tcp must lie in \[0, 1\]"),
        ({"m_traffic": 0}, r"m_traffic must lie in \(0"),
        ({"m_traffic": "lots"}, r"m_traffic must be a number"),
        ({"model": "tree"}, r"unknown graph model 'tree'; valid: ba, er, ws"),
        ({"datarate_min": 3e8}, r"datarate_min .* must be <= datarate_max"),
        ({"delay_min_ms": 6.0}, r"delay_min_ms .* must be < delay_mean_ms"),
        ({"steps": 0}, r"steps must lie in \[1"),
        ({"step_ms": -1.0}, r"step_ms must lie in \[0.001, 1e\+06\]"),
        ({"seed": -3}, r"seed must be a non-negative integer"),
        ({"failure_shape": 0}, r"failure_shape must lie in \(0"),
    ],
)
def test_errors_list_what_is_valid(kwargs, match):
    with pytest.raises(ValueError, match=match):
        synnet.generate(**{"topology": "nx-XS", **kwargs})


def test_every_override_key_is_accepted():
    valid = {
        "num_nodes": 8, "model": "er", "ba_m": 2, "er_avg_degree": 4.0, "ws_k": 4, "ws_p": 0.2, "layout_seed": 1,
        "perturbation": 0.05, "delay_mean_ms": 4.0, "delay_min_ms": 0.5, "datarate_min": 1e6, "datarate_max": 1e9,
        "m_traffic": 2.0, "p_tcp": 0.5, "traffic_factor": 3.0, "lambda_flow": 0.7, "iat_shape": 2.0,
        "iat_cap_ms": 10.0, "size_min_bytes": 20.0, "size_cap_bytes": 1e9, "udp_small_bytes": 5e4,
        "udp_small_rate_bps": 5e8, "udp_rate_min_bps": 2e6, "udp_rate_max_bps": 3e6, "traffic_perturbation": 0.2,
        "failure_shape": 1.0, "failure_scale": 0.01,
    }
    assert set(valid) == set(OVERRIDE_SPECS)
    for key, value in valid.items():
        sc = synnet.generate("nx-XS", "udp_low", "weibull", steps=1, seed=0, **{key: value})
        assert sc.params[key] == value, key


def test_custom_topology_object(nsfnet_topology):
    sc = synnet.generate(nsfnet_topology, "udp_low", "weibull", steps=5, seed=0)
    assert sc.topology is nsfnet_topology and sc.params["graph_class"] == "fixed"
    with pytest.raises(ValueError, match="ready-made Topology"):
        synnet.generate(nsfnet_topology, num_nodes=5)
