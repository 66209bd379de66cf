# SPDX-License-Identifier: GPL-2.0-only
"""M-Slim: line digraph, folded Gaussian, EIGRP reproduction through the env, positivity on
real observations, graph awareness, and the stable-baselines3 round trip."""

from __future__ import annotations

import re

import networkx as nx
import numpy as np
import pytest
import torch
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from experiments.synthetic import synthetic_observation
from packerl.env import PackeRLLinkWeightsEnv
from packerl.routing import eigrp_weights, next_hops_from_weights
from packerl.spaces import (
    decode_next_hops,
    graph_of,
    link_weight_action_space,
    next_hop_action_space,
)
from packerl.wrappers import paper_wrappers
from policies import EIGRP
from policies.mslim import (
    MIN_WEIGHT,
    UNUSED_SLOT_WEIGHT,
    FoldedGaussianDistribution,
    MSlimPolicy,
    eigrp_weights_torch,
    line_digraph,
)

ENV_KW = {"topology": "nx-XS", "traffic": "udp_low", "episode_steps": 8,
          "link_weights": "raw"}  # M-Slim acts in positive weights

# a hand-built 4-node graph: undirected 0-1, 1-2, 2-3, 1-3 as 8 directed edges
EDGES_4 = [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2), (1, 3), (3, 1)]
# every (u, v, x) with (u, v) -> (v, x), written out by hand
ARCS_4 = {
    (0, 1, 0), (0, 1, 2), (0, 1, 3),
    (1, 0, 1),
    (1, 2, 1), (1, 2, 3),
    (2, 1, 0), (2, 1, 2), (2, 1, 3),
    (2, 3, 2), (2, 3, 1),
    (3, 2, 1), (3, 2, 3),
    (1, 3, 2), (1, 3, 1),
    (3, 1, 0), (3, 1, 2), (3, 1, 3),
}


def triples(edges: list[tuple[int, int]], arcs: torch.Tensor) -> list[tuple[int, int, int]]:
    """Arcs as (u, v, x) node triples (independent of edge numbering)."""
    return [(edges[a][0], edges[a][1], edges[b][1]) for a, b in arcs.t().tolist()]


def make_policy(observation_space: spaces.Dict, **kwargs) -> MSlimPolicy:
    action_space = link_weight_action_space(observation_space["edge_mask"].shape[0] // 2, "raw")
    return MSlimPolicy(observation_space, action_space, lambda _: 3e-3, **kwargs)


# ---------------------------------------------------------------------------- line digraph


def test_line_digraph_of_hand_built_graph_is_exact():
    arcs = line_digraph(torch.tensor(EDGES_4).t())
    got = triples(EDGES_4, arcs)
    assert len(got) == len(set(got)) == 18  # no duplicate arcs
    assert set(got) == ARCS_4
    # arcs join (u, v) to (v, x): the second edge starts where the first ends
    ei = torch.tensor(EDGES_4).t()
    assert torch.equal(ei[1, arcs[0]], ei[0, arcs[1]])


def test_line_digraph_without_u_turns_drops_exactly_the_u_turns():
    got = triples(EDGES_4, line_digraph(torch.tensor(EDGES_4).t(), u_turns=False))
    assert set(got) == {t for t in ARCS_4 if t[0] != t[2]}
    assert len(got) == 10


def test_line_digraph_is_invariant_to_edge_order():
    rng = np.random.default_rng(0)
    for _ in range(5):
        perm = rng.permutation(len(EDGES_4))
        edges = [EDGES_4[i] for i in perm]
        got = triples(edges, line_digraph(np.array(edges).T))
        assert sorted(got) == sorted(ARCS_4)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 15), p=st.floats(0.05, 0.9), seed=st.integers(0, 2**31 - 1))
def test_line_digraph_matches_networkx(n, p, seed):
    g = nx.gnp_random_graph(n, p, seed=seed, directed=True)
    edges = list(g.edges())
    if not edges:
        return
    got = sorted(triples(edges, line_digraph(torch.tensor(edges).t(), num_nodes=n)))
    want = sorted((a[0], a[1], b[1]) for a, b in nx.line_graph(g).edges())
    assert got == want


