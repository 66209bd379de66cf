# SPDX-License-Identifier: GPL-2.0-only
"""Smoke test of the single-file CleanRL-style PPO example (experiments/cleanrl_ppo.py)."""

from __future__ import annotations

import csv
import math

import gymnasium as gym
import pytest
import torch

from experiments import cleanrl_ppo

TINY = ["--topology", "nx-XS", "--episode-steps", "4", "--num-envs", "2", "--num-steps", "8",
        "--total-timesteps", "32", "--seed", "3"]


@pytest.mark.parametrize(("env_id", "mode"), [("packerl/PackeRL-v0", "sync"),
                                              ("packerl/PackeRL-LinkWeights-v0", "sync"),
                                              ("packerl/PackeRL-v0", "async")])
def test_trains_through_main(env_id, mode, tmp_path, monkeypatch, capsys):
    results = []
    train = cleanrl_ppo.train
    monkeypatch.setattr(cleanrl_ppo, "train", lambda *a: results.append(train(*a)) or results[-1])
    out = tmp_path / "ppo.csv"
    argv = ["--env-id", env_id, "--out", str(out), "--vectorization-mode", mode, *TINY]
    assert cleanrl_ppo.main(argv) == 0
    assert "2 iterations, 32 steps" in capsys.readouterr().out

    rows = list(csv.DictReader(out.open()))
    assert [int(r["iteration"]) for r in rows] == [1, 2]
    assert [int(r["global_step"]) for r in rows] == [16, 32]
    for row in rows:
        for key in ("pg_loss", "v_loss", "entropy", "approx_kl", "clipfrac", "sps"):
            assert math.isfinite(float(row[key])), (key, row)
    # 4-step episodes, one autoreset step each: 3 episodes per env end within 16 steps
    assert sum(int(r["episodes"]) for r in rows) == 6
    assert math.isfinite(float(rows[-1]["mean_return"]))

    (result,) = results
    final = result.agent.state_dict()
    changed = [k for k, v in result.initial_params.items() if not torch.equal(v, final[k])]
    assert any(k.startswith("actor") for k in changed) and any(k.startswith("critic")
                                                              for k in changed)


def test_multidiscrete_policy_handles_ragged_nvec():
    space = gym.spaces.MultiDiscrete([2, 3, 5])
    agent = cleanrl_ppo.Agent(obs_dim=4, action_space=space, hidden=8)
    x = torch.randn(64, 4)
    action, logprob, entropy, value = agent.get_action_and_value(x)
    assert action.shape == (64, 3) and value.shape == (64,)
    assert all(space.contains(a) for a in cleanrl_ppo.to_env_action(action, space))
    pieces = torch.split(agent.actor(x), [2, 3, 5], dim=1)
    cats = [torch.distributions.Categorical(logits=p) for p in pieces]
    expected = sum(c.log_prob(a) for c, a in zip(cats, action.T))
    torch.testing.assert_close(logprob, expected)
    torch.testing.assert_close(entropy, sum(c.entropy() for c in cats))


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cleanrl_ppo.main(["--num-envs", "0"])
    assert exc.value.code == 2
    capsys.readouterr()
    assert cleanrl_ppo.main(["--env-id", "packerl/NoSuchEnv-v0", *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "NoSuchEnv" in err
    with pytest.raises(SystemExit) as exc:  # less than one rollout (2 x 8 steps)
        cleanrl_ppo.main([*TINY, "--total-timesteps", "8"])
    assert exc.value.code == 2
