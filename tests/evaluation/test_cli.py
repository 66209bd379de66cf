# SPDX-License-Identifier: GPL-2.0-only
"""The ``packerl`` command line: exit statuses, messages, the comparison table and heatmap."""

from __future__ import annotations

import subprocess
import sys

import pytest

from packerl.app.cli import main

TINY = ["--topology", "nx-XS", "--traffic", "udp_high", "--episodes", "2", "--episode-steps",
        "5", "--seed", "4", "--workers", "2", "--no-progress"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    for policy in ("eigrp", "random_nh", "ospf"):
        assert main(["evaluate", "--policy", policy, "--out", str(out), *TINY]) == 0
    return out


def test_evaluate_prints_means_and_writes_results(results, capsys):
    run = results / "eigrp__nx-XS__udp_high__seed4"
    assert (run / "episodes.csv").is_file() and (run / "summary.json").is_file()
    assert main(["evaluate", "--policy", "eigrp", "--out", str(results), *TINY]) == 0
    out = capsys.readouterr().out
    assert "mean over 2 episodes: goodput [MB]" in out and f"results: {run}" in out


def test_compare_prints_table_and_saves_png(results, capsys, tmp_path):
    png = tmp_path / "fig" / "table.png"
    paths = [str(p) for p in sorted(results.iterdir())]
    assert main(["compare", *paths, "--reference", "eigrp", "--out", str(png)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("nx-XS / udp_high / 5 steps x 5 ms: mean over episodes "
                               "relative to EIGRP")
    names = [line.split("  ")[0].strip() for line in lines[3:6]]
    assert names == ["EIGRP", "OSPF", "Random (NH)"]
    assert lines[3].split()[1:3] == ["2", "1"]  # the reference is 1 relative to itself
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a parent directory also works, and the default heatmap goes next to the results
    assert main(["compare", str(results)]) == 0
    assert (results / "comparison.png").is_file()
    # ... and the PNG among `results/*` is ignored on the next run
    assert main(["compare", *[str(p) for p in results.iterdir()]]) == 0


#: command line (split on spaces) -> what its one-line usage error says
BAD_USAGE = {
    "evaluate --policy dijkstra": "unknown policy `dijkstra`",
    "evaluate --policy eigrp --topology nx-XXS": "unknown topology preset",
    "evaluate --policy eigrp --traffic tcp_huge": "tcp_huge",
    "evaluate --policy eigrp --link-failures often": "often",
    "evaluate --policy eigrp --episodes 0": "expected a positive integer",
    "evaluate --policy eigrp --seed x": "expected a non-negative integer",
    "evaluate": "the following arguments are required: --policy",
    "frobnicate": "invalid choice: 'frobnicate'",
    "": "the following arguments are required",
}


@pytest.mark.parametrize("command", BAD_USAGE)
def test_bad_usage_exits_2_with_message(command, capsys, tmp_path):
    argv, message = command.split(), BAD_USAGE[command]
    if argv and argv[0] == "evaluate":
        argv = [*argv, "--out", str(tmp_path / "out"), "--episode-steps", "2"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_compare_bad_input_exits_2(results, capsys, tmp_path):
    assert main(["compare", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["compare", str(tmp_path / "empty")]) == 2
    assert "holds no evaluation results" in capsys.readouterr().err
    assert main(["compare", str(results), "--reference", "magnneto"]) == 2
    err = capsys.readouterr().err
    assert "no result group contains the reference policy `magnneto`" in err
    assert "['eigrp', 'ospf', 'random_nh']" in err


def test_python_dash_m_packerl(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "packerl", "--help"], capture_output=True,
                        text=True, timeout=60)
    assert ok.returncode == 0 and "evaluate" in ok.stdout and "compare" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "packerl", "compare", str(tmp_path / "nope")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "does not exist" in bad.stderr and "Traceback" not in bad.stderr


def test_the_fluid_model_is_evaluated_on_the_same_scenarios_and_compared_apart(results,
                                                                               capsys):
    import json

    from packerl.app.compare import compare
    from packerl.app.results import load_episodes

    assert main(["evaluate", "--policy", "eigrp", "--out", str(results), "--network-model",
                 "fluid", *TINY]) == 0
    assert "in the fluid model" in capsys.readouterr().out
    fluid = results / "eigrp__nx-XS__udp_high__seed4__fluid"
    packet = results / "eigrp__nx-XS__udp_high__seed4"
    assert json.loads((fluid / "config.json").read_text())["network_model"] == "fluid"
    assert "network_model" not in json.loads((packet / "config.json").read_text())
    f_rows, p_rows = load_episodes(fluid), load_episodes(packet)
    assert [r["seed"] for r in f_rows] == [r["seed"] for r in p_rows]  # same scenarios
    assert [r["total_goodput_mb"] for r in f_rows] != [r["total_goodput_mb"] for r in p_rows]
    titles = [c.title for c in compare([results])]
    assert "nx-XS / udp_high / 5 steps x 5 ms / fluid model" in titles
    assert "nx-XS / udp_high / 5 steps x 5 ms" in titles
    assert main(["evaluate", "--policy", "eigrp", "--out", str(results), "--network-model",
                 "ns2", *TINY]) == 2


def test_audit_summarises_draws_and_replays_a_guards_logs(tmp_path, capsys):
    import json

    audit = tmp_path / "audit"
    spec = f"guard:random_lw,max_change=0.2,audit={audit}"
    assert main(["evaluate", "--policy", spec, "--out", str(tmp_path / "out"), *TINY]) == 0
    capsys.readouterr()
    png = tmp_path / "timeline.png"
    assert main(["audit", str(audit), "--timeline", str(png), "--replay"]) == 0
    out = capsys.readouterr().out
    assert f"{audit}: 2 episode(s) of {spec}" in out
    assert "| Guard(Random (LW)) | guard | 10 |" in out
    assert out.count(": 5 steps, identical") == 2 and png.stat().st_size > 0
    # a tampered log: the replay finds the step whose table no longer matches
    log = audit / "seed4.jsonl"
    lines = log.read_text().splitlines()
    step = json.loads(lines[3])
    step["sha256"] = "0" * 64
    lines[3] = json.dumps(step)
    log.write_text("\n".join(lines) + "\n")
    assert main(["audit", str(log), "--replay"]) == 1
    assert "tables differ at steps [2]" in capsys.readouterr().out
    assert main(["audit", str(tmp_path / "nowhere")]) == 2
    assert "no such audit directory" in capsys.readouterr().err
