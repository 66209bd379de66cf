# SPDX-License-Identifier: GPL-2.0-only
"""Baseline policies: shortest paths against networkx, EIGRP's topology cache, random
policies' validity and seeding, the registry's errors."""

from __future__ import annotations

import re

import gymnasium as gym
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import packerl  # noqa: F401 - registers the environments
from packerl.observation import build_observation, slot_edge_index
from packerl.routing import eigrp_weights, ospf_weights
from packerl.spaces import (
    DATARATE,
    DELAY,
    EDGE_OBS_FEATURES,
    GLOBAL_OBS_FEATURES,
    ActionFormat,
    decode_next_hops,
    observation_space,
)
from policies import EIGRP, OSPF, RandomLinkWeights, RandomNextHop, make_policy, names


def table_of(action, obs):
    """The next-hop table a default-encoded action installs on the observed topology."""
    n = int(np.asarray(obs["node_mask"]).sum())
    return decode_next_hops(action, obs["adjacency"], n, "neighbor")


MAX_NODES, MAX_EDGES = 12, 48


def make_obs(n: int, edges: list[tuple[int, int]], datarate: np.ndarray, delay: np.ndarray,
             failed: tuple[int, ...] = (), max_nodes: int = MAX_NODES,
             max_edges: int = MAX_EDGES) -> dict[str, np.ndarray]:
    """A padded observation as PackeRLEnv builds it (slot 2i = (u, v), 2i+1 = (v, u)), with
    the given links (those in ``failed`` down) and a link utilisation of 0.3 everywhere."""
    features = np.zeros((2 * len(edges), len(EDGE_OBS_FEATURES)))
    features[:, DATARATE] = np.repeat(datarate, 2)
    features[:, DELAY] = np.repeat(delay, 2)
    features[:, 0] = 0.3  # link utilisation: not part of the topology
    up = np.repeat([i not in failed for i in range(len(edges))], 2)
    return build_observation(observation_space(max_nodes, max_edges), n,
                             slot_edge_index(np.array(edges)), up, features,
                             np.zeros(len(GLOBAL_OBS_FEATURES)))


@st.composite
def connected_graphs(draw):
    """(n, edges, datarate_bps, delay_ms) of a random connected simple graph."""
    n = draw(st.integers(2, MAX_NODES))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    edges = {tuple(sorted((int(order[i]), int(order[rng.integers(i)])))) for i in range(1, n)}
    extra = draw(st.integers(0, MAX_EDGES - len(edges)))
    for _ in range(extra):
        u, v = rng.choice(n, 2, replace=False) if n > 1 else (0, 0)
        edges.add(tuple(sorted((int(u), int(v)))))
    edges = sorted(edges)[:MAX_EDGES]
    # coarse values make equal-cost ties common, which is where next-hop choice is subtle
    datarate = rng.choice([50e6, 100e6, 150e6, 200e6], size=len(edges))
    delay = rng.choice([1.0, 2.0, 5.0, 7.5], size=len(edges))
    return n, edges, datarate, delay


def assert_shortest_next_hops(policy_table: np.ndarray, n: int, edges, weights) -> None:
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for (u, v), w in zip(edges, weights):
        g.add_edge(u, v, weight=w)
        g.add_edge(v, u, weight=w)
    dist = dict(nx.all_pairs_dijkstra_path_length(g))
    for u in range(n):
        for z in range(n):
            if u == z:
                continue
            v = int(policy_table[u, z])
            assert g.has_edge(u, v), f"next hop {v} of {u} towards {z} is not a neighbour"
            via = g[u][v]["weight"] + dist[v][z]
            assert via == pytest.approx(dist[u][z], rel=1e-9), (u, z, v)


@settings(max_examples=60, deadline=None)
@given(graph=connected_graphs(), cls=st.sampled_from([OSPF, EIGRP]))
def test_shortest_path_next_hops_match_networkx(graph, cls):
    n, edges, datarate, delay = graph
    policy = cls(MAX_NODES, MAX_EDGES)
    obs = make_obs(n, edges, datarate, delay)
    action = policy.act(obs)
    assert action.shape == (MAX_NODES * MAX_NODES,) and action.dtype.kind == "i"
    table = table_of(action, obs)
    weights = (ospf_weights(datarate) if cls is OSPF else eigrp_weights(datarate, delay))
    assert_shortest_next_hops(table, n, edges, weights)


