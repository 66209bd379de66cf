# SPDX-License-Identifier: GPL-2.0-only
"""The examples in the public modules' docstrings run as written (users copy them)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["packerl.env", "policies.base", "policies.baselines", "policies.registry",
           "policies.factory"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
