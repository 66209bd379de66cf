# SPDX-License-Identifier: GPL-2.0-only
"""Nothing outlives its parent: simulators, pool workers, fork servers and semaphores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from packerl.sim import launcher

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="PR_SET_PDEATHSIG is Linux-only")


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pids: list[int], seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def _describe(pids: list[int]) -> list[str]:
    out = []
    for p in pids:
        try:
            out.append(f"{p}: " + Path(f"/proc/{p}/cmdline").read_bytes()
                       .replace(b"\0", b" ").decode()[:100])
        except OSError:
            out.append(f"{p}: gone")
    return out


def _sims(pids: list[int]) -> list[int]:
    return [p for p in pids if "packerl-sim" in "".join(_describe([p]))]


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (through /proc/<pid>/task/*/children)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            out += kids
            todo += kids
    return out


def _run_parent(script: str, marker: str, timeout: float = 60.0) -> tuple[subprocess.Popen, str]:
    """Start a Python parent running ``script``; return it once it printed ``marker ...``."""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)],
                            stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(marker):
            return proc, line[len(marker):].strip()
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"the parent did not print {marker!r} (exit {proc.poll()})")


def _kill_all(pids: list[int]) -> None:
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _assert_stopped_child_dies_with(parent: subprocess.Popen, pid: int) -> None:
    """Stop ``pid`` (SIGSTOP), kill its parent; the stopped process must be gone soon."""
    try:
        os.kill(pid, signal.SIGSTOP)
        parent.kill()
        parent.wait()
        assert _wait_gone([pid]) == []
    finally:
        _kill_all([pid])


def test_die_with_parent_kills_a_stopped_child():
    parent, pid = _run_parent("""
        import subprocess, time
        from packerl.sim.launcher import parent_death_hook
        child = subprocess.Popen(["sleep", "300"], preexec_fn=parent_death_hook())
        print("child", child.pid, flush=True)
        time.sleep(300)
    """, "child")
    _assert_stopped_child_dies_with(parent, int(pid))


def test_die_with_parent_exits_if_the_parent_is_already_gone():
    script = "from packerl.sim.launcher import die_with_parent\ndie_with_parent(1)\nprint('x')"
    code = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert code.returncode == 1 and "x" not in code.stdout


def test_main_process_alive_outside_a_pool():
    assert launcher.main_process_alive()


def test_stopped_simulator_dies_with_its_parent():
    parent, pid = _run_parent("""
        import time
        import numpy as np
        from packerl.sim import Simulator
        sim = Simulator()
        edges = np.array([[0, 1]], dtype=np.int64)
        sim.reset({"num_nodes": 2, "edges": edges, "datarate_bps": np.full(1, 1e7),
                   "delay_ms": np.full(1, 1.0)})
        print("sim", sim.pid, flush=True)
        time.sleep(300)
    """, "sim")
    _assert_stopped_child_dies_with(parent, int(pid))


def _sems() -> set[str]:
    return {p.name for p in Path("/dev/shm").glob("sem.mp-*")}


def _leaked_sems(before: set[str]) -> set[str]:
    """New ``sem.mp-*`` files that no live process maps (others' live pools map theirs)."""
    new = _sems() - before
    for maps in Path("/proc").glob("[0-9]*/maps"):
        try:
            text = maps.read_text()
        except OSError:
            continue
        new = {n for n in new if n not in text}
    return new


def test_killed_evaluate_leaves_no_worker_and_no_semaphore(tmp_path):
    before = _sems()
    parent = subprocess.Popen(
        [sys.executable, "-m", "packerl.app.cli", "evaluate", "--policy", "eigrp",
         "--topology", "nx-XS", "--traffic", "udp_low", "--episodes", "400",
         "--episode-steps", "5", "--workers", "2", "--no-progress", "--out", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kids: list[int] = []
    try:
        deadline = time.monotonic() + 120
        # wait for the fork server's workers (main -> resource tracker, fork server ->
        # workers) to run episodes: a simulator below them means a worker is past its start-up
        # (imports and initializer take seconds on a busy machine, and a worker that is still
        # importing when its main process dies exits only once it gets to the initializer)
        while time.monotonic() < deadline and (len(kids) < 4 or not _sims(kids)):
            time.sleep(0.1)
            kids = _children(parent.pid)
        assert len(kids) >= 4 and _sims(kids), f"the pool did not start: {_describe(kids)}"
        kids = _children(parent.pid)
        parent.kill()
        parent.wait()
        left = _wait_gone(kids, 30.0)
        assert left == [], _describe(left)
        # the resource tracker unlinks them as it exits; another process's pool on this
        # machine may briefly hold an unmapped one of its own while it shuts down
        deadline = time.monotonic() + 30
        while _leaked_sems(before) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _leaked_sems(before) == set()
    finally:
        parent.kill()
        _kill_tree(kids)


def test_an_orphaned_sweep_worker_does_not_write_done(tmp_path, monkeypatch):
    from packerl.app.sweep import parse_sweep, prepare_trial, run_trial, trial_dir

    sweep = parse_sweep({
        "name": "orphan", "policies": ["eigrp"],
        "evaluation": {"topologies": ["nx-XS"], "traffics": ["udp_low"], "episodes": 1,
                       "episode_steps": 2, "seed": 3},
        "resources": {"cpus_per_trial": 1, "max_retries": 0},
    })
    (trial,) = sweep.trials()
    tdir = trial_dir(tmp_path, sweep.name, trial.trial_id)
    prepare_trial(trial, tdir)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    monkeypatch.setattr(launcher, "_main_pid", dead.pid)  # as pool_worker_init would
    with pytest.raises(SystemExit, match="the sweep process died"):
        run_trial(trial.to_json(), str(tdir))
    assert not (tdir / "DONE").exists()


def _eval_rows(run: Path) -> list[dict[str, str]]:
    import csv

    with (run / "eval.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_eval_rows_agree_with_the_checkpoint_after_a_crash(tmp_path):
    import json

    from packerl.app.training import TrainConfig, train

    tiny = {"policy": "mslim", "topology": "nx-XS", "traffic": "udp_low", "episode_steps": 2,
            "episodes_per_iteration": 2, "n_envs": 2, "n_epochs": 1, "batch_size": 4,
            "eval_every": 1, "eval_episodes": 1, "seed": 5, "out": str(tmp_path)}
    run = train(TrainConfig(iterations=2, **tiny), progress=False)
    rows = _eval_rows(run)
    assert [r["iteration"] for r in rows] == ["1", "2"]
    # a crash after the checkpoint of iteration 2, before its eval row: the row is re-created
    text = (run / "eval.csv").read_text().splitlines()
    (run / "eval.csv").write_text("\n".join(text[:-1]) + "\n")
    train(TrainConfig(iterations=2, **tiny), resume=True, progress=False)
    assert _eval_rows(run) == rows
    # a crash after iteration 3's eval row, before its checkpoint: the row is dropped, then
    # written once by the resumed iteration 3
    with (run / "eval.csv").open("a") as f:
        f.write(text[-1].replace("2,", "3,", 1) + "\n")
    train(TrainConfig(iterations=3, **tiny), resume=True, progress=False)
    again = _eval_rows(run)
    state = json.loads((run / "state.json").read_text())
    assert [r["iteration"] for r in again] == ["1", "2", "3"] and again[:2] == rows
    assert int(again[2]["timesteps"]) == state["num_timesteps"]


def _kill_tree(pids: list[int]) -> None:
    """Kill ``pids``, the resource tracker last: it unlinks the semaphores of the processes
    that died once they are all gone, so killing it with them would leave those in /dev/shm
    (a failed test must not leak what the test looks for)."""
    trackers = [p for p in pids if "resource_tracker" in "".join(_describe([p]))]
    _kill_all([p for p in pids if p not in trackers])
    _wait_gone([p for p in pids if p not in trackers], 5.0)
    _kill_all(_wait_gone(trackers, 5.0))


SWEEPS = {
    # two baselines: killed while both trials run their evaluation pools
    "evaluating": ("policies: [eigrp, ospf]\n", "resources:\n  cpus_per_trial: 2\n"),
    # a trained policy and a baseline: killed while one trial trains (its environments'
    # simulators are up) and the other evaluates
    "training": ("policies: [eigrp, mslim]\ntraining:\n  iterations: 50\n  episode_steps: 5\n"
                 "  episodes_per_iteration: 2\n  n_envs: 2\n  n_epochs: 1\n  batch_size: 5\n"
                 "  eval_every: 1\n  eval_episodes: 1\n",
                 "resources:\n  cpus_per_trial: 1\n"),
}


def _training(root: Path) -> bool:
    return any(root.glob("killed/trials/mslim*/train/*/config.json"))


@pytest.mark.slow  # flaky on a loaded machine: its sweep may not reach its evaluations in time
@pytest.mark.parametrize("phase", sorted(SWEEPS))
def test_killed_sweep_leaves_no_process_and_no_semaphore(tmp_path, phase):
    policies, resources = SWEEPS[phase]
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"name: killed\n{policies}evaluation:\n  topologies: [nx-XS]\n"
                     "  traffics: [udp_low]\n  episodes: 30\n  episode_steps: 5\n"
                     f"{resources}  max_retries: 0\n")
    before = _sems()
    parent = subprocess.Popen(
        [sys.executable, "-m", "packerl.app.cli", "sweep", str(sweep), "--out", str(tmp_path),
         "--backend", "processes", "--num-cpus", "4"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kids: list[int] = []
    try:
        deadline = time.monotonic() + 90
        # main -> tracker, fork server -> 2 trial workers -> their fork servers -> workers
        # -> simulators: kill once the simulators run (a worker still importing only checks
        # its main process when its initializer runs, seconds later on a busy machine)
        while time.monotonic() < deadline and not (
                len(_sims(kids)) >= 2 and (phase != "training" or _training(tmp_path))):
            time.sleep(0.2)
            kids = _children(parent.pid)
        assert len(_sims(kids)) >= 2, f"the sweep did not start its simulators: {kids}"
        kids = _children(parent.pid)
        done = set(tmp_path.glob("killed/trials/*/DONE"))  # finished while the sweep lived
        parent.kill()
        parent.wait()
        left = _wait_gone(kids, 20.0)
        assert left == [], _describe(left)
        assert _leaked_sems(before) == set()
        assert set(tmp_path.glob("killed/trials/*/DONE")) == done  # none for a dead sweep
    finally:
        parent.kill()
        _kill_tree(kids)


def test_a_simulator_started_from_a_worker_thread_outlives_the_thread():
    """Linux's parent-death signal follows the starting thread: a simulator started from a
    thread that then ends must keep working (the hook is only set from the main thread)."""
    import threading

    import numpy as np

    from packerl.sim import Simulator

    sim = Simulator()
    edges = np.array([[0, 1]], dtype=np.int64)
    topology = {"num_nodes": 2, "edges": edges, "datarate_bps": np.full(1, 1e7),
                "delay_ms": np.full(1, 1.0)}
    thread = threading.Thread(target=sim.reset, args=(topology,))
    thread.start()
    thread.join()
    try:
        time.sleep(0.5)  # a parent-death signal would have killed it by now
        assert _alive(sim.pid)
    finally:
        sim.close()
