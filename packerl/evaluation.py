# SPDX-License-Identifier: GPL-2.0-only
"""Evaluate a routing policy over many episodes, in parallel, with resumable result files.

Episode ``i`` resets the environment with seed ``seed + i`` and seeds the policy with the same
number, so results depend only on ``(policy, topology, traffic, link_failures, episode_steps,
step_ms, seed)`` and never on the number of worker processes. Every worker process builds its
own environment (and simulator) and policy per episode.

Results go to ``out_dir/<policy>__<topology>__<traffic>__seed<seed>`` (with ``__<failures>``
appended when link failures are on):

- ``config.json``: the run's configuration, written first; a re-run with a different
  configuration into the same directory is refused.
- ``episodes.csv``: one row per finished episode, appended as soon as the episode ends
  (columns :data:`EPISODE_COLUMNS`); re-running skips episodes already in it. At the end the
  file is rewritten sorted by episode.
- ``steps.csv`` (only with ``per_step=True``): one row per step (:data:`STEP_COLUMNS`).
- ``summary.json``: the configuration and mean/std/min/max of every metric over the episodes.

Example:
    >>> from packerl.evaluation import evaluate
    >>> run = evaluate("eigrp", "nx-XS", "udp_low", episodes=2, seed=1, out_dir="results",
    ...                episode_steps=5, workers=1, progress=False)  # doctest: +SKIP
    >>> sorted(p.name for p in run.iterdir())  # doctest: +SKIP
    ['config.json', 'episodes.csv', 'summary.json']
"""

from __future__ import annotations

import csv
import json
import math
import multiprocessing
import os
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
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


@dataclass(frozen=True)
class EvalConfig:
    """What determines an evaluation's results (the number of episodes only extends it)."""

    policy: str
    topology: str
    traffic: str
    seed: int
    link_failures: str | None = None
    episode_steps: int = 100
    step_ms: float = 5.0
    action_type: str = "next_hop"
    synnet_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def run_name(self) -> str:
        from policies.baselines import policy_slug

        name = f"{policy_slug(self.policy)}__{self.topology}__{self.traffic}__seed{self.seed}"
        if self.link_failures not in (None, "none"):
            name += f"__{self.link_failures}"
        return name

    def env_kwargs(self) -> dict[str, Any]:
        return dict(topology=self.topology, traffic=self.traffic,
                    link_failures=self.link_failures, episode_steps=self.episode_steps,
                    step_ms=self.step_ms, synnet_kwargs=dict(self.synnet_kwargs))

    @property
    def env_id(self) -> str:
        import packerl

        return packerl.ENV_ID if self.action_type == "next_hop" else packerl.LINK_WEIGHTS_ENV_ID


# --------------------------------------------------------------------------------- workers


def make_env(config: EvalConfig):
    """The environment an evaluation uses (validates the configuration's names)."""
    import gymnasium as gym

    import packerl  # noqa: F401 - registers the ids

    return gym.make(config.env_id, **config.env_kwargs())


