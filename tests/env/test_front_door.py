# SPDX-License-Identifier: GPL-2.0-only
"""The front door: generic Gymnasium clients work on both ids without masks or transforms.

Checkers (Gymnasium's and SB3's) on every topology preset with no fixed scenario, SB3 PPO and
A2C with ``MultiInputPolicy``, standard wrappers, uniform samples of copied spaces on random
presets and after link failures, the spec's horizon, and the "node" encoding's no-route rule.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import packerl
import synnet

from .conftest import eigrp_action

IDS = [packerl.ENV_ID, packerl.LINK_WEIGHTS_ENV_ID]
FAST_PRESETS = ["nx-XS", "nx-S", "nx-M", "nx-L", "nx-XL", "nsfnet", "geant2", "nsfnet+geant2"]
SLOW_PRESETS = ["nx-XXL"]  # up to 1000 nodes, for scale tests


def _check_quietly(env: gym.Env) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("topology", FAST_PRESETS + [
    pytest.param(t, marks=pytest.mark.slow) for t in SLOW_PRESETS])
def test_gymnasium_check_env_on_every_preset_without_warnings(env_id, topology):
    env = gym.make(env_id, topology=topology, traffic="udp_low", episode_steps=2,
                   render_mode="rgb_array")
    try:
        assert _check_quietly(env) == []
    finally:
        env.close()


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("topology", FAST_PRESETS)
def test_sb3_check_env_without_warnings(env_id, topology):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make(env_id, topology=topology, traffic="udp_low", episode_steps=3)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sb3_check_env(env.unwrapped, warn=True)
        # the one warning left is inherent to a graph observation: SB3 suggests flattening the
        # 2-D keys (edge features, edge index, adjacency), which SB3's own MultiInputPolicy
        # does for you and graph policies must not; every other check is silent
        inherent = "has an unconventional shape (neither an image, nor a 1D vector)"
        messages = [str(w.message) for w in caught if inherent not in str(w.message)]
        assert messages == []
        assert len(caught) == 4  # adjacency, edge_attr, edge_index, link_props
    finally:
        env.close()


@pytest.mark.parametrize("algo", ["PPO", "A2C"])
@pytest.mark.parametrize("env_id", IDS)
def test_sb3_multi_input_policy_trains_unchanged(env_id, algo):
    import stable_baselines3
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    venv = make_vec_env(env_id, n_envs=2, seed=0,
                        env_kwargs={"topology": "nx-XS", "traffic": "udp_low",
                                    "episode_steps": 10})
    venv = VecNormalize(venv, norm_obs_keys=["global", "edge_attr", "link_props"])
    cls = getattr(stable_baselines3, algo)
    kwargs = {"n_steps": 50, "batch_size": 50} if algo == "PPO" else {"n_steps": 10}
    model = cls("MultiInputPolicy", venv, seed=0, device="cpu", **kwargs)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=200)
    assert model.num_timesteps >= 200
    assert any(not np.array_equal(p.detach().numpy(), b.numpy())
               for p, b in zip(model.policy.parameters(), before))
    venv.close()


def test_next_hop_head_grows_with_the_degree_not_the_node_count():
    env = gym.make(packerl.ENV_ID, topology="nx-XL", traffic="udp_low", episode_steps=2)
    base = env.unwrapped
    assert base.max_nodes == 250 and base.max_degree == 16
    assert env.action_space.nvec.sum() == 250 * 250 * 16  # was 250**3
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_flatten_observation_and_standard_wrappers(env_id):
    env = gym.make(env_id, topology="nx-XS", traffic="udp_low", episode_steps=3)
    env = gym.wrappers.FlattenObservation(env)
    if env_id == packerl.LINK_WEIGHTS_ENV_ID:
        env = gym.wrappers.ClipAction(gym.wrappers.RescaleAction(env, -3.0, 3.0))
    obs, _ = env.reset(seed=0)
    assert obs.ndim == 1 and env.observation_space.contains(obs)
    for _ in range(3):
        obs, *_ = env.step(env.action_space.sample())
    env.close()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topology=st.sampled_from(["nx-XS", "nx-S", "nsfnet", "geant2"]),
       env_id=st.sampled_from(IDS), seed=st.integers(0, 2**16))
def test_uniform_samples_of_a_copied_space_are_accepted(topology, env_id, seed):
    env = gym.make(env_id, topology=topology, traffic="udp_low", episode_steps=4,
                   link_failures="weibull", synnet_kwargs={"failure_scale": 0.3})
    space = copy.deepcopy(env.action_space)  # a copy: no link to the env's state
    space.seed(seed)
    try:
        obs, _ = env.reset(seed=seed)
        failed_before = int(obs["edge_mask"].sum())
        truncated = False
        while not truncated:
            action = space.sample()
            obs, reward, terminated, truncated, info = env.step(action)  # never raises
            assert env.observation_space.contains(obs) and np.isfinite(reward)
            assert not terminated
        assert int(obs["edge_mask"].sum()) <= failed_before
    finally:
        env.close()


def test_spec_horizon_and_conflicting_time_limit():
    env = gym.make(packerl.ENV_ID, topology="nx-XS", episode_steps=7)
    assert env.spec.max_episode_steps == 7 and env.unwrapped.spec.max_episode_steps == 7
    env.close()
    same = gym.make(packerl.ENV_ID, topology="nx-XS", episode_steps=7, max_episode_steps=7)
    assert same.spec.max_episode_steps == 7
    same.close()
    with pytest.raises(ValueError, match="max_episode_steps=5 conflicts with the episode "
                                         "horizon episode_steps=7"):
        gym.make(packerl.ENV_ID, topology="nx-XS", episode_steps=7, max_episode_steps=5)


def test_module_prefixed_id_works_without_importing_packerl():
    code = ("import gymnasium as gym; e = gym.make('packerl:packerl/PackeRL-v0', "
            "topology='nx-XS', episode_steps=2); print(e.spec.max_episode_steps); e.close()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "2"


def test_node_encoding_routes_non_neighbours_nowhere_and_counts_the_drops():
    kw = dict(topology="nx-XS", traffic="udp_high", episode_steps=3, next_hop_encoding="node")
    env = gym.make(packerl.ENV_ID, **kw)
    obs, _ = env.reset(seed=4)
    base = env.unwrapped
    n = int(obs["sizes"][0])
    own = np.zeros((base.max_nodes, base.max_nodes), np.int64)
    own[:n, :n] = np.arange(n)[:, None]  # u's own id: never a neighbour -> no route
    table = base.next_hops_of(own.reshape(-1))
    assert (table == -1).all()
    _, _, _, _, info = env.step(own.reshape(-1))
    sent = info["metrics"]
    assert base.state.g("drop_no_route_bytes") > 0, sent
    assert base.state.g("received_bytes") == 0
    env.close()
    strict = gym.make(packerl.ENV_ID, strict=True, **kw)
    obs, _ = strict.reset(seed=4)
    with pytest.raises(ValueError, match=r"strict mode"):
        strict.step(own.reshape(-1))
    strict.step(eigrp_action(obs, strict.unwrapped.max_nodes, "node"))  # still works
    strict.close()


def test_neighbour_encoding_wraps_beyond_the_degree():
    env = gym.make(packerl.ENV_ID, topology="nx-XS", traffic="udp_low", episode_steps=2)
    obs, _ = env.reset(seed=3)
    base = env.unwrapped
    n = int(obs["sizes"][0])
    degree = obs["adjacency"].sum(axis=1)
    k = np.zeros((base.max_nodes, base.max_nodes), np.int64)
    k[:n, :n] = degree[:n, None]  # k = degree wraps to rank 0, the smallest neighbour id
    table = base.next_hops_of(k.reshape(-1))
    first = np.argmax(obs["adjacency"][:n, :n] == 1, axis=1)
    off = ~np.eye(n, dtype=bool)
    np.testing.assert_array_equal(table[off], np.broadcast_to(first[:, None], (n, n))[off])
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_last_action_is_observed(env_id):
    env = gym.make(env_id, topology="nx-XS", traffic="udp_low", episode_steps=3,
                   last_action=True)
    base = env.unwrapped
    key = "last_next_hops" if env_id == packerl.ENV_ID else "last_link_weights"
    obs, _ = env.reset(seed=1)
    assert key in obs and env.observation_space.contains(obs)
    if env_id == packerl.ENV_ID:
        assert (obs[key] == -1).all()
    else:
        np.testing.assert_array_equal(obs[key], obs["edge_mask"].astype(np.float32))
    action = env.action_space.sample()
    table = base.next_hops_of(action)
    obs, *_ = env.step(action)
    if env_id == packerl.ENV_ID:
        n = table.shape[0]
        np.testing.assert_array_equal(obs[key][:n, :n], table)
    else:
        lo, hi = base.link_weight_range
        slots = np.flatnonzero(obs["edge_mask"])
        want = lo * (hi / lo) ** ((action[slots].astype(np.float64) + 1) / 2)
        np.testing.assert_allclose(obs[key][slots], want, rtol=1e-5)
    env.close()


def test_rgb_array_render_and_record_video(tmp_path):
    env = gym.make(packerl.ENV_ID, topology="nx-XS", traffic="udp_high", episode_steps=3,
                   render_mode="rgb_array", render_destination=2)
    obs, _ = env.reset(seed=2)
    first = env.render()
    assert first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3
    env.step(eigrp_action(obs, env.unwrapped.max_nodes))
    routed = env.render()
    assert routed.shape == first.shape and not np.array_equal(routed, first)
    env.close()
    video = gym.wrappers.RecordVideo(
        gym.make(packerl.ENV_ID, topology="nx-XS", traffic="udp_low", episode_steps=3,
                 render_mode="rgb_array"), str(tmp_path), episode_trigger=lambda e: True)
    video.reset(seed=0)
    for _ in range(3):
        video.step(video.action_space.sample())
    video.close()
    assert list(tmp_path.glob("*.mp4"))


def test_scenario_of_a_synnet_topology_object():
    topo = synnet.generate(topology="geant2", traffic="udp_low", link_failures=None, steps=1,
                           seed=0).topology
    env = gym.make(packerl.ENV_ID, topology=topo, traffic="udp_low", episode_steps=2)
    assert env.unwrapped.max_degree == int(np.bincount(topo.edges.ravel()).max())
    env.close()


def test_observation_keys_follow_the_documented_order():
    from packerl.spaces import OBSERVATION_KEYS

    env = gym.make(packerl.ENV_ID, topology="nx-XS", traffic="udp_low", episode_steps=2,
                   node_features=True, last_action=True)
    obs, _ = env.reset(seed=0)
    keys = list(env.observation_space.spaces)
    assert keys == [k for k in OBSERVATION_KEYS if k in keys] == list(obs)
    assert len(keys) == len(OBSERVATION_KEYS) - 1  # one of the two last-action keys
    env.close()
