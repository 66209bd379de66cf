# SPDX-License-Identifier: GPL-2.0-only
"""MPN block: update rules on hand-built graphs, shapes, permutation equivariance, batching,
and the padded observation -> PyG Batch conversion."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data

from packerl.spaces import observation_space
from policies.mpn import MPN, MPNLayer
from policies.sb3_common import obs_to_batch

# a 4-node graph: 0 -> 1, 0 -> 2, 1 -> 2, 2 -> 3, 3 -> 0 (node 3 has one outgoing edge)
EDGES4 = torch.tensor([[0, 0, 1, 2, 3], [1, 2, 2, 3, 0]])
# a 5-node graph with both directions of an undirected path plus a chord
EDGES5 = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 0, 3], [1, 0, 2, 1, 3, 2, 4, 3, 3, 0]])


def random_graph(n: int, p: float, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    pairs = [(u, v) for u in range(n) for v in range(n) if u != v and rng.random() < p]
    return torch.tensor(pairs, dtype=torch.long).t()


def make_mpn(seed: int = 0, **kw) -> MPN:
    torch.manual_seed(seed)
    return MPN(node_in=3, edge_in=4, global_in=2, **kw).eval()


@pytest.fixture(params=["four", "five", "random"])
def graph(request):
    ei = {"four": EDGES4, "five": EDGES5, "random": random_graph(12, 0.3, 1)}[request.param]
    n = int(ei.max()) + 1
    g = torch.Generator().manual_seed(7)
    return (torch.randn(n, 3, generator=g), ei, torch.randn(ei.size(1), 4, generator=g),
            torch.randn(1, 2, generator=g))


def test_layer_matches_the_update_formula_on_a_hand_built_graph():
    torch.manual_seed(0)
    layer = MPNLayer(node_dim=3, edge_dim=2, hidden_dim=5).eval()
    x, e = torch.randn(4, 3), torch.randn(5, 2)
    x_new, e_new = layer(x, EDGES4, e)
    m = layer.edge_mlp(torch.cat([x[EDGES4[0]], x[EDGES4[1]], e], dim=-1))  # sender, receiver
    assert torch.allclose(e_new, layer.edge_norm(e + m), atol=1e-6)
    # node 0 aggregates its outgoing edges 0 and 1 (mean ‖ min); node 3 only edge 4
    agg = torch.stack([
        torch.cat([m[[0, 1]].mean(0), m[[0, 1]].min(0).values]),
        torch.cat([m[2], m[2]]),
        torch.cat([m[3], m[3]]),
        torch.cat([m[4], m[4]]),
    ])
    expected = layer.node_norm(x + layer.node_mlp(torch.cat([x, agg], dim=-1)))
    assert torch.allclose(x_new, expected, atol=1e-6)


def test_incoming_edges_do_not_reach_the_receiver_in_one_step():
    """Aggregation is over outgoing edges: changing an edge (v, u) leaves u's features
    unchanged after one step but changes v's."""
    torch.manual_seed(0)
    layer = MPNLayer(node_dim=3, edge_dim=2).eval()
    x, e = torch.randn(4, 3), torch.randn(5, 2)
    e2 = e.clone()
    e2[3] += 5.0  # edge 2 -> 3
    a, _ = layer(x, EDGES4, e)
    b, _ = layer(x, EDGES4, e2)
    assert not torch.allclose(a[2], b[2])
    assert torch.allclose(a[[0, 1, 3]], b[[0, 1, 3]])


def test_shapes_match_the_docstring(graph):
    x, ei, e, u = graph
    mpn = make_mpn()
    h_v, h_e = mpn(x, ei, e, u=u)
    assert h_v.shape == (x.size(0), 12) and h_e.shape == (ei.size(1), 12)
    out_v, out_e = make_mpn(node_out=3, edge_out=1)(x, ei, e, u=u)
    assert out_v.shape == (x.size(0), 3) and out_e.shape == (ei.size(1), 1)
    # no node features, no globals: a learned constant initial embedding
    bare = MPN(node_in=0, edge_in=4, latent_dim=6)
    h_v, h_e = bare(None, ei, e, num_nodes=x.size(0))
    assert h_v.shape == (x.size(0), 6) and h_e.shape == (ei.size(1), 6)


