# SPDX-License-Identifier: GPL-2.0-only
"""Property tests over random small networks, tables and traffic (hypothesis)."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from packerl.sim import Simulator

from .conftest import run_until_idle, total


@st.composite
def networks(draw):
    n = draw(st.integers(2, 7))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    g = nx.random_labeled_tree(n, seed=seed) if n > 2 else nx.path_graph(n)
    extra = draw(st.integers(0, n))
    for _ in range(extra):
        u, v = rng.choice(n, 2, replace=False)
        g.add_edge(int(u), int(v))
    edges = np.array(sorted(tuple(sorted(e)) for e in g.edges), dtype=np.int32)
    topo = {
        "num_nodes": n,
        "edges": edges,
        "datarate_bps": rng.uniform(5e6, 5e7, len(edges)),
        "delay_ms": rng.uniform(0.2, 3.0, len(edges)),
    }
    adjacency = nx.to_numpy_array(g, nodelist=range(n)).astype(bool)
    # a random table: a neighbour, or sometimes no route (loops are allowed)
    table = np.full((n, n), -1, np.int32)
    for u in range(n):
        neigh = np.flatnonzero(adjacency[u])
        for z in range(n):
            if z != u and rng.random() < 0.9:
                table[u, z] = rng.choice(neigh)
    k = draw(st.integers(1, 6))
    src = rng.integers(0, n, k)
    dst = (src + rng.integers(1, n, k)) % n
    flows = {
        "time_ms": np.sort(rng.uniform(0, 5, k)),
        "src": src.astype(np.int32),
        "dst": dst.astype(np.int32),
        "bytes": rng.integers(1, 40_000, k),
        "is_tcp": np.zeros(k, bool),
        "rate_bps": rng.uniform(1e6, 1e8, k),
    }
    return topo, table, flows, seed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_bytes_are_conserved(case):
    topo, table, flows, seed = case
    with Simulator(timeout=60) as sim:
        sim.reset(topo, seed=seed % 1000)
        s = sim.step(table, flows)
        states = run_until_idle(sim, s, max_steps=300)
    sent = total(states, "sent_bytes")
    assert sent == total(states, "received_bytes") + total(states, "dropped_bytes")
    assert total(states, "app_sent_bytes") == flows["bytes"].sum()
    tx = sum(x.edge("tx_bytes") for x in states)
    rx = sum(x.edge("rx_bytes") for x in states)
    np.testing.assert_array_equal(tx, rx)  # no failures: every frame sent arrives
    tm_sent = sum(x.tm_sent for x in states)
    assert tm_sent.sum() == sent
    assert sum(x.node("sent_bytes") for x in states).sum() == sent
