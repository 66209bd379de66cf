# SPDX-License-Identifier: GPL-2.0-only
"""experiments/exploration_gap.py runs on a shipped run and reports both modes."""

from __future__ import annotations

from pathlib import Path

from experiments.exploration_gap import main, returns

RUN = Path(__file__).resolve().parents[2] / "experiments/runs/fieldlines__nx-XS__flex__seed0"


def test_exploration_gap_reports_both_modes(capsys):
    again = returns(RUN, "udp_low", 1, True)
    assert main([str(RUN), "--traffic", "udp_low", "--episodes", "1"]) == 0
    out = capsys.readouterr().out
    assert "deterministic" in out and "sampled / deterministic" in out
    assert again == returns(RUN, "udp_low", 1, True)  # deterministic mode repeats exactly
