# SPDX-License-Identifier: GPL-2.0-only
"""experiments/gradient_agreement.py: the agreement measures, the nulls' permutations, the
sample order it assumes of SB3's buffer, and usage errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.gradient_agreement import (
    _collect, cosines, main, mean_share, ordered_batch, policy_gradient, shuffled_within,
    time_in_episode)


def test_cosines_and_mean_share_of_known_vectors():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 2.0])
    assert cosines([a, 3 * a, -a, b]) == pytest.approx([1, -1, 0, -1, 0, 0])
    assert cosines([a, np.zeros(2)]) == [0.0]
    assert mean_share([a, a, a]) == pytest.approx(1.0)
    assert mean_share(list(np.eye(4))) == pytest.approx(1 / 4)  # orthogonal, equal size
    assert mean_share([a, -a]) == pytest.approx(0.0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=60), st.integers(0, 2**32 - 1))
def test_shuffling_within_groups_is_a_permutation_that_keeps_every_group(groups, seed):
    groups = np.array(groups)
    order = shuffled_within(groups, np.random.default_rng(seed))
    assert sorted(order) == list(range(groups.size))
    assert np.array_equal(groups[order], groups)


def test_batches_follow_the_buffer_order_and_a_batch_gives_one_gradient():
    from packerl.app.training import TrainConfig, make_env, new_model
    from packerl.vector import PackeRLSB3VecEnv
    from stable_baselines3.common.vec_env import VecMonitor

    config = TrainConfig(policy="mslim", topology="nx-XS", traffic="tcp_high", episode_steps=5,
                         episodes_per_iteration=4, n_envs=2, batch_size=20, eval_every=0)
    stats: dict = {}
    venv = VecMonitor(PackeRLSB3VecEnv([lambda: make_env(config, stats)] * config.n_envs))
    venv.seed(1)
    model = new_model(config, venv)
    try:
        row = _collect(model)
    finally:
        venv.close()
    assert row["episodes"] == config.episodes_per_iteration
    data = ordered_batch(model)
    steps = time_in_episode(model, config.episode_steps)
    starts = model.rollout_buffer.swap_and_flatten(model.rollout_buffer.episode_starts)
    assert np.array_equal(steps == 0, starts.reshape(-1) == 1)  # the order assumed
    grad = policy_gradient(model, data)
    assert grad.shape == (sum(p.numel() for p in model.policy.actor.parameters()),)
    assert np.isfinite(grad).all() and np.linalg.norm(grad) > 0
    assert np.array_equal(policy_gradient(model, data, np.arange(steps.size)), grad)
    # advantages tied to other actions give another gradient
    assert not np.allclose(policy_gradient(model, data, np.arange(steps.size)[::-1]), grad)


def test_bad_usage_exits_2_with_one_line(capsys, tmp_path):
    assert main(["--batches", "1"]) == 2
    assert "--batches must be >= 2" in capsys.readouterr().err
    assert main(["--traffic", "nope"]) == 2
    assert "unknown traffic preset(s) ['nope']" in capsys.readouterr().err
    assert main(["--run", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no checkpoint.zip" in err and len(err.strip().splitlines()) == 1
