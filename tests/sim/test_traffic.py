# SPDX-License-Identifier: GPL-2.0-only
"""The simulator against analytic expectations: delay, throughput, drops, TCP, routing."""

from __future__ import annotations

import numpy as np
import pytest

from packerl.sim import SimParams

from .conftest import demands, line_routes, no_routes, run_until_idle, topology, total

PPP = 2  # point-to-point framing bytes on the wire


def test_initial_state_is_all_zero_loads(sim):
    s0 = sim.reset(topology(3, [(0, 1), (1, 2)], rate=2e7, delay_ms=3.0), seed=1)
    assert s0.step == 0 and s0.time_ms == 0.0
    assert not s0.tm_sent.any() and not s0.tm_received.any() and not s0.node_features.any()
    for name in ("link_util", "queue_max_load", "queue_last_load", "tx_bytes", "drop_bytes"):
        assert not s0.edge(name).any(), name
    np.testing.assert_array_equal(s0.edge("datarate_bps"), 2e7)
    np.testing.assert_array_equal(s0.edge("delay_ms"), 3.0)
    np.testing.assert_array_equal(s0.edge("is_up"), 1.0)
    # buffer = bandwidth x round-trip delay in 1500-byte packets: 2e7 * 0.006 / 12000 = 10
    np.testing.assert_array_equal(s0.edge("queue_capacity_pkts"), 10.0)
    np.testing.assert_array_equal(s0.edge_index, [[0, 1, 1, 2], [1, 0, 2, 1]])


def test_udp_constant_rate_two_nodes_matches_analytic(sim):
    rate_link, delay_ms, rate_flow = 1e7, 2.0, 2e6
    npkt = 40
    size = npkt * 1472
    sim.reset(topology(2, [(0, 1)], rate=rate_link, delay_ms=delay_ms), seed=3)
    s1 = sim.step(np.array([[-1, 1], [0, -1]]), demands([(0.0, 0, 1, size, False, rate_flow)]))
    states = run_until_idle(sim, s1)
    assert total(states, "app_received_bytes") == size
    assert total(states, "received_packets") == npkt
    assert total(states, "received_bytes") == npkt * 1500
    assert total(states, "sent_bytes") == total(states, "received_bytes")
    assert total(states, "dropped_bytes") == 0
    # No queueing (a packet every 5.9 ms, each on the wire 1.2 ms): delay = tx + propagation.
    expected_ms = (1500 + PPP) * 8 / rate_link * 1e3 + delay_ms
    delays = [s.g("avg_delay_ms") for s in states if s.g("received_packets") > 0]
    np.testing.assert_allclose(delays, expected_ms, rtol=0, atol=1e-6)
    assert max(s.g("max_delay_ms") for s in states) == pytest.approx(expected_ms, abs=1e-6)
    assert max(s.g("avg_jitter_ms") for s in states) == pytest.approx(0.0, abs=1e-6)
    # Throughput: a packet every 1472*8/2e6 s, so ~ that many bytes per 5 ms step on average.
    busy = [s for s in states[1:-5] if s.g("received_packets") > 0]
    mean_rate = np.mean([s.g("app_received_bytes") for s in states[2:30]]) * 8 / 5e-3
    assert mean_rate == pytest.approx(rate_flow, rel=0.1)
    assert busy
    # Link utilisation of 0->1 = time on the wire / step.
    lu = np.array([s.edge("link_util")[0] for s in states[2:30]])
    assert lu.mean() == pytest.approx(rate_flow / rate_link * 1502 / 1472, rel=0.1)
    assert not any(s.edge("tx_bytes")[1] for s in states[1:])  # UDP: nothing flows back


def test_traffic_follows_next_hops_on_a_line(sim):
    sim.reset(topology(3, [(0, 1), (1, 2)]), seed=1)
    s = sim.step(line_routes(3), demands([(0.5, 0, 2, 20 * 1472, False, 5e6)]))
    states = run_until_idle(sim, s)
    tx = sum(st.edge("tx_bytes") for st in states)
    rx = sum(st.edge("rx_bytes") for st in states)
    # directed edges: 0: 0->1, 1: 1->0, 2: 1->2, 3: 2->1
    assert tx[0] == tx[2] == 20 * 1502 and tx[1] == tx[3] == 0
    np.testing.assert_array_equal(tx, rx)
    tm = sum(st.tm_received for st in states)
    assert tm[0, 2] == 20 * 1500 and tm.sum() == tm[0, 2]
    node_rx = sum(st.node("received_bytes") for st in states)
    assert node_rx[2] == 20 * 1500 and node_rx[1] == 0  # node 1 only forwards


