# SPDX-License-Identifier: GPL-2.0-only
"""The Gymnasium contract, spaces, seeding, failures and bad actions of PackeRLEnv."""

from __future__ import annotations

import re

import gymnasium as gym
import numpy as np
import pytest

import packerl
import synnet
from packerl.env import PackeRLEnv, PackeRLLinkWeightsEnv
from packerl.rewards import parse_reward

from .conftest import eigrp_action, eigrp_weights_action

SMALL = dict(topology="nx-XS", traffic="udp_medium", episode_steps=5)


def test_registered_ids_and_make_vec():
    assert packerl.ENV_ID in gym.registry and packerl.LINK_WEIGHTS_ENV_ID in gym.registry
    envs = gym.make_vec(packerl.ENV_ID, num_envs=2, vectorization_mode="sync", **SMALL)
    obs, _ = envs.reset(seed=3)
    assert obs["edge_attr"].shape[0] == 2
    envs.close()


def rollout(env: PackeRLEnv, seed: int, steps: int) -> list:
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(eigrp_action(obs, env.max_nodes))
        out.append((obs, reward, info["metrics"]))
    return out


def test_seeded_reset_gives_identical_trajectories():
    a = PackeRLEnv(topology="nx-XS", traffic="mixed_high", episode_steps=6)
    b = PackeRLEnv(topology="nx-XS", traffic="mixed_high", episode_steps=6)
    try:
        ra, rb = rollout(a, 42, 6), rollout(b, 42, 6)
        for x, y in zip(ra[1:], rb[1:]):
            assert x[1] == y[1] and x[2] == y[2]
            for k in x[0]:
                np.testing.assert_array_equal(x[0][k], y[0][k])
        assert sum(x[1] for x in ra[1:]) > 0
        rc = rollout(a, 43, 2)
        assert not np.array_equal(rc[0]["edge_attr"], ra[0]["edge_attr"])  # new scenario
    finally:
        a.close()
        b.close()


def test_episode_truncates_and_needs_reset():
    env = PackeRLEnv(**SMALL)
    obs, info = env.reset(seed=1)
    for t in range(5):
        obs, reward, terminated, truncated, info = env.step(eigrp_action(obs, env.max_nodes))
        assert not terminated and truncated == (t == 4)
    summary = info["episode_metrics"]
    assert summary["steps"] == 5 and summary["total_goodput_mb"] > 0
    with pytest.raises(gym.error.ResetNeeded):
        env.step(eigrp_action(obs, env.max_nodes))
    env.close()


def test_observation_layout_and_masks():
    env = PackeRLEnv(topology="nx-XS", traffic="udp_low", episode_steps=3, node_features=True)
    obs, info = env.reset(seed=5)
    n, e = info["num_nodes"], info["num_edges"]
    assert obs["sizes"].tolist() == [n, 2 * e]
    assert obs["node_mask"].sum() == n and obs["edge_mask"].sum() == 2 * e
    assert env.observation_space.contains(obs)
    topo = env.scenario.topology
    adj = np.zeros((env.max_nodes, env.max_nodes), np.int8)
    adj[topo.edges[:, 0], topo.edges[:, 1]] = 1
    adj[topo.edges[:, 1], topo.edges[:, 0]] = 1
    np.testing.assert_array_equal(obs["adjacency"], adj)
    d = env.max_degree
    mask = env.action_masks().reshape(env.max_nodes, env.max_nodes, d)
    deg0 = int(adj[0].sum())
    assert mask[0, 1].tolist() == [True] * deg0 + [False] * (d - deg0)  # ranks of 0's links
    assert mask[0, 0].tolist() == [True] + [False] * (d - 1)  # diagonal: dummy
    assert not obs["edge_attr"][2 * e:].any()  # padding is zero
    env.close()


def failing_scenario() -> synnet.Scenario:
    base = synnet.generate(topology="nx-XS", traffic="udp_high", link_failures=None, steps=6,
                           seed=21)
    topo = base.topology
    g = topo.to_networkx()
    import networkx as nx

    bridges = {tuple(sorted(b)) for b in nx.bridges(g)}
    edge = next(i for i, (u, v) in enumerate(topo.edges.tolist()) if (u, v) not in bridges)
    failures = np.zeros(1, dtype=synnet.FAILURE_DTYPE)
    failures["time_ms"], failures["edge"] = 12.5, edge  # during step 2
    return synnet.Scenario(topology=topo, demands=base.demands, failures=failures,
                           steps=base.steps, step_ms=base.step_ms, seed=base.seed,
                           params=base.params), edge


def test_link_failure_removes_the_edge_from_observation_and_masks():
    scenario, edge = failing_scenario()
    env = PackeRLEnv(scenario=scenario)
    obs, _ = env.reset(seed=1)
    for t in range(3):
        assert obs["edge_mask"][2 * edge] == 1 or t == 3
        stale = eigrp_action(obs, env.max_nodes)
        obs, *_ = env.step(stale)
    u, v = scenario.topology.edges[edge]
    assert obs["edge_mask"][2 * edge] == 0 and obs["edge_mask"][2 * edge + 1] == 0
    assert not obs["edge_attr"][2 * edge].any()
    assert obs["adjacency"][u, v] == 0 and obs["adjacency"][v, u] == 0
    table = env.next_hops_of(stale)  # the old action stays legal and avoids the dead link
    assert not (table[u] == v).any() and not (table[v] == u).any()
    deg_u = int(obs["adjacency"][u].sum())
    mask = env.action_masks().reshape(env.max_nodes, env.max_nodes, env.max_degree)
    assert mask[u, v].sum() == deg_u
    fresh = eigrp_action(obs, env.max_nodes)  # recomputed on the new topology
    obs, *_ = env.step(fresh)
    env.close()


