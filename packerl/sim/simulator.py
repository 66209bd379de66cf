# SPDX-License-Identifier: GPL-2.0-only
"""The simulator client: one ns-3 simulator process and one shared-memory segment.

A :class:`Simulator` starts ``packerl-sim`` as a subprocess for every episode, hands it the
segment's file descriptor, and talks to it only through the segment: inputs are written into
NumPy views, a process-shared semaphore is posted, and the client blocks (GIL released, no
spinning) on the answer. The segment's name is unlinked the moment it is created, so nothing
is ever left in ``/dev/shm``; processes are killed on ``close()``, on errors, on
KeyboardInterrupt and at interpreter exit.

Example:
    >>> import numpy as np
    >>> from packerl.sim import Simulator
    >>> topo = {"num_nodes": 2, "edges": np.array([[0, 1]]),
    ...         "datarate_bps": np.array([1e7]), "delay_ms": np.array([1.0])}
    >>> with Simulator() as sim:
    ...     s0 = sim.reset(topo, seed=1)
    ...     demands = {"time_ms": [0.0], "src": [0], "dst": [1], "bytes": [14720],
    ...                "is_tcp": [False], "rate_bps": [1e6]}
    ...     s1 = sim.step(np.array([[-1, 1], [0, -1]]), demands)
    ...     s1.g("app_received_bytes") > 0
    True
"""

from __future__ import annotations

import itertools
import os
import secrets
import signal
import subprocess
import tempfile
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import IO, Any

import numpy as np

from packerl import _bridge
from packerl.error import (
    NoStepPending,
    SimulatorCommandError,
    SimulatorCrashed,
    SimulatorError,
    SimulatorProtocolError,
    SimulatorTimeout,
    StepAlreadyPending,
)
from packerl.sim.launcher import (
    parent_death_hook,
    share_nice_with,
    simulator_env,
    simulator_executable,
)
from packerl.sim.validation import (
    MAX_EPISODE_MS,
    MAX_QUEUE_SCALE,
    MAX_SIM_SEED,
    MAX_STEP_MS,
    MAX_TIMEOUT_S,
    MIN_QUEUE_SCALE,
    MIN_STEP_MS,
    TopologyArrays,
    check_buffers,
    check_float,
    check_int,
    validate_demands,
    validate_failures,
    validate_next_hops,
    validate_topology,
)

#: The bridge schema of the compiled module, generated from the tables of cpp/bridge/layout.h:
#: ``layout_version``, ``arrays`` (name, dtype, rows, cols, doc), ``global_features`` (name, doc,
#: aggregate), ``edge_features`` and ``node_features`` (name, doc), ``header_fields``.
BRIDGE_SPEC: Mapping[str, Any] = _bridge.SPEC

# Feature names, in column order, come from the schema: no list is repeated here.
GLOBAL_FEATURES: tuple[str, ...] = tuple(row[0] for row in BRIDGE_SPEC["global_features"])
EDGE_FEATURES: tuple[str, ...] = tuple(row[0] for row in BRIDGE_SPEC["edge_features"])
NODE_FEATURES: tuple[str, ...] = tuple(row[0] for row in BRIDGE_SPEC["node_features"])
_G = {name: i for i, name in enumerate(GLOBAL_FEATURES)}
_E = {name: i for i, name in enumerate(EDGE_FEATURES)}
_N = {name: i for i, name in enumerate(NODE_FEATURES)}

#: The segment arrays this client reads or writes, with the dtypes it assumes.
_CLIENT_ARRAYS: dict[str, str] = {
    "edge_nodes": "<i4", "edge_datarate": "<f8", "edge_delay_ms": "<f8", "next_hop": "<i4",
    "dem_time_ms": "<f8", "dem_src": "<i4", "dem_dst": "<i4", "dem_bytes": "<i8",
    "dem_is_tcp": "|u1", "dem_rate_bps": "<f8", "fail_time_ms": "<f8", "fail_edge": "<i4",
    "global": "<f8", "edge": "<f8", "node": "<f8", "tm_sent": "<f8", "tm_received": "<f8",
}


