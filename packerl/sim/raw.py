# SPDX-License-Identifier: GPL-2.0-only
"""Raw mode: write a whole episode to one file and let the simulator run it without Python.

The file layout is documented in ``cpp/sim/raw-file.h``. Raw mode is the reference the
framework-overhead benchmark compares the client against, and a debugging aid: run
``packerl-sim --raw FILE`` under gdb or perf.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from packerl.sim.launcher import simulator_env, simulator_executable
from packerl.sim.simulator import GLOBAL_FEATURES, SimParams
from packerl.sim.validation import (
    validate_demands,
    validate_failures,
    validate_next_hops,
    validate_topology,
)

RAW_MAGIC = b"PKRLRAW1"
RAW_VERSION = 1


def write_raw_episode(
    path: str | Path,
    topology: Any,
    next_hops: Any,
    demands: Any,
    failures: Any = None,
    *,
    steps: int,
    params: SimParams | Mapping[str, Any] | None = None,
    seed: int = 0,
) -> Path:
    """Write an episode with one fixed next-hop table for the simulator's raw mode.

    Args:
        path: output file.
        topology: as for :meth:`Simulator.reset`.
        next_hops: (N, N) table used for every step.
        demands: every demand of the episode (``synnet.DEMAND_DTYPE`` or columns).
        failures: every link failure of the episode, or None.
        steps: number of steps to simulate.
        params: simulation parameters.
        seed: ns-3 run number.
    """
    topo = validate_topology(topology)
    params = SimParams.from_any(params)
    if steps < 1:
        raise ValueError(f"`steps` must be at least 1, got {steps}")
    n, e = topo.num_nodes, topo.num_edges
    adjacency = np.zeros((n, n), bool)
    adjacency[topo.edges[:, 0], topo.edges[:, 1]] = True
    adjacency[topo.edges[:, 1], topo.edges[:, 0]] = True
    table = validate_next_hops(next_hops, adjacency)
    horizon = params.step_ms * steps
    dem = validate_demands(demands, n, 0.0, horizon)
    fail = validate_failures(failures, np.ones(e, bool), 0.0, horizon)
    order = np.argsort(dem["time_ms"], kind="stable")
    dem = {k: v[order] for k, v in dem.items()}
    forder = np.argsort(fail["time_ms"], kind="stable")
    fail = {k: v[forder] for k, v in fail.items()}
    header = np.array(
        [RAW_VERSION, n, e, steps, dem["time_ms"].size, fail["edge"].size,
         params.tcp_segment_bytes, 0], dtype="<u4")
    path = Path(path)
    with path.open("wb") as f:
        f.write(RAW_MAGIC)
        f.write(header.tobytes())
        f.write(np.array([seed], "<u8").tobytes())
        f.write(np.array([params.step_ms, params.queue_scale], "<f8").tobytes())
        f.write(topo.edges.astype("<i4").tobytes())
        f.write(topo.datarate_bps.astype("<f8").tobytes())
        f.write(topo.delay_ms.astype("<f8").tobytes())
        f.write(table.astype("<i4").tobytes())
        for key, dtype in (("time_ms", "<f8"), ("src", "<i4"), ("dst", "<i4"),
                           ("bytes", "<i8"), ("is_tcp", "u1"), ("rate_bps", "<f8")):
            f.write(dem[key].astype(dtype).tobytes())
        f.write(fail["time_ms"].astype("<f8").tobytes())
        f.write(fail["edge"].astype("<i4").tobytes())
    return path


def run_raw_episode(path: str | Path, *, globals_out: str | Path | None = None,
                    timeout: float | None = None) -> dict[str, float]:
    """Run a raw episode file in the simulator and return its JSON totals.

    With ``globals_out``, the per-step global features are also written there and returned
    under ``"globals"`` as an array of shape (steps + 1, len(GLOBAL_FEATURES)), S0 first.
    """
    cmd = [str(simulator_executable()), "--raw", str(path)]
    if globals_out is not None:
        cmd += ["--globals-out", str(globals_out)]
    done = subprocess.run(cmd, env=simulator_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"raw simulation of `{path}` failed with status {done.returncode}:\n{done.stderr}"
        )
    result: dict[str, Any] = json.loads(done.stdout)
    if globals_out is not None:
        rows = np.fromfile(globals_out, dtype="<f8")
        result["globals"] = rows.reshape(-1, len(GLOBAL_FEATURES))
    return result
