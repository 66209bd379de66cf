# SPDX-License-Identifier: GPL-2.0-only
"""Nothing bad gets past validation: every input an adversarial run found to crash the
simulator, to be wrapped or coerced silently, or to give an unclear message is refused with
a ValueError that names it and says what is accepted; values at the edges of the accepted
ranges run through a real simulator.

To add a case, append a row to ``CASES``: ``(description, callable(ctx), expected exception
or None for "must be accepted", message fragment)``. ``ctx`` gives ``ctx.sim`` (a running
3-node line episode, one step per case is fine) and ``ctx.tmp_path``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import packerl  # noqa: F401  (registers the environments)
import synnet
from packerl.env import PackeRLEnv
from packerl.sim import SimParams, Simulator
from packerl.sim import validation as lim
from packerl.spaces import encode_next_hops

LINE3 = {"num_nodes": 3, "edges": np.array([[0, 1], [1, 2]]),
         "datarate_bps": np.array([1e7, 1e7]), "delay_ms": np.array([1.0, 1.0])}
ROUTES3 = np.array([[-1, 1, 1], [0, -1, 2], [1, 1, -1]])
SMALL = {"topology": "nx-XS", "traffic": "udp_low", "episode_steps": 2}


@dataclass
class Ctx:
    sim: Simulator
    tmp_path: Path


def topo(**change: Any) -> dict:
    return {**LINE3, **change}


def flow(ctx: Ctx, **change: Any) -> dict:
    """One demand inside the running episode's current step, with ``change`` applied."""
    t0 = ctx.sim.step_index * 5.0
    row = {"time_ms": [t0 + 0.5], "src": [0], "dst": [2], "bytes": [3000], "is_tcp": [False],
           "rate_bps": [1e6]}
    row.update({k: [v] for k, v in change.items()})
    return row


def step_with(ctx: Ctx, **change: Any) -> Any:
    return ctx.sim.step(ROUTES3, flow(ctx, **change))


def make(**kwargs: Any) -> PackeRLEnv:
    return PackeRLEnv(**{**SMALL, **kwargs})


def gym_make(**kwargs: Any) -> gym.Env:
    return gym.make("packerl/PackeRL-v0", **{**SMALL, **kwargs})


def gml_without_datarate(ctx: Ctx) -> str:
    path = ctx.tmp_path / "tri.gml"
    path.write_text('graph [\n node [ id 0 ]\n node [ id 1 ]\n node [ id 2 ]\n'
                    ' edge [ source 0 target 1 ]\n edge [ source 1 target 2 ]\n]\n')
    return str(path)


def adjacency4() -> np.ndarray:
    adj = np.zeros((4, 4), np.int8)
    for u, v in [(0, 1), (1, 2), (2, 3), (0, 3)]:
        adj[u, v] = adj[v, u] = 1
    return adj


def table4(entry: int) -> np.ndarray:
    t = np.array([[-1, 1, 1, 3], [0, -1, 2, 2], [1, 1, -1, 3], [0, 0, 2, -1]], np.int64)
    t[0, 2] = entry
    return t


Case = tuple[str, Callable[[Ctx], Any], "type[BaseException] | None", str]

