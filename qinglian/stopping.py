"""Stopping a command: SIGTERM or SIGINT ends it within a bounded time, children included.

The first signal stops the command gracefully: it raises KeyboardInterrupt in the main thread (or,
inside the orchestrator, Dagster turns it into an interruption of the running step and forwards
it to dbt). Nothing guarantees that every library lets that interruption through — a bare
`except:` somewhere swallows it — so a watcher thread also learns of the signal through the
interpreter's wakeup file descriptor (written by the C-level handler whatever Python handler is
installed) and, if the process is still alive after a grace period, ends it with os._exit.
That is safe by design: every write is a committed transaction or nothing, the run lock is a
flock the kernel releases, dbt dies with us (qinglian-dbt), and the next run continues.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress

log = logging.getLogger("qinglian.stopping")

GRACE_SECONDS = float(os.environ.get("QINGLIAN_STOP_GRACE_SECONDS", "15"))
_received: int | None = None
_lock = threading.Lock()
_on_forced: Callable[[int], None] | None = None


def requested() -> int | None:
    """The signal that asked this process to stop, if any."""
    return _received


def exit_code(signum: int) -> int:
    return 128 + signum


def _handler(signum: int, frame: object) -> None:
    _note(signum)
    raise KeyboardInterrupt


def _note(signum: int) -> None:
    global _received
    with _lock:
        first = _received is None
        if first:
            _received = signum
    if first:
        log.warning("收到信号 %s，正在停止（%s 秒内未停止则强制结束）", signal.Signals(signum).name, GRACE_SECONDS)
        threading.Thread(target=_force_after_grace, args=(signum,), daemon=True, name="qinglian-stop").start()


def _force_after_grace(signum: int) -> None:
    time.sleep(GRACE_SECONDS)
    log.error("收到信号 %s 后 %s 秒仍未停止，强制结束", signal.Signals(signum).name, GRACE_SECONDS)
    for handler in logging.getLogger().handlers:
        with suppress(Exception):  # we are about to exit anyway
            handler.flush()
    if _on_forced is not None:
        with suppress(Exception):
            _on_forced(signum)
    sys.stderr.flush()
    os._exit(exit_code(signum))


def _watch(reader: socket.socket) -> None:
    while True:
        try:
            data = reader.recv(64)
        except OSError:
            return
        if not data:
            return
        for signum in data:
            if signum in (signal.SIGTERM, signal.SIGINT):
                _note(signum)


def install(on_forced: Callable[[int], None] | None = None) -> None:
    """Handle SIGTERM and SIGINT in this (main) thread; call once at the start of a command."""
    global _on_forced
    _on_forced = on_forced
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _handler)
    try:
        reader, writer = socket.socketpair()
        writer.setblocking(False)
        signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except (OSError, ValueError):
        return
    # Kept referenced so the descriptors stay open for the life of the process.
    install.sockets = (reader, writer)  # type: ignore[attr-defined]
    threading.Thread(target=_watch, args=(reader,), daemon=True, name="qinglian-signals").start()
