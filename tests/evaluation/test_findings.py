# SPDX-License-Identifier: GPL-2.0-only
"""The paper's findings checked against aggregated results: verdicts from the confidence
interval, only the claimed cells, packet-level only, trends from point estimates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packerl.app import findings
from packerl.app.report import Cell, TrialResult, aggregate


def _trial(policy: str, seed: int | None, cells: dict[Cell, dict[str, list[float]]]
           ) -> TrialResult:
    """A trial with the given per-episode values (episode seeds 9001...) per cell."""
    t = TrialResult(trial_id=f"{policy}{seed}", policy=policy, seed=seed)
    for cell, metrics in cells.items():
        n = len(next(iter(metrics.values())))
        values = {m: dict(zip(range(9001, 9001 + n), v)) for m, v in metrics.items()}
        for m in ("max_delay_ms", "avg_jitter_ms", "max_link_util", "action_fluctuation",
                  "inference_ms"):
            values.setdefault(m, {9001 + i: 1.0 for i in range(n)})
        t.values[cell] = values
        t.means[cell] = {m: float(np.mean(list(v.values()))) for m, v in values.items()}
        t.episodes[cell] = n
    return t


def _values(rng: np.random.Generator, goodput: float, delay: float, drops: float = 0.1,
            n: int = 30) -> dict[str, list[float]]:
    return {"total_goodput_mb": list(goodput + rng.normal(0, 0.5, n)),
            "avg_delay_ms": list(delay + rng.normal(0, 0.05, n)),
            "drop_ratio": list(drops + rng.normal(0, 0.005, n))}


@pytest.fixture
def rows():
    rng = np.random.default_rng(0)
    eigrp = {Cell("nx-XS", t): _values(rng, 50.0, 5.0)
             for t in ("udp_low", "tcp_low", "tcp_high", "tcp_very_high")}
    eigrp[Cell("nx-XS", "tcp_high", network_model="fluid")] = _values(rng, 50.0, 5.0)
    trials = [_trial("eigrp_paper", None, eigrp)]
    for seed in (0, 1):
        trials.append(_trial("fieldlines", seed, {
            Cell("nx-XS", "udp_low"): {**eigrp[Cell("nx-XS", "udp_low")]},  # a tie
            Cell("nx-XS", "tcp_low"): _values(rng, 45.0, 4.0),
            Cell("nx-XS", "tcp_high"): _values(rng, 60.0, 4.0, drops=0.05),
            Cell("nx-XS", "tcp_very_high"): _values(rng, 40.0, 6.0, drops=0.2),
            # contradicts everything, but the fluid model is not what the paper claims about
            Cell("nx-XS", "tcp_high", network_model="fluid"): _values(rng, 10.0, 9.0, 0.9),
        }))
    return aggregate(trials, "eigrp_paper")


def _verdicts(rows, key):
    return {v.traffic: v.verdict for v in findings.check(rows) if v.finding.key == key}


def test_verdicts_follow_the_confidence_interval_in_the_claimed_cells_only(rows):
    assert _verdicts(rows, "learned_goodput_intense") == {"tcp_high": "holds",
                                                          "tcp_very_high": "contradicted"}
    assert _verdicts(rows, "learned_drops_intense") == {"tcp_high": "holds",
                                                        "tcp_very_high": "contradicted"}
    # lower delay is better: 4 ms < 5 ms holds, 6 ms contradicts; the tie is undecided
    assert _verdicts(rows, "learned_lower_delay") == {
        "udp_low": "undecided", "tcp_low": "holds", "tcp_high": "holds",
        "tcp_very_high": "contradicted"}
    assert _verdicts(rows, "eigrp_goodput_low") == {"udp_low": "undecided", "tcp_low": "holds"}
    # no M-Slim, OSPF or random rows: their findings have no cells
    assert _verdicts(rows, "mslim_goodput_but_low") == {} == _verdicts(rows, "ospf_below_eigrp")


def test_the_trend_compares_point_estimates_of_the_ratio(rows):
    (trend,) = [t for t in findings.check_trends(rows) if t[0].key ==
                "gain_grows_with_intensity"]
    _, policy, a, b, x, y, better = trend
    assert (policy, a, b) == ("fieldlines", "tcp_low", "tcp_very_high")
    assert x == pytest.approx(0.9, abs=0.02) and y == pytest.approx(0.8, abs=0.02)
    assert not better  # 0.9 -> 0.8 of EIGRP's goodput is worse, not better


def test_markdown_counts_verdicts_and_states_the_budget(rows):
    md = findings.markdown(rows, "repro", "eigrp_paper")
    assert "| learned_goodput_intense | FieldLines | Goodput | 1/2 | 0/2 | 1/2 |" in md
    assert "2 training seed(s) (the paper: 16); 30 episodes per cell (the paper: 100)" in md
    assert "| FieldLines | tcp_low | tcp_very_high | 0.899 | 0.802 | no |" in md
    assert "| FieldLines | udp_low | tcp_low | 1 | 0.899 | no |" in md
    assert findings.markdown([r for r in rows if r["policy"] == "eigrp_paper"], "x",
                             "eigrp_paper") == ""


@given(st.floats(0.01, 10), st.floats(0.0, 10), st.booleans())
def test_a_verdict_is_the_side_of_one_the_interval_lies_on(low, width, above):
    high = low + width
    v = findings.verdict(low, high, above)
    if low <= 1.0 <= high:
        assert v == findings.UNDECIDED
    else:
        assert v == (findings.HOLDS if (low > 1.0) == above else findings.CONTRADICTED)
    assert findings.verdict(math.nan, high, above) == findings.UNDECIDED


def test_magnneto_findings_match_magnneto_run_directories(tmp_path):
    run = tmp_path / "magnneto-seed0"
    run.mkdir()
    (run / "config.json").write_text('{"policy": "magnneto"}')
    (run / "checkpoint.pt").write_bytes(b"")
    assert findings.policy_matches(str(run), "magnneto")
    assert not findings.policy_matches(str(tmp_path), "magnneto")
    assert findings.policy_matches("mslim", "mslim") and not findings.policy_matches("mslim",
                                                                                     "fieldlines")


@settings(deadline=None, max_examples=20)  # each example runs the full bootstrap
@given(st.integers(1, 29), st.integers(0, 2**32 - 1))
def test_a_partly_evaluated_trial_is_compared_on_the_episodes_it_finished(done, seed):
    rng = np.random.default_rng(seed)
    cell = Cell("nx-XS", "tcp_high")
    # the reference's first episodes are easy and its last ones hard: comparing a partial
    # trial with the reference's full mean would be biased
    ref = {"total_goodput_mb": list(np.linspace(80.0, 20.0, 30) + rng.normal(0, 0.5, 30)),
           "avg_delay_ms": list(5.0 + rng.normal(0, 0.05, 30)),
           "drop_ratio": list(0.1 + rng.normal(0, 0.005, 30))}
    part = {m: [1.1 * x for x in v[:done]] for m, v in ref.items()}
    rows = aggregate([_trial("eigrp_paper", None, {cell: ref}),
                      _trial("fieldlines", 0, {cell: part})], "eigrp_paper")
    (row,) = [r for r in rows if r["policy"] == "fieldlines" and r["metric"] == "total_goodput_mb"]
    assert row["episodes_per_seed"] == done
    # every paired episode is 1.1x the reference's: so is every bootstrap resample
    for bound in ("ratio_mean", "ratio_ci_low", "ratio_ci_high"):
        assert row[bound] == pytest.approx(1.1, rel=1e-12), bound
