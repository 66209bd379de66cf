# SPDX-License-Identifier: GPL-2.0-only
"""FieldLines: next-hop routing from per-(destination, edge) ratings (paper Section 5.2, B.8).

The actor :math:`\\phi` rates every pair of a directed edge ``e = (v, u)`` and destination
``z``; the selector :math:`\\psi` treats the ratings of ``v``'s outgoing edges as logits per
``(v, z)`` and picks one: Boltzmann sampling with a learnable temperature (initial 4) during
training, argmax in evaluation. Loops are allowed.

Design of the rating (never an ``N x N x N`` tensor):

1. One APSP per topology (cached): EIGRP-weight distances ``D`` from
   :func:`packerl.routing.distances`, scaled by the graph's mean finite distance ``s`` and
   clipped (unreachable -> ``clip_distance``).
2. One :class:`~policies.mpn.MPN` pass per graph: edge inputs are the (normalised, stacked)
   edge features and the scaled EIGRP weight, node inputs the node's mean scaled distance to
   and from all nodes, global features are broadcast. It yields edge embeddings ``h_e`` and
   node embeddings ``h_v``.
3. A factorised readout: per edge an MLP gives a query ``q_e``, pair coefficients
   ``alpha_e`` and a bias from ``[h_e, h_u]``; per destination an MLP gives a key ``k_z`` from
   ``h_z``; ``phi(z, e) = <q_e, k_z> + alpha_e . pi(e, z) + b_e`` with the cached positional
   pair features ``pi = [D(v,z), D(u,z), slack, exp(-slack)]``,
   ``slack = w_e + D(u,z) - D(v,z)`` (0 iff ``e`` starts a shortest path to ``z``). The
   only ``|E| x N`` work is one matrix product and four fused multiply-adds.

The critic is a separate network of the same design whose value is the mean of its ratings
over all (edge, real destination) pairs of a graph (B.7).

:class:`FieldLinesPolicy` plugs this into stable-baselines3's PPO on PackeRL's padded Dict
observation and flat ``MultiDiscrete`` next-hop action (see :mod:`packerl.spaces`)::

    model = PPO(FieldLinesPolicy, venv, learning_rate=5e-5)
    model.policy.warm_start = True   # execute EIGRP's next hops (first 5 iterations, B.7)
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import Schedule
from torch import Tensor, nn

from packerl.routing import distances, eigrp_weights, next_hops_from_weights
from policies.mpn import MPN, mlp
from policies.sb3_common import PaddedDictExtractor, obs_to_batch

__all__ = [
    "DistanceCache",
    "FieldLinesDistribution",
    "FieldLinesNet",
    "FieldLinesPolicy",
]

POSITIONAL_PAIR_FEATURES = 4  # D(v, z), D(u, z), slack(e, z), exp(-slack)
POSITIONAL_NODE_FEATURES = 2  # mean distance from and to the node
POSITIONAL_EDGE_FEATURES = 1  # scaled EIGRP weight


# ----------------------------------------------------------------------------- APSP cache


@dataclass
class GraphDistances:
    """Positional information of one topology (numpy, ``n`` real nodes, ``m`` working edges).

    Attributes:
        weights_raw: (m,) float64 EIGRP weights of the working edges (slot order).
        weight: (m,) float32 scaled EIGRP weights of the working edges (slot order).
        closeness: (n, 2) float32 mean scaled distance from / to every node.
        pair: (4, m, n) float32 tensor of the pair features ``D(v,z), D(u,z), slack(e,z),
            exp(-slack(e,z))`` for every working edge ``e = (v, u)`` and destination ``z``,
            from the EIGRP distances scaled by ``s`` (their mean finite off-diagonal value)
            and clipped (unreachable = clip).
        next_hops: (n, n) int32 EIGRP next-hop table (-1 diagonal / unreachable), computed on
            first use (warm start).
    """

    num_nodes: int
    edge_index: np.ndarray
    weights_raw: np.ndarray
    weight: np.ndarray
    closeness: np.ndarray
    pair: Tensor
    _next_hops: np.ndarray | None = field(default=None, repr=False)

    @property
    def next_hops(self) -> np.ndarray:
        if self._next_hops is None:
            self._next_hops = next_hops_from_weights(self.num_nodes, self.edge_index,
                                                     self.weights_raw)
        return self._next_hops


class DistanceCache:
    """An LRU cache of :class:`GraphDistances` keyed on the topology's bytes.

    The key holds the node count, the working edges' ``edge_index`` and their raw
    ``link_props``; a topology change (failure, new episode) changes the key and triggers a new
    APSP. ``computations`` counts the APSP runs.

    Args:
        clip: value for unreachable pairs and upper bound of scaled distances (default: 10).
        maxsize: number of topologies kept (default: 1024).
        max_bytes: bound on the cached pair features' memory (default: 256 MiB).
    """

    def __init__(self, clip: float = 10.0, maxsize: int = 1024, max_bytes: int = 256 << 20):
        self.clip = float(clip)
        self.maxsize = int(maxsize)
        self.max_bytes = int(max_bytes)
        self.computations = 0
        self._bytes = 0
        self._store: OrderedDict[bytes, GraphDistances] = OrderedDict()

    def __len__(self) -> int:
        return len(self._store)

    def get(self, num_nodes: int, edge_index: np.ndarray,
            link_props: np.ndarray) -> GraphDistances:
        """Positional information for ``num_nodes`` nodes and the working edges given."""
        edge_index = np.ascontiguousarray(edge_index, dtype=np.int64)
        link_props = np.ascontiguousarray(link_props, dtype=np.float32)
        key = np.int64(num_nodes).tobytes() + edge_index.tobytes() + link_props.tobytes()
        hit = self._store.get(key)
        if hit is not None:
            self._store.move_to_end(key)
            return hit
        value = self._compute(num_nodes, edge_index, link_props)
        self._store[key] = value
        self._bytes += value.pair.numel() * 4
        while len(self._store) > 1 and (len(self._store) > self.maxsize
                                        or self._bytes > self.max_bytes):
            _, old = self._store.popitem(last=False)
            self._bytes -= old.pair.numel() * 4
        return value

    def _compute(self, n: int, edge_index: np.ndarray, link_props: np.ndarray) -> GraphDistances:
        self.computations += 1
        w = eigrp_weights(link_props[:, 0], link_props[:, 1])
        d = distances(n, edge_index, w) if edge_index.shape[1] else np.full((n, n), np.inf)
        np.fill_diagonal(d, 0.0)
        finite = np.isfinite(d)
        off = finite & ~np.eye(n, dtype=bool)
        scale = float(d[off].mean()) if off.any() else 1.0
        scaled = np.where(finite, d / scale, self.clip)
        scaled = np.minimum(scaled, self.clip).astype(np.float32)
        closeness = np.stack([scaled.mean(1), scaled.mean(0)], axis=1).astype(np.float32)
        weight = (w / scale).astype(np.float32)
        pair = np.empty((POSITIONAL_PAIR_FEATURES, edge_index.shape[1], n), np.float32)
        pair[0] = scaled[edge_index[0]]
        pair[1] = scaled[edge_index[1]]
        pair[2] = np.maximum(weight[:, None] + pair[1] - pair[0], 0.0)
        pair[3] = np.exp(-pair[2])
        return GraphDistances(n, edge_index, w, weight, closeness, torch.from_numpy(pair))


# ------------------------------------------------------------------------- the networks


@dataclass
class GraphInputs:
    """A batch of padded observations prepared for :class:`FieldLinesNet` (one per forward).

    Built by :meth:`FieldLinesPolicy.prepare`. ``Z`` is the largest real node count in the
    batch (destinations), ``P`` the padding ``max_nodes``.
    """

    batch: Any                     # PyG Batch from obs_to_batch
    graphs: list[GraphDistances]
    node_pos: Tensor               # (|V|, 2) closeness
    edge_weight: Tensor            # (|E|, 1) scaled EIGRP weight
    pair: Tensor                   # (4, |E|, Z) positional pair features
    dst_local: Tensor              # (|E|,) receiver's id within its graph
    node_local: Tensor             # (|V|,)
    num_dest: int                  # Z
    pair_valid: Tensor             # (|E|, Z): destination real and not the edge's sender
    edge_local: Tensor             # (|E|,) index of the edge within its graph
    max_edges_per_graph: int
    _layout: dict[str, Tensor] | None = None

    @property
    def layout(self) -> dict[str, Tensor]:
        """Outgoing-edge layout per node (built lazily, shared by actor uses)."""
        if self._layout is None:
            self._layout = selection_layout(self)
        return self._layout


class FieldLinesNet(nn.Module):
    """The FieldLines rating network :math:`\\phi` (also used, averaged, as the critic).

    For ``e = (v, u)`` and destination ``z``, with :math:`(h_v, h_e)` from an
    :class:`~policies.mpn.MPN` and the positional pair features
    :math:`\\pi_{e,z} = [D_{vz}, D_{uz}, s_{ez}, \\exp(-s_{ez})]`,
    :math:`s_{ez} = w_e + D_{uz} - D_{vz} \\ge 0` (0 iff ``e`` starts a shortest path to ``z``):

    .. math::
        \\phi_{z,e} = \\langle q_e, k_z \\rangle + \\alpha_e^\\top \\pi_{e,z} + b_e, \\qquad
        [q_e, \\alpha_e, b_e] = f_{\\text{edge}}(h_e \\| h_u), \\quad k_z = f_{\\text{dest}}(h_z)

    where :math:`f` are 2-layer MLPs (hidden ``hidden_dim``, LeakyReLU). All per-node and
    per-edge work is done once; the only :math:`|E| \\times Z` work is one batched matrix
    product and a handful of element-wise operations (no :math:`|E| \\times Z \\times H`
    tensor), which keeps a 250-node step within a few milliseconds.

    Args:
        edge_in: edge feature size (``len(EDGE_OBS_FEATURES)`` per stacked frame).
        global_in: global feature size (``len(GLOBAL_OBS_FEATURES)`` per stacked frame).
        latent_dim: MPN latent size (default: 12).
        hidden_dim: hidden size of every MLP and size of :math:`q, k` (default: 12).
        num_steps: message passing steps L (default: 2).
        negative_slope: LeakyReLU slope (default: 0.01).
        mpn_reads_receiver: the MPN's edge updates read the receiver (default: True; False:
            the paper's literal formula, :class:`~policies.mpn.MPNLayer`).

    Shapes:
        - **input:** a :class:`GraphInputs` with |V| nodes, |E| edges, Z destinations
        - **output:** ratings :math:`(|E|, Z)` (entries with an invalid destination are
          meaningless; see ``GraphInputs.pair_valid``)
    """

    def __init__(self, edge_in: int, global_in: int, latent_dim: int = 12, hidden_dim: int = 12,
                 num_steps: int = 2, negative_slope: float = 0.01,
                 mpn_reads_receiver: bool = True):
        super().__init__()
        self.edge_in, self.global_in = edge_in, global_in
        self.latent_dim, self.hidden_dim, self.num_steps = latent_dim, hidden_dim, num_steps
        self.mpn = MPN(POSITIONAL_NODE_FEATURES, edge_in + POSITIONAL_EDGE_FEATURES, global_in,
                       latent_dim=latent_dim, hidden_dim=hidden_dim, num_steps=num_steps,
                       negative_slope=negative_slope, reads_receiver=mpn_reads_receiver)
        self.edge_head = mlp(2 * latent_dim, hidden_dim,
                             hidden_dim + POSITIONAL_PAIR_FEATURES + 1, 2, negative_slope,
                             activate_last=False)
        self.dest_head = mlp(latent_dim, hidden_dim, hidden_dim, 2, negative_slope,
                             activate_last=False)

    def forward(self, g: GraphInputs) -> Tensor:
        b = g.batch
        edge_attr = torch.cat([b.edge_attr, g.edge_weight], dim=-1)
        h_v, h_e = self.mpn(g.node_pos, b.edge_index, edge_attr, u=b.u, batch=b.batch)
        head = self.edge_head(torch.cat([h_e, h_v[b.edge_index[1]]], dim=-1))
        q, alpha, bias = head.split([self.hidden_dim, POSITIONAL_PAIR_FEATURES, 1], dim=-1)
        keys = self.dest_head(h_v)  # (|V|, H)
        z = g.num_dest
        if b.num_graphs == 1:
            rating = q @ keys[:z].t()  # (E, Z)
        else:  # per-graph products through padded (B, E_max, H) x (B, H, Z)
            k_pad = keys.new_zeros(b.num_graphs, z, self.hidden_dim)
            k_pad[b.batch, g.node_local] = keys
            q_pad = q.new_zeros(b.num_graphs, g.max_edges_per_graph, self.hidden_dim)
            q_pad[b.edge_graph, g.edge_local] = q
            rating = torch.bmm(q_pad, k_pad.transpose(1, 2))[b.edge_graph, g.edge_local]
        rating = rating + bias
        for j in range(POSITIONAL_PAIR_FEATURES):
            rating = torch.addcmul(rating, g.pair[j], alpha[:, j:j + 1])
        return rating

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(edge_in={self.edge_in}, global_in={self.global_in}, "
                f"latent_dim={self.latent_dim}, num_steps={self.num_steps})")


def selection_layout(g: GraphInputs) -> dict[str, Tensor]:
    """Index tables of the selector (``N = |V|`` global nodes, ``P`` padding, ``Z``
    destinations); no tensor grows with a node's degree:

    - ``edge_id`` (N, P): edge id of ``(v, u)`` by v's global and u's local id, or -1,
    - ``index`` (|E|, Z): the sender of every (edge, destination) pair (scatter index),
    - ``valid`` (N, Z): real (v, z) entry (z real, z != v, v has a working outgoing edge),
    - ``flat`` (N, Z): position of entry (v, z) in the flattened (B * P * P) action batch,
    - ``rows`` (N,): row of node v in the (B * P, P) action batch.
    """
    b = g.batch
    src = b.edge_index[0]
    n_total, p, z = b.num_nodes, b.max_nodes, g.num_dest
    device = src.device
    edge_id = torch.full((n_total, p), -1, dtype=torch.long, device=device)
    edge_id[src, g.dst_local] = torch.arange(src.numel(), device=device)
    dest = torch.arange(z, device=device)
    n_of_node = b.nodes_per_graph[b.batch]
    has_edge = torch.bincount(src, minlength=n_total) > 0
    valid = (dest[None, :] < n_of_node[:, None]) & (dest[None, :] != g.node_local[:, None])
    valid &= has_edge[:, None]
    flat = b.batch[:, None] * (p * p) + g.node_local[:, None] * p + dest[None, :]
    return {"edge_id": edge_id, "index": src[:, None].expand(-1, z), "valid": valid, "flat": flat,
            "rows": b.batch * p + g.node_local}


# ----------------------------------------------------------------------- distribution

class FieldLinesDistribution(Distribution):
    """The selector :math:`\\psi`: one categorical over ``v``'s outgoing edges per (v, z).

    Logits are ``rating / temperature`` of the working edges only, so non-neighbours and
    failed links have zero probability. Everything is computed in the sparse (edge,
    destination) layout with scatter reductions over each edge's sender. The joint
    log-probability of an action is the sum over real (v, z) entries; ignored entries (padded
    nodes or destinations, ``v == z``, nodes without working edges) contribute 0
    log-probability and 0 entropy, and always output 0. Ties (argmax) go to the smallest
    neighbour id.

    Args:
        ratings: (|E|, Z) ratings from :class:`FieldLinesNet`.
        temperature: scalar tensor > 0.
        inputs: the :class:`GraphInputs` the ratings were computed on.
    """

    def __init__(self, ratings: Tensor, temperature: Tensor, inputs: GraphInputs):
        super().__init__()
        self.inputs = inputs
        self.layout = inputs.layout
        self.valid = self.layout["valid"]
        self.logits = ratings / temperature  # (E, Z)
        self._lse: Tensor | None = None

    # helpers ---------------------------------------------------------------------
    @property
    def num_nodes(self) -> int:
        return self.inputs.batch.num_nodes

    def _group_max(self, x: Tensor) -> Tensor:
        out = x.new_full((self.num_nodes, x.size(1)), float("-inf"))
        return out.scatter_reduce(0, self.layout["index"], x, reduce="amax", include_self=True)

    @property
    def log_normalizer(self) -> Tensor:
        """(N, Z) log-sum-exp of the logits of every node's outgoing edges."""
        if self._lse is None:
            mx = self._group_max(self.logits.detach())
            mx = torch.where(torch.isfinite(mx), mx, torch.zeros_like(mx))
            shifted = torch.exp(self.logits - mx[self.inputs.batch.edge_index[0]])
            total = shifted.new_zeros(mx.shape).index_add(0, self.inputs.batch.edge_index[0],
                                                          shifted)
            self._lse = mx + torch.log(total)
        return self._lse

    def _group_argmax(self, x: Tensor) -> Tensor:
        """(N, Z) local neighbour id of the best edge per entry (smallest id among ties)."""
        src = self.inputs.batch.edge_index[0]
        p = self.inputs.batch.max_nodes
        best = self._group_max(x)
        # float ids: CPU scatter_reduce is ~10x faster on float32 than on int64
        dst = self.inputs.dst_local.to(x.dtype)[:, None].expand_as(x)
        cand = dst.masked_fill(x != best[src], float(p))
        out = x.new_full(best.shape, float(p))
        out = out.scatter_reduce(0, self.layout["index"], cand, reduce="amin", include_self=True)
        return out.long()

    def _to_actions(self, ids: Tensor) -> Tensor:
        """(N, Z) neighbour ids -> flat (B, P*P) actions (0 at ignored entries)."""
        b = self.inputs.batch
        p = b.max_nodes
        out = torch.zeros(b.num_graphs * p, p, dtype=torch.long, device=ids.device)
        out[self.layout["rows"], :ids.size(1)] = ids.masked_fill(~self.valid, 0)
        return out.view(b.num_graphs, p * p)

    def _per_graph(self, values: Tensor) -> Tensor:
        b = self.inputs.batch
        per_node = values.masked_fill(~self.valid, 0.0).sum(dim=1)
        return per_node.new_zeros(b.num_graphs).index_add(0, b.batch, per_node)

    def chosen_edges(self, actions: Tensor) -> Tensor:
        """Edge id (N, Z) of every entry's chosen neighbour, -1 if it is no working edge."""
        flat = actions.reshape(-1)
        flat = flat.round().long() if flat.is_floating_point() else flat.long()
        chosen = flat[self.layout["flat"]].clamp(0, self.inputs.batch.max_nodes - 1)
        return self.layout["edge_id"].gather(1, chosen)

    # SB3 Distribution API ---------------------------------------------------------
    def log_prob(self, actions: Tensor) -> Tensor:
        """Joint log-probability per graph, shape (B,)."""
        edges = self.chosen_edges(actions)
        picked = self.logits.gather(0, edges.clamp_min(0))
        lp = picked - self.log_normalizer
        return self._per_graph(lp.masked_fill(edges < 0, 0.0))

    def entropy(self) -> Tensor:
        """Sum of per-entry entropies per graph, shape (B,)."""
        src = self.inputs.batch.edge_index[0]
        logp = self.logits - self.log_normalizer[src]
        terms = -(logp.exp() * logp)
        ent = terms.new_zeros(self.valid.shape).index_add(0, src, terms)
        return self._per_graph(ent)

    def sample_ids(self) -> Tensor:
        u = torch.rand_like(self.logits).clamp_(1e-10, 1.0 - 1e-7)
        return self._group_argmax(self.logits.detach() - torch.log(-torch.log(u)))

    def mode_ids(self) -> Tensor:
        return self._group_argmax(self.logits.detach())

    def sample(self) -> Tensor:
        return self._to_actions(self.sample_ids())

    def mode(self) -> Tensor:
        return self._to_actions(self.mode_ids())

    def warm_start_actions(self, fallback: Tensor | None = None) -> Tensor:
        """EIGRP's next hops where they exist (else ``fallback`` ids, default: a sample)."""
        b = self.inputs.batch
        p = b.max_nodes
        table = np.full((b.num_graphs, p, p), -1, np.int64)
        for i, info in enumerate(self.inputs.graphs):
            table[i, :info.num_nodes, :info.num_nodes] = info.next_hops
        eigrp = torch.as_tensor(table.reshape(-1), device=self.logits.device)
        eigrp = eigrp[self.layout["flat"]]  # (N, Z)
        is_edge = self.layout["edge_id"].gather(1, eigrp.clamp_min(0)) >= 0
        other = self.sample_ids() if fallback is None else fallback
        return self._to_actions(torch.where((eigrp >= 0) & is_edge, eigrp, other))

    def proba_distribution_net(self, *args: Any, **kwargs: Any):  # pragma: no cover
        raise NotImplementedError("FieldLinesNet provides the ratings")

    def proba_distribution(self, *args: Any, **kwargs: Any):  # pragma: no cover
        return self

    def actions_from_params(self, *args: Any, deterministic: bool = False, **kwargs: Any):
        return self.get_actions(deterministic=deterministic)  # pragma: no cover

    def log_prob_from_params(self, *args: Any, **kwargs: Any):  # pragma: no cover
        actions = self.sample()
        return actions, self.log_prob(actions)


