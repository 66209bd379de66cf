# SPDX-License-Identifier: GPL-2.0-only
"""Experiment sweeps: a small YAML file of trials, run on Ray (or plain processes), resumable.

A **trial** is one (policy, training topology, training traffic, seed): it trains the policy
first when the policy is learned (``fieldlines``, ``mslim``; :func:`packerl.app.training.train`),
then evaluates it on every cell of the evaluation grid (topologies x traffics x link failures,
:func:`packerl.app.evaluate.evaluate`). Baselines (``ospf``, ``eigrp``, ``random_nh``,
``random_lw``) are trials without training and one seed (their results do not depend on it:
every policy is evaluated on the same scenario seeds ``evaluation.seed + i``).

The sweep file (see ``experiments/sweeps/*.yaml``)::

    name: fig3_smoke                  # results go to OUT/<name>/
    description: free text
    reference: eigrp                  # the report's values are relative to it (default eigrp)
    policies:                         # names, or mappings with a per-policy training setup
      - eigrp
      - {name: fieldlines, train: {topology: nx-XS, traffic: flex}}
      - {name: mslim, models_from: fig3}  # evaluate the models sweep `fig3` trained
      - guard:random_nh,max_change=0.2    # a guard spec (policies.guard) around a baseline
      - {name: "guard:fieldlines,mode=shadow", models_from: fig3}  # ... around trained models
    seeds: [0, 1]                     # training seeds of the learned policies
    training:                         # TrainConfig fields shared by all learned policies
      iterations: 100
    evaluation:
      topologies: [nx-XS]
      traffics: [udp_low, tcp_high]
      link_failures: [none]           # none and/or weibull
      network_models: [packet]        # packet (ns-3) and/or fluid (packerl.fluid)
      episodes: 100                   # or {nx-XS: 100, nx-XL: 30}
      episode_steps: 100
      seed: 9001
    resources:
      cpus_per_trial: 2               # Ray's num_cpus per trial; also the evaluation workers
      max_retries: 2                  # re-runs of a failed trial (each resumes where it stopped)

Results (``OUT/<name>/``)::

    sweep.yaml                  the sweep file as run
    trials/<trial-id>/trial.json   the trial's specification
    trials/<trial-id>/train/<run>/ the training run (model.zip, eval.csv, tensorboard/)
    trials/<trial-id>/eval/<run>/  one evaluation run per grid cell (episodes.csv, ...)
    trials/<trial-id>/DONE      written last (atomic rename): a re-run skips the trial
    trials/<trial-id>/FAILED    the last error, when the trial failed after all retries

A learned policy with ``models_from: <sweep name>`` is not trained again: its trials evaluate
the models of the same trial ids of that sweep (in the same ``--out`` directory), so the
paper's Figures 3-6 share one set of training runs.

A trained run directory (``packerl train`` or MAGNNETO's, relative to the working directory)
is evaluated like a baseline: one trial, its id :func:`policies.factory.policy_slug`.

A guard spec (:mod:`policies.guard`) is a policy like any other. Around a baseline or a
trained run directory it is one trial (its id: :func:`policies.factory.policy_slug`); around
a registered learned policy it needs ``models_from`` and has one trial per seed, which guards
the model of the other sweep's trial ``<policy>__<topology>__<traffic>__seed<s>``. The sweep
writes each guard trial's audit logs (one JSON lines file per episode) to
``trials/<trial-id>/audit/<topology>__<traffic>__<failures>/``; ``packerl report`` summarises
them.

Re-running the same command skips finished trials; an unfinished one resumes its training
from the last checkpoint and its evaluations from the last finished episode.

Example:
    >>> from packerl.app.sweep import load_sweep
    >>> sweep = load_sweep("experiments/sweeps/fig3_smoke.yaml")  # doctest: +SKIP
    >>> [t.trial_id for t in sweep.trials()][:2]  # doctest: +SKIP
    ['eigrp', 'ospf']
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from packerl.app.evaluate import NETWORK_MODELS, evaluate
from packerl.app.training import TrainConfig, check_rollout_memory, strict_train_config, train
from packerl.sim.launcher import main_process_alive, pool_worker_init
from policies.factory import check_guard_fallback, check_policy_name, policy_slug
from policies.guard import GuardSpecError, is_guard_spec, parse_guard_spec
from policies.registry import entry, names
from synnet.presets import LINK_FAILURE_PRESETS, TOPOLOGY_PRESETS, TRAFFIC_PRESETS

TOP_KEYS = ("name", "description", "reference", "policies", "seeds", "training", "evaluation",
            "resources")
EVAL_KEYS = ("topologies", "traffics", "link_failures", "network_models", "episodes",
             "episode_steps", "seed")
RESOURCE_KEYS = ("cpus_per_trial", "max_retries")
DONE, FAILED, TRIAL_FILE, AUDIT_DIR = "DONE", "FAILED", "trial.json", "audit"


class SweepConfigError(ValueError):
    """A sweep file that cannot be run; the message names the key and what is accepted."""


# ------------------------------------------------------------------------------- the file


@dataclass(frozen=True)
class EvalCell:
    """One cell of the evaluation grid."""

    topology: str
    traffic: str
    link_failures: str | None
    episodes: int
    network_model: str = "packet"

    @property
    def name(self) -> str:
        """``<topology>__<traffic>__<failures>[__fluid]``: the cell's directory name."""
        name = f"{self.topology}__{self.traffic}__{self.link_failures or 'none'}"
        return name if self.network_model == "packet" else f"{name}__{self.network_model}"


