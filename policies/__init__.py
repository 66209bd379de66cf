# SPDX-License-Identifier: GPL-2.0-only
"""Routing policies for PackeRL: the shared :class:`~policies.base.Policy` interface, the
classic and random baselines (:mod:`policies.baselines`), and the learned GNN policies
(:mod:`policies.fieldlines`, :mod:`policies.mslim`, built on :mod:`policies.mpn`; they need
torch, so they are imported lazily)."""

from policies.base import ACTION_TYPES, ActionType, Policy
from policies.baselines import (
    EIGRP,
    OSPF,
    POLICIES,
    RandomLinkWeights,
    RandomNextHop,
    ShortestPathPolicy,
    make_policy,
)

__all__ = [
    "ACTION_TYPES",
    "EIGRP",
    "OSPF",
    "POLICIES",
    "ActionType",
    "Policy",
    "RandomLinkWeights",
    "RandomNextHop",
    "ShortestPathPolicy",
    "make_policy",
]


_LAZY = {
    "MPN": "policies.mpn",
    "MPNLayer": "policies.mpn",
    "obs_to_batch": "policies.sb3_common",
    "FieldLinesPolicy": "policies.fieldlines",
    "MSlimPolicy": "policies.mslim",
    "LearnedPolicy": "policies.learned",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'policies' has no attribute {name!r}")
