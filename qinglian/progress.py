"""The quarterly job's progress at the terminal: which step runs, how many files are read, time so far.

`qinglian run` executes the job in its own process and opens a display (`showing`); the job's steps
report to it through `step()` and `file_done()`. Outside `qinglian run` — a run the Dagster daemon
started — nothing is open and the calls do nothing. The display is rich's live progress, drawn only
on a terminal and removed when the job ends: piped output (make run in CI, a log) gets the outcome
lines and the verdict, not redraws.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

STEPS = ("读取报送文件", "构建指标（dbt）", "发布前检查", "发布驾驶舱数据")
_display = None  # (Progress, step task, file task) while `showing` is open


@contextmanager
def showing(console, quarter: str, files: int) -> Iterator[None]:
    global _display
    if not console.is_terminal:  # piped: the outcome lines and the verdict only
        yield
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        steps = progress.add_task(f"{quarter} 季度任务", total=len(STEPS))
        reading = progress.add_task("  读取报送文件", total=max(files, 1))
        _display = (progress, steps, reading)
        try:
            yield
        finally:
            _display = None


def step(name: str) -> None:
    """A step of STEPS starts."""
    if _display is None:
        return
    progress, steps, _ = _display
    done = STEPS.index(name) if name in STEPS else 0
    progress.update(steps, completed=done, description=f"步骤 {done + 1}/{len(STEPS)}：{name}")


def file_done(outcome) -> None:
    """One file of the landing folder has its outcome (ingest.pipeline's on_file)."""
    if _display is None:
        return
    progress, _, reading = _display
    progress.update(reading, advance=1, description=f"  {outcome.rel}"[:60])
