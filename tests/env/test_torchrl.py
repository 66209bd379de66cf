# SPDX-License-Identifier: GPL-2.0-only
"""TorchRL wraps both registered environments as they are: its spec check passes and random
rollouts run (every sampled action is a legal one)."""

from __future__ import annotations

import gymnasium
import pytest
import torch
from torchrl.envs import GymWrapper
from torchrl.envs.utils import check_env_specs

import packerl

STEPS = 4
KW = dict(topology="nx-XS", traffic="udp_low", episode_steps=STEPS)

# (env id, categorical_action_encoding): TorchRL turns the next-hop MultiDiscrete into a
# one-hot spec by default and into a categorical one on request; both must reach the env.
CASES = [
    pytest.param((packerl.ENV_ID, False), id="next-hops-onehot"),
    pytest.param((packerl.ENV_ID, True), id="next-hops-categorical"),
    pytest.param((packerl.LINK_WEIGHTS_ENV_ID, False), id="link-weights"),
]


@pytest.fixture(params=CASES)
def torchrl_env(request):
    env_id, categorical = request.param
    env = GymWrapper(gymnasium.make(env_id, **KW), device="cpu",
                     categorical_action_encoding=categorical)
    env.set_seed(0)
    yield env
    env.close()


def test_check_env_specs(torchrl_env):
    check_env_specs(torchrl_env, seed=0)


def test_random_rollout_stops_at_the_episode_end(torchrl_env):
    td = torchrl_env.rollout(STEPS + 1)  # random actions; stops when the episode is done
    assert td.batch_size == torch.Size([STEPS])
    assert td["next", "truncated"].flatten().tolist() == [False] * (STEPS - 1) + [True]
    assert not td["next", "terminated"].any()
    assert torchrl_env.action_spec.is_in(td["action"])
    obs_keys = list(torchrl_env.observation_spec.keys())
    assert torchrl_env.observation_spec.is_in(td["next"].select(*obs_keys))
    assert torch.isfinite(td["next", "reward"]).all()


def test_random_rollout_resets_across_episodes(torchrl_env):
    td = torchrl_env.rollout(STEPS + 1, break_when_any_done=False)
    assert td.batch_size == torch.Size([STEPS + 1])
    assert td["next", "done"].flatten().tolist() == [False] * (STEPS - 1) + [True, False]
