# SPDX-License-Identifier: GPL-2.0-only
"""Small hand-built topologies and helpers for the simulator tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from packerl.sim import Simulator
from packerl.sim.launcher import ENV_EXECUTABLE, simulator_executable

#: The variable the fault-injection simulator reads (cpp/sim/main.cc).
FAULT_VARIABLE = "PACKERL_SIM_FAULT"


def fault_executable() -> Path:
    """The test executable with the fault hooks, installed next to ``packerl-sim``."""
    return simulator_executable().with_name("packerl-sim-faults")


@pytest.fixture
def inject_fault(monkeypatch):
    """``inject_fault("exit@1")`` runs the simulators started afterwards with that fault,
    using the fault-injection build; ``inject_fault(None)`` keeps that build, without fault.

    The production ``packerl-sim`` has no fault hooks (and refuses to start with the variable
    set); ``packerl-sim-faults`` is built for development installs (``pip install -e .``, as
    ``make test`` does) and not for wheels.
    """
    exe = fault_executable()
    if not exe.is_file():
        pytest.skip(f"`{exe.name}` is not built (a wheel install); build with "
                    "`pip install -e .` or -Ccmake.define.PACKERL_FAULT_INJECTION=ON")
    monkeypatch.setenv(ENV_EXECUTABLE, str(exe))

    def inject(fault: str | None) -> None:
        if fault is None:
            monkeypatch.delenv(FAULT_VARIABLE, raising=False)
        else:
            monkeypatch.setenv(FAULT_VARIABLE, fault)

    return inject


def topology(num_nodes: int, edges: list[tuple[int, int]], rate: float = 1e7,
             delay_ms: float = 1.0) -> dict:
    """A topology mapping with the same datarate and delay on every link."""
    e = np.array(edges, dtype=np.int64)
    return {
        "num_nodes": num_nodes,
        "edges": e,
        "datarate_bps": np.full(len(edges), rate),
        "delay_ms": np.full(len(edges), delay_ms),
    }


def demands(rows: list[tuple]) -> dict:
    """Demand columns from rows (time_ms, src, dst, bytes, is_tcp, rate_bps)."""
    cols = list(zip(*rows)) if rows else [[]] * 6
    return {
        "time_ms": np.array(cols[0], dtype=np.float64),
        "src": np.array(cols[1], dtype=np.int32),
        "dst": np.array(cols[2], dtype=np.int32),
        "bytes": np.array(cols[3], dtype=np.int64),
        "is_tcp": np.array(cols[4], dtype=bool),
        "rate_bps": np.array(cols[5], dtype=np.float64),
    }


def no_routes(n: int) -> np.ndarray:
    return np.full((n, n), -1, dtype=np.int32)


def line_routes(n: int) -> np.ndarray:
    """Next hops on the line 0 - 1 - ... - n-1."""
    nh = no_routes(n)
    for u in range(n):
        for z in range(n):
            if z > u:
                nh[u, z] = u + 1
            elif z < u:
                nh[u, z] = u - 1
    return nh


def run_until_idle(sim: Simulator, first_state, max_steps: int = 400) -> list:
    """Step (no new inputs) until no demand is active and no packet moved during a step.

    A step with no transmission on any link and nothing sent or received means the network is
    empty, as long as link delays are shorter than a step.
    """
    states = [first_state]
    for _ in range(max_steps):
        s = sim.step()
        states.append(s)
        moved = s.g("sent_packets") + s.g("received_packets") + s.edge("tx_packets").sum()
        if s.g("demands_active") == 0 and moved == 0:
            return states
    raise AssertionError(f"traffic still active after {max_steps} steps")


def total(states, name: str) -> float:
    return float(sum(s.g(name) for s in states))


@pytest.fixture
def sim():
    with Simulator(timeout=60) as s:
        yield s