CASES: list[Case] = [
    # 1. accepted, then crashed the simulator (or lost the episode / simulated nothing)
    ("link datarate 3e19 via gym.make synnet_kwargs",
     lambda c: gym_make(synnet_kwargs={"datarate_min": 3e19, "datarate_max": 3e19}),
     ValueError, "datarate_min must lie in [1, 1e+12], got 3e+19"),
    ("link datarate 3e19 via direct kwargs",
     lambda c: make(synnet_kwargs={"datarate_max": 3e19}),
     ValueError, "datarate_max must lie in [1, 1e+12]"),
    ("link datarate 3e19 given to the simulator",
     lambda c: Simulator().reset(topo(datarate_bps=np.array([3e19, 1e7]))),
     ValueError, "`datarate_bps`[0] is 3e+19; datarates must lie in [1, 1e+12] bps"),
    ("UDP rate 1e-6 bps via synnet_kwargs",
     lambda c: gym_make(synnet_kwargs={"udp_rate_min_bps": 1e-6, "udp_rate_max_bps": 1e-6}),
     ValueError, "udp_rate_min_bps must lie in [1, 1e+12], got 1e-06"),
    ("UDP rate 1e-6 bps given to the simulator",
     lambda c: step_with(c, rate_bps=1e-6),
     ValueError, "demands.rate_bps[0] = 1e-06; UDP demands need a positive rate in [1, 1e+12]"),
    ("step_ms 1e13 via the env", lambda c: make(step_ms=1e13),
     ValueError, "step_ms must lie in [0.001, 1e+06], got 1e+13"),
    ("step_ms 1e13 via gym.make", lambda c: gym_make(step_ms=1e13),
     ValueError, "step_ms must lie in [0.001, 1e+06]"),
    ("step_ms 1e13 given to the simulator", lambda c: SimParams(step_ms=1e13),
     ValueError, "`step_ms` must lie in [0.001, 1e+06]"),
    ("demand of 2**63 bytes", lambda c: step_with(c, bytes=2**63),
     ValueError, "demands.bytes[0] = 9223372036854775808; sizes must be at most 2**53"),
    ("step_ms 1e-9 via the env", lambda c: make(step_ms=1e-9),
     ValueError, "step_ms must lie in [0.001, 1e+06], got 1e-09"),
    ("step_ms 1e-9 in synnet.generate",
     lambda c: synnet.generate(topology="nx-XS", steps=1, step_ms=1e-9),
     ValueError, "step_ms must lie in [0.001, 1e+06]"),
    ("step_ms 1e-9 given to the simulator", lambda c: SimParams(step_ms=1e-9),
     ValueError, "`step_ms` must lie in [0.001, 1e+06]"),
    # 2. silently wrapped or coerced
    ("next hop 4294967299 (wraps to 3 in int32)",
     lambda c: encode_next_hops(table4(4294967299), adjacency4()),
     ValueError, "next_hops[0, 2] = 4294967299 is not a node id; use 0..3 or -1"),
    ("episode_steps 2.5", lambda c: make(episode_steps=2.5),
     ValueError, "episode_steps must be an integer in [1, 1000000], got 2.5 (float)"),
    ("episode_steps '100'", lambda c: make(episode_steps="100"),
     ValueError, "episode_steps must be an integer in [1, 1000000], got '100' (str)"),
    ("episode_steps True", lambda c: make(episode_steps=True),
     ValueError, "episode_steps must be an integer in [1, 1000000], got True (bool)"),
    ("step_ms '5' via the env", lambda c: make(step_ms="5"),
     ValueError, "step_ms must be a number in [0.001, 1e+06], got '5' (str)"),
    ("step_ms '5' given to the simulator", lambda c: SimParams(step_ms="5"),
     ValueError, "`step_ms` must be a number in [0.001, 1e+06], got '5' (str)"),
    ("node_features 'no'", lambda c: make(node_features="no"),
     ValueError, "node_features must be True or False, got 'no' (str)"),
    ("num_nodes 3.7", lambda c: Simulator().reset(topo(num_nodes=3.7)),
     ValueError, "`num_nodes` must be an integer in [2, 5000], got 3.7 (float)"),
    ("simulator seed 1.5", lambda c: Simulator().reset(LINE3, seed=1.5),
     ValueError, "`seed` must be an integer in [0, 18446744073709551615], got 1.5 (float)"),
    ("is_tcp 2", lambda c: step_with(c, is_tcp=2),
     ValueError, "demands.is_tcp[0] = 2; use True/1 (TCP) or False/0 (UDP)"),
    ("queue_scale 1e-12", lambda c: SimParams(queue_scale=1e-12),
     ValueError, "`queue_scale` must lie in [0.001, 1000], got 1e-12"),
    ("queue_scale 1e12", lambda c: SimParams(queue_scale=1e12),
     ValueError, "`queue_scale` must lie in [0.001, 1000], got 1e+12"),
    # 3. refused, but with an unclear message (or refused although valid)
    ("episode_steps NaN", lambda c: make(episode_steps=math.nan),
     ValueError, "episode_steps must be an integer in [1, 1000000], got nan (float)"),
    ("episode_steps inf", lambda c: make(episode_steps=math.inf),
     ValueError, "episode_steps must be an integer in [1, 1000000], got inf (float)"),
    ("max_nodes 0", lambda c: make(max_nodes=0),
     ValueError, "max_nodes must lie in [2, 5000], got 0"),
    ("max_nodes -1", lambda c: make(max_nodes=-1),
     ValueError, "max_nodes must lie in [2, 5000], got -1"),
    ("scenario 42", lambda c: make(scenario=42),
     ValueError, ("scenario must be a synnet.Scenario, the path of a scenario file or None, "
                  "got 42 (int)")),
    ("sim_timeout 'x'", lambda c: make(sim_timeout="x"),
     ValueError, "sim_timeout must be a number in (0, 1e+07], got 'x' (str)"),
    ("simulator seed 2**64", lambda c: Simulator().reset(LINE3, seed=2**64),
     ValueError, "`seed` must lie in [0, 18446744073709551615], got 18446744073709551616"),
    ("40,000-node topology",
     lambda c: Simulator().reset(topo(num_nodes=40_000,
                                      edges=np.stack([np.arange(39_999), np.arange(1, 40_000)], 1),
                                      datarate_bps=np.full(39_999, 1e7),
                                      delay_ms=np.ones(39_999))),
     ValueError, "`num_nodes` must lie in [2, 5000], got 40000; the simulator's shared memory"),
    ("load_topology(default_datarate_bps=-1)",
     lambda c: synnet.load_topology(gml_without_datarate(c), default_datarate_bps=-1),
     ValueError, "default_datarate_bps must lie in [1, 1e+12], got -1"),
    ("synnet.Topology(num_nodes=3.7)",
     lambda c: synnet.Topology("t", 3.7, np.array([[0, 1]]), np.ones(1) * 1e7, np.ones(1),
                               np.zeros((3, 2)), np.ones(3)),
     ValueError, "num_nodes must be an integer in [1, 5000], got 3.7 (float)"),
    ("generate_traffic(steps=2.5) called directly",
     lambda c: synnet.generate_traffic(synnet.generate("nx-XS", "udp_low", seed=1).topology,
                                       steps=2.5, step_ms=5.0,
                                       rng=np.random.default_rng(0)),
     ValueError, "steps must be an integer in [1, 1000000], got 2.5 (float)"),
    ("an empty demand list is accepted", lambda c: c.sim.step(ROUTES3, []), None, ""),
    ("empty demand columns are accepted",
     lambda c: c.sim.step(ROUTES3, {k: [] for k in lim.DEMAND_FIELDS}), None, ""),
]


