# SPDX-License-Identifier: GPL-2.0-only
"""The application layer: what the ``packerl`` command runs on top of the environment and the
policies.

- :mod:`packerl.app.training`: PPO training runs of the learned policies (SB3 callbacks).
- :mod:`packerl.app.evaluate`: evaluation runs (parallel, resumable) and
  :mod:`packerl.app.results`, their result files.
- :mod:`packerl.app.compare` and :mod:`packerl.app.plots`: policies relative to a reference.
- :mod:`packerl.app.sweep` and :mod:`packerl.app.report`: sweeps of trials and their reports.
- :mod:`packerl.app.cli`: the ``packerl`` command; :mod:`packerl.app.options` derives its
  training flags from :class:`~packerl.app.training.TrainConfig`.

Layering (checked by import-linter, see ``pyproject.toml``): ``synnet`` <- environment core
(``packerl`` outside ``app``) <- ``policies`` <- ``packerl.app`` <- ``experiments``. The core
and the policies never import this package.
"""
