# SPDX-License-Identifier: GPL-2.0-only
"""M-Slim: link-weight routing by an MPN on the line digraph (PackeRL paper, Section 5.1).

M-Slim ("MAGNNETO-Slim") turns a network state S_t into one positive weight per working
directed link; the environment (``packerl/PackeRL-LinkWeights-v0``) routes by shortest paths
over these weights, one all-pairs shortest-path computation (APSP) per step.

Pipeline (one observation, batched over graphs in practice):

1. **Line digraph** (Appendix B.6, :func:`line_digraph`): every working directed edge
   ``(u, v)`` becomes a node; an arc ``(u, v) -> (v, x)`` joins it to every working edge that
   leaves ``v``. The U-turn ``(u, v) -> (v, u)`` is *included*: the paper's definition
   ``P = {((u, v), (w, x)) | v = w}`` does not exclude ``x = u`` (nor does NetworkX's
   ``line_graph``); in a full-duplex network the reverse link is a real neighbour whose load
   matters. ``u_turns=False`` drops them.
2. **Inputs** per line-digraph node, i.e. per directed link: its link utilisation (column
   ``link_util`` of every stacked frame of ``edge_attr`` as the wrappers left it, oldest
   first; ``lu_frames="last"`` keeps the newest only) and its *last link weight* (see below)
   divided by the mean last weight of the graph's working links (shortest paths do not depend
   on the weights' scale).
3. **Actor**: an MPN (:class:`policies.mpn.MPN`, L = 2 steps, width 12, Appendix B.8) over the
   line digraph (arcs carry the inputs of both links they join, so that links see their
   neighbours; a link reads its successors by default, see :class:`LineDigraphNet`), a linear
   read-out per node and Softplus: the mean ``mu > 0`` of a diagonal
   Gaussian with one learnable standard deviation ``sigma`` shared by all links (initial 1;
   one scalar so that the policy works on any topology size).
4. **Critic** (Appendix B.7): a separate network of the same design; the mean over its
   per-link outputs is the value of the graph.

**Last link weights.** The paper feeds the weights the policy chose at the previous step.
stable-baselines3 policies must be stateless functions of the observation (PPO re-evaluates
stored observations in random minibatches), so the previous action has to be part of the
observation: the policy reads the key ``last_link_weights`` ``(2 * max_edges,)`` when the
observation space has one (the link-weight environment made with ``last_action=True``: ones
at S0, the applied weights afterwards), and otherwise uses the link's EIGRP weight
``256 * (1e7 / bw_kbps + delay_us / 10)`` computed from ``link_props``, i.e. the weights
routing starts from.

**Positivity.** The environment rejects weights that are not finite and > 0, and SB3's PPO
neither squashes nor transforms Gaussian actions (``squash_output`` needs gSDE): it only
*clips* them to the Box bounds, which would turn a negative sample into a rejected value.
So M-Slim's actions are positive by construction (on the env's ``link_weights="raw"`` space,
``Box(float32 tiny, float32 max)``). A sampled weight is ``w = max(|z|, MIN_WEIGHT)`` with
``z ~ N(mu, sigma)``:
the Gaussian is *folded* at zero. The action PPO stores is ``w`` itself and its log-density
is the exact folded-normal density ``N(w; mu, sigma) + N(-w; mu, sigma)`` (for ``mu >> sigma``
the plain Gaussian), summed over working links only; padded and failed slots always get
:data:`UNUSED_SLOT_WEIGHT` and add nothing to log-probabilities or entropy. The entropy term is
the Gaussian's (an upper bound of the folded one, exact for ``mu >> sigma``; PPO uses it only
with ``ent_coef > 0``). The deterministic action (evaluation) is ``max(mu, MIN_WEIGHT)``, the
paper's "mean used as link weights".

**Held exploration noise** (a deviation from the paper, off by default). The paper draws a
fresh ``z`` for every link at every 5 ms step, so one step's noise changes little of an
episode's return and PPO's gradient is dominated by it (``experiments/gradient_agreement.py``).
With SB3's ``PPO(..., use_sde=True, sde_sample_freq=k)`` M-Slim instead holds the standard
normal draw ``eps`` (``z = mu + sigma * eps``) of every environment's slots for ``k`` steps
(``k = -1``: a whole rollout), as SB3 holds gSDE's noise matrix: each step's action is still
a sample of the same folded Gaussian, and PPO's log-probabilities are unchanged; what changes
is that one perturbation of the link weights lasts long enough to move the return. ``k``
equal to the episode length gives one perturbation per episode (``packerl train``'s
``noise_hold``). This is not gSDE: the noise does not depend on the state. Measured, it made
M-Slim worse, not better (README, "Why PPO does not move M-Slim"): a held draw shapes the
states that follow it, so the per-step log-probability gradients PPO uses no longer have mean
zero.

Example:
    >>> from stable_baselines3 import PPO
    >>> from packerl.env import PackeRLLinkWeightsEnv
    >>> from packerl.vector import PackeRLSB3VecEnv
    >>> from packerl.wrappers import paper_wrappers
    >>> venv = PackeRLSB3VecEnv([lambda: paper_wrappers(
    ...     PackeRLLinkWeightsEnv(topology="nx-XS", traffic="udp_low", episode_steps=8,
    ...                           link_weights="raw"))])
    >>> model = PPO(MSlimPolicy, venv, n_steps=8, batch_size=8, n_epochs=1,
    ...             learning_rate=3e-3, device="cpu")
    >>> weights, _ = model.predict(venv.reset(), deterministic=True)
    >>> bool((weights > 0).all())
    True
    >>> venv.close()
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import Tensor, nn

from packerl.routing import EIGRP_DELAY_UNIT_US, EIGRP_REFERENCE_KBPS
from packerl.spaces import EDGE_OBS_FEATURES
from policies.mpn import MPN
from policies.sb3_common import PaddedDictExtractor, obs_to_batch

#: weight given to padded and failed edge slots (the environment ignores them)
UNUSED_SLOT_WEIGHT = 1.0
#: smallest weight M-Slim ever outputs (float32 Softplus can underflow to 0)
MIN_WEIGHT = 1e-6
#: observation key with the weights applied at the previous step, used when present
LAST_WEIGHTS_KEY = "last_link_weights"

_LINK_UTIL = EDGE_OBS_FEATURES.index("link_util")
_NUM_EDGE_FEATURES = len(EDGE_OBS_FEATURES)
_LOG_SQRT_2PI = 0.5 * float(np.log(2.0 * np.pi))


# ------------------------------------------------------------------------------ line digraph


def line_digraph(edge_index: Tensor | np.ndarray, num_nodes: int | None = None,
                 u_turns: bool = True) -> Tensor:
    """The arcs of the line digraph of a directed graph (paper, Appendix B.6).

    Node ``a`` of the line digraph is column ``a`` of ``edge_index``, i.e. the directed edge
    ``(u, v)``; there is an arc ``a -> b`` for every edge ``b = (v, x)`` leaving ``v``
    (``x = u``, the U-turn, only with ``u_turns=True``). Vectorised: the edges are sorted by
    source once and every edge's successors are read off as one contiguous block.

    Args:
        edge_index: (2, E) source and target node of every directed edge (torch or NumPy).
        num_nodes: number of nodes (default: ``max(edge_index) + 1``).
        u_turns: keep the arcs ``(u, v) -> (v, u)`` (default: True).

    Returns:
        (2, P) int64 tensor of arcs ``[a, b]`` (indices into the columns of ``edge_index``),
        grouped by ``a``; ``P = sum over edges (u, v) of outdeg(v)`` with U-turns.

    Shapes:
        ``edge_index``: (2, E) -> (2, P)

    Example:
        >>> line_digraph(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])).tolist()
        [[0, 0, 1, 2, 3, 3], [1, 2, 0, 3, 1, 2]]
    """
    ei = torch.as_tensor(np.asarray(edge_index) if isinstance(edge_index, np.ndarray)
                         else edge_index).long()
    if ei.dim() != 2 or ei.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(ei.shape)}")
    src, dst = ei[0], ei[1]
    e = src.numel()
    if e == 0:
        return ei.new_zeros((2, 0))
    n = int(ei.max()) + 1 if num_nodes is None else int(num_nodes)
    order = torch.argsort(src, stable=True)
    out_deg = torch.bincount(src, minlength=n)
    block = torch.cumsum(out_deg, 0) - out_deg  # where each node's out-edges start in `order`
    fan = out_deg[dst]  # arcs leaving line node a = (u, v): outdeg(v)
    first = torch.repeat_interleave(torch.arange(e, device=ei.device), fan)
    arc_start = torch.cumsum(fan, 0) - fan
    offset = torch.arange(first.numel(), device=ei.device) - torch.repeat_interleave(arc_start, fan)
    second = order[torch.repeat_interleave(block[dst], fan) + offset]
    if not u_turns:
        keep = dst[second] != src[first]
        first, second = first[keep], second[keep]
    return torch.stack([first, second])


# --------------------------------------------------------------------------- the distribution


class FoldedGaussianDistribution(Distribution):
    """Diagonal Gaussian over link weights, folded at zero, over the working slots only.

    ``z ~ N(mu, sigma)`` per working slot, the action is ``max(|z|, MIN_WEIGHT)``; padded
    slots are fixed to :data:`UNUSED_SLOT_WEIGHT`. See the module docstring.

    Shapes:
        ``mean``, ``mask``: (B, S) for B graphs with S edge slots; ``log_std``: scalar or (1,).
    """

    def __init__(self) -> None:
        super().__init__()
        self.mean: Tensor | None = None
        self.log_std: Tensor | None = None
        self.mask: Tensor | None = None
        #: (n_envs, S) standard normal draw held between :meth:`hold_noise` calls, or None
        self.held: Tensor | None = None

    def hold_noise(self, n_envs: int, slots: int) -> None:
        """Draw the noise :meth:`sample` uses for batches of ``n_envs`` until the next call."""
        self.held = torch.randn(n_envs, slots)

    def proba_distribution_net(self, *args: Any, **kwargs: Any) -> nn.Module:
        raise NotImplementedError("M-Slim builds its own networks (see MSlimPolicy)")

    def proba_distribution(self, mean: Tensor, log_std: Tensor,
                           mask: Tensor) -> FoldedGaussianDistribution:
        self.mean, self.log_std, self.mask = mean, log_std.reshape(()), mask.bool()
        return self

    def _fill(self, weights: Tensor) -> Tensor:
        return torch.where(self.mask, weights, torch.full_like(weights, UNUSED_SLOT_WEIGHT))

    def log_prob(self, actions: Tensor) -> Tensor:
        """Sum over working slots of the folded-normal log-density; shape (B,)."""
        std = self.log_std.exp()
        w = actions.to(self.mean.dtype).abs()
        a = -0.5 * ((w - self.mean) / std) ** 2
        b = -0.5 * ((w + self.mean) / std) ** 2
        per_slot = torch.logaddexp(a, b) - self.log_std - _LOG_SQRT_2PI
        return torch.where(self.mask, per_slot, torch.zeros_like(per_slot)).sum(dim=1)

    def entropy(self) -> Tensor:
        """Gaussian entropy per working slot, summed; shape (B,)."""
        per_slot = 0.5 + _LOG_SQRT_2PI + self.log_std
        return per_slot * self.mask.sum(dim=1).to(self.mean.dtype)

    def sample(self) -> Tensor:
        """A fresh draw per slot, or the held one (:meth:`hold_noise`) for a batch of its size."""
        if self.held is not None and self.held.shape == self.mean.shape:
            eps = self.held.to(self.mean.dtype)
        else:
            eps = torch.randn_like(self.mean)
        z = self.mean + self.log_std.exp() * eps
        return self._fill(z.abs().clamp_min(MIN_WEIGHT))

    def mode(self) -> Tensor:
        return self._fill(self.mean.clamp_min(MIN_WEIGHT))

    def actions_from_params(self, mean: Tensor, log_std: Tensor, mask: Tensor,
                            deterministic: bool = False) -> Tensor:
        self.proba_distribution(mean, log_std, mask)
        return self.get_actions(deterministic=deterministic)

    def log_prob_from_params(self, mean: Tensor, log_std: Tensor,
                             mask: Tensor) -> tuple[Tensor, Tensor]:
        actions = self.actions_from_params(mean, log_std, mask)
        return actions, self.log_prob(actions)


# ------------------------------------------------------------------------------- the networks


class LineGraph(NamedTuple):
    """A batch of observations as one disjoint line digraph (working links only)."""

    x: Tensor  #: (W, F) per-link input features
    arcs: Tensor  #: (2, P) line-digraph arcs, indices into the W links
    batch: Tensor  #: (W,) graph index of every link
    graph_slot: tuple[Tensor, Tensor]  #: (graph, slot) of every link, for scattering back
    num_graphs: int
    num_slots: int
    mask: Tensor  #: (B, S) bool working-slot mask


def _per_graph_mean(values: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    total = values.new_zeros((num_graphs,) + values.shape[1:]).index_add_(0, batch, values)
    count = torch.bincount(batch, minlength=num_graphs).clamp_min(1).to(values.dtype)
    return total / count.view((-1,) + (1,) * (values.dim() - 1))


def eigrp_weights_torch(datarate_bps: Tensor, delay_ms: Tensor) -> Tensor:
    """:func:`packerl.routing.eigrp_weights` in torch (float64 inside)."""
    kbps = datarate_bps.double().clamp_min(1.0) / 1e3
    delay_us = delay_ms.double() * 1e3
    return 256.0 * (EIGRP_REFERENCE_KBPS / kbps + delay_us / EIGRP_DELAY_UNIT_US)


Neighbours = Literal["successors", "predecessors", "both"]
NEIGHBOURS: tuple[str, ...] = ("successors", "predecessors", "both")


class LineDigraphNet(nn.Module):
    """Per-link scalar outputs of an MPN on the line digraph.

    Line-digraph nodes (links) carry the link inputs. The shared MPN step
    (:class:`policies.mpn.MPNLayer`) updates an arc from its *sender* and itself and a node
    from its outgoing arcs only, so without arc features no information would ever cross from
    one link to another. Every arc therefore carries the inputs of both links it joins,
    ``x_reader || x_other``, and the arcs are oriented so that the *reader* is the sender:

    - ``"successors"`` (default, the paper's formula on the line digraph read literally): the
      arc ``a -> b`` as given; link ``(u, v)`` aggregates the links ``(v, x)`` its traffic
      continues on.
    - ``"predecessors"`` (MAGNNETO's actor, which aggregates link-pair messages at the
      outgoing link): arcs reversed; link ``(v, x)`` aggregates the links ``(u, v)`` feeding it.
    - ``"both"``: both sets of arcs, with a 0/1 arc feature telling them apart.

    Args:
        in_dim: input features per link.
        hidden_dim: latent and hidden width of the MPN (default: 12).
        steps: message-passing steps L (default: 2).
        neighbours: which line-digraph neighbours a link reads (default: ``"successors"``).
    """

    def __init__(self, in_dim: int, hidden_dim: int = 12, steps: int = 2,
                 neighbours: Neighbours = "successors"):
        super().__init__()
        if neighbours not in NEIGHBOURS:
            raise ValueError(f"neighbours must be one of {list(NEIGHBOURS)}, got {neighbours!r}")
        self.in_dim, self.hidden_dim, self.steps = in_dim, hidden_dim, steps
        self.neighbours = neighbours
        arc_in = 2 * in_dim + (neighbours == "both")
        self.mpn = MPN(node_in=in_dim, edge_in=arc_in, global_in=0, latent_dim=hidden_dim,
                       hidden_dim=hidden_dim, num_steps=steps, node_out=1)

    def oriented_arcs(self, arcs: Tensor) -> tuple[Tensor, Tensor]:
        """``(edge_index, flag)``: the (2, P') arcs the MPN runs on (sender = the reading
        link) and a (P',) 0/1 flag per arc (1 = the other link is a predecessor)."""
        if self.neighbours == "successors":
            return arcs, arcs.new_zeros(arcs.shape[1])
        if self.neighbours == "predecessors":
            return arcs.flip(0), arcs.new_ones(arcs.shape[1])
        both = torch.cat([arcs, arcs.flip(0)], dim=1)
        flag = torch.cat([arcs.new_zeros(arcs.shape[1]), arcs.new_ones(arcs.shape[1])])
        return both, flag

    def forward(self, graph: LineGraph) -> Tensor:
        """(W,) one value per link."""
        arcs, flag = self.oriented_arcs(graph.arcs)
        parts = [graph.x[arcs[0]], graph.x[arcs[1]]]
        if self.neighbours == "both":
            parts.append(flag.to(graph.x.dtype).unsqueeze(-1))
        h, _ = self.mpn(graph.x, arcs, torch.cat(parts, dim=-1))
        return h.squeeze(-1)


# ------------------------------------------------------------------------- the SB3 policy


class MSlimPolicy(ActorCriticPolicy):
    """M-Slim for stable-baselines3's PPO on ``packerl/PackeRL-LinkWeights-v0``.

    Use ``PPO(MSlimPolicy, venv, learning_rate=3e-3, ...)`` (the paper's Adam learning rate);
    ``policy_kwargs`` may set the arguments below. Observations are the environment's padded
    Dict (optionally normalised and stacked by :func:`packerl.wrappers.paper_wrappers`);
    actions are ``(2 * max_edges,)`` float32 link weights, positive and finite in every slot.

    Args:
        observation_space: the environment's Dict observation space.
        action_space: the link-weight Box ``(2 * max_edges,)``.
        lr_schedule: learning-rate schedule (given by SB3).
        hidden_dim: MPN latent width (default: 12).
        mpn_steps: message-passing steps L (default: 2).
        lu_frames: ``"all"`` stacked link-utilisation frames or only the ``"last"``
            (default: ``"all"``).
        u_turns: include U-turn arcs in the line digraph (default: True).
        neighbours: which line-digraph neighbours a link reads, ``"successors"``,
            ``"predecessors"`` or ``"both"`` (default: ``"successors"``; see
            :class:`LineDigraphNet`).
        log_std_init: initial log of the shared standard deviation (default: 0, i.e. 1).
        **kwargs: passed to ``ActorCriticPolicy`` (``optimizer_class``, ...); ``net_arch``
            and ``activation_fn`` are not used.
    """

    def __init__(self, observation_space: spaces.Dict, action_space: spaces.Box,
                 lr_schedule: Schedule, hidden_dim: int = 12, mpn_steps: int = 2,
                 lu_frames: Literal["all", "last"] = "all", u_turns: bool = True,
                 neighbours: Neighbours = "successors", log_std_init: float = 0.0,
                 **kwargs: Any):
        self._check_spaces(observation_space, action_space)
        if lu_frames not in ("all", "last"):
            raise ValueError(f"lu_frames must be 'all' or 'last', got {lu_frames!r}")
        if neighbours not in NEIGHBOURS:
            raise ValueError(f"neighbours must be one of {list(NEIGHBOURS)}, got {neighbours!r}")
        if int(hidden_dim) < 1 or int(mpn_steps) < 0:
            raise ValueError(f"need hidden_dim >= 1 and mpn_steps >= 0, got {hidden_dim} and "
                             f"{mpn_steps}")
        self._mslim = {"hidden_dim": int(hidden_dim), "mpn_steps": int(mpn_steps),
                       "lu_frames": lu_frames, "u_turns": bool(u_turns),
                       "neighbours": neighbours}
        frames = observation_space["edge_attr"].shape[-1] // _NUM_EDGE_FEATURES
        self._lu_columns = [f * _NUM_EDGE_FEATURES + _LINK_UTIL for f in range(frames)]
        if lu_frames == "last":
            self._lu_columns = self._lu_columns[-1:]
        # SB3 always passes use_sde; True means held noise here (module docstring), not gSDE
        self.holds_noise = bool(kwargs.pop("use_sde", False))
        kwargs.setdefault("ortho_init", False)
        kwargs.setdefault("features_extractor_class", PaddedDictExtractor)
        super().__init__(observation_space, action_space, lr_schedule,
                         log_std_init=log_std_init, **kwargs)

    @staticmethod
    def _check_spaces(observation_space: spaces.Space, action_space: spaces.Space) -> None:
        needed = ("edge_attr", "link_props", "edge_index", "edge_mask")
        if not isinstance(observation_space, spaces.Dict) or \
                any(k not in observation_space.spaces for k in needed):
            raise ValueError(f"MSlimPolicy needs a PackeRL Dict observation with keys "
                             f"{list(needed)}, got {observation_space}")
        slots = observation_space["edge_mask"].shape[0]
        if not isinstance(action_space, spaces.Box) or action_space.shape != (slots,) \
                or (action_space.low < 0).any():
            raise ValueError(
                f"MSlimPolicy needs the raw link-weight action space (positive weights, shape "
                f"({slots},)) of `packerl/PackeRL-LinkWeights-v0`, got {action_space}; use the "
                "link-weight environment with link_weights='raw' (packerl train does)")

    # -------------------------------------------------------------------- SB3 plug-in points

    def _build(self, lr_schedule: Schedule) -> None:
        in_dim = len(self._lu_columns) + 1
        cfg = self._mslim
        self.actor = LineDigraphNet(in_dim, cfg["hidden_dim"], cfg["mpn_steps"],
                                    cfg["neighbours"])
        self.critic = LineDigraphNet(in_dim, cfg["hidden_dim"], cfg["mpn_steps"],
                                     cfg["neighbours"])
        self.log_std = nn.Parameter(torch.full((1,), float(self.log_std_init)))
        self.action_dist = FoldedGaussianDistribution()
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1),
                                              **self.optimizer_kwargs)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        for key in ("net_arch", "activation_fn", "use_sde", "full_std", "use_expln",
                    "squash_output", "ortho_init", "share_features_extractor"):
            data.pop(key, None)
        data.update(self._mslim)
        return data

    def forward(self, obs: PyTorchObs, deterministic: bool = False
                ) -> tuple[Tensor, Tensor, Tensor]:
        graph = self.line_graph(obs)
        dist = self._distribution(graph)
        actions = dist.get_actions(deterministic=deterministic)
        return actions, self._value(graph), dist.log_prob(actions)

    def evaluate_actions(self, obs: PyTorchObs, actions: Tensor
                         ) -> tuple[Tensor, Tensor, Tensor]:
        graph = self.line_graph(obs)
        dist = self._distribution(graph)
        return self._value(graph), dist.log_prob(actions), dist.entropy()

    def get_distribution(self, obs: PyTorchObs) -> FoldedGaussianDistribution:
        return self._distribution(self.line_graph(obs))

    def predict_values(self, obs: PyTorchObs) -> Tensor:
        return self._value(self.line_graph(obs))

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> Tensor:
        return self.get_distribution(observation).get_actions(deterministic=deterministic)

    def reset_noise(self, n_envs: int = 1) -> None:
        """Draw new held exploration noise for ``n_envs`` environments (SB3 calls this with
        ``use_sde=True`` at the start of a rollout and every ``sde_sample_freq`` steps)."""
        if not self.holds_noise:
            raise ValueError("reset_noise needs MSlimPolicy(use_sde=True) (held noise)")
        self.action_dist.hold_noise(n_envs, self.action_space.shape[0])

    # ------------------------------------------------------------------------------ M-Slim

    def line_graph(self, obs: PyTorchObs) -> LineGraph:
        """Turn a batch of padded observations into one disjoint line digraph.

        Accepts the dtypes SB3 produces (integer arrays from the environment, float32 from
        the rollout buffer) and a single unbatched observation.
        """
        graphs = obs_to_batch(obs)
        mask = obs["edge_mask"].reshape(graphs.num_graphs, -1) > 0.5  # (B, S)
        arcs = line_digraph(graphs.edge_index, num_nodes=graphs.num_nodes,
                            u_turns=self._mslim["u_turns"])
        link_graph = graphs.edge_graph
        lu = graphs.edge_attr[:, self._lu_columns]  # (W, frames)
        if LAST_WEIGHTS_KEY in obs:
            last = obs[LAST_WEIGHTS_KEY].reshape(graphs.num_graphs, -1).double()[
                link_graph, graphs.edge_slot]
        else:
            last = eigrp_weights_torch(graphs.link_props[:, 0], graphs.link_props[:, 1])
        scale = _per_graph_mean(last, link_graph, graphs.num_graphs).clamp_min(1e-12)
        last = last / scale[link_graph]
        x = torch.cat([lu, last.to(lu.dtype).unsqueeze(-1)], dim=-1)
        return LineGraph(x=x, arcs=arcs, batch=link_graph,
                         graph_slot=(link_graph, graphs.edge_slot),
                         num_graphs=graphs.num_graphs, num_slots=mask.shape[1], mask=mask)

    def link_mean(self, graph: LineGraph) -> Tensor:
        """(W,) the Gaussian mean per working link: Softplus of the actor's read-out."""
        return nn.functional.softplus(self.actor(graph))

    def _scatter(self, graph: LineGraph, per_link: Tensor) -> Tensor:
        out = per_link.new_full((graph.num_graphs, graph.num_slots), UNUSED_SLOT_WEIGHT)
        out[graph.graph_slot] = per_link
        return out

    def _distribution(self, graph: LineGraph) -> FoldedGaussianDistribution:
        mean = self._scatter(graph, self.link_mean(graph))
        return self.action_dist.proba_distribution(mean, self.log_std, graph.mask)

    def _value(self, graph: LineGraph) -> Tensor:
        return _per_graph_mean(self.critic(graph), graph.batch, graph.num_graphs).unsqueeze(-1)

    @property
    def std(self) -> float:
        """The current shared standard deviation sigma."""
        return float(self.log_std.exp().item())


__all__ = [
    "LAST_WEIGHTS_KEY",
    "MIN_WEIGHT",
    "NEIGHBOURS",
    "UNUSED_SLOT_WEIGHT",
    "FoldedGaussianDistribution",
    "LineDigraphNet",
    "LineGraph",
    "MSlimPolicy",
    "eigrp_weights_torch",
    "line_digraph",
]
