# SPDX-License-Identifier: GPL-2.0-only
"""Message Passing Networks (MPNs) as used by M-Slim and FieldLines (paper Section 5, B.8).

An MPN step (Sanchez-Gonzalez et al., 2020; Freymuth et al., 2024) first updates every directed
edge ``e = (v, u)`` from its sender ``v`` and itself, then every node from itself and the
aggregate of its *outgoing* edges' new features:

.. math::
    \\mathbf{x}^{l+1}_e = f^l_E(\\mathbf{x}^l_v, \\mathbf{x}^l_e), \\qquad
    \\mathbf{x}^{l+1}_v = f^l_V\\Big(\\mathbf{x}^l_v,
        \\bigoplus_{e = (v, u)} \\mathbf{x}^{l+1}_e\\Big)

with :math:`\\oplus` the concatenation of mean and min. Every :math:`f` is a 2-layer MLP
(hidden size 12, LeakyReLU), followed by a residual connection and layer normalisation on node
and edge features independently (B.8).

:class:`MPN` wraps input encoders, ``num_steps`` :class:`MPNLayer` s and optional linear
readouts; global features are broadcast to the nodes and edges of their graph (via ``batch``)
at the encoder.

Example:
    >>> import torch
    >>> mpn = MPN(node_in=0, edge_in=3, global_in=2, edge_out=1)
    >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> x, e = mpn(None, edge_index, torch.randn(4, 3), u=torch.randn(1, 2), num_nodes=3)
    >>> tuple(x.shape), tuple(e.shape)
    ((3, 12), (4, 1))
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.typing import Adj, OptTensor

__all__ = ["MPN", "MPNLayer", "mlp"]


def mlp(in_dim: int, hidden_dim: int, out_dim: int, num_layers: int = 2,
        negative_slope: float = 0.01, activate_last: bool = True) -> nn.Sequential:
    """A ``num_layers``-layer MLP with LeakyReLU after every layer (the last one optional).

    Args:
        in_dim: input size.
        hidden_dim: hidden layer size.
        out_dim: output size.
        num_layers: number of linear layers (default: 2).
        negative_slope: LeakyReLU slope (default: 0.01).
        activate_last: apply LeakyReLU after the last layer too (default: True).
    """
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1, got {num_layers}")
    dims = [in_dim] + [hidden_dim] * (num_layers - 1) + [out_dim]
    layers: list[nn.Module] = []
    for i in range(num_layers):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < num_layers - 1 or activate_last:
            layers.append(nn.LeakyReLU(negative_slope))
    return nn.Sequential(*layers)


def _reset(module: nn.Module | None) -> None:
    """Call ``reset_parameters()`` on ``module`` and every submodule that has it."""
    if module is None:
        return
    for layer in module.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()


class MPNLayer(MessagePassing):
    r"""One MPN step: edge update from (sender, receiver, edge), node update from (node, mean ‖
    min of its outgoing edges' new features), residual connection and layer norm on both.

    .. math::
        \mathbf{e}'_{vu} &= \mathrm{LN}_E\big(\mathbf{e}_{vu} +
            f_E(\mathbf{x}_v \,\|\, \mathbf{x}_u \,\|\, \mathbf{e}_{vu})\big) \\
        \mathbf{x}'_v &= \mathrm{LN}_V\big(\mathbf{x}_v + f_V(\mathbf{x}_v \,\|\,
            \mathrm{mean}_{u}\, \mathbf{m}_{vu} \,\|\, \min_{u} \mathbf{m}_{vu})\big)

    where :math:`\mathbf{m}_{vu} = f_E(\mathbf{x}_v \| \mathbf{x}_u \| \mathbf{e}_{vu})` is the
    new edge feature before the residual (nodes without outgoing edges aggregate zeros). The
    aggregation runs over *outgoing* edges (``flow="target_to_source"``), so ``x_i`` in
    :meth:`edge_update` is the sender ``edge_index[0]`` and ``x_j`` the receiver.

    The paper's formula (Section 5) writes :math:`f_E(\mathbf{x}_v, \mathbf{e}_{vu})` only;
    read literally, a node would only ever see itself and its own edges, however many steps
    are stacked. Like the MPNs it cites (Sanchez-Gonzalez et al. 2020, Freymuth et al. 2024),
    the edge update here also reads the receiver, so L steps reach L hops;
    ``reads_receiver=False`` is the literal formula (for the ablation of this deviation).

    Args:
        node_dim: node feature size (in and out).
        edge_dim: edge feature size (in and out).
        hidden_dim: hidden size of the update MLPs (default: 12).
        num_layers: layers per update MLP (default: 2).
        negative_slope: LeakyReLU slope (default: 0.01).
        residual: add the residual connections (default: True).
        layer_norm: apply layer normalisation after the residual (default: True).
        reads_receiver: the edge update reads the receiver's features (default: True; False:
            the paper's literal :math:`f_E(\mathbf{x}_v, \mathbf{e}_{vu})`).

    Shapes:
        - **input:** node features :math:`(|V|, F_V)`, edge indices :math:`(2, |E|)`,
          edge features :math:`(|E|, F_E)`
        - **output:** node features :math:`(|V|, F_V)`, edge features :math:`(|E|, F_E)`
    """

    def __init__(self, node_dim: int, edge_dim: int, hidden_dim: int = 12, num_layers: int = 2,
                 negative_slope: float = 0.01, residual: bool = True, layer_norm: bool = True,
                 reads_receiver: bool = True):
        super().__init__(aggr=["mean", "min"], flow="target_to_source")
        self.node_dim_ = node_dim  # `node_dim` is MessagePassing's propagation axis
        self.edge_dim = edge_dim
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.negative_slope = negative_slope
        self.residual = residual
        self.layer_norm = layer_norm
        self.reads_receiver = reads_receiver
        self.edge_mlp = mlp((2 if reads_receiver else 1) * node_dim + edge_dim, hidden_dim,
                            edge_dim, num_layers, negative_slope)
        self.node_mlp = mlp(node_dim + 2 * edge_dim, hidden_dim, node_dim, num_layers,
                            negative_slope)
        self.edge_norm = nn.LayerNorm(edge_dim) if layer_norm else nn.Identity()
        self.node_norm = nn.LayerNorm(node_dim) if layer_norm else nn.Identity()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        for module in (self.edge_mlp, self.node_mlp, self.edge_norm, self.node_norm):
            _reset(module)

    def forward(self, x: Tensor, edge_index: Adj, edge_attr: Tensor) -> tuple[Tensor, Tensor]:
        """Returns the updated ``(x, edge_attr)``."""
        message = self.edge_updater(edge_index, x=x, edge_attr=edge_attr)
        aggregated = self.propagate(edge_index, message=message, size=(x.size(0), x.size(0)))
        node_update = self.node_mlp(torch.cat([x, aggregated], dim=-1))
        if self.residual:
            message = edge_attr + message
            node_update = x + node_update
        return self.node_norm(node_update), self.edge_norm(message)

    def edge_update(self, x_i: Tensor, x_j: Tensor, edge_attr: Tensor) -> Tensor:
        # flow target_to_source: i = edge_index[0], the sender v of e = (v, u); j the receiver
        parts = [x_i, x_j, edge_attr] if self.reads_receiver else [x_i, edge_attr]
        return self.edge_mlp(torch.cat(parts, dim=-1))

    def message(self, message: Tensor) -> Tensor:
        return message

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(node_dim={self.node_dim_}, edge_dim={self.edge_dim}, "
                f"hidden_dim={self.hidden_dim})")


class MPN(nn.Module):
    """Encoders, ``num_steps`` :class:`MPNLayer` s and optional linear readouts.

    Node inputs are ``x_v ‖ u_{batch[v]}``, edge inputs ``e_{vu} ‖ u_{batch[v]}`` (global
    features ``u`` broadcast to their graph); each is encoded to ``latent_dim`` by a 2-layer
    MLP. If an input is empty (e.g. no node features and no globals), a constant 1 is encoded
    instead, i.e. a learned initial embedding. Readouts are plain linear layers (no
    activation), present only if ``node_out``/``edge_out`` are given.

    Args:
        node_in: node input feature size, may be 0.
        edge_in: edge input feature size, may be 0.
        global_in: global feature size, may be 0 (default: 0).
        latent_dim: node and edge latent size (default: 12).
        hidden_dim: hidden size of every MLP (default: 12).
        num_steps: number of message passing steps L (default: 2).
        num_layers: layers per MLP (default: 2).
        node_out: size of a linear node readout, or None for the latent features
            (default: None).
        edge_out: size of a linear edge readout, or None for the latent features
            (default: None).
        negative_slope: LeakyReLU slope (default: 0.01).
        residual: residual connections in every step (default: True).
        layer_norm: layer normalisation in every step (default: True).
        reads_receiver: every step's edge update reads the receiver (default: True; see
            :class:`MPNLayer`).

    Shapes:
        - **input:** node features :math:`(|V|, F_V)` or None, edge indices :math:`(2, |E|)`,
          edge features :math:`(|E|, F_E)` or None, global features :math:`(B, F_U)` or None,
          batch vector :math:`(|V|)` or None (one graph)
        - **output:** node features :math:`(|V|, \\text{node\\_out or latent\\_dim})`,
          edge features :math:`(|E|, \\text{edge\\_out or latent\\_dim})`
    """

    def __init__(self, node_in: int, edge_in: int, global_in: int = 0, latent_dim: int = 12,
                 hidden_dim: int = 12, num_steps: int = 2, num_layers: int = 2,
                 node_out: int | None = None, edge_out: int | None = None,
                 negative_slope: float = 0.01, residual: bool = True, layer_norm: bool = True,
                 reads_receiver: bool = True):
        super().__init__()
        if min(node_in, edge_in, global_in) < 0:
            raise ValueError("input sizes must be >= 0, got "
                             f"node_in={node_in}, edge_in={edge_in}, global_in={global_in}")
        if num_steps < 0:
            raise ValueError(f"num_steps must be >= 0, got {num_steps}")
        self.node_in, self.edge_in, self.global_in = node_in, edge_in, global_in
        self.latent_dim, self.hidden_dim = latent_dim, hidden_dim
        self.num_steps, self.num_layers = num_steps, num_layers
        self.node_out, self.edge_out = node_out, edge_out
        self.negative_slope = negative_slope
        self.node_encoder = mlp(max(node_in + global_in, 1), hidden_dim, latent_dim, num_layers,
                                negative_slope)
        self.edge_encoder = mlp(max(edge_in + global_in, 1), hidden_dim, latent_dim, num_layers,
                                negative_slope)
        self.layers = nn.ModuleList(
            MPNLayer(latent_dim, latent_dim, hidden_dim, num_layers, negative_slope, residual,
                     layer_norm, reads_receiver) for _ in range(num_steps))
        self.node_readout = nn.Linear(latent_dim, node_out) if node_out is not None else None
        self.edge_readout = nn.Linear(latent_dim, edge_out) if edge_out is not None else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in (self.node_encoder, self.edge_encoder, self.node_readout,
                       self.edge_readout):
            _reset(module)
        for layer in self.layers:
            layer.reset_parameters()

    @staticmethod
    def _inputs(parts: list[Tensor | None], rows: int, like: Tensor) -> Tensor:
        present = [p for p in parts if p is not None and p.size(-1) > 0]
        if not present:
            return like.new_ones(rows, 1)
        return torch.cat(present, dim=-1) if len(present) > 1 else present[0]

    def forward(self, x: OptTensor, edge_index: Adj, edge_attr: OptTensor = None,
                u: OptTensor = None, batch: OptTensor = None,
                num_nodes: int | None = None) -> tuple[Tensor, Tensor]:
        """Run the MPN.

        Args:
            x: node features, or None if ``node_in == 0`` (then ``num_nodes`` or ``batch``
                gives the node count).
            edge_index: directed edges ``(sender, receiver)``.
            edge_attr: edge features, or None if ``edge_in == 0``.
            u: global features, one row per graph, or None if ``global_in == 0``.
            batch: graph index of every node (default: all nodes in graph 0).
            num_nodes: node count when ``x`` is None.

        Returns:
            ``(node_features, edge_features)``.
        """
        if x is not None:
            n = x.size(0)
        elif batch is not None:
            n = batch.numel()
        elif num_nodes is not None:
            n = int(num_nodes)
        else:
            raise ValueError("pass `x`, `batch` or `num_nodes` so the MPN knows the node count")
        like = next(self.parameters())
        u_nodes = u_edges = None
        if self.global_in > 0:
            if u is None:
                raise ValueError(f"this MPN expects global features of size {self.global_in}")
            u = u.reshape(-1, self.global_in)
            if batch is None:
                batch = torch.zeros(n, dtype=torch.long, device=like.device)
            u_nodes = u[batch]
            u_edges = u_nodes[edge_index[0]]
        h_v = self.node_encoder(self._inputs([x, u_nodes], n, like))
        h_e = self.edge_encoder(self._inputs([edge_attr, u_edges], edge_index.size(1), like))
        for layer in self.layers:
            h_v, h_e = layer(h_v, edge_index, h_e)
        if self.node_readout is not None:
            h_v = self.node_readout(h_v)
        if self.edge_readout is not None:
            h_e = self.edge_readout(h_e)
        return h_v, h_e

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(node_in={self.node_in}, edge_in={self.edge_in}, "
                f"global_in={self.global_in}, latent_dim={self.latent_dim}, "
                f"num_steps={self.num_steps})")