def _check_spec(spec: Mapping[str, Any]) -> None:
    """Fail at import, naming the difference, if the compiled bridge is not the layout this
    client was written for (a stale build, or a table changed on one side only)."""
    arrays = {a["name"]: a["dtype"] for a in spec["arrays"]}
    if arrays != _CLIENT_ARRAYS:
        diff = sorted(set(arrays.items()) ^ set(_CLIENT_ARRAYS.items()))
        raise ImportError(
            f"packerl._bridge (layout {spec['layout_version']}) does not have the arrays "
            f"packerl.sim expects; differing (name, dtype): {diff}. Rebuild the package "
            "(`pip install -e .`) after changing cpp/bridge/layout.h, and update `_CLIENT_ARRAYS`"
        )
    for table in ("global_features", "edge_features", "node_features"):
        names = [row[0] for row in spec[table]]
        if len(set(names)) != len(names):
            raise ImportError(f"packerl._bridge: `{table}` repeats a name: {names}")
    exported = (tuple(_bridge.GLOBAL_FEATURES), tuple(_bridge.EDGE_FEATURES),
                tuple(_bridge.NODE_FEATURES))
    if exported != (GLOBAL_FEATURES, EDGE_FEATURES, NODE_FEATURES):
        raise ImportError("packerl._bridge's feature name lists disagree with its SPEC")


_check_spec(BRIDGE_SPEC)

_counter = itertools.count()
_POLL_SECONDS = 0.05
_STDERR_TAIL_BYTES = 4000


@dataclass(frozen=True)
class SimParams:
    """Simulation parameters of an episode (defaults from the PackeRL paper, Appendix B.1).

    Attributes:
        step_ms: simulated time per step in milliseconds, in [``MIN_STEP_MS``,
            ``MAX_STEP_MS``] = [1e-3, 1e6] (default: 5).
        tcp_segment_bytes: TCP maximum segment size; 1448 fills a 1500-byte IP packet with
            TCP timestamps on (default: 1448).
        queue_scale: multiplier on the device buffers, which are sized to the
            bandwidth-delay product by default, in [``MIN_QUEUE_SCALE``, ``MAX_QUEUE_SCALE``]
            = [1e-3, 1e3] (default: 1.0).

    Every field is checked strictly (no strings, booleans or NaN; see
    :func:`packerl.sim.validation.check_float`).
    """

    step_ms: float = 5.0
    tcp_segment_bytes: int = 1448
    queue_scale: float = 1.0

    def __post_init__(self) -> None:
        step_ms = check_float("`step_ms`", self.step_ms, MIN_STEP_MS, MAX_STEP_MS,
                              why="steps shorter than 1 microsecond simulate next to nothing, "
                                  "longer ones than 1000 s approach ns-3's clock limit")
        tcp = check_int("`tcp_segment_bytes`", self.tcp_segment_bytes, 100, 1460)
        queue = check_float("`queue_scale`", self.queue_scale, MIN_QUEUE_SCALE, MAX_QUEUE_SCALE)
        object.__setattr__(self, "step_ms", step_ms)
        object.__setattr__(self, "tcp_segment_bytes", tcp)
        object.__setattr__(self, "queue_scale", queue)

    @classmethod
    def from_any(cls, params: SimParams | Mapping[str, Any] | None) -> SimParams:
        """Build from a SimParams, a dict of its fields, or None (defaults)."""
        if params is None:
            return cls()
        if isinstance(params, cls):
            return params
        known = {f.name for f in fields(cls)}
        unknown = set(params) - known
        if unknown:
            raise ValueError(
                f"unknown simulation parameter(s) {sorted(unknown)}; valid: {sorted(known)}"
            )
        return cls(**params)


