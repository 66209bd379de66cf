# SPDX-License-Identifier: GPL-2.0-only
"""Smoke runs of the environment benchmarks with the smallest arguments: they run, check that
env and raw mode agree, and take their reference figures from result files only."""

from __future__ import annotations

import json

from experiments import bench_env, bench_overhead, speed_report
from experiments._benchutil import RESULTS

TINY_ENV = ["--traffic", "udp_low", "--steps", "2", "--episodes-udp", "1", "--rounds", "1",
            "--overhead-traffic", "udp_low", "--reps-udp", "1", "--no-write"]


def test_bench_env_runs_and_env_matches_raw_mode(capsys):
    assert bench_env.main(TINY_ENV) == 0  # 1 would mean a mismatch or differing episodes
    out = capsys.readouterr().out
    assert "| udp_low | 2 x 2 |" in out and "| OK |" in out
    assert "original" not in out  # no comparison with figures it did not measure


def test_bench_overhead_runs_and_client_matches_raw_mode(capsys):
    argv = ["--steps", "2", "--traffic", "udp_low", "--reps", "1", "--short-reps", "1",
            "--no-write"]
    assert bench_overhead.main(argv) == 0
    assert "| OK |" in capsys.readouterr().out


def test_speed_report_reads_its_reference_rows_from_the_result_files(tmp_path):
    argv = ["--sizes", "8", "--repeats", "2", "--presets", "--out", str(tmp_path)]
    assert speed_report.main(argv) == 0
    text = (tmp_path / "speed_report.md").read_text()
    env_bench = json.loads((RESULTS / "bench_env.json").read_text())
    params = env_bench["params"]
    for traffic, result in env_bench["throughput"].items():
        value = result["summary"]["single"]["steps_per_hour"]
        assert (f"| {params['topology']} | {traffic} | {value:,.0f} | bench_env.json "
                f"({env_bench['date']}; {params['steps']}-step episodes, median of "
                f"{params['rounds']} round(s)) |") in text
    assert (tmp_path / "speed_report.png").stat().st_size > 0
    data = json.loads((tmp_path / "speed_report.json").read_text())
    assert [r["num_nodes"] for r in data["inference"]] == [8] and data["simulation"] == []


def test_steps_per_hour_uses_bench_envs_loop():
    result = speed_report.steps_per_hour("nx-XS", "udp_low", steps=2, episodes=1)
    assert result["steps"] == 2 and result["steps_per_hour"] > 0
    assert len(result["nodes"]) == 1 and 6 <= result["nodes"][0] <= 10
