# SPDX-License-Identifier: GPL-2.0-only
"""A fluid (flow-level) model of the network with the packet-level environment's interface.

``packerl/PackeRL-Fluid-v0`` and ``packerl/PackeRL-Fluid-LinkWeights-v0`` are
:class:`packerl.env.PackeRLEnv` with the ns-3 simulator swapped for :class:`FluidSimulator`:
the scenarios (one RNG stream, so ``reset(seed=s)`` draws the same scenario in both models),
spaces, masks, observations, metrics, rewards, episode summaries and wrappers are the packet
env's own code. Only the state after a step comes from the equations below instead of from
packets. This is the kind of model MAGNNETO and most routing-RL work train in; the PackeRL
paper's point is how far it is from packets.

Example:
    >>> import gymnasium as gym, packerl
    >>> env = gym.make("packerl/PackeRL-Fluid-v0", topology="nx-XS", traffic="udp_low",
    ...                episode_steps=3)
    >>> obs, info = env.reset(seed=1)
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    >>> sorted(info["metrics"])[:3], truncated
    (['action_fluctuation', 'avg_delay_ms', 'avg_jitter_ms'], False)
    >>> env.close()

The model of one step t (length tau = ``step_ms``):

**Traffic.** A demand (``synnet`` row: start time, payload bytes, protocol, UDP rate) becomes a
fluid source from its start time until its bytes are sent; its IP bytes are its payload plus
the headers of its packets (UDP: 28 bytes per datagram of at most 1472 payload bytes; TCP: 52
bytes per segment of ``tcp_segment_bytes``), and a link carries frames of 2 more bytes per
packet (PPP). A UDP source offers ``min(remaining, rate * active time)`` in a step; a TCP
source offers everything it has left (it is elastic). Sources are summed per (source,
destination) pair: the step's traffic matrix.

**Routing.** Destination-based, as installed by the action: the traffic of pair (s, d)
follows ``next_hops[., d]`` from s. It is dropped where the table has no next hop
(``drop_no_route_bytes``), and if it has not reached d after ``IP_TTL`` = 64 links it is
dropped as a TTL expiry (``drop_ttl_bytes``), after loading every link of its loop once per
pass, as packets do in ns-3.

**Overload, UDP: proportional scaling (drop-tail).** UDP does not react to loss, so a link
offered more than it can send or queue drops the excess, from every flow in proportion to its
arriving rate (a FIFO drop-tail queue does not protect a small flow from a large one: each
loses the same fraction; max-min would). With, for directed link e, ``A_e`` the UDP frame
bytes arriving in the step, ``C_e = datarate * tau / 8`` the bytes it sends in a step,
``B_e`` its buffer (the packet env's ``Q_e`` packets of 1500 bytes, a round trip's
bandwidth-delay product), ``q_e`` the bytes queued at the step's start and ``a_e`` the
fraction of the step it is up (1, or the failure time within the step)::

    K_e = C_e + B_e - q_e            (a_e = 1; a failing link: K_e = C_e)
    g_e = a_e * min(1, K_e / A_e)    the fraction of the arriving bytes it passes on
    drop_link_down_e = (1 - a_e) A_e,     drop_queue_e = (a_e - g_e) A_e
    sent_e = min(a_e C_e, q_e + g_e A_e),  q_e(t + 1) = q_e + g_e A_e - sent_e

A flow whose path is ``e_1 .. e_k`` arrives at ``e_j`` with ``x * g_{e_1} ... g_{e_{j-1}}``:
upstream losses relieve downstream links. ``A`` depends on ``g`` and ``g`` on ``A``; the
unique fixed point is iterated from ``g = a`` (exact for loop-free routes after as many rounds
as the longest chain of overloaded links; in long loops the last feasible iterate after
``model.MAX_FIXED_POINT_ROUNDS``, see :func:`~packerl.fluid.model.propagate_proportional`).
Arrived = passed on + dropped holds on every link by construction. The queue ``q`` only
times the link's sending (utilisation, queue fill, waiting): a fluid byte it holds has
already moved on downstream.

**Overload, TCP: max-min fair share.** TCP adapts its rate to losses, so TCP sources share the
capacity the UDP traffic leaves, ``a_e C_e - sent UDP_e``, max-min fairly (the classic fluid
model of TCP, one share per connection, :func:`~packerl.fluid.model.max_min_share`): every
unfrozen flow's rate rises by the same amount until a link is full (its flows freeze) or a
flow has sent all it has (it freezes). Nothing is dropped: what a TCP source could not send
stays in its backlog for the next steps. A TCP flow without a loop-free route sends nothing
(ns-3 backs off its SYN for a second; those few bytes are ignored).

**Utilisation** of a directed link: frame bytes sent / ``C_e``. **Delay** of a pair: the sum
over its path of the propagation delay, the transmission time of a mean-sized frame
``S_e = 8 * frame bytes / datarate`` and a waiting time, at most a full buffer's drain time
``D_e = Q_e * 12000 / datarate``::

    W_e = min(D_e, 8 * (q_e(t) + q_e(t + 1)) / 2 / datarate + M/M/1_e)
    M/M/1_e = rho_e / (1 - rho_e) * S_e  if rho_e = A_e / C_e < 1, else 0

i.e. the wait behind the mean backlog, plus the M/M/1 wait for bursts within the step while
the link is not overloaded. The queue features: ``queue_last_load = q_e(t + 1) / B_e``;
``queue_max_load`` the largest of that, ``q_e(t) / B_e`` and the M/M/1 mean queue
``rho^2 / (1 - rho)`` over ``Q_e`` (1 when overloaded).

**Arrival.** Bytes sent during ``[b, c]`` of a step with path delay D arrive during
``[b + D, c + D]``, spread uniformly; what arrives after the step's end is received (counted
in ``received_bytes``, ``avg_delay_ms``) in the step it arrives in, as in the packet env,
where a 5 ms step is shorter than most paths' delays.

What the fluid model leaves out, on purpose: TCP's slow start, loss recovery, retransmissions
and ACK traffic (``retransmitted_bytes`` is 0; TCP gets its max-min share at once), jitter
(0), and packet-level bursts beyond the M/M/1 term. That is where it differs from packets:
``experiments/fluid_vs_packet.py`` measures it (close for UDP at light load; TCP's goodput is
overestimated).
"""

from packerl.fluid.env import PackeRLFluidEnv, PackeRLFluidLinkWeightsEnv
from packerl.fluid.model import (
    IP_TTL,
    FluidNetwork,
    Paths,
    max_min_share,
    propagate_proportional,
    queue_capacity_packets,
    queueing_delay_ms,
    route_paths,
)
from packerl.fluid.simulator import FluidSimulator

__all__ = [
    "IP_TTL", "FluidNetwork", "FluidSimulator", "PackeRLFluidEnv", "PackeRLFluidLinkWeightsEnv",
    "Paths", "max_min_share", "propagate_proportional", "queue_capacity_packets",
    "queueing_delay_ms", "route_paths",
]
