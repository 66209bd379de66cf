# SPDX-License-Identifier: GPL-2.0-only
"""Torch's intra-op thread count, set for a block of work and restored after it.

The policies' graphs are small (tens of nodes): a forward pass gains nothing from intra-op
threads, and on a machine whose cores are busy with simulators, torch's threads wait for each
other. Measured on nx-XS with a trained FieldLines at load 8 on 2 cores: 3 ms per step with
one thread, 27-81 ms with two.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` intra-op threads (None: torch's setting unchanged)."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(max(1, int(threads)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