# ------------------------------------------------------------------------ SB3 policy


def prepare_inputs(obs: Mapping[str, Tensor], cache: DistanceCache) -> GraphInputs:
    """Padded observation batch -> :class:`GraphInputs` (one cache lookup per graph)."""
    batch = obs_to_batch(obs)
    device = batch.edge_index.device
    counts = batch.nodes_per_graph.tolist()
    ptr = batch.ptr
    graph = batch.edge_graph
    src_local = batch.edge_index[0] - ptr[graph]
    dst_local = batch.edge_index[1] - ptr[graph]
    edge_ptr = torch.zeros(batch.num_graphs + 1, dtype=torch.long, device=device)
    edge_ptr[1:] = torch.cumsum(torch.bincount(graph, minlength=batch.num_graphs), 0)
    ei_np = torch.stack([src_local, dst_local]).cpu().numpy()
    lp_np = batch.link_props.detach().cpu().numpy()
    eptr = edge_ptr.tolist()
    z = max(counts) if counts else 0
    graphs = [cache.get(n, ei_np[:, eptr[i]:eptr[i + 1]], lp_np[eptr[i]:eptr[i + 1]])
              for i, n in enumerate(counts)]
    if len(graphs) == 1:
        pair = graphs[0].pair.to(device)
    else:
        pair = torch.zeros(POSITIONAL_PAIR_FEATURES, int(eptr[-1]), z)
        for i, info in enumerate(graphs):
            pair[:, eptr[i]:eptr[i + 1], :info.num_nodes] = info.pair
        pair = pair.to(device)
    node_pos = np.concatenate([info.closeness for info in graphs]) if graphs else \
        np.zeros((0, POSITIONAL_NODE_FEATURES), np.float32)
    weight = np.concatenate([info.weight for info in graphs]) if graphs else \
        np.zeros(0, np.float32)
    node_local = torch.arange(batch.num_nodes, device=device) - ptr[batch.batch]
    dest = torch.arange(z, device=device)
    pair_valid = (dest[None, :] < batch.nodes_per_graph[graph][:, None]) & \
        (dest[None, :] != src_local[:, None])
    edge_local = torch.arange(graph.numel(), device=device) - edge_ptr[graph]
    max_edges = int((edge_ptr[1:] - edge_ptr[:-1]).max()) if graphs else 0
    return GraphInputs(
        edge_local=edge_local, max_edges_per_graph=max_edges,
        batch=batch, graphs=graphs, node_pos=torch.as_tensor(node_pos, device=device),
        edge_weight=torch.as_tensor(weight, device=device).unsqueeze(-1),
        pair=pair, dst_local=dst_local,
        node_local=node_local, num_dest=z, pair_valid=pair_valid)


