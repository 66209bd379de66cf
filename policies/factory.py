# SPDX-License-Identifier: GPL-2.0-only
"""Build a policy from a name: a registered baseline (:mod:`policies.registry`) or a trained
run (a run directory of ``packerl train`` or a model ``.zip`` in one, :mod:`policies.runs`).

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

from policies.base import Policy
from policies.learned import LearnedPolicy
from policies.registry import entry, names
from policies.runs import is_trained_run


def is_learned_model(name: Any) -> bool:
    """True if ``name`` is a trained model: a ``.zip`` file or a run directory of
    ``packerl train``."""
    if not isinstance(name, str) or name in names():
        return False
    return is_trained_run(name)


def policy_slug(name: str) -> str:
    """A file-name-safe identifier of a policy (trained models: ``learned-<run or file>``)."""
    if is_learned_model(name):
        p = Path(name)
        return "learned-" + (p.parent.name + "-" + p.stem if p.suffix == ".zip" else p.name)
    return name


def check_policy_name(name: str) -> str:
    """Return ``name`` if :func:`make_policy` accepts it (a registered baseline or a trained
    model), else raise ``ValueError`` saying what is accepted."""
    if is_learned_model(name):
        return name
    e = entry(name) if not (isinstance(name, str) and name.endswith(".zip")) else None
    if e is None:
        raise ValueError(f"unknown policy `{name}` (no trained model at `{name}`); valid: "
                         f"{sorted(names())} or a trained model")
    if e.learned:
        raise ValueError(f"`{name}` must be trained first: run `packerl train --policy {name}` "
                         "and pass its run directory")
    return name


def make_policy(name: str, env: Any, seed: int | None = None, **kwargs: Any) -> Policy:
    """Build the policy called ``name`` for ``env`` (padding and action format from the env).

    Args:
        name: a registered baseline (``"eigrp"``, ``"ospf"``, ``"random_nh"``,
            ``"random_lw"``) or a trained model (run directory or ``.zip``).
        env: a PackeRL environment (wrapped or not).
        seed: seed for the random policies (ignored by the deterministic ones).
        **kwargs: extra constructor arguments.

    Raises:
        ValueError: for a name :func:`check_policy_name` refuses or an action type the policy
            cannot produce.
    """
    if is_learned_model(check_policy_name(name)):
        return LearnedPolicy.from_env(env, path=name)
    e = entry(name)
    if e.seeded:
        kwargs.setdefault("seed", seed)
    return e.load().from_env(env, **kwargs)


__all__ = ["check_policy_name", "is_learned_model", "make_policy", "policy_slug"]
