# SPDX-License-Identifier: GPL-2.0-only
"""Locating the simulator executable and the ns-3 libraries it links against.

The executable is installed next to the compiled bridge module (``packerl/_bin/packerl-sim``),
so it is found through that module's real location in regular and editable installs alike.
The ns-3 shared libraries come from the ``ns3`` wheel; their directory is added to
``LD_LIBRARY_PATH`` in case the executable's rpath does not match the install layout.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from packerl.error import SimulatorNotFound

ENV_EXECUTABLE = "PACKERL_SIM"

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        return None


#: looked up once at import, so that the child of a fork only calls it
_prctl = _load_prctl()


def die_with_parent(parent_pid: int | None = None) -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux; a no-op elsewhere).

    Closes the race with a parent that is already gone before the call: if the parent is
    not ``parent_pid`` any more (default: the parent at the time of the call), or ``parent_pid``
    no longer exists, this process exits at once. The signal fires when the *thread* that
    started this process ends, so start children from a thread that lives as long as they do.
    Meant for ``subprocess.Popen(preexec_fn=...)`` (see :func:`parent_death_hook`) and as the
    initializer of a process pool (see :func:`pool_worker_init`).
    """
    if _prctl is None:
        return
    expected = os.getppid() if parent_pid is None else parent_pid
    _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != expected:
        os._exit(1)


def parent_death_hook(parent_pid: int | None = None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child die with this process (``None`` off Linux).

    Example: ``subprocess.Popen(cmd, preexec_fn=parent_death_hook())``: the child is killed
    even if it is stopped (SIGSTOP) or hung when this process dies.

    Linux sends the signal when the *thread* that started the child ends, so the hook is
    only given for children started from the main thread (``None`` otherwise: a simulator
    started from a worker thread must outlive that thread; it still exits when it finds its
    parent gone between commands).
    """
    if _prctl is None or threading.current_thread() is not threading.main_thread():
        return None
    pid = os.getpid() if parent_pid is None else parent_pid
    return lambda: die_with_parent(pid)


#: attempts of :func:`share_nice_with` while the kernel's rate limit refuses them
AUTOGROUP_TRIES = 10


def share_nice_with(pid: int) -> None:
    """Give child ``pid``, started in a session of its own, this process's nice value.

    On Linux with scheduler autogroups (``CONFIG_SCHED_AUTOGROUP``, on by default in many
    distributions), each session is a group, and groups share the CPU equally whatever
    their processes' nice values: a simulator in its own session would not yield to other
    work under ``nice packerl train``. Setting its group's nice value to ours restores what
    nice means. A no-op at nice 0 (a new group's value), where autogroups do not exist or
    where the value cannot be set; the kernel lets unprivileged users set one ten times a
    second, so a busy moment is retried for up to half a second.
    """
    nice = os.nice(0)
    if nice == 0:
        return
    for _ in range(AUTOGROUP_TRIES):
        try:
            with open(f"/proc/{pid}/autogroup", "w") as f:
                f.write(str(nice))
            return
        except BlockingIOError:  # EAGAIN: another group's value was set within 0.1 s
            time.sleep(0.05)
        except OSError:
            return


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else
        return True
    return True


#: the process that started this pool worker (set by :func:`pool_worker_init`)
_main_pid: int | None = None


def _exit_when_gone(pid: int) -> None:
    """Block until ``pid`` ends (a pidfd, else polling), then end this process at once."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (OSError, AttributeError):  # pragma: no cover - Linux < 5.3, or not Linux
        while _alive(pid):
            time.sleep(0.5)
        os._exit(1)
    select.select([fd], [], [])
    os._exit(1)


def pool_worker_init(main_pid: int) -> None:
    """Initializer of a process-pool worker: die with the pool's server and with ``main_pid``.

    A forkserver worker's parent is the fork server, which stays up while any of its
    children lives (they hold its "alive" pipe), so the parent-death signal alone does not end
    a busy worker when the main process is killed: a daemon thread waits on ``main_pid`` and
    ends the worker when it is gone (at once if it is gone already). A worker's own pool does
    the same with the worker as its main process, so a whole tree goes down.
    """
    global _main_pid
    _main_pid = main_pid
    die_with_parent()
    threading.Thread(target=_exit_when_gone, args=(main_pid,), daemon=True,
                     name="packerl-main-watch").start()


def main_process_alive() -> bool:
    """False in a pool worker whose main process (see :func:`pool_worker_init`) has died."""
    return _main_pid is None or _alive(_main_pid)


def ns3_library_dir() -> Path:
    """Return the directory holding ``libns3.44-*.so`` from the installed ``ns3`` wheel."""
    spec = importlib.util.find_spec("ns3")
    if spec is None or not spec.submodule_search_locations:
        raise SimulatorNotFound(
            "the `ns3` package is not installed; install it with `pip install ns3==3.44.post0`"
        )
    for root in spec.submodule_search_locations:
        lib = Path(root) / "lib64"
        if any(lib.glob("libns3.44-core*.so")):
            return lib
    raise SimulatorNotFound(
        "the `ns3` package has no lib64/libns3.44-core.so; reinstall `ns3==3.44.post0`"
    )


def simulator_executable() -> Path:
    """Return the path of ``packerl-sim`` (``$PACKERL_SIM`` overrides the installed one)."""
    override = os.environ.get(ENV_EXECUTABLE)
    if override:
        path = Path(override)
        if not path.is_file():
            raise SimulatorNotFound(f"${ENV_EXECUTABLE} points to `{path}`, which is not a file")
        return path
    try:
        from packerl import _bridge
    except ImportError as exc:  # pragma: no cover - only without a build
        raise SimulatorNotFound(
            "packerl's compiled parts are missing; install the package with `pip install .`"
        ) from exc
    path = Path(_bridge.__file__).resolve().parent / "_bin" / "packerl-sim"
    if not path.is_file():
        raise SimulatorNotFound(
            f"the simulator executable is missing at `{path}`; reinstall packerl"
        )
    return path


def simulator_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the simulator process: ``base`` (default: ours) plus the ns-3 libraries."""
    env = dict(os.environ if base is None else base)
    lib = str(ns3_library_dir())
    current = env.get("LD_LIBRARY_PATH", "")
    env["LD_LIBRARY_PATH"] = lib + (os.pathsep + current if current else "")
    return env


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``packerl-sim``: run the simulator with its libraries found."""
    args = sys.argv[1:] if argv is None else argv
    try:
        exe = simulator_executable()
        env = simulator_env()
    except SimulatorNotFound as exc:
        print(f"packerl-sim: {exc}", file=sys.stderr)
        return 2
    os.execve(exe, [str(exe), *args], env)
    return 0  # pragma: no cover - execve does not return
