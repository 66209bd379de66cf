# SPDX-License-Identifier: GPL-2.0-only
"""Command-line interface: ``synnet generate ...`` and ``synnet show FILE [--plot out.png]``.

Exit status: 0 on success, 2 on bad usage (unknown preset/parameter, out-of-range value,
unreadable scenario file), with a message on stderr saying what was wrong and what is accepted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .generator import generate
from .presets import LINK_FAILURE_PRESETS, OVERRIDE_SPECS, TOPOLOGY_PRESETS, TRAFFIC_PRESETS
from .scenario import Scenario


def _parse_set(items: Sequence[str], parser: argparse.ArgumentParser) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            parser.error(f"--set expects key=value, got {item!r}; keys: {', '.join(sorted(OVERRIDE_SPECS))}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def _check_writable_file(path: str | os.PathLike, option: str) -> None:
    """Raise ``ValueError`` unless the file ``path`` can be written, its missing parent
    directories created.

    Meant to run before any work, so that a long generation is not lost to a bad path.
    Creates nothing that stays: a probe file in the nearest existing ancestor is removed at
    once (``os.access`` would say yes to root on a read-only file system).
    """
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{option} `{path}` is a directory; expected a file path (e.g. "
                         f"`{p / 'scenario.npz'}`)")
    if p.exists():
        try:
            with open(p, "ab"):
                pass
        except OSError as exc:
            raise ValueError(f"{option} `{path}` is not writable ({exc.strerror or exc})"
                             ) from None
        return
    probe = p.parent
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        raise ValueError(f"{option} `{path}` is not writable: `{probe}` is not a directory")
    try:
        fd, name = tempfile.mkstemp(dir=probe, prefix=".synnet-write-test-")
    except OSError as exc:
        raise ValueError(f"{option} `{path}` is not writable: cannot create files in "
                         f"`{probe}` ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(name)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synnet", description="Generate and inspect synthetic network scenarios.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{generate,show}")
    gen = sub.add_parser("generate", help="generate a scenario file")
    gen.add_argument("--topology", default="nx-S", help=f"topology preset: {', '.join(TOPOLOGY_PRESETS)}")
    gen.add_argument("--traffic", default="tcp_high", help=f"traffic preset: {', '.join(TRAFFIC_PRESETS)}")
    gen.add_argument("--link-failures", default="weibull", help=f"link-failure preset: {', '.join(LINK_FAILURE_PRESETS)}")
    gen.add_argument("--steps", type=int, default=100, help="number of steps (default 100)")
    gen.add_argument("--step-ms", type=float, default=5.0, help="step length in ms (default 5)")
    gen.add_argument("--seed", type=int, default=7, help="non-negative integer seed (default 7)")
    gen.add_argument("--out", required=True, help="output scenario file (.npz)")
    gen.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help=f"override a parameter (repeatable); keys: {', '.join(sorted(OVERRIDE_SPECS))}")
    show = sub.add_parser("show", help="summarise a scenario file")
    show.add_argument("file", help="scenario file written by 'synnet generate'")
    show.add_argument("--plot", metavar="OUT.png", help="also draw topology and traffic to this image")
    return parser


def summarize(sc: Scenario) -> str:
    """Human-readable summary of a scenario."""
    topo = sc.topology
    d = sc.demands
    step_idx = np.minimum((d["time_ms"] // sc.step_ms).astype(np.int64), sc.steps - 1)
    counts = np.bincount(step_idx, minlength=sc.steps)
    vol = np.bincount(step_idx, weights=d["bytes"].astype(np.float64), minlength=sc.steps)
    total = float(d["bytes"].astype(np.float64).sum())
    tcp_share = float(d["is_tcp"].mean()) if len(d) else 0.0
    lines = [
        f"topology      {topo.name}: {topo.num_nodes} nodes, {topo.num_edges} links",
        f"datarate      {topo.datarate_bps.min() / 1e6:.1f} .. {topo.datarate_bps.max() / 1e6:.1f} Mbps",
        f"delay         mean {topo.delay_ms.mean():.3f} ms, min {topo.delay_ms.min():.3f} ms",
        f"episode       {sc.steps} steps x {sc.step_ms:g} ms = {sc.duration_ms:g} ms, seed {sc.seed}",
        f"traffic       {sc.params.get('traffic_preset')} (m_traffic={sc.params.get('m_traffic')}, "
        f"p_tcp={sc.params.get('p_tcp')})",
        f"demands       {len(d)} total, {total:.4g} bytes, TCP share {tcp_share:.3f}",
        f"per step      demands min/mean/max {counts.min()}/{counts.mean():.1f}/{counts.max()}; "
        f"bytes min/mean/max {vol.min():.3g}/{vol.mean():.3g}/{vol.max():.3g}",
        f"failures      {len(sc.failures)}"
        + (": " + ", ".join(f"edge {e} {tuple(topo.edges[e].tolist())} at {t:.2f} ms" for t, e in sc.failures.tolist())
           if len(sc.failures) else ""),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 usage error)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "generate":
        overrides = _parse_set(args.set, parser)
        lf = None if args.link_failures == "none" else args.link_failures
        try:
            _check_writable_file(args.out, "--out")
        except ValueError as exc:
            parser.exit(2, f"synnet generate: error: {exc}\n")
        try:
            sc = generate(topology=args.topology, traffic=args.traffic, link_failures=lf, steps=args.steps,
                          step_ms=args.step_ms, seed=args.seed, **overrides)
        except ValueError as exc:
            parser.exit(2, f"synnet generate: error: {exc}\n")
        try:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            sc.save(args.out)
        except OSError as exc:
            parser.exit(2, f"synnet generate: error: cannot write {args.out!r}: {exc}\n")
        print(f"wrote {args.out}: {sc.topology.name}, {len(sc.demands)} demands, {len(sc.failures)} failures")
        return 0
    try:
        sc = Scenario.load(args.file)
    except (ValueError, FileNotFoundError) as exc:
        parser.exit(2, f"synnet show: error: {exc}\n")
    print(summarize(sc))
    if args.plot:
        from .plot import plot_scenario

        try:
            plot_scenario(sc, args.plot)
        except (OSError, ValueError) as exc:
            parser.exit(2, f"synnet show: error: cannot write plot {args.plot!r}: {exc}\n")
        print(f"plot written to {args.plot}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
