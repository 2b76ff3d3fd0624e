"""Demo or production, where the app's own state lives, and the secret it signs with.

Mode (explicit, printed at start):
- QINGLIAN_ENV=production (or prod): production. QINGLIAN_ENV=demo: demo.
- unset: demo only if the landing folder holds the demo generator's manifest (`make run` wrote it),
  otherwise production. A server that never ran the demo is therefore production by default and
  refuses to start without a secret.

State (sessions, lockouts, accounts, the audit log): $QINGLIAN_STATE, default `state/` beside the
warehouse (data/state/, git-ignored). Never inside the serving copy's folder, which each publish
replaces, so everything survives publishes and restarts.

Secret: QINGLIAN_SECRET, or QINGLIAN_SECRET_FILE naming a file that holds it (at least 32
characters). Production without one refuses to run. The demo generates a random secret per
installation into the state directory. Keys for cookies and for the audit chain are derived from
it, so neither is ever in the repository.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from qinglian.settings import default_landing, default_warehouse

MIN_SECRET_CHARS = 32
DEMO_SECRET_FILE = "demo_secret"


class SecurityConfigError(RuntimeError):
    """A configuration that must not run; the message is the one Chinese line the operator reads."""


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def state_dir() -> Path:
    env = _env("QINGLIAN_STATE")
    return Path(env).expanduser().resolve() if env else default_warehouse().parent / "state"


def mode() -> str:
    """'production' or 'demo' (see the module docstring)."""
    env = _env("QINGLIAN_ENV").lower()
    if env in ("production", "prod", "生产"):
        return "production"
    if env in ("demo", "演示"):
        return "demo"
    if env:
        raise SecurityConfigError(f"QINGLIAN_ENV 只能是 production 或 demo，收到 '{env}'")
    return "demo" if _demo_manifest().exists() else "production"


def _demo_manifest() -> Path:
    from qinglian.demo.generate import MANIFEST  # the generator's own name for it

    return default_landing() / MANIFEST


def is_demo() -> bool:
    return mode() == "demo"


def mode_reason() -> str:
    """One Chinese line saying which mode is in force and why."""
    env = _env("QINGLIAN_ENV")
    if env:
        return f"运行模式：{'演示' if is_demo() else '正式'}（QINGLIAN_ENV={env}）"
    if is_demo():
        return (f"运行模式：演示（检测到演示数据 {_demo_manifest()}；"
                "正式部署请设置 QINGLIAN_ENV=production）")
    return "运行模式：正式（未检测到演示数据；可用 QINGLIAN_ENV=demo 切换为演示）"


def auth_disabled() -> bool:
    """QINGLIAN_AUTH=off: local development without a login (demo mode only, see require_ok)."""
    return _env("QINGLIAN_AUTH").lower() in ("off", "0", "false", "no")


HOW_TO_SET = ("请设置环境变量 QINGLIAN_SECRET（至少32个字符的随机串，例如 "
              "python3 -c \"import secrets; print(secrets.token_urlsafe(48))\" 生成），"
              "或用 QINGLIAN_SECRET_FILE 指向保存该密钥的文件（仅运行账号可读）。")


def _configured_secret() -> str | None:
    value = _env("QINGLIAN_SECRET")
    source = "QINGLIAN_SECRET"
    if not value and _env("QINGLIAN_SECRET_FILE"):
        path = Path(_env("QINGLIAN_SECRET_FILE")).expanduser()
        source = f"QINGLIAN_SECRET_FILE（{path}）"
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SecurityConfigError(f"无法读取密钥文件 {path}：{exc.strerror or exc}。{HOW_TO_SET}") from exc
    if not value:
        return None
    if len(value) < MIN_SECRET_CHARS:
        raise SecurityConfigError(f"{source} 太短（{len(value)} 个字符，至少 {MIN_SECRET_CHARS} 个）。{HOW_TO_SET}")
    return value


def _demo_secret() -> str:
    path = state_dir() / DEMO_SECRET_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value)
    try:
        os.link(tmp, path)  # first writer wins when two processes start at once
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()


def secret() -> str:
    """The configured secret; in the demo, the installation's generated one. Raises SecurityConfigError."""
    value = _configured_secret()
    if value:
        return value
    if is_demo():
        return _demo_secret()
    raise SecurityConfigError(f"正式模式下未配置签名密钥，驾驶舱拒绝启动。{HOW_TO_SET}")


def derived_key(purpose: str) -> bytes:
    """A key for one purpose (cookie, audit), so one leaked derived key does not reveal the others."""
    return hmac.new(secret().encode("utf-8"), f"qinglian/{purpose}/v1".encode(), hashlib.sha256).digest()


def _int_env(name: str, default: int, low: int = 1) -> int:
    raw = _env(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SecurityConfigError(f"{name} 必须是整数，收到 '{raw}'") from exc
    if value < low:
        raise SecurityConfigError(f"{name} 不能小于 {low}，收到 {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Timeouts and lockout thresholds (environment variables, defaults in brackets)."""

    session_idle_minutes: int    # QINGLIAN_SESSION_IDLE_MINUTES [30]: inactivity before a new login is needed
    session_max_hours: int       # QINGLIAN_SESSION_MAX_HOURS [12]: absolute lifetime of a session
    lockout_attempts: int        # QINGLIAN_LOCKOUT_ATTEMPTS [5]: failures in a row that lock an account
    lockout_ip_attempts: int     # QINGLIAN_LOCKOUT_IP_ATTEMPTS [20]: failures from one address that lock it
    lockout_seconds: int         # QINGLIAN_LOCKOUT_SECONDS [60]: first wait; doubles with each further lock
    lockout_max_seconds: int     # QINGLIAN_LOCKOUT_MAX_SECONDS [3600]: the longest wait
    failure_window_minutes: int  # QINGLIAN_LOCKOUT_WINDOW_MINUTES [15]: failures older than this are forgotten


def settings() -> Settings:
    return Settings(
        session_idle_minutes=_int_env("QINGLIAN_SESSION_IDLE_MINUTES", 30),
        session_max_hours=_int_env("QINGLIAN_SESSION_MAX_HOURS", 12),
        lockout_attempts=_int_env("QINGLIAN_LOCKOUT_ATTEMPTS", 5),
        lockout_ip_attempts=_int_env("QINGLIAN_LOCKOUT_IP_ATTEMPTS", 20),
        lockout_seconds=_int_env("QINGLIAN_LOCKOUT_SECONDS", 60),
        lockout_max_seconds=_int_env("QINGLIAN_LOCKOUT_MAX_SECONDS", 3600),
        failure_window_minutes=_int_env("QINGLIAN_LOCKOUT_WINDOW_MINUTES", 15),
    )


def require_ok() -> str:
    """Check everything a start needs; return the mode line, or raise SecurityConfigError (Chinese)."""
    line = mode_reason()
    if auth_disabled() and not is_demo():
        raise SecurityConfigError("正式模式下不允许 QINGLIAN_AUTH=off（关闭登录）。请删除该环境变量后重新启动。")
    secret()
    settings()
    return line
