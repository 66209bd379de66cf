# SPDX-License-Identifier: GPL-2.0-only
"""Usage errors exit 2 with one line, before any work starts; never a traceback."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile

import numpy as np
import pytest

import synnet
from synnet.cli import main as synnet_main
from synnet.scenario import MAX_MEMBER_BYTES, ScenarioFileError


@pytest.fixture(scope="module")
def scenario_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("sc") / "s.npz"
    synnet.generate("nx-XS", "udp_low", "none", steps=3, step_ms=5.0, seed=1).save(path)
    return path.read_bytes()


def _rewrite(data: bytes, member: str, new: bytes, compress: bool = False) -> bytes:
    """The archive ``data`` with ``member`` replaced by ``new`` (the other members copied)."""
    out = io.BytesIO()
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", mode) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, new if info.filename == member else src.read(info))
    return out.getvalue()


def _npy_header(shape: tuple[int, ...], descr: str) -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def _bad_files(good: bytes) -> dict[str, tuple[bytes, str | None]]:
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        meta = json.loads(str(np.load(io.BytesIO(z.read("meta.npy")))[()]))
    no_steps = {k: v for k, v in meta.items() if k != "steps"}
    meta_npy = io.BytesIO()
    np.save(meta_npy, np.array(json.dumps(no_steps)))
    wrong_edges = io.BytesIO()
    np.save(wrong_edges, np.array([[0, 99]], dtype=np.int32))
    huge = _npy_header((1 << 40,), "<f8")
    corrupted = bytearray(good)
    corrupted[len(good) // 2: len(good) // 2 + 64] = b"\xff" * 64
    return {
        "empty": (b"", "is not a synnet scenario file"),
        "truncated": (good[: len(good) // 2], "is not a synnet scenario file"),
        "corrupted": (bytes(corrupted), None),
        "meta key": (_rewrite(good, "meta.npy", meta_npy.getvalue()), "lacks the key(s) ['steps']"),
        "inconsistent": (_rewrite(good, "edges.npy", wrong_edges.getvalue()),
                         "inconsistent scenario"),
        "huge": (_rewrite(good, "delay_ms.npy", huge + b"\0" * 64, compress=True),
                 f"more than the {MAX_MEMBER_BYTES} bytes allowed"),
        "short member": (_rewrite(good, "delay_ms.npy", _npy_header((1000,), "<f8") + b"\0" * 8),
                         "the file is corrupted"),
    }


@pytest.mark.parametrize("case", ["empty", "truncated", "corrupted", "meta key", "inconsistent",
                                  "huge", "short member"])
def test_a_bad_scenario_file_is_one_error(tmp_path, scenario_bytes, case, capsys):
    data, message = _bad_files(scenario_bytes)[case]
    path = tmp_path / "bad.npz"
    path.write_bytes(data)
    with pytest.raises(ScenarioFileError, match=None if message is None else re.escape(message)):
        synnet.Scenario.load(path)
    with pytest.raises(SystemExit) as exit_info:
        synnet_main(["show", str(path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("synnet show: error:") and "Traceback" not in err


def test_a_good_scenario_file_still_loads(tmp_path, scenario_bytes):
    path = tmp_path / "good.npz"
    path.write_bytes(scenario_bytes)
    sc = synnet.Scenario.load(path)
    again = tmp_path / "again.npz"
    sc.save(again)
    assert again.read_bytes() == scenario_bytes


def _refused_before_generating(argv: list[str], message: str, monkeypatch, capsys) -> None:
    import synnet.cli

    def must_not_run(*args, **kwargs):
        raise AssertionError("the scenario was generated before --out was checked")

    monkeypatch.setattr(synnet.cli, "generate", must_not_run)
    with pytest.raises(SystemExit) as exit_info:
        synnet_main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("synnet generate: error: ") and message in err, err


def test_synnet_generate_checks_out_before_generating(tmp_path, blocker, monkeypatch, capsys):
    gen = ["generate", "--topology", "nx-XS", "--steps", "3", "--out"]
    bad = blocker / "sub" / "s.npz"
    _refused_before_generating(gen + [str(bad)],
                               f"--out `{bad}` is not writable: `{blocker}` is not a directory",
                               monkeypatch, capsys)
    _refused_before_generating(gen + [str(tmp_path)], f"--out `{tmp_path}` is a directory",
                               monkeypatch, capsys)
    assert blocker.read_text() == "x" and not list(tmp_path.glob(".synnet-write-test-*"))


def test_synnet_generate_creates_missing_directories(tmp_path):
    out = tmp_path / "new" / "dir" / "s.npz"
    assert synnet_main(["generate", "--topology", "nx-XS", "--traffic", "udp_low",
                        "--link-failures", "none", "--steps", "3", "--out", str(out)]) == 0
    assert synnet.Scenario.load(out).steps == 3


# ----------------------------------------------------------------------------- packerl


SWEEP = """name: tiny
policies: [fieldlines]
training:
  {training}