@dataclass(frozen=True)
class Trial:
    """One trial: train (learned policies only), then evaluate on every grid cell."""

    trial_id: str
    policy: str
    seed: int | None
    train: dict[str, Any] | None
    cells: tuple[EvalCell, ...]
    episode_steps: int
    eval_seed: int
    cpus: int
    models_from: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = json.loads(json.dumps(asdict(self)))
        for cell in out["cells"]:  # as trials written before the fluid model existed
            if cell["network_model"] == "packet":
                del cell["network_model"]
        return out


@dataclass
class Sweep:
    """A parsed sweep file (see the module docstring)."""

    name: str
    description: str
    policies: list[dict[str, Any]]
    seeds: list[int]
    training: dict[str, Any]
    evaluation: dict[str, Any]
    cpus_per_trial: int = 1
    max_retries: int = 1
    source: dict[str, Any] = field(default_factory=dict)
    reference: str = "eigrp"

    def cells(self) -> tuple[EvalCell, ...]:
        ev = self.evaluation
        episodes = ev["episodes"]
        return tuple(EvalCell(t, tr, None if f == "none" else f,
                              int(episodes[t] if isinstance(episodes, Mapping) else episodes),
                              model)
                     for model in ev["network_models"]
                     for t in ev["topologies"] for tr in ev["traffics"]
                     for f in ev["link_failures"])

    def trials(self, only: list[str] | None = None) -> list[Trial]:
        """The sweep's trials in file order (only those with an id in ``only`` if given).

        Raises:
            ValueError: ``only`` names a trial id the sweep does not have.
        """
        out = self._all_trials()
        if only is None:
            return out
        unknown = sorted(set(only) - {t.trial_id for t in out})
        if unknown:
            raise ValueError(f"unknown trial id(s) {unknown}; valid: "
                             f"{sorted(t.trial_id for t in out)}")
        return [t for t in out if t.trial_id in only]

    def _all_trials(self) -> list[Trial]:
        out = []
        common = {"cells": self.cells(), "episode_steps": int(self.evaluation["episode_steps"]),
                      "eval_seed": int(self.evaluation["seed"]), "cpus": self.cpus_per_trial}
        for p in self.policies:
            name = p["name"]
            learned = learned_policy_of(name)
            if learned is None:
                out.append(Trial(trial_id=policy_slug(name), policy=name, seed=None,
                                 train=None, **common))
                continue
            for seed in self.seeds:
                train = {**self.training, **p.get("train", {}), "policy": learned,
                         "seed": int(seed)}
                out.append(Trial(trial_id=learned_trial_id(name, train), policy=name,
                                 seed=int(seed), train=train,
                                 models_from=p.get("models_from"), **common))
        return out


