# SPDX-License-Identifier: GPL-2.0-only
"""Exceptions raised by packerl.

Every simulator failure derives from :class:`SimulatorError` and carries the tail of the
simulator's standard error, so that a crash deep inside ns-3 is reported where the user sees it.
"""

from __future__ import annotations


class PackeRLError(Exception):
    """Base class of every packerl-specific error."""


class SimulatorNotFound(PackeRLError):
    """The simulator executable or the ns-3 libraries could not be located."""


class SimulatorError(PackeRLError):
    """The simulator process failed; ``stderr_tail`` holds the end of its standard error."""

    def __init__(self, message: str, *, stderr_tail: str = "", returncode: int | None = None):
        self.stderr_tail = stderr_tail
        self.returncode = returncode
        text = message
        if stderr_tail.strip():
            text += "\n--- simulator stderr (tail) ---\n" + stderr_tail.rstrip()
        super().__init__(text)


class SimulatorCrashed(SimulatorError):
    """The simulator process exited or was killed while the client waited for it."""


class SimulatorTimeout(SimulatorError):
    """The simulator did not answer within the configured timeout; it has been killed."""


class SimulatorProtocolError(SimulatorError):
    """The simulator answered with a header that is not valid for this layout version."""


class SimulatorCommandError(SimulatorError):
    """The simulator refused a command and said why (see the message)."""


class StepAlreadyPending(PackeRLError, RuntimeError):
    """A step was sent while the previous one is still pending: wait for it first.

    Raised by :meth:`packerl.sim.Simulator.step_async` (and by any command that would talk to
    a simulator busy with a step), and by ``PackeRLSB3VecEnv.step_async``. A ``RuntimeError``,
    as before it had its own type.
    """


class NoStepPending(PackeRLError, RuntimeError):
    """A step's result was asked for, but no step is pending: send one first.

    Raised by :meth:`packerl.sim.Simulator.step_wait` and ``PackeRLSB3VecEnv.step_wait``. A
    ``RuntimeError``, as before it had its own type.
    """
