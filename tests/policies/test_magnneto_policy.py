# SPDX-License-Identifier: GPL-2.0-only
"""MAGNNETO in the packet and fluid envs (``policies.magnneto_policy``, Section 6.1): the
``traffic_matrix`` observation it reads, tables that only use working links and deliver every
pair, determinism, a clear error without the matrix, and ``packerl evaluate`` of a run."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import packerl  # noqa: F401  (registers the env ids)
from packerl.fluid import FluidNetwork
from packerl.app.evaluate import evaluate
from packerl.app.results import load_episodes
from packerl.spaces import GLOBAL_OBS_FEATURES
from policies.factory import env_requirements, policy_slug
from policies.guard import check_reachability
from policies.magnneto import MagnnetoActor, load_actor, train
from policies.runs import TamperedRunError
from policies.magnneto_policy import MagnnetoPolicy, is_magnneto_run

SENT = GLOBAL_OBS_FEATURES.index("sent_bytes")
#: an nx-XS weibull scenario (reset seed) with failed links within its first FAILURE_STEPS
FAILURE_SEED, FAILURE_STEPS = 7, 12


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def magnneto_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("magnneto") / "run"
    train(run, episodes=1, topologies=("nx-XS",), traffic="udp_low", seed=3, horizon=3)
    return run


@pytest.mark.parametrize("env_id", ["packerl/PackeRL-v0", "packerl/PackeRL-Fluid-v0"])
def test_traffic_matrix_holds_the_last_steps_sent_bytes(env_id):
    env = gym.make(env_id, topology="nx-XS", traffic="udp_high", episode_steps=4,
                   traffic_matrix=True)
    try:
        obs, _ = env.reset(seed=2)
        assert not obs["traffic_matrix"].any()  # nothing sent before the first step
        n = int(obs["node_mask"].sum())
        for _ in range(3):
            obs, *_ = env.step(env.action_space.sample())
            tm = obs["traffic_matrix"]
            assert env.observation_space.contains(obs)
            assert not tm[n:].any() and not tm[:, n:].any() and not np.diag(tm).any()
            assert tm.sum() == pytest.approx(float(obs["global"][SENT]), rel=1e-5)
        assert tm.sum() > 0
    finally:
        env.close()
    plain = gym.make(env_id, topology="nx-XS", traffic="udp_high")
    assert "traffic_matrix" not in plain.observation_space.spaces
    plain.close()


def test_tables_use_working_links_only_deliver_every_pair_and_reach_the_optimised_mlu():
    env = gym.make("packerl/PackeRL-v0", topology="nx-XS", traffic="mixed_high", link_failures="weibull",
                   episode_steps=FAILURE_STEPS, traffic_matrix=True)
    torch.manual_seed(0)
    policy = MagnnetoPolicy.from_env(env, actor=MagnnetoActor(), seed=5, horizon=6)
    failed_steps = 0
    try:
        obs, _ = env.reset(seed=FAILURE_SEED)
        policy.reset()
        for _ in range(FAILURE_STEPS):
            action = policy.act(obs)
            assert env.action_space.contains(action)
            n = int(obs["node_mask"].sum())
            adj = obs["adjacency"][:n, :n].astype(bool)
            table = env.unwrapped.action_format.to_next_hops(action, obs["adjacency"], n)
            u, z = np.nonzero(~np.eye(n, dtype=bool))
            assert adj[u, table[u, z]].all()  # every next hop is a working neighbour
            assert check_reachability(table, adj)["ok"]  # no loop, no blackhole
            # the installed table is the optimised one: it gives the MLU MAGNNETO reached
            topo, up = env.unwrapped.scenario.topology, obs["edge_mask"][0::2].astype(bool)
            up = up[:topo.num_edges]
            net = FluidNetwork(n, np.asarray(topo.edges)[up], np.asarray(topo.datarate_bps)[up],
                               np.asarray(topo.delay_ms)[up], env.unwrapped.step_ms)
            tm = obs["traffic_matrix"][:n, :n].astype(np.float64)
            lu = net.link_loads(table, tm) / net.capacity
            # (the policy reads float32 link properties from the observation)
            assert lu.max(initial=0.0) == pytest.approx(policy.last_result["final_mlu"],
                                                        rel=1e-6, abs=1e-12)
            failed_steps += int(not up.all())
            obs, reward, *_ = env.step(action)
            assert np.isfinite(reward)
    finally:
        env.close()
    assert failed_steps > 0  # the scenario has link failures


def test_same_seed_same_actions_and_the_matrix_changes_the_decision():
    def actions(seed):
        env = gym.make("packerl/PackeRL-Fluid-v0", topology="nx-XS", traffic="udp_high",
                       episode_steps=4, traffic_matrix=True)
        torch.manual_seed(0)
        policy = MagnnetoPolicy.from_env(env, actor=MagnnetoActor(), seed=seed, horizon=8)
        obs, _ = env.reset(seed=1)
        policy.reset()
        out = []
        for _ in range(4):
            out.append(policy.act(obs))
            obs, *_ = env.step(out[-1])
        env.close()
        return out

    a, b, c = actions(1), actions(1), actions(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_without_the_traffic_matrix_or_with_link_weights_it_says_what_is_accepted():
    env = gym.make("packerl/PackeRL-v0", topology="nx-XS", traffic="udp_low")
    try:
        with pytest.raises(ValueError, match="traffic_matrix=True"):
            MagnnetoPolicy.from_env(env, actor=MagnnetoActor())
    finally:
        env.close()
    env = gym.make("packerl/PackeRL-LinkWeights-v0", topology="nx-XS", traffic="udp_low",
                   traffic_matrix=True)
    try:
        with pytest.raises(ValueError, match="cannot produce `link_weights` actions"):
            MagnnetoPolicy.from_env(env, actor=MagnnetoActor())
    finally:
        env.close()


def test_a_magnneto_run_is_a_policy_name_of_packerl_evaluate(magnneto_run, tmp_path):
    name = str(magnneto_run)
    assert is_magnneto_run(name) and not is_magnneto_run(tmp_path)
    assert env_requirements(name) == {"traffic_matrix": True}
    assert env_requirements(f"guard:{name},mode=shadow") == {"traffic_matrix": True}
    assert env_requirements("eigrp") == {}
    run = evaluate(name, "nx-XS", "udp_low", 2, 11, tmp_path, episode_steps=3, workers=1,
                   progress=False)
    assert run.name == f"{policy_slug(name)}__nx-XS__udp_low__seed11"
    assert run.name.startswith("magnneto-run__")
    rows = load_episodes(run)
    assert [r["steps"] for r in rows] == [3, 3] and all(r["inference_ms"] > 0 for r in rows)


def test_a_tampered_magnneto_checkpoint_is_refused(magnneto_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(magnneto_run, copy)
    load_actor(copy)
    with (copy / "checkpoint.pt").open("ab") as f:
        f.write(b"\0")
    with pytest.raises(TamperedRunError, match="does not match the SHA-256"):
        load_actor(copy)