def test_weights_follow_appendix_b5():
    edges = [(0, 1), (1, 2)]
    obs = make_obs(3, edges, np.array([1e8, 5e7]), np.array([5.0, 1.0]))
    ospf = OSPF(MAX_NODES, MAX_EDGES).weights(obs)
    eigrp = EIGRP(MAX_NODES, MAX_EDGES).weights(obs)
    assert ospf.shape == eigrp.shape == (2 * MAX_EDGES,)
    np.testing.assert_allclose(ospf[:4], [1.0, 1.0, 2.0, 2.0])
    # 256 * (1e7 / bandwidth in kbit/s + delay in us / 10)
    np.testing.assert_allclose(eigrp[:4], [256 * (100 + 500)] * 2 + [256 * (200 + 100)] * 2,
                               rtol=1e-6)
    assert (ospf[4:] == 1.0).all() and (eigrp[4:] == 1.0).all()


def test_delay_matters_for_eigrp_not_ospf():
    # 0 -> 2 directly over a slow-propagation link, or over 1 on two fast ones
    edges = [(0, 2), (0, 1), (1, 2)]
    obs = make_obs(3, edges, np.array([1e8, 1e8, 1e8]), np.array([20.0, 1.0, 1.0]))
    assert table_of(OSPF(MAX_NODES, MAX_EDGES).act(obs), obs)[0, 2] == 2
    assert table_of(EIGRP(MAX_NODES, MAX_EDGES).act(obs), obs)[0, 2] == 1


def test_raw_link_props_win_over_normalised_edge_features():
    edges = [(0, 2), (0, 1), (1, 2)]
    obs = make_obs(3, edges, np.array([1e8, 1e8, 1e8]), np.array([20.0, 1.0, 1.0]))
    expected = EIGRP(MAX_NODES, MAX_EDGES).weights(obs)
    scrambled = {**obs, "edge_attr": np.random.default_rng(0).normal(
        size=obs["edge_attr"].shape).astype(np.float32)}  # as after a normalisation wrapper
    np.testing.assert_array_equal(EIGRP(MAX_NODES, MAX_EDGES).weights(scrambled), expected)
    # without `link_props` the raw columns of edge_attr are used
    plain = {k: v for k, v in obs.items() if k != "link_props"}
    np.testing.assert_array_equal(EIGRP(MAX_NODES, MAX_EDGES).weights(plain), expected)


def test_cache_recomputes_only_on_topology_change():
    edges = [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)]
    rate, delay = np.full(5, 1e8), np.full(5, 2.0)
    policy = EIGRP(MAX_NODES, MAX_EDGES)
    obs = make_obs(4, edges, rate, delay)
    first = policy.act(obs)
    assert policy.recomputations == 1
    obs2 = {k: v.copy() for k, v in obs.items()}
    obs2["edge_attr"][:, 0] = 0.9  # utilisation changes, the topology does not
    np.testing.assert_array_equal(policy.act(obs2), first)
    policy.weights(obs2)
    assert policy.recomputations == 1
    failed = make_obs(4, edges, rate, delay, failed=(4,))  # link 0-2 fails
    table = table_of(policy.act(failed), failed)
    assert policy.recomputations == 2
    assert table[0, 2] != 2 and table[2, 0] != 0
    policy.act(failed)
    assert policy.recomputations == 2


def test_eigrp_recomputes_after_link_failure_in_env():
    env = gym.make("packerl/PackeRL-v0", topology="nx-XS", traffic="udp_low",
                   link_failures="weibull", episode_steps=12,
                   synnet_kwargs={"failure_scale": 0.5})
    try:
        policy = make_policy("eigrp", env)
        obs, _ = env.reset(seed=1)
        assert len(env.unwrapped.scenario.failures) > 0
        policy.reset()
        masks = [obs["edge_mask"].copy()]
        truncated = False
        while not truncated:
            action = policy.act(obs)
            table = table_of(action, obs)
            n = table.shape[0]
            working = {tuple(e) for e in obs["edge_index"][:, obs["edge_mask"] == 1].T}
            for u in range(n):
                for z in range(n):
                    if u != z:
                        assert (u, int(table[u, z])) in working, "routed over a failed link"
            assert env.unwrapped.action_masks().reshape(-1, env.unwrapped.max_degree)[
                np.arange(action.size), action].all()
            obs, _, _, truncated, _ = env.step(action)
            masks.append(obs["edge_mask"].copy())
    finally:
        env.close()
    # slots drop out of the edge mask and never come back
    assert masks[-1].sum() < masks[0].sum()
    assert all((b <= a).all() for a, b in zip(masks, masks[1:]))
    # one computation per distinct topology the policy acted on (the last obs is not acted on)
    changes = sum(not np.array_equal(a, b) for a, b in zip(masks[:-2], masks[1:-1]))
    assert policy.recomputations == 1 + changes
    assert changes >= 1


