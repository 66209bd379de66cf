# SPDX-License-Identifier: GPL-2.0-only
"""The split step (``step_async`` / ``step_wait``) refuses calls out of order with dedicated
errors, which are still ``RuntimeError`` for code written before they existed."""

from __future__ import annotations

import re

import numpy as np
import pytest

from packerl.error import NoStepPending, PackeRLError, StepAlreadyPending

from .conftest import demands, line_routes, topology

TOPO = topology(3, [(0, 1), (1, 2)])
FLOW = demands([(0.0, 0, 2, 20 * 1472, False, 5e6)])


def test_the_errors_keep_their_old_base_classes():
    for error in (StepAlreadyPending, NoStepPending):
        assert issubclass(error, PackeRLError) and issubclass(error, RuntimeError)


def test_a_second_step_async_is_refused_and_changes_nothing(sim):
    sim.reset(TOPO, seed=1)
    sim.step_async(line_routes(3), FLOW)
    with pytest.raises(StepAlreadyPending, match=re.escape("call step_wait() before "
                                                           "step_async()")):
        sim.step_async(line_routes(3))
    with pytest.raises(StepAlreadyPending, match=re.escape("before ping()")):
        sim.ping()  # would talk to a simulator busy with the step
    state = sim.step_wait()  # the first step is intact
    assert state.step == 1 and state.g("demands_started") == 1


def test_step_wait_without_a_step_is_refused(sim):
    sim.reset(TOPO, seed=1)
    with pytest.raises(NoStepPending, match=re.escape("call step_async() first")):
        sim.step_wait()
    sim.step_async(line_routes(3), FLOW)
    sim.step_wait()
    with pytest.raises(RuntimeError, match="no step is pending"):  # old except clauses
        sim.step_wait()
    assert sim.step(line_routes(3)).step == 2


def test_reset_abandons_a_pending_step(sim):
    sim.reset(TOPO, seed=1)
    sim.step_async(line_routes(3), FLOW)
    s0 = sim.reset(TOPO, seed=1)
    assert s0.step == 0 and not np.isnan(s0.global_features).any()
    assert sim.step(line_routes(3), FLOW).g("demands_started") == 1
