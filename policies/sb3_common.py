# SPDX-License-Identifier: GPL-2.0-only
"""Shared stable-baselines3 helpers for the graph policies: padded observation -> PyG ``Batch``.

stable-baselines3 hands a policy the padded Dict observation (see :mod:`packerl.spaces`) as a
dict of tensors with a leading batch axis ``B``. Note that SB3's rollout buffers store every
key as float32, so integer keys (``edge_index``, masks, ``sizes``) may arrive as floats;
:func:`obs_to_batch` casts them back.

Example:
    >>> import numpy as np, torch
    >>> from packerl.spaces import observation_space
    >>> obs = {k: torch.as_tensor(v[None]) for k, v in
    ...        observation_space(4, 4).sample().items()}
    >>> obs["node_mask"][:] = torch.tensor([1, 1, 1, 0])
    >>> obs["edge_mask"][:] = 0; obs["edge_mask"][0, :2] = 1
    >>> obs["edge_index"][0, :, :2] = torch.tensor([[0, 1], [1, 0]])
    >>> batch = obs_to_batch(obs)
    >>> batch.num_graphs, batch.num_nodes, batch.edge_index.tolist()
    (1, 3, [[0, 1], [1, 0]])
"""

from __future__ import annotations

from collections.abc import Mapping

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import Tensor
from torch_geometric.data import Batch

__all__ = ["PaddedDictExtractor", "obs_to_batch"]


def obs_to_batch(obs: Mapping[str, Tensor]) -> Batch:
    """Rebuild the real graphs of a batch of padded observations as one PyG ``Batch``.

    Real nodes of graph ``b`` are its first ``node_mask[b].sum()`` slots (PackeRL pads at the
    end); only working edge slots (``edge_mask``) become edges. Fully vectorised.

    Args:
        obs: the padded Dict observation as tensors with a leading batch axis (a single
            unbatched observation is accepted too).

    Returns:
        A ``Batch`` with ``num_nodes`` (real nodes only), ``batch``, ``ptr``, and

        - ``edge_index`` (2, |E|) global node ids, ``edge_attr`` (|E|, F_E),
        - ``link_props`` (|E|, 2) raw datarate (bit/s) and delay (ms),
        - ``u`` (B, F_U) global features, ``x`` (|V|, F_V) node features if present,
        - ``edge_graph`` (|E|,) graph of every edge, ``edge_slot`` (|E|,) its padded slot,
        - ``nodes_per_graph`` (B,), ``max_nodes`` (the padding P, an int).
    """
    if obs["node_mask"].dim() == 1:
        obs = {k: v.unsqueeze(0) for k, v in obs.items()}
    node_mask = obs["node_mask"].round().long()
    edge_mask = obs["edge_mask"].round().bool()
    edge_index = obs["edge_index"].round().long()
    device = node_mask.device
    num_graphs, max_nodes = node_mask.shape
    counts = node_mask.sum(dim=1)
    ptr = torch.zeros(num_graphs + 1, dtype=torch.long, device=device)
    ptr[1:] = torch.cumsum(counts, 0)
    batch = torch.repeat_interleave(torch.arange(num_graphs, device=device), counts)
    graph, slot = edge_mask.nonzero(as_tuple=True)
    ei = (edge_index[graph, :, slot].t() + ptr[graph].unsqueeze(0)).contiguous()  # (2, |E|)
    data = {
        "edge_index": ei,
        "edge_attr": obs["edge_attr"][graph, slot].float(),
        "link_props": obs["link_props"][graph, slot].float(),
        "u": obs["global"].float().reshape(num_graphs, -1),
        "batch": batch,
        "ptr": ptr,
        "edge_graph": graph,
        "edge_slot": slot,
        "nodes_per_graph": counts,
    }
    if "node_attr" in obs:
        real = node_mask.bool()
        data["x"] = obs["node_attr"][real].float()
    out = Batch(**data)
    out.num_nodes = int(ptr[-1])
    out.max_nodes = int(max_nodes)
    out._num_graphs = int(num_graphs)
    return out


class PaddedDictExtractor(BaseFeaturesExtractor):
    """A pass-through features extractor: graph policies read the padded dict themselves.

    ``features_dim`` is a placeholder (1) required by SB3; the extractor returns the
    observation dict unchanged (no flattening, no float casting of integer keys).
    """

    def __init__(self, observation_space: gym.spaces.Dict):
        super().__init__(observation_space, features_dim=1)

    def forward(self, observations: Mapping[str, Tensor]) -> Mapping[str, Tensor]:
        return observations
