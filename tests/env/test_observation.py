# SPDX-License-Identifier: GPL-2.0-only
"""The observation builder on a hand-built 4-node graph: padding, masks, failed links,
optional keys, key order, and the errors for arrays that do not fit."""

from __future__ import annotations

import re

import numpy as np
import pytest

from packerl.observation import build_observation, slot_edge_index
from packerl.spaces import (
    DATARATE,
    DELAY,
    EDGE_OBS_FEATURES,
    GLOBAL_OBS_FEATURES,
    NODE_OBS_FEATURES,
    observation_space,
)
from packerl.wrappers import stacked_space

# undirected links 0-1, 1-2, 2-3, 1-3 of a 4-node graph, padded to 5 nodes and 6 links
EDGES = np.array([[0, 1], [1, 2], [2, 3], [1, 3]])
P, MAX_EDGES = 5, 6
UP = np.array([1, 1, 0, 0, 1, 1, 1, 1], bool)  # link 1-2 (slots 2, 3) has failed


def features(rows: int, names: tuple[str, ...]) -> np.ndarray:
    """Distinct values: row r, column c holds r + c / 100."""
    return np.arange(rows)[:, None] + np.arange(len(names))[None, :] / 100.0


def build(space, **kw):
    return build_observation(
        space, 4, slot_edge_index(EDGES), UP,
        kw.pop("edge_features", features(8, EDGE_OBS_FEATURES) / 10.0),
        kw.pop("global_features", np.arange(len(GLOBAL_OBS_FEATURES), dtype=float)), **kw)


def test_slot_edge_index_puts_both_directions_of_a_link_side_by_side():
    assert slot_edge_index(EDGES).tolist() == [[0, 1, 1, 2, 2, 3, 1, 3],
                                               [1, 0, 2, 1, 3, 2, 3, 1]]
    assert slot_edge_index(np.zeros((0, 2))).shape == (2, 0)


def test_layout_masks_and_failed_links():
    space = observation_space(P, MAX_EDGES)
    raw = features(8, EDGE_OBS_FEATURES) / 10.0
    obs = build(space, edge_features=raw)
    assert list(obs) == list(space.spaces)  # the space's (sorted) key order
    assert space.contains(obs)
    assert obs["edge_mask"].tolist() == [1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]
    assert obs["node_mask"].tolist() == [1, 1, 1, 1, 0]
    assert obs["sizes"].tolist() == [4, 6]
    np.testing.assert_array_equal(obs["edge_index"][:, :8], slot_edge_index(EDGES))
    assert not obs["edge_index"][:, 8:].any()
    want = np.zeros((12, len(EDGE_OBS_FEATURES)), np.float32)
    want[:8] = raw * UP[:, None]
    np.testing.assert_array_equal(obs["edge_attr"], want)
    np.testing.assert_array_equal(obs["link_props"], want[:, [DATARATE, DELAY]])
    adj = np.zeros((P, P), np.int8)
    for u, v in ((0, 1), (2, 3), (1, 3)):
        adj[u, v] = adj[v, u] = 1
    np.testing.assert_array_equal(obs["adjacency"], adj)
    np.testing.assert_array_equal(obs["global"], np.arange(len(GLOBAL_OBS_FEATURES)))
    given = build(space, adjacency=adj.copy())
    for key in obs:
        np.testing.assert_array_equal(given[key], obs[key])


def test_node_features_and_last_actions():
    nodes = features(4, NODE_OBS_FEATURES)
    space = observation_space(P, MAX_EDGES, node_features=True, last_action="next_hop")
    s0 = build(space, node_features=nodes)
    assert space.contains(s0)
    assert s0["node_attr"][:4].tolist() == nodes.astype(np.float32).tolist()
    assert not s0["node_attr"][4].any()
    assert (s0["last_next_hops"] == -1).all()
    table = np.full((4, 4), -1)
    table[0, 1:] = 1
    later = build(space, node_features=nodes, last_next_hops=table,
                  last_link_weights=np.ones(2 * MAX_EDGES))  # not in this space: ignored
    assert later["last_next_hops"][:4, :4].tolist() == table.tolist()
    assert (later["last_next_hops"][4] == -1).all() and "last_link_weights" not in later

    space = observation_space(P, MAX_EDGES, last_action="link_weights")
    s0 = build(space)
    assert s0["last_link_weights"].tolist() == s0["edge_mask"].astype(float).tolist()
    weights = np.arange(1, 2 * MAX_EDGES + 1, dtype=np.float32)
    later = build(space, last_link_weights=weights)
    np.testing.assert_array_equal(later["last_link_weights"], weights * s0["edge_mask"])
    assert space.contains(later)


def test_arrays_that_do_not_fit_are_refused():
    space = observation_space(P, MAX_EDGES)
    width = len(EDGE_OBS_FEATURES)
    with pytest.raises(ValueError, match=re.escape(
            f"`edge_features` must have shape (8, {width}) (one column per EDGE_OBS_FEATURES "
            f"entry), got (8, {width - 1})")):
        build(space, edge_features=np.zeros((8, width - 1)))
    with pytest.raises(ValueError, match=re.escape("`global_features` must have shape")):
        build(space, global_features=np.zeros(3))
    with pytest.raises(ValueError, match=re.escape(
            "`node_features` must be given exactly when the space has `node_attr` (it has not)")):
        build(space, node_features=features(4, NODE_OBS_FEATURES))
    with pytest.raises(ValueError, match=re.escape("the space has `node_attr` (it has)")):
        build(observation_space(P, MAX_EDGES, node_features=True))
    with pytest.raises(ValueError, match=re.escape("pass the unstacked space")):
        build(stacked_space(space, 2))
    with pytest.raises(ValueError, match=re.escape("E <= 4 edge slots")):
        build(observation_space(P, 2))
    with pytest.raises(ValueError, match=re.escape("`num_nodes` must lie in 1..3")):
        build(observation_space(3, MAX_EDGES))


def test_module_example_runs():
    import doctest

    import packerl.observation

    result = doctest.testmod(packerl.observation)
    assert result.failed == 0 and result.attempted > 0
