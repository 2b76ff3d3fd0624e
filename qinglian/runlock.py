"""One run at a time per warehouse: an flock on a file beside it, released when the process dies.

The lock is advisory and held by an open file description that is not inherited by children
(O_CLOEXEC), so it goes away with the process however the process ends — no stale lock after a
kill. It is re-entrant within a process: `qinglian run` takes it for the whole run and the
orchestrator's steps, running in the same process, take it again without waiting on themselves;
the same steps started by the Dagster daemon in their own processes take it for their duration.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from qinglian import office_time
from qinglian.errors import Busy, UserError, os_reason
from qinglian.settings import lock_path

_held: dict[str, int] = {}  # lock file -> depth, in this process
_guard = threading.Lock()


def holder(warehouse: Path) -> dict | None:
    """Who holds the lock (pid, command, since) as the holder wrote it, or None."""
    try:
        text = lock_path(warehouse).read_text(encoding="utf-8")
        return json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None


@contextmanager
def warehouse_lock(warehouse: Path, what: str) -> Iterator[None]:
    """Hold the warehouse for `what` (a Chinese description); Busy if another process holds it."""
    path = lock_path(Path(warehouse).resolve())
    key = str(path)
    with _guard:
        if key in _held:
            _held[key] += 1
            reentrant = True
        else:
            reentrant = False
    if reentrant:
        try:
            yield
        finally:
            with _guard:
                # a step's generator abandoned on an error is closed later, possibly after the outer
                # hold has ended and released the lock: nothing is left to count down then
                if key in _held:
                    _held[key] -= 1
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise UserError(f"无法在 {path.parent} 创建运行锁文件（{os_reason(exc)}），请检查数据仓库所在文件夹的权限") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            info = holder(Path(warehouse)) or {}
            who = f"进程 {info.get('pid', '?')}：{info.get('what', '另一个任务')}，开始于 {info.get('since', '?')}"
            raise Busy(f"另一个任务正在使用数据仓库 {warehouse}（{who}）；请等它结束后再运行（同一时间只能运行一个任务）") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "what": what, "since": office_time.wall_clock().strftime("%Y-%m-%d %H:%M:%S")},
                                 ensure_ascii=False).encode(), 0)
        with _guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _guard:
                _held.pop(key, None)
            with suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor releases the flock