@pytest.mark.parametrize(
    ("make_action", "message"),
    [
        (lambda env, obs: np.zeros(5, np.int64), "next-hop action must have shape"),
        (lambda env, obs: eigrp_action(obs, env.max_nodes).astype(float),
         "next-hop action must hold integers"),
        (lambda env, obs: np.full(env.max_nodes**2, env.max_degree), "outside the space"),
        (lambda env, obs: np.full(env.max_nodes**2, -1), "outside the space"),
    ],
)
def test_actions_outside_the_space_raise_and_env_survives(make_action, message):
    env = PackeRLEnv(**SMALL)
    obs, _ = env.reset(seed=2)
    with pytest.raises(ValueError, match=re.escape(message)):
        env.step(make_action(env, obs))
    obs, reward, *_ = env.step(eigrp_action(obs, env.max_nodes))  # still works
    assert env.unwrapped._sim.running
    env.close()


@pytest.mark.parametrize("bad", [np.nan, 1.0001, -1.5, np.inf])
def test_link_weights_outside_the_space_raise_and_env_survives(bad):
    env = PackeRLLinkWeightsEnv(**SMALL)
    obs, _ = env.reset(seed=2)
    w = eigrp_weights_action(obs, env)
    w[0] = bad
    with pytest.raises(ValueError, match=r"link-weight action \[0\] is .*outside the space"):
        env.step(w)
    with pytest.raises(ValueError, match="link-weight action must have shape"):
        env.step(w[:3])
    obs, reward, *_ = env.step(eigrp_weights_action(obs, env))
    assert reward >= 0
    env.close()


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_raw_link_weights_must_be_positive(bad):
    env = PackeRLLinkWeightsEnv(**SMALL, link_weights="raw")
    obs, _ = env.reset(seed=2)
    w = eigrp_weights_action(obs, env)
    w[0] = bad
    with pytest.raises(ValueError, match="outside the space"):
        env.step(w)
    env.step(eigrp_weights_action(obs, env))
    env.close()


def test_link_weights_and_next_hops_agree():
    a, b = PackeRLEnv(**SMALL), PackeRLLinkWeightsEnv(**SMALL)
    oa, _ = a.reset(seed=9)
    ob, _ = b.reset(seed=9)
    for _ in range(3):
        oa, ra, *_ = a.step(eigrp_action(oa, a.max_nodes))
        ob, rb, *_ = b.step(eigrp_weights_action(ob, b))
        assert ra == rb
    a.close()
    b.close()


def test_link_weight_near_ties_pick_the_same_next_hops_on_every_machine():
    # equal weights tie many paths; a policy computing them in float32 on another CPU gets
    # them a few ulps apart: the installed next hops must not depend on that
    env = PackeRLLinkWeightsEnv(**SMALL, link_weights="raw")
    obs, _ = env.reset(seed=4)
    equal = np.ones(env.action_space.shape, np.float32)
    want = env.next_hops_of(equal)
    rng = np.random.default_rng(0)
    for _ in range(20):
        ulps = rng.integers(-8, 9, equal.shape)
        noisy = (equal * (1 + ulps * np.finfo(np.float32).eps)).astype(np.float32)
        np.testing.assert_array_equal(env.next_hops_of(noisy), want)
    heavy = equal.copy()  # a real difference in the weights still moves the next hops
    heavy[0] = 10.0
    assert not np.array_equal(env.next_hops_of(heavy), want)
    env.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"topology": "nx-XSS"}, "unknown topology preset 'nx-XSS'"),
        ({"traffic": "tcp_huge"}, "tcp_huge"),
        ({"reward": "rx"}, "invalid reward spec 'rx'"),
        ({"action_type": "weights"}, "unknown action_type 'weights'"),
        ({"next_hop_encoding": "rank"}, "unknown next_hop_encoding 'rank'"),
        ({"link_weights": "log"}, "unknown link_weights 'log'"),
        ({"link_weight_range": (0.0, 1.0)}, "link_weight_range must be"),
        ({"render_mode": "human"}, "unknown render_mode 'human'"),
        ({"max_degree": 0}, "max_degree must lie in [1, 5000], got 0"),
        ({"episode_steps": 0}, "episode_steps must lie in [1, 1000000], got 0"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        PackeRLEnv(**kwargs)


def test_scenario_larger_than_padding_is_refused():
    env = PackeRLEnv(topology="nx-S", traffic="udp_low", episode_steps=2, max_nodes=11)
    with pytest.raises(ValueError, match="more than the padding"):
        for seed in range(20):
            env.reset(seed=seed)
    env.close()


def test_reward_specs():
    assert parse_reward("goodput") == {"r": 1.0}
    assert parse_reward("rda") == {"r": 1.0, "d": -0.25, "a": -5.0}
    assert parse_reward("a") == {"a": -1.0}
    assert parse_reward({"goodput": 1.0, "delay": -2.0}) == {"r": 1.0, "a": -2.0}
    with pytest.raises(ValueError, match="each letter once"):
        parse_reward("rr")
    with pytest.raises(ValueError, match="unknown reward term `speed`"):
        parse_reward({"speed": 1.0})


def test_penalty_rewards_follow_metrics():
    env = PackeRLEnv(topology="nx-XS", traffic="udp_high", episode_steps=3, reward="rda")
    obs, _ = env.reset(seed=4)
    obs, reward, _, _, info = env.step(eigrp_action(obs, env.max_nodes))
    m = info["metrics"]
    assert reward == pytest.approx(m["goodput_mb"] - 5 * m["avg_delay_ms"]
                                   - 0.25 * m["drop_ratio"])
    env.close()
