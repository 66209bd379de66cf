# SPDX-License-Identifier: GPL-2.0-only
"""Smoke runs of the inference benchmark (experiments/bench_inference.py) at tiny sizes."""

from __future__ import annotations

import pytest
import torch

from experiments import bench_inference


def test_fieldlines_inference_reports_ordered_times():
    threads = torch.get_num_threads()
    result = bench_inference.fieldlines_inference(10, repeats=3, warmup=1)
    assert torch.get_num_threads() == threads  # restored
    assert result["num_nodes"] == 10 and result["num_edges"] > 0
    assert 0 < result["min_ms"] <= result["median_ms"] <= result["p95_ms"]
    assert result["min_ms"] <= result["mean_ms"] and result["apsp_ms"] > 0


@pytest.mark.parametrize("num_nodes", [10, 50])
def test_mslim_inference_reports_times(num_nodes):
    result = bench_inference.mslim_inference(num_nodes, repeats=3, warmup=1)
    assert result["num_nodes"] == num_nodes
    assert result["num_arcs"] > result["num_links"] > 0
    for key in ("mean_ms", "p95_ms", "apsp_mean_ms", "apsp_p95_ms"):
        assert result[key] > 0


def test_magnneto_inference_runs_its_theta_e_loop():
    result = bench_inference.magnneto_inference(8, repeats=1)
    assert result["horizon"] >= 8 and result["mean_ms"] >= result["min_ms"] > 0


def test_main_runs_without_writing(capsys):
    assert bench_inference.main(["--quick", "--sizes", "8", "--no-write",
                                 "--magnneto-max-nodes", "4"]) == 0
    out = capsys.readouterr().out
    assert "| 8 nodes | 8 |" in out and "SPEC targets at 250 nodes" in out
    assert "| not run | - |" in out  # MAGNNETO only up to --magnneto-max-nodes
