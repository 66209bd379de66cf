# SPDX-License-Identifier: GPL-2.0-only
"""The result files of an evaluation run directory: their columns, reading, writing and the
per-metric summary.

A run directory (``<out>/<policy>__<topology>__<traffic>__seed<seed>[__<failures>]``) holds:

- ``config.json``: the run's configuration, written first; a re-run with a different
  configuration into the same directory is refused.
- ``episodes.csv``: one row per finished episode, appended as soon as the episode ends
  (columns :data:`EPISODE_COLUMNS`); re-running skips episodes already in it. At the end the
  file is rewritten sorted by episode.
- ``steps.csv`` (only with ``per_step=True``): one row per step (:data:`STEP_COLUMNS`).
- ``summary.json``: the configuration and mean/std/min/max of every metric over the episodes.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

#: per-episode metrics, as ``PackeRLEnv``'s ``info["episode_metrics"]`` plus inference time
EPISODE_METRICS: tuple[str, ...] = (
    "goodput_mb",
    "total_goodput_mb",
    "avg_delay_ms",
    "max_delay_ms",
    "avg_jitter_ms",
    "drop_ratio",
    "max_link_util",
    "action_fluctuation",
    "sent_mb",
    "dropped_mb",
    "retransmitted_mb",
    "step_mean_drop_ratio",
    "step_mean_avg_delay_ms",
    "inference_ms",
)
EPISODE_COLUMNS: tuple[str, ...] = (
    "episode", "seed", "num_nodes", "num_edges", "steps", *EPISODE_METRICS, "wall_s",
)
STEP_METRICS: tuple[str, ...] = (
    "goodput_mb", "avg_delay_ms", "max_delay_ms", "avg_jitter_ms", "drop_ratio",
    "max_link_util", "sent_mb", "dropped_mb", "retransmitted_mb", "action_fluctuation",
)
STEP_COLUMNS: tuple[str, ...] = ("episode", "step", "reward", *STEP_METRICS, "inference_ms")
#: columns that measure the machine, not the routing (excluded from reproducibility checks)
TIMING_COLUMNS: tuple[str, ...] = ("inference_ms", "wall_s")

CONFIG_FILE, EPISODES_FILE, STEPS_FILE, SUMMARY_FILE = (
    "config.json", "episodes.csv", "steps.csv", "summary.json")


class ResultsFormatError(ValueError):
    """A result file was written by another version (other columns)."""


def read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Complete rows of a result CSV (a row cut short by a crash is dropped)."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None:
            return []
        if tuple(reader.fieldnames) != columns:
            missing = [c for c in columns if c not in reader.fieldnames]
            extra = [c for c in reader.fieldnames if c not in columns]
            raise ResultsFormatError(
                f"`{path}` is in another format than this version writes (missing columns "
                f"{missing or 'none'}, unknown {extra or 'none'}, or another order): re-run "
                "its evaluation into a new directory, or delete it")
        return [r for r in reader if None not in r.values() and all(r[c] != "" for c in columns)]


def write_csv(path: Path, columns: tuple[str, ...], rows: list[Mapping[str, Any]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


class Appender:
    """Appends rows to a CSV, flushing after each, header written if the file is new."""

    def __init__(self, path: Path, columns: tuple[str, ...]):
        new = not path.exists() or path.stat().st_size == 0
        self.file = path.open("a", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=columns)
        if new:
            self.writer.writeheader()
            self.file.flush()

    def write(self, rows: list[Mapping[str, Any]]) -> None:
        self.writer.writerows(rows)
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        self.file.close()


def load_episodes(run_dir: str | os.PathLike) -> list[dict[str, float]]:
    """The finished episodes of a run directory as dicts of numbers, sorted by episode."""
    rows = read_csv(Path(run_dir) / EPISODES_FILE, EPISODE_COLUMNS)
    out = [{k: float(v) for k, v in r.items()} for r in rows]
    for r in out:
        for k in ("episode", "seed", "num_nodes", "num_edges", "steps"):
            r[k] = int(r[k])
    return sorted(out, key=lambda r: r["episode"])


def load_config(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The configuration stored in a run directory.

    Raises:
        FileNotFoundError: if ``run_dir`` is not an evaluation result directory.
    """
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"`{run_dir}` is not an evaluation result directory (no "
                                f"{CONFIG_FILE}); run `packerl evaluate` first")
    return json.loads(path.read_text())


def summarize(rows: list[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Mean, std, min and max over episodes of every metric (NaN-aware; None if no value)."""
    stats: dict[str, dict[str, float]] = {}
    for k in EPISODE_METRICS + ("wall_s",):
        v = np.array([r[k] for r in rows], dtype=np.float64)
        v = v[np.isfinite(v)]
        stats[k] = ({"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()),
                     "max": float(v.max())} if len(v) else
                    {"mean": None, "std": None, "min": None, "max": None})
    return stats


def find_run_dirs(paths: list[str | os.PathLike]) -> list[Path]:
    """Result directories among ``paths``: run directories themselves, or directories whose
    children are run directories (e.g. ``results/``). Plain files are skipped.

    Raises:
        FileNotFoundError: a path does not exist, or a directory holds no results.
    """
    runs: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"result directory `{p}` does not exist")
        if not p.is_dir():
            continue
        if (p / CONFIG_FILE).is_file():
            runs.append(p)
            continue
        children = sorted(c for c in p.iterdir() if (c / CONFIG_FILE).is_file())
        if not children:
            raise FileNotFoundError(f"`{p}` holds no evaluation results (no {CONFIG_FILE} in "
                                    "it or its subdirectories); run `packerl evaluate` first")
        runs.extend(children)
    return list(dict.fromkeys(runs))


__all__ = [
    "CONFIG_FILE",
    "EPISODES_FILE",
    "EPISODE_COLUMNS",
    "EPISODE_METRICS",
    "STEPS_FILE",
    "STEP_COLUMNS",
    "STEP_METRICS",
    "SUMMARY_FILE",
    "TIMING_COLUMNS",
    "Appender",
    "ResultsFormatError",
    "find_run_dirs",
    "load_config",
    "load_episodes",
    "read_csv",
    "summarize",
    "write_csv",
]