def test_line_digraph_rejects_bad_shapes():
    with pytest.raises(ValueError, match=re.escape("edge_index must have shape (2, E)")):
        line_digraph(torch.zeros((3, 4), dtype=torch.long))
    assert line_digraph(torch.zeros((2, 0), dtype=torch.long)).shape == (2, 0)


# --------------------------------------------------------------------- the distribution


def test_folded_gaussian_log_prob_matches_scipy_and_ignores_padding():
    torch.manual_seed(0)
    mean = torch.rand(3, 6, dtype=torch.float64) * 3
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 0, 1, 1, 1], [1, 0, 0, 0, 0, 0]]).bool()
    log_std = torch.tensor([0.3], dtype=torch.float64)
    dist = FoldedGaussianDistribution().proba_distribution(mean, log_std, mask)
    actions = dist.sample()
    assert torch.all(actions[~mask] == UNUSED_SLOT_WEIGHT)
    assert torch.all(actions[mask] >= MIN_WEIGHT) and torch.isfinite(actions).all()
    sigma = float(np.exp(0.3))
    ref = stats.foldnorm(c=mean.numpy() / sigma, scale=sigma).logpdf(actions.numpy())
    want = np.where(mask.numpy(), ref, 0.0).sum(axis=1)
    np.testing.assert_allclose(dist.log_prob(actions).numpy(), want, rtol=1e-10)
    # padded slots never matter; working ones do
    changed = actions.clone()
    changed[~mask] = 123.0
    assert torch.equal(dist.log_prob(changed), dist.log_prob(actions))
    changed[0, 0] += 1.0
    assert dist.log_prob(changed)[0] != dist.log_prob(actions)[0]
    # Gaussian entropy per working slot
    per_slot = 0.5 + 0.5 * np.log(2 * np.pi) + 0.3
    np.testing.assert_allclose(dist.entropy().numpy(), per_slot * mask.sum(1).numpy())
    # the mode is the mean (positive), padding fixed
    mode = dist.mode()
    assert torch.equal(mode[mask], mean[mask]) and torch.all(mode[~mask] == UNUSED_SLOT_WEIGHT)


def test_folded_gaussian_mode_is_never_zero():
    mean = torch.tensor([[0.0, 1e-30, 2.0]])
    dist = FoldedGaussianDistribution().proba_distribution(mean, torch.zeros(1),
                                                           torch.ones(1, 3, dtype=torch.bool))
    assert torch.all(dist.mode() >= MIN_WEIGHT)


def test_eigrp_weights_torch_matches_routing():
    rate = np.array([50e6, 120e6, 200e6])
    delay = np.array([1.0, 5.5, 12.0])
    np.testing.assert_allclose(
        eigrp_weights_torch(torch.tensor(rate), torch.tensor(delay)).numpy(),
        eigrp_weights(rate, delay))


# --------------------------------------------------------------- policy on observations