@dataclass(frozen=True)
class SimState:
    """The monitored network state after a step (or S0 after reset). Arrays are copies.

    Directed edge ``2*i`` is topology edge ``i`` as ``(u, v)`` with ``u < v``; ``2*i + 1`` is
    ``(v, u)``. Counters cover this step only; ``tm_sent[u, v]`` are the IP bytes node ``u``
    sent towards ``v`` this step.
    """

    step: int
    time_ms: float
    global_features: np.ndarray  # (len(GLOBAL_FEATURES),)
    edge_features: np.ndarray  # (2E, len(EDGE_FEATURES))
    node_features: np.ndarray  # (N, len(NODE_FEATURES))
    tm_sent: np.ndarray  # (N, N)
    tm_received: np.ndarray  # (N, N)
    edge_index: np.ndarray  # (2, 2E) int64, rows: source, target

    def g(self, name: str) -> float:
        """A global feature by name (see ``GLOBAL_FEATURES``)."""
        return float(self.global_features[_index(_G, name, "global")])

    def edge(self, name: str) -> np.ndarray:
        """A per-directed-edge feature column by name (see ``EDGE_FEATURES``)."""
        return self.edge_features[:, _index(_E, name, "edge")]

    def node(self, name: str) -> np.ndarray:
        """A per-node feature column by name (see ``NODE_FEATURES``)."""
        return self.node_features[:, _index(_N, name, "node")]


def _index(table: dict[str, int], name: str, kind: str) -> int:
    try:
        return table[name]
    except KeyError:
        raise KeyError(f"unknown {kind} feature `{name}`; valid: {sorted(table)}") from None


class _Process:
    """What must be released whatever happens: the simulator process and its stderr file.

    Kept apart from Simulator so that a ``weakref.finalize`` can release it without keeping the
    Simulator alive.
    """

    def __init__(self, proc: subprocess.Popen, stderr: IO[bytes]):
        self.proc = proc
        self.stderr = stderr

    def stderr_tail(self) -> str:
        try:
            self.stderr.flush()
            size = self.stderr.seek(0, os.SEEK_END)
            self.stderr.seek(max(0, size - _STDERR_TAIL_BYTES))
            return self.stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - kill -9 does not time out
            pass

    def release(self) -> None:
        self.kill()
        try:
            self.stderr.close()
        except OSError:  # pragma: no cover
            pass


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "is still running"
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


