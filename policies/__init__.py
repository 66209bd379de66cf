# SPDX-License-Identifier: GPL-2.0-only
"""Routing policies for PackeRL: the shared :class:`~policies.base.Policy` interface and the
classic and random baselines (:mod:`policies.baselines`)."""

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
