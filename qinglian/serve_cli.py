"""`qinglian serve start|stop|status|logs|units|run` (registered by qinglian/cli.py; the work is in qinglian.serve)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from qinglian.errors import UserError

serve_app = typer.Typer(help="作为常驻服务运行：调度守护进程、编排界面、驾驶舱与上传门户", no_args_is_help=True,
                        add_completion=False)

OnlyOpt = Annotated[list[str] | None, typer.Option("--only", help="只启动某个服务（可重复）：daemon webserver dashboards")]


def register(app: typer.Typer) -> None:
    app.add_typer(serve_app, name="serve")


def _say(text: str) -> None:
    print(text, flush=True)


@serve_app.command("start")
def start_command(
    only: OnlyOpt = None,
    dashboard_port: Annotated[int | None, typer.Option("--dashboard-port", min=1, max=65535, help="驾驶舱端口（默认 8501 或 $QINGLIAN_DASHBOARD_PORT）")] = None,
    dagster_port: Annotated[int | None, typer.Option("--dagster-port", min=1, max=65535, help="编排界面端口（默认 3000 或 $QINGLIAN_DAGSTER_PORT）")] = None,
    address: Annotated[str | None, typer.Option("--address", help="驾驶舱监听地址（默认所有地址；反向代理之后用 127.0.0.1）")] = None,
    wait: Annotated[float, typer.Option("--wait", min=0, help="最多等待服务就绪的秒数")] = 120.0,
) -> None:
    """在后台启动全部服务（监管进程负责重启意外退出的服务）。"""
    from qinglian import serve

    services = serve.services_from(only, {"dashboards": dashboard_port, "webserver": dagster_port}, {"dashboards": address})
    _say("正在启动服务并等待就绪…")
    state, lines = serve.start(services, wait=wait)
    for line in lines:
        _say(line)
    status, ok = serve.status_lines()
    for line in status:
        _say(line)
    if not ok:
        raise UserError(f"有服务未能正常运行（见上）；日志在 {serve.service_log_dir()}")
    _say("已启动。查看状态：qinglian serve status；日志：qinglian serve logs；停止：qinglian serve stop")


@serve_app.command("stop")
def stop_command() -> None:
    """停止全部服务及其子进程（运行中的季度任务会被中断，重新运行即可从中断处继续）。"""
    from qinglian import serve

    for line in serve.stop():
        _say(line)


@serve_app.command("status")
def status_command() -> None:
    """各服务是否在运行、pid、端口、重启次数，以及最近一次季度任务运行。全部运行时退出码 0，否则 3。"""
    from qinglian import serve

    lines, ok = serve.status_lines()
    for line in lines:
        _say(line)
    if not ok:
        raise typer.Exit(3)


@serve_app.command("logs")
def logs_command(
    service: Annotated[str | None, typer.Argument(help="daemon webserver dashboards supervisor（默认全部）")] = None,
    lines: Annotated[int, typer.Option("-n", "--lines", min=1, help="显示最后几行")] = 40,
    follow: Annotated[bool, typer.Option("-f", "--follow", help="持续显示新写入的日志（Ctrl+C 结束）")] = False,
) -> None:
    """显示服务日志的最后几行（每个服务一个日志文件）。"""
    from qinglian import serve

    names = [service] if service else ["supervisor", *serve.SERVICES]
    for name in names:
        if name not in ("supervisor", *serve.SERVICES):
            raise UserError(f"没有服务 {name}；可选：supervisor、{'、'.join(serve.SERVICES)}")
    if follow and len(names) != 1:
        raise UserError("--follow 只能跟随一个服务的日志，如 qinglian serve logs daemon -f")
    for name in names:
        path = serve.log_file(name)
        _say(f"==> {serve.LABELS[name]}：{path} <==")
        text = serve.tail(path, lines)
        for line in text or ["（尚无日志）"]:
            _say(line)
    if follow:
        _follow(serve.log_file(names[0]))


def _follow(path: Path) -> None:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        while True:
            chunk = fh.read()
            if chunk:
                sys.stdout.write(chunk.decode("utf-8", errors="replace"))
                sys.stdout.flush()
            else:
                time.sleep(0.5)


@serve_app.command("units")
def units_command(
    out: Annotated[Path, typer.Option("--out", help="写入 systemd 单元文件的文件夹（如 /etc/systemd/system）")],
    user: Annotated[str | None, typer.Option("--user", help="服务以哪个系统账号运行（默认当前账号）")] = None,
) -> None:
    """按本机安装位置生成 systemd 单元文件（开机自动启动、意外退出后自动重启）。"""
    from qinglian import serve

    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} 是一个文件，请指定文件夹")
    for path in serve.write_units(out, user):
        _say(f"已生成 → {path}")
    _say("启用：sudo systemctl daemon-reload && sudo systemctl enable --now qinglian.target")


@serve_app.command("run")
def run_command(service: Annotated[str, typer.Argument(help="daemon webserver dashboards")]) -> None:
    """在前台运行一个服务（systemd 单元文件调用它；手工运行请用 qinglian serve start）。"""
    from qinglian import serve

    (chosen,) = serve.services_from([service])
    for line in serve.preflight([chosen]):
        print(line, file=sys.stderr, flush=True)
    cmd = serve.service_command(chosen)
    env = serve.service_environment()
    os.chdir(serve.PROJECT_ROOT)
    os.execve(cmd[0], cmd, env)  # systemd now supervises the service itself
