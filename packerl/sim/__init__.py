# SPDX-License-Identifier: GPL-2.0-only
"""The simulation core's Python client: start ns-3, install routing, feed traffic, read state."""

from packerl.error import (
    SimulatorCommandError,
    SimulatorCrashed,
    SimulatorError,
    SimulatorNotFound,
    SimulatorProtocolError,
    SimulatorTimeout,
)
from packerl.sim.raw import run_raw_episode, write_raw_episode
from packerl.sim.simulator import (
    EDGE_FEATURES,
    GLOBAL_FEATURES,
    NODE_FEATURES,
    SimParams,
    SimState,
    Simulator,
)
from packerl.sim.validation import TopologyArrays, validate_topology

__all__ = [
    "EDGE_FEATURES",
    "GLOBAL_FEATURES",
    "NODE_FEATURES",
    "SimParams",
    "SimState",
    "Simulator",
    "SimulatorCommandError",
    "SimulatorCrashed",
    "SimulatorError",
    "SimulatorNotFound",
    "SimulatorProtocolError",
    "SimulatorTimeout",
    "TopologyArrays",
    "run_raw_episode",
    "validate_topology",
    "write_raw_episode",
]
