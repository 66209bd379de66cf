# SPDX-License-Identifier: GPL-2.0-only
"""The simulator runs in a session of its own; `nice` must still reach it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import os, sys
os.nice(7)
from packerl.sim import Simulator
from tests.sim.conftest import topology
with Simulator() as sim:
    sim.reset(topology(2, [(0, 1)]), seed=1)
    print(open(f"/proc/{sim.pid}/autogroup").read().strip())
    print(os.getsid(sim.pid) == sim.pid, os.getpriority(os.PRIO_PROCESS, sim.pid))
"""


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(),
                    reason="no scheduler autogroups on this kernel")
def test_a_niced_process_starts_simulators_with_its_nice_value_in_their_own_group():
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         cwd=root, timeout=120, check=True).stdout.split("\n")
    base = os.nice(0)
    assert out[0].endswith(f"nice {min(19, base + 7)}")  # the group, which the kernel weighs
    assert out[1] == f"True {min(19, base + 7)}"  # in a session of its own, niced itself
