# SPDX-License-Identifier: GPL-2.0-only
"""Build a policy from a name: a registered baseline (:mod:`policies.registry`), a trained
run (a run directory of ``packerl train`` or a model ``.zip`` in one, :mod:`policies.runs`), a
MAGNNETO run directory (:mod:`policies.magnneto_policy`) or a guard spec ``guard:<policy>[,option=value...]`` wrapping one of them (:mod:`policies.guard`).

Example:
    >>> import gymnasium as gym, packerl
    >>> env = gym.make("packerl/PackeRL-v0", topology="nx-XS", traffic="udp_low")
    >>> make_policy("random_nh", env, seed=1).name
    'random_nh'
    >>> env.close()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packerl.spaces import ActionFormat
from policies.base import Policy
from policies.guard import Guard, guard_slug, is_guard_spec, parse_guard_spec
from policies.learned import LearnedPolicy
from policies.magnneto_policy import MagnnetoPolicy, is_magnneto_run
from policies.magnneto_policy import env_requirements as magnneto_env_requirements
from policies.registry import entry, names
from policies.runs import is_trained_run, load_run


def is_learned_model(name: Any) -> bool:
    """True if ``name`` is a trained model: a ``.zip`` file or a run directory of
    ``packerl train``."""
    if not isinstance(name, str) or name in names():
        return False
    return is_trained_run(name)


def policy_slug(name: str) -> str:
    """A file-name-safe identifier of a policy (trained models: ``learned-<run or file>``)."""
    if is_guard_spec(name):
        return guard_slug(name, policy_slug(parse_guard_spec(name).inner))
    if is_learned_model(name):
        p = Path(name)
        return "learned-" + (p.parent.name + "-" + p.stem if p.suffix == ".zip" else p.name)
    if is_magnneto_run(name):
        return "magnneto-" + Path(name).name
    return name


def check_policy_name(name: str) -> str:
    """Return ``name`` if :func:`make_policy` accepts it (a registered baseline or a trained
    model, or a guard spec wrapping one), else raise ``ValueError`` saying what is accepted."""
    if is_guard_spec(name):
        config = parse_guard_spec(name)
        try:
            check_policy_name(config.inner)
        except ValueError as exc:
            raise ValueError(f"guard spec `{name}`: the wrapped policy: {exc}") from None
        check_guard_fallback(name)
        return name
    if is_learned_model(name) or is_magnneto_run(name):
        return name
    e = entry(name) if not (isinstance(name, str) and name.endswith(".zip")) else None
    if e is None:
        raise ValueError(f"unknown policy `{name}` (no trained model at `{name}`); valid: "
                         f"{sorted(names())}, a trained model or a MAGNNETO run directory")
    if e.learned:
        raise ValueError(f"`{name}` must be trained first: run `packerl train --policy {name}` "
                         "and pass its run directory")
    return name


def check_guard_fallback(spec: str) -> None:
    """Raise ``ValueError`` unless the guard spec's fallback is a registered baseline that
    produces next hops (the guard installs its tables as they are)."""
    config = parse_guard_spec(spec)
    try:
        fallback = entry(config.fallback)
    except ValueError as exc:
        raise ValueError(f"guard spec `{spec}`: the fallback: {exc}") from None
    if fallback.learned or fallback.action_type != "next_hop":
        raise ValueError(f"guard spec `{spec}`: the fallback must be a registered baseline "
                         f"producing next hops, e.g. eigrp; got `{config.fallback}`")


def env_requirements(name: str) -> dict[str, Any]:
    """The environment options the policy ``name`` (or the one a guard spec wraps) needs:
    ``{"traffic_matrix": True}`` for MAGNNETO, else ``{}``."""
    inner = parse_guard_spec(name).inner if is_guard_spec(name) else name
    return magnneto_env_requirements(inner)


def make_policy(name: str, env: Any, seed: int | None = None, **kwargs: Any) -> Policy:
    """Build the policy called ``name`` for ``env`` (padding and action format from the env).

    Args:
        name: a registered baseline (``"eigrp"``, ``"ospf"``, ``"random_nh"``,
            ``"random_lw"``), a trained model (run directory or ``.zip``) or a MAGNNETO run
            directory (its env needs ``traffic_matrix=True``: :func:`env_requirements`).
        env: a PackeRL environment (wrapped or not).
        seed: seed for the random policies (ignored by the deterministic ones).
        **kwargs: extra constructor arguments.

    Raises:
        ValueError: for a name :func:`check_policy_name` refuses or an action type the policy
            cannot produce.
    """
    if is_guard_spec(check_policy_name(name)):
        config = parse_guard_spec(name)
        return Guard.from_env(env, _wrapped_policy(config.inner, env, seed),
                              make_policy(config.fallback, env, seed=seed), config, seed=seed)
    if is_learned_model(name):
        return LearnedPolicy.from_env(env, path=name)
    if is_magnneto_run(name):
        return MagnnetoPolicy.from_env(env, run=name, seed=seed, **kwargs)
    e = entry(name)
    if e.seeded:
        kwargs.setdefault("seed", seed)
    return e.load().from_env(env, **kwargs)


def _wrapped_policy(name: str, env: Any, seed: int | None) -> Policy:
    """The policy a guard wraps: as :func:`make_policy` builds it, except that a trained run
    producing link weights keeps them (the guard routes over them by shortest paths)."""
    if is_learned_model(name) and load_run(name).action_type == "link_weights":
        base = env.unwrapped
        return LearnedPolicy(name, base.max_nodes, base.max_edges, None,
                             ActionFormat("link_weights", link_weights="raw"))
    return make_policy(name, env, seed=seed)


__all__ = ["check_guard_fallback", "check_policy_name", "env_requirements", "is_learned_model",
           "make_policy", "policy_slug"]
