# SPDX-License-Identifier: GPL-2.0-only
"""Scenario container, step views, determinism and the file format."""

import json

import numpy as np
import pytest

import synnet
from synnet.scenario import DEMAND_DTYPE, FAILURE_DTYPE


def _assert_same(a: synnet.Scenario, b: synnet.Scenario) -> None:
    for k in ("edges", "datarate_bps", "delay_ms", "positions", "potentials"):
        x, y = getattr(a.topology, k), getattr(b.topology, k)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), k
    assert a.topology.name == b.topology.name and a.topology.num_nodes == b.topology.num_nodes
    assert a.demands.dtype == b.demands.dtype and a.demands.tobytes() == b.demands.tobytes()
    assert a.failures.dtype == b.failures.dtype and a.failures.tobytes() == b.failures.tobytes()
    assert (a.steps, a.step_ms, a.seed) == (b.steps, b.step_ms, b.seed)
    assert a.params == b.params


def test_dtypes_exact():
    assert DEMAND_DTYPE == np.dtype([("time_ms", "<f8"), ("src", "<i4"), ("dst", "<i4"), ("bytes", "<i8"),
                                     ("is_tcp", "?"), ("rate_bps", "<f8")])
    assert FAILURE_DTYPE == np.dtype([("time_ms", "<f8"), ("edge", "<i4")])


def test_step_demands_are_views_covering_everything(small_scenario):
    sc = small_scenario
    parts = [sc.step_demands(t) for t in range(sc.steps)]
    assert sum(len(p) for p in parts) == len(sc.demands)
    for t, p in enumerate(parts):
        assert np.all(p["time_ms"] >= t * sc.step_ms) and np.all(p["time_ms"] < (t + 1) * sc.step_ms)
        if len(p):
            assert np.shares_memory(p, sc.demands)
    with pytest.raises(IndexError, match="valid steps"):
        sc.step_demands(sc.steps)
    with pytest.raises(IndexError):
        sc.step_failures(-1)


def test_arrays_read_only(small_scenario):
    with pytest.raises(ValueError):
        small_scenario.demands["bytes"][0] = 1
    with pytest.raises(ValueError):
        small_scenario.topology.delay_ms[0] = 1.0


def test_same_seed_identical_different_seed_differs():
    a = synnet.generate("nx-S", "flex", "weibull", steps=30, seed=123)
    b = synnet.generate("nx-S", "flex", "weibull", steps=30, seed=123)
    _assert_same(a, b)
    c = synnet.generate("nx-S", "flex", "weibull", steps=30, seed=124)
    assert a.demands.tobytes() != c.demands.tobytes()
    assert a.params["m_traffic"] != c.params["m_traffic"]


def test_components_have_independent_streams():
    a = synnet.generate("nx-M", "udp_low", "weibull", steps=20, seed=5)
    b = synnet.generate("nx-M", "tcp_very_high", None, steps=20, seed=5)
    assert a.topology.edges.tobytes() == b.topology.edges.tobytes()
    assert a.topology.delay_ms.tobytes() == b.topology.delay_ms.tobytes()


def test_seed_none_records_entropy():
    sc = synnet.generate("nx-XS", "udp_low", None, steps=2, seed=None)
    assert sc.seed is None and isinstance(sc.params["entropy"], int)


def test_round_trip_lossless(tmp_path, small_scenario):
    path = tmp_path / "sc.npz"
    small_scenario.save(path)
    loaded = synnet.Scenario.load(path)
    _assert_same(small_scenario, loaded)
    assert len(loaded.demands) > 1000 and len(loaded.failures) > 0  # seed 11 fails 4 links
    # round trip of a scenario without failures, with a None seed and flex params
    sc = synnet.generate("geant2", "flex", None, steps=3, seed=None)
    sc.save(tmp_path / "b.npz")
    _assert_same(sc, synnet.Scenario.load(tmp_path / "b.npz"))


