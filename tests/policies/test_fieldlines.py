# SPDX-License-Identifier: GPL-2.0-only
"""FieldLines on real nx-XS observations: valid next hops only, log-probabilities against a
direct computation, temperature and argmax, warm start = EIGRP, the APSP cache, SB3 PPO
training and save/load."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from packerl.env import PackeRLEnv
from packerl.routing import eigrp_weights, next_hops_from_weights
from packerl.spaces import encode_next_hops, graph_of
from packerl.wrappers import paper_wrappers
from policies.fieldlines import DistanceCache, FieldLinesDistribution, FieldLinesPolicy

KW = {"topology": "nx-XS", "traffic": "udp_low", "episode_steps": 8,
      "next_hop_encoding": "node"}  # FieldLines acts in node ids


@pytest.fixture(scope="module")
def env_obs():
    """A wrapped nx-XS env (stacked + normalised) and observations of two steps."""
    env = paper_wrappers(PackeRLEnv(**KW))
    obs, _ = env.reset(seed=3)
    mask = env.unwrapped.action_masks()
    from tests.env.conftest import eigrp_action

    obs2, *_ = env.step(eigrp_action(obs, env.unwrapped.max_nodes, "node"))
    yield env, obs, obs2, mask
    env.close()


def make_policy(env, seed: int = 0, **kw) -> FieldLinesPolicy:
    torch.manual_seed(seed)
    return FieldLinesPolicy(env.observation_space, env.action_space, lambda _: 5e-5, **kw)


def batched(*observations) -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(np.stack([o[k] for o in observations]))
            for k in observations[0]}


def real_entries(obs) -> np.ndarray:
    """(P, P) bool: real (u, z) entries with u != z."""
    p = obs["node_mask"].shape[0]
    n = int(obs["node_mask"].sum())
    real = np.zeros((p, p), bool)
    real[:n, :n] = True
    np.fill_diagonal(real, False)
    return real


def assert_valid(actions: np.ndarray, obs, mask: np.ndarray) -> None:
    p = obs["node_mask"].shape[0]
    m = mask.reshape(p * p, p)
    for a in np.atleast_2d(actions):
        assert m[np.arange(p * p), a].all()
        assert (a.reshape(p, p)[~real_entries(obs)] == 0).all()


def manual_log_softmax(ratings: np.ndarray, ei: np.ndarray, n: int, tau: float) -> dict:
    """{(u, z): {neighbour: log-prob}} straight from the ratings (reference)."""
    out = {}
    for u in range(n):
        out_edges = np.flatnonzero(ei[0] == u)
        for z in range(n):
            if z == u or not len(out_edges):
                continue
            logits = ratings[out_edges, z] / tau
            lse = np.log(np.exp(logits - logits.max()).sum()) + logits.max()
            out[(u, z)] = {int(ei[1, e]): float(logits[i] - lse)
                           for i, e in enumerate(out_edges)}
    return out


# ------------------------------------------------------------------------- validity


def test_sampled_actions_are_always_valid_next_hops(env_obs):
    env, obs, obs2, mask = env_obs
    policy = make_policy(env)
    with torch.no_grad():
        for o in (obs, obs2):
            actions, _, _ = policy(batched(*[o] * 100))
            assert_valid(actions.numpy(), o, mask)
            # with 100 samples at temperature 4 several neighbours get picked
            assert len({tuple(a) for a in actions.numpy()}) > 1


def test_failed_links_are_never_selected(env_obs):
    env, obs, _, _ = env_obs
    obs = {k: v.copy() for k, v in obs.items()}
    slots = np.flatnonzero(obs["edge_mask"])
    # fail the undirected link in slots (2i, 2i+1) of a node with at least 2 neighbours
    degree = np.bincount(obs["edge_index"][0, slots])
    i = next(s // 2 for s in slots if s % 2 == 0 and
             degree[obs["edge_index"][0, s]] > 1 and degree[obs["edge_index"][1, s]] > 1)
    u, v = obs["edge_index"][:, 2 * i]
    obs["edge_mask"][[2 * i, 2 * i + 1]] = 0
    obs["adjacency"][u, v] = obs["adjacency"][v, u] = 0
    from packerl.spaces import next_hop_action_mask

    mask = next_hop_action_mask(obs["adjacency"], int(obs["node_mask"].sum()), "node")
    policy = make_policy(env)
    with torch.no_grad():
        actions, _, _ = policy(batched(*[obs] * 200))
    assert_valid(actions.numpy(), obs, mask)
    p = obs["node_mask"].shape[0]
    assert not (actions.numpy().reshape(-1, p, p)[:, u, :] == v).any()


# ---------------------------------------------------------- probabilities and modes


def test_log_prob_and_entropy_match_a_direct_computation(env_obs):
    env, obs, _, _ = env_obs
    policy = make_policy(env)
    t = batched(obs)
    with torch.no_grad():
        ratings, _g = policy.ratings(t)
        actions, _, log_prob = policy(t)
        _, lp2, entropy = policy.evaluate_actions(t, actions.float())  # buffer dtype
    n, _, ei = graph_of(obs)
    ref = manual_log_softmax(ratings.numpy(), ei, n, tau=4.0)
    p = obs["node_mask"].shape[0]
    a = actions[0].numpy().reshape(p, p)
    expected_lp = sum(ref[(u, z)][int(a[u, z])] for (u, z) in ref)
    expected_ent = -sum(sum(math.exp(x) * x for x in d.values()) for d in ref.values())
    assert log_prob.item() == pytest.approx(expected_lp, rel=1e-4)
    assert lp2.item() == pytest.approx(expected_lp, rel=1e-4)
    assert entropy.item() == pytest.approx(expected_ent, rel=1e-4)


def test_ignored_entries_do_not_change_the_log_prob(env_obs):
    env, obs, _, _ = env_obs
    policy = make_policy(env)
    t = batched(obs)
    with torch.no_grad():
        actions, _, log_prob = policy(t)
        changed = actions.clone()
        changed[0, torch.as_tensor(~real_entries(obs).reshape(-1))] = 3
        _, lp, _ = policy.evaluate_actions(t, changed)
        # a real entry changed to another neighbour does change it
        u = 0
        z = 1
        p = obs["node_mask"].shape[0]
        neighbours = np.flatnonzero(obs["adjacency"][u])
        other = actions.clone()
        other[0, u * p + z] = int(next(x for x in neighbours if x != actions[0, u * p + z]))
        _, lp_other, _ = policy.evaluate_actions(t, other)
    assert lp.item() == pytest.approx(log_prob.item(), abs=1e-5)
    assert lp_other.item() != pytest.approx(log_prob.item(), abs=1e-5)


def test_low_temperature_sampling_and_deterministic_predict_equal_the_argmax(env_obs):
    env, obs, obs2, _ = env_obs
    policy = make_policy(env)
    with torch.no_grad():
        policy.log_temperature.fill_(math.log(1e-6))
        t = batched(obs, obs2)
        ratings, _g = policy.ratings(t)
        sampled, _, _ = policy(t)
        mode, _, _ = policy(t, deterministic=True)
    predicted, _ = policy.predict({k: np.stack([obs[k], obs2[k]]) for k in obs},
                                  deterministic=True)
    e0 = int(obs["edge_mask"].sum())
    for b, o in enumerate((obs, obs2)):
        n, _, ei = graph_of(o)
        r = ratings.numpy()[:e0] if b == 0 else ratings.numpy()[e0:]
        p = o["node_mask"].shape[0]
        expected = np.zeros((p, p), np.int64)
        for u in range(n):
            out_edges = np.flatnonzero(ei[0] == u)
            for z in range(n):
                if z != u:
                    expected[u, z] = ei[1, out_edges[np.argmax(r[out_edges, z])]]
        assert (sampled[b].numpy() == expected.reshape(-1)).all()
        assert (mode[b].numpy() == expected.reshape(-1)).all()
        assert (predicted[b] == expected.reshape(-1)).all()


def test_temperature_is_learnable_and_starts_at_four(env_obs):
    env, *_ = env_obs
    policy = make_policy(env, init_temperature=4.0)
    assert policy.temperature.item() == pytest.approx(4.0)
    assert any(p is policy.log_temperature for p in policy.parameters())
    assert any(policy.log_temperature is p for group in policy.optimizer.param_groups
               for p in group["params"])


def test_batch_of_two_equals_the_observations_separately(env_obs):
    env, obs, obs2, _ = env_obs
    policy = make_policy(env)
    with torch.no_grad():
        actions, values, lp = policy(batched(obs, obs2), deterministic=True)
        for b, o in enumerate((obs, obs2)):
            a, v, l_ = policy(batched(o), deterministic=True)
            assert torch.equal(a[0], actions[b])
            assert v.item() == pytest.approx(values[b].item(), abs=1e-5)
            assert l_.item() == pytest.approx(lp[b].item(), rel=1e-5)


def test_relabelling_nodes_permutes_the_deterministic_action(env_obs):
    """FieldLines is permutation equivariant: relabel the nodes, get the relabelled routing
    (ties aside, which random ratings do not produce)."""
    env, obs, _, _ = env_obs
    n = int(obs["node_mask"].sum())
    p = obs["node_mask"].shape[0]
    rng = np.random.default_rng(0)
    perm = np.arange(p)
    perm[:n] = rng.permutation(n)  # old id i -> new id perm[i]
    relabelled = {k: v.copy() for k, v in obs.items()}
    relabelled["edge_index"] = perm[obs["edge_index"]]
    adj = np.zeros_like(obs["adjacency"])
    adj[perm[:, None], perm[None, :]] = obs["adjacency"]
    relabelled["adjacency"] = adj
    policy = make_policy(env)
    with torch.no_grad():
        a, *_ = policy(batched(obs), deterministic=True)
        b, *_ = policy(batched(relabelled), deterministic=True)
    a = a[0].numpy().reshape(p, p)[:n, :n]
    b = b[0].numpy().reshape(p, p)
    for u in range(n):
        for z in range(n):
            if u != z:
                assert b[perm[u], perm[z]] == perm[a[u, z]]


# ---------------------------------------------------------------------- warm start


def test_warm_start_executes_eigrp_with_the_policy_log_probs(env_obs):
    env, obs, obs2, _ = env_obs
    policy = make_policy(env)
    policy.warm_start = True
    t = batched(obs, obs2)
    with torch.no_grad():
        actions, _, log_prob = policy(t)
        _, lp, _ = policy.evaluate_actions(t, actions)
    for b, o in enumerate((obs, obs2)):
        n, slots, ei = graph_of(o)
        w = eigrp_weights(o["link_props"][slots, 0], o["link_props"][slots, 1])
        expected = encode_next_hops(next_hops_from_weights(n, ei, w), o["adjacency"], "node")
        assert (actions[b].numpy() == expected).all()
    assert torch.allclose(log_prob, lp)
    # and the policy alone would not have chosen EIGRP (sanity of the comparison)
    policy.warm_start = False
    with torch.no_grad():
        sampled, _, _ = policy(t)
    assert not torch.equal(sampled, actions)


# --------------------------------------------------------------------- APSP cache


def test_apsp_is_computed_once_per_topology(env_obs):
    env, obs, obs2, _ = env_obs
    policy = make_policy(env)
    with torch.no_grad():
        policy(batched(obs))
        policy(batched(obs2))  # next step, same topology, other features
        policy.evaluate_actions(batched(obs, obs2, obs), torch.zeros(3, 100))
    assert policy.cache.computations == 1
    failed = {k: v.copy() for k, v in obs.items()}
    slot = int(np.flatnonzero(failed["edge_mask"])[0])
    failed["edge_mask"][[slot, slot + 1]] = 0
    with torch.no_grad():
        policy(batched(failed))
        policy(batched(failed))
    assert policy.cache.computations == 2
    changed = {k: v.copy() for k, v in obs.items()}
    changed["link_props"][slot, 0] *= 10  # other datarate: other EIGRP weights
    with torch.no_grad():
        policy(batched(changed))
    assert policy.cache.computations == 3


def test_distance_cache_evicts_by_count():
    cache = DistanceCache(maxsize=2)
    ei = np.array([[0, 1], [1, 0]])
    for rate in (1e6, 2e6, 3e6):
        cache.get(2, ei, np.array([[rate, 1.0]] * 2, np.float32))
    assert len(cache) == 2 and cache.computations == 3
    cache.get(2, ei, np.array([[1e6, 1.0]] * 2, np.float32))
    assert cache.computations == 4


# ------------------------------------------------------------------------ SB3 / PPO


def test_distribution_object_from_get_distribution(env_obs):
    env, obs, _, mask = env_obs
    policy = make_policy(env)
    with torch.no_grad():
        dist = policy.get_distribution(batched(obs, obs))
    assert isinstance(dist, FieldLinesDistribution)
    assert dist.sample().shape == (2, 100)
    assert dist.entropy().shape == (2,)
    assert_valid(dist.mode().numpy(), obs, mask)
    assert policy.predict_values(batched(obs, obs)).shape == (2, 1)


def test_ppo_learns_and_save_load_round_trips(tmp_path):
    from stable_baselines3 import PPO

    from packerl.vector import PackeRLSB3VecEnv

    venv = PackeRLSB3VecEnv([lambda: paper_wrappers(PackeRLEnv(**KW))] * 2)
    try:
        model = PPO(FieldLinesPolicy, venv, n_steps=8, batch_size=8, n_epochs=1,
                    learning_rate=1e-3, seed=0, device="cpu",
                    policy_kwargs={"latent_dim": 8, "num_steps": 2})
        model.policy.warm_start = True
        before = [p.detach().clone() for p in model.policy.parameters()]
        model.learn(total_timesteps=16)
        model.policy.warm_start = False
        model.learn(total_timesteps=16, reset_num_timesteps=False)
        after = list(model.policy.parameters())
        assert any(not torch.equal(a, b) for a, b in zip(after, before))
        assert model.policy.actor.latent_dim == 8
        obs = venv.reset()
        masks = venv.action_masks()
        actions, _ = model.predict(obs, deterministic=True)
        for i in range(2):
            assert_valid(actions[i], {k: v[i] for k, v in obs.items()}, masks[i])
        model.save(tmp_path / "fl.zip")
        loaded = PPO.load(tmp_path / "fl.zip", device="cpu")
        assert isinstance(loaded.policy, FieldLinesPolicy)
        assert loaded.policy.actor.latent_dim == 8
        again, _ = loaded.predict(obs, deterministic=True)
        assert (again == actions).all()
        assert loaded.policy.temperature.item() == pytest.approx(
            model.policy.temperature.item())
    finally:
        venv.close()



def test_the_literal_mpn_ablation_is_saved_with_the_model(tmp_path):
    from stable_baselines3 import PPO

    from packerl.vector import PackeRLSB3VecEnv

    venv = PackeRLSB3VecEnv([lambda: paper_wrappers(PackeRLEnv(**KW))])
    try:
        model = PPO(FieldLinesPolicy, venv, n_steps=8, batch_size=8, device="cpu", seed=0,
                    policy_kwargs={"mpn_reads_receiver": False})
        model.save(tmp_path / "literal.zip")
        loaded = PPO.load(tmp_path / "literal.zip", device="cpu")
        for net in (loaded.policy.actor, loaded.policy.critic):
            assert all(not layer.reads_receiver for layer in net.mpn.layers)
        default = PPO(FieldLinesPolicy, venv, n_steps=8, batch_size=8, device="cpu", seed=0)
        assert "mpn_reads_receiver" not in default.policy._get_constructor_parameters()
    finally:
        venv.close()
