# SPDX-License-Identifier: GPL-2.0-only
"""Trained runs describe themselves: what is needed to load one, without any training code.

``packerl train`` writes :data:`RUN_FILE` into every run directory::

    {"format": 1, "policy": "fieldlines", "class": "policies.fieldlines:FieldLinesPolicy",
     "action_type": "next_hop", "action_format": {"next_hop_encoding": "node", ...},
     "stack": 4, "last_action": false,
     "models": {"model.zip": "model_stats.pkl", "checkpoint.zip": "checkpoint_stats.pkl"}}

``models`` maps each model file to the normalisation statistics it was trained with.
``digests`` (written by training after every save) holds the SHA-256 of each model file and
of its statistics; :func:`load_run` refuses a model or statistics file that no longer matches
(:class:`TamperedRunError`). Runs written before this file existed are described from their
``config.json`` and the registry (and cannot be verified).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packerl.spaces import ActionFormat
from policies.registry import entry

RUN_FILE = "policy.json"
RUN_FORMAT = 1
#: model files of a run directory, most preferred first, with their statistics files
MODEL_FILES = {"model.zip": "model_stats.pkl", "checkpoint.zip": "checkpoint_stats.pkl"}


class TamperedRunError(ValueError):
    """A trained model or its statistics differ from the checksums its run recorded."""


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record_digests(run_dir: Path, model_file: str) -> None:
    """Record the SHA-256 of ``model_file`` and its statistics in the run's description
    (called by training right after it saves them)."""
    path = Path(run_dir) / RUN_FILE
    desc = json.loads(path.read_text())
    stats = desc["models"].get(model_file, Path(model_file).stem + "_stats.pkl")
    desc.setdefault("digests", {})[model_file] = {
        "sha256": file_digest(Path(run_dir) / model_file),
        "stats_sha256": file_digest(Path(run_dir) / stats)}
    write_description(run_dir, desc)


def _verify(desc: dict[str, Any], model: Path, stats: Path) -> None:
    recorded = desc.get("digests", {}).get(model.name)
    if recorded is None:
        return
    for path, key in ((model, "sha256"), (stats, "stats_sha256")):
        if file_digest(path) != recorded[key]:
            raise TamperedRunError(
                f"`{path}` does not match the SHA-256 recorded in {RUN_FILE} when it was "
                "trained: the file changed afterwards; restore it or train again")


@dataclass(frozen=True)
class TrainedRun:
    """One trained model and what its observation pipeline and actions look like."""

    policy: str
    target: str
    action_format: ActionFormat
    stack: int
    last_action: bool
    model: Path
    stats: Path

    @property
    def action_type(self) -> str:
        return self.action_format.action_type


def describe(policy: str, target: str, action_format: ActionFormat, stack: int,
             last_action: bool) -> dict[str, Any]:
    """The JSON description of a run (what :data:`RUN_FILE` holds)."""
    return {"format": RUN_FORMAT, "policy": policy, "class": target,
            "action_type": action_format.action_type,
            "action_format": {"next_hop_encoding": action_format.next_hop_encoding,
                              "link_weights": action_format.link_weights},
            "stack": int(stack), "last_action": bool(last_action), "models": dict(MODEL_FILES)}


def write_description(run_dir: Path, description: dict[str, Any]) -> Path:
    """Write :data:`RUN_FILE` atomically into ``run_dir``."""
    path = Path(run_dir) / RUN_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(description, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def _legacy_description(config_path: Path) -> dict[str, Any]:
    """The description of a run written before :data:`RUN_FILE` (from its config.json)."""
    config = json.loads(config_path.read_text())
    e = entry(config.get("policy", ""))
    fmt = ActionFormat(e.action_type, **e.train_env_kwargs)
    return describe(e.name, e.target, fmt, config.get("stack", 4),
                    bool(config.get("last_action", False)))


def is_trained_run(path: str | os.PathLike) -> bool:
    """True for a run directory of ``packerl train`` or a ``.zip`` file."""
    p = Path(path)
    return ((p.is_file() and p.suffix == ".zip") or (p / RUN_FILE).is_file()
            or ((p / "config.json").is_file() and any((p / m).is_file() for m in MODEL_FILES)))


def load_run(path: str | os.PathLike) -> TrainedRun:
    """The trained model at ``path``: a run directory (its final model, else its latest
    checkpoint) or a model ``.zip`` inside one.

    Raises:
        ValueError: no model there, or its statistics or description are missing.
    """
    p = Path(path)
    if p.is_dir():
        p = next((p / m for m in MODEL_FILES if (p / m).is_file()), p / "model.zip")
    if not p.is_file():
        raise ValueError(f"no trained model at `{path}`; give a run directory or a .zip file "
                         "written by `packerl train`")
    run_dir = p.parent
    if (run_dir / RUN_FILE).is_file():
        desc = json.loads((run_dir / RUN_FILE).read_text())
        if desc.get("format") != RUN_FORMAT:
            raise ValueError(f"`{run_dir / RUN_FILE}` has format {desc.get('format')!r}; this "
                             f"packerl reads format {RUN_FORMAT}")
    elif (run_dir / "config.json").is_file():
        desc = _legacy_description(run_dir / "config.json")
    else:
        raise ValueError(f"`{run_dir}` has neither {RUN_FILE} nor config.json; a trained model "
                         "needs the description of its run")
    stats = run_dir / desc["models"].get(p.name, p.stem + "_stats.pkl")
    if not stats.is_file():
        raise ValueError(f"`{stats}` is missing next to `{p}`; a trained model needs the "
                         "normalisation statistics of its run")
    _verify(desc, p, stats)
    fmt = ActionFormat(desc["action_type"], **desc["action_format"])
    return TrainedRun(policy=desc["policy"], target=desc["class"], action_format=fmt,
                      stack=int(desc["stack"]), last_action=bool(desc["last_action"]),
                      model=p, stats=stats)


__all__ = ["MODEL_FILES", "RUN_FILE", "TamperedRunError", "TrainedRun", "describe",
           "file_digest", "is_trained_run", "load_run", "record_digests", "write_description"]
