# SPDX-License-Identifier: GPL-2.0-only
"""Synthetic observations: in their space, the environment's layout, stacked by the wrappers'
stacker, and seeded."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch

import experiments.synthetic
from experiments.synthetic import synthetic_observation
from packerl.spaces import DATARATE, DELAY, EDGE_OBS_FEATURES, GLOBAL_OBS_FEATURES, graph_of
from policies.sb3_common import obs_to_batch


@pytest.mark.parametrize(("num_nodes", "frames", "model"), [(10, 4, "ws"), (12, 1, "er"),
                                                            (15, 2, "ba")])
def test_observation_lies_in_its_stacked_space(num_nodes, frames, model):
    obs, space = synthetic_observation(num_nodes, frames=frames, seed=1, model=model)
    assert list(obs) == list(space.spaces) and space.contains(obs)
    assert obs["edge_attr"].shape[-1] == frames * len(EDGE_OBS_FEATURES)
    assert obs["global"].shape == (frames * len(GLOBAL_OBS_FEATURES),)
    n, slots, ei = graph_of(obs)
    assert n == num_nodes and obs["sizes"].tolist() == [n, len(slots)]
    assert obs["edge_mask"].shape == (2 * 4 * num_nodes,)  # the env's default padding
    # every frame has its own features; the topology's datarate and delay in every frame
    newest = obs["edge_attr"][slots, -len(EDGE_OBS_FEATURES):]
    np.testing.assert_array_equal(obs["link_props"][slots], newest[:, [DATARATE, DELAY]])
    if frames > 1:
        oldest = obs["edge_attr"][slots, :len(EDGE_OBS_FEATURES)]
        assert not np.array_equal(oldest, newest)
        np.testing.assert_array_equal(oldest[:, [DATARATE, DELAY]], newest[:, [DATARATE, DELAY]])
    batch = obs_to_batch({k: torch.as_tensor(v) for k, v in obs.items()})
    batch.validate(raise_on_error=True)
    assert batch.edge_index.tolist() == ei.tolist()


def test_seeded_and_padded_on_request():
    a, _ = synthetic_observation(10, seed=3)
    b, _ = synthetic_observation(10, seed=3)
    c, _ = synthetic_observation(10, seed=4)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["edge_attr"], c["edge_attr"])
    obs, space = synthetic_observation(10, frames=1, max_nodes=16, max_edges=50)
    assert obs["node_mask"].tolist() == [1] * 10 + [0] * 6
    assert obs["edge_mask"].shape == (100,) and space.contains(obs)


def test_module_example_runs():
    result = doctest.testmod(experiments.synthetic)
    assert result.failed == 0 and result.attempted > 0
