"""`qinglian user add|passwd|disable|enable|unlock|list` and `qinglian audit` (registered by qinglian/cli.py).

Accounts are made here or on the admin page, never by editing files. Every change is audited with
the operating-system account as the actor. Errors are one Chinese line and a non-zero exit.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from typing import Annotated, Any

import typer

from qinglian.security import accounts, audit, config, lockout
from qinglian.security.scope import ROLE_LABELS

user_app = typer.Typer(help="驾驶舱账号：新增、改密码、停用/启用、解锁、列出", no_args_is_help=True, add_completion=False)


def register(app: typer.Typer) -> None:
    """Add `user` and `audit` to the main command."""
    app.add_typer(user_app, name="user")
    app.command("audit")(audit_command)


def _say(text: str) -> None:
    print(text)


@contextmanager
def _errors() -> Iterator[None]:
    """Known failures as one Chinese line (exit 2 for bad input, 1 otherwise)."""
    try:
        yield
    except accounts.AccountError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        raise typer.Exit(2) from exc
    except (config.SecurityConfigError, audit.AuditError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        raise typer.Exit(exc.exit_code) from exc  # 2: configuration, 1: the log could not be written
    except (sqlite3.Error, OSError) as exc:
        print(f"错误：无法读写状态目录 {config.state_dir()}：{config.reason(exc)}", file=sys.stderr)
        raise typer.Exit(1) from exc


def _password(from_stdin: bool, username: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt(f"为 {username} 设置密码", hide_input=True)
    if typer.prompt("再次输入密码", hide_input=True) != first:
        raise accounts.AccountError("两次输入的密码不一致")
    return first


StdinOpt = Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码（一行），用于脚本；默认交互输入两次")]


@user_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="用户名（小写字母开头，2-32 位）")],
    name: Annotated[str, typer.Option("--name", help="姓名或单位名称（显示在页面和水印上）")],
    role: Annotated[str, typer.Option("--role", help="leadership 领导 | analyst 分析人员 | county 县区用户 | "
                                                     "submitter 报送单位 | admin 系统管理员")],
    unit: Annotated[str | None, typer.Option("--unit", help="county：12 位县级区划代码；submitter：部门编码或县级区划代码")] = None,
    password_stdin: StdinOpt = False,
) -> None:
    """新增账号（密码 bcrypt 加密；角色与单位按数据仓库中的区划、部门核对）。"""
    with _errors():
        account = accounts.AccountStore().add(username, name, role, _password(password_stdin, username), unit,
                                              actor=accounts.cli_actor())
        _say(f"已新增账号 {account.username}：{account.display_name}，{ROLE_LABELS[account.role]}，"
             f"范围 {account.scope().scope_text}")


@user_app.command("passwd")
def passwd(username: Annotated[str, typer.Argument(help="用户名")], password_stdin: StdinOpt = False) -> None:
    """重设密码（该账号现有的登录全部失效）。"""
    with _errors():
        store = accounts.AccountStore()
        if store.get(username) is None:
            raise accounts.AccountError(f"没有账号 {accounts.normalise_username(username)}（qinglian user list 列出全部账号）")
        store.set_password(username, _password(password_stdin, username), actor=accounts.cli_actor())
        _say(f"已修改 {accounts.normalise_username(username)} 的密码，其现有登录已全部退出。")


@user_app.command("disable")
def disable(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """停用账号（立即退出其全部登录；记录保留）。"""
    with _errors():
        accounts.AccountStore().set_active(username, False, actor=accounts.cli_actor())
        _say(f"已停用 {accounts.normalise_username(username)}。")


@user_app.command("enable")
def enable(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """重新启用已停用的账号。"""
    with _errors():
        accounts.AccountStore().set_active(username, True, actor=accounts.cli_actor())
        _say(f"已启用 {accounts.normalise_username(username)}。")


@user_app.command("unlock")
def unlock(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """解除账号因多次登录失败造成的锁定。"""
    with _errors():
        name = accounts.normalise_username(username)
        key = lockout.account_key(name)
        if lockout.Lockout().clear(key):
            audit.record("unlock", accounts.cli_actor(), target=key)
            _say(f"已解除 {name} 的登录锁定。")
        else:
            _say(f"{name} 当前没有锁定。")


@user_app.command("list")
def list_accounts() -> None:
    """列出全部账号：用户名、姓名、角色、范围、状态。"""
    with _errors():
        locked = {lk.key.split(":", 1)[1] for lk in lockout.Lockout().current() if lk.is_account}
        items = accounts.AccountStore().list()
        if not items:
            _say("尚无账号。新增：qinglian user add 用户名 --name 姓名 --role admin")
            return
        for a in items:
            state = ("已停用" if not a.active else "演示账号（正式模式不可用）" if not a.usable
                     else "锁定中" if a.username in locked else "正常")
            _say(f"{a.username}\t{a.display_name}\t{ROLE_LABELS.get(a.role, a.role)}\t{a.scope().scope_text}\t{state}")


def _moment(text: str | None, option: str) -> datetime | None:
    """YYYY-MM-DD or 'YYYY-MM-DD HH:MM' in the office's time zone."""
    if not text:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    raise accounts.AccountError(f"{option} 应为日期 2025-01-31 或时间 '2025-01-31 08:00'，收到 '{text}'")


def audit_command(
    since: Annotated[str | None, typer.Option("--since", help="起始日期或时间（含），如 2025-01-01")] = None,
    until: Annotated[str | None, typer.Option("--until", help="截止日期（含当天）或时间（不含）")] = None,
    user: Annotated[str | None, typer.Option("--user", help="只看某个用户名")] = None,
    event: Annotated[list[str] | None, typer.Option("--event", help=f"只看某类事件（可重复）：{'、'.join(audit.EVENTS)}")] = None,
    limit: Annotated[int, typer.Option("--limit", help="最多显示条数（最新在前）")] = 200,
    verify: Annotated[bool, typer.Option("--verify", help="校验整条日志链是否完整（未被改动、删除或插入）")] = False,
) -> None:
    """读取审计日志（登录、查看、导出、账号变更……），或校验其完整性。"""
    with _errors():
        log = audit.log()
        if verify:
            result = log.verify(audit.app_log_files())
            print(result.message, file=sys.stdout if result.ok else sys.stderr)
            raise typer.Exit(0 if result.ok else 1)
        unknown = [e for e in event or [] if e not in audit.EVENTS]
        if unknown:
            raise accounts.AccountError(f"未知事件 {'、'.join(unknown)}，可选：{'、'.join(audit.EVENTS)}")
        if limit < 1:
            raise accounts.AccountError("--limit 至少为 1")
        start = _moment(since, "--since")
        end = _moment(until, "--until")
        if end is not None and until and len(until.strip()) == 10:
            end = datetime.combine(end.date(), time.min) + timedelta(days=1)
        entries = log.read(since=start, until=end, username=accounts.normalise_username(user) if user else None,
                           events=tuple(event or ()), limit=limit)
        for e in reversed(entries):
            _say("\t".join(_fields(e)))
        print(f"共 {len(entries)} 条。", file=sys.stderr)


def _fields(e: audit.Entry) -> list[str]:
    import json

    parts: list[Any] = [e.seq, f"{e.ts:%Y-%m-%d %H:%M:%S}", e.event_label, e.username or "-",
                        ROLE_LABELS.get(e.role or "", e.role or "-"), e.scope or "-", e.client or "-", e.target or "-"]
    if e.rows is not None:
        parts.append(f"{e.rows}行")
    if e.detail:
        parts.append(json.dumps(e.detail, ensure_ascii=False))
    return [str(p) for p in parts]
