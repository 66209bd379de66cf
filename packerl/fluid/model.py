# SPDX-License-Identifier: GPL-2.0-only
"""The fluid model's kernel: routes, the two overload models and the delay term.

Everything here works on one topology's directed edge slots (slot ``2i`` = edge ``i`` as
``(u, v)``, ``2i + 1`` reversed, as in :mod:`packerl.spaces`) and on the N*N (source,
destination) pairs, index ``s * N + d``. The formulas are in the docstring of
:mod:`packerl.fluid`; :class:`FluidNetwork` holds a topology's constants and evaluates a
traffic matrix on a next-hop table in a few vectorised NumPy calls.

Example (a 3-node line 0 - 1 - 2 of 8 Mbit/s links, 1 ms steps, so 1000 bytes per step):
    >>> import numpy as np
    >>> net = FluidNetwork(3, np.array([[0, 1], [1, 2]]), np.array([8e6, 8e6]),
    ...                    np.array([1.0, 1.0]), step_ms=1.0)
    >>> table = np.array([[-1, 1, 1], [0, -1, 2], [1, 1, -1]])
    >>> tm = np.zeros((3, 3)); tm[0, 2] = 1498.0      # one packet: a 1500-byte frame
    >>> out = net.evaluate(table, tm, packets=np.where(tm > 0, 1.0, 0.0))
    >>> round(float(out["link_util"][0]), 6), round(float(out["drop_queue"][0]), 6)
    (1.0, 500.0)
    >>> round(float(out["delivered"][0 * 3 + 2]), 3)      # IP bytes: 1498 * 1000 / 1500
    998.667
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "DELIVERED", "IP_TTL", "MAX_FIXED_POINT_ROUNDS", "MTU_BITS", "NO_ROUTE", "PPP_HEADER_BYTES",
    "TTL_EXPIRED", "FluidNetwork", "Paths", "max_min_share", "propagate_proportional",
    "queue_capacity_packets", "queueing_delay_ms", "route_paths",
]

#: links a packet can cross before its TTL expires (ns-3's default IPv4 TTL)
IP_TTL = 64
#: rounds of the proportional fixed point before it stops (see :func:`propagate_proportional`)
MAX_FIXED_POINT_ROUNDS = 101
#: bytes of the point-to-point header per frame, and the bits of the packets buffers count
PPP_HEADER_BYTES, MTU_BITS = 2, 1500.0 * 8.0
#: route status of a pair: reached its destination, no next hop, TTL expired in a loop
DELIVERED, NO_ROUTE, TTL_EXPIRED = 0, 1, 2
_TOL = 1e-12


def queue_capacity_packets(datarate_bps: np.ndarray, delay_ms: np.ndarray,
                           queue_scale: float = 1.0) -> np.ndarray:
    """Each link's device buffer in packets, as the simulator sizes it (a round trip's
    bandwidth-delay product, see :func:`packerl.sim.validation.check_buffers`):
    ``ceil(datarate * 2 * delay * queue_scale / 12000 bits)``."""
    return np.ceil(np.asarray(datarate_bps, np.float64) * 2.0
                   * np.asarray(delay_ms, np.float64) / 1e3 * queue_scale / MTU_BITS)


class Paths:
    """The routes of every (source, destination) pair under one next-hop table.

    Attributes:
        slots: (N*N, H) int64 slot of each hop of pair ``s * N + d``, -1 past the path's end
            (H: the longest path, at most ``IP_TTL``; a loop repeats its slots).
        status: (N*N,) int8 ``DELIVERED``, ``NO_ROUTE`` or ``TTL_EXPIRED`` (the diagonal is
            ``NO_ROUTE`` without hops; demands never use it).
        flat_slots, flat_pair, flat_hop: slot, pair and hop number of every valid hop, in
            row-major order (the vectorised form the kernels use).
    """

    def __init__(self, slots: np.ndarray, status: np.ndarray):
        self.slots = slots
        self.status = status
        flat = np.flatnonzero(slots.ravel() >= 0)
        width = slots.shape[1]
        self.flat_index = flat
        self.flat_slots = slots.ravel()[flat]
        self.flat_pair = flat // width
        self.flat_hop = flat % width
        self.hops = np.bincount(self.flat_pair, minlength=slots.shape[0])
        self.delivered = status == DELIVERED

    def before(self, factor: np.ndarray) -> np.ndarray:
        """Per valid hop, the product of ``factor[slot]`` over the pair's earlier hops."""
        f = np.ones(self.slots.shape)
        f.ravel()[self.flat_index] = factor[self.flat_slots]
        out = np.empty_like(f)
        out[:, 0] = 1.0
        np.cumprod(f[:, :-1], axis=1, out=out[:, 1:])
        return out.ravel()[self.flat_index]


