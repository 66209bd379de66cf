# SPDX-License-Identifier: GPL-2.0-only
"""Loaded before every test module: PackeRL first, so that torch, whichever module imports it,
runs the CPU kernels the committed results were computed with (packerl.TORCH_CPU_CAPABILITY)."""

import packerl  # noqa: F401
