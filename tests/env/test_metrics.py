# SPDX-License-Identifier: GPL-2.0-only
"""Episode metrics as the paper defines them: ratios of episode totals and packet-weighted
delays, with the per-step means kept under their own names."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import packerl  # noqa: F401 - registers the environments
from packerl.env import episode_summary
from policies.factory import make_policy


def _step(goodput, dropped, delay, packets, fluct=0.0):
    total = goodput + dropped
    return {"goodput_mb": goodput, "dropped_mb": dropped, "avg_delay_ms": delay,
            "max_delay_ms": delay, "received_packets": packets,
            "drop_ratio": dropped / total if total else 0.0, "action_fluctuation": fluct}


def test_drop_ratio_and_delay_are_episode_totals():
    history = [_step(9.0, 1.0, 2.0, 900), _step(1.0, 1.0, 10.0, 100)]
    s = episode_summary(history)
    assert s["drop_ratio"] == pytest.approx(2.0 / 12.0)
    assert s["step_mean_drop_ratio"] == pytest.approx((0.1 + 0.5) / 2)
    assert s["avg_delay_ms"] == pytest.approx((2.0 * 900 + 10.0 * 100) / 1000)
    assert s["step_mean_avg_delay_ms"] == pytest.approx(6.0)
    assert s["total_goodput_mb"] == pytest.approx(10.0) and s["max_delay_ms"] == 10.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100), st.floats(0, 50),
                          st.integers(0, 10_000)), min_size=1, max_size=20))
def test_episode_metrics_stay_in_range(steps):
    s = episode_summary([_step(*x) for x in steps])
    assert 0.0 <= s["drop_ratio"] <= 1.0
    delays = [x[2] for x in steps if x[3] > 0]
    if delays:
        assert min(delays) - 1e-9 <= s["avg_delay_ms"] <= max(delays) + 1e-9
    else:
        assert s["avg_delay_ms"] == 0.0


def test_the_simulated_episode_summary_matches_its_steps():
    env = gym.make("packerl/PackeRL-v0", topology="nx-XS", traffic="udp_high", episode_steps=15)
    try:
        policy = make_policy("eigrp", env)
        obs, _ = env.reset(seed=4)
        steps, done = [], False
        while not done:
            obs, _, term, trunc, info = env.step(policy.act(obs))
            steps.append(info["metrics"])
            done = term or trunc
        s = info["episode_metrics"]
        received = sum(m["goodput_mb"] for m in steps)
        dropped = sum(m["dropped_mb"] for m in steps)
        assert dropped > 0  # udp_high on nx-XS drops: the ratio is not trivially 0
        assert s["drop_ratio"] == pytest.approx(dropped / (dropped + received))
        packets = np.array([m["received_packets"] for m in steps])
        delay = np.array([m["avg_delay_ms"] for m in steps])
        assert s["avg_delay_ms"] == pytest.approx(float(packets @ delay / packets.sum()))
    finally:
        env.close()
