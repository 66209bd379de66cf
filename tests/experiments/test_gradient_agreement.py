# SPDX-License-Identifier: GPL-2.0-only
"""experiments/gradient_agreement.py: the agreement measures, the nulls' permutations, the
sample order it assumes of SB3's buffer, and usage errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.gradient_agreement import (
    _collect, cosines, episode_gradients, episode_gradients_of, main, mean_share, pair_units,
    paired_advantages, returns_to_go, seed_pairs, shuffled_within, signal_and_noise,
    time_in_episode)


def test_cosines_and_mean_share_of_known_vectors():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 2.0])
    assert cosines([a, 3 * a, -a, b]) == pytest.approx([1, -1, 0, -1, 0, 0])
    assert cosines([a, np.zeros(2)]) == [0.0]
    assert mean_share([a, a, a]) == pytest.approx(1.0)
    assert mean_share(list(np.eye(4))) == pytest.approx(1 / 4)  # orthogonal, equal size
    assert mean_share([a, -a]) == pytest.approx(0.0)


def test_signal_share_is_one_for_a_common_gradient_and_near_zero_for_noise():
    rng = np.random.default_rng(0)
    common = np.tile(rng.normal(size=50), (40, 1))
    assert signal_and_noise(common, rng)["share"] == pytest.approx(1.0)
    noise = signal_and_noise(rng.normal(size=(40, 50)), rng, resamples=500)
    assert noise["share_ci_low"] < 0 < noise["share_ci_high"] and abs(noise["share"]) < 0.05
    # signal with noise 9x its size per episode: share 1/10, 9 episodes for signal = noise
    mixed = rng.normal(size=50) + rng.normal(size=(4000, 50)) * 3
    r = signal_and_noise(mixed / 1.0, rng, resamples=20)
    assert r["share"] == pytest.approx(0.1, abs=0.02)
    assert r["episodes_for_equal_signal"] == pytest.approx(9, rel=0.25)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=60), st.integers(0, 2**32 - 1))
def test_shuffling_within_groups_is_a_permutation_that_keeps_every_group(groups, seed):
    groups = np.array(groups)
    order = shuffled_within(groups, np.random.default_rng(seed))
    assert sorted(order) == list(range(groups.size))
    assert np.array_equal(groups[order], groups)


def test_episode_gradients_follow_the_buffer_order_and_sum_to_the_batch_gradient():
    import torch

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
    steps = time_in_episode(model, config.episode_steps)
    grads = episode_gradients(model, config.episode_steps)
    buffer = model.rollout_buffer  # flattened now: the order assumed
    starts = buffer.swap_and_flatten(buffer.episode_starts).reshape(-1)
    assert np.array_equal(steps == 0, starts == 1)
    n_params = sum(p.numel() for p in model.policy.actor.parameters())
    assert grads.shape == (config.episodes_per_iteration, n_params)
    assert np.isfinite(grads).all() and (np.linalg.norm(grads, axis=1) > 0).all()
    # the rows sum to the batch gradient of PPO's policy loss at ratio 1
    data = buffer._get_samples(np.arange(steps.size))
    adv = data.advantages
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    _, log_prob, _ = model.policy.evaluate_actions(data.observations, data.actions)
    params = list(model.policy.actor.parameters())
    batch = torch.autograd.grad(-(adv * log_prob).mean(), params, allow_unused=True)
    batch = torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                       for p, g in zip(params, batch)]).double().numpy()
    np.testing.assert_allclose(grads.sum(axis=0), batch, rtol=1e-4, atol=1e-7)
    assert np.array_equal(episode_gradients(model, config.episode_steps,
                                            np.arange(steps.size)), grads)
    # advantages tied to other actions give other gradients
    reverse = np.arange(steps.size)[::-1]
    reversed_grads = episode_gradients(model, config.episode_steps, reverse)
    assert not np.allclose(reversed_grads, grads)
    # several weightings in one pass give each weighting's own gradients
    both = episode_gradients_of(model, config.episode_steps,
                                {"real": (None, None), "reversed": (reverse, None)})
    np.testing.assert_allclose(both["real"], grads, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(both["reversed"], reversed_grads, rtol=1e-6, atol=1e-12)


def test_returns_to_go_restart_at_every_episode():
    rewards = np.array([[1.0], [2.0], [3.0], [4.0]])
    np.testing.assert_allclose(returns_to_go(rewards, 0.5, 2)[:, 0], [2.0, 2.0, 5.0, 4.0])
    np.testing.assert_allclose(returns_to_go(rewards, 1.0, 4)[:, 0], [10, 9, 7, 4])


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_paired_advantages_cancel_what_both_partners_share(pairs, episodes, steps, seed):
    rng = np.random.default_rng(seed)
    n_steps, n_envs = episodes * steps, 2 * pairs
    own = rng.normal(size=(n_steps, n_envs))
    shared = np.repeat(rng.normal(size=(n_steps, pairs)) * 100, 2, axis=1)  # the scenario's
    adv = paired_advantages(own + shared, 0.9, steps)
    np.testing.assert_allclose(adv, paired_advantages(own, 0.9, steps), atol=1e-9)
    per_env = adv.reshape(n_envs, n_steps)  # SB3's buffer order: env-major
    np.testing.assert_allclose(per_env[0::2], -per_env[1::2])
    g = returns_to_go(own, 0.9, steps)
    np.testing.assert_allclose(per_env[0], (g[:, 0] - g[:, 1]) / 2)
    with pytest.raises(ValueError, match="even number of environments"):
        paired_advantages(own[:, :1], 0.9, steps)


def test_pair_units_add_the_partners_episodes():
    rows = np.arange(4 * 3 * 2, dtype=float).reshape(12, 2)  # 4 envs x 3 episodes, env-major
    units = pair_units(rows, 4)
    assert units.shape == (6, 2)
    np.testing.assert_array_equal(units[0], rows[0] + rows[3])  # env 0 ep 0 + env 1 ep 0
    np.testing.assert_array_equal(units[5], rows[2 * 3 + 2] + rows[3 * 3 + 2])  # envs 2, 3: ep 2
    np.testing.assert_array_equal(units.sum(axis=0), rows.sum(axis=0))


def test_seeded_pairs_see_the_same_scenarios_episode_after_episode():
    from packerl.app.training import TrainConfig, make_env
    from packerl.vector import PackeRLSB3VecEnv
    from stable_baselines3.common.vec_env import VecMonitor

    config = TrainConfig(policy="mslim", topology="nx-XS", traffic="flex", episode_steps=3,
                         n_envs=4, episodes_per_iteration=4, eval_every=0)
    stats: dict = {}  # not updated: shared running statistics would tell the partners apart
    venv = VecMonitor(PackeRLSB3VecEnv([lambda: make_env(config, stats, update_stats=False)]
                                       * 4))
    seed_pairs(venv, 5)
    try:
        firsts = [venv.reset()]
        for _ in range(2 * config.episode_steps):
            obs, _, dones, _ = venv.step(np.stack([venv.action_space.sample()
                                                    for _ in range(4)]))
            if dones.all():
                firsts.append(obs)
    finally:
        venv.close()
    assert len(firsts) == 3
    for obs in firsts:
        for key, value in obs.items():
            assert np.array_equal(value[0], value[1]) and np.array_equal(value[2], value[3]), key
        assert not all(np.array_equal(v[0], v[2]) for v in obs.values())


def test_bad_usage_exits_2_with_one_line(capsys, tmp_path):
    assert main(["--batches", "1"]) == 2
    assert "--batches must be >= 2" in capsys.readouterr().err
    assert main(["--traffic", "nope"]) == 2
    assert "unknown traffic preset(s) ['nope']" in capsys.readouterr().err
    assert main(["--run", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no checkpoint.zip" in err and len(err.strip().splitlines()) == 1
    assert main(["--paired", "--n-envs", "3"]) == 2
    assert "--paired needs an even --n-envs" in capsys.readouterr().err
