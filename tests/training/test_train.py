# SPDX-License-Identifier: GPL-2.0-only
"""Training runs end to end: checkpoints every iteration, resume, and evaluation of the model."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import packerl
from packerl.app.cli import main
from packerl.app.training import TrainConfig, train

TINY = dict(topology="nx-XS", traffic="udp_low", episode_steps=4, episodes_per_iteration=2,
            n_envs=2, n_epochs=1, batch_size=4, eval_every=1, eval_episodes=1, seed=3)


@pytest.mark.parametrize("policy", ["fieldlines", "mslim"])
def test_train_checkpoints_resumes_and_evaluates(tmp_path, policy):
    config = TrainConfig(policy=policy, iterations=2, warm_start_iterations=1,
                         out=str(tmp_path), **TINY)
    run = train(config, progress=False)
    import torch

    assert torch.get_num_threads() == config.torch_threads  # the update's threads are undone
    state = json.loads((run / "state.json").read_text())
    assert state["iteration"] == 2 and state["num_timesteps"] == 16
    assert (run / "model.zip").exists() and (run / "model_stats.pkl").exists()
    assert len((run / "eval.csv").read_text().splitlines()) == 3  # header + 2 evaluations
    (ref,) = (run / "reference").iterdir()  # EIGRP on the evaluation's episodes
    assert ref.name == "eigrp__nx-XS__udp_low__seed10000"
    assert len(list((run / "tensorboard").rglob("events.out.tfevents*"))) == 1  # one stream
    described = json.loads((run / "policy.json").read_text())
    assert (described["policy"], described["stack"]) == (policy, 4)
    assert set(described["digests"]) == {"checkpoint.zip", "model.zip"}  # provenance

    with pytest.raises(FileExistsError, match="--resume"):
        train(config, progress=False)
    more = TrainConfig(policy=policy, iterations=3, warm_start_iterations=1,
                       out=str(tmp_path), **TINY)
    train(more, resume=True, progress=False)
    state = json.loads((run / "state.json").read_text())
    assert state["iteration"] == 3 and state["num_timesteps"] == 24  # continued, not restarted

    out = tmp_path / "eval"
    status = main(["evaluate", "--policy", str(run), "--topology", "nx-XS", "--traffic",
                   "udp_low", "--episodes", "1", "--episode-steps", "4", "--workers", "1",
                   "--out", str(out), "--no-progress"])
    assert status == 0
    rows = next(out.glob("learned-*")) / "episodes.csv"
    assert len(rows.read_text().splitlines()) == 2


@pytest.mark.parametrize("normalize", [True, False])
def test_learned_policy_replays_the_training_pipeline(tmp_path, normalize):
    from packerl.env import PackeRLEnv
    from packerl.wrappers import NormalizeFeatures, load_stats
    from policies.learned import LearnedPolicy

    config = TrainConfig(policy="fieldlines", iterations=1, warm_start_iterations=0,
                         eval_every=0, out=str(tmp_path), normalize=normalize,
                         **{k: v for k, v in TINY.items() if k != "eval_every"})
    run = train(config, progress=False)
    stats = load_stats(run / "model_stats.pkl")
    assert bool(stats) == normalize  # raw features: nothing to normalise with
    from packerl.app.training import make_env

    chain, outer = [], make_env(config, {})
    wrapped = outer
    while hasattr(wrapped, "env"):
        chain.append(type(wrapped))
        wrapped = wrapped.env
    outer.close()
    assert (NormalizeFeatures in chain) == normalize
    env = PackeRLEnv(topology="nx-XS", traffic="udp_low", episode_steps=4)
    policy = LearnedPolicy.from_env(env, path=run)
    assert set(policy.stats) == set(stats)
    obs, _ = env.reset(seed=1)
    policy.reset()
    for _ in range(4):
        action = policy.act(obs)
        assert env.action_space.contains(action)
        obs, *_ = env.step(action)  # valid next hops: the env accepts them
    again = LearnedPolicy.from_env(env, path=run / "model.zip")
    obs, _ = env.reset(seed=1)
    policy.reset()
    again.reset()
    np.testing.assert_array_equal(policy.act(obs), again.act(obs))
    env.close()


def test_bad_train_arguments():
    with pytest.raises(ValueError, match="multiple of n_envs"):
        TrainConfig(episodes_per_iteration=3, n_envs=2)
    with pytest.raises(ValueError, match="unknown policy 'dqn'"):
        TrainConfig(policy="dqn")
    assert main(["train", "--policy", "fieldlines", "--traffic", "tcp_huge"]) == 2
    with pytest.raises(ValueError, match="update_threads"):
        TrainConfig(update_threads=0)
    assert TrainConfig().update_threads >= 1  # default: every core, resolved when made
    with pytest.raises(ValueError, match="holds its exploration noise"):
        TrainConfig(policy="fieldlines", noise_hold=4)
    with pytest.raises(ValueError, match="must divide `episode_steps`"):
        TrainConfig(policy="mslim", noise_hold=30)


def test_a_run_with_held_noise_keeps_holding_it_after_resume(tmp_path):
    config = TrainConfig(policy="mslim", iterations=1, noise_hold=4, out=str(tmp_path), **TINY)
    run = train(config, progress=False)
    from stable_baselines3 import PPO

    model = PPO.load(run / "checkpoint.zip", device="cpu")
    assert (model.use_sde, model.sde_sample_freq, model.policy.holds_noise) == (True, 4, True)
    assert TrainConfig.from_json(run / "config.json").noise_hold == 4


@pytest.mark.parametrize(("traffic", "evaluated_on"), [
    ("flex", "tcp_high"), ("tcp_flex", "tcp_high"), ("udp_flex", "tcp_high"),
    ("udp_low", "udp_low")])
def test_drawn_traffic_is_evaluated_on_tcp_high_by_default(traffic, evaluated_on):
    assert TrainConfig(traffic=traffic).eval_traffic == evaluated_on
    assert TrainConfig(traffic=traffic, eval_traffic="mixed_high").eval_traffic == "mixed_high"


def test_a_model_trained_on_small_graphs_runs_on_larger_ones(tmp_path):
    from packerl.env import PackeRLEnv
    from policies.learned import LearnedPolicy

    config = TrainConfig(policy="fieldlines", iterations=1, warm_start_iterations=0,
                         eval_every=0, out=str(tmp_path),
                         **{k: v for k, v in TINY.items() if k != "eval_every"})
    run = train(config, progress=False)
    env = PackeRLEnv(topology="nx-S", traffic="udp_low", episode_steps=3)
    policy = LearnedPolicy.from_env(env, path=run)
    assert env.max_nodes == 25 and policy.policy.observation_space["edge_attr"].shape[0] == 200
    obs, _ = env.reset(seed=2)
    policy.reset()
    for _ in range(3):
        obs, *_ = env.step(policy.act(obs))  # valid next hops on a 25-node padding
    env.close()


def test_train_flags_are_the_config_fields(capsys):
    from packerl.app.cli import build_parser
    from packerl.app.options import field_docs

    parser = build_parser()
    args = parser.parse_args(["train", "--policy", "mslim", "--gamma", "0.9", "--lr", "1e-4",
                              "--link-failures", "none", "--no-last-action", "--n-envs", "4"])
    assert (args.gamma, args.learning_rate, args.link_failures, args.last_action,
            args.n_envs) == (0.9, 1e-4, None, False, 4)
    config = TrainConfig(**{k: getattr(args, k) for k in args.fields})
    assert config.gamma == 0.9 and config.episodes_per_iteration == 16
    assert main(["train", "--help"]) == 0
    assert field_docs(TrainConfig)["gamma"] in capsys.readouterr().out
    for bad in (["--iterations", "2.5"], ["--lr", "fast"], ["--eval-every", "-3"],
                ["--lr", "1e308"], ["--warm-start", "-1"]):
        assert main(["train", "--policy", "fieldlines", *bad]) == 2, bad


def test_the_reference_evaluation_runs_the_periodic_evaluations_episodes(tmp_path):
    """`evaluate_reference` (the dashed line of the learning curves) must see exactly the
    scenarios the periodic evaluation of training sees."""
    from dataclasses import asdict

    from packerl.app.results import load_episodes
    from packerl.app.training import EVAL_SEED, evaluate_reference, make_env

    config = TrainConfig(policy="fieldlines", topology="nx-XS", traffic="flex",
                         episode_steps=3, eval_episodes=2, out=str(tmp_path))
    run = config.run_dir()
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(asdict(config)))
    ref = evaluate_reference(run)
    assert ref.parent == run / "reference" and ref.name.startswith("eigrp__nx-XS__tcp_high")
    rows = load_episodes(ref)
    assert [r["seed"] for r in rows] == [EVAL_SEED, EVAL_SEED + 1] and rows[0]["steps"] == 3
    train_env = make_env(config, {}, traffic=config.eval_traffic, update_stats=False)
    try:
        train_env.reset(seed=EVAL_SEED)
        seen = train_env.unwrapped.scenario
    finally:
        train_env.close()
    plain = gym.make(packerl.ENV_ID, topology="nx-XS", traffic="tcp_high", episode_steps=3)
    try:
        plain.reset(seed=EVAL_SEED)
        other = plain.unwrapped.scenario
        assert np.array_equal(other.topology.edges, seen.topology.edges)
        assert np.array_equal(other.topology.datarate_bps, seen.topology.datarate_bps)
        assert np.array_equal(other.demands, seen.demands) and len(seen.demands) > 0
    finally:
        plain.close()


def test_zero_iterations_save_the_seeded_untrained_network_as_a_control(tmp_path):
    import torch
    from stable_baselines3 import PPO

    from packerl.env import PackeRLEnv
    from packerl.wrappers import load_stats
    from policies.learned import LearnedPolicy

    def params(run):
        return PPO.load(run / "model.zip", device="cpu").policy.state_dict()

    runs = [train(TrainConfig(policy="mslim", iterations=n, out=str(tmp_path / out), **TINY),
                  progress=False) for n, out in ((0, "a"), (0, "b"), (1, "c"))]
    untrained, again, trained = (params(r) for r in runs)
    assert all(torch.equal(untrained[k], again[k]) for k in untrained)  # seeded initialisation
    assert any(not torch.equal(untrained[k], trained[k]) for k in untrained)  # nothing learned
    rows = (runs[0] / "eval.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("0,0,")  # the curve's starting level
    assert not (runs[0] / "checkpoint.zip").exists()
    stats = load_stats(runs[0] / "model_stats.pkl")
    assert all(np.all(v.mean == 0) and np.all(v.var == 1) for v in stats.values())  # identity
    env = PackeRLEnv(topology="nx-XS", traffic="udp_low", episode_steps=4,
                     action_type="link_weights")
    policy = LearnedPolicy.from_env(env, path=runs[0])
    obs, _ = env.reset(seed=1)
    policy.reset()
    assert env.action_space.contains(policy.act(obs))
    env.close()
    with pytest.raises(ValueError, match="`iterations` must be >= 0"):
        TrainConfig(iterations=-1)
