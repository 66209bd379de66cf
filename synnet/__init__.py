# SPDX-License-Identifier: GPL-2.0-only
"""synnet: synthetic network scenarios (topology, traffic, link failures) for PackeRL.

Typical use::

    import synnet
    sc = synnet.generate(topology="nx-S", traffic="tcp_high", link_failures="weibull",
                         steps=100, step_ms=5.0, seed=7)
    sc.save("episode.npz")
    for t in range(sc.steps):
        arrivals = sc.step_demands(t)

See :mod:`synnet.presets` for preset names, :mod:`synnet.topology`, :mod:`synnet.traffic`
and :mod:`synnet.failures` for the exact generation rules, and :mod:`synnet.scenario`
for the file format.
"""

from .failures import generate_failures
from .generator import generate
from .graphio import load_topology
from .presets import LINK_FAILURE_PRESETS, TOPOLOGY_PRESETS, TRAFFIC_PRESETS
from .scenario import DEMAND_DTYPE, FAILURE_DTYPE, Scenario, Topology
from .traffic import generate_traffic

__version__ = "0.1.0"

__all__ = [
    "DEMAND_DTYPE",
    "FAILURE_DTYPE",
    "LINK_FAILURE_PRESETS",
    "TOPOLOGY_PRESETS",
    "TRAFFIC_PRESETS",
    "Scenario",
    "Topology",
    "generate",
    "generate_failures",
    "generate_traffic",
    "load_topology",
]
