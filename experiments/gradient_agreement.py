# SPDX-License-Identifier: GPL-2.0-only
"""Does one PPO iteration's policy gradient point anywhere? Agreement of independent batches.

Evidence for why PPO does not improve M-Slim (issue 12). A PPO iteration follows the gradient
of its surrogate over one batch of rollouts (16 episodes of 100 steps in the paper). If that
gradient is mostly noise, training is a random walk away from the initial network, and a good
initial network (M-Slim's untrained one routes as classic EIGRP does) can only get worse. The
test: collect ``K`` independent batches with the same, fixed policy and compare their
gradients. Two estimates of one true gradient agree (positive cosine) as far as the signal
exceeds the noise; pure noise gives cosines near 0. The null is measured, not assumed: the
same batches with their advantages shuffled among the steps (advantage and action no longer
belong together, so any agreement left comes from the network's structure, not from the
rewards).

The gradient is that of PPO's first minibatch step taken over the whole batch: at probability
ratio 1 the clipped surrogate's gradient is the policy gradient ``-mean(A_norm * grad log pi)``
with the batch's advantages normalised as SB3 does; only the actor's network parameters (not
the exploration parameter, not the critic). The advantages are SB3's GAE with the run's
critic, so an untrained critic leaves them close to the returns-to-go. The first ``--warmup``
batches only fill the observation normalisation statistics (the policy acts on them), which
are then frozen, so that every measured batch sees the same policy.

Two measures: the cosine of whole batches' gradients (noisy: ``K`` batches give
``K (K - 1) / 2`` dependent pairs), and, from every episode's share of its batch's gradient,
the signal share of one episode's gradient (:func:`signal_and_noise`), which says how many
episodes a batch needs before its gradient is more signal than noise.

``--paired`` asks where the noise comes from. Environments 2k and 2k+1 then draw the same
scenarios (traffic and simulator seed), so the pair's returns differ only by the actions
sampled; a pair's paired advantage (each step's discounted return-to-go minus the partner's)
cancels the traffic draw, which no critic can predict from the observation alone. If the
gradient with paired advantages agrees across pairs where the GAE gradient does not, the
noise is the scenario's and a paired baseline would let PPO learn; if not, it is the
routing's own (the actions' effect on the return is too small to see in 100 steps).

Usage::

    python experiments/gradient_agreement.py [--policy mslim] [--topology nsfnet+geant2]
        [--traffic flex tcp_flex tcp_high] [--seed 0] [--batches 6] [--warmup 1]
        [--episodes 16] [--episode-steps 100] [--n-envs 4] [--run RUN_DIR]
        [--paired] [--name gradient_agreement] [--no-write]

``--run`` takes the network and statistics of a training run's checkpoint instead of the
seed's initial network (``--warmup`` then defaults to 0). Writes
``experiments/results/<name>.{md,json}`` unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from experiments._benchutil import load_sentence, markdown_table, write_results


class UsageError(ValueError):
    """Bad command-line input (printed as one line, exit status 2)."""


def cosines(vectors: list[np.ndarray]) -> list[float]:
    """Cosine similarity of every unordered pair of the vectors (0 for a zero vector)."""
    out = []
    for a, b in itertools.combinations(vectors, 2):
        na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
        out.append(float(a @ b) / (na * nb) if na > 0 and nb > 0 else 0.0)
    return out


def mean_share(vectors: list[np.ndarray]) -> float:
    """``|mean g|^2 / mean |g|^2``: 1 if the vectors agree, about ``1/K`` for independent
    noise of equal size."""
    stacked = np.stack(vectors)
    total = float(np.mean(np.sum(stacked ** 2, axis=1)))
    return float(np.sum(stacked.mean(axis=0) ** 2)) / total if total > 0 else 0.0


def signal_and_noise(grads: np.ndarray, rng: np.random.Generator,
                     resamples: int = 2000) -> dict[str, float]:
    """How much of one episode's gradient is signal, from independent episodes' gradients.

    With ``g_e = mu + noise_e``, the mean dot product of two different episodes' gradients
    estimates ``|mu|^2`` (unbiased) and the mean squared norm ``|mu|^2 + E|noise|^2``. Their
    ratio is the signal share of one episode's gradient; a batch of ``n`` episodes has signal
    share ``n s / (n s + 1 - s)``, so ``(1 - s) / s`` episodes make a batch gradient whose
    signal equals its noise. The 95% CI comes from a bootstrap over the episodes (pairs of
    the same drawn episode excluded).

    Args:
        grads: (episodes, parameters), the episodes independent and of one policy.
        rng: for the bootstrap.
        resamples: bootstrap resamples.
    """
    n = grads.shape[0]
    gram = grads @ grads.T
    diag = np.diag(gram)

    def share(idx: np.ndarray) -> float:
        sub = gram[np.ix_(idx, idx)]
        other = idx[:, None] != idx[None, :]
        total = float(diag[idx].mean())
        return float(sub[other].mean()) / total if total > 0 else 0.0

    point = share(np.arange(n))
    boot = [share(rng.integers(0, n, n)) for _ in range(resamples)]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return {"share": point, "share_ci_low": float(lo), "share_ci_high": float(hi),
            "episodes_for_equal_signal": (1 - point) / point if point > 0 else float("inf"),
            "episodes": int(n)}


def _flatten(model: Any) -> int:
    """Flatten the model's full rollout buffer in place (SB3's order: sample ``env * n_steps
    + step``); returns the number of samples."""
    buffer = model.rollout_buffer
    next(buffer.get(batch_size=None))
    return buffer.buffer_size * buffer.n_envs


def time_in_episode(model: Any, episode_steps: int) -> np.ndarray:
    """Step within its episode of every sample of the flattened buffer (episodes are whole
    and of equal length, from the reset at the start of the batch)."""
    buffer = model.rollout_buffer
    return (np.arange(buffer.buffer_size * buffer.n_envs) % buffer.buffer_size) % episode_steps


def shuffled_within(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A permutation of ``range(len(groups))`` that moves every index only within its group."""
    order = np.arange(groups.size)
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        order[members] = rng.permutation(members)
    return order


