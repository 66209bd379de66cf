# SPDX-License-Identifier: GPL-2.0-only
"""A guard: a policy combinator that lets any policy route only under a trusted fallback's watch.

:class:`Guard` wraps a policy (learned or classic, the *wrapped* policy) with a trusted
*fallback* (EIGRP by default) and is itself a :class:`~policies.base.Policy`, so it runs
wherever a policy runs. Every step it computes both policies' next-hop tables, checks the
wrapped one and installs one of them:

- **shadow mode** (``mode=shadow``): the fallback always routes; the wrapped policy's table is
  computed, checked and recorded with what it would have changed, never installed.
- **selective automation** (``destinations=``, ``nodes=``): the wrapped policy sets only the
  entries ``[u, z]`` of the chosen destinations ``z`` and routing nodes ``u``; the fallback
  sets the rest (ids beyond an episode's node count have no effect).
- **decision bounds** (``max_change=``, ``window=``/``max_window_change=``): at most that share
  of the ``N (N - 1)`` next-hop entries may change per step, and over any ``window``
  consecutive steps. Changes are applied one whole destination column at a time (routing is
  per destination, so every column taken from a checked table keeps the table loop-free), the
  columns with the fewest changes first; what is left of the budget then goes to single
  entries of the remaining columns, each kept only if its column still delivers; the rest
  wait for later steps. A column whose
  previous routing no longer delivers (a link failed) is repaired at once and not counted
  (``forced`` in the audit record). The bounds count the wrapped policy's changes; switching to
  the fallback is a safety action and is never delayed. Step 0 counts from the fallback's
  table.
- **checks before installing**, each a named entry of the step's audit record:
  ``exception`` (the wrapped policy raised or returned an action outside the space),
  ``links`` (an entry names a link that is not working: a non-neighbour in the ``node``
  encoding, a value at or beyond the working degree in the ``neighbor`` encoding),
  ``reachability`` (every destination reachable from every node connected to it under the
  table: no loops, no blackholes), ``inference`` (the wrapped policy's ``act`` took at most
  ``budget_ms``), ``inputs`` (every global feature and every working edge's feature lies in
  the range seen in a reference: ``[min - m * span, max + m * span]`` with
  ``m = range_margin``; a simple check against poisoned telemetry). The reference ranges come
  from a file (``ranges=<file.json>``, written by :func:`record_ranges` from reference
  episodes, e.g. the training scenarios under EIGRP) or, with ``calibrate=k``, from the first
  ``k`` observations the guard sees (the check passes, marked ``calibrating``, meanwhile).
- **fallback**: the fallback routes from the step a check fails, and after
  ``degraded_steps`` consecutive steps of the wrapped policy's routing with the observed drop
  ratio above ``max_drop_ratio`` or average delay above ``max_delay_ms`` (the telemetry of
  step ``t`` shows the consequence of the table installed at ``t - 1``). The guard returns to
  the wrapped policy after ``recovery_steps`` consecutive healthy steps: every check of the
  wrapped policy's (shadowed) table passes and the telemetry is within the thresholds (so if
  even the fallback's routing degrades past them, the guard stays with the fallback).
- **circuit breaker**: :meth:`Guard.trip` hands routing to the fallback until
  :meth:`Guard.release`; after a release the usual ``recovery_steps`` apply.
- **audit**: every step yields one record (:attr:`Guard.records`; with ``audit=<dir>`` also a
  JSON lines file per episode, :mod:`policies.audit`) with the installed table or its diff,
  every check result and every fallback with its reason; :func:`policies.audit.replay`
  re-simulates it.

As a policy name (``packerl evaluate --policy``, sweeps, reports) a guard is the spec string::

    guard:<policy>[,option=value...]

``<policy>`` is any name :func:`policies.factory.make_policy` accepts except another guard (a
registered baseline or a trained run directory; a path must not contain a comma). Options
(defaults in :class:`GuardConfig`): ``mode`` (``guard`` or ``shadow``), ``fallback`` (a
registered baseline), ``destinations`` and ``nodes`` (node ids joined by ``+``, e.g.
``0+3+5``), ``max_change``, ``window``, ``max_window_change``, ``budget_ms``, ``ranges``,
``calibrate``, ``range_margin``, ``max_drop_ratio``, ``max_delay_ms``, ``degraded_steps``,
``recovery_steps``, ``audit``. For example
``guard:runs/fieldlines__nx-XS__flex__seed0,max_change=0.1,budget_ms=50``.

A wrapped policy that produces link weights (a trained M-Slim run) is routed by shortest paths
over its weights; the guard itself always produces next-hop actions.

Example:
    >>> config = parse_guard_spec("guard:random_nh,mode=shadow,destinations=0+2")
    >>> config.inner, config.mode, config.destinations
    ('random_nh', 'shadow', (0, 2))
    >>> parse_guard_spec("guard:random_nh,speed=3")
    Traceback (most recent call last):
    ...
    policies.guard.GuardSpecError: guard spec `guard:random_nh,speed=3`: unknown option `speed`; valid: ['audit', 'budget_ms', 'calibrate', 'degraded_steps', 'destinations', 'fallback', 'max_change', 'max_delay_ms', 'max_drop_ratio', 'max_window_change', 'mode', 'nodes', 'range_margin', 'ranges', 'recovery_steps', 'window'] (form: guard:<policy>[,option=value...])
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import time
import warnings
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from packerl.routing import ACTION_RELATIVE_TIE, next_hops_from_weights
from packerl.spaces import (
    EDGE_OBS_FEATURES,
    GLOBAL_OBS_FEATURES,
    ActionFormat,
    check_action,
    graph_of,
    neighbor_lists,
)
from policies.audit import AuditLog, observation_digest, table_digest
from policies.base import Policy
from policies.registry import names, policy_label

#: the prefix that makes a policy name a guard spec
GUARD_PREFIX = "guard:"
GuardMode = Literal["guard", "shadow"]
GUARD_MODES: tuple[str, ...] = ("guard", "shadow")
#: the checks of every step's record, in the order they are evaluated
CHECKS: tuple[str, ...] = ("exception", "links", "inference", "inputs", "reachability")
#: the features the input check bounds, per observation key
RANGE_FEATURES: dict[str, tuple[str, ...]] = {"global": GLOBAL_OBS_FEATURES,
                                              "edge_attr": EDGE_OBS_FEATURES}
RANGES_FORMAT = 1
_DROPPED = GLOBAL_OBS_FEATURES.index("dropped_bytes")
_RECEIVED = GLOBAL_OBS_FEATURES.index("received_bytes")
_DELAY = GLOBAL_OBS_FEATURES.index("avg_delay_ms")


class GuardSpecError(ValueError):
    """A guard spec string or option that cannot be used; the message says what is accepted."""


def _ids(text: str) -> tuple[int, ...]:
    parts = text.split("+")
    if not text or not all(re.fullmatch(r"\d+", p) for p in parts):
        raise ValueError("expected node ids joined by `+`, e.g. 0+3+5")
    return tuple(sorted({int(p) for p in parts}))


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected a number, found {text!r}") from None


def _share(text: str) -> float:
    x = _number(text)
    if not 0.0 <= x <= 1.0:
        raise ValueError("expected a share in [0, 1]")
    return x


def _positive(text: str) -> float:
    x = _number(text)
    if not (math.isfinite(x) and x > 0):
        raise ValueError("expected a finite number > 0")
    return x


def _count(low: int):
    def parse(text: str) -> int:
        if not re.fullmatch(r"\d+", text) or int(text) < low:
            raise ValueError(f"expected an integer >= {low}")
        return int(text)
    return parse


def _mode(text: str) -> str:
    if text not in GUARD_MODES:
        raise ValueError(f"expected one of {list(GUARD_MODES)}")
    return text


def _text(text: str) -> str:
    if not text:
        raise ValueError("expected a non-empty value")
    return text


@dataclass(frozen=True)
class GuardConfig:
    """What a guard does (the options of a guard spec, same names).

    Attributes:
        inner: the wrapped policy's name (a registered baseline or a trained run).
        mode: ``"guard"`` (the wrapped policy routes under the checks) or ``"shadow"``
            (the fallback routes, the wrapped policy is only evaluated).
        fallback: the trusted policy, a registered baseline (default: ``eigrp``).
        destinations: destinations the wrapped policy routes (default None: all).
        nodes: routing nodes whose entries the wrapped policy sets (default None: all).
        max_change: share of next-hop entries that may change per step (default 1: no bound).
        window: steps of the window bound (default 1: no window bound).
        max_window_change: share of entries that may change over ``window`` steps (default
            None: no window bound).
        budget_ms: inference-time budget of the wrapped policy's ``act`` (default None: off).
        ranges: JSON file of reference feature ranges (:func:`record_ranges`; default None).
        calibrate: take the ranges from the first ``calibrate`` observations instead
            (default 0: off; not together with ``ranges``).
        range_margin: tolerance of the input check as a share of each feature's range
            (default 0.1).
        max_drop_ratio: drop ratio above which a step is degraded (default None: off).
        max_delay_ms: average delay above which a step is degraded (default None: off).
        degraded_steps: consecutive degraded steps that trigger the fallback (default 3).
        recovery_steps: consecutive healthy steps before the wrapped policy routes again
            (default 5).
        audit: directory of the per-episode JSON lines audit logs (default None: in memory
            only, :attr:`Guard.records`).
    """

    inner: str
    mode: GuardMode = "guard"
    fallback: str = "eigrp"
    destinations: tuple[int, ...] | None = None
    nodes: tuple[int, ...] | None = None
    max_change: float = 1.0
    window: int = 1
    max_window_change: float | None = None
    budget_ms: float | None = None
    ranges: str | None = None
    calibrate: int = 0
    range_margin: float = 0.1
    max_drop_ratio: float | None = None
    max_delay_ms: float | None = None
    degraded_steps: int = 3
    recovery_steps: int = 5
    audit: str | None = None

    def __post_init__(self) -> None:
        if self.ranges is not None and self.calibrate:
            raise GuardSpecError("give either `ranges` (a reference file) or `calibrate` (the "
                                 "first k steps), not both")
        if self.max_window_change is not None and self.window < 2:
            raise GuardSpecError("`max_window_change` needs `window` >= 2 steps (with window 1 "
                                 "it is `max_change`)")

    def options(self) -> dict[str, Any]:
        """The options that differ from the defaults (JSON-serialisable)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name != "inner" and value != f.default:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def spec(self) -> str:
        """The spec string of this configuration; :func:`parse_guard_spec` inverts it.

        Raises:
            GuardSpecError: the wrapped policy or a text option contains a comma.
        """
        parts = [self.inner]
        for key, value in self.options().items():
            text = "+".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"{key}={text}")
        if any("," in p.split("=", 1)[-1] for p in parts):
            raise GuardSpecError(f"a guard spec cannot hold a comma in a value: {parts}")
        return GUARD_PREFIX + ",".join(parts)


