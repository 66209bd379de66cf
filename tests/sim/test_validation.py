# SPDX-License-Identifier: GPL-2.0-only
"""Every bad input is refused in Python with a message naming the entry and what is accepted,
and the simulator keeps working afterwards."""

from __future__ import annotations

import re

import numpy as np
import pytest

from packerl.sim import SimParams, Simulator

from .conftest import demands, line_routes, topology


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"edges": np.array([[0, 1], [1, 5]])}, "edge 1 = (1, 5) names an unknown node"),
        ({"edges": np.array([[0, 1], [1, 1]])}, "edge 1 = (1, 1) is a self-loop"),
        ({"edges": np.array([[0, 1], [1, 0]])}, "edge (0, 1) appears more than once"),
        ({"edges": np.array([[0, 1, 2]])}, "`edges` must have shape (E, 2)"),
        ({"edges": np.array([[0.0, 1.0], [1.0, 2.0]])}, "`edges` must hold integers"),
        ({"datarate_bps": np.array([1e7, 0.0])}, "`datarate_bps`[1] is 0.0"),
        ({"datarate_bps": np.array([1e7])}, "`datarate_bps` must have shape (2,)"),
        ({"delay_ms": np.array([1.0, np.nan])}, "`delay_ms`[1] is nan"),
        ({"delay_ms": np.array([1.0, -1.0])}, "`delay_ms`[1] is -1.0"),
        ({"num_nodes": 4}, "the topology is disconnected"),
        ({"num_nodes": 1}, "`num_nodes` must lie in [2, 5000], got 1"),
    ],
)
def test_bad_topologies(change, message):
    topo = topology(3, [(0, 1), (1, 2)])
    topo.update(change)
    with Simulator() as sim, pytest.raises(ValueError, match=re.escape(message)):
        sim.reset(topo)
    assert sim.pid is None  # nothing was started


