# SPDX-License-Identifier: GPL-2.0-only
"""PackeRL: packet-level routing optimisation environments over ns-3."""

__version__ = "0.1.0"