def run_episode(config: EvalConfig, episode: int,
                per_step: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run episode ``episode`` of ``config`` in this process.

    Returns:
        ``(row, step_rows)``: the episode's CSV row and (with ``per_step``) its step rows.
    """
    from policies.baselines import make_policy

    seed = config.seed + episode
    started = time.perf_counter()
    env = make_env(config)
    try:
        policy = make_policy(config.policy, env, seed=seed)
        obs, info = env.reset(seed=seed)
        policy.reset()
        inference, steps = [], []
        truncated = terminated = False
        while not (truncated or terminated):
            t0 = time.perf_counter()
            action = policy.act(obs)
            inference.append((time.perf_counter() - t0) * 1e3)
            obs, reward, terminated, truncated, info = env.step(action)
            if per_step:
                m = info["metrics"]
                steps.append({"episode": episode, "step": info["step"] - 1,
                              "reward": float(reward), **{k: m.get(k, math.nan)
                                                          for k in STEP_METRICS},
                              "inference_ms": inference[-1]})
        summary = info["episode_metrics"]
    finally:
        env.close()
    row: dict[str, Any] = {"episode": episode, "seed": seed, "num_nodes": info["num_nodes"],
                           "num_edges": info["num_edges"], "steps": int(summary["steps"])}
    row.update({k: float(summary.get(k, math.nan)) for k in EPISODE_METRICS})
    row["inference_ms"] = float(np.mean(inference))
    row["wall_s"] = time.perf_counter() - started
    return row, steps


def _worker(config: EvalConfig, episode: int, per_step: bool):
    try:
        return run_episode(config, episode, per_step)
    except Exception as exc:  # travel back with the episode that failed
        raise RuntimeError(f"episode {episode} (reset seed {config.seed + episode}) of "
                           f"`{config.run_name}` failed: {type(exc).__name__}: {exc}") from exc


# ------------------------------------------------------------------------------ result files


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Complete rows of a result CSV (a row cut short by a crash is dropped)."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None:
            return []
        if tuple(reader.fieldnames) != columns:
            raise ValueError(f"`{path}` has columns {reader.fieldnames}, expected "
                             f"{list(columns)}; delete it or use another output directory")
        return [r for r in reader if None not in r.values() and all(r[c] != "" for c in columns)]


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[Mapping[str, Any]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


class _Appender:
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
    rows = _read_csv(Path(run_dir) / EPISODES_FILE, EPISODE_COLUMNS)
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


def _json_config(config: EvalConfig) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(config)))


# ---------------------------------------------------------------------------------- evaluate


def evaluate(
    policy_name: str,
    topology: str,
    traffic: str,
    episodes: int,
    seed: int,
    out_dir: str | os.PathLike,
    link_failures: str | None = None,
    episode_steps: int = 100,
    workers: int | None = None,
    *,
    step_ms: float = 5.0,
    action_type: str = "next_hop",
    per_step: bool = False,
    progress: bool = True,
    synnet_kwargs: Mapping[str, Any] | None = None,
) -> Path:
    """Evaluate ``policy_name`` for ``episodes`` episodes and write the result files.

    Args:
        policy_name: a registered policy (see :func:`policies.baselines.make_policy`).
        topology, traffic, link_failures: synnet presets.
        episodes: number of episodes (episode ``i`` uses reset seed ``seed + i``).
        seed: base seed.
        out_dir: parent directory of the run directory.
        episode_steps: steps per episode (default: 100).
        workers: worker processes (default: ``min(os.cpu_count(), episodes to run)``); with 1
            the episodes run in this process.
        step_ms: simulated ms per step (default: 5).
        action_type: environment variant, ``"next_hop"`` or ``"link_weights"``.
        per_step: also write ``steps.csv``.
        progress: show a tqdm progress bar.
        synnet_kwargs: extra overrides for ``synnet.generate``.

    Returns:
        The run directory.

    Raises:
        ValueError: unknown policy/preset names, out-of-range numbers, or a run directory
            holding results of a different configuration.
    """
    from tqdm.auto import tqdm

    from policies.baselines import check_policy_name, make_policy

    check_policy_name(policy_name)
    for what, value in (("episodes", episodes), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"`{what}` must be an integer, got {value!r}")
    if episodes < 1:
        raise ValueError(f"`episodes` must be >= 1, got {episodes}")
    if seed < 0:
        raise ValueError(f"`seed` must be >= 0, got {seed}")
    if workers is not None and (isinstance(workers, bool) or int(workers) != workers
                                or workers < 1):
        raise ValueError(f"`workers` must be an integer >= 1, got {workers!r}")
    if link_failures == "none":
        link_failures = None
    from policies.baselines import is_learned_model

    if is_learned_model(policy_name):  # the env variant the model was trained for
        from policies.learned import resolve_model
        from packerl.training import POLICY_CLASSES, TrainConfig

        trained = TrainConfig.from_json(resolve_model(policy_name)[2])
        action_type = POLICY_CLASSES[trained.policy][2]
    config = EvalConfig(policy=policy_name, topology=topology, traffic=traffic, seed=int(seed),
                        link_failures=link_failures, episode_steps=int(episode_steps),
                        step_ms=float(step_ms), action_type=action_type,
                        synnet_kwargs=dict(synnet_kwargs or {}))
    env = make_env(config)  # validates names and numbers before anything is written
    try:
        make_policy(policy_name, env, seed=0)
    finally:
        env.close()

    run_dir = Path(out_dir) / config.run_name
    run_dir.mkdir(parents=True, exist_ok=True)
    wanted = _json_config(config)
    config_path = run_dir / CONFIG_FILE
    if config_path.exists():
        stored = json.loads(config_path.read_text())
        if stored != wanted:
            diff = {k: (stored.get(k), v) for k, v in wanted.items() if stored.get(k) != v}
            raise ValueError(f"`{run_dir}` holds results of a different configuration "
                             f"(stored vs requested: {diff}); use another output directory "
                             "or delete it")
    else:
        config_path.write_text(json.dumps(wanted, indent=2) + "\n")

    episodes_path, steps_path = run_dir / EPISODES_FILE, run_dir / STEPS_FILE
    rows = {int(r["episode"]): r for r in _read_csv(episodes_path, EPISODE_COLUMNS)}
    _write_csv(episodes_path, EPISODE_COLUMNS, [rows[i] for i in sorted(rows)])
    if per_step:  # keep only steps of finished episodes (a crash may leave a partial one)
        steps = [r for r in _read_csv(steps_path, STEP_COLUMNS) if int(r["episode"]) in rows]
        _write_csv(steps_path, STEP_COLUMNS, steps)
    todo = [i for i in range(episodes) if i not in rows]
    workers = int(workers) if workers is not None else max(1, min(os.cpu_count() or 1,
                                                                  len(todo)))

    ep_out = _Appender(episodes_path, EPISODE_COLUMNS)
    st_out = _Appender(steps_path, STEP_COLUMNS) if per_step else None
    bar = tqdm(total=episodes, initial=episodes - len(todo), desc=config.run_name,
               unit="ep", disable=not progress, dynamic_ncols=True)

    def record(result: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        row, step_rows = result
        if st_out is not None:
            st_out.write(step_rows)
        ep_out.write([row])
        rows[row["episode"]] = row
        bar.update(1)

    try:
        if todo and workers == 1:
            for i in todo:
                record(_worker(config, i, per_step))
        elif todo:
            ctx = multiprocessing.get_context(
                "forkserver" if "forkserver" in multiprocessing.get_all_start_methods()
                else "spawn")
            with ProcessPoolExecutor(max_workers=min(workers, len(todo)),
                                     mp_context=ctx) as pool:
                pending: set[Future] = {pool.submit(_worker, config, i, per_step)
                                        for i in todo}
                try:
                    while pending:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for fut in done:
                            record(fut.result())
                except BaseException:
                    for fut in pending:
                        fut.cancel()
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
    finally:
        bar.close()
        ep_out.close()
        if st_out is not None:
            st_out.close()

    ordered = [rows[i] for i in sorted(rows)]
    _write_csv(episodes_path, EPISODE_COLUMNS, ordered)
    if per_step:
        steps = sorted(_read_csv(steps_path, STEP_COLUMNS),
                       key=lambda r: (int(r["episode"]), int(r["step"])))
        _write_csv(steps_path, STEP_COLUMNS, steps)
    numeric = load_episodes(run_dir)
    selected = [r for r in numeric if r["episode"] < episodes]
    summary = {
        "config": wanted,
        "episodes": len(selected),
        "episode_indices": [r["episode"] for r in selected],
        "metrics": summarize(selected),
    }
    (run_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return run_dir


__all__ = [
    "EPISODE_COLUMNS",
    "EPISODE_METRICS",
    "STEP_COLUMNS",
    "TIMING_COLUMNS",
    "EvalConfig",
    "evaluate",
    "load_config",
    "load_episodes",
    "run_episode",
    "summarize",
]


# ----------------------------------------------------------------------------------- compare

#: metrics shown relative to the reference: (column, label, higher is better)
RATIO_METRICS: tuple[tuple[str, str, bool], ...] = (
    ("total_goodput_mb", "Goodput", True),
    ("avg_delay_ms", "Avg. delay", False),
    ("max_delay_ms", "Max. delay", False),
    ("avg_jitter_ms", "Jitter", False),
    ("drop_ratio", "Drop ratio", False),
    ("max_link_util", "Max. LU", False),
)
#: metrics shown as absolute values (the reference's are often 0): (column, label)
ABSOLUTE_METRICS: tuple[tuple[str, str], ...] = (
    ("action_fluctuation", "Action fluct."),
    ("inference_ms", "Inference [ms]"),
)
GROUP_KEYS: tuple[str, ...] = ("topology", "traffic", "link_failures", "episode_steps", "step_ms")
_POLICY_ORDER = ("eigrp", "ospf", "random_lw", "random_nh")


@dataclass
class Comparison:
    """Mean metrics of several policies on one (topology, traffic, ...) group, relative to a
    reference policy."""

    group: dict[str, Any]
    reference: str
    policies: list[str]
    episodes: dict[str, int]
    means: dict[str, dict[str, float]]
    ratios: dict[str, dict[str, float]]
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        g = self.group
        title = f"{g['topology']} / {g['traffic']}"
        if g.get("link_failures") not in (None, "none"):
            title += f" / failures: {g['link_failures']}"
        if g.get("episode_steps") != 100 or g.get("step_ms") != 5.0:
            title += f" / {g['episode_steps']} steps x {g['step_ms']:g} ms"
        return title


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


def ratio(value: float, reference: float) -> float:
    """``value / reference`` for result tables: NaN if either is missing, 1 for 0/0, inf for
    x/0."""
    if not (np.isfinite(value) and np.isfinite(reference)):
        return math.nan
    if reference == 0:
        return 1.0 if value == 0 else math.inf
    return value / reference


def compare(paths: list[str | os.PathLike], reference: str = "eigrp") -> list[Comparison]:
    """Group result directories by (topology, traffic, link failures, steps) and express each
    policy's mean metrics relative to ``reference`` (runs of one policy in a group, e.g. with
    different seeds, are pooled).

    Raises:
        FileNotFoundError: see :func:`find_run_dirs`; also when no run has finished episodes.
        ValueError: when no group contains the reference policy.
    """
    groups: dict[tuple, dict[str, list[dict[str, float]]]] = {}
    seeds: dict[tuple, dict[str, set[int]]] = {}
    configs: dict[tuple, dict[str, Any]] = {}
    for run in find_run_dirs(paths):
        cfg = load_config(run)
        rows = load_episodes(run)
        if not rows:
            continue
        key = tuple(json.dumps(cfg.get(k)) for k in GROUP_KEYS)
        configs[key] = {k: cfg.get(k) for k in GROUP_KEYS}
        groups.setdefault(key, {}).setdefault(cfg["policy"], []).extend(rows)
        seeds.setdefault(key, {}).setdefault(cfg["policy"], set()).update(r["seed"] for r in rows)
    if not groups:
        raise FileNotFoundError(f"no finished episodes in {[str(p) for p in paths]}")
    out = []
    for key, by_policy in groups.items():
        if reference not in by_policy:
            continue
        order = sorted(by_policy, key=lambda p: (p != reference, _POLICY_ORDER.index(p)
                                                 if p in _POLICY_ORDER else 99, p))
        means = {p: {k: v["mean"] if v["mean"] is not None else math.nan
                     for k, v in summarize(by_policy[p]).items()} for p in order}
        ratios = {p: {m: ratio(means[p][m], means[reference][m]) for m, _, _ in RATIO_METRICS}
                  for p in order}
        notes = [f"`{p}` was evaluated on other episode seeds than `{reference}`: its ratios "
                 "compare different scenarios" for p in order
                 if seeds[key][p] != seeds[key][reference]]
        out.append(Comparison(group=configs[key], reference=reference, policies=order,
                              episodes={p: len(by_policy[p]) for p in order}, means=means,
                              ratios=ratios, notes=notes))
    if not out:
        found = sorted({p for g in groups.values() for p in g})
        raise ValueError(f"no result group contains the reference policy `{reference}`; "
                         f"policies found: {found}; evaluate `{reference}` on the same "
                         "topology and traffic, or pass --reference")
    return sorted(out, key=lambda c: c.title)


def format_number(x: float, digits: int = 3) -> str:
    """A metric value for tables: 3 significant digits, "n/a" for NaN/None, "inf"."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if math.isinf(x):
        return "inf"
    return f"{x:.{digits}g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"