@pytest.fixture(scope="module")
def running_sim():
    with Simulator(timeout=60) as sim:
        sim.reset(LINE3, seed=1)
        yield sim


@pytest.mark.parametrize(("description", "call", "error", "fragment"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly(running_sim, tmp_path, description, call, error,
                                      fragment):
    ctx = Ctx(running_sim, tmp_path)
    start = running_sim.step_index
    if error is None:
        call(ctx)
        assert running_sim.step_index == start + 1
        return
    with pytest.raises(error, match=re.escape(fragment)):
        result = call(ctx)
        if hasattr(result, "close"):
            result.close()
    assert running_sim.running and running_sim.step_index == start  # nothing was sent


# ------------------------------------------------------------------------------ the edges

#: (inside, outside) values at each end of the accepted ranges
DATARATES = ([lim.MIN_DATARATE_BPS, lim.MAX_DATARATE_BPS],
             [np.nextafter(lim.MIN_DATARATE_BPS, 0), np.nextafter(lim.MAX_DATARATE_BPS, np.inf)])
UDP_RATES = ([lim.MIN_UDP_RATE_BPS, lim.MAX_UDP_RATE_BPS],
             [np.nextafter(lim.MIN_UDP_RATE_BPS, 0), np.nextafter(lim.MAX_UDP_RATE_BPS, np.inf)])
STEP_MS = ([lim.MIN_STEP_MS, lim.MAX_STEP_MS],
           [np.nextafter(lim.MIN_STEP_MS, 0), np.nextafter(lim.MAX_STEP_MS, np.inf)])
BYTES = ([1, lim.MAX_DEMAND_BYTES], [lim.MAX_DEMAND_BYTES + 1])


def _packets(rate: float, udp: float, step_ms: float, size: int, tcp: bool) -> float:
    """Rough packets one step simulates (TCP is bounded by the link, UDP by its own rate)."""
    sending = rate if tcp else udp
    return min(size, sending * step_ms / 1e3 / 8) / 1000


def _run(rate: float, udp: float, step_ms: float, size: int, tcp: bool) -> tuple:
    """Reset a 3-node line at ``rate`` and ``step_ms``, send one demand, simulate two steps."""
    demand = {"time_ms": [0.0], "src": [0], "dst": [2], "bytes": [size], "is_tcp": [tcp],
              "rate_bps": [0.0 if tcp else udp]}
    with Simulator(timeout=120) as sim:
        sim.reset(topo(datarate_bps=np.array([rate, rate])), {"step_ms": step_ms}, seed=1)
        return sim.step(ROUTES3, demand), sim.step()


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(rate=st.sampled_from(DATARATES[0]), udp=st.sampled_from(UDP_RATES[0]),
       step_ms=st.sampled_from(STEP_MS[0]), size=st.sampled_from(BYTES[0]), tcp=st.booleans())
def test_the_edges_of_the_accepted_ranges_run_in_the_simulator(rate, udp, step_ms, size, tcp):
    assume(_packets(rate, udp, step_ms, size, tcp) <= 3000)  # keep each example short
    first, second = _run(rate, udp, step_ms, size, tcp)
    assert first.g("demands_started") == 1
    assert second.step == 2 and math.isclose(second.time_ms, 2 * step_ms)


_INSIDE = {"rate": 1e7, "udp": 1e6, "step_ms": 5.0, "size": 3000, "tcp": False}


@pytest.mark.parametrize(
    ("name", "value"),
    [("rate", v) for v in DATARATES[1]] + [("udp", v) for v in UDP_RATES[1]]
    + [("step_ms", v) for v in STEP_MS[1]] + [("size", v) for v in BYTES[1]])
def test_just_beyond_the_edges_is_refused_before_the_simulator_sees_it(name, value):
    with pytest.raises(ValueError, match="must lie in|need a positive rate in|at most 2\\*\\*53"):
        _run(**{**_INSIDE, name: value})
