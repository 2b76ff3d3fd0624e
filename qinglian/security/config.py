"""Demo or production, where the app's own state lives, and the secret it signs with.

Mode — explicit configuration only, decided when a process starts:
- production is the default. QINGLIAN_ENV=demo (or 演示) makes a demo; QINGLIAN_ENV=production
  says production explicitly; anything else refuses to start.
- Nothing on disk turns a process into a demo: no landing-folder file, no page load. The only
  writers of QINGLIAN_ENV=demo are the operator, `make run` / `make dashboard`, and `qinglian run`
  in the one invocation in which it generated the demo landing folder itself (claim_demo_landing).
- The dashboards' server pins the mode at start (freeze), so nothing later in that process changes it.

State (sessions, lockouts, accounts, the audit log): $QINGLIAN_STATE, default `state/` beside the
warehouse (data/state/, git-ignored). Never inside the serving copy's folder, which each publish
replaces, so everything survives publishes and restarts. The directory is 0700 and every file in it
0600. It records the mode it was initialised with (file `mode`): a production state directory never
becomes a demo one (no demo account is ever created in it), and a demo one is never used in
production (ensure_state).

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
import sqlite3
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from qinglian.errors import EXIT_USAGE, UserError, os_reason
from qinglian.settings import default_warehouse

MIN_SECRET_CHARS = 32
DEMO_SECRET_FILE = "demo_secret"
MODE_FILE = "mode"
MODE_LABELS = {"production": "正式", "demo": "演示"}
DIR_MODE = 0o700
FILE_MODE = 0o600


class SecurityConfigError(UserError, RuntimeError):
    """A configuration that must not run; the message is the one Chinese line the operator reads (every
    `qinglian` command prints it as such and exits 2)."""

    exit_code = EXIT_USAGE


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def state_dir() -> Path:
    env = _env("QINGLIAN_STATE")
    return Path(env).expanduser().resolve() if env else default_warehouse().parent / "state"


_FROZEN: str | None = None  # set once by the dashboards' server at start (freeze)


def _mode_from_env() -> str:
    env = _env("QINGLIAN_ENV").lower()
    if env in ("", "production", "prod", "生产", "正式"):
        return "production"
    if env in ("demo", "演示"):
        return "demo"
    raise SecurityConfigError(f"QINGLIAN_ENV 只能是 production（正式）或 demo（演示），收到 '{_env('QINGLIAN_ENV')}'")


def mode() -> str:
    """'production' or 'demo': QINGLIAN_ENV, production when unset (see the module docstring)."""
    return _FROZEN or _mode_from_env()


def freeze() -> str:
    """Pin this process's mode (the dashboards' server calls it once at start)."""
    global _FROZEN
    _FROZEN = _mode_from_env()
    return _FROZEN


def is_demo() -> bool:
    return mode() == "demo"


def mode_reason() -> str:
    """One Chinese line saying which mode is in force and why."""
    env = _env("QINGLIAN_ENV")
    if is_demo():
        return f"运行模式：演示（QINGLIAN_ENV={env or 'demo'}；演示数据与演示账号，请勿用于正式工作）"
    if env:
        return f"运行模式：正式（QINGLIAN_ENV={env}）"
    return "运行模式：正式（未设置 QINGLIAN_ENV 即为正式模式；演示请用 make run / make dashboard 或设置 QINGLIAN_ENV=demo）"


# --- operating-system and SQLite errors, in Chinese ----------------------------------------------

_SQLITE_REASONS = {
    "SQLITE_READONLY": "数据库文件只读（权限不足或磁盘只读）", "SQLITE_CANTOPEN": "无法打开数据库文件（文件夹不存在或权限不足）",
    "SQLITE_PERM": "权限不足", "SQLITE_FULL": "磁盘空间不足", "SQLITE_IOERR": "磁盘读写错误",
    "SQLITE_BUSY": "数据库正被其他程序占用", "SQLITE_LOCKED": "数据库正被其他程序占用",
    "SQLITE_CORRUPT": "数据库文件已损坏", "SQLITE_NOTADB": "不是有效的数据库文件（可能已损坏或被替换）",
    "SQLITE_AUTH": "操作被拒绝", "SQLITE_CONSTRAINT": "违反数据约束",
}


def reason(exc: BaseException) -> str:
    """What went wrong, in Chinese, for an OSError or sqlite3.Error (never the English system text).

    Our own refusals (SQLite RAISE(ABORT, '…') messages of the audit triggers) are already Chinese."""
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc)
        if any("\u4e00" <= ch <= "\u9fff" for ch in text):
            return text
        for prefix, why in _SQLITE_REASONS.items():
            if name.startswith(prefix):
                return why
        return f"数据库错误{f'（{name}）' if name else ''}"
    return os_reason(exc)


# --- the state directory: private, and of one mode for life ---------------------------------------

_CHECKED: set[tuple[str, str]] = set()
_CHECK_LOCK = threading.Lock()


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        os.chmod(path, DIR_MODE)


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if missing; tighten an existing one we own to 0600."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        st = path.stat()
        if stat.S_ISREG(st.st_mode) and st.st_mode & 0o077 and st.st_uid == os.getuid():
            os.chmod(path, FILE_MODE)


def write_private(path: Path, text: str, *, exclusive: bool = False) -> bool:
    """Write `text` to `path` atomically as a 0600 file. exclusive: only if `path` does not exist yet
    (returns False if another process wrote it first)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            try:
                os.link(tmp, path)  # first writer wins
            except FileExistsError:
                return False
        else:
            os.replace(tmp, path)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _legacy_mode(directory: Path) -> str | None:
    """A state directory made before it recorded its mode: demo if it holds the demo's secret or accounts."""
    if (directory / DEMO_SECRET_FILE).exists():
        return "demo"
    db = directory / "security.sqlite"
    if db.exists():
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                if con.execute("SELECT 1 FROM accounts WHERE demo = 1 LIMIT 1").fetchone():
                    return "demo"
            finally:
                con.close()
        except sqlite3.Error:
            pass
    return None