def _rewrite_meta(src, dst, **changes):
    with np.load(src) as z:
        members = {k: z[k] for k in z.files}
    meta = json.loads(str(members["meta"][()]))
    meta.update(changes)
    members["meta"] = np.array(json.dumps(meta))
    with open(dst, "wb") as fh:
        np.savez(fh, **members)


def test_load_errors(tmp_path, small_scenario):
    good = tmp_path / "good.npz"
    small_scenario.save(good)
    _rewrite_meta(good, tmp_path / "v2.npz", version=2)
    with pytest.raises(ValueError, match="unsupported synnet-scenario version 2"):
        synnet.Scenario.load(tmp_path / "v2.npz")
    _rewrite_meta(good, tmp_path / "fmt.npz", format="other")
    with pytest.raises(ValueError, match="format is 'other'"):
        synnet.Scenario.load(tmp_path / "fmt.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a synnet scenario"):
        synnet.Scenario.load(tmp_path / "junk.npz")
    np.save(tmp_path / "arr.npy", np.arange(3))
    with pytest.raises(ValueError, match="single .npy array"):
        synnet.Scenario.load(tmp_path / "arr.npy")
    with open(tmp_path / "nometa.npz", "wb") as fh:
        np.savez(fh, edges=np.zeros((1, 2)))
    with pytest.raises(ValueError, match="no 'meta' member"):
        synnet.Scenario.load(tmp_path / "nometa.npz")
    with np.load(good) as z:
        members = {k: z[k] for k in z.files if k != "demands"}
    with open(tmp_path / "missing.npz", "wb") as fh:
        np.savez(fh, **members)
    with pytest.raises(ValueError, match=r"missing member\(s\) \['demands'\]"):
        synnet.Scenario.load(tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError, match="no such scenario file"):
        synnet.Scenario.load(tmp_path / "nope.npz")


def test_scenario_validation(small_scenario):
    d = np.array(small_scenario.demands[::-1])
    with pytest.raises(ValueError, match="sorted"):
        synnet.Scenario(small_scenario.topology, d, small_scenario.failures, 50, 5.0, 1, {})
    with pytest.raises(ValueError, match="DEMAND_DTYPE"):
        synnet.Scenario(small_scenario.topology, np.zeros(3), small_scenario.failures, 50, 5.0, 1, {})


def _with(scenario, demands=None, failures=None, **kwargs):
    args = dict(topology=scenario.topology, demands=scenario.demands,
                failures=scenario.failures, steps=scenario.steps, step_ms=scenario.step_ms,
                seed=1, params={})
    args.update(kwargs)
    if demands is not None:
        args["demands"] = demands
    if failures is not None:
        args["failures"] = failures
    return synnet.Scenario(**args)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("time_ms", np.nan, r"time_ms nan; times must lie in \[0"),
    ("time_ms", 1e9, "times must lie in"),
    ("time_ms", -1.0, "times must lie in"),
    ("src", 999, "node ids"),
    ("dst", -1, "node ids"),
])
def test_scenario_content_is_checked(small_scenario, field, value, message):
    """Demands outside the episode or the graph used to be dropped or mis-sent silently."""
    d = np.array(small_scenario.demands)
    d[field][-1] = value
    with pytest.raises(ValueError, match=message):
        _with(small_scenario, demands=d)


def test_scenario_refuses_self_demands_bad_failures_and_params(small_scenario):
    d = np.array(small_scenario.demands)
    d["dst"][0] = d["src"][0]
    with pytest.raises(ValueError, match="must differ"):
        _with(small_scenario, demands=d)
    f = np.array([(1.0, 10_000)], dtype=FAILURE_DTYPE)
    with pytest.raises(ValueError, match="edge indices"):
        _with(small_scenario, failures=f)
    with pytest.raises(ValueError, match="params must be a dict"):
        _with(small_scenario, params=5)
    assert _with(small_scenario, demands=small_scenario.demands[:0]).demands.size == 0
