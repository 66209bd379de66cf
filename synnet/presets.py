# SPDX-License-Identifier: GPL-2.0-only
"""Named presets and validation of generation parameters.

Topology presets (each reset draws ``N`` uniformly from the range, then a model uniformly
from ``{ba, er, ws}``; ``ba`` only if ``N <= 50``): ``nx-XS`` (6-10 nodes), ``nx-S`` (11-25),
``nx-M`` (26-50), ``nx-L`` (51-100), ``nx-XL`` (101-250), ``nx-XXL`` (251-1000); fixed:
``nsfnet``, ``geant2``, ``nsfnet+geant2`` (one of the two, uniformly).

Traffic presets ``{udp,mixed,tcp}_{low,medium,high,very_high}``: ``p_tcp`` in {0, 0.5, 1},
``m_traffic`` in {0.25, 0.75, 1.5, 3.0}; ``flex`` draws ``p_tcp ~ U[0, 1]`` and
``m_traffic ~ U[0.1, 4.0]`` per scenario.

Link-failure presets: ``None`` / ``"none"`` (no failures) and ``"weibull"``.

All names are case-sensitive. Overrides (keyword arguments of :func:`synnet.generate`)
are checked against :data:`OVERRIDE_SPECS`; unknown names and out-of-range values raise
:class:`ValueError` listing what is accepted.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .failures import FAILURE_DEFAULTS
from .topology import BA_MAX_NODES, MODELS, TOPOLOGY_DEFAULTS
from .traffic import TRAFFIC_DEFAULTS

TOPOLOGY_PRESETS: dict[str, dict[str, Any]] = {
    "nx-XS": {"nodes": (6, 10)},
    "nx-S": {"nodes": (11, 25)},
    "nx-M": {"nodes": (26, 50)},
    "nx-L": {"nodes": (51, 100)},
    "nx-XL": {"nodes": (101, 250)},
    "nx-XXL": {"nodes": (251, 1000)},
    "nsfnet": {"fixed": ("nsfnet",)},
    "geant2": {"fixed": ("geant2",)},
    "nsfnet+geant2": {"fixed": ("nsfnet", "geant2")},
}

_LEVELS = {"low": 0.25, "medium": 0.75, "high": 1.5, "very_high": 3.0}
_PROTOCOLS = {"udp": 0.0, "mixed": 0.5, "tcp": 1.0}
TRAFFIC_PRESETS: dict[str, dict[str, Any]] = {
    f"{proto}_{level}": {"m_traffic": m, "p_tcp": p} for proto, p in _PROTOCOLS.items() for level, m in _LEVELS.items()
}
TRAFFIC_PRESETS["flex"] = {"m_traffic": ("uniform", 0.1, 4.0), "p_tcp": ("uniform", 0.0, 1.0)}

LINK_FAILURE_PRESETS: dict[str, dict[str, float] | None] = {"none": None, "weibull": dict(FAILURE_DEFAULTS)}


# ------------------------------------------------------------------------------------------
# Checked scalar arguments, and the ranges the packet simulator can represent.
#
# synnet is the lowest layer, so the checkers and the limits live here; packerl's environment
# and simulator client (``packerl.sim.validation``) import them from this module.

#: Largest topology, in nodes. The simulator's shared segment holds three N x N arrays (next
#: hops, two traffic matrices: 20 bytes per node pair), 0.5 GB at 5000 nodes; a 40,000-node
#: topology would need 32 GB and fails to map. Also the largest ``num_nodes`` override.
MAX_NODES = 5000
#: Largest topology, in undirected links (the segment holds ~200 bytes per link).
MAX_EDGES = 1_000_000
#: Link datarates (bit/s). ns-3 stores a datarate as an unsigned 64-bit bps count (the
#: simulator casts the double, which is undefined above 2**64 ~ 1.8e19: 3e19 killed it with
#: SIGFPE); 1 Tbps keeps seven orders of magnitude of margin and a 1500-byte packet's
#: transmission time (12 ns) above ns-3's nanosecond resolution.
MIN_DATARATE_BPS = 1.0
MAX_DATARATE_BPS = 1e12
#: Link propagation delays (ms): up to 1000 s, i.e. 1e12 ns, far inside ns-3's int64 clock.
MAX_DELAY_MS = 1e6
#: Step length (ms). At least 1 microsecond (shorter steps simulate next to nothing and let
#: float rounding of the step windows dominate), at most 1000 s.
MIN_STEP_MS = 1e-3
MAX_STEP_MS = 1e6
#: Steps per episode.
MAX_STEPS = 1_000_000
#: Simulated time of an episode (ms): 1e12 ms = 1e18 ns, a ninth of the int64 nanosecond
#: counter of ns-3 (9.2e18 ns, ~292 years), so event times never overflow. ``MAX_STEPS *
#: MAX_STEP_MS`` equals it.
MAX_EPISODE_MS = 1e12
#: UDP sending rates (bit/s). The simulator schedules packets ``payload * 8 / rate`` seconds
#: apart, rounded to an int64 count of ns: at 1e-6 bps that overflows (SIGABRT); at 1 bps a
#: full packet's gap is 1.2e13 ns. At most the largest link datarate.
MIN_UDP_RATE_BPS = 1.0
MAX_UDP_RATE_BPS = MAX_DATARATE_BPS
#: Demand sizes (bytes): the segment field is int64, counters are doubles; 2**53 is exact in
#: both (2**63 wrapped negative and the simulator refused the step).
MAX_DEMAND_BYTES = 2**53
#: Multiplier on the bandwidth-delay-product device buffers.
MIN_QUEUE_SCALE = 1e-3
MAX_QUEUE_SCALE = 1e3
#: Device buffer of one link, in packets (``ceil(datarate * 2 * delay * queue_scale / 12000
#: bits)``); the simulator holds it in a uint32, so at most 2**31 packets.
MAX_QUEUE_PACKETS = 2**31
#: The simulator's seed (ns-3 run number) is an unsigned 64-bit integer.
MAX_SIM_SEED = 2**64 - 1


def _fmt(x: float) -> str:
    """Short, but exact: ``1e+13`` rather than ``10000000000000.0``, all digits if needed."""
    if isinstance(x, int):
        return str(x)
    short = f"{x:g}"
    return short if float(short) == x else repr(x)


def _range_text(lo: float | None, hi: float | None, lo_open: bool = False) -> str:
    left = "(" if lo_open else "["
    return f"{left}{'-inf' if lo is None else _fmt(lo)}, {'inf' if hi is None else _fmt(hi)}]"


def _got(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None,
              why: str = "") -> int:
    """``value`` as an ``int`` if it is an integer in ``[lo, hi]`` (None: unbounded).

    Python and NumPy integers are accepted; ``bool``, floats (even ``2.0``) and strings are
    not: nothing is rounded or parsed. ``why`` is appended to the range error.

    Raises:
        ValueError: naming ``name``, what was given and what is accepted.

    Example:
        >>> check_int("episode_steps", 3, 1, 10)
        3
        >>> check_int("episode_steps", 2.5, 1, 10)
        Traceback (most recent call last):
        ...
        ValueError: episode_steps must be an integer in [1, 10], got 2.5 (float); pass a whole number (an int), not a float, str or bool
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(  # noqa: TRY004 - the project's convention: every bad value is a ValueError
            f"{name} must be an integer in {_range_text(lo, hi)}, got {_got(value)}; "
            "pass a whole number (an int), not a float, str or bool")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{name} must lie in {_range_text(lo, hi)}, got {v}"
                         + (f"; {why}" if why else ""))
    return v