def learned_policy_of(name: str) -> str | None:
    """The registered learned policy a (valid) sweep policy trains or loads: ``name`` itself,
    or the one a guard spec wraps; None for baselines, trained runs and guards of those."""
    inner = parse_guard_spec(name).inner if is_guard_spec(name) else name
    return inner if inner in names() and entry(inner).learned else None


def learned_trial_id(name: str, train: Mapping[str, Any]) -> str:
    """The trial id of a learned policy's (or its guard's) trial: ``<policy slug>__<training
    topology>__<training traffic>__seed<seed>``."""
    return f"{policy_slug(name)}__{train['topology']}__{train['traffic']}__seed{train['seed']}"


def _fail(where: str, message: str) -> SweepConfigError:
    return SweepConfigError(f"sweep file {where}: {message}")


def _check_keys(where: str, data: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(data, Mapping):
        raise _fail(where, f"expected a mapping, found {type(data).__name__}")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        import difflib

        hints = [m for k in unknown for m in difflib.get_close_matches(k, allowed, 1)]
        hint = f"; did you mean `{hints[0]}`?" if hints else ""
        raise _fail(where, f"unknown key(s) {unknown}; valid: {list(allowed)}{hint}")


def _str_list(where: str, value: Any, valid: Callable[[str], bool], what: str,
              names: list[str]) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise _fail(where, f"expected a non-empty list of {what}, found {value!r}")
    for v in value:
        if not isinstance(v, str) or not valid(v):
            raise _fail(where, f"unknown {what} {v!r}; valid: {names}")
    return list(dict.fromkeys(value))


def _is_run_directory(name: Any) -> bool:
    """A trained run (``packerl train`` or MAGNNETO) named by its directory, relative to the
    working directory: evaluated like a baseline, one trial."""
    if not isinstance(name, str):
        return False
    try:
        check_policy_name(name)
    except ValueError:
        return False
    return True


def _check_guard(where: str, spec: str, models_from: Any) -> None:
    """A sweep's guard spec: valid, no ``audit`` (the sweep chooses where its logs go), and
    ``models_from`` exactly when it wraps a registered learned policy."""
    try:
        config = parse_guard_spec(spec)
        if config.audit is not None:
            raise ValueError(f"guard spec `{spec}`: remove `audit=...`; a sweep writes each "
                             f"trial's audit logs to trials/<trial-id>/{AUDIT_DIR}/<cell>/")
        if learned_policy_of(spec) is None:
            check_policy_name(spec)
        elif models_from is None:
            raise ValueError(f"guard spec `{spec}` wraps the learned policy `{config.inner}`: "
                             "add `models_from: <sweep>` naming the sweep that trained it")
        else:
            check_guard_fallback(spec)
    except (GuardSpecError, ValueError) as exc:
        raise _fail(where, str(exc)) from None


def _pos_int(where: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(where, f"expected an integer >= {minimum}, found {value!r}")
    return value


def parse_sweep(data: Mapping[str, Any]) -> Sweep:
    """Validate a sweep file's content and return the :class:`Sweep`.

    Raises:
        SweepConfigError: for unknown keys, policies, presets and out-of-range numbers.
    """
    _check_keys("(top level)", data, TOP_KEYS)
    for key in ("name", "policies", "evaluation"):
        if key not in data:
            raise _fail("(top level)", f"missing required key `{key}`")
    name = data["name"]
    if not isinstance(name, str) or not name or any(c in name for c in "/\\ ") or name[0] == ".":
        raise _fail("`name`", f"expected a directory-safe name, found {name!r}")

    topologies, traffics = sorted(TOPOLOGY_PRESETS), sorted(TRAFFIC_PRESETS)
    train_fields = {f.name for f in fields(TrainConfig)} - {"policy", "seed", "out"}
    policies: list[dict[str, Any]] = []
    raw_policies = data["policies"]
    if not isinstance(raw_policies, list) or not raw_policies:
        raise _fail("`policies`", f"expected a non-empty list, found {raw_policies!r}")
    for i, p in enumerate(raw_policies):
        where = f"`policies[{i}]`"
        if isinstance(p, str):
            p = {"name": p}
        _check_keys(where, p, ("name", "train", "models_from"))
        pname = p.get("name")
        if is_guard_spec(pname):
            _check_guard(where, pname, p.get("models_from"))
        elif pname not in names() and not _is_run_directory(pname):
            raise _fail(where, f"unknown policy {pname!r}; valid: {list(names())}, a guard "
                        "spec (guard:<policy>[,option=value...]) or a trained run directory")
        item: dict[str, Any] = {"name": pname}
        learned = learned_policy_of(pname)
        if learned is not None:
            train = {**entry(learned).train_scenario, **(p.get("train") or {})}
            _check_keys(f"{where}.train", train, tuple(sorted(train_fields)))
            if train["topology"] not in TOPOLOGY_PRESETS:
                raise _fail(f"{where}.train.topology", f"unknown preset "
                            f"{train['topology']!r}; valid: {topologies}")
            if train["traffic"] not in TRAFFIC_PRESETS:
                raise _fail(f"{where}.train.traffic", f"unknown preset {train['traffic']!r}; "
                            f"valid: {traffics}")
            item["train"] = train
            models_from = p.get("models_from")
            if models_from is not None:
                if not isinstance(models_from, str) or not models_from or "/" in models_from:
                    raise _fail(f"{where}.models_from", "expected the `name` of another sweep "
                                f"in the same --out directory, found {models_from!r}")
                item["models_from"] = models_from
        elif p.get("train") or p.get("models_from"):
            raise _fail(where, f"`{pname}` is not trained by a sweep (a baseline or a trained "
                        "run); remove `train` and `models_from`")
        if any(e["name"] == pname for e in policies):
            raise _fail(where, f"policy `{pname}` is listed twice")
        policies.append(item)

    reference = data.get("reference", "eigrp")
    if "reference" in data and (reference not in [p["name"] for p in policies]
                                or is_guard_spec(reference) or entry(reference).learned):
        raise _fail("`reference`", f"expected a baseline listed under `policies` (the "
                    f"report's values are relative to it), found {reference!r}")

    seeds = data.get("seeds", [0])
    if isinstance(seeds, int):
        seeds = [seeds]
    if not isinstance(seeds, list) or not seeds:
        raise _fail("`seeds`", f"expected a non-empty list of integers >= 0, found {seeds!r}")
    seeds = [_pos_int("`seeds`", s, 0) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise _fail("`seeds`", f"duplicate seeds in {seeds}")

    training = dict(data.get("training") or {})
    _check_keys("`training`", training, tuple(sorted(train_fields)))

    ev = data["evaluation"]
    _check_keys("`evaluation`", ev, EVAL_KEYS)
    evaluation = {
        "topologies": _str_list("`evaluation.topologies`", ev.get("topologies", ["nx-XS"]),
                                TOPOLOGY_PRESETS.__contains__, "topology preset", topologies),
        "traffics": _str_list("`evaluation.traffics`", ev.get("traffics", ["tcp_high"]),
                              TRAFFIC_PRESETS.__contains__, "traffic preset", traffics),
        "link_failures": _str_list("`evaluation.link_failures`",
                                   ev.get("link_failures", ["none"]) or ["none"],
                                   LINK_FAILURE_PRESETS.__contains__, "link failure preset",
                                   sorted(LINK_FAILURE_PRESETS)),
        "network_models": _str_list("`evaluation.network_models`",
                                    ev.get("network_models", ["packet"]),
                                    NETWORK_MODELS.__contains__, "network model",
                                    list(NETWORK_MODELS)),
        "episode_steps": _pos_int("`evaluation.episode_steps`", ev.get("episode_steps", 100)),
        "seed": _pos_int("`evaluation.seed`", ev.get("seed", 9001), 0),
    }
    episodes = ev.get("episodes", 100)
    if isinstance(episodes, Mapping):
        missing = [t for t in evaluation["topologies"] if t not in episodes]
        if missing:
            raise _fail("`evaluation.episodes`", f"no episode count for topologies {missing}")
        episodes = {t: _pos_int(f"`evaluation.episodes.{t}`", episodes[t])
                    for t in evaluation["topologies"]}
    else:
        episodes = _pos_int("`evaluation.episodes`", episodes)
    evaluation["episodes"] = episodes

    res = data.get("resources") or {}
    _check_keys("`resources`", res, RESOURCE_KEYS)
    sweep = Sweep(name=name, description=str(data.get("description") or ""),
                  policies=policies, seeds=seeds, training=training, evaluation=evaluation,
                  cpus_per_trial=_pos_int("`resources.cpus_per_trial`",
                                          res.get("cpus_per_trial", 1)),
                  max_retries=_pos_int("`resources.max_retries`", res.get("max_retries", 1), 0),
                  source=dict(data), reference=reference)
    ids = [t.trial_id for t in sweep.trials()]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise _fail("`policies`", f"two policies share the trial id(s) {twice} (trained runs "
                    "are named by their directory's name): rename one directory")
    for trial in sweep.trials():  # every training setup must be a valid TrainConfig
        if trial.train is not None:
            where = f"training of `{trial.trial_id}`"
            lf = trial.train.get("link_failures")
            if lf is not None and lf not in LINK_FAILURE_PRESETS:
                raise _fail(f"{where}: `link_failures`", f"unknown preset {lf!r}; valid: "
                            f"{sorted(LINK_FAILURE_PRESETS)} (or null)")
            et = trial.train.get("eval_traffic")
            if et is not None and et not in TRAFFIC_PRESETS:
                raise _fail(f"{where}: `eval_traffic`", f"unknown preset {et!r}; valid: "
                            f"{traffics} (or null)")
            try:
                check_rollout_memory(strict_train_config(trial.train))
            except (TypeError, ValueError) as exc:
                raise _fail(where, str(exc)) from None
    return sweep


def load_sweep(path: str | os.PathLike) -> Sweep:
    """Read and validate a sweep YAML file.

    Raises:
        FileNotFoundError: no such file.
        SweepConfigError: invalid YAML or content (see :func:`parse_sweep`).
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep file `{path}` does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SweepConfigError(f"sweep file `{path}` is not valid YAML: {exc}") from None
    return parse_sweep(data if data is not None else {})


# ----------------------------------------------------------------------------- one trial


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def trial_dir(out: str | os.PathLike, sweep_name: str, trial_id: str) -> Path:
    return Path(out) / sweep_name / "trials" / trial_id


def prepare_trial(trial: Trial, tdir: Path) -> None:
    """Create the trial directory and its ``trial.json`` (refusing a changed specification)."""
    tdir.mkdir(parents=True, exist_ok=True)
    spec = trial.to_json()
    path = tdir / TRIAL_FILE
    if path.exists():
        stored = json.loads(path.read_text())
        if stored != spec:
            diff = sorted(k for k in spec if stored.get(k) != spec[k])
            raise SweepConfigError(
                f"`{tdir}` holds a trial with a different specification (differs in {diff}); "
                "the sweep file changed: use another --out, another sweep `name`, or delete "
                "the trial directory")
    else:
        _atomic_write(path, json.dumps(spec, indent=2) + "\n")


def trained_model_of(trial_json: dict[str, Any], tdir: Path) -> Path:
    """The training run directory a ``models_from`` trial evaluates: the same trial id of the
    other sweep (``<out>/<models_from>/trials/<trial-id>/train/<run>``), trained there.

    Raises:
        FileNotFoundError: that sweep has not finished training this trial yet.
    """
    source_id = learned_trial_id(trial_json["train"]["policy"], trial_json["train"])
    source = Path(tdir).parents[1].parent / trial_json["models_from"] / "trials" / source_id
    spec = source / TRIAL_FILE
    run = None
    if spec.is_file():
        src = json.loads(spec.read_text())
        if src.get("train"):
            run = TrainConfig(**src["train"], out=str(source / "train")).run_dir()
    if run is None or not (run / "model.zip").is_file():
        raise FileNotFoundError(
            f"trial `{trial_json['trial_id']}` takes its model from sweep "
            f"`{trial_json['models_from']}`, but `{source}` holds no trained model; run that "
            "sweep first (with the same --out)")
    return run.resolve()


def run_trial(trial_json: dict[str, Any], tdir: str) -> dict[str, Any]:
    """Run one trial in this process (a Ray task or a worker process calls this).

    Trains (resuming a checkpoint if there is one), evaluates every grid cell (resuming
    finished episodes), then writes ``DONE``. Returns a small status dict.
    """
    t0 = time.monotonic()
    path = Path(tdir)
    cells = [EvalCell(**c) for c in trial_json["cells"]]
    policy = trial_json["policy"]
    model = None
    if trial_json["train"] is not None and trial_json.get("models_from"):
        model = str(trained_model_of(trial_json, path))
    elif trial_json["train"] is not None:
        config = TrainConfig(**trial_json["train"], out=str(path / "train"))
        run = config.run_dir()
        if not (run / "model.zip").exists():
            train(config, resume=True, progress=False)
        model = str(run.resolve())
    eval_dir = path / "eval"
    for cell in cells:
        evaluate(_cell_policy(policy, model, path, cell), cell.topology, cell.traffic,
                 cell.episodes, trial_json["eval_seed"],
                 eval_dir, link_failures=cell.link_failures,
                 episode_steps=trial_json["episode_steps"],
                 workers=max(1, min(int(trial_json["cpus"]), cell.episodes)), progress=False,
                 network_model=cell.network_model)
    if not main_process_alive():  # an orphaned worker: the sweep that asked is gone
        raise SystemExit(f"trial {trial_json['trial_id']}: the sweep process died; not DONE")
    (path / FAILED).unlink(missing_ok=True)
    status = {"trial_id": trial_json["trial_id"], "seconds": time.monotonic() - t0,
              "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    _atomic_write(path / DONE, json.dumps(status) + "\n")
    return status


def _cell_policy(policy: str, model: str | None, tdir: Path, cell: EvalCell) -> str:
    """The policy a trial evaluates on ``cell``: its trained model (if any) in place of the
    registered name, and for a guard spec the cell's audit directory of the trial."""
    if not is_guard_spec(policy):
        return model or policy
    config = parse_guard_spec(policy)
    return replace(config, inner=model or config.inner,
                   audit=str((tdir / AUDIT_DIR / cell.name).resolve())).spec()


def _run_with_retries(trial_json: dict[str, Any], tdir: str, retries: int) -> dict[str, Any]:
    """Plain-process backend: run the trial, retrying up to ``retries`` times."""
    for attempt in range(retries + 1):
        try:
            return run_trial(trial_json, tdir)
        except Exception:
            if attempt == retries:
                raise
    raise AssertionError("unreachable")


# ----------------------------------------------------------------------------- execution


@dataclass
class SweepResult:
    """What a :func:`run_sweep` call did."""

    root: Path
    skipped: list[str]
    finished: list[str]
    failed: dict[str, str]
    backend: str


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def run_sweep(sweep: Sweep, out: str | os.PathLike, *, backend: str = "auto",
              address: str | None = None, num_cpus: int | None = None,
              only: list[str] | None = None,
              log: Callable[[str], None] = print) -> SweepResult:
    """Run every unfinished trial of ``sweep`` under ``out/<name>/``.

    Args:
        sweep: the parsed sweep file.
        out: parent directory of the sweep's result directory.
        backend: ``"ray"`` (tasks with ``num_cpus`` = ``cpus_per_trial`` and ``max_retries``),
            ``"processes"`` (a local process pool, retries in the worker) or ``"auto"`` (Ray if
            it is importable, else processes).
        address: an existing Ray cluster (``ray.init(address=...)``); default: a Ray instance
            on this machine that ends with the sweep.
        num_cpus: CPUs of the local Ray instance / process pool (default: all of them).
        only: run only these trial ids.
        log: where progress lines go.

    Returns:
        A :class:`SweepResult`; trials that failed after all retries are listed in ``failed``
        (and have a ``FAILED`` file), the others in ``finished``/``skipped``.
    """
    if backend not in ("auto", "ray", "processes"):
        raise ValueError(f"unknown backend {backend!r}; valid: auto, ray, processes")
    if backend == "auto":
        backend = "ray" if ray_available() else "processes"
    if backend == "ray" and not ray_available():
        raise ValueError("backend `ray` needs Ray: pip install 'packerl[sweep]' (or use "
                         "--backend processes)")
    if address is not None and backend != "ray":
        raise ValueError("--address needs the Ray backend")

    root = (Path(out) / sweep.name).resolve()
    root.mkdir(parents=True, exist_ok=True)
    import yaml

    _atomic_write(root / "sweep.yaml", yaml.safe_dump(sweep.source, sort_keys=False))
    trials = sweep.trials(only)
    skipped, todo = [], []
    for t in trials:  # fail early when a model to evaluate is missing
        if t.models_from and not (root / "trials" / t.trial_id / DONE).exists():
            try:
                trained_model_of(t.to_json(), root / "trials" / t.trial_id)
            except FileNotFoundError as exc:
                raise ValueError(str(exc)) from None
    for t in trials:
        tdir = root / "trials" / t.trial_id
        prepare_trial(t, tdir)
        (skipped if (tdir / DONE).exists() else todo).append(t)
    for t in skipped:
        log(f"skip {t.trial_id} (DONE)")
    result = SweepResult(root=root, skipped=[t.trial_id for t in skipped], finished=[],
                         failed={}, backend=backend)
    if not todo:
        return result
    log(f"running {len(todo)} trial(s) on {backend}"
        f"{' at ' + address if address else ''}, {sweep.cpus_per_trial} CPU(s) each, "
        f"up to {sweep.max_retries} retries")

    def finished(tid: str) -> None:
        result.finished.append(tid)
        log(f"done {tid}")

    def failed(tid: str, exc: BaseException) -> None:
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        result.failed[tid] = text
        _atomic_write(root / "trials" / tid / FAILED, text + "\n")
        log(f"FAILED {tid}: {text.splitlines()[-1] if text else type(exc).__name__}")

    if backend == "ray":
        _run_ray(sweep, todo, root, address, num_cpus, finished, failed)
    else:
        _run_processes(sweep, todo, root, num_cpus, finished, failed)
    return result


def _run_ray(sweep: Sweep, todo: list[Trial], root: Path, address: str | None,
             num_cpus: int | None, finished: Callable, failed: Callable) -> None:
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        if address is not None:
            ray.init(address=address, log_to_driver=False)
        else:
            # address="local": a new instance even if a `ray start` cluster runs here
            ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1,
                     include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
    try:
        available = int(ray.cluster_resources().get("CPU", 1))
        cpus = min(sweep.cpus_per_trial, max(1, available))
        task = ray.remote(num_cpus=cpus, max_retries=sweep.max_retries,
                          retry_exceptions=True)(run_trial)
        refs = {task.remote(t.to_json(), str(root / "trials" / t.trial_id)): t.trial_id
                for t in todo}
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    try:
                        ray.get(ref)
                        finished(refs[ref])
                    except Exception as exc:  # noqa: BLE001 - the task failed after its retries
                        failed(refs[ref], getattr(exc, "cause", None) or exc)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
    finally:
        if started_here:
            ray.shutdown()


def _run_processes(sweep: Sweep, todo: list[Trial], root: Path, num_cpus: int | None,
                   finished: Callable, failed: Callable) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    total = num_cpus or os.cpu_count() or 1
    workers = max(1, min(len(todo), total // max(1, sweep.cpus_per_trial)))
    ctx = multiprocessing.get_context(
        "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")
    # workers that are not daemons, so evaluate() and train() may start their own processes
    # ... that die with the fork server, which exits when this process dies
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                             initializer=pool_worker_init, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(_run_with_retries, t.to_json(), str(root / "trials" / t.trial_id),
                               sweep.max_retries): t.trial_id for t in todo}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    exc = fut.exception()
                    if exc is None:
                        finished(futures[fut])
                    else:
                        failed(futures[fut], exc)
        except BaseException:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


__all__ = ["EvalCell", "Sweep", "SweepConfigError", "SweepResult",
           "Trial", "load_sweep", "parse_sweep", "run_sweep", "run_trial"]
