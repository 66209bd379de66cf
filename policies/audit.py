# SPDX-License-Identifier: GPL-2.0-only
"""The guard's audit log (JSON lines) and the replay of a recorded episode.

A guard with ``audit=<dir>`` (:mod:`policies.guard`) writes, for every episode, the episode's
scenario (``<stem>.scenario.npz``, :meth:`synnet.Scenario.save`) and ``<stem>.jsonl``, where
``<stem>`` is ``seed<reset seed>`` (or ``episode<i>`` without a seed). Its lines:

1. a header ``{"type": "episode", "format": 1, "seed": ..., "scenario": "<stem>.scenario.npz",
   "env": {"fixed_scenario": ..., "kwargs": {...}}, "wrapped": ..., "fallback": ...,
   "options": {...}}``: the reset seed, how the environment got its scenario (a fixed
   scenario, or generated from the seed with these settings) and the guard's options;
2. one ``{"type": "step", "step": t, ...}`` record per step, in order: ``mode`` (``active``,
   ``fallback`` or ``shadow``), ``installed`` (``wrapped`` or ``fallback``: whose table was
   installed), ``table`` (the full installed table, at step 0) or ``diff`` (``[u, z, next hop]``
   of every entry that changed since the previous step), ``sha256`` (:func:`table_digest` of
   the installed table), ``checks`` (every check's result), ``fallback`` (the reason when the
   guard fell back at this step, else null), ``events`` (fallbacks, recoveries, circuit
   breaker), ``bound`` (the decision bounds' accounting), ``telemetry`` (the observed drop
   ratio and delay), ``agreement`` (share of entries where the wrapped policy's table equals
   the fallback's), ``would_change`` (share of entries the guarded decision would change in
   the installed table), ``inference_ms`` and ``obs_sha256`` (:func:`observation_digest` of
   the observation the guard acted on).

The installed table is the one the environment installs for the guard's action (decoded in
the environment's encoding), so :func:`replay` can install exactly these tables again.

Example:
    >>> import numpy as np
    >>> table_digest(np.array([[-1, 1], [0, -1]], np.int32))[:16]
    '7011ae231a0b606a'
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import synnet

AUDIT_FORMAT = 1


class AuditLogError(ValueError):
    """An audit log that is incomplete, out of order or of another format."""


def table_digest(table: np.ndarray) -> str:
    """SHA-256 of a next-hop table's shape and int32 entries (what "bit for bit" compares)."""
    t = np.ascontiguousarray(table, np.int32)
    h = hashlib.sha256(repr(t.shape).encode())
    h.update(t.tobytes())
    return h.hexdigest()


