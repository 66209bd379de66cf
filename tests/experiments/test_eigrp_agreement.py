# SPDX-License-Identifier: GPL-2.0-only
"""experiments/eigrp_agreement.py: a policy's next-hop agreement with EIGRP's tables."""

from __future__ import annotations

from experiments.eigrp_agreement import agreement


def test_eigrp_agrees_with_itself_and_random_next_hops_do_not():
    same = agreement("eigrp", "nx-XS", "udp_low", episodes=1, seed=3, episode_steps=3)
    assert same["steps"] == 3
    assert same["eigrp"] == {"mean": 1.0, "min": 1.0, "identical_steps": 1.0}
    rand = agreement("random_nh", "nx-XS", "udp_low", episodes=2, seed=3, episode_steps=3)
    assert rand["steps"] == 6
    assert rand["eigrp"]["mean"] < 0.9 and rand["eigrp"]["identical_steps"] == 0.0
    assert 0.0 <= rand["eigrp_paper"]["min"] <= rand["eigrp_paper"]["mean"] < 1.0


def test_a_link_weight_model_is_compared_in_its_own_env_variant():
    from pathlib import Path

    run = (Path(__file__).parents[2] / "experiments" / "results" / "sweeps" / "repro_train"
           / "trials" / "mslim__nsfnet+geant2__flex__seed0" / "train"
           / "mslim__nsfnet+geant2__flex__seed0")
    out = agreement(str(run), "nx-XS", "udp_low", episodes=1, seed=3, episode_steps=2)
    assert out["steps"] == 2 and 0.0 <= out["eigrp"]["mean"] <= 1.0