def route_paths(next_hops: np.ndarray, slot_of: np.ndarray, ttl: int = IP_TTL) -> Paths:
    """Follow the destination-based ``next_hops`` from every source to every destination.

    Args:
        next_hops: (N, N) ints, ``[u, d]`` = u's next hop towards d, -1 = none.
        slot_of: (N, N) int64 slot of link (u, v), -1 where there is none (a next hop over no
            link counts as no route).
        ttl: links a flow may cross before it is dropped (default: ``IP_TTL``).

    Returns:
        The :class:`Paths`, computed with one vectorised round per hop.
    """
    n = next_hops.shape[0]
    src = np.repeat(np.arange(n), n)
    dst = np.tile(np.arange(n), n)
    status = np.full(n * n, TTL_EXPIRED, np.int8)
    status[src == dst] = NO_ROUTE
    hops = np.full((n * n, ttl), -1, np.int64)
    alive = np.flatnonzero(src != dst)
    cur = src[alive]
    width = 0
    for k in range(ttl):
        if alive.size == 0:
            break
        d = dst[alive]
        nxt = next_hops[cur, d]
        slot = np.where(nxt >= 0, slot_of[cur, np.maximum(nxt, 0)], -1)
        ok = slot >= 0
        status[alive[~ok]] = NO_ROUTE
        alive, cur, d, nxt, slot = alive[ok], cur[ok], d[ok], nxt[ok], slot[ok]
        if alive.size:
            hops[alive, k] = slot
            width = k + 1
        arrived = nxt == d
        status[alive[arrived]] = DELIVERED
        alive, cur = alive[~arrived], nxt[~arrived]
    return Paths(hops[:, :max(width, 1)].copy(), status)


