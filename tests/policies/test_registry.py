# SPDX-License-Identifier: GPL-2.0-only
"""One registry: every reader (CLI, training, evaluation, sweeps, reports) takes its policy
facts from it, and trained runs describe themselves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gymnasium as gym
import pytest

from packerl.app.cli import build_parser
from packerl.app.training import TrainConfig
from policies import registry
from policies.base import Policy
from policies.factory import make_policy
from policies.registry import REGISTRY, PolicyEntry, display_rank, entry, names, register
from policies.runs import RUN_FILE, load_run

RUNS = Path(__file__).resolve().parents[2] / "experiments" / "runs"


def test_every_entry_loads_a_class_of_its_kind():
    for e in REGISTRY:
        cls = e.load()
        if e.learned:
            from stable_baselines3.common.policies import ActorCriticPolicy

            assert issubclass(cls, ActorCriticPolicy) and e.learning_rate > 0
        else:
            assert issubclass(cls, Policy) and cls.name == e.name
            assert e.action_type == cls.supported_action_types[0]


def test_training_defaults_come_from_the_registry():
    for name in names("learned"):
        config = TrainConfig(policy=name)
        e = entry(name)
        assert (config.learning_rate, config.warm_start_iterations) == (e.learning_rate,
                                                                         e.warm_start)
        assert config.action_type == e.action_type
        assert config.last_action is e.observes_last_action
        assert config.env_kwargs() == {**e.train_env_kwargs, "last_action": e.observes_last_action}


def test_cli_train_choices_are_the_learned_policies():
    parser = build_parser()
    args = parser.parse_args(["train", "--policy", names("learned")[0]])
    assert args.policy == names("learned")[0]
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--policy", "eigrp"])


def test_tables_order_policies_as_the_registry():
    shuffled = sorted(names(), reverse=True) + ["runs/mine"]
    assert sorted(shuffled, key=display_rank) == [*names(), "runs/mine"]


def test_a_registered_policy_is_usable_by_name(monkeypatch):
    monkeypatch.setattr(registry, "REGISTRY", list(REGISTRY))
    register(PolicyEntry("eigrp2", "EIGRP (copy)", "policies.baselines:EIGRP", "baseline",
                         "next_hop"))
    with pytest.raises(ValueError, match="already registered"):
        register(PolicyEntry("eigrp2", "x", "policies.baselines:EIGRP", "baseline", "next_hop"))
    env = gym.make("packerl/PackeRL-v0", topology="nx-XS", traffic="udp_low", episode_steps=2)
    try:
        policy = make_policy("eigrp2", env)
        assert registry.policy_label("eigrp2") == "EIGRP (copy)"
        obs, _ = env.reset(seed=1)
        assert env.action_space.contains(policy.act(obs))
    finally:
        env.close()


def test_a_run_without_its_description_is_described_from_its_config(tmp_path):
    run = tmp_path / "fieldlines-old"
    shutil.copytree(RUNS / "fieldlines__nx-XS__flex__seed0", run,
                    ignore=shutil.ignore_patterns("tensorboard", "checkpoint*"))
    described = load_run(run)
    (run / RUN_FILE).unlink()
    legacy = load_run(run)
    assert legacy == TrainedRunLike(described, run)
    assert legacy.action_format.next_hop_encoding == "node" and legacy.stack == 4


def TrainedRunLike(run, where):  # noqa: N802 - the same run, found at another path
    from dataclasses import replace

    return replace(run, model=where / run.model.name, stats=where / run.stats.name)


def test_a_broken_run_directory_says_what_is_missing(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(ValueError, match="no trained model"):
        load_run(run)
    shutil.copy(RUNS / "mslim__nsfnet+geant2__flex__seed0" / "model.zip", run)
    with pytest.raises(ValueError, match="neither policy.json nor config.json"):
        load_run(run)
    (run / RUN_FILE).write_text(json.dumps({"format": 99}))
    with pytest.raises(ValueError, match="format 99"):
        load_run(run)
    shutil.copy(RUNS / "mslim__nsfnet+geant2__flex__seed0" / RUN_FILE, run)
    with pytest.raises(ValueError, match="model_stats.pkl` is missing"):
        load_run(run)


@pytest.mark.parametrize("victim", ["model.zip", "model_stats.pkl"])
def test_a_tampered_model_or_statistics_file_is_refused(tmp_path, victim):
    from policies.runs import TamperedRunError

    run = tmp_path / "run"
    shutil.copytree(RUNS / "fieldlines__nx-XS__flex__seed0", run,
                    ignore=shutil.ignore_patterns("tensorboard"))
    assert load_run(run).model == run / "model.zip"  # an intact copy verifies
    data = bytearray((run / victim).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (run / victim).write_bytes(bytes(data))
    with pytest.raises(TamperedRunError, match=f"{victim}` does not match the SHA-256"):
        load_run(run)
