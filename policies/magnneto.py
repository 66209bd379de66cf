# SPDX-License-Identifier: GPL-2.0-only
"""MAGNNETO (Bernardez et al., 2023) in PyTorch, as the PackeRL paper uses it (Sections 2, 6.1,
B.7, B.8), trained in the fluid model of :mod:`packerl.fluid`.

**Task.** One episode optimises the link weights for ONE traffic matrix (TM): the weights start
as random integers in [1, 4] (``INITIAL_WEIGHTS``), the state of every directed link is its
link utilisation (LU, 0 at the start) and its current weight, and every step the policy picks
links whose weight is incremented by one (``max_simultaneous_actions`` draws from one
categorical distribution over the links, duplicates merged: the original's multi-agent
action; 1 by default as in its ``configs/ppo.gin``). The TM is then routed on shortest paths
of the new weights (:func:`packerl.routing.next_hops_from_weights`, smallest-id ties) in the
fluid model without capacity effects (:meth:`packerl.fluid.FluidNetwork.link_loads`, MAGNNETO's
model: LU = load / capacity may exceed 1) and the new LU is the next state. The objective is
the maximum LU: the reward of a step is how much it lowered it,
``MLU(w_{t-1}) - MLU(w_t)`` (``MLU(w_0)`` of the initial weights), so an episode's return is
its total reduction. An episode has Theta(E) steps (:func:`horizon_of`: 100 on NSFNet and 200
on GEANT2 as the original, else ``2.75 * directed links``). The final weights are the result
(Section 6.1).

**Model.** An MPNN over the line digraph (nodes: the directed links; an edge from link a = (u, v)
to every link b = (v, w) leaving a's head, :func:`line_digraph`): 16-dim link states,
zero-padded from the two inputs; ``message_layers`` = 8 rounds of
``m_ab = M([h_a, h_b])`` (MLP 32 -> 128 -> 16), aggregated at b by the concatenation of the
element-wise max and min, ``h_b <- U([h_b, max, min])`` (MLP 48 -> 128 -> 64 -> 16); the actor's
readout (MLP 16 -> 128 -> 64 -> 1, dropout 0.5 after the first two layers) gives one logit per
link; every hidden layer is initialised orthogonally with gain sqrt(2) and followed by tanh,
the readout's last (linear) layer orthogonally with gain 0.01 (B.8; the original TF code).
The critic has its own MPNN of the same shape and reads out the links' mean, max, min and
standard deviation (64 values) through the same kind of MLP to one value.
(The public ``configs/ppo.gin`` sets 4 message iterations and dropout 0.2; this follows the
paper's Appendix B.8: 8 and 0.5.)

**Training.** PPO with the original's settings (``PPO_DEFAULTS``, from ``configs/ppo.gin``):
one episode per update, 3 epochs of minibatches of 25 steps, discount 0.95, GAE lambda 0.9,
clip 0.2, value loss x0.5, entropy bonus 0.001, normalised advantages, gradient norm clipped
to 1, Adam (lr 3e-4, beta1 0.9, eps 0.1). :func:`train` samples a topology (NSFNet or
GEANT2) and a TM of sent bytes per episode or, as the original, per ``episodes_per_tm``
episodes, initial weights per episode, checkpoints every
``checkpoint_every`` episodes and resumes from the run directory's checkpoint, writing the
learning curve to ``curve.csv``.

Example:
    >>> import numpy as np, torch
    >>> src, dst = line_digraph(np.array([[0, 1, 1, 2], [1, 0, 2, 1]]))
    >>> sorted(zip(src.tolist(), dst.tolist()))     # (0,1)->(1,0), (0,1)->(1,2), ...
    [(0, 1), (0, 2), (1, 0), (2, 3), (3, 1), (3, 2)]
    >>> actor = MagnnetoActor()
    >>> logits = actor(torch.zeros(1, 4, 2), torch.as_tensor(src), torch.as_tensor(dst))
    >>> tuple(logits.shape)
    (1, 4)
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import Tensor, nn

import synnet
from packerl.fluid import FluidNetwork, FluidSimulator
from packerl.routing import eigrp_weights, next_hops_from_weights
from policies.runs import TamperedRunError, file_digest
from policies.threads import torch_threads

__all__ = [
    "INITIAL_WEIGHTS", "PPO_DEFAULTS", "MagnnetoActor", "MagnnetoCritic", "MagnnetoMPNN",
    "MagnnetoTask", "NumpyActor", "PPOSettings", "horizon_of", "line_digraph", "load_actor",
    "optimise", "sent_traffic_matrix", "train",
]

#: the file beside ``checkpoint.pt`` holding its SHA-256, written with every checkpoint
DIGEST_FILE = "checkpoint.sha256.json"
#: steps (of 5 ms) of the scenario each training episode's TM is averaged over
TM_STEPS = 20
#: the range of the random integer link weights an episode starts from (inclusive)
INITIAL_WEIGHTS = (1, 4)
#: episode lengths of the original for its named topologies; others: 2.75 per directed link
_NAMED_HORIZONS = {"nsfnet": 100, "geant2": 200}
_HORIZON_PER_LINK = 2.75


def horizon_of(num_directed_links: int, name: str | None = None) -> int:
    """Theta(E) optimisation steps of an episode: the original's 100 (NSFNet) and 200 (GEANT2),
    else ``floor(2.75 * directed links)``."""
    if name is not None and name.lower() in _NAMED_HORIZONS:
        return _NAMED_HORIZONS[name.lower()]
    return max(1, int(math.floor(_HORIZON_PER_LINK * num_directed_links)))


def line_digraph(edge_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The line digraph of directed links ``edge_index`` (2, E): an edge from link a = (u, v)
    to every link b = (v, w) (u-turns b = (v, u) included, as in the standard line digraph).

    Returns:
        ``(src, dst)`` int64 link indices of its edges, sorted by ``src`` then ``dst``.
    """
    ei = np.asarray(edge_index, np.int64)
    head, tail = ei[1], ei[0]
    order = np.argsort(tail, kind="stable")
    starts = np.searchsorted(tail[order], np.arange(int(ei.max(initial=-1)) + 2))
    counts = starts[head + 1] - starts[head]  # links leaving each link's head
    src = np.repeat(np.arange(ei.shape[1]), counts)
    offsets = np.arange(src.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    dst = order[starts[head][src] + offsets]
    key = np.lexsort((dst, src))
    return src[key], dst[key]


def _dense(in_dim: int, out_dim: int, gain: float = math.sqrt(2.0)) -> nn.Linear:
    layer = nn.Linear(in_dim, out_dim)
    nn.init.orthogonal_(layer.weight, gain=gain)
    nn.init.zeros_(layer.bias)
    return layer


def _tanh_mlp(dims: Sequence[int], dropout: float = 0.0) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i in range(len(dims) - 1):
        layers += [_dense(dims[i], dims[i + 1]), nn.Tanh()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return layers


class MagnnetoMPNN(nn.Module):
    """MAGNNETO's message passing over the line digraph (see the module docstring).

    Args:
        in_features: inputs per link, zero-padded to ``state_dim`` (default: 2, LU and weight).
        state_dim: link state size (default: 16).
        message_layers: message passing rounds, sharing one message and one update MLP
            (default: 8).
        message_hidden: hidden size of the message MLP (default: 128).
        update_hidden: hidden sizes of the update MLP (default: (128, 64)).

    Shapes:
        x (B, E, in_features), src/dst (L,) line-digraph edges -> (B, E, state_dim).
    """

    def __init__(self, in_features: int = 2, state_dim: int = 16, message_layers: int = 8,
                 message_hidden: int = 128, update_hidden: tuple[int, int] = (128, 64)):
        super().__init__()
        if not 0 < in_features <= state_dim:
            raise ValueError(f"in_features must lie in 1..state_dim={state_dim}, got "
                             f"{in_features}")
        self.in_features, self.state_dim, self.message_layers = (in_features, state_dim,
                                                                 message_layers)
        self.message = nn.Sequential(*_tanh_mlp([2 * state_dim, message_hidden, state_dim]))
        self.update = nn.Sequential(*_tanh_mlp([3 * state_dim, *update_hidden, state_dim]))

    def forward(self, x: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        b, e, f = x.shape
        h = torch.zeros(b, e, self.state_dim, dtype=torch.float32, device=x.device)
        h[..., :f] = x
        index = dst.view(1, -1, 1).expand(b, -1, self.state_dim)
        for _ in range(self.message_layers):
            m = self.message(torch.cat([h[:, src], h[:, dst]], dim=-1))
            zeros = torch.zeros_like(h)  # links without predecessors aggregate to 0
            hi = zeros.scatter_reduce(1, index, m, reduce="amax", include_self=False)
            lo = zeros.scatter_reduce(1, index, m, reduce="amin", include_self=False)
            h = self.update(torch.cat([h, hi, lo], dim=-1))
        return h


class MagnnetoActor(nn.Module):
    """The actor: :class:`MagnnetoMPNN` and a readout MLP to one logit per link.

    Args:
        dropout: dropout rate after the readout's two hidden layers (default: 0.5).
        readout_hidden: the readout's hidden sizes (default: (128, 64)).
        **mpnn: :class:`MagnnetoMPNN` arguments.

    Shapes:
        x (B, E, 2), src/dst (L,) -> logits (B, E).
    """

    def __init__(self, dropout: float = 0.5, readout_hidden: tuple[int, int] = (128, 64),
                 **mpnn: Any):
        super().__init__()
        self.mpnn = MagnnetoMPNN(**mpnn)
        self.readout = nn.Sequential(
            *_tanh_mlp([self.mpnn.state_dim, *readout_hidden], dropout),
            _dense(readout_hidden[-1], 1, gain=0.01))

    def forward(self, x: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        return self.readout(self.mpnn(x, src, dst)).squeeze(-1)


class MagnnetoCritic(nn.Module):
    """The critic: its own :class:`MagnnetoMPNN`, the links' mean, max, min and standard
    deviation, and a readout MLP to one value per state.

    Shapes:
        x (B, E, 2), src/dst (L,) -> values (B,).
    """

    def __init__(self, dropout: float = 0.5, readout_hidden: tuple[int, int] = (128, 64),
                 **mpnn: Any):
        super().__init__()
        self.mpnn = MagnnetoMPNN(**mpnn)
        d = self.mpnn.state_dim
        self.readout = nn.Sequential(*_tanh_mlp([4 * d, *readout_hidden], dropout),
                                     _dense(readout_hidden[-1], 1, gain=0.01))

    def forward(self, x: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        h = self.mpnn(x, src, dst)
        pooled = torch.cat([h.mean(1), h.amax(1), h.amin(1), h.std(1, unbiased=False)], -1)
        return self.readout(pooled).squeeze(-1)


class NumpyActor:
    """An eval-mode :class:`MagnnetoActor` (dropout off) evaluated in NumPy: the same function
    (float32, up to rounding), several times faster on these small graphs, where torch's
    per-operation overhead dominates. :func:`optimise` runs its Theta(E) forward passes per
    decision with it, with one BLAS thread (as torch's one thread: on small matrices BLAS
    threads cost far more than they give, tenfold on a busy machine).

    Args:
        actor: the trained actor (its weights are copied).
    """

    def __init__(self, actor: MagnnetoActor):
        mpnn = actor.mpnn
        self.state_dim, self.message_layers = mpnn.state_dim, mpnn.message_layers
        self.message = _numpy_mlp(mpnn.message)
        self.update = _numpy_mlp(mpnn.update)
        self.readout = _numpy_mlp(actor.readout)

    def __call__(self, x: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Logits (E,) of link states ``x`` (E, in_features) over line-digraph edges
        ``src``, ``dst`` (as :meth:`MagnnetoActor.forward` for one graph)."""
        e = x.shape[0]
        h = np.zeros((e, self.state_dim), np.float32)
        h[:, :x.shape[1]] = x
        order = np.argsort(dst, kind="stable")
        src_o, dst_o = src[order], dst[order]
        starts = np.flatnonzero(np.r_[True, dst_o[1:] != dst_o[:-1]]) if len(dst_o) else \
            np.zeros(0, np.int64)
        targets = dst_o[starts]
        hi = np.zeros_like(h)  # links without predecessors aggregate to 0
        lo = np.zeros_like(h)
        (w1, b1, act1), rest = self.message[0], self.message[1:]
        w_src, w_dst = w1[:self.state_dim], w1[self.state_dim:]
        for _ in range(self.message_layers):
            # [h_a, h_b] W1 = h_a W1_src + h_b W1_dst: per link, not per line-digraph edge
            m = (h @ w_src)[src_o]
            m += (h @ w_dst + b1)[dst_o]
            if act1:
                np.tanh(m, out=m)
            m = _run_mlp(rest, m)
            if len(starts):
                hi[targets] = np.maximum.reduceat(m, starts, axis=0)
                lo[targets] = np.minimum.reduceat(m, starts, axis=0)
            h = _run_mlp(self.update, np.concatenate([h, hi, lo], axis=1))
        return _run_mlp(self.readout, h)[:, 0]


def _numpy_mlp(seq: nn.Sequential) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """``(W^T, b, tanh follows)`` per linear layer of ``seq`` (dropout: eval mode, none)."""
    layers: list[list[Any]] = []
    for module in seq:
        if isinstance(module, nn.Linear):
            layers.append([module.weight.detach().numpy().T.astype(np.float32),
                           module.bias.detach().numpy().astype(np.float32), False])
        elif isinstance(module, nn.Tanh) and layers:
            layers[-1][2] = True
        elif not isinstance(module, nn.Dropout):
            raise TypeError(f"NumpyActor evaluates Linear, Tanh and Dropout layers, got "
                            f"{type(module).__name__}")
    return [(w, b, act) for w, b, act in layers]


def _run_mlp(layers: list[tuple[np.ndarray, np.ndarray, bool]], x: np.ndarray) -> np.ndarray:
    for w, b, act in layers:
        x = x @ w
        x += b
        if act:
            np.tanh(x, out=x)
    return x


# --------------------------------------------------------------------------------- the task


def sent_traffic_matrix(scenario: synnet.Scenario) -> np.ndarray:
    """(N, N) mean IP bytes per step each (source, destination) pair SENDS in ``scenario``
    when the fluid model routes it with EIGRP: the TM a MAGNNETO training episode optimises
    (the packet env gives MAGNNETO the last step's TM of sent bytes, Section 6.1, so training
    sees the same kind of matrix; the demands' raw sizes would be dominated by heavy-tailed
    flows that never finish within an episode)."""
    topo = scenario.topology
    n = topo.num_nodes
    edges = np.asarray(topo.edges).reshape(-1, 2)
    edge_index = np.concatenate([edges.T, edges[:, ::-1].T], axis=1)
    w = eigrp_weights(topo.datarate_bps, topo.delay_ms)
    table = next_hops_from_weights(n, edge_index, np.concatenate([w, w]))
    sim = FluidSimulator(check_inputs=False)
    sim.reset(topo, {"step_ms": scenario.step_ms})
    tm = np.zeros((n, n))
    for t in range(scenario.steps):
        tm += sim.step(table if t == 0 else None, scenario.step_demands(t),
                       scenario.step_failures(t)).tm_sent
    return tm / scenario.steps


class MagnnetoTask:
    """One MAGNNETO optimisation episode in the fluid model (see the module docstring).

    Args:
        network: the topology (:class:`packerl.fluid.FluidNetwork`).
        tm: (N, N) bytes per step per (source, destination).
        rng: the Generator of the initial weights.
        weights: initial weights (2E,) instead of random ones.
        horizon: steps (default: :func:`horizon_of`).
        name: the topology's name (for the horizon of the named topologies).
    """

    def __init__(self, network: FluidNetwork, tm: np.ndarray, rng: np.random.Generator,
                 weights: np.ndarray | None = None, horizon: int | None = None,
                 name: str | None = None):
        self.network = network
        self.tm = np.asarray(tm, np.float64)
        n = network.num_nodes
        if self.tm.shape != (n, n):
            raise ValueError(f"tm must have shape ({n}, {n}) (one row and column per node), "
                             f"got {self.tm.shape}")
        self.num_links = network.num_slots
        self.horizon = horizon if horizon is not None else horizon_of(self.num_links, name)
        lo, hi = INITIAL_WEIGHTS
        self.weights = (rng.integers(lo, hi + 1, self.num_links).astype(np.float64)
                        if weights is None else np.asarray(weights, np.float64).copy())
        if self.weights.shape != (self.num_links,) or not (self.weights > 0).all():
            raise ValueError(f"weights must be {self.num_links} positive values (one per "
                             f"directed link), got {self.weights!r}")
        self.initial_weights = self.weights.copy()
        self.src, self.dst = line_digraph(network.edge_index)
        self.t = 0
        self.lu = self.utilisation(self.weights)
        self.mlu = float(self.lu.max(initial=0.0))
        self.initial_mlu = self.mlu

    def utilisation(self, weights: np.ndarray) -> np.ndarray:
        """(2E,) LU of the TM on shortest paths of ``weights`` (fluid, no capacity limit)."""
        net = self.network
        table = next_hops_from_weights(net.num_nodes, net.edge_index, weights)
        return net.link_loads(table, self.tm) / net.capacity

    def observation(self, zero_lu: bool = False) -> np.ndarray:
        """(2E, 2) float32 link states: LU and weight."""
        lu = np.zeros(self.num_links) if zero_lu else self.lu
        return np.stack([lu, self.weights], axis=1).astype(np.float32)

    def reset_observation(self) -> np.ndarray:
        """The first state: zero LU and the initial weights (Section 6.1)."""
        return self.observation(zero_lu=True)

    def step(self, links: Sequence[int]) -> tuple[np.ndarray, float, bool]:
        """Increment the weights of ``links`` (directed link indices, duplicates counted once)
        by one, re-route, and return ``(state, reward, done)``; reward = the fall of the
        maximum LU."""
        links = np.unique(np.asarray(links, np.int64))
        if links.size == 0 or links.min() < 0 or links.max() >= self.num_links:
            raise ValueError(f"links must be a non-empty set of link indices in "
                             f"0..{self.num_links - 1}, got {links.tolist()}")
        self.weights[links] += 1.0
        self.lu = self.utilisation(self.weights)
        mlu = float(self.lu.max(initial=0.0))
        reward, self.mlu = self.mlu - mlu, mlu
        self.t += 1
        return self.observation(), reward, self.t >= self.horizon


def _choose(logits: np.ndarray, generator: torch.Generator, draws: int,
            greedy: bool) -> list[int]:
    """The links a step increments: the most likely one (``greedy``), else ``draws`` draws
    from the softmax of ``logits`` with ``generator``, duplicates merged, sorted."""
    if greedy:
        return [int(np.argmax(logits))]
    probs = torch.softmax(torch.from_numpy(logits), 0)
    return sorted(set(torch.multinomial(probs, draws, replacement=True,
                                        generator=generator).tolist()))


def _act(actor: MagnnetoActor, state: np.ndarray, src: Tensor, dst: Tensor,
         generator: torch.Generator, draws: int, greedy: bool) -> tuple[list[int], Tensor]:
    """A training step's links (:func:`_choose`) and their log-probabilities."""
    with torch.no_grad():
        logits = actor(torch.as_tensor(state)[None], src, dst)[0]
    links = _choose(logits.numpy(), generator, draws, greedy)
    return links, torch.log_softmax(logits, 0)[links]


def optimise(actor: MagnnetoActor | NumpyActor, task: MagnnetoTask, seed: int = 0,
             greedy: bool = False, draws: int = 1) -> dict[str, Any]:
    """Run one episode of ``task`` with ``actor`` (eval mode, evaluated as a
    :class:`NumpyActor`) and return the final weights and the maximum LU along the way
    (``mlu``: per step, ``initial_mlu``, ``final_mlu``)."""
    if isinstance(actor, MagnnetoActor):
        actor = NumpyActor(actor.eval())
    gen = torch.Generator().manual_seed(seed)
    state, done, mlus = task.reset_observation(), False, []
    with threadpool_limits(limits=1, user_api="blas"):
        while not done:
            links = _choose(actor(state, task.src, task.dst), gen, draws, greedy)
            state, _, done = task.step(links)
            mlus.append(task.mlu)
    return {"weights": task.weights.copy(), "mlu": mlus, "initial_mlu": task.initial_mlu,
            "final_mlu": task.mlu}


# ------------------------------------------------------------------------------------- PPO


@dataclass(frozen=True)
class PPOSettings:
    """PPO as the original's ``configs/ppo.gin`` (field docs: what each controls)."""

    #: discount of the per-step MLU reductions
    gamma: float = 0.95
    #: GAE lambda
    gae_lambda: float = 0.9
    #: PPO ratio clip
    clip: float = 0.2
    #: steps per minibatch
    minibatch: int = 25
    #: passes over an episode's steps per update
    epochs: int = 3
    #: weight of the value loss
    value_coef: float = 0.5
    #: weight of the entropy bonus
    entropy_coef: float = 0.001
    #: clip of the gradients' global norm
    max_grad_norm: float = 1.0
    #: Adam's learning rate, beta1 and epsilon
    lr: float = 3e-4
    beta1: float = 0.9
    adam_eps: float = 0.1
    #: categorical draws per step (distinct ones are incremented)
    max_simultaneous_actions: int = 1


PPO_DEFAULTS = PPOSettings()


def _gae(rewards: np.ndarray, values: np.ndarray, last: float, s: PPOSettings
         ) -> tuple[np.ndarray, np.ndarray]:
    adv = np.zeros_like(rewards)
    running = 0.0
    for t in reversed(range(rewards.shape[0])):
        nxt = last if t == rewards.shape[0] - 1 else values[t + 1]
        running = rewards[t] + s.gamma * nxt - values[t] + s.gamma * s.gae_lambda * running
        adv[t] = running
    return values + adv, adv


@dataclass
class _Episode:
    states: list[np.ndarray] = field(default_factory=list)
    actions: list[list[int]] = field(default_factory=list)
    logps: list[Tensor] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


def _rollout(actor: MagnnetoActor, critic: MagnnetoCritic, task: MagnnetoTask,
             gen: torch.Generator, s: PPOSettings) -> tuple[_Episode, float]:
    actor.train()  # dropout on while sampling, as the original
    critic.train()
    src, dst = torch.as_tensor(task.src), torch.as_tensor(task.dst)
    ep, state, done = _Episode(), task.reset_observation(), False
    while not done:
        links, logp = _act(actor, state, src, dst, gen, s.max_simultaneous_actions, False)
        with torch.no_grad():
            value = float(critic(torch.as_tensor(state)[None], src, dst)[0])
        nxt, reward, done = task.step(links)
        ep.states.append(state)
        ep.actions.append(links)
        ep.logps.append(logp)
        ep.rewards.append(reward)
        ep.values.append(value)
        state = nxt
    with torch.no_grad():
        last = float(critic(torch.as_tensor(state)[None], src, dst)[0])
    return ep, last


def _update(actor: MagnnetoActor, critic: MagnnetoCritic, opt: torch.optim.Optimizer,
            task: MagnnetoTask, ep: _Episode, last: float, s: PPOSettings,
            rng: np.random.Generator) -> dict[str, float]:
    returns, adv = _gae(np.asarray(ep.rewards, np.float64), np.asarray(ep.values, np.float64),
                        last, s)
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    states = torch.as_tensor(np.stack(ep.states))
    src, dst = torch.as_tensor(task.src), torch.as_tensor(task.dst)
    params = list(actor.parameters()) + list(critic.parameters())
    losses = []
    for _ in range(s.epochs):
        order = rng.permutation(len(ep.states))
        for start in range(0, order.size, s.minibatch):
            idx = order[start:start + s.minibatch]
            logits = actor(states[idx], src, dst)
            logp_all = torch.log_softmax(logits, -1)
            entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
            pg = []
            for row, i in enumerate(idx):  # ragged: a step's incremented links
                new = logp_all[row, ep.actions[i]]
                ratio = torch.exp(new - ep.logps[i])
                a = float(adv[i])
                pg.append(torch.maximum(-a * ratio,
                                        -a * ratio.clamp(1 - s.clip, 1 + s.clip)).mean())
            actor_loss = torch.stack(pg).mean()
            values = critic(states[idx], src, dst)
            value_loss = ((torch.as_tensor(returns[idx], dtype=torch.float32) - values) ** 2
                          ).mean()
            loss = actor_loss - s.entropy_coef * entropy + s.value_coef * value_loss
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, s.max_grad_norm)
            opt.step()
            losses.append([loss.item(), actor_loss.item(), value_loss.item(),
                           entropy.item()])
    m = np.mean(losses, axis=0)
    return {"loss": m[0], "actor_loss": m[1], "value_loss": m[2], "entropy": m[3]}


_CURVE_FIELDS = ("episode", "topology", "tm_seed", "horizon", "initial_mlu", "final_mlu",
                 "min_mlu", "return", "loss", "actor_loss", "value_loss", "entropy")


def train(run_dir: str | os.PathLike, episodes: int, topologies: Sequence[str] = ("nsfnet",
          "geant2"), traffic: str = "mixed_medium", seed: int = 0,
          settings: PPOSettings = PPO_DEFAULTS, checkpoint_every: int = 10,
          horizon: int | None = None, actor_kwargs: dict[str, Any] | None = None,
          threads: int | None = 1, episodes_per_tm: int = 1) -> list[dict[str, Any]]:
    """Train MAGNNETO with PPO in the fluid model until ``episodes`` episodes are done,
    resuming from ``run_dir/checkpoint.pt`` if it exists (same arguments required).

    Every ``episodes_per_tm`` episodes a topology is drawn from ``topologies`` (synnet
    presets) with a synnet scenario of ``traffic`` of ``TM_STEPS`` steps on it, whose mean
    per-step TM of sent bytes (:func:`sent_traffic_matrix`) the following episodes optimise;
    every episode draws its initial weights and ends with one PPO update. The original
    MAGNNETO-TE trains 50 consecutive episodes on each of 50 TMs (``eval_period`` 50,
    ``change_traffic_period`` 1, ``last_training_sample`` 49 in its ``configs/ppo.gin``):
    ``episodes_per_tm=50, episodes=2500``; the default 1 draws a new one every episode.

    ``run_dir`` gets ``config.json``, ``checkpoint.pt`` (models, optimiser, RNG states,
    curve, the current TM's topology and scenario seed) and ``curve.csv`` (one row per
    episode: the TM's scenario seed, the MLU before, at the end and the lowest, the return
    and the losses).

    ``threads`` sets torch's intra-op threads while training (default: 1; the model is
    small, and on a loaded machine two threads made a forward pass ten times slower than
    one); None leaves torch's setting.

    Returns:
        The learning curve rows (all episodes, resumed ones included).

    Raises:
        ValueError: if ``run_dir`` holds a run with another configuration, or
            ``episodes_per_tm`` is below 1.
    """
    if episodes_per_tm < 1:
        raise ValueError(f"episodes_per_tm must be at least 1 (episodes optimising one "
                         f"traffic matrix before the next is drawn), got {episodes_per_tm}")
    with torch_threads(threads):
        return _train(run_dir, episodes, topologies, traffic, seed, settings,
                      checkpoint_every, horizon, actor_kwargs, episodes_per_tm)


def _train(run_dir: str | os.PathLike, episodes: int, topologies: Sequence[str], traffic: str,
           seed: int, settings: PPOSettings, checkpoint_every: int, horizon: int | None,
           actor_kwargs: dict[str, Any] | None, episodes_per_tm: int,
           tm_steps: int = TM_STEPS) -> list[dict[str, Any]]:
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    config = {"policy": "magnneto", "topologies": list(topologies), "traffic": traffic,
              "seed": seed,
              "tm": f"sent bytes, fluid model, EIGRP, mean of {tm_steps} steps",
              "settings": asdict(settings), "horizon": horizon,
              "actor_kwargs": actor_kwargs or {}, "episodes_per_tm": episodes_per_tm}
    cfg_path, ckpt_path = run / "config.json", run / "checkpoint.pt"
    if cfg_path.exists():
        old = {"episodes_per_tm": 1, **json.loads(cfg_path.read_text())}  # runs before it
        if old != config:
            raise ValueError(f"{run} holds a MAGNNETO run with another configuration "
                             f"({old}); use a new run directory or the same arguments")
    else:
        cfg_path.write_text(json.dumps(config, indent=2) + "\n")
    torch.manual_seed(seed)
    actor = MagnnetoActor(**(actor_kwargs or {}))
    critic = MagnnetoCritic(**(actor_kwargs or {}))
    params = list(actor.parameters()) + list(critic.parameters())
    opt = torch.optim.Adam(params, lr=settings.lr, betas=(settings.beta1, 0.999),
                           eps=settings.adam_eps)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    curve: list[dict[str, Any]] = []
    sample: tuple[str, int] | None = None  # (topology, scenario seed) of the current TM
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=False)
        actor.load_state_dict(ckpt["actor"])
        critic.load_state_dict(ckpt["critic"])
        opt.load_state_dict(ckpt["optimizer"])
        rng.bit_generator.state = ckpt["rng"]
        gen.set_state(ckpt["torch_generator"])
        torch.set_rng_state(ckpt["torch_rng"])
        curve = ckpt["curve"]
        sample = ckpt.get("sample")
    networks: dict[tuple, FluidNetwork] = {}
    tms: dict[tuple[str, int], tuple[tuple, np.ndarray, str]] = {}
    while len(curve) < episodes:
        if sample is None or len(curve) % episodes_per_tm == 0:
            name = str(topologies[int(rng.integers(len(topologies)))])
            sample = (name, int(rng.integers(2**31 - 1)))
        if sample not in tms:
            scenario = synnet.generate(topology=sample[0], traffic=traffic,
                                       link_failures=None, steps=tm_steps, seed=sample[1])
            topo = scenario.topology
            label = topo.name or sample[0]
            key = (label, np.asarray(topo.edges).tobytes(),
                   np.asarray(topo.datarate_bps).tobytes())
            if key not in networks:  # fixed topologies are built once, random ones every time
                networks = {key: FluidNetwork(topo.num_nodes, topo.edges, topo.datarate_bps,
                                              topo.delay_ms, scenario.step_ms),
                            **{k: v for k, v in networks.items() if k[0] in _NAMED_HORIZONS}}
            tms = {sample: (key, sent_traffic_matrix(scenario), label)}
        key, tm, label = tms[sample]
        task = MagnnetoTask(networks[key], tm, rng, horizon=horizon, name=label)
        ep, last = _rollout(actor, critic, task, gen, settings)
        stats = _update(actor, critic, opt, task, ep, last, settings, rng)
        mlus = task.initial_mlu - np.cumsum(ep.rewards)
        curve.append({"episode": len(curve), "topology": label, "tm_seed": sample[1],
                      "horizon": task.horizon,
                      "initial_mlu": task.initial_mlu, "final_mlu": task.mlu,
                      "min_mlu": float(mlus.min()), "return": float(np.sum(ep.rewards)),
                      **stats})
        if len(curve) % checkpoint_every == 0 or len(curve) == episodes:
            _save(ckpt_path, actor, critic, opt, rng, gen, curve, sample)
            _write_curve(run / "curve.csv", curve)
    return curve


def _save(path: Path, actor: nn.Module, critic: nn.Module, opt: torch.optim.Optimizer,
          rng: np.random.Generator, gen: torch.Generator, curve: list[dict[str, Any]],
          sample: tuple[str, int] | None) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"actor": actor.state_dict(), "critic": critic.state_dict(),
                "optimizer": opt.state_dict(), "rng": rng.bit_generator.state,
                "torch_generator": gen.get_state(), "torch_rng": torch.get_rng_state(),
                "curve": curve, "sample": sample}, tmp)
    os.replace(tmp, path)  # a crash mid-write keeps the previous checkpoint
    digests = path.parent / DIGEST_FILE
    digests.write_text(json.dumps({path.name: file_digest(path)}) + "\n")


def _write_curve(path: Path, curve: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=_CURVE_FIELDS)
        w.writeheader()
        w.writerows(curve)


def load_actor(run_dir: str | os.PathLike) -> MagnnetoActor:
    """The trained actor of a :func:`train` run directory (eval mode).

    Raises:
        policies.runs.TamperedRunError: the checkpoint does not match the SHA-256 training
            recorded in :data:`DIGEST_FILE` when it saved it.
    """
    run = Path(run_dir)
    config = json.loads((run / "config.json").read_text())
    ckpt = run / "checkpoint.pt"
    recorded = (json.loads((run / DIGEST_FILE).read_text()).get(ckpt.name)
                if (run / DIGEST_FILE).is_file() else None)
    if recorded is not None and file_digest(ckpt) != recorded:
        raise TamperedRunError(f"`{ckpt}` does not match the SHA-256 recorded in "
                               f"{DIGEST_FILE} when it was trained: the file changed "
                               "afterwards; restore it or train again")
    actor = MagnnetoActor(**config["actor_kwargs"])
    actor.load_state_dict(torch.load(ckpt, weights_only=False)["actor"])
    return actor.eval()