@pytest.mark.parametrize("name", ["random_nh", "random_lw"])
def test_random_policies_valid_varying_and_reproducible(name):
    env = gym.make("packerl/PackeRL-v0", topology="nx-XS", traffic="udp_low", episode_steps=6)
    try:
        runs = []
        for seed in (7, 7, 8):
            policy = make_policy(name, env, seed=seed)
            obs, _ = env.reset(seed=3)
            policy.reset()
            actions = []
            truncated = False
            while not truncated:
                action = policy.act(obs)
                mask = env.unwrapped.action_masks().reshape(-1, env.unwrapped.max_degree)
                assert env.action_space.contains(action)
                assert mask[np.arange(action.size), action].all(), "action outside the mask"
                actions.append(action)
                obs, _, _, truncated, _ = env.step(action)  # the env accepts it
            runs.append(np.stack(actions))
    finally:
        env.close()
    assert any(not np.array_equal(a, b) for a, b in zip(runs[0], runs[0][1:])), \
        "actions do not change between steps"
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_random_next_hop_is_uniform_over_neighbours():
    # star: node 0 has 4 neighbours; every choice of 0 towards each leaf should appear
    edges = [(0, 1), (0, 2), (0, 3), (0, 4), (1, 2)]
    obs = make_obs(5, edges, np.full(5, 1e8), np.full(5, 1.0))
    policy = RandomNextHop(MAX_NODES, MAX_EDGES, seed=0)
    tables = np.stack([table_of(policy.act(obs), obs)
                       for _ in range(400)])
    counts = np.bincount(tables[:, 0, 3], minlength=5)
    assert counts[0] == 0 and (counts[1:] > 60).all(), counts
    assert set(np.unique(tables[:, 3, 1])) == {0}  # a leaf has one neighbour


def test_random_link_weights_are_shortest_paths_over_u1_10():
    edges = [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2), (1, 3)]
    obs = make_obs(4, edges, np.full(6, 1e8), np.full(6, 1.0))
    lw = RandomLinkWeights(MAX_NODES, MAX_EDGES, seed=1,
                           action_format=ActionFormat("link_weights", link_weights="raw"))
    w = lw.act(obs)
    assert w.shape == (2 * MAX_EDGES,) and w.dtype == np.float32
    assert ((w[:12] >= 1.0) & (w[:12] < 10.0)).all()
    nh = RandomLinkWeights(MAX_NODES, MAX_EDGES, seed=1)
    table = table_of(nh.act(obs), obs)
    g = nx.DiGraph()
    for s in range(12):
        g.add_edge(*obs["edge_index"][:, s], weight=float(w[s]))
    dist = dict(nx.all_pairs_dijkstra_path_length(g))
    for u in range(4):
        for z in range(4):
            if u != z:
                v = int(table[u, z])
                assert g[u][v]["weight"] + dist[v][z] == pytest.approx(dist[u][z], rel=1e-6)


def test_link_weight_env_accepts_eigrp_weights():
    env = gym.make("packerl/PackeRL-LinkWeights-v0", topology="nx-XS", traffic="udp_low",
                   episode_steps=2)
    try:
        policy = make_policy("eigrp", env)
        assert policy.action_type == "link_weights"
        obs, _ = env.reset(seed=2)
        action = policy.act(obs)
        assert env.action_space.contains(action)
        env.step(action)
        nh = EIGRP.from_env(gym.make("packerl/PackeRL-v0", topology="nx-XS",
                                     traffic="udp_low", episode_steps=2))
        np.testing.assert_array_equal(env.unwrapped.next_hops_of(action),
                                      table_of(nh.act(obs), obs))
    finally:
        env.close()


def test_make_policy_errors_list_valid_names():
    env = gym.make("packerl/PackeRL-v0", topology="nx-XS", traffic="udp_low")
    valid = str(sorted(names()))  # plus trained models (a .zip or a run directory)
    with pytest.raises(ValueError, match=re.escape(f"unknown policy `dijkstra`; valid: {valid}")):
        make_policy("dijkstra", env)
    with pytest.raises(ValueError, match=re.escape("did you mean `eigrp`?")):
        make_policy("EIGRP", env)
    with pytest.raises(ValueError, match=re.escape("no trained model at `runs/missing.zip`")):
        make_policy("runs/missing.zip", env)
    with pytest.raises(ValueError, match=re.escape("packerl train --policy fieldlines")):
        make_policy("fieldlines", env)
    with pytest.raises(ValueError, match=re.escape("cannot produce `link_weights` actions")):
        RandomNextHop(MAX_NODES, MAX_EDGES, action_type="link_weights")
    env.close()
