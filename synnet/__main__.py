# SPDX-License-Identifier: GPL-2.0-only
"""``python -m synnet`` -> :func:`synnet.cli.main`."""

import sys

from .cli import main

sys.exit(main())
