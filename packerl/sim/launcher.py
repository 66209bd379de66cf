# SPDX-License-Identifier: GPL-2.0-only
"""Locating the simulator executable and the ns-3 libraries it links against.

The executable is installed next to the compiled bridge module (``packerl/_bin/packerl-sim``),
so it is found through that module's real location in regular and editable installs alike.
The ns-3 shared libraries come from the ``ns3`` wheel; their directory is added to
``LD_LIBRARY_PATH`` in case the executable's rpath does not match the install layout.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from packerl.error import SimulatorNotFound

ENV_EXECUTABLE = "PACKERL_SIM"


def ns3_library_dir() -> Path:
    """Return the directory holding ``libns3.44-*.so`` from the installed ``ns3`` wheel."""
    spec = importlib.util.find_spec("ns3")
    if spec is None or not spec.submodule_search_locations:
        raise SimulatorNotFound(
            "the `ns3` package is not installed; install it with `pip install ns3==3.44.post0`"
        )
    for root in spec.submodule_search_locations:
        lib = Path(root) / "lib64"
        if any(lib.glob("libns3.44-core*.so")):
            return lib
    raise SimulatorNotFound(
        "the `ns3` package has no lib64/libns3.44-core.so; reinstall `ns3==3.44.post0`"
    )


def simulator_executable() -> Path:
    """Return the path of ``packerl-sim`` (``$PACKERL_SIM`` overrides the installed one)."""
    override = os.environ.get(ENV_EXECUTABLE)
    if override:
        path = Path(override)
        if not path.is_file():
            raise SimulatorNotFound(f"${ENV_EXECUTABLE} points to `{path}`, which is not a file")
        return path
    try:
        from packerl import _bridge
    except ImportError as exc:  # pragma: no cover - only without a build
        raise SimulatorNotFound(
            "packerl's compiled parts are missing; install the package with `pip install .`"
        ) from exc
    path = Path(_bridge.__file__).resolve().parent / "_bin" / "packerl-sim"
    if not path.is_file():
        raise SimulatorNotFound(
            f"the simulator executable is missing at `{path}`; reinstall packerl"
        )
    return path


def simulator_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the simulator process: ``base`` (default: ours) plus the ns-3 libraries."""
    env = dict(os.environ if base is None else base)
    lib = str(ns3_library_dir())
    current = env.get("LD_LIBRARY_PATH", "")
    env["LD_LIBRARY_PATH"] = lib + (os.pathsep + current if current else "")
    return env


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``packerl-sim``: run the simulator with its libraries found."""
    args = sys.argv[1:] if argv is None else argv
    try:
        exe = simulator_executable()
        env = simulator_env()
    except SimulatorNotFound as exc:
        print(f"packerl-sim: {exc}", file=sys.stderr)
        return 2
    os.execve(exe, [str(exe), *args], env)
    return 0  # pragma: no cover - execve does not return