#: option name -> parser of its text (each raises ValueError saying what it expects)
_OPTIONS: dict[str, Any] = {
    "mode": _mode, "fallback": _text, "destinations": _ids, "nodes": _ids,
    "max_change": _share, "window": _count(1), "max_window_change": _share,
    "budget_ms": _positive, "ranges": _text, "calibrate": _count(1), "range_margin": _share,
    "max_drop_ratio": _share, "max_delay_ms": _positive, "degraded_steps": _count(1),
    "recovery_steps": _count(1), "audit": _text,
}
_FORM = "form: guard:<policy>[,option=value...]"


def is_guard_spec(name: Any) -> bool:
    """True if ``name`` is a guard spec string (starts with :data:`GUARD_PREFIX`)."""
    return isinstance(name, str) and name.startswith(GUARD_PREFIX)


def parse_guard_spec(spec: str) -> GuardConfig:
    """The :class:`GuardConfig` of a spec string ``guard:<policy>[,option=value...]``.

    Only the syntax and the option values are checked here; whether the wrapped policy and
    the fallback exist is checked by :func:`policies.factory.check_policy_name`.

    Raises:
        GuardSpecError: (a ``ValueError``) naming the bad part and what is accepted.
    """
    if not is_guard_spec(spec):
        raise GuardSpecError(f"`{spec}` is not a guard spec ({_FORM})")
    inner, *parts = spec[len(GUARD_PREFIX):].split(",")
    if not inner or "=" in inner:
        raise GuardSpecError(f"guard spec `{spec}` names no wrapped policy ({_FORM}, e.g. "
                             "guard:random_nh,mode=shadow)")
    if is_guard_spec(inner):
        raise GuardSpecError(f"guard spec `{spec}`: a guard cannot wrap another guard")
    values: dict[str, Any] = {}
    for part in parts:
        key, sep, text = part.partition("=")
        if key not in _OPTIONS:
            raise GuardSpecError(f"guard spec `{spec}`: unknown option `{key}`; valid: "
                                 f"{sorted(_OPTIONS)} ({_FORM})")
        if not sep:
            raise GuardSpecError(f"guard spec `{spec}`: option `{key}` needs a value "
                                 f"(`{key}=...`)")
        if key in values:
            raise GuardSpecError(f"guard spec `{spec}`: option `{key}` is given twice")
        try:
            values[key] = _OPTIONS[key](text)
        except ValueError as exc:
            raise GuardSpecError(f"guard spec `{spec}`: option `{key}={text}`: {exc}") from None
    return GuardConfig(inner=inner, **values)


