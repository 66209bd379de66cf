# SPDX-License-Identifier: GPL-2.0-only
"""`make demo`'s job (experiments/demo.py) on a tiny setting: every baseline evaluated on the
same scenarios, the table relative to EIGRP printed, the heatmap written; a bad preset is a
one-line error with exit status 2."""

from __future__ import annotations

import re

from experiments import demo
from packerl.app.results import load_episodes
from policies.registry import names, policy_label


def test_demo_evaluates_every_baseline_prints_the_table_and_writes_the_heatmap(tmp_path,
                                                                               capsys):
    out = tmp_path / "demo"
    assert demo.main(["--episodes", "2", "--episode-steps", "3", "--workers", "2",
                      "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "mean over episodes relative to EIGRP" in text
    for p in names("baseline"):
        assert re.search(rf"^{re.escape(policy_label(p))}\s+2\s", text, re.M)  # its row
        run = out / f"{p}__nx-XS__mixed_high__seed9001"
        assert [r["seed"] for r in load_episodes(run)] == [9001, 9002]
    assert (out / "comparison.png").stat().st_size > 0


def test_demo_bad_preset_is_a_usage_error(tmp_path, capsys):
    assert demo.main(["--traffic", "tcp_huge", "--out", str(tmp_path)]) == 2
    assert "demo: error:" in capsys.readouterr().err
