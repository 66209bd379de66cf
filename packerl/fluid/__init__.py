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

The model of one step t (length tau = ``step_ms``; all amounts in IP bytes per step):

**Traffic.** A demand (``synnet`` row: start time, payload bytes, protocol, UDP rate) becomes a
fluid source from its start time until its bytes are sent; its IP bytes are its payload plus
the headers of its packets (UDP: 28 bytes per datagram of at most 1472 payload bytes; TCP: 52
bytes per segment of ``tcp_segment_bytes``). A UDP source offers ``min(remaining,
rate * active time)`` in a step; a TCP source offers everything it has left (it is elastic).
Sources are summed per (source, destination) pair: the step's traffic matrix.

**Routing.** Destination-based, as installed by the action: the traffic of pair (s, d)
follows ``next_hops[., d]`` from s. It is dropped where the table has no next hop
(``drop_no_route_bytes``), and if it has not reached d after ``IP_TTL`` = 64 links it is
dropped as a TTL expiry (``drop_ttl_bytes``), after loading every link of its loop once per
pass, as packets do in ns-3.

**Overload, UDP: proportional scaling (drop-tail).** UDP does not react to loss, so a link
offered more than it can carry forwards its capacity and drops the excess, from every flow in
proportion to its arriving rate (a FIFO drop-tail queue in steady state). With ``A_e`` the
UDP bytes arriving at directed link e, ``C_e`` its capacity in bytes per step
(``datarate * tau / 8``) and ``a_e`` the fraction of the step it is up (1, or the failure time
within the step), the link forwards the fraction::

    g_e = a_e * min(1, C_e / A_e)

of what arrives, drops ``(1 - a_e) A_e`` as ``drop_link_down`` and ``a_e A_e (1 - min(1,
C_e / A_e))`` as ``drop_queue``. A flow whose path is ``e_1 .. e_k`` arrives at ``e_j`` with
``x * g_{e_1} ... g_{e_{j-1}}``: upstream losses relieve downstream links. ``A`` depends on
``g`` and ``g`` on ``A``; the fixed point is found by iterating ``g <- a min(1, C / A(g))``
from ``g = a`` (exact after as many rounds as the longest chain of overloaded links; capped at
``model.MAX_FIXED_POINT_ROUNDS``). In-flow = forwarded + dropped holds on every link by
construction. Why proportional and not max-min for UDP: a drop-tail FIFO does not protect a
small flow from a large one; each loses the same fraction.

**Overload, TCP: max-min fair share.** TCP adapts its rate to losses, so TCP sources share the
capacity the UDP traffic leaves, ``R_e = a_e C_e - forwarded UDP_e``, max-min fairly (the
classic fluid model of TCP, one share per connection): progressive filling raises every
unfrozen flow's rate by the same amount until a link is full (its flows freeze) or a flow has
sent all it has (it freezes). Nothing is dropped: what a TCP source could not send stays in
its backlog for the next steps. A TCP flow without a loop-free route sends nothing (ns-3 backs
off its SYN for a second; those few bytes are ignored).

**Utilisation** of a directed link: forwarded frame bytes (IP + 2 bytes PPP per packet) /
``C_e``. **Delay** of a pair: the sum over its path of propagation delay, the transmission time
of a mean-sized frame ``S_e = 8 * frame bytes / datarate`` and a queueing term, the M/M/1
waiting time capped at a full drop-tail buffer of ``Q_e`` packets of 1500 bytes::

    W_e = min(rho_e / (1 - rho_e) * S_e, Q_e * 12000 / datarate_e)    (rho_e < 1)
    W_e = Q_e * 12000 / datarate_e                                      (rho_e >= 1)

with ``rho_e`` = arriving frame bytes / ``C_e`` and ``Q_e`` the packet env's device buffer
(bandwidth-delay product, :func:`~packerl.fluid.model.queue_capacity_packets`). The queue features are the M/M/1
mean queue ``rho^2 / (1 - rho)`` as a fraction of ``Q_e`` (1 when overloaded), both for the
largest and the last fill: a fluid step has no dynamics within it.

**Arrival.** Bytes sent during ``[b, c]`` of a step with path delay D arrive during
``[b + D, c + D]``, spread uniformly; what arrives after the step's end is received (counted
in ``received_bytes``, ``avg_delay_ms``) in the step it arrives in, as in the packet env,
where a 5 ms step is shorter than most paths' delays.

What the fluid model leaves out, on purpose: TCP's slow start, retransmissions and ACK
traffic (``retransmitted_bytes`` is 0), jitter (0), queue build-up across steps, and bursts
within a step. That is where it differs from packets (see
``experiments/fluid_vs_packet.py``).
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