def format_comparison(comp: Comparison) -> str:
    """A plain-text table: one row per policy, ratios to the reference with absolute means."""
    from policies.baselines import policy_label

    header = ["policy", "episodes", *(label for _, label, _ in RATIO_METRICS),
              *(label for _, label in ABSOLUTE_METRICS)]
    lines = [header]
    for p in comp.policies:
        cells = [policy_label(p), str(comp.episodes[p])]
        for m, _, _ in RATIO_METRICS:
            cells.append(f"{format_number(comp.ratios[p][m])} ({format_number(comp.means[p][m])})")
        cells += [format_number(comp.means[p][m]) for m, _ in ABSOLUTE_METRICS]
        lines.append(cells)
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    text = [f"{comp.title}: mean over episodes relative to {policy_label(comp.reference)} "
            "(absolute mean in parentheses; goodput = total MB per episode)"]
    for j, row in enumerate(lines):
        text.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                              for i, (c, w) in enumerate(zip(row, widths))))
        if j == 0:
            text.append("  ".join("-" * w for w in widths))
    text += [f"note: {n}" for n in comp.notes]
    return "\n".join(text)


def plot_comparison(comparisons: list[Comparison], path: str | os.PathLike) -> Path:
    """Heatmap(s) in the style of the paper's Figures 3-4: rows = metrics, columns =
    policies, colour = value relative to the reference (green = better, log scale, clipped
    at 0.5x / 2x), annotated with the ratio and the absolute mean. One panel per group."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    from policies.baselines import policy_label

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [label for _, label, _ in RATIO_METRICS] + [label for _, label in ABSOLUTE_METRICS]
    width = max(len(c.policies) for c in comparisons)
    fig, axes = plt.subplots(len(comparisons), 1, squeeze=False,
                             figsize=(2.0 + 1.6 * width, 0.2 + 3.8 * len(comparisons)))
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#dddddd")
    norm = Normalize(-1.0, 1.0)
    for ax, comp in zip(axes[:, 0], comparisons):
        score = np.full((len(rows), len(comp.policies)), np.nan)
        for j, p in enumerate(comp.policies):
            for i, (m, _, higher) in enumerate(RATIO_METRICS):
                r = comp.ratios[p][m]
                if np.isfinite(r) and r > 0:
                    score[i, j] = np.clip(np.log2(r) * (1 if higher else -1), -1, 1)
                elif r == 0 or np.isinf(r):
                    score[i, j] = (1 if (r == 0) != higher else -1)
        ax.imshow(np.ma.masked_invalid(score), cmap=cmap, norm=norm, aspect="auto")
        for j, p in enumerate(comp.policies):
            for i, (m, _, _) in enumerate(RATIO_METRICS):
                colour = "white" if abs(np.nan_to_num(score[i, j])) > 0.75 else "black"
                ax.text(j, i, f"{format_number(comp.ratios[p][m])}\n{format_number(comp.means[p][m])}",
                        ha="center", va="center", fontsize=8, color=colour)
            for k, (m, _) in enumerate(ABSOLUTE_METRICS):
                ax.text(j, len(RATIO_METRICS) + k, format_number(comp.means[p][m]), ha="center",
                        va="center", fontsize=8)
        ax.set_xticks(range(len(comp.policies)),
                      [f"{policy_label(p)}\n({comp.episodes[p]} ep.)" for p in comp.policies],
                      fontsize=8)
        ax.set_yticks(range(len(rows)), rows, fontsize=8)
        ax.set_title(f"{comp.title} (relative to {policy_label(comp.reference)}; "
                     "2nd line: absolute)", fontsize=9)
        ax.axhline(len(RATIO_METRICS) - 0.5, color="black", linewidth=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


__all__ += ["ABSOLUTE_METRICS", "RATIO_METRICS", "Comparison", "compare", "find_run_dirs",
            "format_comparison", "plot_comparison"]