def test_missing_topology_field():
    topo = topology(3, [(0, 1), (1, 2)])
    del topo["delay_ms"]
    with pytest.raises(ValueError, match="topology lacks `delay_ms`"):
        Simulator().reset(topo)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"step_ms": 0}, "`step_ms` must lie in [0.001, 1e+06], got 0"),
        ({"step_ms": float("nan")}, "`step_ms` must be finite"),
        ({"tcp_segment_bytes": 9000}, "`tcp_segment_bytes` must lie in [100, 1460], got 9000"),
        ({"queue_scale": -1.0}, "`queue_scale` must lie in [0.001, 1000]"),
        ({"stepms": 5}, "unknown simulation parameter(s) ['stepms']"),
    ],
)
def test_bad_params(params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SimParams.from_any(params)


@pytest.fixture(scope="module")
def running():
    with Simulator(timeout=60) as sim:
        sim.reset(topology(3, [(0, 1), (1, 2)]), seed=1)
        yield sim


def good_flow(**change):
    rows = dict(time_ms=0.5, src=0, dst=2, bytes=3000, is_tcp=False, rate_bps=1e6)
    rows.update(change)
    return demands([tuple(rows[k] for k in ("time_ms", "src", "dst", "bytes", "is_tcp",
                                            "rate_bps"))])


@pytest.mark.parametrize(
    ("next_hops", "message"),
    [
        (np.zeros((2, 2), np.int32), "`next_hops` must have shape (3, 3), got (2, 2)"),
        (line_routes(3).astype(float), "`next_hops` must hold integers, got dtype float64"),
        (np.where(np.eye(3, dtype=bool), -1, 7), "next_hops[0, 1] = 7 is not a node id"),
        (np.array([[-1, 1, 2], [0, -1, 2], [1, 1, -1]]),
         "next_hops[0, 2] = 2 is not a neighbour of node 0"),
        (np.array([[-1, 1, 1], [0, -1, 2], [1, 1, -3]]), "next_hops[2, 2] = -3 is not a node id"),
    ],
)
def test_bad_next_hops(running, next_hops, message):
    start = running.step_index
    with pytest.raises(ValueError, match=re.escape(message)):
        running.step(next_hops)
    assert running.step_index == start
    assert running.step(line_routes(3)).step == start + 1  # still usable


@pytest.mark.parametrize(
    ("flow", "message"),
    [
        (good_flow(src=3), "demands.src[0] = 3 is not a node id; use 0..2"),
        (good_flow(dst=-1), "demands.dst[0] = -1 is not a node id"),
        (good_flow(dst=0), "demand 0 has src == dst == 0"),
        (good_flow(bytes=0), "demands.bytes[0] = 0; sizes must be positive"),
        (good_flow(bytes=-5), "demands.bytes[0] = -5; sizes must be positive"),
        (good_flow(rate_bps=0.0), "demands.rate_bps[0] = 0.0; UDP demands need a positive rate"),
        (good_flow(rate_bps=float("nan")), "`demands.rate_bps`[0] is nan"),
        (good_flow(time_ms=float("nan")), "`demands.time_ms`[0] is nan"),
        (good_flow(time_ms=1e6), "outside this step's window"),
        ({**good_flow(), "bytes": np.array([3000.0])}, "`demands.bytes` must hold integers"),
        ({k: v for k, v in good_flow().items() if k != "rate_bps"}, "demands lacks `rate_bps`"),
        ({**good_flow(), "src": np.array([0, 1])}, "demand column `src` has 2 entries"),
    ],
)
def test_bad_demands(running, flow, message):
    start = running.step_index
    with pytest.raises(ValueError, match=re.escape(message)):
        running.step(None, flow)
    assert running.step_index == start


def test_structured_demands_are_accepted(running):
    import synnet

    t0 = running.step_index * 5.0
    arr = np.zeros(2, dtype=synnet.DEMAND_DTYPE)
    arr["time_ms"] = [t0 + 0.1, t0 + 0.2]
    arr["src"], arr["dst"], arr["bytes"] = [0, 2], [2, 0], [100, 200]
    arr["is_tcp"], arr["rate_bps"] = [False, True], [1e6, 0.0]
    s = running.step(line_routes(3), arr)
    assert s.g("demands_started") == 2


@pytest.mark.parametrize(
    ("failures", "message"),
    [
        ({"time_ms": [0.0], "edge": [2]}, "failures.edge[0] = 2 is not an edge index; use 0..1"),
        ({"time_ms": [0.0], "edge": [0.5]}, "`failures.edge` must hold integers"),
        ({"time_ms": [0.0, 0.1], "edge": [1, 1]}, "edge 1 fails more than once"),
        ({"time_ms": [-1.0], "edge": [0]}, "outside this step's window"),
        ({"time_ms": [0.0, 0.1], "edge": [1]}, "differ in length"),
    ],
)
def test_bad_failures(running, failures, message):
    t0 = running.step_index * 5.0
    failures = dict(failures)
    if message != "outside this step's window":
        failures["time_ms"] = np.asarray(failures["time_ms"]) + t0
    with pytest.raises(ValueError, match=re.escape(message)):
        running.step(None, None, failures)


def test_failed_edge_cannot_fail_again():
    with Simulator(timeout=60) as sim:
        sim.reset(topology(3, [(0, 1), (1, 2), (0, 2)]), seed=1)
        sim.step(None, None, {"time_ms": [1.0], "edge": [2]})
        with pytest.raises(ValueError, match=re.escape("failures.edge[0] = 2 has already failed")):
            sim.step(None, None, {"time_ms": [6.0], "edge": [2]})


def test_step_before_reset_is_refused():
    with Simulator() as sim, pytest.raises(Exception, match="call reset\\(\\) first"):
        sim.step()


def test_constructor_arguments_are_checked():
    with pytest.raises(ValueError, match=re.escape("`timeout` must lie in (0, 1e+07]")):
        Simulator(timeout=0)
    with pytest.raises(ValueError, match=re.escape("`max_demands` must lie in [1, ")):
        Simulator(max_demands=0)


def test_too_many_failures_are_refused_before_any_demand_is_queued():
    # demands beyond one message travel ahead in add-events messages: a refused step must
    # not have sent them, or the retry would start them twice
    with Simulator(timeout=60, max_demands=2, max_failures=1) as sim:
        sim.reset(topology(4, [(0, 1), (1, 2), (2, 3), (0, 3), (0, 2)]), seed=1)
        flows = demands([(0.1 * (i + 1), 0, 2, 100, False, 1e6) for i in range(5)])
        with pytest.raises(ValueError, match="2 link failures in one step; at most 1"):
            sim.step(None, flows, {"time_ms": [1.0, 2.0], "edge": [3, 4]})
        s = sim.step(None, flows, {"time_ms": [1.0], "edge": [3]})
        assert s.g("demands_started") == 5
