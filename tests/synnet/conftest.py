# SPDX-License-Identifier: GPL-2.0-only
"""Shared fixtures for synnet tests."""

import numpy as np
import pytest

import synnet


@pytest.fixture(scope="session")
def small_scenario() -> synnet.Scenario:
    return synnet.generate("nx-S", "mixed_high", "weibull", steps=50, step_ms=5.0, seed=11)


@pytest.fixture(scope="session")
def nsfnet_topology() -> synnet.Topology:
    return synnet.generate("nsfnet", "udp_low", None, steps=1, seed=0).topology


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)
