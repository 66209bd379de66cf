# SPDX-License-Identifier: GPL-2.0-only
"""experiments/route_quality.py: path metrics along next hops, and holding a policy's action."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments.route_quality import Hold, approach_of, path_metrics, play

MSLIM_RUN = (Path(__file__).parents[2] / "experiments" / "results" / "sweeps" / "repro_train"
             / "trials" / "mslim__nsfnet+geant2__flex__seed0" / "train"
             / "mslim__nsfnet+geant2__flex__seed0")


def test_paths_follow_the_next_hops_and_loops_or_missing_routes_are_nan():
    # a line 0 - 1 - 2 with delays 1 and 2 ms; node 3 hangs off 2 with 5 ms
    delay = np.zeros((4, 4))
    for (u, v), d in {(0, 1): 1.0, (1, 2): 2.0, (2, 3): 5.0}.items():
        delay[u, v] = delay[v, u] = d
    table = np.array([[-1, 1, 1, 1],
                      [0, -1, 2, 2],
                      [1, 1, -1, 3],
                      [2, 2, 2, -1]])
    hops, prop = path_metrics(table, delay)
    assert hops[0, 3] == 3 and prop[0, 3] == 8.0
    assert hops[3, 0] == 3 and prop[3, 0] == 8.0
    assert np.all(np.diag(hops) == 0)
    looped = table.copy()
    looped[1, 3] = 0  # 0 -> 1 -> 0 -> ... never reaches 3
    hops, prop = path_metrics(looped, delay)
    assert np.isnan(hops[0, 3]) and np.isnan(hops[1, 3]) and hops[2, 3] == 1
    missing = table.copy()
    missing[2, 3] = -1
    hops, _ = path_metrics(missing, delay)
    assert np.isnan(hops[0, 3]) and hops[0, 2] == 2


class _Counter:
    def __init__(self):
        self.calls = 0

    def reset(self):
        self.calls = 0

    def act(self, obs):
        self.calls += 1
        return np.array([self.calls])


def test_hold_repeats_the_action_between_every_kth_step_and_restarts_on_reset():
    held = Hold(_Counter(), 3)
    assert [int(held.act({})[0]) for _ in range(7)] == [1, 1, 1, 2, 2, 2, 3]
    held.reset()
    assert int(held.act({})[0]) == 1


def test_a_held_model_changes_no_next_hop_and_a_static_baseline_none_either():
    frozen = play(str(MSLIM_RUN), 4, "nx-XS", "udp_low", seed=3, episode_steps=4)
    assert frozen["fluctuation"] == 0.0
    own = play(str(MSLIM_RUN), 1, "nx-XS", "udp_low", seed=3, episode_steps=4)
    assert own["fluctuation"] >= 0.0 and own["hops"] >= 1.0
    eigrp = play("eigrp", 1, "nx-XS", "udp_low", seed=3, episode_steps=4)
    assert eigrp["fluctuation"] == 0.0 and eigrp["excess_hops"] >= 0.0
    assert approach_of(str(MSLIM_RUN)) == "learned-mslim__nsfnet+geant2__flex"
    assert approach_of("eigrp") == "eigrp"
