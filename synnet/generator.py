# SPDX-License-Identifier: GPL-2.0-only
"""The :func:`generate` entry point: presets + overrides -> :class:`Scenario`.

Randomness: ``np.random.SeedSequence(seed)`` is spawned into three independent children,
one each for the topology (preset draws, graph sampling, attribute perturbations), the
traffic (``flex`` draws and demands) and the link failures. Hence the same seed always
gives an identical scenario, and e.g. changing only the traffic preset leaves the
topology unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import topology as topo_mod
from .failures import FAILURE_DEFAULTS, generate_failures
from .presets import (
    LINK_FAILURE_PRESETS,
    TOPOLOGY_PRESETS,
    TRAFFIC_PRESETS,
    check_steps,
    node_range,
    unknown_name_error,
    validate_overrides,
)
from .scenario import FAILURE_DTYPE, Scenario, Topology
from .traffic import TRAFFIC_DEFAULTS, generate_traffic, graph_factor


def build_topology(
    preset: str | Topology, overrides: dict[str, Any], rng: np.random.Generator
) -> tuple[Topology, str, dict[str, Any]]:
    """Build the topology of one scenario.

    Args:
        preset: A name from :data:`TOPOLOGY_PRESETS` or a ready :class:`Topology`.
        overrides: Validated topology overrides.
        rng: Topology random generator.

    Returns:
        ``(topology, graph_class, resolved params)``; graph_class is ``ba``/``er``/``ws``/``fixed``.
    """
    attrs = {k: v for k, v in overrides.items() if k not in ("num_nodes", "model")}
    resolved: dict[str, Any] = {**topo_mod.TOPOLOGY_DEFAULTS, **attrs}
    if isinstance(preset, Topology):
        if overrides:
            raise ValueError(
                f"topology overrides {sorted(overrides)} cannot be applied to a ready-made Topology; "
                "they only apply to presets"
            )
        return preset, "fixed", {"topology_preset": None, "topology_name": preset.name, "num_nodes": preset.num_nodes}
    if not isinstance(preset, str) or preset not in TOPOLOGY_PRESETS:
        raise unknown_name_error("topology preset", preset, TOPOLOGY_PRESETS)
    spec = TOPOLOGY_PRESETS[preset]
    resolved["topology_preset"] = preset
    if "fixed" in spec:
        bad = sorted({"num_nodes", "model", "ba_m", "er_avg_degree", "ws_k", "ws_p"} & set(overrides))
        if bad:
            raise ValueError(f"{bad} cannot be overridden for the fixed topology preset {preset!r}")
        choices = spec["fixed"]
        name = choices[int(rng.integers(len(choices)))] if len(choices) > 1 else choices[0]
        g, caps, source = topo_mod.load_fixed(name)
        topology = topo_mod.assign_attributes(g, name, rng, capacities=caps, **attrs)
        resolved.update(
            topology_name=name, model=None, num_nodes=topology.num_nodes, capacities_known=caps is not None,
            capacity_source=source, er_repair_edges=0,
        )
        return topology, "fixed", resolved
    model = overrides.get("model")
    if "num_nodes" in overrides:
        n = int(overrides["num_nodes"])
        if model == "ba" and n > topo_mod.BA_MAX_NODES:
            raise ValueError(f"model 'ba' is limited to <= {topo_mod.BA_MAX_NODES} nodes, got num_nodes={n}")
    else:
        lo, hi = node_range(preset, model)
        n = int(rng.integers(lo, hi + 1))
    if model is None:
        models = topo_mod.MODELS if n <= topo_mod.BA_MAX_NODES else tuple(m for m in topo_mod.MODELS if m != "ba")
        model = models[int(rng.integers(len(models)))]
    gen_kw = {k: resolved[k] for k in ("ba_m", "er_avg_degree", "ws_k", "ws_p")}
    g, repairs = topo_mod.make_graph(model, n, rng, **gen_kw)
    name = f"{preset}/{model}"
    topology = topo_mod.assign_attributes(g, name, rng, **attrs)
    resolved.update(topology_name=name, model=model, num_nodes=n, er_repair_edges=repairs)
    return topology, model, resolved


def resolve_traffic(preset: str, overrides: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Resolve ``m_traffic``/``p_tcp`` from a traffic preset (drawing them for the ``*flex`` presets) plus overrides."""
    if not isinstance(preset, str) or preset not in TRAFFIC_PRESETS:
        raise unknown_name_error("traffic preset", preset, TRAFFIC_PRESETS)
    out: dict[str, Any] = {"traffic_preset": preset}
    for key in ("p_tcp", "m_traffic"):
        spec = TRAFFIC_PRESETS[preset][key]
        if isinstance(spec, tuple):  # ("uniform", lo, hi): always drawn, so overriding one keeps the other's stream
            drawn = float(rng.uniform(spec[1], spec[2]))
            out[key] = float(overrides.get(key, drawn))
        else:
            out[key] = float(overrides.get(key, spec))
    return out


