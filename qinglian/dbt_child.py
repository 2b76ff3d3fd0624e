"""`qinglian-dbt`: start the project's dbt so that it cannot outlive the process that started it.

The orchestrator runs dbt as a child process (dagster-dbt). If the orchestrator is killed — by
a person, by systemd, by the out-of-memory killer — an orphaned dbt would keep writing the
warehouse and hold its lock. On Linux this launcher asks the kernel to send SIGKILL to it when its
parent dies (PR_SET_PDEATHSIG, which survives exec) and then becomes the venv's `dbt`. The killed
dbt leaves nothing half-done: DuckDB discards an uncommitted transaction when the file is next
opened, and the next run rebuilds every model.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel for SIGKILL when the parent dies (also the data-quality checker's: data_quality.checker)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def main() -> None:
    dbt = Path(sys.executable).parent / "dbt"
    if not dbt.exists():
        print(f"找不到 dbt：{dbt}。请在项目目录运行 make setup（uv sync）安装依赖", file=sys.stderr)
        raise SystemExit(2)
    die_with_parent()
    os.execv(str(dbt), [str(dbt), *sys.argv[1:]])


if __name__ == "__main__":  # pragma: no cover
    main()
