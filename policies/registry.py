# SPDX-License-Identifier: GPL-2.0-only
"""The one registry of routing policies: every fact about a policy name lives here.

The CLI's choices, training (learning rate, warm start, the encoding a policy is trained in),
evaluation, sweeps and reports (labels and column order) all read :data:`REGISTRY`. Adding a
policy means adding one :class:`PolicyEntry` (or calling :func:`register`).

:mod:`policies.factory` builds a policy from a registered name or a trained run.

Example:
    >>> [e.name for e in REGISTRY]
    ['eigrp', 'eigrp_paper', 'ospf', 'random_nh', 'random_lw', 'mslim', 'fieldlines']
    >>> policy_label("random_nh"), entry("mslim").action_type
    ('Random (NH)', 'link_weights')
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from packerl.spaces import ActionType

Kind = Literal["baseline", "learned"]


@dataclass(frozen=True)
class PolicyEntry:
    """What the project knows about one policy name.

    Attributes:
        name: the identifier used on the command line, in sweep files and result directories.
        label: the display name of tables and plots.
        target: ``"module:attribute"`` of the class, imported only when needed (the learned
            policies' SB3 classes import torch). Baselines name a
            :class:`~policies.base.Policy` subclass; learned policies their SB3 policy class.
        kind: ``"baseline"`` (used as is) or ``"learned"`` (trained with ``packerl train``).
        action_type: the action type the policy produces (learned: the one it trains in).
        seeded: the policy draws random numbers (``make_policy`` passes it the seed).
        learning_rate: default Adam learning rate of training (learned only).
        warm_start: default number of training iterations that execute EIGRP's actions.
        train_env_kwargs: environment options the policy trains with (its action encoding).
        observes_last_action: trains on observations holding its previous action by default.
        train_scenario: default training (topology, traffic) of sweeps (Section 6.3).
        holds_noise: its SB3 class can hold its exploration noise for several steps
            (``use_sde=True, sde_sample_freq=k``; training's ``noise_hold``).
    """

    name: str
    label: str
    target: str
    kind: Kind
    action_type: ActionType
    seeded: bool = False
    learning_rate: float | None = None
    warm_start: int = 0
    train_env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    observes_last_action: bool = False
    train_scenario: Mapping[str, str] = field(default_factory=dict)
    holds_noise: bool = False

    def __post_init__(self) -> None:
        if ":" not in self.target:
            raise ValueError(f"target of policy `{self.name}` must be 'module:attribute', "
                             f"got {self.target!r}")
        object.__setattr__(self, "train_env_kwargs", MappingProxyType(dict(self.train_env_kwargs)))
        object.__setattr__(self, "train_scenario", MappingProxyType(dict(self.train_scenario)))

    @property
    def learned(self) -> bool:
        return self.kind == "learned"

    def load(self) -> type:
        """The class named by :attr:`target` (imported now)."""
        module, attr = self.target.split(":")
        return getattr(importlib.import_module(module), attr)


#: the registered policies, in the display order of every table and plot
REGISTRY: list[PolicyEntry] = [
    PolicyEntry("eigrp", "EIGRP", "policies.baselines:EIGRP", "baseline", "next_hop"),
    PolicyEntry("eigrp_paper", "EIGRP (paper)", "policies.baselines:PaperEIGRP", "baseline",
                "next_hop"),
    PolicyEntry("ospf", "OSPF", "policies.baselines:OSPF", "baseline", "next_hop"),
    PolicyEntry("random_nh", "Random (NH)", "policies.baselines:RandomNextHop", "baseline",
                "next_hop", seeded=True),
    PolicyEntry("random_lw", "Random (LW)", "policies.baselines:RandomLinkWeights", "baseline",
                "next_hop", seeded=True),
    PolicyEntry("mslim", "M-Slim", "policies.mslim:MSlimPolicy", "learned", "link_weights",
                learning_rate=3e-3, warm_start=0, train_env_kwargs={"link_weights": "raw"},
                observes_last_action=True,
                train_scenario={"topology": "nsfnet+geant2", "traffic": "flex"},
                holds_noise=True),
    PolicyEntry("fieldlines", "FieldLines", "policies.fieldlines:FieldLinesPolicy", "learned",
                "next_hop", learning_rate=5e-5, warm_start=5,
                train_env_kwargs={"next_hop_encoding": "node"},
                train_scenario={"topology": "nx-XS", "traffic": "flex"}),
]


def register(new: PolicyEntry) -> None:
    """Add a policy (after the registered ones); a taken name raises ``ValueError``."""
    if any(e.name == new.name for e in REGISTRY):
        raise ValueError(f"policy `{new.name}` is already registered")
    REGISTRY.append(new)


def names(kind: Kind | None = None) -> tuple[str, ...]:
    """Registered names in display order (only those of ``kind`` if given)."""
    return tuple(e.name for e in REGISTRY if kind is None or e.kind == kind)


def entry(name: str) -> PolicyEntry:
    """The entry of a registered name.

    Raises:
        ValueError: for any other name; the message lists the registered ones.
    """
    for e in REGISTRY:
        if e.name == name:
            return e
    hint = ""
    if isinstance(name, str) and name.lower() in names():
        hint = f"; did you mean `{name.lower()}`?"
    raise ValueError(f"unknown policy `{name}`{hint}; valid: {sorted(names())}")


def policy_label(name: str) -> str:
    """Display name of a registered policy (``"eigrp"`` -> ``"EIGRP"``); other names as is."""
    return next((e.label for e in REGISTRY if e.name == name), name)


def display_rank(name: str) -> tuple[int, str]:
    """Sort key of tables' columns: registry order, unregistered names (trained runs) last."""
    order = names()
    return (order.index(name) if name in order else len(order), name)


__all__ = [
    "REGISTRY",
    "PolicyEntry",
    "display_rank",
    "entry",
    "names",
    "policy_label",
    "register",
]