class Simulator:
    """Client of one ns-3 simulator process (one per episode) over one shared-memory segment.

    Args:
        timeout: seconds to wait for any one command (a step or reset) before the simulator
            is declared hung, killed, and :class:`SimulatorTimeout` raised (default: 600).
        max_demands: demands per message; more are sent in several messages (default: 4096).
        max_failures: link failures per message (default: 256).
    """

    def __init__(self, *, timeout: float = 600.0, max_demands: int = 4096,
                 max_failures: int = 256):
        timeout = check_float("`timeout`", timeout, 0.0, MAX_TIMEOUT_S, lo_open=True)
        max_demands = check_int("`max_demands`", max_demands, 1, 2**31 - 1)
        max_failures = check_int("`max_failures`", max_failures, 1, 2**31 - 1)
        self.timeout = float(timeout)
        self._max_demands = int(max_demands)
        self._max_failures = int(max_failures)
        self._segment: Any = None
        self._arrays: dict[str, np.ndarray] = {}
        self._process: _Process | None = None
        self._finalizer: weakref.finalize | None = None
        self._sequence = 0
        self._topology: TopologyArrays | None = None
        self._params = SimParams()
        self._step = 0
        self._pending = False
        self._up: np.ndarray = np.empty(0, bool)
        self._adjacency: np.ndarray = np.empty((0, 0), bool)
        self._edge_index: np.ndarray = np.empty((2, 0), np.int64)
        self._pending_failures: np.ndarray = np.empty(0, np.int32)

    # ----------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """Process id of the running simulator, or None."""
        return self._process.proc.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """True while a simulator process serves an episode."""
        return self._process is not None and self._process.proc.poll() is None

    @property
    def step_index(self) -> int:
        """Number of steps simulated in the current episode."""
        return self._step

    @property
    def topology(self) -> TopologyArrays | None:
        """The validated topology of the current episode."""
        return self._topology

    @property
    def link_up(self) -> np.ndarray:
        """Per undirected edge, False once the link has failed (copy)."""
        return self._up.copy()

    def close(self) -> None:
        """End the episode's simulator process (gracefully if it is idle) and free memory."""
        self._end_process()
        self._discard_segment()

    def _end_process(self) -> None:
        """End the simulator process but keep the segment for the next episode."""
        proc = self._process
        if proc is not None and not self._pending and proc.proc.poll() is None:
            clean = False
            try:
                self._send(_bridge.CMD_CLOSE)
                clean = self._segment.wait_response(2.0)
                proc.proc.wait(timeout=2.0)
            except (subprocess.TimeoutExpired, SimulatorError, OSError):
                clean = False
            if not clean:
                self._discard_segment()
        elif proc is not None:
            self._discard_segment()  # it failed or was busy: its segment is not trusted
        self._release_process()

    def _discard_segment(self) -> None:
        self._segment = None
        self._arrays = {}

    def _release_process(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # idempotent: kills the process, closes the stderr file
            self._finalizer = None
        self._process = None
        self._pending = False

    # ----------------------------------------------------------------------------- episode

    def reset(self, topology: Any, params: SimParams | Mapping[str, Any] | None = None,
              seed: int = 0) -> SimState:
        """Start a new episode on ``topology`` and return its initial state S0.

        Args:
            topology: a ``synnet.Topology`` or any mapping/object with ``num_nodes``,
                ``edges`` (E, 2), ``datarate_bps`` (E,) and ``delay_ms`` (E,).
            params: simulation parameters (:class:`SimParams` or a dict of its fields).
            seed: ns-3 run number; the same topology, inputs and seed give bit-identical
                states.

        Raises:
            ValueError: if the topology or parameters are invalid.
            SimulatorError: if the simulator fails to start.
        """
        topo = validate_topology(topology)
        params = SimParams.from_any(params)
        check_buffers(topo, params.queue_scale)
        seed = check_int("`seed`", seed, 0, MAX_SIM_SEED,
                         why="the simulator's seed (ns-3 run number) is an unsigned 64-bit integer")
        self._end_process()
        self._ensure_segment(topo.num_nodes, topo.num_edges)
        seg, arr = self._segment, self._arrays
        n, e = topo.num_nodes, topo.num_edges
        arr["edge_nodes"][: 2 * e] = topo.edges.reshape(-1)
        arr["edge_datarate"][:e] = topo.datarate_bps
        arr["edge_delay_ms"][:e] = topo.delay_ms
        seg.num_nodes, seg.num_edges, seg.seed = n, e, seed
        seg.step_ms, seg.tcp_segment_bytes = params.step_ms, params.tcp_segment_bytes
        seg.queue_scale = params.queue_scale
        seg.status = 0
        self._topology, self._params, self._step = topo, params, 0
        self._up = np.ones(e, bool)
        self._adjacency = np.zeros((n, n), bool)
        self._adjacency[topo.edges[:, 0], topo.edges[:, 1]] = True
        self._adjacency[topo.edges[:, 1], topo.edges[:, 0]] = True
        self._edge_index = np.empty((2, 2 * e), np.int64)
        self._edge_index[:, 0::2] = topo.edges.T
        self._edge_index[:, 1::2] = topo.edges[:, ::-1].T
        self._spawn()
        self._transact(_bridge.CMD_RESET)
        return self._read_state()

    def step(self, next_hops: Any = None, demands: Any = None, failures: Any = None) -> SimState:
        """Install ``next_hops``, add this step's demands and failures, simulate one step.

        Args:
            next_hops: (N, N) integer table; ``[u, z]`` is the neighbour of ``u`` that packets
                for ``z`` are forwarded to, -1 for none (dropped and counted). None keeps the
                previous table (initially: no routes at all).
            demands: this step's traffic demands: a structured array with fields
                ``time_ms, src, dst, bytes, is_tcp, rate_bps`` (``synnet.DEMAND_DTYPE``) or a
                mapping of those columns; times must lie inside the step.
            failures: this step's link failures: fields ``time_ms, edge`` (edge = row of the
                topology's edge list).

        Returns:
            The state at the end of the step.
        """
        self.step_async(next_hops, demands, failures)
        return self.step_wait()

    def step_async(self, next_hops: Any = None, demands: Any = None,
                   failures: Any = None) -> None:
        """Validate and send a step without waiting; pair with :meth:`step_wait`.

        Lets one thread drive many simulators concurrently: send to all, then wait for all.
        """
        self._require_episode()
        self._require_idle("step_async()")
        start = self._params.step_ms * self._step
        end = self._params.step_ms * (self._step + 1)
        if end > MAX_EPISODE_MS or self._step >= 2**32 - 1:
            raise ValueError(
                f"step {self._step} would end at {end:g} ms, beyond the {MAX_EPISODE_MS:g} ms "
                "(or 2**32 - 1 steps) the simulator's clock and step counter hold; reset() to "
                "start a new episode")
        topo = self._topology
        assert topo is not None
        table = None
        if next_hops is not None:
            table = validate_next_hops(next_hops, self._adjacency)
        dem = validate_demands(demands, topo.num_nodes, start, end)
        fail = validate_failures(failures, self._up, start, end)
        nf = fail["edge"].shape[0]
        if nf > self._max_failures:  # before anything reaches the simulator
            raise ValueError(
                f"{nf} link failures in one step; at most {self._max_failures} are accepted"
            )
        seg, arr = self._segment, self._arrays
        n = topo.num_nodes
        if table is not None:
            arr["next_hop"][: n * n] = table.reshape(-1)
        seg.routing_changed = int(table is not None)
        seg.step_index = self._step
        count = dem["time_ms"].shape[0]
        # Demands beyond one message's capacity travel ahead in add-events messages.
        chunk = self._max_demands
        first = 0
        while count - first > chunk:
            self._write_demands(dem, first, first + chunk)
            self._write_failures(fail, 0, 0)
            self._transact(_bridge.CMD_ADD_EVENTS)
            first += chunk
        self._write_demands(dem, first, count)
        self._write_failures(fail, 0, nf)
        self._pending_failures = fail["edge"]
        self._send(_bridge.CMD_STEP)
        self._pending = True

    def step_wait(self) -> SimState:
        """Wait for the step sent by :meth:`step_async` and return its state."""
        if not self._pending:
            raise NoStepPending("no step is pending; call step_async() first")
        self._wait()
        self._pending = False
        self._step += 1
        if self._pending_failures.size:
            failed = self._pending_failures
            self._up[failed] = False
            u, v = self._topology.edges[failed].T  # type: ignore[union-attr]
            self._adjacency[u, v] = False
            self._adjacency[v, u] = False
        return self._read_state()

    def check_next_hops(self, next_hops: Any) -> np.ndarray:
        """Validate a next-hop table against the current topology (failed links removed)
        without sending it; returns it as int32. Raises ValueError like :meth:`step`."""
        self._require_episode()
        return validate_next_hops(next_hops, self._adjacency)

    def ping(self) -> None:
        """One round trip that simulates nothing (bridge latency benchmark)."""
        self._require_episode()
        self._require_idle("ping()")
        self._transact(_bridge.CMD_PING)

    # ----------------------------------------------------------------------------- internals

    def _require_episode(self) -> None:
        if self._process is None or self._segment is None:
            raise SimulatorError(
                "no episode is running: call reset() first (after a failure, reset() starts a "
                "fresh simulator process)"
            )

    def _require_idle(self, what: str) -> None:
        if self._pending:
            raise StepAlreadyPending(
                f"a step is already pending; call step_wait() before {what} (or reset() to "
                "abandon it)"
            )

    def _ensure_segment(self, n: int, e: int) -> None:
        if self._segment is not None:
            cap = self._segment.capacity
            if cap[0] >= n and cap[1] >= e:
                return
        name = f"/packerl-{os.getpid()}-{next(_counter)}-{secrets.token_hex(4)}"
        self._segment = _bridge.Segment(n, e, self._max_demands, self._max_failures, name)
        self._arrays = self._segment.arrays()

    def _spawn(self) -> None:
        exe = simulator_executable()
        stderr = tempfile.TemporaryFile(prefix="packerl-sim-", suffix=".stderr")
        fd = self._segment.fd
        proc = subprocess.Popen(
            [str(exe), "--shm-fd", str(fd), "--parent-pid", str(os.getpid())],
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=simulator_env(),
            start_new_session=True,  # Ctrl-C reaches us, and we end the simulator ourselves
            preexec_fn=parent_death_hook(),  # dies with us even when hung or stopped
        )
        share_nice_with(proc.pid)
        self._process = _Process(proc, stderr)
        self._finalizer = weakref.finalize(self, self._process.release)

    def _write_demands(self, dem: dict, lo: int, hi: int) -> None:
        arr = self._arrays
        k = hi - lo
        arr["dem_time_ms"][:k] = dem["time_ms"][lo:hi]
        arr["dem_src"][:k] = dem["src"][lo:hi]
        arr["dem_dst"][:k] = dem["dst"][lo:hi]
        arr["dem_bytes"][:k] = dem["bytes"][lo:hi]
        arr["dem_is_tcp"][:k] = dem["is_tcp"][lo:hi]
        arr["dem_rate_bps"][:k] = dem["rate_bps"][lo:hi]
        self._segment.num_demands = k

    def _write_failures(self, fail: dict, lo: int, hi: int) -> None:
        k = hi - lo
        self._arrays["fail_time_ms"][:k] = fail["time_ms"][lo:hi]
        self._arrays["fail_edge"][:k] = fail["edge"][lo:hi]
        self._segment.num_failures = k

    def _send(self, command: int) -> None:
        seg = self._segment
        self._sequence += 1
        seg.command = command
        seg.sequence = self._sequence
        seg.post_request()

    def _transact(self, command: int) -> None:
        self._send(command)
        self._pending = True
        self._wait()
        self._pending = False

    def _wait(self) -> None:
        proc = self._process
        seg = self._segment
        assert proc is not None
        deadline = time.monotonic() + self.timeout
        try:
            while not seg.wait_response(_POLL_SECONDS):
                if proc.proc.poll() is not None:
                    self._fail(SimulatorCrashed,
                               f"the simulator (pid {proc.proc.pid}) "
                               f"{_describe_exit(proc.proc.returncode)}")
                if time.monotonic() > deadline:
                    self._fail(SimulatorTimeout,
                               f"the simulator (pid {proc.proc.pid}) did not answer within "
                               f"{self.timeout:g} s; it was killed (raise `timeout` if your "
                               "scenario needs longer)")
        except BaseException:
            # KeyboardInterrupt (or our own error): never leave a process behind, and never
            # reuse a segment whose semaphores and header a dead simulator may have left odd.
            self._release_process()
            self._discard_segment()
            raise
        if not seg.magic_ok or seg.echoed != self._sequence:
            self._fail(SimulatorProtocolError,
                       "the simulator answered with an invalid header (bad magic, layout "
                       f"version or sequence number {seg.echoed} != {self._sequence})")
        if seg.status != _bridge.STATUS_OK:
            message = seg.error or f"unknown status {seg.status}"
            self._fail(SimulatorCommandError, f"the simulator refused the command: {message}")

    def _fail(self, kind: type[SimulatorError], message: str) -> None:
        proc = self._process
        tail = ""
        code = None
        if proc is not None:
            proc.kill()
            tail = proc.stderr_tail()
            code = proc.proc.returncode
        self._release_process()
        self._discard_segment()
        raise kind(message + "; call reset() to start a new simulator", stderr_tail=tail,
                   returncode=code)

    def _read_state(self) -> SimState:
        topo = self._topology
        assert topo is not None
        n, e = topo.num_nodes, topo.num_edges
        arr = self._arrays
        g = arr["global"].copy()
        return SimState(
            step=self._step,
            time_ms=float(self._segment.sim_time_ms),
            global_features=g,
            edge_features=arr["edge"][: 2 * e * len(EDGE_FEATURES)]
            .reshape(2 * e, len(EDGE_FEATURES)).copy(),
            node_features=arr["node"][: n * len(NODE_FEATURES)]
            .reshape(n, len(NODE_FEATURES)).copy(),
            tm_sent=arr["tm_sent"][: n * n].reshape(n, n).copy(),
            tm_received=arr["tm_received"][: n * n].reshape(n, n).copy(),
            edge_index=self._edge_index,
        )