def _refuse_other_mode(directory: Path, recorded: str | None, current: str) -> None:
    if recorded is None or recorded == current:
        return
    if recorded not in MODE_LABELS:
        raise SecurityConfigError(f"状态目录 {directory} 的模式记录（{directory / MODE_FILE}）无法识别：'{recorded[:20]}'。"
                                  "请恢复该文件（production 或 demo），或改用新的状态目录。")
    if recorded == "production":
        raise SecurityConfigError(
            f"状态目录 {directory} 是正式环境的，不能以演示模式使用（演示账号不会在正式环境中创建）。"
            "正式运行请去掉 QINGLIAN_ENV=demo；演示请把 QINGLIAN_STATE 设为另一个目录。")
    raise SecurityConfigError(
        f"状态目录 {directory} 由演示环境初始化（含演示账号与演示密钥），不能用于正式模式。"
        "演示请设置 QINGLIAN_ENV=demo（make run、make dashboard 已自动设置）；"
        "正式部署请把 QINGLIAN_STATE 设为一个新的目录。")


def ensure_state() -> Path:
    """The state directory, created private (0700) and stamped with this process's mode; raises
    SecurityConfigError if it was initialised in the other mode, or if this is production without a
    configured secret. Every connection to a state file goes through here (qinglian.security.store),
    so no demo account can ever land in a production directory and no production process ever
    works on a demo one."""
    directory, current = state_dir(), mode()
    key = (str(directory), current)
    if key in _CHECKED:
        return directory
    with _CHECK_LOCK:
        marker = directory / MODE_FILE
        try:
            recorded = marker.read_text(encoding="utf-8").strip() if marker.exists() else _legacy_mode(directory)
            _refuse_other_mode(directory, recorded, current)
            if current == "production":
                secret()  # production without a configured secret touches nothing: it refuses
            _private_dir(directory)
            if not marker.exists():
                write_private(marker, current + "\n", exclusive=True)  # first writer wins
                _refuse_other_mode(directory, marker.read_text(encoding="utf-8").strip(), current)
        except OSError as exc:
            raise SecurityConfigError(f"无法使用状态目录 {directory}：{reason(exc)}。请检查 QINGLIAN_STATE 及其权限。") from exc
        _CHECKED.add(key)
    return directory