def test_hyperparameters_are_stored_and_configurable():
    mpn = MPN(node_in=1, edge_in=2, global_in=3, latent_dim=8, hidden_dim=5, num_steps=3)
    assert (mpn.latent_dim, mpn.hidden_dim, mpn.num_steps) == (8, 5, 3)
    assert len(mpn.layers) == 3
    assert mpn.layers[0].node_mlp[0].out_features == 5
    assert isinstance(mpn.layers[0].node_mlp[1], torch.nn.LeakyReLU)
    assert sum(isinstance(m, torch.nn.Linear) for m in mpn.layers[0].edge_mlp) == 2
    assert "num_steps=3" in repr(mpn)


def test_reset_parameters_reinitialises_weights():
    mpn = make_mpn()
    before = [p.detach().clone() for p in mpn.parameters()]
    mpn.reset_parameters()
    changed = [not torch.equal(a, b) for a, b in zip(before, mpn.parameters())]
    assert sum(changed) >= len(mpn.layers) * 4  # every linear weight is redrawn


def test_permutation_equivariance(graph):
    x, ei, e, u = graph
    mpn = make_mpn()
    n, m = x.size(0), ei.size(1)
    g = torch.Generator().manual_seed(3)
    perm = torch.randperm(n, generator=g)  # new id of old node i is inv[i]
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(n)
    eperm = torch.randperm(m, generator=g)
    h_v, h_e = mpn(x, ei, e, u=u)
    p_v, p_e = mpn(x[perm], inv[ei][:, eperm], e[eperm], u=u)
    assert torch.allclose(p_v, h_v[perm], atol=1e-5)
    assert torch.allclose(p_e, h_e[eperm], atol=1e-5)


def test_a_non_equivariant_change_is_detected(graph):
    """Sanity check of the equivariance test: relabelling edges without their features
    changes the outputs."""
    x, ei, e, u = graph
    mpn = make_mpn()
    h_v, _ = mpn(x, ei, e, u=u)
    w_v, _ = mpn(x, ei, e.flip(0), u=u)
    assert not torch.allclose(h_v, w_v, atol=1e-4)


def test_batch_of_two_graphs_equals_the_graphs_separately():
    mpn = make_mpn()
    g = torch.Generator().manual_seed(5)
    graphs = [Data(x=torch.randn(4, 3, generator=g), edge_index=EDGES4,
                   edge_attr=torch.randn(5, 4, generator=g), u=torch.randn(1, 2, generator=g)),
              Data(x=torch.randn(5, 3, generator=g), edge_index=EDGES5,
                   edge_attr=torch.randn(10, 4, generator=g), u=torch.randn(1, 2, generator=g))]
    for d in graphs:
        d.validate(raise_on_error=True)
    batch = Batch.from_data_list(graphs)
    h_v, h_e = mpn(batch.x, batch.edge_index, batch.edge_attr, u=batch.u, batch=batch.batch)
    for i, d in enumerate(graphs):
        s_v, s_e = mpn(d.x, d.edge_index, d.edge_attr, u=d.u)
        nodes = batch.batch == i
        edges = nodes[batch.edge_index[0]]
        assert torch.allclose(h_v[nodes], s_v, atol=1e-5)
        assert torch.allclose(h_e[edges], s_e, atol=1e-5)


def test_global_features_reach_every_node_and_only_their_graph():
    mpn = make_mpn()
    batch = Batch.from_data_list([
        Data(x=torch.zeros(4, 3), edge_index=EDGES4, edge_attr=torch.zeros(5, 4),
             u=torch.zeros(1, 2)),
        Data(x=torch.zeros(4, 3), edge_index=EDGES4, edge_attr=torch.zeros(5, 4),
             u=torch.zeros(1, 2))])
    h0, _ = mpn(batch.x, batch.edge_index, batch.edge_attr, u=batch.u, batch=batch.batch)
    u = batch.u.clone()
    u[1] += 1.0
    h1, _ = mpn(batch.x, batch.edge_index, batch.edge_attr, u=u, batch=batch.batch)
    assert torch.allclose(h0[:4], h1[:4])
    assert (h0[4:] - h1[4:]).abs().sum(-1).min() > 1e-4


def test_missing_inputs_raise():
    mpn = make_mpn()
    with pytest.raises(ValueError, match=re.escape("expects global features of size 2")):
        mpn(torch.zeros(4, 3), EDGES4, torch.zeros(5, 4))
    with pytest.raises(ValueError, match="node count"):
        MPN(0, 4)(None, EDGES4, torch.zeros(5, 4))


