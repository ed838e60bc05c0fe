"""Child processes that never outlive the dev stack: own session, death signal, atexit sweep."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1

# Every child still running; the atexit hook sweeps whatever the owner forgot to stop.
_LIVE: set[subprocess.Popen[bytes]] = set()
_LIVE_LOCK = threading.Lock()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port`` and it can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR so a port left in TIME_WAIT by our own last run counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _load_libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


# Loaded in the parent: dlopen between fork and exec can deadlock on the loader lock.
_LIBC = _load_libc()


def _death_signal_setup(parent_pid: int) -> Callable[[], None] | None:
    """A preexec_fn asking the kernel to SIGTERM the child when its parent dies."""
    libc = _LIBC
    # PDEATHSIG fires when the *thread* that forked exits, not the process: only the
    # main thread lives as long as the process, so other threads rely on atexit alone.
    if libc is None or threading.current_thread() is not threading.main_thread():
        return None

    def setup() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        # The parent may have died between fork and prctl; the signal would never come.
        if os.getppid() != parent_pid:
            os._exit(1)

    return setup


def spawn(
    cmd: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in its own session, stdout and stderr appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - commands are built here, never from input
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            # Own session: Ctrl-C in the terminal reaches only us, and we stop children
            # in order; killpg also reaches anything a child forks.
            start_new_session=True,
            preexec_fn=_death_signal_setup(os.getpid()),
        )
    with _LIVE_LOCK:
        _LIVE.add(proc)
    return proc


def signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to the child's process group if the child has not been reaped."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def terminate(procs: Iterable[subprocess.Popen[bytes]], timeout: float) -> None:
    """SIGTERM every child, wait up to ``timeout`` seconds in all, then SIGKILL the rest."""
    procs = list(procs)
    pending = [proc for proc in procs if proc.poll() is None]
    for proc in pending:
        signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in pending:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    for proc in pending:
        if proc.poll() is None:
            signal_group(proc, signal.SIGKILL)
            proc.wait()
    forget(procs)


def forget(procs: Iterable[subprocess.Popen[bytes]]) -> None:
    """Drop exited children from the atexit sweep."""
    with _LIVE_LOCK:
        for proc in procs:
            if proc.poll() is not None:
                _LIVE.discard(proc)


def log_tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file, or a note that it is missing."""
    try:
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            size = log.tell()
            log.seek(max(0, size - 16_384))
            text = log.read().decode("utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


@atexit.register
def _sweep() -> None:
    with _LIVE_LOCK:
        leftovers = list(_LIVE)
    terminate(leftovers, timeout=5.0)
