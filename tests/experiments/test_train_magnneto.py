# SPDX-License-Identifier: GPL-2.0-only
"""experiments/train_magnneto.py: the learning-curve summaries read the curve they are given."""

from __future__ import annotations

from experiments.train_magnneto import progress_table, within_tm_sentence


def _row(topology: str, initial: float, final: float, entropy: float) -> dict:
    return {"topology": topology, "initial_mlu": initial, "final_mlu": final,
            "min_mlu": final, "return": initial - final, "entropy": entropy}


def test_the_progress_table_gives_each_part_its_mean_relative_reduction():
    # 10 episodes: the first half reduce MLU 2.0 -> 1.5 (25%), the second 1.0 -> 0.5 (50%)
    curve = ([_row("a", 2.0, 1.5, 4.0)] * 5) + ([_row("b", 1.0, 0.5, 3.0)] * 5)
    lines = progress_table(curve, parts=2).splitlines()
    assert lines[0].split("|")[1:-1] == [" episodes ", " mean MLU reduction ", " min ",
                                          " max ", " entropy a ", " entropy b "]
    assert [c.strip() for c in lines[2].split("|")[1:-1]] == [
        "0..4", "25.0%", "25.0%", "25.0%", "4.000", "-"]
    assert [c.strip() for c in lines[3].split("|")[1:-1]] == [
        "5..9", "50.0%", "50.0%", "50.0%", "-", "3.000"]


def test_within_a_matrix_the_last_episodes_are_compared_with_the_first():
    improving = [_row("a", 1.0, 1.0, 1.0)] * 10 + [_row("a", 1.0, 0.8, 1.0)] * 10
    worsening = [_row("a", 1.0, 0.8, 1.0)] * 10 + [_row("a", 1.0, 0.9, 1.0)] * 10
    sentence = within_tm_sentence(improving + worsening, episodes_per_tm=20)
    assert "in 1 of 2 matrices" in sentence
    assert "(mean difference +5.0 points)" in sentence  # (+20 - 10) / 2
    assert within_tm_sentence(improving, episodes_per_tm=1) == ""  # one episode per matrix