def propagate_proportional(paths: Paths, offered: np.ndarray, capacity: np.ndarray,
                           up: np.ndarray | None = None,
                           packets: np.ndarray | None = None,
                           backlog: np.ndarray | None = None,
                           buffer: np.ndarray | None = None) -> dict[str, Any]:
    """Unresponsive (UDP) traffic at drop-tail links: proportional scaling.

    A slot e that is up all step accepts what it can send or queue, ``K_e = C_e + B_e - q_e``
    (capacity, buffer, backlog at the step's start); a slot that fails within the step
    (``0 < a_e < 1``) accepts up to ``a_e C_e``. Each passes the fraction
    ``g_e = a_e * min(1, K_e / A_e(g))`` of the bytes ``A_e(g)`` arriving when every earlier
    hop passes its ``g``. The fixed point is unique (the map is decreasing in ``g``) and
    iterated from ``g = a``: exact after as many rounds as the longest chain of overloaded
    links on a path (plus one), which covers loop-free routings. In long loops the iterates
    can oscillate around it; after ``MAX_FIXED_POINT_ROUNDS`` the last iterate below the
    fixed point is used, a feasible state (no slot over its room, every byte accounted for)
    that drops at most ``residual`` (the oscillation's amplitude) more per slot.

    Args:
        paths: the routes (:func:`route_paths`).
        offered: (N*N,) bytes each pair offers in the step, >= 0.
        capacity: (S,) bytes each slot can send in the step, > 0.
        up: (S,) fraction of the step each slot is up, in [0, 1] (default: 1 everywhere).
        packets: (N*N,) packets of each pair, carried in the same proportions as its bytes.
        backlog: (S,) bytes queued at the step's start (default: none, and no buffer).
        buffer: (S,) bytes each slot's queue holds (default: none: ``K_e = C_e``).

    Returns:
        Per slot (S,): ``arrived``; ``forwarded`` (accepted and passed on downstream within
        the step: a fluid byte does not wait for its queue); ``transmitted`` (sent on the
        link this step, ``min(a C, q + forwarded)``); ``backlog`` (queued at the step's end);
        ``drop_queue``, ``drop_down`` bytes; with ``packets`` the ``*_packets`` of arrived,
        forwarded, drop_queue and drop_down; ``factor`` the fixed point ``g``. Per pair
        (N*N,): ``survive``, the fraction of its bytes left at its path's end. ``rounds`` and
        ``residual``. On every slot ``arrived = forwarded + drop_queue + drop_down`` and
        ``q + forwarded = transmitted + backlog`` on slots that stay up.
    """
    s = capacity.shape[0]
    fs, fp = paths.flat_slots, paths.flat_pair
    x = np.asarray(offered, np.float64)[fp]
    ones = up is None or bool(np.all(up == 1.0))
    a = np.ones(s) if up is None else np.asarray(up, np.float64)
    q = np.zeros(s) if backlog is None else np.asarray(backlog, np.float64)
    room = np.asarray(capacity, np.float64)
    if buffer is not None:
        room = np.where(a >= 1.0, room + np.maximum(np.asarray(buffer) - q, 0.0), room)
    g = a
    before = np.ones(fs.shape[0]) if ones else paths.before(g)
    rounds, residual = 0, 0.0
    while True:
        rounds += 1
        arrived = np.bincount(fs, x * before, minlength=s)
        over = arrived > room
        new = a * np.where(over, room / np.where(over, arrived, 1.0), 1.0)
        residual = float(np.max(np.abs(new - g), initial=0.0))
        if residual <= _TOL:
            break
        g = new
        before = paths.before(g)
        # iterates alternate above and below the fixed point (the map is decreasing); stop
        # on one below it (an odd round): no slot then forwards more than it can
        if rounds >= MAX_FIXED_POINT_ROUNDS and rounds % 2 == 1:
            arrived = np.bincount(fs, x * before, minlength=s)
            break
    factor = g
    forwarded = arrived * factor
    drop_down = arrived * (1.0 - a)
    transmitted = np.minimum(a * capacity, q + forwarded)
    # the backlog only records when the link sends (its bytes have moved on downstream):
    # a failing link's backlog is forgotten, not dropped again
    left = np.where(a < 1.0, 0.0, q + forwarded - transmitted)
    if ones and bool(np.all(factor == 1.0)):
        survive = np.ones(paths.slots.shape[0])
    else:
        f = np.ones(paths.slots.shape)
        f.ravel()[paths.flat_index] = factor[fs]
        survive = f.prod(axis=1)
    out = {"arrived": arrived, "forwarded": forwarded, "transmitted": transmitted,
           "backlog": left, "drop_down": drop_down,
           "drop_queue": np.maximum(arrived * (a - factor), 0.0), "factor": factor,
           "survive": survive, "rounds": rounds, "residual": residual}
    if packets is not None:
        pk = np.bincount(fs, np.asarray(packets, np.float64)[fp] * before, minlength=s)
        out["arrived_packets"] = pk
        out["forwarded_packets"] = pk * factor
        out["drop_down_packets"] = pk * (1.0 - a)
        out["drop_queue_packets"] = np.maximum(pk * (a - factor), 0.0)
    return out


def max_min_share(flow_slots: np.ndarray, demand: np.ndarray, capacity: np.ndarray
                  ) -> np.ndarray:
    """Max-min fair rates (responsive, TCP-like traffic), exactly, per flow.

    Progressive filling by water level: every unfrozen flow gets ``min(d_f, lambda)`` and
    lambda rises until a slot is full; the flows crossing it freeze at that level (and flows
    whose demand lies below it at their demand). The level at which slot e fills solves
    ``sum_{f on e} min(d_f, lambda) = R_e`` (``R_e``: its capacity minus the frozen flows'
    rates), found from its flows' sorted demands, so each round saturates at least one slot:
    at most S rounds, each a few vectorised calls however many flows share a path.

    Args:
        flow_slots: (F, H) slots of each flow's loop-free path, -1 padding.
        demand: (F,) bytes each flow wants to send in the step, >= 0.
        capacity: (S,) bytes each slot can still carry, >= 0.

    Returns:
        (F,) allocated bytes: no slot carries more than its capacity, no flow more than it
        wants, and each flow is satisfied or crosses a full slot where no flow gets more
        (the max-min condition).
    """
    want = np.asarray(demand, np.float64)
    f = want.shape[0]
    x = np.zeros(f)
    if f == 0:
        return x
    s = capacity.shape[0]
    valid = flow_slots >= 0
    rows = np.nonzero(valid)[0]
    cols = flow_slots[valid]
    order = np.lexsort((want[rows], cols))  # by slot, then demand: once; rounds filter it
    rows, cols = rows[order], cols[order]
    res = np.asarray(capacity, np.float64).copy()
    tol = _TOL * max(float(np.max(capacity, initial=0.0)), float(want.max()), 1.0)
    frozen = want <= tol
    x[frozen] = want[frozen]
    big = np.iinfo(np.int64).max
    for _ in range(s + 1):
        act = ~frozen
        if not act.any():
            break
        on = act[rows]
        r, c = rows[on], cols[on]
        d = want[r]
        m = d.shape[0]
        start = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        counts = np.diff(np.r_[start, m])
        links = c[start]
        cum = np.cumsum(d)
        cum_excl = cum - d - np.repeat(cum[start] - d[start], counts)  # smaller ones' sum
        idx = np.arange(m)
        left = np.repeat(start + counts, counts) - idx  # flows at or above this demand
        room = np.maximum(res[c], 0.0)
        full = cum_excl + d * left >= room - tol  # the slot is full at level d
        first = np.minimum.reduceat(np.where(full, idx, big), start)
        hit = first != big
        level = np.full(links.shape[0], np.inf)
        i = first[hit]
        level[hit] = (room[i] - cum_excl[i]) / left[i]
        lam = float(level.min())
        if not np.isfinite(lam):  # no slot fills: every flow gets all it wants
            x[act] = want[act]
            break
        lam = max(lam, 0.0)
        saturated = np.zeros(s, bool)
        saturated[links[level <= lam + tol]] = True
        newly = act & (want <= lam + tol)
        newly[r[saturated[c]]] = True
        x[newly] = np.minimum(want[newly], lam)
        frozen |= newly
        gone = newly[rows]
        res -= np.bincount(cols[gone], x[rows[gone]], minlength=s)
    return x


