# SPDX-License-Identifier: GPL-2.0-only
"""Named presets and validation of generation parameters.

Topology presets (each reset draws ``N`` uniformly from the range, then a model uniformly
from ``{ba, er, ws}``; ``ba`` only if ``N <= 50``): ``nx-XS`` (6-10 nodes), ``nx-S`` (11-25),
``nx-M`` (26-50), ``nx-L`` (51-100), ``nx-XL`` (101-250), ``nx-XXL`` (251-1000); fixed:
``nsfnet``, ``geant2``, ``nsfnet+geant2`` (one of the two, uniformly).

Traffic presets ``{udp,mixed,tcp}_{low,medium,high,very_high}``: ``p_tcp`` in {0, 0.5, 1},
``m_traffic`` in {0.25, 0.75, 1.5, 3.0}; ``flex`` draws ``p_tcp ~ U[0, 1]`` and
``m_traffic ~ U[0.1, 4.0]`` per scenario; ``{udp,mixed,tcp}_flex`` draw ``m_traffic`` as
``flex`` does and keep the protocol mix fixed (for ablations of flex training: the same seed
gives the same intensity as under ``flex``). :data:`DRAWN_TRAFFIC` names the drawn presets.

Link-failure presets: ``None`` / ``"none"`` (no failures) and ``"weibull"``.

All names are case-sensitive. Overrides (keyword arguments of :func:`synnet.generate`)
are checked against :data:`OVERRIDE_SPECS`; unknown names and out-of-range values raise
:class:`ValueError` listing what is accepted.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

from .checks import (  # noqa: F401 - re-exported: the limits are also read from here
    MAX_DATARATE_BPS,
    MAX_DELAY_MS,
    MAX_DEMAND_BYTES,
    MAX_EDGES,
    MAX_EPISODE_MS,
    MAX_NODES,
    MAX_QUEUE_PACKETS,
    MAX_QUEUE_SCALE,
    MAX_SIM_SEED,
    MAX_STEP_MS,
    MAX_STEPS,
    MAX_UDP_RATE_BPS,
    MIN_DATARATE_BPS,
    MIN_QUEUE_SCALE,
    MIN_STEP_MS,
    MIN_UDP_RATE_BPS,
    check_bool,
    check_float,
    check_int,
)
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
#: the grid presets' protocol mixes and intensities, in increasing TCP share and intensity
TRAFFIC_PROTOCOLS: tuple[str, ...] = tuple(_PROTOCOLS)
TRAFFIC_LEVELS: tuple[str, ...] = tuple(_LEVELS)
_FLEX_LEVEL = ("uniform", 0.1, 4.0)
TRAFFIC_PRESETS["flex"] = {"m_traffic": _FLEX_LEVEL, "p_tcp": ("uniform", 0.0, 1.0)}
# a point "draw" of p_tcp keeps the random stream of flex, so m_traffic is flex's for each seed
TRAFFIC_PRESETS.update({f"{proto}_flex": {"m_traffic": _FLEX_LEVEL, "p_tcp": ("uniform", p, p)}
                        for proto, p in _PROTOCOLS.items()})
#: the traffic presets that draw their parameters per scenario
DRAWN_TRAFFIC: frozenset[str] = frozenset(
    name for name, spec in TRAFFIC_PRESETS.items() if any(isinstance(v, tuple) for v in spec.values()))

LINK_FAILURE_PRESETS: dict[str, dict[str, float] | None] = {"none": None, "weibull": dict(FAILURE_DEFAULTS)}


# ------------------------------------------------------------------------------------------
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
