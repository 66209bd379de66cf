# SPDX-License-Identifier: GPL-2.0-only
"""PackeRL: packet-level routing optimisation environments over ns-3.

Importing the package registers the Gymnasium environments ``packerl/PackeRL-v0`` (next-hop
actions) and ``packerl/PackeRL-LinkWeights-v0`` (link-weight actions). Without importing it
first, ``gym.make("packerl:packerl/PackeRL-v0")`` imports it for you. The fluid-model twins
``packerl/PackeRL-Fluid-v0`` and ``packerl/PackeRL-Fluid-LinkWeights-v0`` take the same
arguments and have the same spaces, metrics and rewards (:mod:`packerl.fluid`).

``env.spec.max_episode_steps`` is the episode horizon (``episode_steps``); the environments
truncate their episodes themselves, so ``gym.make`` adds no ``TimeLimit``, and a
conflicting ``max_episode_steps`` is refused (:class:`packerl.wrappers.HorizonCheck`).
"""

from __future__ import annotations

import os as _os
import sys as _sys

__version__ = "0.1.0"

#: PyTorch's CPU kernel set in every process that imports PackeRL before torch (a user's
#: ``ATEN_CPU_CAPABILITY`` wins). AVX-512 kernels round differently from AVX2 ones, and M-Slim
#: feeds its own link weights back, so one last-bit difference can change a whole episode:
#: the shipped models' committed evaluations were computed with AVX2 kernels and reproduce
#: exactly only with them (tests/evaluation/test_shipped_runs_reproduce.py).
TORCH_CPU_CAPABILITY = "avx2"
if "torch" not in _sys.modules:
    _os.environ.setdefault("ATEN_CPU_CAPABILITY", TORCH_CPU_CAPABILITY)

ENV_ID = "packerl/PackeRL-v0"
LINK_WEIGHTS_ENV_ID = "packerl/PackeRL-LinkWeights-v0"
FLUID_ENV_ID = "packerl/PackeRL-Fluid-v0"
FLUID_LINK_WEIGHTS_ENV_ID = "packerl/PackeRL-Fluid-LinkWeights-v0"


def register_envs() -> None:
    """Register the environments with Gymnasium (done on import; idempotent)."""
    import gymnasium
    from gymnasium.envs.registration import WrapperSpec

    horizon = WrapperSpec("HorizonCheck", "packerl.wrappers:HorizonCheck", {})
    for env_id, entry in ((ENV_ID, "packerl.env:PackeRLEnv"),
                          (LINK_WEIGHTS_ENV_ID, "packerl.env:PackeRLLinkWeightsEnv"),
                          (FLUID_ENV_ID, "packerl.fluid:PackeRLFluidEnv"),
                          (FLUID_LINK_WEIGHTS_ENV_ID, "packerl.fluid:PackeRLFluidLinkWeightsEnv")):
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry, disable_env_checker=False,
                               additional_wrappers=(horizon,))


register_envs()


def __getattr__(name: str):  # lazy: importing packerl stays cheap
    if name in ("PackeRLEnv", "PackeRLLinkWeightsEnv"):
        from packerl import env

        return getattr(env, name)
    raise AttributeError(f"module 'packerl' has no attribute {name!r}")