def guard_slug(spec: str, inner_slug: str) -> str:
    """A file-name-safe identifier of a guard spec: ``guard-<wrapped>-<option>-<value>...``;
    file options (``audit``, ``ranges``) appear as a digest of their paths, and a digest of
    all options replaces them when they are long."""
    import hashlib

    def digest(x: Any) -> str:
        return hashlib.sha256(json.dumps(x, sort_keys=True).encode()).hexdigest()[:10]

    options = parse_guard_spec(spec).options()
    parts = []
    for key, value in options.items():
        if key in ("audit", "ranges"):
            value = digest(value)
        elif isinstance(value, list):
            value = "+".join(map(str, value))
        parts.append(f"{key}-{value}")
    text = re.sub(r"[^A-Za-z0-9._+-]", "_", "-".join(parts))
    if len(text) > 160:
        text = digest(options)
    return f"guard-{inner_slug}" + (f"-{text}" if text else "")


def guard_label(name: str) -> str:
    """A short display name for tables and plots: ``Guard(<wrapped>)`` or
    ``Shadow(<wrapped>)`` for a guard spec, the registry's label of a registered name, the
    last path component of a trained run."""
    if is_guard_spec(name):
        config = parse_guard_spec(name)
        kind = "Shadow" if config.mode == "shadow" else "Guard"
        return f"{kind}({guard_label(config.inner)})"
    if name in names():
        return policy_label(name)
    return Path(name).name or name


# ------------------------------------------------------------------------ routing checks