def queueing_delay_ms(rho: np.ndarray, service_ms: np.ndarray, buffer_ms: np.ndarray
                      ) -> np.ndarray:
    """The M/M/1 waiting time ``rho / (1 - rho) * service_ms``, capped at ``buffer_ms`` (the
    time a full drop-tail buffer takes to drain), which is also the delay at ``rho >= 1``."""
    rho = np.asarray(rho, np.float64)
    safe = np.minimum(rho, 1.0 - 1e-12)
    w = np.where(rho < 1.0, safe / (1.0 - safe) * service_ms, np.inf)
    return np.minimum(w, buffer_ms)


class FluidNetwork:
    """A topology's links, ready to evaluate traffic matrices on next-hop tables.

    Args:
        num_nodes: N.
        edges: (E, 2) undirected links, ``u < v`` (slot order of :mod:`packerl.spaces`).
        datarate_bps, delay_ms: (E,) per link, the same both ways.
        step_ms: the step the traffic matrix covers, in ms (default: 5).
        queue_scale: the device buffers' multiplier, as :class:`packerl.sim.SimParams`.

    The last next-hop table's routes are cached, so evaluating many traffic matrices on one
    routing (or one matrix on many routings: MAGNNETO's loop) pays for routing once each.
    """

    def __init__(self, num_nodes: int, edges: np.ndarray, datarate_bps: np.ndarray,
                 delay_ms: np.ndarray, step_ms: float = 5.0, queue_scale: float = 1.0):
        n = int(num_nodes)
        edges = np.asarray(edges, np.int64).reshape(-1, 2)
        self.num_nodes = n
        self.step_ms = float(step_ms)
        self.edge_index = np.empty((2, 2 * len(edges)), np.int64)
        self.edge_index[:, 0::2] = edges.T
        self.edge_index[:, 1::2] = edges[:, ::-1].T
        self.slot_of = np.full((n, n), -1, np.int64)
        self.slot_of[self.edge_index[0], self.edge_index[1]] = np.arange(2 * len(edges))
        self.datarate_bps = np.repeat(np.asarray(datarate_bps, np.float64), 2)
        self.delay_ms = np.repeat(np.asarray(delay_ms, np.float64), 2)
        self.queue_packets = queue_capacity_packets(self.datarate_bps, self.delay_ms,
                                                    queue_scale)
        #: bytes each slot forwards in a step
        self.capacity = self.datarate_bps / 8.0 * self.step_ms / 1e3
        #: bytes each slot's buffer holds (full-sized frames) and the ms it takes to drain
        self.buffer_bytes = self.queue_packets * MTU_BITS / 8.0
        self.buffer_ms = self.queue_packets * MTU_BITS / self.datarate_bps * 1e3
        self._key: bytes | None = None
        self._paths: Paths | None = None

    @property
    def num_slots(self) -> int:
        """Directed edge slots, 2E."""
        return self.edge_index.shape[1]

    def paths(self, next_hops: np.ndarray) -> Paths:
        """The routes of ``next_hops`` (N, N); the last table's are cached."""
        table = np.ascontiguousarray(next_hops)
        key = table.tobytes()
        if key != self._key or self._paths is None:
            self._paths, self._key = route_paths(table, self.slot_of), key
        return self._paths

    def link_loads(self, next_hops: np.ndarray, tm: np.ndarray) -> np.ndarray:
        """(S,) bytes each slot is offered when the (N, N) traffic matrix ``tm`` follows
        ``next_hops`` with no capacity limit (the usual fluid model of routing RL, e.g.
        MAGNNETO's: utilisation ``loads / capacity`` may exceed 1). Traffic without a route
        loads the links up to where it is dropped."""
        p = self.paths(next_hops)
        return np.bincount(p.flat_slots, np.asarray(tm, np.float64).ravel()[p.flat_pair],
                           minlength=self.num_slots)

    def hop_delay_ms(self, arrived_frame_bytes: np.ndarray, arrived_packets: np.ndarray,
                     backlog_bytes: np.ndarray | None = None) -> np.ndarray:
        """(S,) ms a packet spends on each slot: propagation + transmission of a mean-sized
        frame + waiting, capped at a full buffer's drain time ``buffer_ms``: the time to
        send the mean ``backlog_bytes`` ahead of it, plus the M/M/1 wait
        :func:`queueing_delay_ms` at the utilisation ``rho = arrived / capacity`` while
        ``rho < 1`` (bursts within the step)."""
        rho = arrived_frame_bytes / self.capacity
        frame = np.where(arrived_packets > 0,
                         arrived_frame_bytes / np.where(arrived_packets > 0, arrived_packets,
                                                        1.0), 1500.0)
        service = 8.0 * frame / self.datarate_bps * 1e3
        wait = np.where(rho < 1.0, queueing_delay_ms(rho, service, self.buffer_ms), 0.0)
        if backlog_bytes is not None:
            wait = wait + 8.0 * np.asarray(backlog_bytes) / self.datarate_bps * 1e3
        return self.delay_ms + service + np.minimum(wait, self.buffer_ms)

    def pair_delay_ms(self, paths: Paths, hop_ms: np.ndarray) -> np.ndarray:
        """(N*N,) one-way delay of each pair's path: the sum of its hops' delays."""
        return np.bincount(paths.flat_pair, hop_ms[paths.flat_slots],
                           minlength=paths.slots.shape[0])

    def evaluate(self, next_hops: np.ndarray, tm: np.ndarray,
                 packets: np.ndarray | None = None,
                 up: np.ndarray | None = None) -> dict[str, Any]:
        """One fluid step of unresponsive traffic: route ``tm`` (N, N) bytes on
        ``next_hops``, scale overloaded links proportionally, and compute utilisation and
        delays.

        Args:
            next_hops: (N, N) next-hop table, -1 = no route.
            tm: (N, N) bytes offered per (source, destination) in the step.
            packets: (N, N) packets of ``tm`` (default: bytes / 1500).
            up: (S,) fraction of the step each slot is up (default: all).

        Returns:
            :func:`propagate_proportional`'s dict in frame bytes (IP + 2 per packet, what
            a link's capacity counts) plus, in IP bytes, ``delivered`` (N*N,) that reach
            their destination and ``drop_no_route``/``drop_ttl`` (N*N,) dropped at a path's
            end; ``link_util`` (S,) forwarded frame bytes / capacity, ``hop_ms`` (S,),
            ``pair_delay_ms`` (N*N,) and the ``paths``.
        """
        paths = self.paths(next_hops)
        x = np.asarray(tm, np.float64).ravel()
        pk = x / 1500.0 if packets is None else np.asarray(packets, np.float64).ravel()
        # capacity is in frame bytes: scale the frames, IP bytes follow in proportion
        out = propagate_proportional(paths, x + PPP_HEADER_BYTES * pk, self.capacity, up, pk)
        end = x * out["survive"]
        out["delivered"] = np.where(paths.delivered, end, 0.0)
        out["drop_no_route"] = np.where(paths.status == NO_ROUTE, end, 0.0)
        out["drop_ttl"] = np.where(paths.status == TTL_EXPIRED, end, 0.0)
        out["link_util"] = out["transmitted"] / self.capacity
        out["hop_ms"] = self.hop_delay_ms(out["arrived"], out["arrived_packets"])
        out["pair_delay_ms"] = self.pair_delay_ms(paths, out["hop_ms"])
        out["paths"] = paths
        return out
