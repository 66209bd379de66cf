# SPDX-License-Identifier: GPL-2.0-only
"""Routing policies for PackeRL: the shared :class:`~policies.base.Policy` interface, the
classic and random baselines (:mod:`policies.baselines`), the learned GNN policies
(:mod:`policies.fieldlines`, :mod:`policies.mslim`, built on :mod:`policies.mpn`; they need
torch, so they are imported lazily), the one registry of policy names
(:mod:`policies.registry`), the loader of trained runs (:mod:`policies.runs`,
:mod:`policies.learned`) and :func:`~policies.factory.make_policy`, which builds any of them by
name.

This layer reads the environment core (``packerl`` without ``packerl.app``) and never the
application layer (training, evaluation, sweeps, reports, CLI).
"""

from policies.base import ACTION_TYPES, ActionType, Policy
from policies.baselines import EIGRP, OSPF, RandomLinkWeights, RandomNextHop, ShortestPathPolicy
from policies.factory import check_policy_name, make_policy
from policies.learned import LearnedPolicy
from policies.registry import REGISTRY, PolicyEntry, entry, names, policy_label, register

__all__ = [
    "ACTION_TYPES",
    "EIGRP",
    "OSPF",
    "LearnedPolicy",
    "REGISTRY",
    "ActionType",
    "Policy",
    "PolicyEntry",
    "RandomLinkWeights",
    "RandomNextHop",
    "ShortestPathPolicy",
    "check_policy_name",
    "entry",
    "make_policy",
    "names",
    "policy_label",
    "register",
]


_LAZY = {
    "MPN": "policies.mpn",
    "MPNLayer": "policies.mpn",
    "obs_to_batch": "policies.sb3_common",
    "FieldLinesPolicy": "policies.fieldlines",
    "MSlimPolicy": "policies.mslim",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'policies' has no attribute {name!r}")