def delivery(table: np.ndarray, adjacency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the packets of every (u, z) end under a next-hop table.

    Args:
        table: (N, N) next hops (node ids, -1 = no route).
        adjacency: (N, N) working links (``adjacency[u, v]`` true if v is u's working
            neighbour).

    Returns:
        ``(delivered, looped)``: (N, N) booleans; ``delivered[u, z]`` if following the table
        from u reaches z over working links only (true on the diagonal), ``looped[u, z]`` if
        the path cycles. Pairs neither delivered nor looped end in a blackhole (no route or a
        link that is not working).
    """
    n = table.shape[0]
    adj = np.asarray(adjacency, bool)[:n, :n]
    nxt = np.asarray(table, np.int64)
    rows = np.arange(n)[:, None]
    ok = (nxt >= 0) & (nxt < n) & adj[rows, np.clip(nxt, 0, n - 1)]
    nxt = np.where(ok, nxt, -1)
    z = np.broadcast_to(np.arange(n)[None, :], (n, n))
    pos = np.broadcast_to(np.arange(n)[:, None], (n, n)).copy()
    for _ in range(n):  # a delivering path visits each node at most once
        moving = (pos >= 0) & (pos != z)
        if not moving.any():
            break
        pos = np.where(moving, nxt[np.clip(pos, 0, n - 1), z], pos)
    delivered = pos == z
    return delivered, (pos >= 0) & ~delivered


def connected(adjacency: np.ndarray, n: int) -> np.ndarray:
    """(N, N) booleans: u and z are connected by working links (the pairs a table must
    deliver)."""
    adj = np.asarray(adjacency, bool)[:n, :n]
    _, label = connected_components(csr_matrix(adj.astype(np.int8)), directed=False)
    return label[:, None] == label[None, :]


def check_reachability(table: np.ndarray, adjacency: np.ndarray) -> dict[str, Any]:
    """The ``reachability`` check of a table: every pair connected by working links is
    delivered (no loop, no blackhole). Returns the check record (``ok``, counts, first
    failing pair)."""
    n = table.shape[0]
    delivered, looped = delivery(table, adjacency)
    need = connected(adjacency, n)
    bad = need & ~delivered
    record: dict[str, Any] = {"ok": not bool(bad.any()), "loops": int((bad & looped).sum()),
                              "blackholes": int((bad & ~looped).sum())}
    if bad.any():
        u, z = (int(x) for x in np.argwhere(bad)[0])
        record["first"] = [u, z]
    return record


def valid_columns(table: np.ndarray, adjacency: np.ndarray) -> np.ndarray:
    """(N,) booleans: the table delivers destination z from every node connected to z."""
    delivered, _ = delivery(table, adjacency)
    need = connected(adjacency, table.shape[0])
    return ~(need & ~delivered).any(axis=0)


# -------------------------------------------------------------------------- input ranges


@dataclass
class FeatureRanges:
    """Per-feature min/max of observations (``global`` and working edges' ``edge_attr``),
    the reference of the guard's ``inputs`` check."""

    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]
    source: str = ""

    @staticmethod
    def _values(obs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        used = np.asarray(obs["edge_mask"]).astype(bool)
        return {"global": np.asarray(obs["global"], np.float64)[None, :],
                "edge_attr": np.asarray(obs["edge_attr"], np.float64)[used]}

    @classmethod
    def from_observations(cls, observations: Iterable[Mapping[str, np.ndarray]],
                          source: str = "") -> FeatureRanges:
        """The ranges of some (unstacked, unnormalised) observations.

        Raises:
            ValueError: for no observations.
        """
        low: dict[str, np.ndarray] = {}
        high: dict[str, np.ndarray] = {}
        for obs in observations:
            for key, v in cls._values(obs).items():
                if not len(v):
                    continue
                lo, hi = v.min(axis=0), v.max(axis=0)
                low[key] = np.minimum(low[key], lo) if key in low else lo
                high[key] = np.maximum(high[key], hi) if key in high else hi
        if set(low) != set(RANGE_FEATURES):
            raise ValueError("feature ranges need at least one observation with a working link")
        return cls(low, high, source)

    def violations(self, obs: Mapping[str, np.ndarray], margin: float) -> list[dict[str, Any]]:
        """The features of ``obs`` outside ``[min - margin * span, max + margin * span]``
        (non-finite values always), one entry per feature with its worst value."""
        out = []
        for key, v in self._values(obs).items():
            if not len(v):
                continue
            span = np.maximum(self.high[key] - self.low[key], 1e-9 * np.maximum(
                np.abs(self.high[key]), 1.0))
            lo, hi = self.low[key] - margin * span, self.high[key] + margin * span
            bad = ~np.isfinite(v) | (v < lo) | (v > hi)
            for j in np.flatnonzero(bad.any(axis=0)):
                col = v[:, j]
                worst = col[np.argmax(np.where(np.isfinite(col), np.maximum(lo[j] - col,
                                                                            col - hi[j]), np.inf))]
                out.append({"feature": f"{key}.{RANGE_FEATURES[key][j]}", "value": float(worst),
                            "range": [float(self.low[key][j]), float(self.high[key][j])]})
        return out

    def to_json(self) -> dict[str, Any]:
        return {"format": RANGES_FORMAT, "source": self.source, **{
            key: {"features": list(names), "min": self.low[key].tolist(),
                  "max": self.high[key].tolist()} for key, names in RANGE_FEATURES.items()}}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the ranges as JSON (what ``ranges=<file>`` reads)."""
        path = Path(path)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> FeatureRanges:
        """Read a file written by :meth:`save`.

        Raises:
            GuardSpecError: the file is missing, of another format or its features differ
                from today's observation features.
        """
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise GuardSpecError(f"cannot read the feature ranges `{path}`: {exc}; write one "
                                 "with policies.guard.record_ranges") from None
        if not isinstance(data, dict) or data.get("format") != RANGES_FORMAT:
            raise GuardSpecError(f"`{path}` is not a feature-range file of format "
                                 f"{RANGES_FORMAT} (policies.guard.record_ranges writes one)")
        low, high = {}, {}
        for key, names in RANGE_FEATURES.items():
            part = data.get(key, {})
            if part.get("features") != list(names):
                raise GuardSpecError(f"`{path}`: the `{key}` features {part.get('features')} "
                                     f"differ from the observation's {list(names)}; record "
                                     "the ranges again")
            low[key] = np.asarray(part["min"], np.float64)
            high[key] = np.asarray(part["max"], np.float64)
        return cls(low, high, str(data.get("source", "")))


def record_ranges(env: Any, policy: Policy, episodes: int, seed: int,
                  source: str = "") -> FeatureRanges:
    """Feature ranges of ``episodes`` episodes of ``policy`` on ``env`` (reset seeds
    ``seed + i``), e.g. EIGRP on the training scenarios of a learned policy."""
    observations = []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        policy.reset()
        observations.append(obs)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(policy.act(obs))
            observations.append(obs)
            done = terminated or truncated
    return FeatureRanges.from_observations(observations, source or (
        f"{policy.name} on {episodes} episodes from seed {seed}"))


# ------------------------------------------------------------------------------- the guard


def telemetry(obs: Mapping[str, np.ndarray]) -> dict[str, float]:
    """The monitored step telemetry of an observation: drop ratio and average delay."""
    g = np.asarray(obs["global"], np.float64)
    total = g[_DROPPED] + g[_RECEIVED]
    return {"drop_ratio": float(g[_DROPPED] / total) if total > 0 else 0.0,
            "avg_delay_ms": float(g[_DELAY])}


@dataclass
class _Episode:
    """The guard's state within one episode."""

    step: int = 0
    installed: np.ndarray | None = None
    source: str | None = None  # "wrapped" or "fallback": what routed the previous step
    window: deque = field(default_factory=deque)


class Guard(Policy):
    """Routes with ``wrapped`` under checks, bounds and a fallback (see the module docstring).

    Args:
        wrapped: the guarded policy, built for the same environment.
        fallback: the trusted policy (its actions are returned unchanged when it routes).
        config: the options (:class:`GuardConfig`).
        max_nodes, max_edges, action_format: the environment's padding and next-hop format.
        env: the environment (only read for the audit log: its scenario and generation
            settings, so that :func:`policies.audit.replay` can re-simulate an episode).
        seed: the seed the environment is reset with for the next episode (recorded in the
            audit log; ``packerl evaluate`` seeds policies with the episode's reset seed).

    Attributes:
        records: the current episode's audit records, one per step.
        state: ``"active"`` (the wrapped policy routes) or ``"fallback"``.
    """

    name = "guard"
    supported_action_types = ("next_hop",)

    def __init__(self, wrapped: Policy, fallback: Policy, config: GuardConfig, max_nodes: int,
                 max_edges: int, action_format: ActionFormat | None = None, env: Any = None,
                 seed: int | None = None):
        super().__init__(max_nodes, max_edges, "next_hop", action_format)
        if fallback.action_type != "next_hop":
            raise ValueError(f"the fallback `{fallback.name}` must produce next-hop actions")
        self.wrapped, self.fallback, self.config = wrapped, fallback, config
        self.name = f"guard:{wrapped.name}"
        self.env = env.unwrapped if env is not None else None
        self.seed = seed
        self.ranges = FeatureRanges.load(config.ranges) if config.ranges else None
        self._calibration: list[dict[str, np.ndarray]] = []
        self.state = "active"
        self.breaker: str | None = None
        self._healthy = 0
        self._degraded = 0
        self._pending_events: list[dict[str, Any]] = []
        self._warned_budget = False
        self._episode = _Episode()
        self._episodes = 0
        self.records: list[dict[str, Any]] = []
        self.audit: AuditLog | None = None

    @classmethod
    def from_env(cls, env: Any, wrapped: Policy | None = None, fallback: Policy | None = None,
                 config: GuardConfig | None = None, seed: int | None = None,
                 **options: Any) -> Guard:
        """A guard for ``env``: ``config`` or keyword ``options`` (the fields of
        :class:`GuardConfig`); the fallback defaults to EIGRP."""
        if wrapped is None:
            raise ValueError("a guard needs the policy it wraps (`wrapped`)")
        if fallback is None:
            from policies.baselines import EIGRP

            fallback = EIGRP.from_env(env)
        if config is None:
            config = GuardConfig(inner=wrapped.name, **options)
        base = env.unwrapped
        return cls(wrapped, fallback, config, base.max_nodes, base.max_edges,
                   ActionFormat.of_env(base), env=env, seed=seed)

    # ----------------------------------------------------------------- operator API

    def trip(self, reason: str = "manual") -> None:
        """Open the circuit breaker: the fallback routes until :meth:`release`."""
        self.breaker = str(reason)
        self._pending_events.append({"event": "breaker_tripped", "reason": self.breaker})

    def release(self) -> None:
        """Close the circuit breaker; the wrapped policy routes again after
        ``recovery_steps`` healthy steps."""
        if self.breaker is not None:
            self._pending_events.append({"event": "breaker_released", "reason": self.breaker})
        self.breaker = None

    # ------------------------------------------------------------------ Policy API

    def reset(self, seed: int | None = None) -> None:
        """Start an episode: clear the per-episode state (the breaker stays as it is) and,
        with ``audit``, open the episode's log. ``seed``: the environment's reset seed, if
        it is not the one the guard was built with."""
        if seed is not None:
            self.seed = seed
        self.wrapped.reset()
        self.fallback.reset()
        self._episode = _Episode()
        self.state = "active"
        self._healthy = self._degraded = 0
        self.records = []
        if self.audit is not None:
            self.audit.close()
            self.audit = None
        if self.config.audit is not None:
            self.audit = AuditLog.for_episode(self.config.audit, self._header(), self.env,
                                              self.seed)
        self._episodes += 1

    def act(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        ep = self._episode
        n, _, _ = graph_of(observation)
        adj = np.asarray(observation["adjacency"])[:n, :n].astype(bool)
        events, self._pending_events = self._pending_events, []

        fb_action = self.fallback.act(observation)
        fb_table = self._decode(fb_action, observation, n)
        checks, proposal, inference_ms = self._propose(observation, n, adj)
        candidate = self._select(proposal, fb_table) if proposal is not None else None
        if candidate is not None:
            checks["reachability"] = check_reachability(candidate, adj)
        else:
            checks["reachability"] = {"ok": False, "skipped": "no table"}
        checks["inputs"] = self._check_inputs(observation)
        failed = [c for c in CHECKS if not checks[c]["ok"]]

        tele = telemetry(observation)
        degraded = self._degraded_now(tele)
        if ep.source == "wrapped":
            self._degraded = self._degraded + 1 if degraded else 0
        fallback_reason = None
        if self.config.mode == "shadow":
            source = "fallback"
        elif self.breaker is not None:
            source = "fallback"
            if self.state == "active":
                fallback_reason = f"circuit breaker: {self.breaker}"
            self.state, self._healthy = "fallback", 0
        elif self.state == "active":
            if failed:
                fallback_reason = "check failed: " + ", ".join(
                    f"{c} ({self._why(c, checks[c])})" for c in failed)
            elif self._degraded >= self.config.degraded_steps:
                fallback_reason = (f"degraded for {self._degraded} steps: "
                                   + ", ".join(degraded))
            if fallback_reason is not None:
                self.state, self._healthy, self._degraded = "fallback", 0, 0
            source = "fallback" if fallback_reason else "wrapped"
        else:
            healthy = not failed and not degraded
            self._healthy = self._healthy + 1 if healthy else 0
            if self._healthy >= self.config.recovery_steps:
                events.append({"event": "recovered", "healthy_steps": self._healthy})
                self.state, self._healthy, self._degraded = "active", 0, 0
                source = "wrapped"
            else:
                source = "fallback"
        if fallback_reason is not None:
            events.append({"event": "fallback", "reason": fallback_reason})

        prev = ep.installed if ep.installed is not None and ep.installed.shape[0] == n \
            else fb_table
        bound: dict[str, Any] | None = None
        action = fb_action
        if source == "wrapped":
            table, bound = self._bounded(candidate, prev, adj, n)
            try:
                action = self.next_hop_action(table, observation)
            except ValueError as exc:  # e.g. a neighbour rank beyond max_degree
                events.append({"event": "fallback", "reason": f"check failed: encoding ({exc})"})
                self.state, source, bound = "fallback", "fallback", None
        installed = self._decode(action, observation, n)

        off = ~np.eye(n, dtype=bool)
        would = candidate if (candidate is not None and not failed) else fb_table
        record: dict[str, Any] = {
            "type": "step", "step": ep.step,
            "mode": self.config.mode if self.config.mode == "shadow" else self.state,
            "installed": source, "breaker": self.breaker,
            "checks": checks, "inference_ms": inference_ms, "telemetry": tele,
            "degraded": degraded,
            "agreement": (float((proposal == fb_table)[off].mean()) if proposal is not None
                          and n > 1 else None),
            "would_change": float((would != installed)[off].mean()) if n > 1 else 0.0,
            "changed": int((installed != prev)[off].sum()) if ep.installed is not None else 0,
            "bound": bound, "events": events,
            "fallback": fallback_reason,
            "sha256": table_digest(installed),
            "obs_sha256": observation_digest(observation),
        }
        if ep.installed is None or ep.installed.shape != installed.shape:
            record["table"] = installed.tolist()
        else:
            diff = np.argwhere(installed != ep.installed)
            record["diff"] = [[int(u), int(z), int(installed[u, z])] for u, z in diff]
        self.records.append(record)
        if self.audit is not None:
            self.audit.write(record)
        ep.window.append(bound["voluntary"] if bound is not None else 0)
        while len(ep.window) > self.config.window - 1:  # the steps before the next one
            ep.window.popleft()
        ep.installed, ep.source = installed, source
        ep.step += 1
        return action

    def close(self) -> None:
        """Close the audit log file (also done by the next :meth:`reset`)."""
        if self.audit is not None:
            self.audit.close()
            self.audit = None

    # ----------------------------------------------------------------------- helpers

    def _header(self) -> dict[str, Any]:
        return {"wrapped": self.config.inner, "wrapped_name": self.wrapped.name,
                "fallback": self.config.fallback, "options": self.config.options(),
                "episode_index": self._episodes}

    def _decode(self, action: np.ndarray, obs: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """The table the environment installs for one of its next-hop actions."""
        return self.action_format.to_next_hops(action, obs["adjacency"], n)

    def _propose(self, obs: dict[str, np.ndarray], n: int, adj: np.ndarray
                 ) -> tuple[dict[str, dict[str, Any]], np.ndarray | None, float | None]:
        """Run the wrapped policy: its table and the exception/links/inference checks."""
        checks: dict[str, dict[str, Any]] = {}
        wrapped = self.wrapped
        t0 = time.perf_counter()
        try:
            action = wrapped.act(obs)
            elapsed = (time.perf_counter() - t0) * 1e3
            action = check_action(action, wrapped.action_format.space(
                self.max_nodes, self.max_edges), f"`{wrapped.name}`'s")
        except Exception as exc:  # any failure of the wrapped policy is a failed check
            elapsed = (time.perf_counter() - t0) * 1e3
            checks["exception"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            checks["links"] = {"ok": False, "skipped": "no table"}
            checks["inference"] = self._check_time(elapsed)
            return checks, None, elapsed
        checks["exception"] = {"ok": True}
        checks["inference"] = self._check_time(elapsed)
        fmt = wrapped.action_format
        if wrapped.action_type == "link_weights":
            _, slots, edge_index = graph_of(obs)
            table = next_hops_from_weights(n, edge_index, fmt.to_weights(action)[slots],
                                           ACTION_RELATIVE_TIE)
            checks["links"] = {"ok": True}
            return checks, table, elapsed
        p = self.max_nodes
        values = np.asarray(action, np.int64).reshape(p, p)[:n, :n]
        off = ~np.eye(n, dtype=bool)
        if fmt.next_hop_encoding == "node":
            ok = (values < n) & adj[np.arange(n)[:, None], np.clip(values, 0, n - 1)]
        else:
            _, degree = neighbor_lists(adj)
            ok = values < degree[:, None]
        bad = off & ~ok & self._selected_mask(n)
        checks["links"] = {"ok": not bool(bad.any()), "bad_entries": int(bad.sum())}
        if bad.any():
            u, z = (int(x) for x in np.argwhere(bad)[0])
            checks["links"]["first"] = [u, z, int(values[u, z])]
        table = fmt.to_next_hops(action, obs["adjacency"], n)
        return checks, table, elapsed

    def _check_time(self, elapsed_ms: float) -> dict[str, Any]:
        budget = self.config.budget_ms
        if budget is None:
            return {"ok": True}
        return {"ok": bool(elapsed_ms <= budget), "ms": elapsed_ms, "budget_ms": budget}

    def _check_inputs(self, obs: dict[str, np.ndarray]) -> dict[str, Any]:
        if self.ranges is None and self.config.calibrate:
            self._calibration.append({k: np.array(v) for k, v in obs.items()})
            if len(self._calibration) < self.config.calibrate:
                return {"ok": True, "calibrating": len(self._calibration)}
            self.ranges = FeatureRanges.from_observations(
                self._calibration, f"the first {self.config.calibrate} observations")
            self._calibration = []
            return {"ok": True, "calibrating": self.config.calibrate}
        if self.ranges is None:
            return {"ok": True}
        bad = self.ranges.violations(obs, self.config.range_margin)
        out: dict[str, Any] = {"ok": not bad}
        if bad:
            out["outside"] = bad[:5]
            out["count"] = len(bad)
        return out

    def _degraded_now(self, tele: dict[str, float]) -> list[str]:
        out = []
        c = self.config
        if c.max_drop_ratio is not None and tele["drop_ratio"] > c.max_drop_ratio:
            out.append(f"drop ratio {tele['drop_ratio']:.3g} > {c.max_drop_ratio:g}")
        if c.max_delay_ms is not None and tele["avg_delay_ms"] > c.max_delay_ms:
            out.append(f"delay {tele['avg_delay_ms']:.3g} ms > {c.max_delay_ms:g} ms")
        return out

    @staticmethod
    def _why(name: str, check: dict[str, Any]) -> str:
        if name == "exception":
            return check.get("error", "")
        if name == "reachability":
            return (check.get("skipped") or f"{check['loops']} looped, {check['blackholes']} "
                    f"blackholed pairs, first {check.get('first')}")
        if name == "links":
            return check.get("skipped") or (f"{check['bad_entries']} entries on links that are "
                                            f"not working, first {check.get('first')}")
        if name == "inference":
            return f"{check['ms']:.3g} ms > {check['budget_ms']:g} ms"
        if name == "inputs":
            first = check["outside"][0]
            return (f"{check['count']} features outside their range, first "
                    f"{first['feature']} = {first['value']:.4g} not in {first['range']}")
        return ""

    def _selected_mask(self, n: int) -> np.ndarray:
        """(N, N) booleans: the entries the wrapped policy sets."""
        c = self.config
        rows = np.ones(n, bool) if c.nodes is None else np.isin(np.arange(n), c.nodes)
        cols = np.ones(n, bool) if c.destinations is None else np.isin(np.arange(n),
                                                                       c.destinations)
        return rows[:, None] & cols[None, :]

    def _select(self, proposal: np.ndarray, fb_table: np.ndarray) -> np.ndarray:
        n = proposal.shape[0]
        return np.where(self._selected_mask(n), proposal, fb_table).astype(np.int32)

    def _bounded(self, candidate: np.ndarray, prev: np.ndarray, adj: np.ndarray,
                 n: int) -> tuple[np.ndarray, dict[str, Any]]:
        """``candidate`` applied to ``prev`` within the decision bounds, by whole
        destination columns (see the module docstring)."""
        c = self.config
        entries = n * (n - 1)
        off = ~np.eye(n, dtype=bool)
        per_col = ((candidate != prev) & off).sum(axis=0)
        forced = ~valid_columns(prev, adj) & (per_col > 0)
        budget = math.floor(c.max_change * entries + 1e-9)
        if budget == 0 and c.max_change > 0 and not self._warned_budget:
            self._warned_budget = True
            warnings.warn(f"guard: max_change={c.max_change:g} allows 0 of the {entries} "
                          f"next-hop entries of this {n}-node topology per step; the wrapped "
                          "policy changes only destinations the previous table does not "
                          f"deliver (use max_change >= {1 / entries:.3g} to let it change "
                          "one entry)", stacklevel=3)
        if c.max_window_change is not None:
            window_left = math.floor(c.max_window_change * entries + 1e-9) - sum(
                self._episode.window)
            budget = max(0, min(budget, window_left))
        voluntary = np.flatnonzero((per_col > 0) & ~forced)
        take = np.zeros(n, bool)
        take[forced] = True
        used = 0
        deferred = []
        for z in sorted(voluntary, key=lambda z: (per_col[z], z)):
            if used + per_col[z] <= budget:
                take[z] = True
                used += int(per_col[z])
            else:
                deferred.append(int(z))
        table = np.where(take[None, :], candidate, prev).astype(np.int32)
        partial = 0
        if deferred and used < budget:  # spend the rest entry by entry, columns kept valid
            need = connected(adj, n)
            attempts = 4 * (budget - used) + n
            for z in deferred:
                for u in np.flatnonzero((candidate[:, z] != prev[:, z]) & off[:, z]):
                    if used >= budget or attempts <= 0:
                        break
                    attempts -= 1
                    col = table[:, z].copy()
                    col[u] = candidate[u, z]
                    if _column_delivers(col, z, adj, need[:, z]):
                        table[:, z] = col
                        used += 1
                        partial += 1
        return table, {"proposed": int(per_col[~forced].sum()), "voluntary": used,
                       "forced": int(per_col[forced].sum()), "budget": int(budget),
                       "deferred": deferred, "partial_entries": partial}


def _column_delivers(col: np.ndarray, z: int, adj: np.ndarray, need: np.ndarray) -> bool:
    """Whether next hops ``col`` toward ``z`` deliver from every node in ``need``."""
    n = len(col)
    ok = (col >= 0) & adj[np.arange(n), np.clip(col, 0, n - 1)]
    nxt = np.where(ok, col, -1)
    pos = np.arange(n)
    for _ in range(n):
        moving = (pos >= 0) & (pos != z)
        if not moving.any():
            break
        pos = np.where(moving, nxt[np.clip(pos, 0, n - 1)], pos)
    return bool(((pos == z) | ~need).all())


__all__ = [
    "CHECKS",
    "GUARD_MODES",
    "GUARD_PREFIX",
    "FeatureRanges",
    "Guard",
    "GuardConfig",
    "GuardSpecError",
    "check_reachability",
    "delivery",
    "guard_label",
    "guard_slug",
    "is_guard_spec",
    "parse_guard_spec",
    "record_ranges",
    "telemetry",
    "valid_columns",
]
