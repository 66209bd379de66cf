# SPDX-License-Identifier: GPL-2.0-only
"""evaluate(): result files, resuming, worker-count independence, and the paper's sanity
ordering (EIGRP far ahead of Random (NH) under high traffic)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from packerl.app.compare import compare
from packerl.app.evaluate import evaluate
from packerl.app.results import EPISODE_COLUMNS, STEP_COLUMNS, TIMING_COLUMNS, load_episodes

TINY = dict(topology="nx-XS", traffic="udp_high", episode_steps=10, progress=False)


def _rows(run_dir):
    with (run_dir / "episodes.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _without_timing(rows):
    return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in rows]


def test_tiny_run_writes_csv_and_summary(tmp_path):
    run = evaluate("random_nh", episodes=2, seed=11, out_dir=tmp_path, workers=2,
                   per_step=True, **TINY)
    assert run == tmp_path / "random_nh__nx-XS__udp_high__seed11"
    rows = _rows(run)
    assert [int(r["episode"]) for r in rows] == [0, 1]
    assert [int(r["seed"]) for r in rows] == [11, 12]
    assert tuple(rows[0]) == EPISODE_COLUMNS
    for r in rows:
        assert int(r["steps"]) == 10
        assert 6 <= int(r["num_nodes"]) <= 10
        assert float(r["total_goodput_mb"]) == pytest.approx(10 * float(r["goodput_mb"]))
        assert float(r["inference_ms"]) > 0
        assert 0 < float(r["action_fluctuation"]) <= 1
    with (run / "steps.csv").open(newline="") as f:
        steps = list(csv.DictReader(f))
    assert tuple(steps[0]) == STEP_COLUMNS
    assert [(int(s["episode"]), int(s["step"])) for s in steps] == [
        (e, t) for e in range(2) for t in range(10)]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["config"]["policy"] == "random_nh" and summary["episodes"] == 2
    mean = sum(float(r["drop_ratio"]) for r in rows) / 2
    assert summary["metrics"]["drop_ratio"]["mean"] == pytest.approx(mean)
    assert set(summary["metrics"]) >= {"goodput_mb", "avg_delay_ms", "inference_ms"}


def test_rerun_skips_finished_episodes_and_drops_partial_rows(tmp_path):
    run = evaluate("eigrp", episodes=2, seed=3, out_dir=tmp_path, workers=1, **TINY)
    rows = _rows(run)
    # mark episode 0 so we can tell whether it is run again, and leave a row cut by a crash
    rows[0]["wall_s"] = "12345.0"
    with (run / "episodes.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=EPISODE_COLUMNS)
        w.writeheader()
        w.writerows(rows)
        f.write("2,5,7,11,10,0.1")
    run2 = evaluate("eigrp", episodes=3, seed=3, out_dir=tmp_path, workers=2, **TINY)
    assert run2 == run
    new = _rows(run)
    assert [int(r["episode"]) for r in new] == [0, 1, 2]
    assert new[0]["wall_s"] == "12345.0"  # not re-run
    assert int(new[2]["seed"]) == 5 and int(new[2]["steps"]) == 10
    assert json.loads((run / "summary.json").read_text())["episodes"] == 3
    # fewer episodes than stored: nothing runs, the summary covers the requested ones
    evaluate("eigrp", episodes=1, seed=3, out_dir=tmp_path, workers=2, **TINY)
    assert json.loads((run / "summary.json").read_text())["episode_indices"] == [0]
    assert len(_rows(run)) == 3


def test_results_do_not_depend_on_worker_count(tmp_path):
    one = evaluate("random_lw", episodes=3, seed=21, out_dir=tmp_path / "one", workers=1,
                   **TINY)
    two = evaluate("random_lw", episodes=3, seed=21, out_dir=tmp_path / "two", workers=2,
                   **TINY)
    assert _without_timing(_rows(one)) == _without_timing(_rows(two))
    other = evaluate("random_lw", episodes=3, seed=22, out_dir=tmp_path / "two", workers=2,
                     **TINY)
    assert _without_timing(_rows(other))[0] != _without_timing(_rows(one))[0]


def test_rerun_with_other_configuration_is_refused(tmp_path):
    evaluate("ospf", episodes=1, seed=1, out_dir=tmp_path, workers=1, **TINY)
    with pytest.raises(ValueError, match=re.escape("holds results of a different configuration")):
        evaluate("ospf", episodes=1, seed=1, out_dir=tmp_path, workers=1,
                 **{**TINY, "episode_steps": 5})


def test_a_moved_results_tree_resumes_its_trained_policys_evaluation(tmp_path):
    import shutil

    shipped = (Path(__file__).parents[2] / "experiments" / "results" / "sweeps" / "repro_train"
               / "trials" / "mslim__nsfnet+geant2__flex__seed0" / "train"
               / "mslim__nsfnet+geant2__flex__seed0")
    old = tmp_path / "old"
    shutil.copytree(shipped, old / "train" / shipped.name)
    kw = dict(episodes=1, seed=1, workers=1, **TINY)
    evaluate(str(old / "train" / shipped.name), out_dir=old / "eval", **kw)
    (run,) = (old / "eval").iterdir()
    assert json.loads((run / "config.json").read_text())["policy_relative"] == \
        f"../../train/{shipped.name}"
    new = tmp_path / "clone"  # the whole tree elsewhere: the same run, resumed
    shutil.move(old, new)
    evaluate(str(new / "train" / shipped.name), out_dir=new / "eval",
             **{**kw, "episodes": 2})
    assert len(_rows(next((new / "eval").iterdir()))) == 2
    other = tmp_path / "other" / shipped.name  # another model (not at the same place)
    shutil.copytree(shipped, other)
    with pytest.raises(ValueError, match="holds results of a different configuration"):
        evaluate(str(other), out_dir=new / "eval", **kw)


@pytest.mark.parametrize("kwargs, message", [
    (dict(policy_name="dijkstra"), "unknown policy `dijkstra`"),
    (dict(topology="nx-XXS"), "unknown topology preset"),
    (dict(traffic="udp_extreme"), "udp_extreme"),
    (dict(link_failures="often"), "often"),
    (dict(episodes=0), "`episodes` must be >= 1"),
    (dict(seed=-1), "`seed` must be >= 0"),
    (dict(workers=0), "`workers` must be an integer >= 1"),
    (dict(episode_steps=0), "episode_steps must lie in [1, 1000000], got 0"),
])
def test_bad_arguments_raise_before_writing(tmp_path, kwargs, message):
    args = dict(policy_name="eigrp", topology="nx-XS", traffic="udp_high", episodes=1, seed=1,
                out_dir=tmp_path / "out", episode_steps=5, workers=1, progress=False)
    args.update(kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        evaluate(**args)
    assert not (tmp_path / "out").exists()


def _sanity(tmp_path, traffic, episodes, steps):
    runs = [evaluate(p, "nx-XS", traffic, episodes=episodes, seed=100, out_dir=tmp_path,
                     episode_steps=steps, workers=2, progress=False)
            for p in ("eigrp", "random_nh")]
    (comp,) = compare(runs, reference="eigrp")
    eigrp, rnd = comp.means["eigrp"], comp.means["random_nh"]
    per_episode = zip(load_episodes(runs[0]), load_episodes(runs[1]))
    return eigrp, rnd, comp, list(per_episode)


def test_eigrp_beats_random_next_hop_under_high_udp_traffic(tmp_path):
    eigrp, rnd, comp, pairs = _sanity(tmp_path, "udp_high", episodes=3, steps=40)
    assert comp.ratios["random_nh"]["total_goodput_mb"] < 0.85
    assert rnd["drop_ratio"] > 0.02 and eigrp["drop_ratio"] < rnd["drop_ratio"] / 3
    assert rnd["avg_delay_ms"] > 1.5 * eigrp["avg_delay_ms"]
    for e, r in pairs:  # same scenarios (same seeds), every one of them
        assert e["seed"] == r["seed"]
        assert e["total_goodput_mb"] > r["total_goodput_mb"]


@pytest.mark.slow
@pytest.mark.parametrize("traffic", ["tcp_high", "mixed_high"])
def test_eigrp_beats_random_next_hop_full_episodes(tmp_path, traffic):
    eigrp, rnd, comp, pairs = _sanity(tmp_path, traffic, episodes=2, steps=100)
    assert comp.ratios["random_nh"]["total_goodput_mb"] < 0.8
    assert eigrp["drop_ratio"] < rnd["drop_ratio"] / 2
    for e, r in pairs:
        assert e["total_goodput_mb"] > r["total_goodput_mb"]


def test_episodes_run_on_one_torch_thread_and_restore_the_callers(tmp_path, monkeypatch):
    import torch

    import packerl.app.evaluate as evaluation

    seen = []
    real = evaluation.make_policy

    def recording(name, env, seed=None, **kwargs):
        policy = real(name, env, seed=seed, **kwargs)
        act = policy.act

        def counted(obs):
            seen.append(torch.get_num_threads())
            return act(obs)

        policy.act = counted
        return policy

    monkeypatch.setattr(evaluation, "make_policy", recording)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        evaluate("random_nh", episodes=1, seed=5, out_dir=tmp_path, workers=1, **TINY)
        assert seen and set(seen) == {evaluation.EPISODE_TORCH_THREADS}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)
