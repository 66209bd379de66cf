# SPDX-License-Identifier: GPL-2.0-only
"""The bridge schema has one source (the tables of cpp/bridge/layout.h) and everything agrees
with it: the module's arrays, the Python client's names, the observation spaces' names, the
monitor's columns and the raw mode's totals.

Reordering, renaming or adding a feature in layout.h makes ``test_feature_tables_are_pinned``
fail until ``kLayoutVersion`` is bumped and the new tables are pinned below: the order of the
columns is part of the layout, so a change must be deliberate, never silent.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from packerl import _bridge
from packerl.rewards import step_metrics
from packerl.sim import (
    BRIDGE_SPEC,
    EDGE_FEATURES,
    GLOBAL_FEATURES,
    NODE_FEATURES,
    SimState,
    Simulator,
    run_raw_episode,
    write_raw_episode,
)

from .conftest import demands, line_routes, topology

#: The feature tables of every layout version, in column order.
PINNED = {
    1: {
        "global_features": (
            "max_link_util", "avg_link_util", "avg_delay_ms", "max_delay_ms", "avg_jitter_ms",
            "sent_bytes", "received_bytes", "dropped_bytes", "retransmitted_bytes",
            "sent_packets", "received_packets", "dropped_packets", "retransmitted_packets",
            "drop_queue_bytes", "drop_no_route_bytes", "drop_ttl_bytes", "drop_link_down_bytes",
            "drop_other_bytes", "app_sent_bytes", "app_received_bytes", "demands_started",
            "demands_completed", "demands_active", "sim_time_ms", "events",
        ),
        "edge_features": (
            "link_util", "queue_max_load", "queue_last_load", "queue_capacity_pkts",
            "datarate_bps", "delay_ms", "tx_bytes", "rx_bytes", "drop_bytes", "tx_packets",
            "rx_packets", "drop_packets", "is_up",
        ),
        "node_features": ("sent_bytes", "received_bytes", "retransmitted_bytes"),
        "arrays": (
            "edge_nodes", "edge_datarate", "edge_delay_ms", "next_hop", "dem_time_ms", "dem_src",
            "dem_dst", "dem_bytes", "dem_is_tcp", "dem_rate_bps", "fail_time_ms", "fail_edge",
            "global", "edge", "node", "tm_sent", "tm_received",
        ),
    },
}

CAPACITIES = [(2, 1, 1, 1), (3, 2, 5, 2), (17, 40, 4096, 256)]


def names(table: str) -> tuple[str, ...]:
    return tuple(row[0] if isinstance(row, tuple) else row["name"] for row in BRIDGE_SPEC[table])


def test_feature_tables_are_pinned():
    version = BRIDGE_SPEC["layout_version"]
    assert version == _bridge.LAYOUT_VERSION
    assert version in PINNED, (
        f"layout version {version} has no pinned tables; add them to PINNED in this file")
    for table, expected in PINNED[version].items():
        assert names(table) == expected, (
            f"`{table}` of cpp/bridge/layout.h changed: bump kLayoutVersion and pin the new "
            "table here")


def test_python_reads_the_names_from_the_spec():
    assert GLOBAL_FEATURES == names("global_features") == tuple(_bridge.GLOBAL_FEATURES)
    assert EDGE_FEATURES == names("edge_features") == tuple(_bridge.EDGE_FEATURES)
    assert NODE_FEATURES == names("node_features") == tuple(_bridge.NODE_FEATURES)
    for table in ("global_features", "edge_features", "node_features"):
        assert all(row[1] for row in BRIDGE_SPEC[table]), f"a row of `{table}` has no doc"
    assert {row[2] for row in BRIDGE_SPEC["global_features"]} <= {"total", "mean", "last"}


def test_observation_and_reward_names_exist_in_the_spec():
    """packerl.spaces repeats simulator feature names (it picks the observed subset): each must
    be a column of the schema, or the observation would fail at the first step."""
    from packerl import spaces

    assert set(spaces.GLOBAL_OBS_FEATURES) <= set(GLOBAL_FEATURES)
    assert set(spaces.EDGE_OBS_FEATURES) <= set(EDGE_FEATURES)
    assert set(spaces.NODE_OBS_FEATURES) <= set(NODE_FEATURES)
    assert set(spaces.UNIT_EDGE_FEATURES) <= set(spaces.EDGE_OBS_FEATURES)
    state = SimState(0, 0.0, np.zeros(len(GLOBAL_FEATURES)), np.zeros((2, len(EDGE_FEATURES))),
                     np.zeros((2, len(NODE_FEATURES))), np.zeros((2, 2)), np.zeros((2, 2)),
                     np.zeros((2, 2), np.int64))
    assert set(step_metrics(state)) >= {"goodput_mb", "avg_delay_ms", "drop_ratio"}


@pytest.mark.parametrize("capacity", CAPACITIES)
def test_arrays_follow_the_spec(capacity):
    n, e, d, f = capacity
    dims = {"n": n, "e": e, "d": d, "f": f, "kNumGlobal": len(GLOBAL_FEATURES),
            "kNumEdge": len(EDGE_FEATURES), "kNumNode": len(NODE_FEATURES)}
    layout = _bridge.array_layout(*capacity)
    assert tuple(layout) == names("arrays")
    end = 0
    for spec in BRIDGE_SPEC["arrays"]:
        offset, dtype, shape = layout[spec["name"]]
        assert dtype == spec["dtype"]
        # the shape expressions of layout.h, evaluated with the capacity
        assert shape == (eval(spec["rows"], {}, dims), eval(spec["cols"], {}, dims))
        assert offset % 64 == 0 and offset >= end, spec["name"]
        end = offset + shape[0] * shape[1] * np.dtype(dtype).itemsize
    assert end <= _bridge.segment_bytes(*capacity) < end + 64
    seg = _bridge.Segment(*capacity, f"/packerl-test-schema-{n}")
    arrays = seg.arrays()
    base = arrays["edge_nodes"].__array_interface__["data"][0] - layout["edge_nodes"][0]
    for name, (offset, dtype, (rows, cols)) in layout.items():
        view = arrays[name]
        assert view.dtype == np.dtype(dtype) and view.shape == (rows * cols,), name
        assert view.__array_interface__["data"][0] - base == offset, name
    assert seg.size == _bridge.segment_bytes(*capacity)


def test_header_fields_are_properties():
    seg = _bridge.Segment(2, 1, 1, 1, "/packerl-test-schema-header")
    for name, dtype, doc in BRIDGE_SPEC["header_fields"]:
        value = 2.5 if np.dtype(dtype).kind == "f" else 3
        setattr(seg, name, value)
        assert getattr(seg, name) == value, name
        assert doc


def run_episode(sim: Simulator) -> list[SimState]:
    """A line 0 - 1 - 2 - 3 with TCP and UDP traffic, a link that fails and a loop-free
    table; enough steps for traffic to cross, drain and be dropped."""
    topo = topology(4, [(0, 1), (1, 2), (2, 3)], rate=5e6, delay_ms=1.0)
    topo["delay_ms"] = np.array([1.0, 2.0, 0.5])
    states = [sim.reset(topo, seed=3)]
    states.append(sim.step(line_routes(4), demands([
        (0.0, 0, 3, 40 * 1448, True, 0.0),
        (1.0, 3, 0, 30 * 1472, False, 4e6),
        (2.0, 1, 2, 10 * 1472, False, 2e6),
    ])))
    for _ in range(5):
        states.append(sim.step())
    states.append(sim.step(failures={"time_ms": [sim.step_index * 5.0 + 0.5], "edge": [2]}))
    for _ in range(3):
        states.append(sim.step(demands=demands([(sim.step_index * 5.0, 0, 3, 5 * 1472, False,
                                                 4e6)])))
    return states


def test_every_column_is_written_and_means_what_its_name_says(sim):
    """The monitor fills every column with NaN before writing it, so a feature without a
    writer shows up here; the checks below tie each name to what it must hold."""
    states = run_episode(sim)
    topo = sim.topology
    for s in states:
        for array in (s.global_features, s.edge_features, s.node_features, s.tm_sent,
                      s.tm_received):
            assert not np.isnan(array).any(), f"step {s.step}: a column was not written"
        assert s.g("sim_time_ms") == pytest.approx(s.time_ms)
        np.testing.assert_array_equal(s.edge("datarate_bps"), np.repeat(topo.datarate_bps, 2))
        np.testing.assert_array_equal(s.edge("delay_ms"), np.repeat(topo.delay_ms, 2))
        assert ((0 <= s.edge("link_util")) & (s.edge("link_util") <= 1)).all()
        assert s.g("max_link_util") == pytest.approx(s.edge("link_util")[s.edge("is_up") == 1]
                                                     .max(initial=0.0))
        for name in ("queue_max_load", "queue_last_load"):
            assert ((0 <= s.edge(name)) & (s.edge(name) <= 1)).all()
        assert (s.edge("queue_last_load") <= s.edge("queue_max_load")).all()
        assert (s.edge("queue_capacity_pkts") >= 1).all()
        assert s.node("sent_bytes").sum() == s.g("sent_bytes") == s.tm_sent.sum()
        assert s.node("received_bytes").sum() == s.g("received_bytes") == s.tm_received.sum()
        assert s.node("retransmitted_bytes").sum() == s.g("retransmitted_bytes")
        assert s.g("dropped_bytes") == pytest.approx(sum(s.g(f"drop_{r}_bytes") for r in (
            "queue", "no_route", "ttl", "link_down", "other")))
        assert s.g("max_delay_ms") >= s.g("avg_delay_ms") >= 0
    total = {name: sum(s.g(name) for s in states) for name in GLOBAL_FEATURES}
    assert total["demands_started"] == 6
    assert total["sent_packets"] > 0 and total["received_packets"] > 0
    assert total["app_received_bytes"] <= total["app_sent_bytes"]
    assert total["drop_link_down_bytes"] > 0  # packets for node 3 after edge 2 failed
    assert total["events"] > 0
    assert states[-1].g("demands_active") >= 0
    assert states[0].edge("is_up").all()
    np.testing.assert_array_equal(states[-1].edge("is_up"), [1, 1, 1, 1, 0, 0])
    per_edge = {name: sum(s.edge(name) for s in states) for name in EDGE_FEATURES}
    assert per_edge["tx_packets"].sum() > 0
    assert (per_edge["rx_packets"] <= per_edge["tx_packets"]).all()
    assert (per_edge["rx_bytes"] <= per_edge["tx_bytes"]).all()
    assert per_edge["drop_packets"][4:].sum() > 0  # frames lost on the failed link


def test_raw_mode_reports_each_feature_as_its_table_says(tmp_path):
    topo = topology(3, [(0, 1), (1, 2)])
    path = write_raw_episode(tmp_path / "e.raw", topo, line_routes(3),
                             demands([(0.0, 0, 2, 20 * 1472, False, 5e6)]), steps=4)
    result = run_raw_episode(path, globals_out=tmp_path / "g.bin")
    rows = result.pop("globals")
    prefix = {"total": "total_", "mean": "mean_", "last": ""}
    expected = {prefix[agg] + name for name, _, agg in BRIDGE_SPEC["global_features"]}
    timing = {"steps", "setup_seconds", "run_seconds", "events_per_second"}
    assert set(result) == expected | timing
    for k, (name, _, agg) in enumerate(BRIDGE_SPEC["global_features"]):
        column = rows[1:, k]
        value = {"total": column.sum(), "mean": column.mean(), "last": column[-1]}[agg]
        assert result[prefix[agg] + name] == pytest.approx(value, rel=1e-12), name
    json.dumps(result)  # plain numbers