Weighting = tuple[np.ndarray | None, np.ndarray | None]
"""``(order, advantages)`` of :func:`episode_gradients`."""


def episode_gradients(model: Any, episode_steps: int, order: np.ndarray | None = None,
                      advantages: np.ndarray | None = None) -> np.ndarray:
    """(episodes, parameters): every episode's share of the gradient of PPO's policy loss at
    probability ratio 1 over the model's whole rollout buffer; the rows sum to that batch
    gradient, ``-grad mean(A_norm * log pi)`` with the batch's advantages normalised as SB3
    does, w.r.t. the actor network's parameters (flattened, zeros for unused ones; not the
    exploration parameter, not the critic). ``order``: take sample i's advantage from sample
    ``order[i]`` (the nulls). ``advantages``: use these (flattened buffer order) instead of
    the buffer's GAE advantages."""
    return episode_gradients_of(model, episode_steps, {"": (order, advantages)})[""]


def episode_gradients_of(model: Any, episode_steps: int,
                         weightings: dict[str, Weighting]) -> dict[str, np.ndarray]:
    """:func:`episode_gradients` for several ``(order, advantages)`` weightings of the same
    buffer, one forward pass per episode for all of them."""
    import torch

    n = _flatten(model)
    buffer = model.rollout_buffer
    weights = {}
    for kind, (order, advantages) in weightings.items():
        adv = torch.as_tensor(buffer.advantages.reshape(-1) if advantages is None
                              else advantages)
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        weights[kind] = adv if order is None else adv[
            torch.as_tensor(np.ascontiguousarray(order))]
    params = [p for p in model.policy.actor.parameters() if p.requires_grad]
    rows: dict[str, list[np.ndarray]] = {kind: [] for kind in weightings}
    for start in range(0, n, episode_steps):
        idx = np.arange(start, start + episode_steps)
        data = buffer._get_samples(idx)
        _, log_prob, _ = model.policy.evaluate_actions(data.observations, data.actions)
        for i, (kind, adv) in enumerate(weights.items()):
            loss = -(adv[torch.as_tensor(idx)].to(log_prob.dtype) * log_prob).sum() / n
            grads = torch.autograd.grad(loss, params, allow_unused=True,
                                        retain_graph=i < len(weights) - 1)
            rows[kind].append(torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                                         for p, g in zip(params, grads)]).double().numpy())
    return {kind: np.stack(r) for kind, r in rows.items()}


def returns_to_go(rewards: np.ndarray, gamma: float, episode_steps: int) -> np.ndarray:
    """Discounted returns-to-go of a (steps, envs) reward array whose episodes are whole,
    of ``episode_steps`` steps each and start at step 0."""
    out = np.zeros_like(rewards, dtype=np.float64)
    following = np.zeros(rewards.shape[1])
    for t in range(rewards.shape[0] - 1, -1, -1):
        if (t + 1) % episode_steps == 0:
            following = np.zeros(rewards.shape[1])
        following = rewards[t] + gamma * following
        out[t] = following
    return out


