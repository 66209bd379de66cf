# SPDX-License-Identifier: GPL-2.0-only
"""Per-step cost and simulator memory over one long episode (issue 11, item 7).

One ``tcp_high`` scenario on ``nx-XS`` (fixed seeds) is stepped through the ``Simulator`` with
EIGRP next hops installed at step 0. For every window of ``--window`` steps the script records
the wall time, the ns-3 events simulated, the demands started / completed / still active at
the window's end, and the simulator process's resident set (``VmRSS`` from
``/proc/<pid>/status``) at the window's end.

What to read from it: RSS that follows the demands still *active* is the cost of their
connections; growth with the demands *finished* so far would be a leak. Under ``tcp_high`` on
nx-XS, connections whose SYN, SYN-ACK or tail segment is lost wait for ns-3's TCP timeouts
(3 s before a SYN is sent again, a retransmission timeout of at least 1 s: 600 and 200 steps
of 5 ms), so active demands pile up over a long episode. ns-3 finds the socket of every
arriving TCP segment by a linear scan over the node's connections
(``Ipv4EndPointDemux::Lookup``), so the time per event (``us_per_event``) grows with the
connections open, not with the demands finished.

The machine may be loaded by other work (the result file records the load averages): compare
windows within one run (ratios), not absolute seconds across runs. ``$PACKERL_SIM`` selects the
simulator executable (e.g. a build to compare with the installed one); the result file names
it. Usage::

    python experiments/long_episode.py [--steps 1000] [--window 100] [--name long_episode]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from _benchutil import (  # noqa: E402
    cpu_snapshot,
    eigrp_next_hops,
    load_sentence,
    markdown_table,
    other_cores,
    proc_status_kib,
    write_results,
)

import synnet  # noqa: E402
from packerl.sim import Simulator  # noqa: E402
from packerl.sim.launcher import simulator_executable  # noqa: E402


def run(steps: int, window: int, preset: str, traffic: str, scenario_seed: int,
        sim_seed: int) -> list[dict]:
    """Step one episode and return one row per window (see the module docstring)."""
    sc = synnet.generate(topology=preset, traffic=traffic, link_failures=None, steps=steps,
                         step_ms=5.0, seed=scenario_seed)
    hops = eigrp_next_hops(sc.topology)
    rows: list[dict] = []
    with Simulator(timeout=3600) as sim:
        sim.reset(sc.topology, params={"step_ms": sc.step_ms}, seed=sim_seed)
        pid = sim.pid
        started = completed = 0.0
        events = 0.0
        t0 = time.perf_counter()
        for t in range(steps):
            state = sim.step(hops if t == 0 else None, sc.step_demands(t), None)
            events += state.g("events")
            started += state.g("demands_started")
            completed += state.g("demands_completed")
            if (t + 1) % window == 0 or t + 1 == steps:
                wall = time.perf_counter() - t0
                rows.append({
                    "steps_done": t + 1,
                    "wall_s": wall,
                    "events": events,
                    "us_per_event": wall / events * 1e6 if events else float("nan"),
                    "demands_started_total": started,
                    "demands_completed_total": completed,
                    "demands_active": state.g("demands_active"),
                    "sim_rss_mib": (proc_status_kib(pid, "VmRSS") or 0) / 1024.0,
                })
                print(f"  steps {t + 1:5d}: {wall:7.1f} s, {events:11.0f} events, "
                      f"{rows[-1]['us_per_event']:.2f} us/event, active "
                      f"{rows[-1]['demands_active']:.0f}, finished {completed:.0f}, RSS "
                      f"{rows[-1]['sim_rss_mib']:.1f} MiB", file=sys.stderr, flush=True)
                events = 0.0
                t0 = time.perf_counter()
    return rows


def summarize(rows: list[dict]) -> dict:
    """Last window against the first: wall time and time per event as ratios, RSS growth per
    demand still active and per demand finished in between."""
    first, last = rows[0], rows[-1]
    grew = last["sim_rss_mib"] - first["sim_rss_mib"]
    more_active = last["demands_active"] - first["demands_active"]
    finished = last["demands_completed_total"] - first["demands_completed_total"]
    return {
        "wall_ratio_last_first": last["wall_s"] / first["wall_s"],
        "us_per_event_ratio_last_first": last["us_per_event"] / first["us_per_event"],
        "active_ratio_last_first": last["demands_active"] / max(1.0, first["demands_active"]),
        "rss_growth_mib": grew,
        "rss_kib_per_more_active": grew * 1024.0 / more_active if more_active > 0 else None,
        "rss_kib_per_finished": grew * 1024.0 / finished if finished > 0 else None,
    }


def render(data: dict) -> str:
    """The Markdown body of a result file from its JSON payload."""
    a, rows, sm = data["args"], data["rows"], data["summary"]
    table = markdown_table(
        ["steps", "wall s", "events", "us/event", "active", "started", "finished", "RSS MiB"],
        [[r["steps_done"], f"{r['wall_s']:.1f}", f"{r['events']:.0f}",
          f"{r['us_per_event']:.2f}", f"{r['demands_active']:.0f}",
          f"{r['demands_started_total']:.0f}", f"{r['demands_completed_total']:.0f}",
          f"{r['sim_rss_mib']:.1f}"] for r in rows])
    per_active = sm.get("rss_kib_per_more_active")
    per_finished = sm.get("rss_kib_per_finished")
    return (
        f"{a['preset']} `{a['traffic']}`, {a['steps']} steps of 5 ms, scenario seed "
        f"{a['scenario_seed']}, simulator seed {a['sim_seed']}, EIGRP next hops; simulator "
        f"`{data['simulator']}`. One row per {a['window']} steps: wall time and ns-3 events of "
        f"the window, demands at its end (active = started and not finished), simulator RSS at "
        f"its end.\n\n{table}\n\n"
        f"Last window / first window: wall x{sm['wall_ratio_last_first']:.2f}, time per event "
        f"x{sm['us_per_event_ratio_last_first']:.2f}, active demands "
        f"x{sm['active_ratio_last_first']:.2f}; simulator RSS grew "
        f"{sm['rss_growth_mib']:.1f} MiB, i.e. "
        + (f"{per_active:.1f} KiB per additional active demand" if per_active else "n/a")
        + " or "
        + (f"{per_finished:.2f} KiB per demand finished in between" if per_finished else "n/a")
        + ".\n\n"
        f"{load_sentence(data['load_start'], data['load_end'])} "
        + (f"Other processes kept {data['other_cores']:.2f} of the cores busy on average. "
           if "other_cores" in data else "")
        + "Other work slows every window alike: compare windows within this run, not "
        "seconds across runs.\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000, help="episode length (default 1000)")
    ap.add_argument("--window", type=int, default=100, help="steps per row (default 100)")
    ap.add_argument("--preset", default="nx-XS")
    ap.add_argument("--traffic", default="tcp_high")
    ap.add_argument("--scenario-seed", type=int, default=3)
    ap.add_argument("--sim-seed", type=int, default=7)
    ap.add_argument("--name", default="long_episode", help="result file name (no suffix)")
    ap.add_argument("--no-write", action="store_true", help="do not write result files")
    ap.add_argument("--rerender", metavar="JSON",
                    help="rewrite the Markdown (and summary) of an earlier result file from its "
                         "JSON, without simulating")
    args = ap.parse_args()

    if args.rerender:
        path = Path(args.rerender)
        data = json.loads(path.read_text())
        data["summary"] = summarize(data["rows"])
        path.write_text(json.dumps(data, indent=2) + "\n")
        a, m = data["args"], data["machine"]
        head = (f"# Long episode: {a['preset']} {a['traffic']}, {a['steps']} steps\n\n"
                f"- command: `{data['command']}`\n- date: {data['date']}\n"
                f"- machine: {m['cpu_count']} CPUs (os.cpu_count()), Python {m['python']}, "
                f"{m['platform']}\n- source: {m['source']}\n")
        path.with_suffix(".md").write_text(head + "\n" + render(data))
        print(render(data))
        return 0

    exe = str(simulator_executable())
    load_start, cpu_start = list(os.getloadavg()), cpu_snapshot()
    print(f"{args.preset} {args.traffic}, {args.steps} steps, simulator {exe}; load average "
          f"{load_start[0]:.2f} (other work on the machine slows every window alike)",
          file=sys.stderr, flush=True)
    rows = run(args.steps, args.window, args.preset, args.traffic, args.scenario_seed,
               args.sim_seed)
    data = {"args": vars(args), "simulator": exe, "rows": rows, "summary": summarize(rows),
            "load_start": load_start, "load_end": list(os.getloadavg()),
            "other_cores": other_cores(cpu_start, cpu_snapshot())}
    body = render(data)
    print(body)
    if not args.no_write:
        write_results(args.name, f"Long episode: {args.preset} {args.traffic}, {args.steps} "
                      "steps", body, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
