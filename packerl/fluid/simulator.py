# SPDX-License-Identifier: GPL-2.0-only
""":class:`FluidSimulator`: the packet simulator's client interface, computed by the fluid
model of :mod:`packerl.fluid` (sources, the two overload models, delays, arrivals)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from packerl.error import NoStepPending, SimulatorError, StepAlreadyPending
from packerl.fluid.model import (
    MTU_BITS,
    NO_ROUTE,
    PPP_HEADER_BYTES,
    TTL_EXPIRED,
    FluidNetwork,
    max_min_share,
    propagate_proportional,
)
from packerl.sim import EDGE_FEATURES, GLOBAL_FEATURES, NODE_FEATURES, SimParams, SimState
from packerl.sim.validation import (
    MAX_EPISODE_MS,
    check_bool,
    check_buffers,
    validate_demands,
    validate_failures,
    validate_next_hops,
    validate_topology,
)

__all__ = ["TCP_HEADER_BYTES", "UDP_HEADER_BYTES", "UDP_PAYLOAD_BYTES", "FluidSimulator"]

#: bytes of the IP + UDP headers per datagram, and the largest payload of a 1500-byte packet
UDP_HEADER_BYTES, UDP_PAYLOAD_BYTES = 28, 1472
#: bytes of the IP + TCP headers per segment (TCP timestamps on, as in the simulator)
TCP_HEADER_BYTES = 52
_G = {name: i for i, name in enumerate(GLOBAL_FEATURES)}
_E = {name: i for i, name in enumerate(EDGE_FEATURES)}
_N = {name: i for i, name in enumerate(NODE_FEATURES)}
_SOURCE_FIELDS = (("src", np.int64), ("dst", np.int64), ("pair", np.int64), ("tcp", bool),
                  ("rate", np.float64), ("start", np.float64), ("left", np.float64),
                  ("pkt", np.float64), ("payload", np.float64), ("lost", bool))


class FluidSimulator:
    """A drop-in for :class:`packerl.sim.Simulator` computed by the fluid model.

    Same ``reset`` / ``step`` / ``step_async`` / ``step_wait`` / ``link_up`` / ``close``, the
    same :class:`~packerl.sim.SimState` (every global, edge and node feature the bridge
    defines, ``tm_sent`` and ``tm_received``) and the same input validation. Deterministic:
    ``seed`` is accepted and unused. There is no process: ``close()`` only forgets.

    Args:
        timeout: accepted for the interface (a fluid step cannot hang).
        check_inputs: validate next hops, demands and failures like the packet simulator
            (default: True). The fluid environment turns it off: its inputs come from a
            checked ``synnet.Scenario`` and a decoded action, and the checks cost more than a
            fluid step.
    """

    def __init__(self, *, timeout: float = 600.0, check_inputs: bool = True):
        self.timeout = float(timeout)
        self.check_inputs = check_bool("check_inputs", check_inputs)
        self._params = SimParams()
        self._net: FluidNetwork | None = None
        self._pending: tuple | None = None
        self._up = np.empty(0, bool)
        self._step = 0

    def __enter__(self) -> FluidSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def link_up(self) -> np.ndarray:
        """Per undirected edge, False once the link has failed (copy)."""
        return self._up.copy()

    @property
    def step_index(self) -> int:
        """Number of steps computed in the current episode."""
        return self._step

    @property
    def network(self) -> FluidNetwork | None:
        """The current episode's :class:`~packerl.fluid.model.FluidNetwork`."""
        return self._net

    def close(self) -> None:
        """Forget the episode (there is no process to end)."""
        self._net = None
        self._pending = None

    # ------------------------------------------------------------------------------ episode

    def reset(self, topology: Any, params: SimParams | Mapping[str, Any] | None = None,
              seed: int = 0) -> SimState:
        """Start an episode on ``topology``; returns S0 (as :meth:`packerl.sim.Simulator.reset`,
        whose arguments it takes)."""
        topo = validate_topology(topology)
        params = SimParams.from_any(params)
        check_buffers(topo, params.queue_scale)
        self._topo, self._params, self._step, self._pending = topo, params, 0, None
        n, e = topo.num_nodes, topo.num_edges
        self._net = FluidNetwork(n, topo.edges, topo.datarate_bps, topo.delay_ms,
                                 params.step_ms, params.queue_scale)
        self._up = np.ones(e, bool)
        self._adjacency = np.zeros((n, n), bool)
        self._adjacency[topo.edges[:, 0], topo.edges[:, 1]] = True
        self._adjacency[topo.edges[:, 1], topo.edges[:, 0]] = True
        self._table = np.full((n, n), -1, np.int32)
        self._backlog = np.zeros(2 * e)  # UDP frame bytes queued per slot
        self._src = {k: np.empty(0, t) for k, t in _SOURCE_FIELDS}
        #: bytes, packets and packet-ms arriving k steps from now, per pair; largest delay
        self._future = np.zeros((2, n * n, 3))
        self._future_max = np.zeros(2)
        self._edge0 = np.zeros((2 * e, len(EDGE_FEATURES)))
        for name, col in (("queue_capacity_pkts", self._net.queue_packets),
                          ("datarate_bps", self._net.datarate_bps),
                          ("delay_ms", self._net.delay_ms)):
            self._edge0[:, _E[name]] = col
        edge = self._edge0.copy()
        edge[:, _E["is_up"]] = 1.0
        return self._state(0, np.zeros(len(GLOBAL_FEATURES)), edge,
                           np.zeros((n, len(NODE_FEATURES))), np.zeros((n, n)),
                           np.zeros((n, n)))

    def step(self, next_hops: Any = None, demands: Any = None, failures: Any = None) -> SimState:
        """Install ``next_hops`` (None keeps the last table; initially no routes), add the
        step's demands and failures, compute one step (as :meth:`packerl.sim.Simulator.step`)."""
        self.step_async(next_hops, demands, failures)
        return self.step_wait()

    def step_async(self, next_hops: Any = None, demands: Any = None,
                   failures: Any = None) -> None:
        """Take the step's inputs (validated unless ``check_inputs=False``); the step is
        computed by :meth:`step_wait`."""
        if self._net is None:
            raise SimulatorError("no episode is running: call reset() first")
        if self._pending is not None:
            raise StepAlreadyPending("step_async() while a step is pending; call step_wait()")
        tau = self._params.step_ms
        start, end = tau * self._step, tau * (self._step + 1)
        if end > MAX_EPISODE_MS:
            raise ValueError(f"step {self._step} would end at {end:g} ms, beyond the "
                             f"{MAX_EPISODE_MS:g} ms an episode holds; reset() to start anew")
        if self.check_inputs:
            table = (None if next_hops is None
                     else validate_next_hops(next_hops, self._adjacency))
            dem = validate_demands(demands, self._topo.num_nodes, start, end)
            fail = validate_failures(failures, self._up, start, end)
        else:
            table = None if next_hops is None else np.asarray(next_hops)
            dem, fail = demands, failures
        self._pending = (table, dem, fail)

    def step_wait(self) -> SimState:
        """Compute the step given to :meth:`step_async` and return its state."""
        if self._pending is None:
            raise NoStepPending("no step is pending; call step_async() first")
        table, dem, fail = self._pending
        self._pending = None
        state = self._compute(table, dem, fail)
        self._step += 1
        return state

    # -------------------------------------------------------------------------------- model

    def _add_sources(self, dem: Any) -> int:
        """Append the step's demands as sources with their IP bytes; returns their count."""
        if dem is None or len(dem["time_ms"]) == 0:
            return 0
        n = self._net.num_nodes
        payload = np.asarray(dem["bytes"], np.float64)
        tcp = np.asarray(dem["is_tcp"], bool)
        per_pkt = np.where(tcp, float(self._params.tcp_segment_bytes), UDP_PAYLOAD_BYTES)
        packets = np.maximum(np.ceil(payload / per_pkt), 1.0)
        ip = payload + packets * np.where(tcp, TCP_HEADER_BYTES, UDP_HEADER_BYTES)
        src = np.asarray(dem["src"], np.int64)
        dst = np.asarray(dem["dst"], np.int64)
        new = {"src": src, "dst": dst, "pair": src * n + dst, "tcp": tcp,
               # UDP's rate is of payload; its IP bytes flow faster by the header share
               "rate": np.asarray(dem["rate_bps"], np.float64) / 8e3 * (ip / np.maximum(
                   payload, 1.0)),  # IP bytes per ms
               "start": np.asarray(dem["time_ms"], np.float64), "left": ip,
               "pkt": ip / packets, "payload": payload / ip,
               "lost": np.zeros(payload.shape[0], bool)}
        self._src = {k: np.concatenate([self._src[k], new[k]]) for k in new}
        return int(payload.shape[0])

    def _compute(self, table: np.ndarray | None, dem: Any, fail: Any) -> SimState:
        net, topo = self._net, self._topo
        n, s = net.num_nodes, net.num_slots
        nn = n * n
        tau = self._params.step_ms
        t0, t1 = tau * self._step, tau * (self._step + 1)
        if table is not None:
            self._table = table
        paths = net.paths(self._table)
        started = self._add_sources(dem)
        failed = (np.empty(0, np.int64) if fail is None or len(fail["edge"]) == 0
                  else np.asarray(fail["edge"], np.int64))
        up = None
        if failed.size or not self._up.all():
            up = np.repeat(self._up.astype(np.float64), 2)
            frac = (np.asarray(fail["time_ms"], np.float64) - t0) / tau if failed.size else 0
            up[2 * failed] = frac
            up[2 * failed + 1] = frac
        src = self._src
        pair, udp = src["pair"], ~src["tcp"]
        begin = np.maximum(src["start"], t0)
        # sources: UDP offers its rate over its active time, TCP everything it has left
        offer = np.where(udp, np.minimum(src["left"], src["rate"] * (t1 - begin)), src["left"])
        with np.errstate(divide="ignore", invalid="ignore"):
            finish = np.where(udp, np.minimum(begin + offer / src["rate"], t1), t1)
        udp_bytes = np.bincount(pair[udp], offer[udp], minlength=nn)
        udp_pkts = np.bincount(pair[udp], offer[udp] / src["pkt"][udp], minlength=nn)
        # capacities count frames (IP + PPP header): scale frames, IP bytes follow
        backlog = self._backlog
        prop = propagate_proportional(paths, udp_bytes + PPP_HEADER_BYTES * udp_pkts,
                                      net.capacity, up, udp_pkts, backlog, net.buffer_bytes)
        self._backlog = prop["backlog"]
        sent = np.where(udp, offer, 0.0)
        arrived, arrived_pkt = prop["arrived"], prop["arrived_packets"]  # frames
        tx = prop["transmitted"]
        # frames on the wire: the UDP packets passed on, plus what the queue drained or kept
        tx_pkt = np.maximum(prop["forwarded_packets"]
                            + (tx - prop["forwarded"]) / (MTU_BITS / 8.0), 0.0)
        tcp = np.flatnonzero(~udp & paths.delivered[pair])
        if tcp.size:  # TCP: max-min fair shares of what UDP leaves
            # the frame bytes UDP leaves, in the IP bytes of full TCP segments
            seg = self._params.tcp_segment_bytes + TCP_HEADER_BYTES
            room = (np.maximum((1.0 if up is None else up) * net.capacity - tx, 0.0)
                    * seg / (seg + PPP_HEADER_BYTES))
            flow_slots = paths.slots[pair[tcp]]
            share = max_min_share(flow_slots, offer[tcp], room)
            sent[tcp] = share
            valid = flow_slots >= 0
            load = np.bincount(flow_slots[valid], np.repeat(share, valid.sum(axis=1)),
                               minlength=s)
            load_pkt = load / seg
            load = load + PPP_HEADER_BYTES * load_pkt
            arrived, arrived_pkt = arrived + load, arrived_pkt + load_pkt
            tx, tx_pkt = tx + load, tx_pkt + load_pkt
        reach = np.where(paths.delivered, prop["survive"], 0.0)
        delivered = np.where(udp, sent * reach[pair], sent)
        src["lost"] |= delivered < sent * (1.0 - 1e-9)
        src["left"] = src["left"] - sent
        hop_ms = net.hop_delay_ms(arrived, arrived_pkt, (backlog + prop["backlog"]) / 2.0)
        pair_delay = net.pair_delay_ms(paths, hop_ms)
        end_drop = udp_bytes * prop["survive"]  # IP bytes left at a path's end
        no_route = float(end_drop[paths.status == NO_ROUTE].sum())
        ttl = float(end_drop[paths.status == TTL_EXPIRED].sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            pkt_per_byte = np.where(udp_bytes > 0, udp_pkts / udp_bytes, 0.0)
        end_drop_pkt = float((end_drop * pkt_per_byte)[~paths.delivered].sum())
        self._schedule(pair, delivered, src["pkt"], begin, finish, pair_delay[pair], t0, tau)
        now, recv_max = self._future[0], float(self._future_max[0])
        self._future = np.concatenate([self._future[1:], np.zeros((1, nn, 3))])
        self._future_max = np.r_[self._future_max[1:], 0.0]
        if failed.size:  # failures hold from the next step on
            self._up[failed] = False
            u, v = topo.edges[failed].T
            self._adjacency[u, v] = self._adjacency[v, u] = False
        tm_sent = np.bincount(pair, sent, minlength=nn).reshape(n, n)
        tm_received = now[:, 0].reshape(n, n)
        done = src["left"] <= 1e-6
        sent_sum = float(sent.sum())
        app_sent = float(sent @ src["payload"])
        self._src = {k: v[~done] for k, v in src.items()}
        # the state
        working = np.repeat(self._up, 2)
        util = tx / net.capacity
        rho = arrived / net.capacity
        # queue fills: the backlog carried to the next step, and at most the larger of it,
        # the start's backlog and the M/M/1 mean queue rho^2 / (1 - rho) of this step
        last = np.minimum(prop["backlog"] / net.buffer_bytes, 1.0)
        burst = np.where(rho < 1.0, rho * rho / np.maximum(1.0 - rho, 1e-12), np.inf)
        peak = np.maximum(np.maximum(backlog, prop["backlog"]) / net.buffer_bytes,
                          np.minimum(burst / np.maximum(net.queue_packets, 1.0), 1.0))
        peak = np.minimum(peak, 1.0)
        drop = prop["drop_queue"] + prop["drop_down"]  # frames
        drop_pkt = prop["drop_queue_packets"] + prop["drop_down_packets"]
        edge = self._edge0.copy()
        edge[:, _E["link_util"]] = util
        edge[:, _E["queue_max_load"]] = peak
        edge[:, _E["queue_last_load"]] = last
        edge[:, _E["tx_bytes"]] = edge[:, _E["rx_bytes"]] = tx
        edge[:, _E["tx_packets"]] = edge[:, _E["rx_packets"]] = tx_pkt
        edge[:, _E["drop_bytes"]] = drop
        edge[:, _E["drop_packets"]] = drop_pkt
        edge[:, _E["is_up"]] = working
        utils = util[working] if working.any() else np.zeros(1)
        received = float(now[:, 0].sum())
        received_pkt = float(now[:, 1].sum())
        drop_queue = float(prop["drop_queue"].sum()
                           - PPP_HEADER_BYTES * prop["drop_queue_packets"].sum())  # IP bytes
        drop_down = float(prop["drop_down"].sum()
                          - PPP_HEADER_BYTES * prop["drop_down_packets"].sum())
        glob = np.zeros(len(GLOBAL_FEATURES))
        for name, value in (
                ("max_link_util", float(utils.max())), ("avg_link_util", float(utils.mean())),
                ("avg_delay_ms", float(now[:, 2].sum()) / received_pkt if received_pkt > 0
                 else 0.0),
                ("max_delay_ms", recv_max), ("sent_bytes", sent_sum),
                ("received_bytes", received),
                ("dropped_bytes", drop_queue + drop_down + no_route + ttl),
                ("sent_packets", float((sent / src["pkt"]).sum())),
                ("received_packets", received_pkt),
                ("dropped_packets", float(drop_pkt.sum()) + end_drop_pkt),
                ("drop_queue_bytes", drop_queue), ("drop_no_route_bytes", no_route),
                ("drop_ttl_bytes", ttl), ("drop_link_down_bytes", drop_down),
                ("app_sent_bytes", app_sent),
                ("app_received_bytes", received * (app_sent / sent_sum) if sent_sum > 0
                 else 0.0),
                ("demands_started", float(started)),
                ("demands_completed", float((done & ~src["lost"]).sum())),
                ("demands_active", float((~done).sum())), ("sim_time_ms", t1)):
            glob[_G[name]] = value
        node = np.zeros((n, len(NODE_FEATURES)))
        node[:, _N["sent_bytes"]] = tm_sent.sum(axis=1)
        node[:, _N["received_bytes"]] = tm_received.sum(axis=0)
        return self._state(self._step + 1, glob, edge, node, tm_sent, tm_received)

    def _schedule(self, pair: np.ndarray, delivered: np.ndarray, pkt: np.ndarray,
                  begin: np.ndarray, finish: np.ndarray, delay: np.ndarray, t0: float,
                  tau: float) -> None:
        """Spread each source's delivered bytes, sent during ``[begin, finish]``, over the
        steps of ``[begin + delay, finish + delay]`` (at most two: a window is one step)."""
        use = delivered > 0
        if not use.any():
            return
        pair, b, d = pair[use], delivered[use], delay[use]
        k = b / pkt[use]
        lo = (begin[use] - t0 + d) / tau
        hi = (finish[use] - t0 + d) / tau
        first = np.floor(lo).astype(np.int64)
        width = hi - lo
        with np.errstate(divide="ignore", invalid="ignore"):
            part = np.where(width > 1e-12, (np.minimum(hi, first + 1) - lo) / width, 1.0)
        part = np.clip(part, 0.0, 1.0)
        need = int(first.max()) + 2
        if need > self._future.shape[0]:
            grow = need - self._future.shape[0]
            self._future = np.concatenate([self._future,
                                           np.zeros((grow,) + self._future.shape[1:])])
            self._future_max = np.r_[self._future_max, np.zeros(grow)]
        nn = self._future.shape[1]
        index = np.concatenate([first * nn + pair, (first + 1) * nn + pair])
        share = np.concatenate([part, 1.0 - part])
        size = self._future.shape[0] * nn
        flat = self._future.reshape(size, 3)
        flat[:, 0] += np.bincount(index, np.tile(b, 2) * share, minlength=size)
        packets = np.tile(k, 2) * share
        flat[:, 1] += np.bincount(index, packets, minlength=size)
        flat[:, 2] += np.bincount(index, packets * np.tile(d, 2), minlength=size)
        steps = np.concatenate([first, first + 1])[share > 0]
        np.maximum.at(self._future_max, steps, np.tile(d, 2)[share > 0])

    def _state(self, step: int, glob: np.ndarray, edge: np.ndarray, node: np.ndarray,
               tm_sent: np.ndarray, tm_received: np.ndarray) -> SimState:
        return SimState(step=step, time_ms=self._params.step_ms * step, global_features=glob,
                        edge_features=edge, node_features=node, tm_sent=tm_sent,
                        tm_received=tm_received, edge_index=self._net.edge_index.copy())