def paired_advantages(rewards: np.ndarray, gamma: float, episode_steps: int) -> np.ndarray:
    """Advantages of a batch whose environments come in pairs (0, 1), (2, 3), ... that see the
    same scenarios: each step's return-to-go minus the partner's at the same step, halved.
    The scenario's own effect on the return (its traffic draw) cancels; what is left is the
    difference the two sampled policies' actions made. Flattened in SB3's buffer order
    (sample ``env * steps + step``)."""
    if rewards.shape[1] % 2:
        raise ValueError(f"paired advantages need an even number of environments, "
                         f"got {rewards.shape[1]}")
    g = returns_to_go(rewards, gamma, episode_steps)
    partner = np.arange(rewards.shape[1]) ^ 1
    return ((g - g[:, partner]) / 2).T.reshape(-1)


def pair_units(rows: np.ndarray, n_envs: int) -> np.ndarray:
    """Sum the episode rows of :func:`episode_gradients` pair by pair (env 2k's episode j with
    env 2k+1's episode j): the independent units of a paired batch."""
    per_env = rows.reshape(n_envs, -1, rows.shape[1])
    return per_env[0::2].reshape(-1, rows.shape[1]) + per_env[1::2].reshape(-1, rows.shape[1])


def _collect(model: Any) -> dict[str, float]:
    """One batch with the model's current policy into its rollout buffer (SB3's own loop)."""
    model._last_obs = None
    _, callback = model._setup_learn(model.n_steps * model.n_envs, None,
                                     reset_num_timesteps=True, progress_bar=False)
    callback.on_training_start(locals(), globals())
    model.collect_rollouts(model.env, callback, model.rollout_buffer, model.n_steps)
    returns = [float(ep["r"]) for ep in model.ep_info_buffer]
    return {"episodes": len(returns), "return_mean": float(np.mean(returns)),
            "return_std": float(np.std(returns))}


