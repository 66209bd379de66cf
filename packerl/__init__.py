# SPDX-License-Identifier: GPL-2.0-only
"""PackeRL: packet-level routing optimisation environments over ns-3.

Importing the package registers the Gymnasium environments ``packerl/PackeRL-v0`` (next-hop
actions) and ``packerl/PackeRL-LinkWeights-v0`` (link-weight actions).
"""

from __future__ import annotations

__version__ = "0.1.0"

ENV_ID = "packerl/PackeRL-v0"
LINK_WEIGHTS_ENV_ID = "packerl/PackeRL-LinkWeights-v0"


def register_envs() -> None:
    """Register the environments with Gymnasium (also the ``gymnasium.envs`` entry point)."""
    import gymnasium

    for env_id, entry in ((ENV_ID, "packerl.env:PackeRLEnv"),
                          (LINK_WEIGHTS_ENV_ID, "packerl.env:PackeRLLinkWeightsEnv")):
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry, disable_env_checker=False)


register_envs()


def __getattr__(name: str):  # lazy: importing packerl stays cheap
    if name in ("PackeRLEnv", "PackeRLLinkWeightsEnv"):
        from packerl import env

        return getattr(env, name)
    raise AttributeError(f"module 'packerl' has no attribute {name!r}")
