# SPDX-License-Identifier: GPL-2.0-only
"""Same inputs -> bit-identical outputs; raw mode reproduces the client exactly."""

from __future__ import annotations

import numpy as np
import pytest

import synnet
from packerl.sim import GLOBAL_FEATURES, Simulator, run_raw_episode, write_raw_episode

from .conftest import line_routes


def shortest_path_next_hops(topo) -> np.ndarray:
    """Hop-count shortest-path next hops (test helper; the env has its own routing module)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path

    n = topo.num_nodes
    e = np.asarray(topo.edges)
    w = np.asarray(topo.delay_ms) + 1.0
    adj = csr_matrix((np.r_[w, w], (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])),
                     shape=(n, n))
    _, pred = shortest_path(adj, directed=False, return_predecessors=True)
    # pred[z, u] is u's predecessor on the path from z, i.e. u's next hop towards z
    nh = pred.T.astype(np.int32)
    np.fill_diagonal(nh, -1)
    return nh


def run_episode(scenario, steps: int, seed: int) -> list:
    nh = shortest_path_next_hops(scenario.topology)
    with Simulator(timeout=120) as sim:
        states = [sim.reset(scenario.topology, {"step_ms": scenario.step_ms}, seed=seed)]
        for t in range(steps):
            states.append(sim.step(nh if t == 0 else None, scenario.step_demands(t),
                                   scenario.step_failures(t)))
    return states


@pytest.fixture(scope="module")
def scenario():
    return synnet.generate(topology="nx-XS", traffic="mixed_medium", link_failures=None,
                           steps=12, seed=11)


def assert_states_equal(a, b) -> None:
    for x, y in zip(a, b, strict=True):
        for field in ("global_features", "edge_features", "node_features", "tm_sent",
                      "tm_received"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field), err_msg=field)


def test_same_inputs_give_bit_identical_states(scenario):
    a = run_episode(scenario, 12, seed=3)
    b = run_episode(scenario, 12, seed=3)
    assert sum(s.g("received_bytes") for s in a) > 0
    assert_states_equal(a, b)


def test_raw_mode_reproduces_the_client(scenario, tmp_path):
    steps = 12
    client = run_episode(scenario, steps, seed=5)
    path = write_raw_episode(tmp_path / "ep.raw", scenario.topology,
                             shortest_path_next_hops(scenario.topology), scenario.demands,
                             scenario.failures, steps=steps,
                             params={"step_ms": scenario.step_ms}, seed=5)
    result = run_raw_episode(path, globals_out=tmp_path / "globals.bin")
    rows = result["globals"]
    assert rows.shape == (steps + 1, len(GLOBAL_FEATURES))
    np.testing.assert_array_equal(rows, np.stack([s.global_features for s in client]))
    received = sum(s.g("received_bytes") for s in client)
    assert result["total_received_bytes"] == received > 0
    assert result["total_events"] == sum(s.g("events") for s in client)


def test_raw_mode_rejects_a_bad_file(tmp_path):
    bad = tmp_path / "bad.raw"
    bad.write_bytes(b"NOTRAW00" + bytes(64))
    with pytest.raises(RuntimeError, match="not a raw episode file"):
        run_raw_episode(bad)


def test_many_simulators_in_one_process():
    topo = {"num_nodes": 3, "edges": np.array([[0, 1], [1, 2]]),
            "datarate_bps": np.array([1e7, 1e7]), "delay_ms": np.array([1.0, 1.0])}
    flow = {"time_ms": [0.0], "src": [0], "dst": [2], "bytes": [30 * 1472], "is_tcp": [False],
            "rate_bps": [5e6]}
    sims = [Simulator(timeout=60) for _ in range(4)]
    try:
        for i, sim in enumerate(sims):
            sim.reset(topo, seed=i)
        pids = {sim.pid for sim in sims}
        assert len(pids) == 4
        for sim in sims:
            sim.step_async(line_routes(3), flow)
        first = [sim.step_wait() for sim in sims]
        for s in first[1:]:
            np.testing.assert_array_equal(s.global_features, first[0].global_features)
        assert first[0].g("app_received_bytes") > 0
    finally:
        for sim in sims:
            sim.close()


def test_reset_reuses_the_segment_when_it_fits():
    small = {"num_nodes": 3, "edges": np.array([[0, 1], [1, 2]]),
             "datarate_bps": np.array([1e7, 1e7]), "delay_ms": np.array([1.0, 1.0])}
    big = {"num_nodes": 5, "edges": np.array([[0, 1], [1, 2], [2, 3], [3, 4]]),
           "datarate_bps": np.full(4, 1e7), "delay_ms": np.ones(4)}
    with Simulator() as sim:
        sim.reset(big)
        segment = sim._segment
        first_pid = sim.pid
        sim.reset(small)
        assert sim._segment is segment and sim.pid != first_pid
        sim.reset({**big, "num_nodes": 6, "edges": np.array([[0, 1], [1, 2], [2, 3], [3, 4],
                                                              [4, 5]]),
                   "datarate_bps": np.full(5, 1e7), "delay_ms": np.ones(5)})
        assert sim._segment is not segment  # grown
