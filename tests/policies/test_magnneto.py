# SPDX-License-Identifier: GPL-2.0-only
"""MAGNNETO (``policies.magnneto``): the line digraph, the increment semantics on a hand-built
graph, the architecture of Appendix B.8, and PPO training that resumes exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from packerl.fluid import FluidNetwork
from policies.magnneto import (
    INITIAL_WEIGHTS,
    MagnnetoActor,
    MagnnetoCritic,
    MagnnetoTask,
    NumpyActor,
    horizon_of,
    line_digraph,
    load_actor,
    optimise,
    train,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


#: the square 0 - 1 - 2 - 3 - 0; slots 2i = edge i as (u, v), 2i + 1 reversed:
#: 0 (0,1) 1 (1,0) 2 (0,3) 3 (3,0) 4 (1,2) 5 (2,1) 6 (2,3) 7 (3,2)
SQUARE = np.array([[0, 1], [0, 3], [1, 2], [2, 3]])


def _square_task(weights=None) -> MagnnetoTask:
    # 8 Mbit/s and 1 ms steps: 1000 bytes per step on every link
    net = FluidNetwork(4, SQUARE, np.full(4, 8e6), np.full(4, 1.0), step_ms=1.0)
    tm = np.zeros((4, 4))
    tm[0, 2], tm[1, 2] = 500.0, 300.0
    return MagnnetoTask(net, tm, np.random.default_rng(0),
                        weights=np.ones(8) if weights is None else weights, horizon=3)


def test_line_digraph_of_a_hand_built_graph():
    src, dst = line_digraph(np.array([[0, 1, 1, 2], [1, 0, 2, 1]]))
    # (0,1) -> (1,0), (1,2); (1,0) -> (0,1); (1,2) -> (2,1); (2,1) -> (1,0), (1,2)
    assert list(zip(src.tolist(), dst.tolist())) == [(0, 1), (0, 2), (1, 0), (2, 3), (3, 1),
                                                     (3, 2)]
    net = FluidNetwork(4, SQUARE, np.full(4, 1e7), np.full(4, 1.0))
    src, dst = line_digraph(net.edge_index)
    ei = net.edge_index
    assert np.all(ei[1, src] == ei[0, dst])  # b leaves a's head
    assert len(src) == sum(int((ei[0] == ei[1, a]).sum()) for a in range(ei.shape[1]))


def test_incrementing_a_link_weight_moves_the_shortest_path():
    task = _square_task()
    # equal-cost paths 0-1-2 and 0-3-2: the tie goes to neighbour 1; slot (1,2) carries
    # 500 + 300 of 1000
    np.testing.assert_allclose(task.lu, [0.5, 0, 0, 0, 0.8, 0, 0, 0])
    assert task.initial_mlu == pytest.approx(0.8)
    first = task.reset_observation()
    np.testing.assert_array_equal(first[:, 0], 0.0)  # zero LU at the start (Section 6.1)
    np.testing.assert_array_equal(first[:, 1], 1.0)
    state, reward, done = task.step([0])  # (0,1) gets weight 2: 0 -> 2 now goes via 3
    np.testing.assert_array_equal(task.weights, [2, 1, 1, 1, 1, 1, 1, 1])
    np.testing.assert_allclose(state[:, 0], [0, 0, 0.5, 0, 0.3, 0, 0, 0.5])
    np.testing.assert_array_equal(state[:, 1], task.weights)
    assert reward == pytest.approx(0.8 - 0.5) and not done
    # several links at once, duplicates counted once
    _, reward, done = task.step([2, 2, 7])  # 0-3-2 costs 4 now, 0-1-2 3: back via 1
    np.testing.assert_array_equal(task.weights, [2, 1, 2, 1, 1, 1, 1, 2])
    assert task.mlu == pytest.approx(0.8) and reward == pytest.approx(-0.3) and not done
    _, _, done = task.step([5])
    assert done and task.t == task.horizon == 3
    with pytest.raises(ValueError, match="link indices in 0..7"):
        task.step([8])


def test_initial_weights_are_random_integers_in_range_and_seeded():
    net = FluidNetwork(4, SQUARE, np.full(4, 8e6), np.full(4, 1.0), step_ms=1.0)
    tm = np.ones((4, 4))
    a = MagnnetoTask(net, tm, np.random.default_rng(3))
    b = MagnnetoTask(net, tm, np.random.default_rng(3))
    np.testing.assert_array_equal(a.weights, b.weights)
    lo, hi = INITIAL_WEIGHTS
    assert set(a.weights.tolist()) <= set(range(lo, hi + 1)) and (a.weights % 1 == 0).all()
    assert a.horizon == horizon_of(8) == 22
    assert horizon_of(42, "nsfnet") == 100 and horizon_of(74, "GEANT2") == 200
    with pytest.raises(ValueError, match="shape \\(4, 4\\)"):
        MagnnetoTask(net, np.ones((3, 3)), np.random.default_rng(0))


def test_architecture_as_appendix_b8():
    actor = MagnnetoActor()
    mpnn = actor.mpnn
    assert mpnn.message_layers == 8 and mpnn.state_dim == 16
    linears = [m for m in mpnn.message if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(32, 128), (128, 16)]
    linears = [m for m in mpnn.update if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(48, 128), (128, 64),
                                                                  (64, 16)]
    readout = list(actor.readout)
    assert [m.p for m in readout if isinstance(m, torch.nn.Dropout)] == [0.5, 0.5]
    linears = [m for m in readout if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(16, 128), (128, 64),
                                                                  (64, 1)]
    # orthogonal init: gain sqrt(2) on hidden layers (rows orthogonal for wide-in layers),
    # 0.01 on the last; every hidden linear layer is followed by tanh
    w = mpnn.update[0].weight.detach()  # (128, 48): columns orthonormal x gain
    np.testing.assert_allclose((w.T @ w).numpy(), 2.0 * np.eye(48), atol=1e-5)
    last = linears[-1].weight.detach()
    assert float(last.norm()) == pytest.approx(0.01, rel=1e-4)
    for seq in (mpnn.message, mpnn.update):
        mods = list(seq)
        assert all(isinstance(mods[i + 1], torch.nn.Tanh)
                   for i, m in enumerate(mods) if isinstance(m, torch.nn.Linear))


def test_actor_is_equivariant_to_relabelling_links_and_critic_invariant():
    torch.manual_seed(0)
    actor, critic = MagnnetoActor().eval(), MagnnetoCritic().eval()
    net = FluidNetwork(4, SQUARE, np.full(4, 1e7), np.full(4, 1.0))
    src, dst = (torch.as_tensor(a) for a in line_digraph(net.edge_index))
    x = torch.rand(1, 8, 2)
    perm = torch.randperm(8)
    inverse = torch.argsort(perm)
    logits = actor(x, src, dst)
    permuted = actor(x[:, perm], inverse[src], inverse[dst])
    torch.testing.assert_close(permuted, logits[:, perm], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(critic(x[:, perm], inverse[src], inverse[dst]),
                               critic(x, src, dst), rtol=1e-5, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(3, 9), st.booleans())
def test_the_numpy_actor_is_the_torch_actor_in_eval_mode(seed, n, one_way):
    rng = np.random.default_rng(seed)
    edges = np.array([(u, v) for u in range(n) for v in range(u + 1, n)
                      if rng.random() < 0.5] or [(0, 1)]).T
    # one-way links leave some links without predecessors: their aggregate is 0
    ei = edges if one_way else np.concatenate([edges, edges[::-1]], axis=1)
    src, dst = line_digraph(ei)
    torch.manual_seed(seed)
    actor = MagnnetoActor().eval()
    x = np.stack([rng.random(ei.shape[1]) * 2, rng.integers(1, 9, ei.shape[1])],
                 axis=1).astype(np.float32)
    with torch.no_grad():
        expected = actor(torch.as_tensor(x)[None], torch.as_tensor(src),
                         torch.as_tensor(dst))[0].numpy()
    np.testing.assert_allclose(NumpyActor(actor)(x, src, dst), expected, rtol=1e-4, atol=1e-6)


def test_optimise_increments_one_link_per_step_and_returns_the_final_weights():
    torch.manual_seed(1)
    task = _square_task()
    out = optimise(MagnnetoActor(), task, seed=2)
    assert out["weights"].sum() == 8 + task.horizon  # one increment per step
    assert out["final_mlu"] == out["mlu"][-1] and len(out["mlu"]) == task.horizon
    assert out["initial_mlu"] == pytest.approx(0.8)


def test_train_resumes_exactly_and_refuses_another_configuration(tmp_path):
    kw = dict(topologies=("nx-XS",), traffic="udp_low", seed=4, horizon=4,
              checkpoint_every=1)
    straight = train(tmp_path / "straight", episodes=3, **kw)
    first = train(tmp_path / "resumed", episodes=2, **kw)
    resumed = train(tmp_path / "resumed", episodes=3, **kw)
    assert len(straight) == 3 and resumed[:2] == first
    assert resumed == straight  # models, optimiser and every RNG were restored
    rows = (tmp_path / "resumed" / "curve.csv").read_text().splitlines()
    assert rows[0].startswith("episode,topology,tm_seed,horizon,initial_mlu") and len(rows) == 4
    assert all(math.isfinite(r["loss"]) for r in straight)
    actor = load_actor(tmp_path / "resumed")
    assert not actor.training
    with pytest.raises(ValueError, match="another configuration"):
        train(tmp_path / "resumed", episodes=4, **{**kw, "seed": 5})


def test_train_keeps_each_traffic_matrix_for_episodes_per_tm_and_resumes_mid_block(tmp_path):
    kw = dict(topologies=("nx-XS",), traffic="udp_low", seed=2, horizon=3,
              checkpoint_every=1, episodes_per_tm=2)
    straight = train(tmp_path / "straight", episodes=5, **kw)
    train(tmp_path / "resumed", episodes=3, **kw)  # stops inside the second TM's block
    assert train(tmp_path / "resumed", episodes=5, **kw) == straight
    seeds = [r["tm_seed"] for r in straight]
    assert seeds[0] == seeds[1] != seeds[2] == seeds[3] != seeds[4]
    # the same TM and topology, new initial weights: the start's MLU differs within a block
    assert straight[0]["horizon"] == straight[1]["horizon"]
    with pytest.raises(ValueError, match="episodes_per_tm must be at least 1"):
        train(tmp_path / "bad", episodes=1, **{**kw, "episodes_per_tm": 0})


def test_docstring_example_runs():
    import doctest

    import policies.magnneto

    result = doctest.testmod(policies.magnneto, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
