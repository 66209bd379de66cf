# SPDX-License-Identifier: GPL-2.0-only
"""The shipped, finished training runs reproduce their committed evaluation numbers: the same
run directory, scenario seed and settings give the same episode, metric for metric."""

from __future__ import annotations

import math
import os
from dataclasses import fields
from pathlib import Path

import pytest

from packerl.app.evaluate import EvalConfig, run_episode
from packerl.app.results import EPISODE_METRICS, load_config, load_episodes

ROOT = Path(__file__).resolve().parents[2]
SWEEPS = ROOT / "experiments" / "results" / "sweeps"
#: the training sweeps whose models are shipped: the paper's settings and the sigma deviation
TRAINED = ("repro_train", "repro_train_sigma")
#: finished trials (``DONE``), as sweep/trial, whose first committed evaluation episode is replayed
SHIPPED = sorted(f"{sweep}/{t.name}" for sweep in TRAINED
                 for t in (SWEEPS / sweep / "trials").glob("*") if (t / "DONE").is_file())
#: timing columns: measured, not reproduced
TIMING = {"inference_ms", "wall_s"}


def test_there_are_shipped_runs():
    assert {"repro_train/fieldlines__nx-XS__flex__seed0",
            "repro_train/mslim__nsfnet+geant2__flex__seed0",
            "repro_train_sigma/mslim__nsfnet+geant2__flex__seed0"} <= set(SHIPPED)


@pytest.mark.parametrize("trial", SHIPPED)
def test_a_shipped_run_reproduces_its_committed_evaluation_episode(trial):
    sweep, trial_id = trial.split("/")
    (evaluation,) = sorted((SWEEPS / sweep / "trials" / trial_id / "eval").glob("*/episodes.csv"))
    config = load_config(evaluation.parent)
    committed = load_episodes(evaluation.parent)[0]
    # the run directory as a fresh clone has it (the config records where it was trained)
    run = evaluation.parents[2] / "train" / Path(config["policy"]).name
    assert (run / "policy.json").is_file(), f"{run} is not a shipped run"
    known = {f.name for f in fields(EvalConfig)} - {"policy"}
    cfg = EvalConfig(policy=str(run), **{k: v for k, v in config.items() if k in known})
    row, _ = run_episode(cfg, episode=int(committed["episode"]))
    assert row["seed"] == int(committed["seed"])
    for metric in EPISODE_METRICS:
        if metric in TIMING or math.isnan(float(committed[metric])):
            continue
        assert row[metric] == pytest.approx(float(committed[metric]), rel=1e-9, abs=1e-12), \
            metric


@pytest.mark.parametrize("module", ["packerl", "policies.mslim", "packerl.app.cli"])
def test_importing_packerl_first_pins_torchs_cpu_kernels(module):
    # the committed evaluations were computed with AVX2 kernels (packerl.TORCH_CPU_CAPABILITY)
    import subprocess
    import sys

    code = f"import {module}, torch; print(torch.backends.cpu.get_cpu_capability())"
    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()[-1]
    assert out in ("AVX2", "DEFAULT")  # never AVX512; DEFAULT on CPUs without AVX2
    env["ATEN_CPU_CAPABILITY"] = "default"  # the user's choice wins
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()[-1]
    assert out == "DEFAULT"
