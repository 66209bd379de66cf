# SPDX-License-Identifier: GPL-2.0-only
"""Scenario containers (:class:`Topology`, :class:`Scenario`) and the file format.

A *scenario* is everything a packet-level simulator needs to replay one episode:
a topology with per-link datarates and delays, a time-sorted list of traffic
demands and a time-sorted list of link failures.

File format (``format: "synnet-scenario"``, ``version: 1``)
-----------------------------------------------------------
A scenario is saved as ONE uncompressed NumPy ``.npz`` archive (``np.savez``;
the ``.npz`` suffix is *not* appended automatically, the path is used as given).
It holds these members, all loadable with ``allow_pickle=False``:

========================  ==========================================================
member                    content
========================  ==========================================================
``meta``                  0-d unicode array: a JSON object with the keys
                          ``format`` (``"synnet-scenario"``), ``version`` (``1``),
                          ``topology_name``, ``num_nodes``, ``steps``, ``step_ms``,
                          ``seed`` (int or null) and ``params`` (the resolved
                          generation parameters, a JSON object).
``edges``                 ``(E, 2)`` int32, undirected, rows ``u < v``, sorted
``datarate_bps``          ``(E,)`` float64
``delay_ms``              ``(E,)`` float64
``positions``             ``(N, 2)`` float64 layout coordinates
``potentials``            ``(N,)`` float64 traffic potentials ``c``
``demands``               structured array of :data:`DEMAND_DTYPE`
``failures``              structured array of :data:`FAILURE_DTYPE`
========================  ==========================================================

Arrays are stored with their exact dtype, so a save/load round trip is
bit-identical; the JSON metadata is written with Python's ``json`` module,
whose float formatting round-trips exactly.  Loading a file whose ``format``
or ``version`` differs, that lacks a member, that is empty, truncated or corrupted, or whose
members disagree with each other raises :class:`ScenarioFileError` (a :class:`ValueError`).
Member headers are checked before any array is read: a member whose header declares more than
:data:`MAX_MEMBER_BYTES` bytes, or another size than the archive stores, is refused.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from .checks import MAX_NODES, MAX_STEP_MS, MAX_STEPS, MIN_STEP_MS, check_float, check_int

DEMAND_DTYPE = np.dtype(
    [
        ("time_ms", "<f8"),
        ("src", "<i4"),
        ("dst", "<i4"),
        ("bytes", "<i8"),
        ("is_tcp", "?"),
        ("rate_bps", "<f8"),
    ]
)
FAILURE_DTYPE = np.dtype([("time_ms", "<f8"), ("edge", "<i4")])

FORMAT_NAME = "synnet-scenario"
FORMAT_VERSION = 1
#: the largest array :meth:`Scenario.load` inflates from one member (1 GiB)
MAX_MEMBER_BYTES = 1 << 30


class ScenarioFileError(ValueError):
    """A file is not a readable synnet scenario: empty, truncated, corrupted or inconsistent."""


def _check_member(archive: np.lib.npyio.NpzFile, path: str, member: str) -> None:
    """Refuse a member whose ``.npy`` header declares an oversized or mismatched array."""
    name = member + ".npy"
    try:
        info = archive.zip.getinfo(name)
        with archive.zip.open(name) as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            header_len = fh.tell()
    except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ScenarioFileError(f"{path!r}: member {member!r} has no valid array header: {exc}"
                                ) from exc
    declared = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if declared > MAX_MEMBER_BYTES:
        raise ScenarioFileError(
            f"{path!r}: member {member!r} declares shape {tuple(shape)} of {dtype} "
            f"({declared} bytes), more than the {MAX_MEMBER_BYTES} bytes allowed "
            "(synnet.scenario.MAX_MEMBER_BYTES)")
    if not dtype.hasobject and header_len + declared != info.file_size:
        raise ScenarioFileError(
            f"{path!r}: member {member!r} declares {declared} bytes of data but the archive "
            f"holds {info.file_size - header_len}; the file is corrupted")


_ARRAY_MEMBERS = ("edges", "datarate_bps", "delay_ms", "positions", "potentials", "demands", "failures")


def _readonly(a: np.ndarray) -> np.ndarray:
    """Return a read-only array (copying writeable input so callers' arrays stay untouched)."""
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.copy()
        a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Topology:
    """An undirected network topology with link attributes.

    Attributes:
        name: Human-readable identifier, e.g. ``"nx-XS/er"`` or ``"nsfnet"``.
        num_nodes: Number of nodes; nodes are ``0 .. num_nodes - 1``.
        edges: ``(E, 2)`` int32 array, each row ``u < v``, rows sorted lexicographically.
        datarate_bps: ``(E,)`` float64 link datarates in bit/s.
        delay_ms: ``(E,)`` float64 link propagation delays in milliseconds.
        positions: ``(N, 2)`` float64 layout coordinates (centred on the origin).
        potentials: ``(N,)`` float64 normalised traffic potentials ``c`` (max 1).
    """

    name: str
    num_nodes: int
    edges: np.ndarray
    datarate_bps: np.ndarray
    delay_ms: np.ndarray
    positions: np.ndarray
    potentials: np.ndarray

    def __post_init__(self) -> None:
        n = check_int("num_nodes", self.num_nodes, 1, MAX_NODES)
        edges = np.asarray(self.edges, dtype=np.int32).reshape(-1, 2)
        e = len(edges)
        checks = {
            "datarate_bps": (np.asarray(self.datarate_bps, dtype=np.float64), (e,)),
            "delay_ms": (np.asarray(self.delay_ms, dtype=np.float64), (e,)),
            "positions": (np.asarray(self.positions, dtype=np.float64), (n, 2)),
            "potentials": (np.asarray(self.potentials, dtype=np.float64), (n,)),
        }
        if n < 1:
            raise ValueError(f"num_nodes must be >= 1, got {n}")
        if e and (edges.min() < 0 or edges.max() >= n):
            raise ValueError(f"edge endpoints must lie in [0, {n - 1}]")
        if e and np.any(edges[:, 0] >= edges[:, 1]):
            raise ValueError("every edge row must satisfy u < v (no self-loops)")
        if e > 1:
            order = np.lexsort((edges[:, 1], edges[:, 0]))
            if not np.array_equal(order, np.arange(e)):
                raise ValueError("edges must be sorted lexicographically")
            if np.any(np.all(edges[1:] == edges[:-1], axis=1)):
                raise ValueError("edges must be unique")
        object.__setattr__(self, "num_nodes", n)
        object.__setattr__(self, "edges", _readonly(edges))
        for key, (arr, shape) in checks.items():
            if arr.shape != shape:
                raise ValueError(f"{key} must have shape {shape}, got {arr.shape}")
            object.__setattr__(self, key, _readonly(arr))

    @property
    def num_edges(self) -> int:
        """Number of undirected links."""
        return len(self.edges)

    def to_networkx(self) -> nx.Graph:
        """Return an :class:`networkx.Graph` view of the topology.

        Nodes carry ``pos`` (tuple) and ``potential``; edges carry ``datarate_bps``,
        ``delay_ms`` and ``index`` (the row in :attr:`edges`).
        """
        g = nx.Graph(name=self.name)
        for i in range(self.num_nodes):
            g.add_node(i, pos=tuple(float(x) for x in self.positions[i]), potential=float(self.potentials[i]))
        for k, (u, v) in enumerate(self.edges.tolist()):
            g.add_edge(
                u, v, datarate_bps=float(self.datarate_bps[k]), delay_ms=float(self.delay_ms[k]), index=k
            )
        return g


@dataclass(frozen=True, eq=False)
class Scenario:
    """One episode: a topology, its traffic demands and its link failures.

    Attributes:
        topology: The network.
        demands: :data:`DEMAND_DTYPE` array sorted (stably) by ``time_ms``, times in
            ``[0, steps * step_ms)``.
        failures: :data:`FAILURE_DTYPE` array sorted by ``time_ms``; ``edge`` indexes
            ``topology.edges``. A failed link stays down for the rest of the episode.
        steps: Number of simulation steps ``H``.
        step_ms: Duration of one step ``tau`` in milliseconds.
        seed: The seed passed to :func:`synnet.generate` (``None`` if none was given).
        params: Every resolved generation parameter (JSON-serialisable).
    """

    topology: Topology
    demands: np.ndarray
    failures: np.ndarray
    steps: int
    step_ms: float
    seed: int | None
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        demands = np.asarray(self.demands)
        failures = np.asarray(self.failures)
        if demands.dtype != DEMAND_DTYPE:
            raise ValueError(f"demands must have dtype DEMAND_DTYPE, got {demands.dtype}")
        if failures.dtype != FAILURE_DTYPE:
            raise ValueError(f"failures must have dtype FAILURE_DTYPE, got {failures.dtype}")
        check_int("steps", self.steps, 1, MAX_STEPS)
        check_float("step_ms", self.step_ms, MIN_STEP_MS, MAX_STEP_MS)
        if not isinstance(self.params, dict):
            raise ValueError(f"params must be a dict of generation parameters, got "
                             f"{type(self.params).__name__}")
        duration = int(self.steps) * float(self.step_ms)
        for name, arr in (("demands", demands), ("failures", failures)):
            times = arr["time_ms"]
            bad = ~(np.isfinite(times) & (times >= 0) & (times < duration))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"{name}[{i}] has time_ms {float(times[i])!r}; times must lie in "
                                 f"[0, {duration:g}) ms, the episode's steps x step_ms")
            if len(arr) > 1 and np.any(np.diff(times) < 0):
                raise ValueError(f"{name} must be sorted by time_ms")
        n = int(self.topology.num_nodes)
        ends = np.concatenate([demands["src"], demands["dst"]])
        if len(ends) and (ends.min() < 0 or ends.max() >= n):
            raise ValueError(f"demand endpoints must be node ids 0..{n - 1}")
        if np.any(demands["src"] == demands["dst"]):
            raise ValueError("a demand's source and destination must differ")
        num_edges = len(np.asarray(self.topology.edges).reshape(-1, 2))
        if len(failures) and (failures["edge"].min() < 0 or failures["edge"].max() >= num_edges):
            raise ValueError(f"failure edges must be edge indices 0..{num_edges - 1}")
        object.__setattr__(self, "steps", int(self.steps))
        object.__setattr__(self, "step_ms", float(self.step_ms))
        object.__setattr__(self, "demands", _readonly(demands))
        object.__setattr__(self, "failures", _readonly(failures))

    @property
    def duration_ms(self) -> float:
        """Episode length ``steps * step_ms`` in milliseconds."""
        return self.steps * self.step_ms

    def _step_slice(self, arr: np.ndarray, t: int) -> np.ndarray:
        if not 0 <= int(t) < self.steps:
            raise IndexError(f"step {t} out of range; valid steps are 0 .. {self.steps - 1}")
        times = arr["time_ms"]
        lo, hi = np.searchsorted(times, [t * self.step_ms, (t + 1) * self.step_ms], side="left")
        return arr[lo:hi]

    def step_demands(self, t: int) -> np.ndarray:
        """Demands arriving in step ``t`` (``t*step_ms <= time < (t+1)*step_ms``), as a view."""
        return self._step_slice(self.demands, t)

    def step_failures(self, t: int) -> np.ndarray:
        """Link failures occurring in step ``t``, as a view."""
        return self._step_slice(self.failures, t)

    def save(self, path: str | os.PathLike) -> None:
        """Write the scenario to ``path`` in the format described in the module docstring."""
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "topology_name": self.topology.name,
            "num_nodes": self.topology.num_nodes,
            "steps": self.steps,
            "step_ms": self.step_ms,
            "seed": self.seed,
            "params": self.params,
        }
        arrays = {k: getattr(self.topology, k) for k in _ARRAY_MEMBERS[:5]}
        arrays["demands"] = self.demands
        arrays["failures"] = self.failures
        with open(os.fspath(path), "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Scenario:
        """Read a scenario written by :meth:`save`.

        Raises:
            ScenarioFileError: (a ``ValueError``) if the file is not a synnet scenario, has
                another format version, misses a member, is empty, truncated or corrupted,
                declares a member larger than :data:`MAX_MEMBER_BYTES`, or holds members that
                disagree with each other.
            FileNotFoundError: if ``path`` does not exist.
        """
        path = os.fspath(path)
        try:
            archive = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            if not os.path.exists(path):
                raise FileNotFoundError(f"no such scenario file: {path!r}") from exc
            raise ScenarioFileError(
                f"{path!r} is not a synnet scenario file (expected a .npz archive written by "
                f"Scenario.save, format {FORMAT_NAME!r} version {FORMAT_VERSION}): "
                f"{exc or type(exc).__name__}"
            ) from exc
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ScenarioFileError(
                f"{path!r} is a single .npy array, not a synnet scenario .npz archive")
        with archive:
            if "meta" not in archive.files:
                raise ScenarioFileError(
                    f"{path!r} has no 'meta' member; not a synnet scenario file")
            _check_member(archive, path, "meta")
            try:
                meta: dict[str, Any] = json.loads(str(archive["meta"][()]))
            except (json.JSONDecodeError, TypeError) as exc:
                raise ScenarioFileError(f"{path!r}: 'meta' is not valid JSON") from exc
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                raise ScenarioFileError(f"{path!r}: cannot read 'meta': {exc}") from exc
            if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
                got = meta.get("format") if isinstance(meta, dict) else None
                raise ScenarioFileError(f"{path!r}: format is {got!r}, expected {FORMAT_NAME!r}")
            if meta.get("version") != FORMAT_VERSION:
                raise ScenarioFileError(
                    f"{path!r}: unsupported synnet-scenario version {meta.get('version')!r}; "
                    f"this synnet reads version {FORMAT_VERSION}"
                )
            missing = [m for m in _ARRAY_MEMBERS if m not in archive.files]
            if missing:
                raise ScenarioFileError(f"{path!r}: missing member(s) {missing}")
            keys = ("topology_name", "num_nodes", "steps", "step_ms", "seed", "params")
            absent = [k for k in keys if k not in meta]
            if absent:
                raise ScenarioFileError(f"{path!r}: 'meta' lacks the key(s) {absent}")
            for m in _ARRAY_MEMBERS:
                _check_member(archive, path, m)
            try:
                arr = {m: archive[m] for m in _ARRAY_MEMBERS}
            except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile,
                    zlib.error) as exc:
                raise ScenarioFileError(f"{path!r}: a member is unreadable: {exc}") from exc
        try:
            topo = Topology(
                name=meta["topology_name"],
                num_nodes=meta["num_nodes"],
                edges=arr["edges"],
                datarate_bps=arr["datarate_bps"],
                delay_ms=arr["delay_ms"],
                positions=arr["positions"],
                potentials=arr["potentials"],
            )
            return cls(
                topology=topo,
                demands=arr["demands"],
                failures=arr["failures"],
                steps=meta["steps"],
                step_ms=meta["step_ms"],
                seed=meta["seed"],
                params=meta["params"],
            )
        except (ValueError, TypeError, IndexError) as exc:
            raise ScenarioFileError(f"{path!r}: inconsistent scenario: {exc}") from exc