def generate(
    topology: str | Topology = "nx-S",
    traffic: str = "tcp_high",
    link_failures: str | None = "weibull",
    steps: int = 100,
    step_ms: float = 5.0,
    seed: int | None = 7,
    **overrides: Any,
) -> Scenario:
    """Generate one scenario.

    Args:
        topology: Topology preset name (see :data:`synnet.TOPOLOGY_PRESETS`) or a
            :class:`Topology` (e.g. from :func:`synnet.load_topology`; uses ``g(N) = 10``).
        traffic: Traffic preset name (see :data:`synnet.TRAFFIC_PRESETS`).
        link_failures: ``None``/``"none"`` or ``"weibull"``.
        steps: Number of steps ``H`` (>= 1).
        step_ms: Step length ``tau`` in ms (> 0).
        seed: Non-negative integer seed; ``None`` draws fresh OS entropy (recorded in
            ``params["entropy"]`` so the scenario can be regenerated).
        **overrides: Any parameter of :data:`synnet.presets.OVERRIDE_SPECS`, e.g.
            ``num_nodes=8, model="er", m_traffic=2.0, p_tcp=0.3, failure_scale=0.01``.

    Returns:
        The scenario; ``scenario.params`` lists every resolved parameter.

    Raises:
        ValueError: unknown preset or parameter name, or an out-of-range value.
    """
    steps, step_ms = check_steps(steps, step_ms)
    groups = validate_overrides(overrides)
    failure_key = "none" if link_failures is None else link_failures
    if not isinstance(failure_key, str) or failure_key not in LINK_FAILURE_PRESETS:
        raise unknown_name_error("link-failure preset", link_failures, ["none", *[k for k in LINK_FAILURE_PRESETS if k != "none"]])
    if LINK_FAILURE_PRESETS[failure_key] is None and groups["failures"]:
        raise ValueError(
            f"{sorted(groups['failures'])} given but link_failures is {link_failures!r}; use link_failures='weibull'"
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    seed = None if seed is None else int(seed)
    root = np.random.SeedSequence(seed)
    topo_ss, traffic_ss, fail_ss = root.spawn(3)
    topo_rng, traffic_rng, fail_rng = (np.random.default_rng(s) for s in (topo_ss, traffic_ss, fail_ss))

    topo, graph_class, params = build_topology(topology, groups["topology"], topo_rng)
    traffic_params = resolve_traffic(traffic, groups["traffic"], traffic_rng)
    factor = groups["traffic"].get("traffic_factor", graph_factor(graph_class, topo.num_nodes))
    extra = {k: v for k, v in groups["traffic"].items() if k in TRAFFIC_DEFAULTS}
    demands = generate_traffic(
        topo,
        steps=steps,
        step_ms=step_ms,
        m_traffic=traffic_params["m_traffic"],
        p_tcp=traffic_params["p_tcp"],
        graph_class=graph_class,
        traffic_factor=factor,
        rng=traffic_rng,
        **extra,
    )
    params.update(traffic_params)
    params.update({**TRAFFIC_DEFAULTS, **extra})
    params.update(graph_class=graph_class, traffic_factor=float(factor), m_eff=float(traffic_params["m_traffic"] * factor))

    fail_spec = LINK_FAILURE_PRESETS[failure_key]
    params["link_failures"] = failure_key
    if fail_spec is None:
        failures = np.empty(0, dtype=FAILURE_DTYPE)
    else:
        fparams = {**FAILURE_DEFAULTS, **fail_spec, **groups["failures"]}
        failures = generate_failures(topo, steps=steps, step_ms=step_ms, rng=fail_rng, **fparams)
        params.update(fparams)
    params.update(steps=steps, step_ms=step_ms, seed=seed)
    if seed is None:
        params["entropy"] = int(root.entropy)  # type: ignore[arg-type]
    return Scenario(topology=topo, demands=demands, failures=failures, steps=steps, step_ms=step_ms, seed=seed, params=_jsonable(params))


def _jsonable(obj: Any) -> Any:
    """Convert numpy scalars/tuples to plain JSON types (recursively)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
