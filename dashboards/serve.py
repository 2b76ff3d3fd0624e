"""`qinglian dashboard`: run the Streamlit app on the published serving copy as a subprocess.

Before anything starts, the security configuration is checked (qinglian.security.config): a
production start without a configured secret, or with QINGLIAN_AUTH=off, refuses with one Chinese
line and exit code 2; the demo creates its per-installation secret and accounts and says so.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from qinglian.settings import default_warehouse, serving_path

APP = Path(__file__).with_name("app.py")
ASGI = Path(__file__).with_name("asgi.py")  # app.py plus the HttpOnly session-cookie routes

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
    cmd = [sys.executable, "-m", "dashboards.launch", "run", str(ASGI), f"--server.port={port}", *STREAMLIT_FLAGS]
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


def preflight() -> int:
    """Check the security configuration; 0 when the dashboards may start, 2 (after one Chinese line) if not."""
    from qinglian.security import audit, config
    from qinglian.security.accounts import AccountStore

    try:
        line = config.require_ok()
        made = AccountStore().ensure_demo_accounts()
    except (config.SecurityConfigError, audit.AuditError, OSError, sqlite3.Error) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(line, file=sys.stderr)
    print(f"状态目录（账号、会话、锁定、审计日志）：{config.state_dir()}", file=sys.stderr)
    if config.is_demo():
        if made:
            print(f"已创建演示账号：{'、'.join(made)}（密码见 README「驾驶舱与账号」）", file=sys.stderr)
        print("这是演示环境：签名密钥为本机随机生成，数据与账号均为演示用途。", file=sys.stderr)
    elif not AccountStore().list():
        print("提示：尚无账号，请先运行 qinglian user add 用户名 --name 姓名 --role admin", file=sys.stderr)
    return 0


def main(port: int = 8501, address: str | None = None) -> int:
    """Run the dashboards in the foreground until interrupted; returns Streamlit's exit code."""
    refused = preflight()
    if refused:
        return refused
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
