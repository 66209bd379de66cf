# SPDX-License-Identifier: GPL-2.0-only
"""Property tests over random small networks, tables and traffic (hypothesis)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
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


# derandomized so that CI runs the same 25 cases every time; random draws found the ICMP loop
# of test_icmp_time_exceeded_messages_do_not_loop_forever (fixed in cpp/sim/network.cc)
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
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


def test_icmp_time_exceeded_messages_do_not_loop_forever():
    """UDP packets looping 1 <-> 2 expire; their time-exceeded messages loop 1 <-> 4 on the way
    back to node 3 and expire too. An ICMP error about an ICMP error is never sent (RFC 1122
    3.2.2), so the network empties; before the fix new messages were born every ~33 steps."""
    topo = {"num_nodes": 5, "edges": np.array([[0, 1], [0, 3], [1, 2], [1, 4]], np.int32),
            "datarate_bps": np.array([23971998.3, 42454720.8, 7738491.3, 25655759.4]),
            "delay_ms": np.array([2.8204151, 2.60454761, 1.23942095, 2.71157953])}
    table = np.array([[-1, 3, 1, 3, 3], [2, -1, 4, 4, 0], [1, 1, -1, 1, 1],
                      [0, 0, 0, -1, 0], [1, 1, 1, 1, -1]], np.int32)  # 1 <-> 2 loop toward 0
    flows = {"time_ms": np.array([0.79225607, 3.89810958]),
             "src": np.array([4, 3], np.int32), "dst": np.array([0, 0], np.int32),
             "bytes": np.array([2844, 173]), "is_tcp": np.array([False, False]),
             "rate_bps": np.array([52388211.0, 17516356.9])}
    with Simulator(timeout=60) as sim:
        sim.reset(topo, seed=446)
        states = run_until_idle(sim, sim.step(table, flows), max_steps=300)
    assert total(states, "drop_ttl_bytes") > 0  # the loops did expire packets
    assert total(states, "sent_bytes") == (total(states, "received_bytes")
                                           + total(states, "dropped_bytes"))
