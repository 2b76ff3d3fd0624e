"""`qinglian dashboard`: run the Streamlit app on the published serving copy as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from qinglian.settings import default_warehouse, serving_path

APP = Path(__file__).with_name("app.py")

# Streamlit options for a leadership-facing deployment: no telemetry, no developer menu, and no
# built-in CSV download on tables (it would bypass the formula escaping of our xlsx exports).
STREAMLIT_FLAGS = (
    "--server.headless=true",
    "--browser.gatherUsageStats=false",
    "--client.toolbarMode=minimal",
    "--client.disableDataExport=true",
    "--client.showErrorDetails=type",
    "--theme.primaryColor=#C0392B",
)


def command(port: int = 8501, address: str | None = None) -> list[str]:
    # dashboards.launch is `streamlit` with the legacy pages-folder mode switched off (see there).
    cmd = [sys.executable, "-m", "dashboards.launch", "run", str(APP), f"--server.port={port}", *STREAMLIT_FLAGS]
    if address:
        cmd.append(f"--server.address={address}")
    return cmd


def environment() -> dict[str, str]:
    """The child's env: the serving copy pinned explicitly, the project importable."""
    env = dict(os.environ)
    env.setdefault("QINGLIAN_SERVING", str(serving_path(default_warehouse())))
    root = str(APP.resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def main(port: int = 8501, address: str | None = None) -> int:
    """Run the dashboards in the foreground until interrupted; returns Streamlit's exit code."""
    serving = Path(environment()["QINGLIAN_SERVING"])
    if not serving.exists():
        print(f"提示：尚未找到发布副本 {serving}，驾驶舱将显示“尚未发布”。请先运行 qinglian run。", file=sys.stderr)
    print(f"驾驶舱：http://localhost:{port}  （数据：{serving}）", file=sys.stderr)
    proc = subprocess.Popen(command(port, address), env=environment())
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
