# SPDX-License-Identifier: GPL-2.0-only
"""``python -m packerl``: the same as the ``packerl`` console script."""

import sys

from packerl.app.cli import main

sys.exit(main())
