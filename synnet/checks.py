# SPDX-License-Identifier: GPL-2.0-only
"""Checked scalar arguments, and the ranges the packet simulator can represent.

synnet is the lowest layer and this module its lowest: it imports nothing of the project, so
every synnet module (generation, scenarios, files) and packerl's environment and simulator
client (``packerl.sim.validation``) check their arguments with the same functions and limits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Largest topology, in nodes. The simulator's shared segment holds three N x N arrays (next
#: hops, two traffic matrices: 20 bytes per node pair), 0.5 GB at 5000 nodes; a 40,000-node
#: topology would need 32 GB and fails to map. Also the largest ``num_nodes`` override.
MAX_NODES = 5000
#: Largest topology, in undirected links (the segment holds ~200 bytes per link).
MAX_EDGES = 1_000_000
#: Link datarates (bit/s). ns-3 stores a datarate as an unsigned 64-bit bps count (the
#: simulator casts the double, which is undefined above 2**64 ~ 1.8e19: 3e19 killed it with
#: SIGFPE); 1 Tbps keeps seven orders of magnitude of margin and a 1500-byte packet's
#: transmission time (12 ns) above ns-3's nanosecond resolution.
MIN_DATARATE_BPS = 1.0
MAX_DATARATE_BPS = 1e12
#: Link propagation delays (ms): up to 1000 s, i.e. 1e12 ns, far inside ns-3's int64 clock.
MAX_DELAY_MS = 1e6
#: Step length (ms). At least 1 microsecond (shorter steps simulate next to nothing and let
#: float rounding of the step windows dominate), at most 1000 s.
MIN_STEP_MS = 1e-3
MAX_STEP_MS = 1e6
#: Steps per episode.
MAX_STEPS = 1_000_000
#: Simulated time of an episode (ms): 1e12 ms = 1e18 ns, a ninth of the int64 nanosecond
#: counter of ns-3 (9.2e18 ns, ~292 years), so event times never overflow. ``MAX_STEPS *
#: MAX_STEP_MS`` equals it.
MAX_EPISODE_MS = 1e12
#: UDP sending rates (bit/s). The simulator schedules packets ``payload * 8 / rate`` seconds
#: apart, rounded to an int64 count of ns: at 1e-6 bps that overflows (SIGABRT); at 1 bps a
#: full packet's gap is 1.2e13 ns. At most the largest link datarate.
MIN_UDP_RATE_BPS = 1.0
MAX_UDP_RATE_BPS = MAX_DATARATE_BPS
#: Demand sizes (bytes): the segment field is int64, counters are doubles; 2**53 is exact in
#: both (2**63 wrapped negative and the simulator refused the step).
MAX_DEMAND_BYTES = 2**53
#: Multiplier on the bandwidth-delay-product device buffers.
MIN_QUEUE_SCALE = 1e-3
MAX_QUEUE_SCALE = 1e3
#: Device buffer of one link, in packets (``ceil(datarate * 2 * delay * queue_scale / 12000
#: bits)``); the simulator holds it in a uint32, so at most 2**31 packets.
MAX_QUEUE_PACKETS = 2**31
#: The simulator's seed (ns-3 run number) is an unsigned 64-bit integer.
MAX_SIM_SEED = 2**64 - 1


def _fmt(x: float) -> str:
    """Short, but exact: ``1e+13`` rather than ``10000000000000.0``, all digits if needed."""
    if isinstance(x, int):
        return str(x)
    short = f"{x:g}"
    return short if float(short) == x else repr(x)


def _range_text(lo: float | None, hi: float | None, lo_open: bool = False) -> str:
    left = "(" if lo_open else "["
    return f"{left}{'-inf' if lo is None else _fmt(lo)}, {'inf' if hi is None else _fmt(hi)}]"


def _got(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None,
              why: str = "") -> int:
    """``value`` as an ``int`` if it is an integer in ``[lo, hi]`` (None: unbounded).

    Python and NumPy integers are accepted; ``bool``, floats (even ``2.0``) and strings are
    not: nothing is rounded or parsed. ``why`` is appended to the range error.

    Raises:
        ValueError: naming ``name``, what was given and what is accepted.

    Example:
        >>> check_int("episode_steps", 3, 1, 10)
        3
        >>> check_int("episode_steps", 2.5, 1, 10)
        Traceback (most recent call last):
        ...
        ValueError: episode_steps must be an integer in [1, 10], got 2.5 (float); pass a whole number (an int), not a float, str or bool
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(  # noqa: TRY004 - the project's convention: every bad value is a ValueError
            f"{name} must be an integer in {_range_text(lo, hi)}, got {_got(value)}; "
            "pass a whole number (an int), not a float, str or bool")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{name} must lie in {_range_text(lo, hi)}, got {v}"
                         + (f"; {why}" if why else ""))
    return v


def check_float(name: str, value: Any, lo: float | None = None, hi: float | None = None, *,
                lo_open: bool = False, why: str = "") -> float:
    """``value`` as a ``float`` if it is a finite number in ``[lo, hi]`` (``(lo, hi]`` with
    ``lo_open``; None: unbounded).

    Python and NumPy integers and floats are accepted; ``bool``, strings and NaN/inf are not.

    Raises:
        ValueError: naming ``name``, what was given and what is accepted.

    Example:
        >>> check_float("step_ms", 5, 1e-3, 1e6)
        5.0
        >>> check_float("step_ms", "5", 1e-3, 1e6)
        Traceback (most recent call last):
        ...
        ValueError: step_ms must be a number in [0.001, 1e+06], got '5' (str); pass an int or float, not a str or bool
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                   np.floating)):
        raise ValueError(  # noqa: TRY004 - as check_int
            f"{name} must be a number in {_range_text(lo, hi, lo_open)}, got {_got(value)}; "
            "pass an int or float, not a str or bool")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, in {_range_text(lo, hi, lo_open)}; got {v}")
    if lo is not None and (v <= lo if lo_open else v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{name} must lie in {_range_text(lo, hi, lo_open)}, got {_fmt(v)}"
                         + (f"; {why}" if why else ""))
    return v


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is ``True`` or ``False`` (Python or NumPy); strings and ints are not
    accepted (``bool("no")`` would be True).

    Raises:
        ValueError: naming ``name`` and what was given.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {_got(value)}")  # noqa: TRY004
    return bool(value)
