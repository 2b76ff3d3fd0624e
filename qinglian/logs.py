"""The commands' log file: every invocation, its exit code, and the traceback of anything unexpected.

A person at the terminal reads one Chinese line; the details a developer needs go here. The file is
`logs/qinglian.log` beside the warehouse the command uses (`--warehouse`, `$QINGLIAN_WAREHOUSE` or
data/warehouse.duckdb), or in `$QINGLIAN_LOG_DIR`; it rotates at 5 MB and keeps three old files.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import tempfile
from pathlib import Path

from qinglian.settings import log_dir

LOG_NAME = "qinglian.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"
_installed: Path | None = None


def peek_warehouse(argv: list[str]) -> Path | None:
    """The --warehouse of a command line, read before the command parses it (for the log's place)."""
    for i, arg in enumerate(argv):
        if arg == "--warehouse" and i + 1 < len(argv):
            return Path(argv[i + 1]).expanduser().resolve()
        if arg.startswith("--warehouse="):
            return Path(arg.split("=", 1)[1]).expanduser().resolve()
    return None


def setup(argv: list[str]) -> Path:
    """Send this process's logging to the log file; returns its path."""
    global _installed
    warehouse = peek_warehouse(argv)
    if warehouse is not None and not warehouse.parent.is_dir():
        warehouse = None  # a mistyped --warehouse must not create folders for a log
    candidates = [log_dir(warehouse), Path(tempfile.gettempdir()) / f"qinglian-{os.getuid()}"]
    for directory in candidates:
        path = directory / LOG_NAME
        if _installed == path:
            return path
        try:
            directory.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=5 * 1024 * 1024, backupCount=3, encoding="utf-8")
        except OSError:
            continue
        handler.setFormatter(logging.Formatter(_FORMAT))
        root = logging.getLogger()
        for old in [h for h in root.handlers if getattr(h, "_qinglian", False)]:
            root.removeHandler(old)
            old.close()
        handler._qinglian = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)  # library warnings go to the log, not the terminal
        _installed = path
        return path
    return candidates[0] / LOG_NAME


def current() -> Path | None:
    return _installed
