# SPDX-License-Identifier: GPL-2.0-only
"""The trained models shipped in experiments/runs load and act on today's env ids.

They were trained before the action encodings changed (FieldLines on node ids, M-Slim on raw
weights, both with the old space classes pickled in their zips): LearnedPolicy rebuilds their
spaces from the run config and re-encodes their routing for the evaluation env's format.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import packerl
from packerl.routing import next_hops_from_weights
from packerl.spaces import graph_of
from policies.factory import make_policy

RUNS = Path(__file__).resolve().parents[2] / "experiments" / "runs"
CASES = [
    ("fieldlines__nx-XS__flex__seed0", packerl.ENV_ID, "nx-XS"),
    ("mslim__nsfnet+geant2__flex__seed0", packerl.LINK_WEIGHTS_ENV_ID, "nsfnet"),
]


@pytest.mark.parametrize(("run", "env_id", "topology"), CASES)
@pytest.mark.parametrize("kwargs", [{}, {"next_hop_encoding": "node", "link_weights": "raw"}])
def test_shipped_model_acts_in_the_env_format(run, env_id, topology, kwargs):
    env = gym.make(env_id, topology=topology, traffic="udp_medium", episode_steps=3, **kwargs)
    try:
        policy = make_policy(str(RUNS / run), env)
        obs, _ = env.reset(seed=2)
        policy.reset()
        for _ in range(3):
            action = policy.act(obs)
            assert env.action_space.contains(action)
            table = env.unwrapped.next_hops_of(action)
            if env_id == packerl.LINK_WEIGHTS_ENV_ID:  # the model's own weights, re-encoded
                n, slots, ei = graph_of(obs)
                own = policy._last[slots]
                np.testing.assert_array_equal(table, next_hops_from_weights(n, ei, own))
            else:
                np.testing.assert_array_equal(table, policy._last)
            obs, reward, *_ = env.step(action)
            assert np.isfinite(reward)
    finally:
        env.close()