def check_float(name: str, value: Any, lo: float | None = None, hi: float | None = None, *,
                lo_open: bool = False, why: str = "") -> float:
    """``value`` as a ``float`` if it is a finite number in ``[lo, hi]`` (``(lo, hi]`` with
    ``lo_open``; None: unbounded).

    Python and NumPy integers and floats are accepted; ``bool``, strings and NaN/inf are not.

    Raises:
        ValueError: naming ``name``, what was given and what is accepted.

    Example:
        >>> check_float("step_ms", 5, 1e-3, 1e6)
        5.0
        >>> check_float("step_ms", "5", 1e-3, 1e6)
        Traceback (most recent call last):
        ...
        ValueError: step_ms must be a number in [0.001, 1e+06], got '5' (str); pass an int or float, not a str or bool
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                   np.floating)):
        raise ValueError(  # noqa: TRY004 - as check_int
            f"{name} must be a number in {_range_text(lo, hi, lo_open)}, got {_got(value)}; "
            "pass an int or float, not a str or bool")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, in {_range_text(lo, hi, lo_open)}; got {v}")
    if lo is not None and (v <= lo if lo_open else v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{name} must lie in {_range_text(lo, hi, lo_open)}, got {_fmt(v)}"
                         + (f"; {why}" if why else ""))
    return v


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is ``True`` or ``False`` (Python or NumPy); strings and ints are not
    accepted (``bool("no")`` would be True).

    Raises:
        ValueError: naming ``name`` and what was given.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {_got(value)}")  # noqa: TRY004
    return bool(value)


def unknown_name_error(kind: str, name: object, valid: Iterable[str]) -> ValueError:
    """A ValueError for an unknown preset/parameter name with the valid names and a suggestion."""
    valid = list(valid)
    msg = f"unknown {kind} {name!r}; valid: {', '.join(valid)}"
    if isinstance(name, str):
        lower = {v.lower(): v for v in valid}
        close = [lower[name.lower()]] if name.lower() in lower else []
        if not close:
            close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
        if close:
            msg += f". Did you mean {close[0]!r}?"
    return ValueError(msg)


def _num(
    lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, integer: bool = False, why: str = ""
) -> Callable:
    def check(name: str, value: Any) -> float | int:
        if integer:
            return check_int(name, value, lo, hi, why=why)  # type: ignore[arg-type]
        return check_float(name, value, lo, hi, lo_open=lo_open, why=why)

    return check


def _model(name: str, value: Any) -> str:
    if value not in MODELS:
        raise unknown_name_error("graph model", value, MODELS)
    return value


_RATE_WHY = "the simulator represents link datarates from 1 bps to 1 Tbps (synnet.presets.MAX_DATARATE_BPS)"
_UDP_WHY = "UDP rates must lie between 1 bps and 1 Tbps for the packet gaps to fit the simulator's clock"
_NODES_WHY = "larger topologies do not fit the simulator's shared memory (synnet.presets.MAX_NODES)"

#: Every accepted override, with its validator. Group membership decides which component uses it.
OVERRIDE_SPECS: dict[str, tuple[str, Callable]] = {
    "num_nodes": ("topology", _num(3, MAX_NODES, integer=True, why=_NODES_WHY)),
    "model": ("topology", _model),
    "ba_m": ("topology", _num(1, 100, integer=True)),
    "er_avg_degree": ("topology", _num(0, None, lo_open=True)),
    "ws_k": ("topology", _num(2, 100, integer=True)),
    "ws_p": ("topology", _num(0, 1)),
    "layout_seed": ("topology", _num(0, 2**32 - 1, integer=True)),
    "perturbation": ("topology", _num(0, 0.99)),
    "delay_mean_ms": ("topology", _num(0, MAX_DELAY_MS, lo_open=True)),
    "delay_min_ms": ("topology", _num(0, MAX_DELAY_MS)),
    "datarate_min": ("topology", _num(MIN_DATARATE_BPS, MAX_DATARATE_BPS, why=_RATE_WHY)),
    "datarate_max": ("topology", _num(MIN_DATARATE_BPS, MAX_DATARATE_BPS, why=_RATE_WHY)),
    "m_traffic": ("traffic", _num(0, 1e6, lo_open=True)),
    "p_tcp": ("traffic", _num(0, 1)),
    "traffic_factor": ("traffic", _num(0, 1e9, lo_open=True)),
    "lambda_flow": ("traffic", _num(0, 100)),
    "iat_shape": ("traffic", _num(0, 100, lo_open=True)),
    "iat_cap_ms": ("traffic", _num(0, None, lo_open=True)),
    "size_min_bytes": ("traffic", _num(1, 1e15)),
    "size_cap_bytes": ("traffic", _num(1, 1e15)),
    "udp_small_bytes": ("traffic", _num(0, None)),
    "udp_small_rate_bps": ("traffic", _num(MIN_UDP_RATE_BPS, MAX_UDP_RATE_BPS, why=_UDP_WHY)),
    "udp_rate_min_bps": ("traffic", _num(MIN_UDP_RATE_BPS, MAX_UDP_RATE_BPS, why=_UDP_WHY)),
    "udp_rate_max_bps": ("traffic", _num(MIN_UDP_RATE_BPS, MAX_UDP_RATE_BPS, why=_UDP_WHY)),
    "traffic_perturbation": ("traffic", _num(0, 0.99)),
    "failure_shape": ("failures", _num(0, 100, lo_open=True)),
    "failure_scale": ("failures", _num(0, 1)),
}
assert set(TOPOLOGY_DEFAULTS) | {"num_nodes", "model"} == {k for k, (g, _) in OVERRIDE_SPECS.items() if g == "topology"}
assert set(TRAFFIC_DEFAULTS) | {"m_traffic", "p_tcp", "traffic_factor"} == {
    k for k, (g, _) in OVERRIDE_SPECS.items() if g == "traffic"
}


def validate_overrides(overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Validate override keywords and split them by component.

    Returns:
        ``{"topology": {...}, "traffic": {...}, "failures": {...}}``.

    Raises:
        ValueError: unknown name, wrong type, out of range, or inconsistent pair
            (``datarate_min > datarate_max``, ``delay_min_ms >= delay_mean_ms``, ...).
    """
    groups: dict[str, dict[str, Any]] = {"topology": {}, "traffic": {}, "failures": {}}
    for key, value in overrides.items():
        if key not in OVERRIDE_SPECS:
            raise unknown_name_error("parameter", key, sorted(OVERRIDE_SPECS))
        group, check = OVERRIDE_SPECS[key]
        groups[group][key] = check(key, value)
    topo = {**TOPOLOGY_DEFAULTS, **groups["topology"]}
    if topo["datarate_min"] > topo["datarate_max"]:
        raise ValueError(f"datarate_min ({topo['datarate_min']}) must be <= datarate_max ({topo['datarate_max']})")
    if topo["delay_min_ms"] >= topo["delay_mean_ms"]:
        raise ValueError(f"delay_min_ms ({topo['delay_min_ms']}) must be < delay_mean_ms ({topo['delay_mean_ms']})")
    traf = {**TRAFFIC_DEFAULTS, **groups["traffic"]}
    if traf["udp_rate_min_bps"] > traf["udp_rate_max_bps"]:
        raise ValueError("udp_rate_min_bps must be <= udp_rate_max_bps")
    if traf["size_min_bytes"] > traf["size_cap_bytes"]:
        raise ValueError("size_min_bytes must be <= size_cap_bytes")
    return groups


