# SPDX-License-Identifier: GPL-2.0-only
"""Fixtures of the policy tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def one_torch_thread():
    """One torch thread: the cores are shared, and two threads crawl when they are busy."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