evaluation:
  topologies: [nx-XS]
  traffics: [udp_low]
  episodes: 1
  episode_steps: 2
"""


@pytest.fixture
def blocker(tmp_path):
    """A regular file: nothing can be created below it, not even by root."""
    path = tmp_path / "a-file"
    path.write_text("x")
    return path


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    from packerl.app.cli import main

    out = tmp_path_factory.mktemp("runs")
    assert main(["evaluate", "--policy", "eigrp", "--topology", "nx-XS", "--traffic",
                 "udp_low", "--episodes", "1", "--episode-steps", "2", "--workers", "1",
                 "--no-progress", "--out", str(out)]) == 0
    return out


def _usage_error(argv: list[str], message: str, capsys) -> None:
    from packerl.app.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith(f"packerl {argv[0]}: error:")


def test_unwritable_out_is_a_usage_error(tmp_path, blocker, one_run, capsys):
    bad = str(blocker / "sub")
    msg = f"--out `{bad}` is not writable: `{blocker}` is not a directory"
    _usage_error(["evaluate", "--policy", "eigrp", "--topology", "nx-XS", "--traffic",
                  "udp_low", "--episodes", "1", "--episode-steps", "2", "--out", bad], msg,
                 capsys)
    _usage_error(["train", "--policy", "fieldlines", "--traffic", "udp_low", "--out", bad], msg,
                 capsys)
    _usage_error(["compare", str(one_run), "--out", str(blocker / "sub" / "c.png")],
                 f"--out `{blocker / 'sub'}` is not writable", capsys)
    sweep = tmp_path / "s.yaml"
    sweep.write_text(SWEEP.format(training="iterations: 1"))
    _usage_error(["sweep", str(sweep), "--out", bad, "--backend", "processes"], msg, capsys)
    results = tmp_path / "results"
    results.mkdir()
    _usage_error(["report", str(results), "--out", bad], msg, capsys)
    assert blocker.read_text() == "x" and not list(tmp_path.glob("*/.packerl-write-test-*"))


def test_results_of_an_older_format_are_one_error_naming_the_columns(tmp_path, one_run,
                                                                    capsys):
    import shutil

    run = next(p for p in one_run.iterdir() if (p / "episodes.csv").is_file())
    sweep = tmp_path / "old"
    trial = sweep / "trials" / "eigrp"
    shutil.copytree(run, trial / "eval" / run.name)
    (trial / "trial.json").write_text('{"trial_id": "eigrp", "policy": "eigrp", "seed": null}')
    _usage_error(["report", str(sweep), "--reference", "ospf"],
                 f"--reference `ospf`: no trial of `{sweep}` evaluated it; its policies: eigrp",
                 capsys)
    episodes = trial / "eval" / run.name / "episodes.csv"
    lines = episodes.read_text().splitlines()  # drop a column, as files of older versions
    cut = lines[0].split(",").index("step_mean_drop_ratio")
    episodes.write_text("\n".join(",".join(v for i, v in enumerate(line.split(","))
                                             if i != cut) for line in lines) + "\n")
    msg = "missing columns ['step_mean_drop_ratio']"
    _usage_error(["report", str(sweep)], msg, capsys)
    _usage_error(["compare", str(trial / "eval")], msg, capsys)


def test_an_oversized_rollout_buffer_is_refused_before_work(tmp_path, capsys):
    from packerl.app.training import MAX_ROLLOUT_BYTES

    _usage_error(["train", "--policy", "fieldlines", "--traffic", "udp_low",
                  "--episode-steps", "500000", "--out", str(tmp_path)],
                 f"more than the {MAX_ROLLOUT_BYTES // 2**30} GiB allowed", capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("training", "message"), [
    ("iterations: 2.5", "`iterations` must be int, found 2.5 (float)"),
    ("learning_rate: fast", "`learning_rate` must be float or null, found 'fast' (str)"),
    ("link_failures: bogus", "unknown preset 'bogus'; valid: ['none', 'weibull'] (or null)"),
    ("eval_every: -3", "`eval_every` must be >= 0, got -3"),
    ("eval_traffic: tcp_huge", "unknown preset 'tcp_huge'"),
    ("last_action: 1", "`last_action` must be bool or null, found 1 (int)"),
    ("episode_steps: 500000", "GiB allowed"),
])
def test_sweep_training_entries_are_type_checked(tmp_path, capsys, training, message):
    sweep = tmp_path / "s.yaml"
    sweep.write_text(SWEEP.format(training=training))
    _usage_error(["sweep", str(sweep), "--dry-run"], message, capsys)
