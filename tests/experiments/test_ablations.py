# SPDX-License-Identifier: GPL-2.0-only
"""experiments/ablations.py on committed training runs: what it reports is what the runs hold."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from experiments.ablations import main

SWEEPS = Path(__file__).parents[2] / "experiments" / "results" / "sweeps"
PAPER = SWEEPS / "repro_train/trials/mslim__nsfnet+geant2__flex__seed0/train/" \
    "mslim__nsfnet+geant2__flex__seed0"
SIGMA = SWEEPS / "ablations/mslim_sigma_0.1/trials/mslim__nsfnet+geant2__flex__seed0/train/" \
    "mslim__nsfnet+geant2__flex__seed0"


def test_the_summary_reports_each_runs_settings_and_its_own_evaluations(tmp_path):
    out = tmp_path / "cmp"
    assert main([str(PAPER), str(SIGMA), "--labels", "paper", "sigma", "--out", str(out)]) == 0
    md = out.with_suffix(".md").read_text()
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in md.splitlines()
            if line.startswith(("| paper |", "| sigma |"))}
    # run | policy_kwargs | learning rate | warm start | noise held | iterations | wall h | ...
    assert rows["paper"][4:6] == ["1", "100"] and rows["sigma"][4:6] == ["1", "30"]
    assert "sigma 0.100" in rows["sigma"][-1]
    with (SIGMA / "eval.csv").open() as f:
        last = list(csv.DictReader(f))[-1]
    table = md.split("Deterministic evaluation return")[1].split("\n\n")[1]
    row30 = next(r for r in table.splitlines() if r.startswith(f"| {last['iteration']} |"))
    assert row30.split(" | ")[2].rstrip(" |") == f"{float(last['return']):.2f}"
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved["labels"] == ["paper", "sigma"] and out.with_suffix(".png").is_file()