def graph_mean(values: Tensor, g: GraphInputs) -> Tensor:
    """Mean of (|E|, Z) values over each graph's valid (edge, destination) pairs, (B, 1)."""
    b = g.batch
    mask = g.pair_valid.to(values.dtype)
    sums = values.new_zeros(b.num_graphs).index_add(0, b.edge_graph, (values * mask).sum(1))
    counts = values.new_zeros(b.num_graphs).index_add(0, b.edge_graph, mask.sum(1))
    return (sums / counts.clamp_min(1.0)).unsqueeze(-1)


class FieldLinesPolicy(ActorCriticPolicy):
    """FieldLines actor-critic for stable-baselines3 (``PPO(FieldLinesPolicy, venv)``).

    Works on PackeRL's padded Dict observation (raw or through
    :func:`packerl.wrappers.paper_wrappers`; the feature sizes are read from the space) and
    the flat ``MultiDiscrete`` next-hop action.

    Args:
        observation_space: the padded Dict observation space.
        action_space: ``MultiDiscrete([max_nodes] * max_nodes**2)`` (the env's
            ``next_hop_encoding="node"``).
        lr_schedule: learning rate schedule (from the algorithm).
        latent_dim: MPN latent size (default: 12).
        hidden_dim: hidden size of every MLP (default: 12).
        num_steps: message passing steps L (default: 2).
        init_temperature: initial Boltzmann temperature (default: 4).
        clip_distance: scaled distance of unreachable pairs (default: 10).
        mpn_reads_receiver: see :class:`FieldLinesNet` (default: True; False for the ablation
            of the paper's literal MPN formula).
        **kwargs: passed to ``ActorCriticPolicy`` (e.g. ``optimizer_class``,
            ``optimizer_kwargs``); ``net_arch`` etc. are ignored.

    Attributes:
        warm_start: when True, :meth:`forward` executes EIGRP's next hops (shortest paths
            with EIGRP weights of ``link_props``) and returns their log-probabilities
            under the current policy (B.7). Not saved with the model.
        cache: the :class:`DistanceCache` (one APSP per topology).
    """

    def __init__(self, observation_space, action_space, lr_schedule: Schedule,
                 latent_dim: int = 12, hidden_dim: int = 12, num_steps: int = 2,
                 init_temperature: float = 4.0, clip_distance: float = 10.0,
                 mpn_reads_receiver: bool = True, **kwargs: Any):
        self.latent_dim, self.hidden_dim, self.num_steps = latent_dim, hidden_dim, num_steps
        self.mpn_reads_receiver = bool(mpn_reads_receiver)
        self.init_temperature, self.clip_distance = float(init_temperature), clip_distance
        p = observation_space["node_mask"].shape[0]
        nvec = np.asarray(getattr(action_space, "nvec", []))
        if nvec.shape != (p * p,) or (nvec != p).any():
            raise ValueError(
                f"FieldLinesPolicy needs the node-id next-hop space MultiDiscrete([{p}] * "
                f"{p * p}), got {action_space}; make the environment with "
                "next_hop_encoding='node' (packerl train does)")
        kwargs["features_extractor_class"] = PaddedDictExtractor
        kwargs.setdefault("ortho_init", False)
        kwargs.pop("features_extractor_kwargs", None)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)
        self.warm_start = False
        self.cache = DistanceCache(clip=clip_distance)

    def _build(self, lr_schedule: Schedule) -> None:
        edge_in = self.observation_space["edge_attr"].shape[-1]
        global_in = self.observation_space["global"].shape[-1]
        net = {"latent_dim": self.latent_dim, "hidden_dim": self.hidden_dim,
               "num_steps": self.num_steps, "mpn_reads_receiver": self.mpn_reads_receiver}
        self.actor = FieldLinesNet(edge_in, global_in, **net)
        self.critic = FieldLinesNet(edge_in, global_in, **net)
        self.log_temperature = nn.Parameter(
            torch.tensor(math.log(self.init_temperature), dtype=torch.float32))
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1),
                                              **self.optimizer_kwargs)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        for key in ("net_arch", "activation_fn", "ortho_init", "use_sde", "log_std_init",
                    "full_std", "use_expln", "squash_output", "features_extractor_class",
                    "features_extractor_kwargs", "share_features_extractor",
                    "normalize_images"):
            data.pop(key, None)
        data.update(latent_dim=self.latent_dim, hidden_dim=self.hidden_dim,
                    num_steps=self.num_steps, init_temperature=self.init_temperature,
                    clip_distance=self.clip_distance)
        if not self.mpn_reads_receiver:  # saved only when set: older models load unchanged
            data["mpn_reads_receiver"] = False
        return data

    @property
    def temperature(self) -> Tensor:
        return self.log_temperature.exp()

    def prepare(self, obs: Mapping[str, Tensor]) -> GraphInputs:
        return prepare_inputs(obs, self.cache)

    def _distribution(self, g: GraphInputs) -> FieldLinesDistribution:
        return FieldLinesDistribution(self.actor(g), self.temperature, g)

    def _values(self, g: GraphInputs) -> Tensor:
        return graph_mean(self.critic(g), g)

    def forward(self, obs: Mapping[str, Tensor],
                deterministic: bool = False) -> tuple[Tensor, Tensor, Tensor]:
        g = self.prepare(obs)
        dist = self._distribution(g)
        if self.warm_start:
            actions = dist.warm_start_actions(dist.mode_ids() if deterministic else None)
        else:
            actions = dist.get_actions(deterministic=deterministic)
        return actions, self._values(g), dist.log_prob(actions)

    def evaluate_actions(self, obs: Mapping[str, Tensor],
                         actions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        g = self.prepare(obs)
        dist = self._distribution(g)
        return self._values(g), dist.log_prob(actions), dist.entropy()

    def get_distribution(self, obs: Mapping[str, Tensor]) -> FieldLinesDistribution:
        return self._distribution(self.prepare(obs))

    def predict_values(self, obs: Mapping[str, Tensor]) -> Tensor:
        return self._values(self.prepare(obs))

    def _predict(self, observation: Mapping[str, Tensor],
                 deterministic: bool = False) -> Tensor:
        return self.get_distribution(observation).get_actions(deterministic=deterministic)

    def ratings(self, obs: Mapping[str, Tensor]) -> tuple[Tensor, GraphInputs]:
        """The actor's (|E|, Z) ratings and the prepared inputs (for inspection)."""
        g = self.prepare(obs)
        return self.actor(g), g