def check_steps(steps: Any, step_ms: Any) -> tuple[int, float]:
    """Validate episode length parameters (``1 <= steps <= MAX_STEPS``,
    ``MIN_STEP_MS <= step_ms <= MAX_STEP_MS``; their product is at most ``MAX_EPISODE_MS``)."""
    steps = check_int("steps", steps, 1, MAX_STEPS)
    step_ms = check_float("step_ms", step_ms, MIN_STEP_MS, MAX_STEP_MS,
                          why="the simulator needs steps of at least 1 microsecond and at most 1000 s")
    if steps * step_ms > MAX_EPISODE_MS:  # pragma: no cover - MAX_STEPS * MAX_STEP_MS == the cap
        raise ValueError(f"steps * step_ms = {steps * step_ms:g} ms exceeds {MAX_EPISODE_MS:g} ms, the longest "
                         "episode the simulator's nanosecond clock holds; use fewer or shorter steps")
    return steps, step_ms


def node_range(preset: str, model: str | None) -> tuple[int, int]:
    """Node-count range of a random-graph preset, restricted to ``N <= 50`` for ``ba``."""
    lo, hi = TOPOLOGY_PRESETS[preset]["nodes"]
    if model == "ba":
        if lo > BA_MAX_NODES:
            raise ValueError(
                f"model 'ba' is limited to <= {BA_MAX_NODES} nodes but preset {preset!r} has {lo}-{hi} nodes; "
                "use model 'er' or 'ws', or a smaller preset (nx-XS, nx-S, nx-M)"
            )
        hi = min(hi, BA_MAX_NODES)
    return lo, hi
