# SPDX-License-Identifier: GPL-2.0-only
"""The import layers of pyproject.toml's import-linter contracts hold (synnet <- environment
core <- policies <- packerl.app <- experiments): a wrong import fails the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")  # import-linter's console script
    return subprocess.run([str(lint), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_import_layers_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line"), [
    ("packerl/_layer_probe.py", "import policies.registry\n"),
    ("policies/_layer_probe.py", "import packerl.app.training\n"),
    ("synnet/_layer_probe.py", "import packerl.spaces\n"),
])
def test_a_wrong_import_breaks_a_contract(module, line):
    probe = ROOT / module
    probe.write_text(line)
    try:
        result = _lint(ROOT)
    finally:
        probe.unlink()
    assert result.returncode != 0 and "BROKEN" in result.stdout