def test_rejects_the_next_hop_action_space():
    _obs, space = synthetic_observation(8)
    with pytest.raises(ValueError, match="link-weight action space"):
        MSlimPolicy(space, next_hop_action_space(8, "node"), lambda _: 1e-3)
    with pytest.raises(ValueError, match="link_weights='raw'"):
        MSlimPolicy(space, link_weight_action_space(space["edge_mask"].shape[0] // 2),
                    lambda _: 1e-3)
    with pytest.raises(ValueError, match="lu_frames must be 'all' or 'last'"):
        make_policy(space, lu_frames="first")


def test_policy_save_load_keeps_its_configuration(tmp_path):
    obs, space = synthetic_observation(10)
    policy = make_policy(space, hidden_dim=8, mpn_steps=1, u_turns=False, neighbours="both")
    policy.save(tmp_path / "policy.pt")
    loaded = MSlimPolicy.load(tmp_path / "policy.pt")
    assert loaded._mslim == {"hidden_dim": 8, "mpn_steps": 1, "lu_frames": "all",
                             "u_turns": False, "neighbours": "both"}
    np.testing.assert_array_equal(policy.predict(obs, deterministic=True)[0],
                                  loaded.predict(obs, deterministic=True)[0])


def test_held_noise_repeats_its_draw_until_reset():
    obs, space = synthetic_observation(10)
    batch = {k: torch.as_tensor(v)[None] for k, v in obs.items()}
    fresh = make_policy(space)
    with pytest.raises(ValueError, match="use_sde=True"):
        fresh.reset_noise(1)
    a, b = (fresh(batch)[0] for _ in range(2))
    assert not torch.equal(a, b)
    held = make_policy(space, use_sde=True)
    held.reset_noise(1)
    first, again = (held(batch)[0] for _ in range(2))
    torch.testing.assert_close(first, again)
    held.reset_noise(1)
    assert not torch.equal(first, held(batch)[0])
    two = {k: v.repeat(2, *([1] * (v.dim() - 1))) for k, v in batch.items()}
    pair = held(two)[0]  # a batch of another size than the held draw: fresh noise
    assert not torch.equal(pair[0], pair[1])


def test_actor_sees_successor_links_but_nothing_beyond_its_steps():
    """A link's weight depends on the links its traffic continues on (line-digraph arcs; with
    the shared MPN's sender-side updates this needs the arc features), and not on links more
    than L = 2 arcs away."""
    obs, space = synthetic_observation(20, seed=3)
    torch.manual_seed(0)
    policy = make_policy(space)
    _n, slots, ei = graph_of(obs)
    a = 0  # link (u, v) in slot slots[a]
    u, v = ei[:, a]
    succ = next(i for i in range(len(slots)) if ei[0, i] == v and ei[1, i] != u)
    arcs = line_digraph(torch.as_tensor(ei)).t().tolist()
    near = {a}
    for _ in range(2):
        near |= {b for x, b in arcs if x in near}
    far = next(i for i in range(len(slots)) if i not in near)
    base, _ = policy.predict(obs, deterministic=True)
    for target, should_change in ((succ, True), (far, False)):
        o = {k: x.copy() for k, x in obs.items()}
        o["edge_attr"][slots[target], :] += 3.0
        out, _ = policy.predict(o, deterministic=True)
        assert (out[slots[a]] != base[slots[a]]) == should_change


@pytest.mark.parametrize(("neighbours", "sees_successor", "sees_predecessor"), [
    # predecessors: the successor may be reached within the MPN's two hops through other
    # arcs now that edge updates read both endpoints, so that case is left open (None)
    ("successors", True, False), ("predecessors", None, True), ("both", True, True)])
def test_neighbours_choose_which_adjacent_links_a_link_reads(neighbours, sees_successor,
                                                             sees_predecessor):
    obs, space = synthetic_observation(20, seed=3)
    torch.manual_seed(0)
    policy = make_policy(space, neighbours=neighbours)
    _n, slots, ei = graph_of(obs)
    u, v = ei[:, 0]
    succ = next(i for i in range(len(slots)) if ei[0, i] == v and ei[1, i] != u)
    arcs = line_digraph(torch.as_tensor(ei)).t().tolist()
    downstream = {0}  # within L = 2 arcs downstream (a receiver-aware MPN could reach them)
    for _ in range(2):
        downstream |= {b for x, b in arcs if x in downstream}
    pred = next(i for i in range(len(slots))
                if ei[1, i] == u and ei[0, i] != v and i not in downstream)
    base, _ = policy.predict(obs, deterministic=True)
    for other, expected in ((succ, sees_successor), (pred, sees_predecessor)):
        o = {k: x.copy() for k, x in obs.items()}
        o["edge_attr"][slots[other], :] += 3.0
        out, _ = policy.predict(o, deterministic=True)
        if expected is not None:
            assert (out[slots[0]] != base[slots[0]]) == expected
    with pytest.raises(ValueError, match="neighbours must be one of"):
        make_policy(space, neighbours="all")


def test_output_is_equivariant_to_edge_slot_order():
    obs, space = synthetic_observation(12, seed=1)
    torch.manual_seed(0)
    policy = make_policy(space)
    base, _ = policy.predict(obs, deterministic=True)
    perm = np.random.default_rng(0).permutation(obs["edge_mask"].shape[0])
    shuffled = dict(obs)
    for key in ("edge_attr", "link_props", "edge_mask"):
        shuffled[key] = obs[key][perm]
    shuffled["edge_index"] = obs["edge_index"][:, perm]
    out, _ = policy.predict(shuffled, deterministic=True)
    np.testing.assert_allclose(out, base[perm], rtol=1e-5)


def test_last_link_weights_key_is_used_and_scale_free():
    obs, space = synthetic_observation(10, seed=2)
    space = spaces.Dict({**space.spaces, "last_link_weights": spaces.Box(
        0, np.inf, obs["edge_mask"].shape, np.float32)})
    torch.manual_seed(0)
    policy = make_policy(space)
    rng = np.random.default_rng(0)
    w = rng.uniform(0.5, 3.0, obs["edge_mask"].shape).astype(np.float32)
    a, _ = policy.predict({**obs, "last_link_weights": w}, deterministic=True)
    b, _ = policy.predict({**obs, "last_link_weights": 7.0 * w}, deterministic=True)
    c, _ = policy.predict({**obs, "last_link_weights": w[::-1].copy()}, deterministic=True)
    np.testing.assert_allclose(a, b, rtol=1e-5)
    assert not np.allclose(a, c)


def test_values_are_one_per_graph_and_the_mean_of_the_critic():
    obs, space = synthetic_observation(10, seed=4)
    torch.manual_seed(0)
    policy = make_policy(space)
    batch = {k: torch.as_tensor(np.stack([v, v])) for k, v in obs.items()}
    values = policy.predict_values(batch)
    assert values.shape == (2, 1) and torch.equal(values[0], values[1])
    graph = policy.line_graph(batch)
    np.testing.assert_allclose(values[0].item(),
                               policy.critic(graph)[graph.batch == 0].mean().item(), rtol=1e-6)


# --------------------------------------------------------------- the real environment


@pytest.fixture(scope="module")
def real_observations():
    """Normalised, stacked observations of a link-weight env stepped with EIGRP weights,
    the padding, and the env (reset to the first observation's episode afterwards)."""
    env = paper_wrappers(PackeRLLinkWeightsEnv(**ENV_KW))
    eigrp = EIGRP.from_env(env, action_type="link_weights")
    obs, _ = env.reset(seed=5)
    observations = [obs]
    for _ in range(3):
        obs, *_ = env.step(eigrp.act(obs))
        observations.append(obs)
    yield env, observations
    env.close()


def test_eigrp_weights_through_the_policy_reproduce_eigrp_next_hops(real_observations,
                                                                    monkeypatch):
    env, observations = real_observations
    obs = observations[-1]
    base = env.unwrapped
    policy = make_policy(env.observation_space)
    # force the Gaussian mean to EIGRP's weights; everything after it is the real pipeline
    props = torch.as_tensor(obs["link_props"])

    def eigrp_mean(graph):
        slots = graph.graph_slot[1]
        return eigrp_weights_torch(props[slots, 0], props[slots, 1]).float()

    monkeypatch.setattr(policy, "link_mean", eigrp_mean)
    action, _ = policy.predict(obs, deterministic=True)
    n, slots, ei = graph_of(obs)
    want = next_hops_from_weights(n, ei, eigrp_weights(obs["link_props"][slots, 0],
                                                       obs["link_props"][slots, 1]))
    np.testing.assert_array_equal(base.next_hops_of(action), want)
    assert np.all(action[np.flatnonzero(obs["edge_mask"] == 0)] == UNUSED_SLOT_WEIGHT)
    # and the EIGRP baseline's own next hops agree
    eigrp = EIGRP.from_env(env, action_type="next_hop")
    table = decode_next_hops(eigrp.act(obs), obs["adjacency"], n, "neighbor")
    np.testing.assert_array_equal(table, want)


def test_actions_are_positive_finite_and_accepted_on_real_observations(real_observations):
    env, observations = real_observations
    torch.manual_seed(0)
    policy = make_policy(env.observation_space)
    batch = {k: np.stack([o[k] for o in observations]) for k in observations[0]}
    assert batch["edge_attr"].shape[-1] == 40  # 4 stacked frames
    for deterministic in (True, False):
        for _ in range(5):
            actions, _ = policy.predict(batch, deterministic=deterministic)
            working = batch["edge_mask"].astype(bool)
            assert np.isfinite(actions).all() and (actions[working] >= MIN_WEIGHT).all()
            assert np.all(actions[~working] == UNUSED_SLOT_WEIGHT)
    # the environment accepts a sampled action
    action, _ = policy.predict(observations[-1], deterministic=False)
    obs, *_ = env.step(action)
    assert obs["edge_attr"].shape == observations[0]["edge_attr"].shape


# ------------------------------------------------------------------------ stable-baselines3


def _venv():
    from packerl.vector import PackeRLSB3VecEnv

    def make():
        return paper_wrappers(PackeRLLinkWeightsEnv(**ENV_KW))

    return PackeRLSB3VecEnv([make, make])


def test_ppo_learns_and_save_load_round_trips(tmp_path):
    from stable_baselines3 import PPO

    venv = _venv()
    try:
        model = PPO(MSlimPolicy, venv, n_steps=8, batch_size=8, n_epochs=1, learning_rate=3e-3,
                    seed=0, device="cpu", policy_kwargs={"lu_frames": "last"})
        assert model.policy.std == 1.0
        before = {k: p.detach().clone() for k, p in model.policy.named_parameters()}
        model.learn(total_timesteps=32)
        after = dict(model.policy.named_parameters())
        assert not torch.equal(after["log_std"], before["log_std"])
        for prefix in ("actor.", "critic."):
            assert any(not torch.equal(after[k], before[k]) for k in before
                       if k.startswith(prefix))
        model.save(tmp_path / "mslim")
        loaded = PPO.load(tmp_path / "mslim", device="cpu")
        assert loaded.policy._mslim == model.policy._mslim
        assert loaded.policy._mslim["lu_frames"] == "last"
        obs = venv.reset()
        a, _ = model.predict(obs, deterministic=True)
        b, _ = loaded.predict(obs, deterministic=True)
        np.testing.assert_array_equal(a, b)
        assert (a > 0).all() and np.isfinite(a).all()
        venv.step(a)
    finally:
        venv.close()


def test_ppo_holds_the_noise_for_sde_sample_freq_steps():
    """With PPO(use_sde=True, sde_sample_freq=4) every environment's standard-normal draw
    (action - mu) / sigma is the same within each window of 4 steps and new in the next."""
    from experiments.gradient_agreement import _collect
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    venv = VecMonitor(_venv())
    try:
        # sigma 0.01 << mu: no sample is folded, so the draw is recovered exactly
        model = PPO(MSlimPolicy, venv, n_steps=8, batch_size=8, n_epochs=1, seed=0,
                    device="cpu", use_sde=True, sde_sample_freq=4,
                    policy_kwargs={"log_std_init": float(np.log(0.01))})
        _collect(model)
        buf = model.rollout_buffer
        obs = {k: torch.as_tensor(v.reshape(16, *v.shape[2:])) for k, v in buf.observations.items()}
        with torch.no_grad():
            dist = model.policy.get_distribution(obs)
        mask = dist.mask.numpy().reshape(8, 2, -1)
        eps = ((buf.actions.reshape(16, -1) - dist.mean.numpy()) / model.policy.std
               ).reshape(8, 2, -1)
        for env in range(2):
            working = mask[0, env]
            for window in (slice(0, 4), slice(4, 8)):
                draws = eps[window, env][:, working]
                np.testing.assert_allclose(draws, draws[:1].repeat(4, 0), atol=1e-3)
            assert np.abs(eps[0, env, working] - eps[4, env, working]).min() > 1e-6
        both = mask[0, 0] & mask[0, 1]
        assert np.abs(eps[0, 0, both] - eps[0, 1, both]).min() > 1e-6  # one draw per env
    finally:
        venv.close()


def test_ppo_accepts_the_raw_link_weight_env():
    # SB3 needs finite Box bounds: the link-weight env declares Box(0, float32 max)
    from stable_baselines3 import PPO

    venv = _venv()
    try:
        PPO(MSlimPolicy, venv, n_steps=8, batch_size=8, device="cpu")
    finally:
        venv.close()

