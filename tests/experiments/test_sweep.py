# SPDX-License-Identifier: GPL-2.0-only
"""Sweeps end to end (Ray and plain processes), resume, sweep-file validation, and reports
whose numbers match the per-episode files."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
import yaml

from packerl.app.cli import main
from packerl.app.results import EPISODE_COLUMNS, load_episodes
from packerl.app.report import report
from packerl.app.sweep import SweepConfigError, load_sweep, parse_sweep, run_sweep

SMOKE = {
    "name": "smoke",
    "policies": ["eigrp", "random_nh"],
    "evaluation": {"topologies": ["nx-XS"], "traffics": ["udp_low"], "episodes": 1,
                   "episode_steps": 5, "seed": 11},
    "resources": {"cpus_per_trial": 1, "max_retries": 1},
}


def _write(tmp_path, data, name="sweep.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def ray_cleanup():
    ray = pytest.importorskip("ray")
    yield ray
    if ray.is_initialized():
        ray.shutdown()
    assert not ray.is_initialized()


def _summary(path):
    with path.open() as f:
        return {(r["policy"], r["traffic"], r["metric"]): r for r in csv.DictReader(f)}


def test_ray_smoke_sweep_resumes_and_reports_the_episode_means(tmp_path, capsys, ray_cleanup):
    sweep = _write(tmp_path, SMOKE)
    out = tmp_path / "results"
    args = ["sweep", str(sweep), "--out", str(out), "--backend", "ray", "--num-cpus", "2"]
    assert main(args) == 0
    assert not ray_cleanup.is_initialized()  # the embedded Ray instance ended with the sweep
    text = capsys.readouterr().out
    assert "2 finished, 0 skipped" in text
    root = out / "smoke"
    for trial in ("eigrp", "random_nh"):
        assert (root / "trials" / trial / "DONE").is_file()
    done_before = (root / "trials" / "eigrp" / "DONE").read_text()

    assert main(args) == 0  # resumable: the second run skips both trials
    text = capsys.readouterr().out
    assert "skip eigrp (DONE)" in text and "0 finished, 2 skipped" in text
    assert (root / "trials" / "eigrp" / "DONE").read_text() == done_before

    assert main(["report", str(root)]) == 0
    rep = root / "report"
    index = (rep / "index.md").read_text()
    for name in ("summary.csv", "tables.md", "heatmap_nx-XS.png"):
        assert (rep / name).is_file() and f"({name})" in index
    table = _summary(rep / "summary.csv")
    eigrp = load_episodes(root / "trials/eigrp/eval/eigrp__nx-XS__udp_low__seed11")
    rnd = load_episodes(root / "trials/random_nh/eval/random_nh__nx-XS__udp_low__seed11")
    for metric in ("total_goodput_mb", "avg_delay_ms", "drop_ratio", "inference_ms"):
        ref = np.mean([r[metric] for r in eigrp])
        value = np.mean([r[metric] for r in rnd])
        row = table[("random_nh", "udp_low", metric)]
        assert float(row["mean"]) == pytest.approx(value, rel=1e-12)
        assert float(row["reference_mean"]) == pytest.approx(ref, rel=1e-12)
        assert row["reference"] == "eigrp"
        if metric != "inference_ms":  # 0 / 0 (e.g. no drops in either) counts as 1
            expected = value / ref if ref else (1.0 if value == 0 else np.inf)
            assert float(row["ratio_mean"]) == pytest.approx(expected, rel=1e-12)
    assert "## nx-XS / udp_low: better half of seeds (paper protocol)" in \
        (rep / "tables.md").read_text()

    other = tmp_path / "other"  # the same results relative to another of the sweep's policies
    assert main(["report", str(root), "--reference", "random_nh", "--out", str(other)]) == 0
    row = _summary(other / "summary.csv")[("eigrp", "udp_low", "total_goodput_mb")]
    assert row["reference"] == "random_nh"
    assert float(row["ratio_mean"]) == pytest.approx(
        float(table[("random_nh", "udp_low", "total_goodput_mb")]["reference_mean"])
        / float(row["reference_mean"]), rel=1e-12)


def test_processes_backend_resumes_a_trial_and_refuses_a_changed_sweep(tmp_path):
    sweep = parse_sweep({**SMOKE, "policies": ["eigrp"],
                         "evaluation": {**SMOKE["evaluation"], "episodes": 2}})
    result = run_sweep(sweep, tmp_path, backend="processes", num_cpus=1, log=lambda _: None)
    assert result.finished == ["eigrp"] and result.backend == "processes"
    trial = tmp_path / "smoke" / "trials" / "eigrp"
    run = trial / "eval" / "eigrp__nx-XS__udp_low__seed11"
    first = load_episodes(run)
    # a crash after the first episode: the DONE marker and the second episode are missing
    (trial / "DONE").unlink()
    lines = (run / "episodes.csv").read_text().splitlines()
    (run / "episodes.csv").write_text("\n".join(lines[:2]) + "\n")
    result = run_sweep(sweep, tmp_path, backend="processes", num_cpus=1, log=lambda _: None)
    assert result.finished == ["eigrp"] and (trial / "DONE").is_file()
    again = load_episodes(run)
    assert [r["total_goodput_mb"] for r in again] == [r["total_goodput_mb"] for r in first]

    changed = parse_sweep({**SMOKE, "policies": ["eigrp"],
                           "evaluation": {**SMOKE["evaluation"], "episodes": 3}})
    with pytest.raises(SweepConfigError, match="different specification"):
        run_sweep(changed, tmp_path, backend="processes", num_cpus=1, log=lambda _: None)


@pytest.mark.parametrize("change, message", [
    ({"polices": ["eigrp"]}, "unknown key(s) ['polices']; valid: "),
    ({"policies": ["dijkstra"]}, "unknown policy 'dijkstra'; valid: "),
    ({"policies": [{"name": "eigrp", "train": {"topology": "nx-XS"}}]},
     "is not trained by a sweep"),
    ({"policies": [{"name": "mslim", "models_from": "a/b"}]}, "the `name` of another sweep"),
    ({"policies": ["fieldlines"], "training": {"iterationz": 3}},
     "did you mean `iterations`?"),
    ({"policies": ["fieldlines"], "training": {"n_envs": 3}}, "multiple of n_envs"),
    ({"seeds": [1, 1]}, "duplicate seeds"),
    ({"evaluation": {"traffics": ["tcp_huge"]}}, "unknown traffic preset 'tcp_huge'"),
    ({"evaluation": {"topologies": ["nx-S"], "episodes": {"nx-XS": 2}}},
     "no episode count for topologies ['nx-S']"),
    ({"evaluation": {"episodes": 0}}, "expected an integer >= 1, found 0"),
    ({"resources": {"cpus_per_trial": 0}}, "`resources.cpus_per_trial`"),
    ({"policies": ["guard:nope"]}, "the wrapped policy: unknown policy `nope`"),
    ({"policies": ["guard:random_nh,speed=3"]}, "unknown option `speed`"),
    ({"policies": ["guard:fieldlines"]}, "add `models_from: <sweep>`"),
    ({"policies": ["guard:eigrp,audit=/tmp/x"]}, "remove `audit=...`"),
    ({"policies": [{"name": "guard:fieldlines,fallback=mslim", "models_from": "fig3"}]},
     "the fallback must be a registered baseline"),
    ({"policies": ["eigrp", "guard:eigrp"], "reference": "guard:eigrp"},
     "expected a baseline listed under `policies`"),
    ({"name": "a/b"}, "directory-safe name"),
])
def test_bad_sweep_files_are_refused(change, message):
    with pytest.raises(SweepConfigError, match=re.escape(message)):
        parse_sweep({**SMOKE, **change})


def test_models_from_a_sweep_that_did_not_train_them_is_refused(tmp_path):
    sweep = parse_sweep({**SMOKE, "policies": [{"name": "mslim", "models_from": "fig3"}]})
    with pytest.raises(ValueError, match=re.escape("takes its model from sweep `fig3`")):
        run_sweep(sweep, tmp_path, backend="processes", log=lambda _: None)
    assert not (tmp_path / "smoke" / "trials").exists()


def test_a_guard_of_a_learned_policy_guards_the_other_sweeps_model_of_each_seed(tmp_path):
    sweep = parse_sweep({**SMOKE, "seeds": [0, 1], "policies": [
        {"name": "guard:fieldlines,mode=shadow", "models_from": "fig3"}]})
    assert [t.trial_id for t in sweep.trials()] == [
        "guard-fieldlines-mode-shadow__nx-XS__flex__seed0",
        "guard-fieldlines-mode-shadow__nx-XS__flex__seed1"]
    with pytest.raises(ValueError, match=re.escape(
            "fig3/trials/fieldlines__nx-XS__flex__seed0` holds no trained model")):
        run_sweep(sweep, tmp_path, backend="processes", log=lambda _: None)


def test_guard_specs_in_a_sweep_are_evaluated_audited_and_reported(tmp_path):
    guarded, shadow = "guard:random_nh,max_change=0.2", "guard:random_nh,mode=shadow"
    sweep = parse_sweep({**SMOKE, "policies": ["eigrp", "random_nh", guarded, shadow],
                         "evaluation": {**SMOKE["evaluation"], "episodes": 2}})
    ids = [t.trial_id for t in sweep.trials()]
    assert ids == ["eigrp", "random_nh", "guard-random_nh-max_change-0.2",
                   "guard-random_nh-mode-shadow"]
    result = run_sweep(sweep, tmp_path, backend="processes", num_cpus=2, log=lambda _: None)
    assert sorted(result.finished) == sorted(ids)
    trials = tmp_path / "smoke" / "trials"
    audit = trials / ids[3] / "audit" / "nx-XS__udp_low__none"
    assert sorted(p.name for p in audit.glob("*.jsonl")) == ["seed11.jsonl", "seed12.jsonl"]

    def goodput(tid):
        (run,) = (trials / tid / "eval").iterdir()
        return [r["total_goodput_mb"] for r in load_episodes(run)]

    assert goodput(ids[3]) == goodput("eigrp")  # shadow mode installs the fallback's tables
    assert goodput(ids[2]) != goodput("random_nh")

    index = report(tmp_path / "smoke")
    guards = (index.parent / "guards.md").read_text()
    assert "| Guard(Random (NH)) | guard | 10 |" in guards
    assert "| Shadow(Random (NH)) | shadow | 10 | 0.0% |" in guards
    assert "| Guard(Random (NH)) |" in (index.parent / "tables.md").read_text()
    assert (index.parent / f"timeline_{ids[2]}.png").stat().st_size > 0
    assert "guards.md" in index.read_text()


def test_a_magnneto_run_directory_is_a_sweep_policy(tmp_path):
    from policies.magnneto import train as train_magnneto

    run = tmp_path / "magnneto-runs" / "seed3"
    train_magnneto(run, episodes=1, topologies=("nx-XS",), traffic="udp_low", seed=3,
                   horizon=3)
    sweep = parse_sweep({**SMOKE, "policies": ["eigrp", str(run)],
                         "evaluation": {**SMOKE["evaluation"], "episode_steps": 3}})
    assert [t.trial_id for t in sweep.trials()] == ["eigrp", "magnneto-seed3"]
    result = run_sweep(sweep, tmp_path / "out", backend="processes", num_cpus=1,
                       log=lambda _: None)
    assert sorted(result.finished) == ["eigrp", "magnneto-seed3"]
    (cell,) = (tmp_path / "out" / "smoke" / "trials" / "magnneto-seed3" / "eval").iterdir()
    assert [r["steps"] for r in load_episodes(cell)] == [3]
    with pytest.raises(SweepConfigError, match="or a trained run directory"):
        parse_sweep({**SMOKE, "policies": [str(tmp_path / "no-such-run")]})
    import shutil

    shutil.copytree(run, tmp_path / "elsewhere" / "seed3")
    with pytest.raises(SweepConfigError, match=r"share the trial id\(s\) \['magnneto-seed3'\]"):
        parse_sweep({**SMOKE, "policies": [str(run), str(tmp_path / "elsewhere" / "seed3")]})


def test_a_sweep_evaluates_both_network_models_and_reports_them_apart(tmp_path):
    sweep = parse_sweep({**SMOKE, "evaluation": {**SMOKE["evaluation"], "episode_steps": 3,
                                                 "network_models": ["packet", "fluid"]}})
    (trial, _) = sweep.trials()
    assert [c.name for c in trial.cells] == ["nx-XS__udp_low__none",
                                             "nx-XS__udp_low__none__fluid"]
    assert trial.to_json()["cells"][0] == {  # packet cells as before: old trials resume
        "topology": "nx-XS", "traffic": "udp_low", "link_failures": None, "episodes": 1}
    run_sweep(sweep, tmp_path, backend="processes", num_cpus=2, log=lambda _: None)
    runs = sorted(p.name for p in (tmp_path / "smoke" / "trials" / "eigrp" / "eval").iterdir())
    assert runs == ["eigrp__nx-XS__udp_low__seed11", "eigrp__nx-XS__udp_low__seed11__fluid"]
    index = report(tmp_path / "smoke")
    tables = (index.parent / "tables.md").read_text()
    assert "## nx-XS / udp_low / fluid model: all seeds" in tables
    assert "## nx-XS / udp_low: all seeds" in tables
    assert (index.parent / "heatmap_nx-XS_fluid.png").is_file()
    with (index.parent / "summary.csv").open() as f:
        models = {(r["network_model"], r["topology"]) for r in csv.DictReader(f)}
    assert models == {("packet", "nx-XS"), ("fluid", "nx-XS")}
    with pytest.raises(SweepConfigError, match="unknown network model 'ns2'"):
        parse_sweep({**SMOKE, "evaluation": {**SMOKE["evaluation"],
                                             "network_models": ["ns2"]}})


def test_cli_usage_errors_and_dry_run(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "missing.yaml")]) == 2
    bad = _write(tmp_path, {**SMOKE, "policies": ["dijkstra"]}, "bad.yaml")
    assert main(["sweep", str(bad)]) == 2
    assert "unknown policy 'dijkstra'" in capsys.readouterr().err
    assert main(["report", str(tmp_path)]) == 2
    assert "holds no sweep trials" in capsys.readouterr().err
    good = _write(tmp_path, {**SMOKE, "policies": ["eigrp", "fieldlines"], "seeds": [0, 1],
                             "training": {"iterations": 3}})
    assert main(["sweep", str(good), "--dry-run", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "fieldlines__nx-XS__flex__seed1: train 3 iterations on nx-XS/flex" in out
    assert "3 trial(s)" in out and not (tmp_path / "smoke").exists()
    only = "fieldlines__nx-XS__flex__seed1"
    assert main(["sweep", str(good), "--dry-run", "--out", str(tmp_path), "--only", only]) == 0
    out = capsys.readouterr().out
    assert only in out and "seed0" not in out and "eigrp" not in out and "1 trial(s)" in out
    assert main(["sweep", str(good), "--dry-run", "--only", "fieldlines__seed9"]) == 2
    assert "unknown trial id(s) ['fieldlines__seed9']" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["fig3", "fig3_smoke", "fig4", "fig4_smoke", "fig5",
                                  "fig5_smoke", "fig6", "fig6_smoke", "magnneto", "repro"])
def test_shipped_sweep_files_are_valid(name):
    from pathlib import Path

    sweep = load_sweep(Path(__file__).parents[2] / "experiments" / "sweeps" / f"{name}.yaml")
    assert sweep.name == name
    policies = {t.policy for t in sweep.trials()}
    assert {"eigrp", "fieldlines", "mslim"} <= policies
    if name.startswith("fig3"):
        assert {"ospf", "random_nh", "random_lw"} <= policies


#: what each ablation changes from repro_train.yaml's trial of the same policy and seed
ABLATIONS = {
    "fieldlines_lr_2e-4": {"iterations": 20, "learning_rate": 2e-4},
    "fieldlines_warm_start_0": {"iterations": 20, "warm_start_iterations": 0},
    "fieldlines_temperature_1": {"iterations": 20, "policy_kwargs": {"init_temperature": 1}},
    "fieldlines_temperature_05": {"iterations": 20,
                                  "policy_kwargs": {"init_temperature": 0.5}},
    "fieldlines_literal_mpn": {"iterations": 20,
                               "policy_kwargs": {"mpn_reads_receiver": False}},
    "fieldlines_no_normalization": {"iterations": 20, "normalize": False},
    "mslim_lr_1e-3": {"iterations": 50, "learning_rate": 1e-3},
    "mslim_sigma_0.1": {"iterations": 30, "policy_kwargs": {"log_std_init": -2.302585}},
    "mslim_traffic_tcp_high": {"iterations": 30, "traffic": "tcp_high"},
    "mslim_traffic_tcp_flex": {"iterations": 30, "traffic": "tcp_flex"},
    "mslim_iterations_30": {"iterations": 30},
    "mslim_noise_hold_100": {"iterations": 30, "noise_hold": 100},
    "mslim_batch_48": {"iterations": 10, "episodes_per_iteration": 48, "batch_size": 4800},
    "untrained": {"iterations": 0},
    "untrained_very_high": {"iterations": 0},
}


@pytest.mark.parametrize("name", sorted(ABLATIONS))
def test_an_ablation_changes_only_what_it_says(name):
    from pathlib import Path

    sweeps = Path(__file__).parents[2] / "experiments" / "sweeps"
    trials = [t for t in load_sweep(sweeps / "ablations" / f"{name}.yaml").trials() if t.train]
    base = {(t.policy, t.seed): t for t in load_sweep(sweeps / "repro_train.yaml").trials()}
    assert trials
    for trial in trials:
        assert trial.train == {**base[trial.policy, trial.seed].train, **ABLATIONS[name]}
    assert set(ABLATIONS) == {p.stem for p in (sweeps / "ablations").glob("*.yaml")}


def test_the_sigma_reproduction_continues_its_ablation_and_changes_only_sigma():
    # repro_train_sigma's runs were started from the sigma ablation's checkpoints: that is a
    # resume only while the two differ in nothing but the number of iterations
    from pathlib import Path

    sweeps = Path(__file__).parents[2] / "experiments" / "sweeps"
    full = {t.trial_id: t for t in load_sweep(sweeps / "repro_train_sigma.yaml").trials()}
    base = {t.trial_id: t for t in load_sweep(sweeps / "repro_train.yaml").trials()}
    ablation = load_sweep(sweeps / "ablations" / "mslim_sigma_0.1.yaml").trials()
    assert set(full) == {t.trial_id for t in ablation} == {i for i in base if "mslim" in i}
    for trial in ablation:
        assert full[trial.trial_id].train == {**trial.train, "iterations": 100}
        assert full[trial.trial_id].train == {
            **base[trial.trial_id].train, "policy_kwargs": {"log_std_init": -2.302585}}


def test_the_sigma_grid_is_the_reproduction_grid_for_the_sigma_models():
    from pathlib import Path

    sweeps = Path(__file__).parents[2] / "experiments" / "sweeps"
    grid, repro = load_sweep(sweeps / "repro_sigma.yaml"), load_sweep(sweeps / "repro.yaml")
    trained = {t.trial_id: t for t in load_sweep(sweeps / "repro_train_sigma.yaml").trials()}
    assert grid.evaluation == repro.evaluation and grid.reference == repro.reference
    learned = [t for t in grid.trials() if t.policy == "mslim"]
    assert {t.trial_id for t in learned} == set(trained)
    for trial in learned:
        assert trial.models_from == "repro_train_sigma"
        assert trial.train == trained[trial.trial_id].train
    assert {t.policy for t in grid.trials()} == {"eigrp_paper", "eigrp", "mslim"}


def _fake_trial(root, trial_id, policy, seed, goodput, delay):
    """A trial directory in the layout `packerl sweep` writes, with given episode values."""
    tdir = root / "trials" / trial_id
    run = tdir / "eval" / f"{trial_id}__nx-XS__tcp_high__seed9001"
    run.mkdir(parents=True)
    (tdir / "trial.json").write_text(json.dumps({"trial_id": trial_id, "policy": policy,
                                                 "seed": seed}))
    (run / "config.json").write_text(json.dumps({"policy": policy, "topology": "nx-XS",
                                                 "traffic": "tcp_high", "link_failures": None}))
    with (run / "episodes.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=EPISODE_COLUMNS)
        writer.writeheader()
        for i, (g, d) in enumerate(zip(goodput, delay)):
            row = {c: 0.5 for c in EPISODE_COLUMNS}
            row.update(episode=i, seed=9001 + i, num_nodes=8, num_edges=20, steps=100,
                       total_goodput_mb=g, avg_delay_ms=d)
            writer.writerow(row)


def test_a_report_without_the_reference_shows_absolute_values(tmp_path):
    for seed, g in enumerate([10.0, 30.0]):
        _fake_trial(tmp_path, f"fieldlines__nx-XS__flex__seed{seed}", "fieldlines", seed,
                    [g, g], [5.0, 5.0])
    report(tmp_path)
    tables = (tmp_path / "report" / "tables.md").read_text()
    assert tables.startswith("# ") and "(absolute: no EIGRP trial to relate them to)" in tables
    assert "| FieldLines | 2 | 2 | 20 [10, 30] | 5 [5, 5] |" in tables  # mean [min, max]
    assert not (tmp_path / "report" / "findings.md").exists()  # nothing to check against


def test_report_takes_the_better_half_of_seeds_relative_to_eigrp(tmp_path):
    _fake_trial(tmp_path, "eigrp", "eigrp", None, [10.0, 30.0], [4.0, 6.0])
    for seed, g in enumerate([10.0, 30.0, 20.0, 40.0]):  # per-seed mean goodput
        _fake_trial(tmp_path, f"fieldlines__nx-XS__flex__seed{seed}", "fieldlines", seed,
                    [g, g], [5.0, 5.0 + seed])
    report(tmp_path)
    table = _summary(tmp_path / "report" / "summary.csv")
    row = table[("fieldlines", "tcp_high", "total_goodput_mb")]
    assert int(row["seeds"]) == 4 and int(row["better_half_seeds"]) == 2
    assert float(row["mean"]) == pytest.approx(25.0)
    assert (float(row["min"]), float(row["max"])) == (10.0, 40.0)
    assert float(row["better_half_mean"]) == pytest.approx(35.0)  # seeds 3 and 1
    assert float(row["ratio_better_half_mean"]) == pytest.approx(35.0 / 20.0)
    assert float(row["ratio_min"]) == pytest.approx(0.5)
    delay = table[("fieldlines", "tcp_high", "avg_delay_ms")]  # the same seeds, any metric
    assert float(delay["better_half_mean"]) == pytest.approx(np.mean([5.5, 6.5]))
    assert float(delay["ratio_better_half_mean"]) == pytest.approx(6.0 / 5.0)
    md = (tmp_path / "report" / "tables.md").read_text()
    assert "| FieldLines | 2 | 2 | 1.75 [1.5, 2] |" in md
    assert "| FieldLines | 4 | 2 | 1.25 (CI 0.833-2.5) [0.5, 2] |" in md  # 2 episodes
    checked = (tmp_path / "report" / "findings.md").read_text()
    assert "| learned_goodput_intense | FieldLines | Goodput | 0/1 | 1/1 | 0/1 |" in checked


@pytest.mark.slow
def test_a_sweep_trains_evaluates_and_reports_learning_curves(tmp_path, ray_cleanup):
    data = {**SMOKE, "policies": ["eigrp", {"name": "fieldlines",
                                            "train": {"topology": "nx-XS", "traffic": "udp_low"}}],
            "seeds": [3],
            "training": {"iterations": 1, "episodes_per_iteration": 2, "episode_steps": 4,
                         "n_envs": 2, "batch_size": 4, "n_epochs": 1, "eval_every": 1,
                         "eval_episodes": 1, "warm_start_iterations": 0},
            "evaluation": {**SMOKE["evaluation"], "episode_steps": 4}}
    sweep = _write(tmp_path, data)
    args = ["sweep", str(sweep), "--out", str(tmp_path), "--backend", "ray", "--num-cpus", "2"]
    assert main(args) == 0
    trial = tmp_path / "smoke" / "trials" / "fieldlines__nx-XS__udp_low__seed3"
    assert (trial / "DONE").is_file()
    assert (trial / "train" / "fieldlines__nx-XS__udp_low__seed3" / "model.zip").is_file()
    assert len(list((trial / "eval").glob("learned-*/episodes.csv"))) == 1
    assert main(["report", str(tmp_path / "smoke")]) == 0
    assert (tmp_path / "smoke" / "report" / "learning_curves.png").is_file()
    table = _summary(tmp_path / "smoke" / "report" / "summary.csv")
    assert int(table[("fieldlines", "udp_low", "total_goodput_mb")]["seeds"]) == 1

    # another sweep evaluates the same models on another traffic without training them again
    reuse = {**data, "name": "reuse", "policies": [
        "eigrp", {"name": "fieldlines", "train": {"topology": "nx-XS", "traffic": "udp_low"},
                  "models_from": "smoke"}],
        "evaluation": {**data["evaluation"], "traffics": ["tcp_low"]}}
    result = run_sweep(parse_sweep(reuse), tmp_path, backend="processes", num_cpus=2,
                       log=lambda _: None)
    assert not result.failed
    reused = tmp_path / "reuse" / "trials" / "fieldlines__nx-XS__udp_low__seed3"
    assert not (reused / "train").exists()
    config = json.loads(next((reused / "eval").glob("learned-*/config.json")).read_text())
    assert config["policy"] == str((trial / "train" / "fieldlines__nx-XS__udp_low__seed3")
                                   .resolve())


def test_a_failing_trial_is_retried_recorded_and_does_not_stop_the_others(tmp_path, capsys):
    sweep = _write(tmp_path, {**SMOKE, "policies": ["eigrp", "ospf"]})
    # a result file this evaluation cannot continue: every attempt of `ospf` fails
    bad = tmp_path / "smoke" / "trials" / "ospf" / "eval" / "ospf__nx-XS__udp_low__seed11"
    bad.mkdir(parents=True)
    (bad / "episodes.csv").write_text("not,the,columns\n")
    args = ["sweep", str(sweep), "--out", str(tmp_path), "--backend", "processes",
            "--num-cpus", "2"]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "1 finished, 0 skipped (already done), 1 failed" in captured.out
    assert "failed: ospf: packerl.app.results.ResultsFormatError: " in captured.err
    trial = tmp_path / "smoke" / "trials" / "ospf"
    assert "unknown ['not', 'the', 'columns']" in (trial / "FAILED").read_text()
    assert not (trial / "DONE").exists()
    assert (tmp_path / "smoke" / "trials" / "eigrp" / "DONE").is_file()

    (bad / "episodes.csv").unlink()  # fixed: the re-run runs only the failed trial
    assert main(args) == 0
    assert "1 finished, 1 skipped" in capsys.readouterr().out
    assert (trial / "DONE").is_file() and not (trial / "FAILED").exists()


def test_bootstrap_ci_with_a_zero_reference_is_inf_not_nan():
    import warnings

    from packerl.app.report import bootstrap_ratio_ci

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no `inf - inf` interpolation
        low, high = bootstrap_ratio_ci([{1: 1.0, 2: 0.5, 3: 0.0}], [{1: 0.0, 2: 1.0, 3: 0.0}])
    assert 0 < low < high == float("inf")


def test_bootstrap_ci_is_paired_over_the_shared_episode_seeds():
    from packerl.app.report import bootstrap_ratio_ci

    rng = np.random.default_rng(1)
    ref = {s: float(v) for s, v in zip(range(30), rng.uniform(1, 10, 30))}
    double = [{s: 2 * v for s, v in ref.items()}]
    assert bootstrap_ratio_ci(double, [ref]) == pytest.approx((2.0, 2.0))  # paired: no spread
    noisy = [{s: v * rng.uniform(0.8, 1.4) for s, v in ref.items()} for _ in range(3)]
    low, high = bootstrap_ratio_ci(noisy, [ref])
    point = np.mean([list(n.values()) for n in noisy]) / np.mean(list(ref.values()))
    assert low < point < high and high - low < 0.3
    assert np.isnan(bootstrap_ratio_ci([{99: 1.0}], [ref])[0])  # no shared episode


def test_the_sweep_file_names_the_report_reference(tmp_path):
    _fake_trial(tmp_path, "eigrp_paper", "eigrp_paper", None, [10.0, 30.0], [4.0, 6.0])
    _fake_trial(tmp_path, "eigrp", "eigrp", None, [20.0, 20.0], [4.0, 6.0])
    (tmp_path / "sweep.yaml").write_text("reference: eigrp_paper\n")
    report(tmp_path)
    row = _summary(tmp_path / "report" / "summary.csv")[("eigrp", "tcp_high",
                                                          "total_goodput_mb")]
    assert row["reference"] == "eigrp_paper" and float(row["ratio_mean"]) == 1.0
    assert "relative to EIGRP (paper)" in (tmp_path / "report" / "tables.md").read_text()
    with pytest.raises(SweepConfigError, match="`reference`"):
        parse_sweep({**SMOKE, "reference": "ospf"})  # not among the sweep's policies
