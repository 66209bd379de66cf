# SPDX-License-Identifier: GPL-2.0-only
"""A simulator that exits, crashes, hangs or answers garbage raises a specific exception with
its stderr; the client can reset afterwards; no process or shared memory is ever left over.

The faults are injected by the test executable ``packerl-sim-faults`` (the ``inject_fault``
fixture); the production ``packerl-sim`` has no fault hooks."""

from __future__ import annotations

import _thread
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from packerl import _bridge
from packerl.sim import (
    Simulator,
    SimulatorCrashed,
    SimulatorProtocolError,
    SimulatorTimeout,
)
from packerl.sim.launcher import simulator_env, simulator_executable

from .conftest import FAULT_VARIABLE, demands, fault_executable, line_routes, topology

TOPO = topology(3, [(0, 1), (1, 2)])
FLOW = demands([(0.0, 0, 2, 20 * 1472, False, 5e6)])


def shm_entries() -> set[str]:
    return {p.name for p in Path("/dev/shm").iterdir() if p.name.startswith("packerl-")}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(autouse=True)
def no_leftovers():
    before = shm_entries()
    yield
    assert shm_entries() <= before


def check_usable_after_failure(sim: Simulator) -> None:
    sim.reset(TOPO, seed=1)
    s = sim.step(line_routes(3), FLOW)
    assert s.g("demands_started") == 1


def test_the_production_simulator_has_no_fault_hooks(monkeypatch):
    exe = simulator_executable()
    assert b"injected fault" not in exe.read_bytes()
    monkeypatch.setenv(FAULT_VARIABLE, "exit@1")
    with Simulator(timeout=30) as sim, \
            pytest.raises(SimulatorCrashed, match="exited with status 2") as info:
        sim.reset(TOPO, seed=1)
    assert f"{FAULT_VARIABLE} is set, but this build has no fault injection" in str(info.value)


def test_the_fault_build_is_a_separate_executable(inject_fault):
    exe = fault_executable()
    assert exe.name == "packerl-sim-faults"
    out = subprocess.run([str(exe), "--version"], env=simulator_env(), capture_output=True,
                         text=True, check=True, timeout=30)
    assert "fault-injection test build" in out.stdout
    inject_fault(None)
    with Simulator(timeout=30) as sim:  # without a fault it is the ordinary simulator
        check_usable_after_failure(sim)


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("exit@1", SimulatorCrashed, "exited with status 7"),
        ("abort@1", SimulatorCrashed, "killed by signal SIGABRT"),
        ("garbage@1", SimulatorProtocolError, "invalid header"),
    ],
)
def test_faults_raise_and_reset_recovers(inject_fault, fault, error, message):
    inject_fault(fault)
    with Simulator(timeout=30) as sim:
        sim.reset(TOPO, seed=1)
        sim.step(line_routes(3), FLOW)
        pid = sim.pid
        with pytest.raises(error, match=message) as info:
            sim.step()
        assert "injected fault" in info.value.stderr_tail
        assert "injected fault" in str(info.value)
        assert "call reset()" in str(info.value)
        assert wait_gone(pid)
        with pytest.raises(Exception, match=r"call reset\(\) first"):
            sim.step()
        inject_fault(None)
        check_usable_after_failure(sim)


def test_kill_9_is_reported():
    with Simulator(timeout=30) as sim:
        sim.reset(TOPO, seed=1)
        os.kill(sim.pid, signal.SIGKILL)
        with pytest.raises(SimulatorCrashed, match="killed by signal SIGKILL"):
            sim.step(line_routes(3), FLOW)
        check_usable_after_failure(sim)


def test_hang_times_out_and_kills(inject_fault):
    inject_fault("hang@0")
    with Simulator(timeout=0.5) as sim:
        sim.reset(TOPO, seed=1)
        pid = sim.pid
        t0 = time.monotonic()
        with pytest.raises(SimulatorTimeout, match="did not answer within 0.5 s"):
            sim.step(line_routes(3), FLOW)
        assert time.monotonic() - t0 < 5
        assert wait_gone(pid)
        inject_fault(None)
        check_usable_after_failure(sim)


@pytest.fixture
def ctrl_c_raises():
    """SIGINT raises KeyboardInterrupt, as in an interactive Python, for the test's duration.

    A process started in the background by a non-interactive shell (``cmd &`` in a script, many
    CI runners) inherits SIGINT ignored; Python then installs no handler of its own and
    ``_thread.interrupt_main`` does nothing, so the test would only see the timeout.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_keyboard_interrupt_while_waiting_kills_the_simulator(inject_fault, ctrl_c_raises):
    inject_fault("hang@0")
    sim = Simulator(timeout=60)
    sim.reset(TOPO, seed=1)
    pid = sim.pid
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        sim.step(line_routes(3), FLOW)
    timer.join()
    assert wait_gone(pid)
    assert not sim.running
    sim.close()


def test_close_ends_the_process_and_is_idempotent():
    sim = Simulator()
    sim.reset(TOPO, seed=1)
    pid = sim.pid
    assert alive(pid)
    sim.close()
    sim.close()
    assert wait_gone(pid)


def test_segment_is_private_and_never_visible_in_dev_shm():
    with Simulator() as sim:
        sim.reset(TOPO, seed=1)
        mode = os.fstat(sim._segment.fd).st_mode
        assert stat.S_IMODE(mode) == 0o600
        assert not shm_entries()  # the name is unlinked as soon as it is created


def test_segment_names_are_exclusive():
    name = f"packerl-test-{os.getpid()}"
    path = Path("/dev/shm") / name
    path.write_bytes(b"")
    try:
        with pytest.raises(FileExistsError):
            _bridge.Segment(2, 1, 1, 1, "/" + name)
    finally:
        path.unlink()


SCRIPT = """
import os, sys, time, numpy as np
from packerl.sim import Simulator
topo = {"num_nodes": 2, "edges": np.array([[0, 1]]), "datarate_bps": np.array([1e7]),
        "delay_ms": np.array([1.0])}
sims = [Simulator(), Simulator()]
for s in sims:
    s.reset(topo)
print(" ".join(str(s.pid) for s in sims), flush=True)
if sys.argv[1] == "sleep":
    time.sleep(60)
"""


def test_interpreter_exit_ends_all_simulators():
    out = subprocess.run([sys.executable, "-c", SCRIPT, "exit"], capture_output=True,
                         text=True, timeout=60, check=True)
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2
    assert all(wait_gone(p) for p in pids)


def test_killed_client_ends_its_simulators():
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, "sleep"], stdout=subprocess.PIPE,
                            text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert all(alive(p) for p in pids)
        proc.kill()
        proc.wait(timeout=10)
        # the simulators notice their parent is gone within their 0.5 s poll
        assert all(wait_gone(p, 5.0) for p in pids)
    finally:
        if proc.poll() is None:
            proc.kill()