def test_gradients_flow_to_every_parameter(graph):
    x, ei, e, u = graph
    mpn = make_mpn(node_out=1, edge_out=1)
    h_v, h_e = mpn(x, ei, e, u=u)
    (h_v.sum() + h_e.pow(2).sum()).backward()
    assert all(p.grad is not None for p in mpn.parameters())


# ------------------------------------------------------------ padded obs -> Batch


def padded_obs(graphs: list[tuple[int, torch.Tensor]], max_nodes: int = 6,
               max_edges: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    """A batch of padded observations holding the given (num_nodes, edge_index) graphs;
    working edges are scattered over the slots, with one failed slot in between."""
    space = observation_space(max_nodes, max_edges)
    space.seed(seed)
    rows = []
    for n, ei in graphs:
        o = {k: np.array(v) for k, v in space.sample().items()}
        o["node_mask"][:] = 0
        o["node_mask"][:n] = 1
        o["edge_mask"][:] = 0
        slots = np.arange(ei.shape[1]) + (np.arange(ei.shape[1]) >= 2)  # skip slot 2
        o["edge_mask"][slots] = 1
        o["edge_index"][:, slots] = ei.numpy()
        rows.append(o)
    return {k: torch.as_tensor(np.stack([o[k] for o in rows])) for k in rows[0]}


def test_obs_to_batch_rebuilds_the_real_graphs():
    obs = padded_obs([(4, EDGES4), (5, EDGES5[:, :7])])
    batch = obs_to_batch(obs)
    batch.validate(raise_on_error=True)
    assert batch.num_graphs == 2 and batch.num_nodes == 9
    assert batch.batch.tolist() == [0] * 4 + [1] * 5
    assert torch.equal(batch.edge_index[:, :5], EDGES4)
    assert torch.equal(batch.edge_index[:, 5:], EDGES5[:, :7] + 4)
    slots = [0, 1, 3, 4, 5]
    assert torch.equal(batch.edge_attr[:5], obs["edge_attr"][0, slots])
    assert torch.equal(batch.link_props[5:], obs["link_props"][1, [0, 1, 3, 4, 5, 6, 7]])
    assert torch.equal(batch.u, obs["global"])
    assert batch.edge_slot[:5].tolist() == slots
    # the SB3 rollout buffer stores everything as float32: same result
    floats = obs_to_batch({k: v.float() for k, v in obs.items()})
    assert torch.equal(floats.edge_index, batch.edge_index)
    # a single unbatched observation
    one = obs_to_batch({k: v[0] for k, v in obs.items()})
    assert one.num_graphs == 1 and torch.equal(one.edge_index, EDGES4)


def test_information_travels_one_hop_per_step():
    # a path 0 - 1 - 2 - 3: with L steps, node 0 sees node L's features, not node L+1's
    edges = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    torch.manual_seed(0)
    for steps in (1, 2):
        mpn = MPN(node_in=3, edge_in=2, num_steps=steps).eval()
        x = torch.randn(4, 3)
        e = torch.randn(6, 2)
        base, _ = mpn(x, edges, e)
        for far in range(1, 4):
            moved = x.clone()
            moved[far] += 5.0
            out, _ = mpn(moved, edges, e)
            changed = not torch.allclose(out[0], base[0])
            assert changed == (far <= steps), (steps, far)


def test_the_literal_formula_never_lets_a_node_see_another_nodes_features():
    # f_E(x_v, e_vu) without x_u (the paper's formula read literally): whatever the steps,
    # node 0 depends on its own features and edges only; its neighbour's features do not reach
    edges = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    torch.manual_seed(0)
    mpn = MPN(node_in=3, edge_in=2, num_steps=3, reads_receiver=False).eval()
    x, e = torch.randn(3, 3), torch.randn(4, 2)
    base, _ = mpn(x, edges, e)
    moved = x.clone()
    moved[1] += 5.0
    assert torch.allclose(mpn(moved, edges, e)[0][0], base[0])
    e2 = e.clone()
    e2[0] += 5.0  # node 0's own outgoing edge does reach it
    assert not torch.allclose(mpn(x, edges, e2)[0][0], base[0])
    assert mpn.layers[0].edge_mlp[0].in_features == 12 + 12  # latent x_v and e_vu only
