# SPDX-License-Identifier: GPL-2.0-only
"""Per-step metrics and rewards computed from a simulator state.

Reward terms (PackeRL paper, Section 3.1 and Appendix C.3):

- ``r``: goodput, MB received in the step (the default reward),
- ``a``: average packet delay in ms (a penalty),
- ``d``: drop ratio, dropped / (dropped + received) bytes (a penalty),
- ``l``: maximum link utilisation (a penalty).

A spec string combines letters: ``"r"``, ``"ra"``, ``"rd"``, ``"rda"``... Combined with ``r``,
the penalties are weighted as in the paper (``a`` x5, ``d`` x0.25, ``l`` x1); alone they are
plain negatives. A dict gives explicit weights, e.g. ``{"r": 1.0, "a": -2.0}``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from packerl.sim import SimState

REWARD_TERMS = {"r": "goodput_mb", "a": "avg_delay_ms", "d": "drop_ratio", "l": "max_link_util"}
ALIASES = {"goodput": "r", "delay": "a", "drops": "d", "drop_ratio": "d", "max_lu": "l"}
_WITH_GOODPUT = {"a": -5.0, "d": -0.25, "l": -1.0}


def step_metrics(state: SimState) -> dict[str, float]:
    """The paper's per-step metrics (action fluctuation and inference time are added by the
    environment and the evaluation loop)."""
    received = state.g("received_bytes")
    dropped = state.g("dropped_bytes")
    total = received + dropped
    return {
        "goodput_mb": received / 1e6,
        "avg_delay_ms": state.g("avg_delay_ms"),
        "max_delay_ms": state.g("max_delay_ms"),
        "avg_jitter_ms": state.g("avg_jitter_ms"),
        "drop_ratio": dropped / total if total > 0 else 0.0,
        "max_link_util": state.g("max_link_util"),
        "sent_mb": state.g("sent_bytes") / 1e6,
        "dropped_mb": dropped / 1e6,
        "retransmitted_mb": state.g("retransmitted_bytes") / 1e6,
        "received_packets": state.g("received_packets"),
    }


def parse_reward(spec: str | Mapping[str, float]) -> dict[str, float]:
    """Turn a reward spec into {term letter: weight}.

    Raises:
        ValueError: for unknown letters or names, listing the valid ones.
    """
    valid = f"letters {sorted(REWARD_TERMS)} (e.g. 'r', 'ra', 'rda') or names {sorted(ALIASES)}"
    if isinstance(spec, Mapping):
        weights = {}
        for key, weight in spec.items():
            term = ALIASES.get(key, key)
            if term not in REWARD_TERMS:
                raise ValueError(f"unknown reward term `{key}`; valid: {valid}")
            if not np.isfinite(weight):
                raise ValueError(f"reward weight of `{key}` must be finite, got {weight}")
            weights[term] = float(weight)
        if not weights:
            raise ValueError(f"the reward dict is empty; give at least one of {valid}")
        return weights
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"reward must be a non-empty string or a dict; valid: {valid}")
    if spec in ALIASES:
        spec = ALIASES[spec]
    letters = list(spec)
    bad = [c for c in letters if c not in REWARD_TERMS]
    if bad or len(set(letters)) != len(letters):
        raise ValueError(f"invalid reward spec {spec!r}; valid: {valid}, each letter once")
    with_goodput = "r" in letters
    return {
        c: 1.0 if c == "r" else (_WITH_GOODPUT[c] if with_goodput else -1.0) for c in letters
    }


def reward_of(metrics: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Weighted sum of the metric terms."""
    return float(sum(w * metrics[REWARD_TERMS[t]] for t, w in weights.items()))
