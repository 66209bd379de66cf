# SPDX-License-Identifier: GPL-2.0-only
"""experiments/paired_runs.py: ratios on shared episodes, seed-by-seed pairs, usage errors."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from experiments.paired_runs import compare, main, paired, per_seed

GRID = Path(__file__).parents[2] / "experiments" / "results" / "sweeps" / "repro" / "trials"
PAPER = GRID / "eigrp_paper" / "eval" / "eigrp_paper__nx-XS__tcp_high__seed9001"
CLASSIC = GRID / "eigrp" / "eval" / "eigrp__nx-XS__tcp_high__seed9001"
OSPF = GRID / "ospf" / "eval" / "ospf__nx-XS__tcp_high__seed9001"


def _goodput(run: Path) -> dict[int, float]:
    with (run / "episodes.csv").open() as f:
        return {int(r["seed"]): float(r["total_goodput_mb"]) for r in csv.DictReader(f)}


def test_a_ratio_is_the_mean_over_the_shared_episodes():
    classic, paper = per_seed(CLASSIC, "total_goodput_mb"), per_seed(PAPER, "total_goodput_mb")
    assert classic == _goodput(CLASSIC) and len(classic) == 30
    c = compare([classic], [paper])
    assert c["ratio"] == pytest.approx(np.mean(list(classic.values()))
                                       / np.mean([paper[s] for s in classic]))
    assert c["ci_low"] < c["ratio"] < c["ci_high"] and c["min"] == c["max"] == c["ratio"]
    # fewer episodes in one run: every run is compared on the episodes all of them share
    half = {s: v for s, v in classic.items() if s < min(classic) + 15}
    assert compare([half], [paper])["episodes"] == 15
    assert compare([half], [paper])["ratio"] == pytest.approx(
        np.mean(list(half.values())) / np.mean([paper[s] for s in half]))


def test_a_run_against_itself_is_one_and_pairs_follow_the_order():
    paper, classic = per_seed(PAPER, "total_goodput_mb"), per_seed(CLASSIC, "total_goodput_mb")
    same = compare([paper], [paper])
    assert (same["ratio"], same["ci_low"], same["ci_high"]) == (1.0, 1.0, 1.0)
    pairs = paired([classic, paper], [paper, classic])
    assert pairs[0]["ratio"] == pytest.approx(1 / pairs[1]["ratio"])


def test_the_cli_writes_nothing_with_no_write_and_refuses_bad_input(capsys, tmp_path):
    assert main(["--approach", "classic", str(CLASSIC), "--approach", "ospf", str(OSPF),
                 "--reference", str(PAPER), "--against", "ospf", "--no-write"]) == 0
    out = capsys.readouterr().out
    assert "| classic | 1 |" in out and "Seed by seed against `ospf`" in out
    assert main(["--approach", "x", str(tmp_path), "--reference", str(PAPER)]) == 2
    assert "is not an evaluation result directory" in capsys.readouterr().err
    # an approach with fewer runs is paired on the seeds it has
    assert main(["--approach", "a", str(CLASSIC), "--approach", "b", str(OSPF), str(CLASSIC),
                 "--reference", str(PAPER), "--against", "a", "--no-write"]) == 0
    pair = compare([per_seed(OSPF, "total_goodput_mb")], [per_seed(CLASSIC, "total_goodput_mb")])
    assert f"| b | {pair['ratio']:.3f} (CI" in capsys.readouterr().out
    assert main(["--approach", "a", str(CLASSIC), "--reference", str(PAPER),
                 "--against", "b"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not an approach" in err
