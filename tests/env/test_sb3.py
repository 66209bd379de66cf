# SPDX-License-Identifier: GPL-2.0-only
"""stable-baselines3 / sb3-contrib run on the environment out of the box."""

from __future__ import annotations

import numpy as np
import torch

from packerl.env import PackeRLEnv
from packerl.vector import PackeRLSB3VecEnv

KW = dict(topology="nx-XS", traffic="udp_medium", episode_steps=8)


def test_maskable_ppo_learns_a_few_steps_with_masks():
    from sb3_contrib import MaskablePPO

    venv = PackeRLSB3VecEnv([lambda: PackeRLEnv(**KW)] * 2)
    model = MaskablePPO("MultiInputPolicy", venv, n_steps=8, batch_size=16, n_epochs=1,
                        seed=0, device="cpu")
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=16)
    after = list(model.policy.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(after, before))
    # masked predictions are always valid next hops
    obs = venv.reset()
    masks = venv.action_masks()
    actions, _ = model.predict(obs, action_masks=masks)
    p, d = 10, venv.envs[0].max_degree
    m = masks.reshape(2, p * p, d)
    chosen = m[np.arange(2)[:, None], np.arange(p * p)[None, :], actions]
    assert chosen.all()
    venv.step(actions)  # and the env accepts them
    venv.close()