def observation_digest(obs: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of what an observation reports about the network (global features, the real
    edge slots' features and masks), independent of the padding."""
    edge_index = np.asarray(obs["edge_index"])
    e2 = int((edge_index[0] != edge_index[1]).sum())  # real slots come first; padding is 0-0
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(obs["global"], np.float32).tobytes())
    h.update(np.ascontiguousarray(np.asarray(obs["edge_attr"])[:e2], np.float32).tobytes())
    h.update(np.ascontiguousarray(np.asarray(obs["edge_mask"])[:e2], np.int8).tobytes())
    return h.hexdigest()


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x


def env_settings(env: Any) -> dict[str, Any]:
    """How an environment gets its scenarios: ``{"fixed_scenario": True}`` or the settings
    ``synnet.generate`` draws them with from the reset seed."""
    if env is None:
        return {"fixed_scenario": None}
    base = env.unwrapped
    if base.fixed_scenario is not None or not isinstance(base.topology, str):
        return {"fixed_scenario": True}
    return {"fixed_scenario": False, "kwargs": {
        "topology": base.topology, "traffic": base.traffic,
        "link_failures": base.link_failures, "episode_steps": base.episode_steps,
        "step_ms": base.step_ms, "synnet_kwargs": _jsonable(base.synnet_kwargs)}}


class AuditLog:
    """One episode's JSON lines audit file (flushed after every record)."""

    def __init__(self, path: str | os.PathLike, header: Mapping[str, Any]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w")
        self.write({"type": "episode", "format": AUDIT_FORMAT, **header})

    @classmethod
    def for_episode(cls, directory: str | os.PathLike, header: Mapping[str, Any], env: Any,
                    seed: int | None) -> AuditLog:
        """Open ``<directory>/<stem>.jsonl`` for the episode ``env`` was just reset to and
        save its scenario beside it (see the module docstring)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        stem = f"seed{seed}" if seed is not None else f"episode{header.get('episode_index', 0)}"
        scenario = None
        base = env.unwrapped if env is not None else None
        if base is not None and base.scenario is not None:
            scenario = f"{stem}.scenario.npz"
            base.scenario.save(directory / scenario)
        return cls(directory / f"{stem}.jsonl", {
            "seed": seed, "scenario": scenario, "env": env_settings(env), **header})

    def write(self, record: Mapping[str, Any]) -> None:
        self._file.write(json.dumps(_jsonable(dict(record)), separators=(",", ":")) + "\n")
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def read_audit(path: str | os.PathLike) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the step records of an audit log.

    Raises:
        AuditLogError: no header first, another format, or steps missing or out of order
            (a complete log has one record for each step 0, 1, 2, ...).
    """
    lines = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    if not lines or lines[0].get("type") != "episode":
        raise AuditLogError(f"`{path}` does not start with an episode header")
    header = lines[0]
    if header.get("format") != AUDIT_FORMAT:
        raise AuditLogError(f"`{path}` has format {header.get('format')!r}; this reads "
                            f"format {AUDIT_FORMAT}")
    steps = lines[1:]
    for i, rec in enumerate(steps):
        if rec.get("type") != "step" or rec.get("step") != i:
            raise AuditLogError(f"`{path}`: line {i + 2} should be the record of step {i}, "
                                f"found {rec.get('type')} {rec.get('step')}")
    return header, steps


def installed_tables(steps: list[dict[str, Any]]) -> list[np.ndarray]:
    """The installed table of every step, rebuilt from the full table and the diffs."""
    tables: list[np.ndarray] = []
    table: np.ndarray | None = None
    for rec in steps:
        if "table" in rec:
            table = np.asarray(rec["table"], np.int32)
        else:
            if table is None:
                raise AuditLogError(f"step {rec['step']} has a diff but no earlier full table")
            table = table.copy()
            for u, z, v in rec["diff"]:
                table[u, z] = v
        tables.append(table)
    return tables


@dataclass
class ReplayResult:
    """What :func:`replay` found: the tables it installed and where they or the simulated
    observations differ from the log."""

    tables: list[np.ndarray]
    table_mismatches: list[int] = field(default_factory=list)
    observation_mismatches: list[int] = field(default_factory=list)
    metrics: list[dict[str, float]] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """Every installed table and every observation equals the recorded one."""
        return not (self.table_mismatches or self.observation_mismatches)


def _same_scenario(a: synnet.Scenario, b: synnet.Scenario) -> bool:
    return (a.steps == b.steps and a.step_ms == b.step_ms
            and np.array_equal(a.topology.edges, b.topology.edges)
            and np.array_equal(a.demands, b.demands) and np.array_equal(a.failures, b.failures))


def replay(scenario: synnet.Scenario | str | os.PathLike | None,
           audit_log: str | os.PathLike) -> ReplayResult:
    """Re-simulate a recorded episode: install the logged tables step by step.

    The environment is reset with the logged seed, on ``scenario`` (or the scenario file the
    log names, for None). If the episode's scenario was generated from the seed
    (``env.fixed_scenario`` false in the header), the environment generates it again with
    the logged settings, which also gives the simulator the same seed, and ``scenario`` must
    equal the generated one. Each step's table is rebuilt from the log, compared with the
    logged digest and installed; the observation before the step is compared with the one
    the guard acted on.

    Raises:
        AuditLogError: an incomplete log, or a scenario that is not the episode's.
    """
    import gymnasium as gym

    from packerl import ENV_ID

    header, steps = read_audit(audit_log)
    if scenario is None:
        if not header.get("scenario"):
            raise AuditLogError(f"`{audit_log}` names no scenario file; pass the scenario")
        scenario = Path(audit_log).parent / header["scenario"]
    if not isinstance(scenario, synnet.Scenario):
        scenario = synnet.Scenario.load(scenario)
    if len(steps) != scenario.steps:
        raise AuditLogError(f"`{audit_log}` has {len(steps)} step records for a scenario of "
                            f"{scenario.steps} steps: the log is incomplete")
    settings = header.get("env", {})
    if settings.get("fixed_scenario") is False:
        env = gym.make(ENV_ID, **settings["kwargs"])
    else:
        env = gym.make(ENV_ID, scenario=scenario)
    tables = installed_tables(steps)
    result = ReplayResult(tables=tables)
    try:
        obs, _ = env.reset(seed=header.get("seed"))
        base = env.unwrapped
        if not _same_scenario(base.scenario, scenario):
            raise AuditLogError(f"the scenario passed is not the one of `{audit_log}`: "
                                "its seed generates another one")
        for rec, table in zip(steps, tables):
            if table_digest(table) != rec["sha256"]:
                result.table_mismatches.append(rec["step"])
            if observation_digest(obs) != rec["obs_sha256"]:
                result.observation_mismatches.append(rec["step"])
            base.send_next_hops(table)
            obs, _, _, _, info = base.finish_step()
            result.metrics.append(dict(info["metrics"]))
    finally:
        env.close()
    return result


__all__ = ["AUDIT_FORMAT", "AuditLog", "AuditLogError", "ReplayResult", "env_settings",
           "installed_tables", "observation_digest", "read_audit", "replay", "table_digest"]
