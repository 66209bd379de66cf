# SPDX-License-Identifier: GPL-2.0-only
"""Shared helpers for the simulator benchmarks: EIGRP routing, raw-mode runs and the
comparison of their counters, machine info, result files."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import time as _time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
#: the SPEC's target (not a measurement) for an episode's wall time through the client or the
#: Gymnasium env divided by the raw mode's simulation time of the same scenario
TARGET_RATIO = 1.10
#: global features that are per-step counters; raw mode reports their sums as ``total_<name>``
COUNTERS = [
    "sent_bytes", "received_bytes", "dropped_bytes", "retransmitted_bytes", "sent_packets",
    "received_packets", "dropped_packets", "retransmitted_packets", "drop_queue_bytes",
    "drop_no_route_bytes", "drop_ttl_bytes", "drop_link_down_bytes", "drop_other_bytes",
    "app_sent_bytes", "app_received_bytes", "demands_started", "demands_completed", "events",
]


def eigrp_next_hops(topology: Any) -> np.ndarray:
    """(N, N) int32 EIGRP next-hop table of a topology (``packerl.routing``: B.5 weights in
    EIGRP's units, SciPy Dijkstra, smallest-id tie-breaking); ``[u, z]`` = u's neighbour
    toward z, -1 on the diagonal."""
    from packerl.routing import eigrp_weights, next_hops_from_weights

    edges = np.asarray(topology.edges).reshape(-1, 2)
    w = eigrp_weights(topology.datarate_bps, topology.delay_ms)
    edge_index = np.concatenate([edges.T, edges[:, ::-1].T], axis=1)
    return next_hops_from_weights(int(topology.num_nodes), edge_index, np.concatenate([w, w]))


def counter_columns() -> list[int]:
    """Where the :data:`COUNTERS` are in a state's ``global_features``."""
    from packerl.sim import GLOBAL_FEATURES

    return [GLOBAL_FEATURES.index(c) for c in COUNTERS]


def children_cpu_seconds() -> float:
    """user + system CPU seconds of this process's finished children."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_raw(path: Path) -> dict[str, Any]:
    """Simulate a raw episode file (``packerl.sim.write_raw_episode``) in raw mode.

    Returns the simulator's ``run_seconds`` and ``setup_seconds``, the process's wall and CPU
    seconds (start-up, file read and setup included), ``events_per_second``, the episode's
    ``totals`` of every :data:`COUNTERS` entry and ``demands_active_end``.
    """
    import time

    from packerl.sim import run_raw_episode

    c0 = children_cpu_seconds()
    t0 = time.perf_counter()
    res = run_raw_episode(path)
    wall = time.perf_counter() - t0
    return {
        "run_seconds": float(res["run_seconds"]),
        "setup_seconds": float(res["setup_seconds"]),
        "process_wall_seconds": wall,
        "process_cpu_seconds": children_cpu_seconds() - c0,
        "events_per_second": float(res["events_per_second"]),
        "totals": {c: float(res[f"total_{c}"]) for c in COUNTERS},
        "demands_active_end": float(res["demands_active"]),
    }


def totals_mismatches(rep: int, runs: dict[str, dict[str, Any]]) -> list[str]:
    """How two runs of one scenario disagree (``{name: run}`` with ``totals`` of the
    :data:`COUNTERS` and ``demands_active_end``), one sentence per difference."""
    (name_a, a), (name_b, b) = runs.items()
    out = [f"rep {rep}: {c}: {name_a} {a['totals'][c]!r} != {name_b} {b['totals'][c]!r}"
           for c in COUNTERS if a["totals"][c] != b["totals"][c]]
    if a["demands_active_end"] != b["demands_active_end"]:
        out.append(f"rep {rep}: demands_active at end: {name_a} {a['demands_active_end']} != "
                   f"{name_b} {b['demands_active_end']}")
    return out


def machine_info() -> dict[str, Any]:
    """Machine description for result files."""
    return {
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "source": source_state(),
    }


#: a 1-minute load average below this before a benchmark starts counts as an idle machine
IDLE_LOAD = 0.5


def proc_status_kib(pid: int | str, key: str) -> int | None:
    """A ``VmXXX`` value in KiB from /proc/<pid>/status, or None (no such process or key)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_snapshot() -> dict[str, float]:
    """Machine-wide busy CPU seconds (``/proc/stat``), the CPU seconds of this process and
    of its reaped children, and a monotonic clock; two snapshots give :func:`other_cores`."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]  # user .. steal
    idle = ticks[3] + ticks[4]  # idle + iowait
    own = sum(getattr(resource.getrusage(who), t) for who in
              (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for t in ("ru_utime", "ru_stime"))
    return {"busy_s": (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK"), "own_s": own,
            "clock_s": _time.monotonic()}


def other_cores(start: dict[str, float], end: dict[str, float]) -> float:
    """Cores kept busy on average between two :func:`cpu_snapshot` by other processes (and by
    children of this one not yet reaped at ``end``)."""
    wall = end["clock_s"] - start["clock_s"]
    if wall <= 0:
        return float("nan")
    return max(0.0, (end["busy_s"] - start["busy_s"] - (end["own_s"] - start["own_s"])) / wall)


def other_work_sentence(start: dict[str, float], end: dict[str, float]) -> str:
    """What :func:`other_cores` measured, for a results file."""
    return (f"Other processes kept {other_cores(start, end):.2f} of the {os.cpu_count()} "
            "cores busy on average while this ran (measured from /proc/stat minus this "
            "script's own CPU time).")


def load_sentence(load_start: list[float], load_end: list[float]) -> str:
    """What the measured load averages say about the machine, for a results file."""
    state = ("idle before it started" if load_start[0] < IDLE_LOAD else
             "busy with other work when it started, so absolute numbers are noisy")
    return (f"The machine has {os.cpu_count()} cores; the 1-minute load average was "
            f"{load_start[0]:.2f} at the start and {load_end[0]:.2f} at the end (this "
            f"benchmark included): {state} (idle: below {IDLE_LOAD}).")


def source_state() -> str:
    """HEAD commit and whether the simulator sources (cpp/, packerl/) had uncommitted edits."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "cpp", "packerl"],
                               cwd=root, text=True, capture_output=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes in cpp/ or packerl/" if dirty else "")


def command_line() -> str:
    """The exact command that ran this script (relative to the repository root if possible)."""
    return " ".join(shlex.quote(a) for a in [os.path.basename(sys.executable)] + sys.argv)


def now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def percentile(values: Any, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(name: str, title: str, body: str, data: dict[str, Any],
                  out_dir: Path | None = None) -> tuple[Path, Path]:
    """Write ``<name>.md`` (title, command, date, machine, body) and ``<name>.json``."""
    out = Path(out_dir) if out_dir is not None else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    cmd = command_line()
    date = now()
    md = (
        f"# {title}\n\n"
        f"- command: `{cmd}`\n"
        f"- date: {date}\n"
        f"- machine: {info['cpu_count']} CPUs (os.cpu_count()), Python {info['python']}, "
        f"{info['platform']}\n"
        f"- source: {info['source']}\n\n"
        f"{body.rstrip()}\n"
    )
    md_path = out / f"{name}.md"
    json_path = out / f"{name}.json"
    md_path.write_text(md)
    payload = {"command": cmd, "date": date, "machine": info, **data}
    json_path.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n")
    return md_path, json_path


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