def claim_demo_landing(landing: Path) -> str:
    """`qinglian run` is about to generate the demo landing folder because the default one is missing:
    allowed only where nothing says production, and then this invocation (and the dashboards it
    starts) runs as the demo. Returns the line to print; raises SecurityConfigError otherwise."""
    env = _env("QINGLIAN_ENV")
    refuse = (f"落地文件夹 {landing} 不存在。正式模式下不会自动生成演示数据，以免模拟数据进入驾驶舱："
              "请用 --landing 指定报送文件所在的文件夹")
    if env and _mode_from_env() == "production":
        raise SecurityConfigError(f"{refuse}（QINGLIAN_ENV={env}）。")
    marker = state_dir() / MODE_FILE
    try:
        recorded = marker.read_text(encoding="utf-8").strip() if marker.exists() else None
    except OSError as exc:
        raise SecurityConfigError(f"无法读取状态目录 {state_dir()}：{reason(exc)}。") from exc
    if recorded == "production":
        raise SecurityConfigError(f"{refuse}（状态目录 {state_dir()} 是正式环境的）。")
    os.environ["QINGLIAN_ENV"] = "demo"
    return "运行模式：演示（本次运行生成了演示数据；驾驶舱使用演示账号）"


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
            raise SecurityConfigError(f"无法读取密钥文件 {path}：{reason(exc)}。{HOW_TO_SET}") from exc
    if not value:
        return None
    if len(value) < MIN_SECRET_CHARS:
        raise SecurityConfigError(f"{source} 太短（{len(value)} 个字符，至少 {MIN_SECRET_CHARS} 个）。{HOW_TO_SET}")
    return value


def _demo_secret() -> str:
    path = ensure_state() / DEMO_SECRET_FILE
    try:
        if not path.exists():
            write_private(path, secrets.token_urlsafe(48), exclusive=True)  # first writer wins
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecurityConfigError(f"无法读写演示密钥 {path}：{reason(exc)}。") from exc


def secret() -> str:
    """The configured secret; in the demo, the installation's generated one. Raises SecurityConfigError."""
    value = _configured_secret()
    if value:
        return value
    if is_demo():
        return _demo_secret()
    raise SecurityConfigError(f"正式模式下未配置签名密钥，拒绝运行。{HOW_TO_SET}"
                              "（若这是演示环境，请设置 QINGLIAN_ENV=demo；make run、make dashboard 已自动设置。）")


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
    bind_address: bool           # QINGLIAN_SESSION_BIND_ADDRESS [on]: a session works only from the address it logged in from


def settings() -> Settings:
    return Settings(
        session_idle_minutes=_int_env("QINGLIAN_SESSION_IDLE_MINUTES", 30),
        session_max_hours=_int_env("QINGLIAN_SESSION_MAX_HOURS", 12),
        lockout_attempts=_int_env("QINGLIAN_LOCKOUT_ATTEMPTS", 5),
        lockout_ip_attempts=_int_env("QINGLIAN_LOCKOUT_IP_ATTEMPTS", 20),
        lockout_seconds=_int_env("QINGLIAN_LOCKOUT_SECONDS", 60),
        lockout_max_seconds=_int_env("QINGLIAN_LOCKOUT_MAX_SECONDS", 3600),
        failure_window_minutes=_int_env("QINGLIAN_LOCKOUT_WINDOW_MINUTES", 15),
        bind_address=_bool_env("QINGLIAN_SESSION_BIND_ADDRESS", True),
    )


def _bool_env(name: str, default: bool) -> bool:
    raw = _env(name).lower()
    if not raw:
        return default
    if raw in ("1", "on", "true", "yes", "是"):
        return True
    if raw in ("0", "off", "false", "no", "否"):
        return False
    raise SecurityConfigError(f"{name} 只能是 on 或 off，收到 '{_env(name)}'")


def require_ok() -> str:
    """Check everything a start needs; return the mode line, or raise SecurityConfigError (Chinese)."""
    line = mode_reason()
    if auth_disabled() and not is_demo():
        raise SecurityConfigError("正式模式下不允许 QINGLIAN_AUTH=off（关闭登录）。请删除该环境变量后重新启动。")
    ensure_state()
    secret()
    settings()
    return line
