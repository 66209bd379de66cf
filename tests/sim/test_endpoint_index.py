# SPDX-License-Identifier: GPL-2.0-only
"""The simulator's endpoint and socket indexes (cpp/sim/endpoint-index.cc,
cpp/sim/tcp-socket-index.cc) find exactly what ns-3's linear scans find: checked on every
lookup, allocation, deallocation and TCP socket addition and removal of TCP-heavy episodes,
and the episodes are bit-identical with the indexes off."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import synnet
from packerl.sim import run_raw_episode, write_raw_episode
from packerl.sim.launcher import simulator_executable

from .test_determinism import shortest_path_next_hops

#: the interposed ns-3 methods the simulator must export for ns-3's calls to reach them
INTERPOSED = (
    "_ZN3ns317Ipv4EndPointDemux6LookupB5cxx11ENS_11Ipv4AddressEtS1_tNS_3PtrINS_13Ipv4InterfaceEEE",
    "_ZN3ns317Ipv4EndPointDemux10DeAllocateEPNS_12Ipv4EndPointE",
    "_ZN3ns317Ipv4EndPointDemux8AllocateEv",
    "_ZN3ns312Ipv4EndPoint7SetPeerENS_11Ipv4AddressEt",
    "_ZN3ns313TcpL4Protocol9AddSocketENS_3PtrINS_13TcpSocketBaseEEE",
    "_ZN3ns313TcpL4Protocol12RemoveSocketENS_3PtrINS_13TcpSocketBaseEEE",
)


@pytest.mark.skipif(shutil.which("nm") is None, reason="needs binutils' nm")
def test_the_simulator_exports_the_interposed_methods():
    out = subprocess.run(["nm", "-D", "--defined-only", str(simulator_executable())],
                         capture_output=True, text=True, check=True).stdout
    exported = {line.split()[-1] for line in out.splitlines() if line.strip()}
    assert set(INTERPOSED) <= exported


@pytest.mark.parametrize("traffic, seed", [("tcp_high", 1), ("mixed_very_high", 2)])
def test_the_index_finds_what_the_full_scan_finds(tmp_path, monkeypatch, traffic, seed):
    sc = synnet.generate(topology="nx-XS", traffic=traffic, steps=30, step_ms=5.0, seed=seed)
    path = tmp_path / "episode.raw"
    write_raw_episode(path, sc.topology, shortest_path_next_hops(sc.topology), sc.demands,
                      sc.failures, steps=30, params={"step_ms": sc.step_ms}, seed=seed)
    totals = {}
    for mode, env in (("checked", {"PACKERL_CHECK_DEMUX": "1"}),
                      ("scan", {"PACKERL_DEMUX_INDEX": "0"})):
        for name in ("PACKERL_CHECK_DEMUX", "PACKERL_DEMUX_INDEX"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        # checked: every indexed call also runs ns-3's full scan; the simulator aborts on a
        # mismatch
        totals[mode] = run_raw_episode(path, timeout=300)
    assert totals["checked"]["total_demands_started"] > 50  # many connections per node
    for key, value in totals["scan"].items():
        if key.startswith("total_"):
            assert np.isclose(totals["checked"][key], value, rtol=0, atol=0), key
