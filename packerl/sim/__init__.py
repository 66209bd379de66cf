# SPDX-License-Identifier: GPL-2.0-only
"""The simulation core's Python client: start ns-3, install routing, feed traffic, read state."""

from packerl.error import (
    NoStepPending,
    SimulatorCommandError,
    SimulatorCrashed,
    SimulatorError,
    SimulatorNotFound,
    SimulatorProtocolError,
    SimulatorTimeout,
    StepAlreadyPending,
)
from packerl.sim.raw import run_raw_episode, write_raw_episode
from packerl.sim.simulator import (
    BRIDGE_SPEC,
    EDGE_FEATURES,
    GLOBAL_FEATURES,
    NODE_FEATURES,
    SimParams,
    SimState,
    Simulator,
)
from packerl.sim.validation import TopologyArrays, validate_topology

__all__ = [
    "BRIDGE_SPEC",
    "EDGE_FEATURES",
    "GLOBAL_FEATURES",
    "NODE_FEATURES",
    "NoStepPending",
    "SimParams",
    "SimState",
    "Simulator",
    "SimulatorCommandError",
    "SimulatorCrashed",
    "SimulatorError",
    "SimulatorNotFound",
    "SimulatorProtocolError",
    "SimulatorTimeout",
    "StepAlreadyPending",
    "TopologyArrays",
    "run_raw_episode",
    "validate_topology",
    "write_raw_episode",
]
