# SPDX-License-Identifier: GPL-2.0-only
"""Vector envs give the same results as single envs; wrappers stack and normalise."""

from __future__ import annotations

import os
import re
import signal

import gymnasium as gym
import numpy as np
import pytest

from packerl.env import PackeRLEnv
from packerl.error import NoStepPending, SimulatorCrashed, SimulatorError, StepAlreadyPending
from packerl.vector import PackeRLSB3VecEnv, PackeRLVectorEnv
from packerl.wrappers import NormalizeFeatures, StackFeatures, paper_wrappers

from .conftest import eigrp_action

KW = dict(topology="nx-XS", traffic="mixed_medium", episode_steps=4)


def single_rollouts(seeds, steps):
    out = []
    for s in seeds:
        env = PackeRLEnv(**KW)
        obs, _ = env.reset(seed=s)
        rewards = []
        for _ in range(steps):
            obs, r, *_ = env.step(eigrp_action(obs, env.max_nodes))
            rewards.append(r)
        out.append((rewards, obs))
        env.close()
    return out


def test_vector_env_matches_single_envs():
    venv = PackeRLVectorEnv([lambda: PackeRLEnv(**KW)] * 2)
    obs, _ = venv.reset(seed=[10, 11])
    rewards = []
    for _ in range(4):
        actions = np.stack([eigrp_action({k: v[i] for k, v in obs.items()}, 10)
                            for i in range(2)])
        obs, r, term, trunc, info = venv.step(actions)
        rewards.append(r.copy())
    assert trunc.all()
    expected = single_rollouts([10, 11], 4)
    for i in range(2):
        assert [r[i] for r in rewards] == expected[i][0]
        np.testing.assert_array_equal(obs["edge_attr"][i], expected[i][1]["edge_attr"])
    # next step autoresets (NEXT_STEP mode): reward 0, new episode
    obs, r, term, trunc, info = venv.step(actions)
    assert (r == 0).all() and not trunc.any()
    venv.close()


def test_vector_env_refuses_bad_actions_before_sending():
    venv = PackeRLVectorEnv([lambda: PackeRLEnv(**KW)] * 2)
    obs, _ = venv.reset(seed=1)
    actions = np.zeros((2, 100), np.int64)
    actions[1, 5] = 10 ** 6  # outside the space
    with pytest.raises(ValueError, match="environment 1: next-hop action .* outside the space"):
        venv.step(actions)
    good = np.stack([eigrp_action({k: v[i] for k, v in obs.items()}, 10) for i in range(2)])
    venv.step(good)  # nothing was left half-way
    venv.close()


def test_sb3_vec_env_resets_with_terminal_observation():
    venv = PackeRLSB3VecEnv([lambda: PackeRLEnv(**KW)] * 2)
    venv.seed(5)
    obs = venv.reset()
    for _ in range(4):
        actions = np.stack([eigrp_action({k: v[i] for k, v in obs.items()}, 10)
                            for i in range(2)])
        obs, rewards, dones, infos = venv.step(actions)
    assert dones.all()
    assert all(i["TimeLimit.truncated"] and "terminal_observation" in i for i in infos)
    venv.close()


def test_stack_features_zero_pads_then_rolls():
    env = StackFeatures(PackeRLEnv(**KW), k=3)
    obs, _ = env.reset(seed=2)
    d = 9
    assert obs["global"].shape == (3 * d,)
    assert not obs["global"][: 2 * d].any()  # two empty frames before the first
    first = obs["global"][2 * d:].copy()
    obs, *_ = env.step(eigrp_action(obs, 10))
    np.testing.assert_array_equal(obs["global"][d:2 * d], first)
    assert env.observation_space.contains(obs)
    env.close()


def test_normalize_features_ignores_padding():
    env = NormalizeFeatures(PackeRLEnv(**KW))
    obs, _ = env.reset(seed=3)
    for _ in range(3):
        obs, *_ = env.step(env.action_space.sample())  # features are normalised: no EIGRP
    mask = obs["edge_mask"].astype(bool)
    assert not obs["edge_attr"][~mask].any()
    rms = env.stats["edge_attr"]
    assert rms.count > 3  # rows of real edges, not one per observation
    datarate = rms.mean[4]
    assert 50e6 <= datarate <= 200e6  # padding zeros would drag this down
    env.close()


def test_vector_env_with_paper_wrappers():
    venv = PackeRLVectorEnv([lambda: paper_wrappers(PackeRLEnv(**KW))] * 2)
    obs, _ = venv.reset(seed=0)
    assert obs["edge_attr"].shape == (2, 80, 40)
    venv.close()