def test_traffic_moves_when_the_table_changes(sim):
    # triangle: edges 0:(0,1) 1:(0,2) 2:(1,2); directed 2i = (u, v), 2i+1 = (v, u)
    sim.reset(topology(3, [(0, 1), (0, 2), (1, 2)], rate=1e8), seed=2)
    direct = np.array([[-1, 1, 2], [0, -1, 2], [0, 1, -1]])
    via1 = direct.copy()
    via1[0, 2] = 1
    flow = demands([(0.0, 0, 2, 10**6, False, 4e6)])
    s1 = sim.step(direct, flow)
    s2 = sim.step()
    assert s1.edge("tx_bytes")[2] > 0 and s2.edge("tx_bytes")[2] > 0  # 0->2 direct
    assert s1.edge("tx_bytes")[0] == 0 and s2.edge("tx_bytes")[4] == 0
    s3 = sim.step(via1)
    s4 = sim.step()
    for s in (s3, s4):
        assert s.edge("tx_bytes")[2] == 0  # 0->2 unused now
        assert s.edge("tx_bytes")[0] > 0 and s.edge("tx_bytes")[4] > 0  # 0->1, 1->2
        assert s.g("dropped_bytes") == 0


def test_overload_drops_at_the_queue_and_fills_it(sim):
    sim.reset(topology(2, [(0, 1)], rate=1e7, delay_ms=5.0), seed=4)
    size = 400 * 1472
    s = sim.step(np.array([[-1, 1], [0, -1]]), demands([(0.0, 0, 1, size, False, 5e7)]))
    states = run_until_idle(sim, s)
    assert total(states, "drop_queue_bytes") > 0
    assert total(states, "dropped_bytes") == total(states, "drop_queue_bytes")
    assert max(st.edge("queue_max_load")[0] for st in states) == 1.0
    assert max(st.edge("link_util")[0] for st in states) == pytest.approx(1.0, abs=0.01)
    # conservation of IP bytes: everything sent was received or dropped
    assert total(states, "sent_bytes") == total(states, "received_bytes") + total(
        states, "dropped_bytes"
    )
    assert total(states, "app_sent_bytes") == size
    drops = sum(st.edge("drop_packets")[0] for st in states)
    assert drops == total(states, "dropped_packets") > 0


@pytest.mark.parametrize("size", [1, 1447, 1448, 250_000, 2_000_000])
def test_tcp_demand_is_received_exactly(sim, size):
    sim.reset(topology(3, [(0, 1), (1, 2)], rate=2e7, delay_ms=2.0), seed=5)
    s = sim.step(line_routes(3), demands([(1.0, 0, 2, size, True, 0.0)]))
    states = run_until_idle(sim, s)
    assert total(states, "app_received_bytes") == size
    assert total(states, "demands_completed") == 1
    assert total(states, "demands_started") == 1


def test_tcp_recovers_from_drops_and_still_delivers_everything(sim):
    # TCP 0->2 shares the link 1->2 with a UDP flow 1->2 above the link rate: drops and
    # retransmissions happen, yet TCP delivers every byte.
    sim.reset(topology(3, [(0, 1), (1, 2)], rate=1e7, delay_ms=2.0), seed=6)
    size = 500_000
    udp_packets = 300
    flows = demands([(0.0, 0, 2, size, True, 0.0),
                     (0.0, 1, 2, udp_packets * 1472, False, 1.5e7)])
    s = sim.step(line_routes(3), flows)
    states = run_until_idle(sim, s)
    assert total(states, "retransmitted_bytes") > 0
    assert total(states, "drop_queue_bytes") > 0
    assert total(states, "demands_completed") == 2
    udp_received = sum(st.tm_received[1, 2] for st in states) / 1500 * 1472
    assert 0 < udp_received < udp_packets * 1472
    assert total(states, "app_received_bytes") - udp_received == size


