# SPDX-License-Identifier: GPL-2.0-only
"""CLI: generate/show, exit codes and messages."""

import subprocess
import sys
from pathlib import Path

import pytest

import synnet
from synnet.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_generate_and_show(tmp_path, capsys):
    out = tmp_path / "s.npz"
    rc = main(["generate", "--topology", "nx-XS", "--traffic", "mixed_low", "--link-failures", "weibull",
               "--steps", "20", "--step-ms", "5", "--seed", "3", "--out", str(out), "--set", "num_nodes=7",
               "--set", "p_tcp=0.25"])
    assert rc == 0 and out.exists()
    sc = synnet.Scenario.load(out)
    assert sc.topology.num_nodes == 7 and sc.params["p_tcp"] == 0.25 and sc.steps == 20
    same = synnet.generate("nx-XS", "mixed_low", "weibull", steps=20, step_ms=5.0, seed=3, num_nodes=7, p_tcp=0.25)
    assert same.demands.tobytes() == sc.demands.tobytes()
    capsys.readouterr()
    png = tmp_path / "p.png"
    assert main(["show", str(out), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "7 nodes" in text and "TCP share" in text and "min/mean/max" in text and "failures" in text
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"


def test_link_failures_none(tmp_path):
    out = tmp_path / "n.npz"
    assert main(["generate", "--topology", "nsfnet", "--link-failures", "none", "--steps", "5", "--out", str(out)]) == 0
    assert len(synnet.Scenario.load(out).failures) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["generate", "--topology", "nx-XXS", "--out", "{tmp}/a.npz"], "valid: nx-XS"),
        (["generate", "--traffic", "foo", "--out", "{tmp}/a.npz"], "unknown traffic preset 'foo'"),
        (["generate", "--set", "p_tcp=2", "--out", "{tmp}/a.npz"], "p_tcp must lie in [0, 1]"),
        (["generate", "--set", "novalue", "--out", "{tmp}/a.npz"], "--set expects key=value"),
        (["generate", "--steps", "ten", "--out", "{tmp}/a.npz"], "invalid int value"),
        (["generate"], "--out"),
        (["frobnicate"], "invalid choice"),
        (["show", "{tmp}/missing.npz"], "no such scenario file"),
    ],
)
def test_bad_usage_exits_2(tmp_path, capsys, argv, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_show_rejects_non_scenario(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(SystemExit) as exc:
        main(["show", str(bad)])
    assert exc.value.code == 2 and "not a synnet scenario" in capsys.readouterr().err


def test_python_dash_m(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "synnet", "generate", "--topology", "nx-XXS", "--out",
                           str(tmp_path / "x.npz")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "Did you mean 'nx-XS'" in proc.stderr and "Traceback" not in proc.stderr