def test_an_ended_episode_is_refused_before_any_step_is_sent():
    from packerl.vector import step_concurrently

    first = PackeRLEnv(**{**KW, "episode_steps": 3})
    ended = PackeRLEnv(**{**KW, "episode_steps": 1})
    obs0, _ = first.reset(seed=1)
    obs1, _ = ended.reset(seed=2)
    ended.step(eigrp_action(obs1, 10))  # its episode is over
    with pytest.raises(gym.error.ResetNeeded, match="environment 1: call reset"):
        step_concurrently([first, ended], [eigrp_action(obs0, 10), eigrp_action(obs1, 10)])
    assert not first._sim._pending  # nothing was sent
    assert first.step(eigrp_action(obs0, 10))[0] is not None  # `first` is untouched
    first.close()
    ended.close()


def _two_reset_envs() -> tuple[list[PackeRLEnv], list[dict]]:
    """Two 3-step envs, reset with seeds 1 and 2, and their first observations."""
    envs = [PackeRLEnv(**{**KW, "episode_steps": 3}) for _ in range(2)]
    return envs, [env.reset(seed=seed)[0] for env, seed in zip(envs, (1, 2))]


def test_a_send_failing_part_way_leaves_no_step_in_flight():
    from packerl.vector import step_concurrently

    (first, broken), (obs0, obs1) = _two_reset_envs()
    broken._sim.close()  # its simulator is gone: the action is valid, the send fails
    with pytest.raises(SimulatorError, match=r"call reset\(\) first") as info:
        step_concurrently([first, broken], [eigrp_action(obs0, 10), eigrp_action(obs1, 10)])
    assert any("raised by environment 1" in note for note in info.value.__notes__)
    assert not first._sim._pending  # the step sent to `first` was waited for
    with pytest.raises(gym.error.ResetNeeded):
        first.step(eigrp_action(obs0, 10))  # and it says it needs a reset
    first.reset(seed=1)
    broken.reset(seed=2)
    first.close()
    broken.close()


def test_a_wait_failing_part_way_still_waits_for_the_others():
    from packerl.vector import step_concurrently

    (crashed, other), (obs0, obs1) = _two_reset_envs()
    os.kill(crashed._sim.pid, signal.SIGKILL)  # the send succeeds, the answer never comes
    with pytest.raises(SimulatorCrashed, match="killed by signal SIGKILL") as info:
        step_concurrently([crashed, other], [eigrp_action(obs0, 10), eigrp_action(obs1, 10)])
    assert any("raised by environment 0" in note for note in info.value.__notes__)
    assert not other._sim._pending  # waited for although environment 0 failed first
    for env, obs in ((crashed, obs0), (other, obs1)):
        with pytest.raises(gym.error.ResetNeeded):
            env.step(eigrp_action(obs, 10))
        fresh, _ = env.reset(seed=3)
        env.step(eigrp_action(fresh, 10))
        env.close()


def test_sb3_vec_env_refuses_steps_out_of_order():
    venv = PackeRLSB3VecEnv([lambda: PackeRLEnv(**KW)] * 2)
    obs = venv.reset()
    with pytest.raises(NoStepPending, match=re.escape("call step_async() first")):
        venv.step_wait()
    actions = np.stack([eigrp_action({k: v[i] for k, v in obs.items()}, 10) for i in range(2)])
    venv.step_async(actions)
    with pytest.raises(StepAlreadyPending, match=re.escape("call step_wait() before")):
        venv.step_async(actions)
    venv.step_wait()
    bad = actions.copy()
    bad[1, 5] = 10 ** 6
    venv.step_async(bad)
    with pytest.raises(ValueError, match="environment 1"):
        venv.step_wait()
    venv.step(actions)  # the refused actions were consumed: no step is left pending
    venv.close()


def test_sb3_vec_env_uses_reset_options_once():
    import synnet

    scenario = synnet.generate(topology="nx-XS", traffic="udp_low", link_failures=None,
                               steps=4, seed=11)
    venv = PackeRLSB3VecEnv([lambda: PackeRLEnv(**KW)] * 2)
    venv.set_options({"scenario": scenario})  # SB3 deep-copies options: compare seeds
    venv.reset()
    assert all(env.scenario.seed == scenario.seed for env in venv.envs)
    venv.reset()
    assert not any(env.scenario.seed == scenario.seed for env in venv.envs)
    venv.close()


def test_sb3_vec_env_seeds_each_environment_by_its_own_seed():
    venv = PackeRLSB3VecEnv([lambda: PackeRLEnv(**KW)] * 3)
    try:
        with pytest.raises(ValueError, match="one seed per environment"):
            venv.seed_each([1, 2])
        venv.seed_each([7, 7, 8])
        venv.reset()
        first, same, other = (env.scenario.seed for env in venv.envs)
        assert first == same != other
        venv.reset()  # seeded once (as SB3's seed()): new scenarios, still pairwise equal
        again = [env.scenario.seed for env in venv.envs]
        assert again[0] == again[1] and not {first, other} & set(again)
    finally:
        venv.close()