def seed_pairs(venv: Any, seed: int) -> None:
    """Seed a (monitored) PackeRL SB3 vector env so that environments 2k and 2k+1 draw the
    same scenarios, episode after episode (scenario and simulator seed come from each
    environment's own generator); the pairs differ only by the actions sampled."""
    inner = getattr(venv, "venv", venv)
    inner.seed_each([seed + i // 2 for i in range(inner.num_envs)])


def measure(config: Any, batches: int, warmup: int, run: Path | None,
            seed: int, paired: bool = False) -> dict[str, Any]:
    """Gradients of ``batches`` independent batches of one training configuration.

    ``paired``: environments come in pairs that see the same scenarios; besides SB3's GAE
    advantages the gradients are then measured with :func:`paired_advantages` (and its
    within-step null), every measure over the pairs as units."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor
    from tqdm import tqdm

    from packerl.app.training import make_env, new_model
    from packerl.vector import PackeRLSB3VecEnv
    from packerl.wrappers import load_stats

    torch.set_num_threads(1)
    stats: dict = {}

    def venv_of(update: bool, seed: int, pairs: bool = False) -> Any:
        venv = VecMonitor(PackeRLSB3VecEnv(
            [lambda: make_env(config, stats, update_stats=update)] * config.n_envs))
        if pairs:
            seed_pairs(venv, seed)
        else:
            venv.seed(seed)
        return venv

    venv = venv_of(update=True, seed=config.seed)
    if run is not None:
        load_stats(run / "checkpoint_stats.pkl", stats)
        model = PPO.load(run / "checkpoint.zip", env=venv, device="cpu", tensorboard_log=None,
                         use_sde=config.noise_hold > 1, sde_sample_freq=config.noise_hold)
    else:
        model = new_model(config, venv)
    try:
        for _ in range(warmup):
            _collect(model)
    finally:
        venv.close()
    # frozen statistics (every batch sees the same policy), not the warm-up's scenarios
    venv = venv_of(update=False, seed=config.seed + 7919, pairs=paired)
    model.set_env(venv)
    rng = np.random.default_rng(seed)
    kinds = ("real", "shuffled_within_step", "shuffled") + (
        ("paired", "paired_shuffled_within_step") if paired else ())
    per_episode: dict[str, list[np.ndarray]] = {k: [] for k in kinds}
    batch: dict[str, list[np.ndarray]] = {k: [] for k in kinds}
    rows = []
    try:
        for _ in tqdm(range(batches), desc=config.traffic, unit="batch", leave=False):
            row = _collect(model)
            steps = time_in_episode(model, config.episode_steps)
            orders = {"real": None, "shuffled_within_step": shuffled_within(steps, rng),
                      "shuffled": rng.permutation(steps.size)}
            advantages = dict.fromkeys(orders)
            if paired:
                pa = paired_advantages(model.rollout_buffer.rewards, config.gamma,
                                       config.episode_steps)
                orders |= {"paired": None,
                           "paired_shuffled_within_step": shuffled_within(steps, rng)}
                advantages |= {"paired": pa, "paired_shuffled_within_step": pa}
            grads = episode_gradients_of(model, config.episode_steps,
                                         {k: (o, advantages[k]) for k, o in orders.items()})
            for kind, g in grads.items():
                if paired:
                    g = pair_units(g, config.n_envs)
                per_episode[kind].append(g)
                batch[kind].append(g.sum(axis=0))
            row["grad_norm"] = float(np.linalg.norm(batch["real"][-1]))
            rows.append(row)
    finally:
        venv.close()
    out: dict[str, Any] = {"batches": rows, "parameters": int(batch["real"][0].size)}
    for kind in kinds:
        out[kind] = {"cosines": cosines(batch[kind]), "mean_share": mean_share(batch[kind]),
                     **signal_and_noise(np.concatenate(per_episode[kind]), rng)}
    return out


def _stats(values: list[float]) -> str:
    return f"{np.mean(values):+.3f} [{min(values):+.3f}, {max(values):+.3f}]"


def _share(r: dict[str, Any]) -> str:
    return f"{r['share']:+.4f} (CI {r['share_ci_low']:+.4f} to {r['share_ci_high']:+.4f})"


def _needed(r: dict[str, Any], per_unit: int = 1) -> str:
    """Episodes per batch for signal = noise; a unit of ``per_unit`` episodes (a pair: 2)."""
    if r["share_ci_low"] <= 0:  # the CI's upper end still bounds the batch size needed
        bound = (1 - r["share_ci_high"]) / r["share_ci_high"] if r["share_ci_high"] > 0 else 0
        return f"no signal detected (at least {per_unit * bound:.0f})"
    hi = (1 - r["share_ci_low"]) / r["share_ci_low"]
    lo = (1 - r["share_ci_high"]) / r["share_ci_high"]
    return (f"{per_unit * r['episodes_for_equal_signal']:.0f} "
            f"({per_unit * lo:.0f}-{per_unit * hi:.0f})")


def tables(results: dict[str, dict[str, Any]], batches: int) -> str:
    """Markdown: per configuration, the agreement of its gradients and the nulls'."""
    rows, batch_rows, paired_rows = [], [], []
    for name, r in results.items():
        returns = [b["return_mean"] for b in r["batches"]]
        sd = np.mean([b["return_std"] for b in r["batches"]])
        real, within, shuffled = r["real"], r["shuffled_within_step"], r["shuffled"]
        unit = 2 if "paired" in r else 1
        rows.append([name, unit * real["episodes"], f"{np.mean(returns):.2f} (sd {sd:.2f})",
                     _share(real), _needed(real, unit), _share(within), _share(shuffled)])
        if "paired" in r:
            pr, pw = r["paired"], r["paired_shuffled_within_step"]
            paired_rows.append([name, pr["episodes"], _share(pr), _needed(pr, 2), _share(pw),
                                _stats(pr["cosines"]), _stats(pw["cosines"])])
        batch_rows.append([name, _stats(real["cosines"]), _stats(within["cosines"]),
                           _stats(shuffled["cosines"]), f"{real['mean_share']:.3f}",
                           f"{within['mean_share']:.3f}", f"{shuffled['mean_share']:.3f}"])
    body = markdown_table(
        ["configuration", "episodes", "episode return, MB (sd over episodes)",
         "signal share of one episode's gradient", "episodes per batch for signal = noise",
         "null: advantages shuffled within each step", "null: advantages shuffled"], rows)
    body += ("\n\nThe signal share is the mean dot product of two different episodes' "
             "gradients over their mean squared norm (0: noise only; 95% CI by a bootstrap over "
             "episodes). The paper's batch is 16 episodes. Shuffling within a step keeps how "
             "advantages fall over an episode (with an untrained critic they are close to the "
             "discounted returns-to-go) and breaks only their tie to the actions taken.\n\n")
    body += f"Whole batches ({batches}, i.e. {batches * (batches - 1) // 2} pairs each):\n\n"
    body += markdown_table(
        ["configuration", "cosine of batch gradients, mean [min, max]",
         "null: shuffled within each step", "null: shuffled", "|mean g|^2 / mean |g|^2",
         "same, shuffled within step", "same, shuffled"], batch_rows)
    body += (f"\n\nIndependent noise of equal size gives cosines near 0 and a mean share near "
             f"1/{batches} = {1 / batches:.3f}.\n")
    if paired_rows:
        body += ("\nPaired batches: environments 2k and 2k+1 see the same scenarios, so a "
                 "pair of episodes is one independent unit (every measure above is over "
                 "pairs, its episode counts doubled). With the paired advantages (each step's "
                 "discounted return-to-go minus the partner's) the traffic draw cancels:\n\n")
        body += markdown_table(
            ["configuration", "pairs", "signal share of one pair's gradient",
             "episodes per batch for signal = noise", "null: shuffled within each step",
             "cosine of batch gradients", "null: shuffled within each step"], paired_rows)
        body += "\n"
    return body


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--policy", default="mslim")
    parser.add_argument("--topology", default="nsfnet+geant2")
    parser.add_argument("--traffic", nargs="+", default=["flex", "tcp_flex", "tcp_high"])
    parser.add_argument("--seed", type=int, default=0, help="the run's seed (initial network)")
    parser.add_argument("--batches", type=int, default=6, help="measured batches (>= 2)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="batches that only fill the normalisation statistics "
                             "(default: 1; 0 with --run)")
    parser.add_argument("--episodes", type=int, default=16, help="episodes per batch")
    parser.add_argument("--episode-steps", type=int, default=100)
    parser.add_argument("--n-envs", type=int, default=4)
    parser.add_argument("--run", type=Path, default=None,
                        help="a training run directory: measure at its checkpoint")
    parser.add_argument("--paired", action="store_true",
                        help="environments in pairs that see the same scenarios; adds the "
                             "paired advantages (return-to-go minus the partner's)")
    parser.add_argument("--noise-hold", type=int, default=1,
                        help="steps each exploration draw is held (training's noise_hold; "
                             "1: a fresh draw every step, the paper)")
    parser.add_argument("--name", default="gradient_agreement")
    parser.add_argument("--no-write", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from packerl.app.training import TrainConfig
    from synnet.presets import TRAFFIC_PRESETS

    args = parse(argv)
    try:
        if args.batches < 2:
            raise UsageError(f"--batches must be >= 2 to compare gradients, got {args.batches}")
        warmup = args.warmup if args.warmup is not None else (0 if args.run else 1)
        if warmup < 0:
            raise UsageError(f"--warmup must be >= 0, got {warmup}")
        if args.paired and args.n_envs % 2:
            raise UsageError(f"--paired needs an even --n-envs, got {args.n_envs}")
        if args.run is not None and not (args.run / "checkpoint.zip").is_file():
            raise UsageError(f"{args.run}: no checkpoint.zip; give a training run directory")
        try:
            base = TrainConfig(policy=args.policy, topology=args.topology, seed=args.seed,
                               episodes_per_iteration=args.episodes,
                               episode_steps=args.episode_steps, n_envs=args.n_envs,
                               batch_size=min(400, args.episodes * args.episode_steps),
                               eval_every=0, iterations=0, noise_hold=args.noise_hold)
            configs = {t: replace(base, traffic=t) for t in args.traffic}
            unknown = [t for t in args.traffic if t not in TRAFFIC_PRESETS]
            if unknown:
                raise UsageError(f"unknown traffic preset(s) {unknown}; valid: "
                                 f"{sorted(TRAFFIC_PRESETS)}")
        except (ValueError, KeyError) as err:
            raise UsageError(str(err)) from None
    except UsageError as err:
        print(f"gradient_agreement.py: error: {err}", file=sys.stderr)
        return 2
    load_start, t0 = list(os.getloadavg()), time.time()
    results = {}
    for traffic, config in configs.items():
        results[f"{args.policy} {args.topology} {traffic}"] = measure(
            config, args.batches, warmup, args.run, args.seed, args.paired)
    wall = time.time() - t0
    body = tables(results, args.batches)
    start = f"checkpoint of `{args.run}`" if args.run else f"seed {args.seed}'s initial network"
    if args.paired:
        start += "; paired batches"
    if args.noise_hold > 1:
        start += f"; exploration noise held for {args.noise_hold} steps"
    body = (f"Policy: {start}; {warmup} warm-up batch(es), then statistics frozen. "
            f"Wall time {wall / 60:.1f} min. {load_sentence(load_start, list(os.getloadavg()))}"
            f"\n\n{body}")
    print(body)
    if not args.no_write:
        md, _ = write_results(args.name, "Agreement of PPO batch gradients", body,
                              {"results": results, "wall_seconds": wall,
                               "warmup": warmup, "run": str(args.run) if args.run else None})
        print(f"wrote {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
