"""`qinglian dashboard`: run the Streamlit app on the published serving copy as a subprocess.

Before anything starts, the security configuration is checked (qinglian.security.config): a
production start without a configured secret, with QINGLIAN_AUTH=off, or on a state directory of the
other mode, refuses with one Chinese line and exit code 2; the demo creates its per-installation
secret and accounts and says so. The mode decided here is handed to the server explicitly
(QINGLIAN_ENV in its environment), which pins it for its lifetime.

Client addresses: lockout by address, the audit log and the session's address binding use the
address the server sees. Behind a reverse proxy on the same machine, uvicorn takes the client's
address from X-Forwarded-For (it trusts that header only from 127.0.0.1; FORWARDED_ALLOW_IPS widens
it); a proxy that sends no X-Forwarded-For makes every client 127.0.0.1 (README, 生产部署清单).
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


def _upload_mb() -> int:
    """The server's upload ceiling is the ingest's own per-file limit (ingest/limits.py), not Streamlit's 200 MB."""
    from ingest.limits import Limits
    from qinglian.errors import UserError

    try:
        return Limits.from_env().upload_mb
    except UserError:  # a bad QINGLIAN_LIMIT_FILE_MB is reported by the upload page itself, in Chinese
        return Limits().upload_mb


def command(port: int = 8501, address: str | None = None) -> list[str]:
    # dashboards.launch is `streamlit` with the legacy pages-folder mode switched off (see there).
    cmd = [sys.executable, "-m", "dashboards.launch", "run", str(ASGI), f"--server.port={port}", *STREAMLIT_FLAGS,
           f"--server.maxUploadSize={_upload_mb()}"]
    if address:
        cmd.append(f"--server.address={address}")
    return cmd


def environment() -> dict[str, str]:
    """The child's env: the mode and the serving copy pinned explicitly, the project importable."""
    from qinglian.security import config

    env = dict(os.environ)
    env["QINGLIAN_ENV"] = config.mode()
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
    except (config.SecurityConfigError, audit.AuditError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error) as exc:
        print(f"错误：无法读写状态目录 {config.state_dir()}：{config.reason(exc)}", file=sys.stderr)
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
    host = address if address and address not in ("0.0.0.0", "::") else "localhost"
    where = f"（只监听 {address}）" if address else "（监听本机所有网络地址）"
    print(f"驾驶舱：http://{host}:{port}  {where}（数据：{serving}）", file=sys.stderr)
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
