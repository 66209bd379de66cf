# SPDX-License-Identifier: GPL-2.0-only
"""The fluid-model environments: :class:`packerl.env.PackeRLEnv` stepped by
:class:`~packerl.fluid.simulator.FluidSimulator` instead of ns-3."""

from __future__ import annotations

from typing import Any

from packerl.env import PackeRLEnv
from packerl.fluid.simulator import FluidSimulator

__all__ = ["PackeRLFluidEnv", "PackeRLFluidLinkWeightsEnv"]


class PackeRLFluidEnv(PackeRLEnv):
    """The fluid-model environment (``packerl/PackeRL-Fluid-v0``).

    It takes every argument of :class:`packerl.env.PackeRLEnv` and has the same spaces,
    action masks, observations, metrics, rewards and episode summaries (that class's code;
    only the simulator differs). ``reset(seed=s)`` draws the same scenario as the packet env
    with the same arguments. ``sim_timeout`` is accepted and unused.
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        # scenarios are checked by synnet and actions decoded by the env: the simulator's
        # input checks would only cost time here
        self._sim = FluidSimulator(check_inputs=False)


class PackeRLFluidLinkWeightsEnv(PackeRLFluidEnv):
    """The fluid model's link-weight variant (``packerl/PackeRL-Fluid-LinkWeights-v0``)."""

    def __init__(self, **kwargs: Any):
        kwargs["action_type"] = "link_weights"
        super().__init__(**kwargs)