def test_missing_route_drops_and_counts(sim):
    sim.reset(topology(3, [(0, 1), (1, 2)]), seed=7)
    table = line_routes(3)
    table[1, 2] = -1  # node 1 has no entry for node 2
    flows = demands([(0.0, 0, 2, 5 * 1472, False, 1e7), (0.0, 0, 2, 10_000, True, 0.0)])
    s = sim.step(table, flows)
    states = [s] + [sim.step() for _ in range(5)]
    assert total(states, "app_received_bytes") == 0
    assert total(states, "drop_no_route_bytes") >= 5 * 1500
    assert total(states, "dropped_bytes") == total(states, "drop_no_route_bytes")
    # ...and nothing at the source either: all routes missing
    sim.reset(topology(2, [(0, 1)]), seed=7)
    s = sim.step(no_routes(2), demands([(0.0, 0, 1, 3 * 1472, False, 1e7)]))
    # refused by the source's own router: offered (sent) and dropped
    assert s.g("drop_no_route_bytes") == s.g("sent_bytes") == 3 * 1500


def test_routing_loop_ends_in_ttl_drops(sim):
    sim.reset(topology(3, [(0, 1), (1, 2)], rate=1e8), seed=8)
    table = line_routes(3)
    table[1, 2] = 0  # 0 -> 1 -> 0 -> 1 ... for destination 2
    s = sim.step(table, demands([(0.0, 0, 2, 3 * 1472, False, 1e7)]))
    # 64 hops of ~1.1 ms each before the TTL runs out
    states = [s] + [sim.step() for _ in range(20)]
    assert total(states, "drop_ttl_bytes") == 3 * 1500  # all three packets
    assert total(states, "app_received_bytes") == 0
    # ICMP time-exceeded messages go back to node 0 (here from node 0 itself, over loopback)
    assert total(states, "sent_bytes") == total(states, "received_bytes") + total(
        states, "dropped_bytes")
    assert total(states, "app_received_bytes") == 0


def test_link_failure_drops_traffic_until_rerouted(sim):
    sim.reset(topology(3, [(0, 1), (0, 2), (1, 2)], rate=1e8, delay_ms=1.0), seed=9)
    direct = np.array([[-1, 1, 2], [0, -1, 2], [0, 1, -1]])
    flow = demands([(0.0, 0, 2, 400 * 1472, False, 8e6)])
    s1 = sim.step(direct, flow, failures={"time_ms": [2.5], "edge": [1]})
    assert s1.g("app_received_bytes") > 0
    np.testing.assert_array_equal(s1.edge("is_up"), [1, 1, 0, 0, 1, 1])
    s2 = sim.step()
    assert s2.g("app_received_bytes") == 0 and s2.g("drop_link_down_bytes") > 0
    assert not sim.link_up[1]
    with pytest.raises(ValueError, match=r"next_hops\[0, 2\] = 2 is not a neighbour of node 0"):
        sim.step(direct)
    rerouted = direct.copy()
    rerouted[0, 2] = 1
    rerouted[2, 0] = 1
    s3 = sim.step(rerouted)
    s4 = sim.step()
    assert s4.g("app_received_bytes") > 0 and s4.g("drop_link_down_bytes") == 0
    assert s3.edge("tx_bytes")[2] == 0 and s4.edge("tx_bytes")[2] == 0


def test_step_params_change_the_step_length(sim):
    s0 = sim.reset(topology(2, [(0, 1)]), params=SimParams(step_ms=2.0), seed=1)
    assert s0.time_ms == 0
    s = sim.step(np.array([[-1, 1], [0, -1]]))
    assert s.time_ms == 2.0 and sim.step().time_ms == 4.0
    with pytest.raises(ValueError, match="outside this step's window"):
        sim.step(demands=demands([(6.5, 0, 1, 10, False, 1e6)]))  # step 2 is [4, 6) ms


@pytest.mark.parametrize(("packet_size", "packets"), [(None, 10), (736, 20)])
def test_udp_packet_size_is_an_ns3_attribute(monkeypatch, packet_size, packets):
    """``ns3::odd::UdpDemandSource::PacketSize`` (default 1472) can be set like any ns-3
    attribute, e.g. through ns-3's NS_ATTRIBUTE_DEFAULT variable."""
    from packerl.sim import Simulator

    if packet_size is not None:
        monkeypatch.setenv("NS_ATTRIBUTE_DEFAULT",
                           f"ns3::odd::UdpDemandSource::PacketSize={packet_size}")
    with Simulator(timeout=60) as sim:
        sim.reset(topology(2, [(0, 1)]), seed=1)
        s = sim.step(line_routes(2), demands([(0.0, 0, 1, 10 * 1472, False, 1e7)]))
        states = run_until_idle(sim, s)
    assert total(states, "sent_packets") == packets
    assert total(states, "app_received_bytes") == 10 * 1472
