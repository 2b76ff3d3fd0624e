"""Helpers of the fault-injection suite: where to crash, how to run a child, what "the same state" means.

Crashes are injected from outside the product: a wrapper around a named function counts its calls
and, at the chosen one, either raises `Crash` (in-process: a BaseException no handler catches, so
the run unwinds as if the process had died — open transactions are dropped when the connection
closes) or sends SIGKILL to its own process (in a child: nothing runs after it).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FAULTS_ENV = "QINGLIAN_TEST_FAULTS"


class Crash(BaseException):
    """An injected crash: derives from BaseException so that no `except Exception` swallows it."""


def _resolve(target: str) -> tuple[object, str]:
    """"ingest.load:Journal.commit" → (the Journal class, "commit")."""
    module_name, _, attr_path = target.partition(":")
    owner: object = importlib.import_module(module_name)
    *parents, name = attr_path.split(".")
    for p in parents:
        owner = getattr(owner, p)
    return owner, name


def arm(target: str, call: int, when: str, action: Callable[[], None]) -> Callable[[], None]:
    """Wrap `target` so that its `call`-th call runs `action` before or after the real call.
    Returns a function that restores the original."""
    owner, name = _resolve(target)
    original = getattr(owner, name)
    count = {"n": 0}

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        count["n"] += 1
        if count["n"] == call and when == "before":
            action()
        result = original(*args, **kwargs)
        if count["n"] == call and when == "after":
            action()
        return result

    setattr(owner, name, wrapper)
    return lambda: setattr(owner, name, original)


@contextmanager
def crash_at(target: str, call: int, when: str = "before") -> Iterator[None]:
    def boom() -> None:
        raise Crash(f"{target} #{call} {when}")

    restore = arm(target, call, when, boom)
    try:
        yield
    finally:
        restore()


def kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


HWM_ENV = "QINGLIAN_TEST_PEAK_FILE"


def _write_peak() -> None:
    """This process's peak resident memory (VmHWM: the high-water mark of its own address space,
    which, unlike ru_maxrss, does not include the test process it was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            Path(os.environ[HWM_ENV]).write_text(str(int(line.split()[1]) * 1024))


def child_main() -> None:
    """Entry of a child process: arm the faults named in $QINGLIAN_TEST_FAULTS, then run the CLI."""
    if os.environ.get(HWM_ENV):
        import atexit

        atexit.register(_write_peak)
    for spec in json.loads(os.environ.get(FAULTS_ENV, "[]")):
        arm(spec["target"], int(spec["call"]), spec["when"], kill_self)
    from qinglian.cli import main

    sys.exit(main(sys.argv[1:]))


def qinglian(args: list[str], env: dict[str, str] | None = None, faults: list[dict] | None = None,
             timeout: float = 300, preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in a child (with faults armed if given) and wait for it."""
    environment = minimal_env(env)
    if faults is not None:
        environment[FAULTS_ENV] = json.dumps(faults)
        cmd = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); import tests.faultkit as f; f.child_main()", *args]
    else:
        cmd = [str(BIN / "qinglian"), *args]
    return subprocess.run(cmd, env=environment, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=preexec)


def minimal_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """What cron or systemd gives a process: no venv on PATH, no PYTHONPATH."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    env.update(extra or {})
    return env


def limit_file_size(limit: int) -> Callable[[], None]:
    """preexec_fn for a child that sees a 'full disk': writes past `limit` bytes fail with EFBIG
    (RLIMIT_FSIZE; SIGXFSZ ignored so the write returns an error instead of killing the process)."""
    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


# --- what "the same state" means -------------------------------------------------------------------

RAW_TABLES = ("regions", "departments", "tasks", "task_progress", "units", "inspections", "survey_responses",
              "survey_answers", "cases")


def _rows(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple]:
    """Every row of a table with its wall-clock timestamp columns left out (two uninterrupted runs
    differ in them), in a fixed order."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table]).fetchall()
    kept = [f'"{c}"' for c, t in columns if not t.upper().startswith("TIMESTAMP")]
    return con.execute(f"select {', '.join(kept)} from {schema}.{table} order by all").fetchall()


def _digest(rows: list[tuple]) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def journal_state(warehouse: Path) -> dict[str, str]:
    """The ingest journal and every raw table, as digests per table (file ids included)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: _digest(_rows(con, "raw", t)) for t in ("ingest_files", "ingest_rejects", *RAW_TABLES)}


def journal_rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return _rows(con, "raw", "ingest_files")


def marts_state(warehouse: Path) -> dict[str, str]:
    """Every table of schema marts, as a digest of all its rows in a fixed order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        return {t: _digest(_rows(con, "marts", t)) for t in tables}


def assert_consistent(warehouse: Path) -> None:
    """No half-recorded file: every loaded file's rows are all there, rows read = loaded + rejected.
    A run killed before it created the journal (the warehouse file exists, its raw schema not yet) has
    recorded nothing, which is consistent: the next run starts from scratch. So has a run killed before
    it created the warehouse file at all."""
    if not warehouse.exists():
        return
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not con.execute("select 1 from information_schema.tables where table_schema = 'raw' and table_name = 'ingest_files'").fetchall():
            return
        bad = con.execute("select path from raw.ingest_files where rows_read <> rows_loaded + rows_rejected").fetchall()
        assert bad == [], bad
        for source, table in (("regions", "regions"), ("departments", "departments"), ("tasks", "tasks"),
                              ("task_progress", "task_progress"), ("units", "units"), ("inspections", "inspections"),
                              ("surveys", "survey_responses"), ("cases", "cases")):
            mismatch = con.execute(
                f"""select f.path, f.rows_loaded, count(t.file_id) from raw.ingest_files f
                    left join raw.{table} t using (file_id) where f.source = ?
                    group by all having f.rows_loaded <> count(t.file_id)""", [source]).fetchall()
            assert mismatch == [], mismatch


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_each_distinct_file_loaded_once(warehouse: Path, landing: Path, expected: dict[str, str]) -> None:
    """Every file of the landing folder whose expected outcome loads rows is loaded exactly once;
    its identical copies are duplicates of it; no other file is recorded as loaded."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select path, sha256, outcome from raw.ingest_files").fetchall()
    by_path: dict[str, list[tuple[str, str]]] = {}
    for path, sha, outcome in rows:
        by_path.setdefault(path, []).append((sha, outcome))
    loaded_by_sha: dict[str, list[str]] = {}
    for path, sha, outcome in rows:
        if outcome in ("accepted", "accepted_with_rejects"):
            loaded_by_sha.setdefault(sha, []).append(path)
    assert all(len(paths) == 1 for paths in loaded_by_sha.values()), loaded_by_sha
    for rel, outcome in expected.items():
        sha = file_sha(landing / rel)
        recorded = [o for s, o in by_path.get(rel, []) if s == sha]
        assert recorded == [outcome], (rel, recorded, outcome)
        if outcome == "duplicate":
            assert len(loaded_by_sha.get(sha, [])) == 1, rel
