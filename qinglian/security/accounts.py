"""Accounts: bcrypt hashes, a password policy, roles, and units checked against the warehouse.

The store (security.sqlite in the state directory) is changed only through this module — by the
`qinglian user` command and the admin page — and every change is audited with the actor. Demo
accounts (documented in README) are created only in demo mode and cannot log in in production.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import bcrypt

from qinglian.security import audit, config, store
from qinglian.security.scope import ROLES, UNIT_ROLES, Scope

BCRYPT_ROUNDS = 12
MIN_PASSWORD = 10
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further (bcrypt 5 refuses longer input outright)
USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
# The most common choices, and the demo's own passwords: never accepted for a real account.
COMMON = {"password", "12345678", "123456789", "1234567890", "qwertyuiop", "abc12345", "admin123",
          "p@ssw0rd", "passw0rd", "11111111", "88888888", "qinglian", "leader@2025", "analyst@2025",
          "yangxian@2025", "admin@2025", "tianbao@2025"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    username            TEXT PRIMARY KEY,
    display_name        TEXT NOT NULL,
    role                TEXT NOT NULL,
    unit_code           TEXT,
    unit_kind           TEXT,
    unit_name           TEXT,
    password_hash       TEXT NOT NULL,
    active              INTEGER NOT NULL DEFAULT 1,
    demo                INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);
"""

# The demo's accounts (README lists them). Units are the demo city's real codes.
DEMO_ACCOUNTS: tuple[dict[str, Any], ...] = (
    {"username": "leader", "password": "Leader@2025", "display_name": "市清廉办领导", "role": "leadership"},
    {"username": "analyst", "password": "Analyst@2025", "display_name": "数据分析员", "role": "analyst"},
    {"username": "yangxian", "password": "Yangxian@2025", "display_name": "洋县纪委监委", "role": "county",
     "unit_code": "610723000000", "unit_kind": "county", "unit_name": "洋县"},
    {"username": "tianbao", "password": "Tianbao@2025", "display_name": "洋县清廉办（填报）", "role": "submitter",
     "unit_code": "610723000000", "unit_kind": "county", "unit_name": "洋县"},
    {"username": "admin", "password": "Admin@2025", "display_name": "系统管理员", "role": "admin"},
)


class AccountError(ValueError):
    """A refused account operation; the message is Chinese and says what to do."""


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str
    unit_code: str | None
    unit_kind: str | None
    unit_name: str | None
    active: bool
    demo: bool
    created_at: str
    updated_at: str
    password_changed_at: str

    def scope(self) -> Scope:
        return Scope(self.username, self.display_name, self.role, self.unit_code, self.unit_kind, self.unit_name)

    @property
    def usable(self) -> bool:
        """Active, and not a demo account outside the demo."""
        return self.active and (not self.demo or config.is_demo())


def check_password(password: str, username: str = "") -> None:
    """The policy: 10+ characters and at most 72 bytes (UTF-8), three of upper/lower/digit/symbol, not the
    user name, not a common one."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise AccountError(f"密码太长：最多 {MAX_PASSWORD_BYTES} 个字节（英文字母、数字、符号各算 1 个，"
                           f"汉字各算 3 个），当前 {len(password.encode('utf-8'))} 个")
    classes = sum(bool(re.search(p, password)) for p in (r"[A-Z]", r"[a-z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if classes < 3:
        raise AccountError("密码须包含大写字母、小写字母、数字、符号中的至少三类")
    low = password.lower()
    if username and username.lower() in low:
        raise AccountError("密码不能包含用户名")
    if low in COMMON or len(set(password)) < 4:
        raise AccountError("密码过于常见或简单，请换一个")


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


@lru_cache(maxsize=1)
def _dummy_hash() -> bytes:
    # Checked against for an unknown user, so a wrong name takes as long as a wrong password.
    return bcrypt.hashpw(b"qinglian-no-such-user", bcrypt.gensalt(BCRYPT_ROUNDS))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def normalise_username(username: str) -> str:
    return unicodedata.normalize("NFKC", username or "").strip().lower()


# --- units from the warehouse -------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    code: str
    kind: str  # 'county' or 'department'
    name: str


def warehouse_file() -> Path:
    """The serving copy when published, else the warehouse itself."""
    from qinglian.settings import default_warehouse, serving_path

    serving = serving_path(default_warehouse())
    return serving if serving.exists() else default_warehouse()


def warehouse_units(path: Path | None = None) -> dict[str, Unit]:
    """County-level regions (marts.dim_regions, level 县) and departments (marts.dim_departments)."""
    import duckdb

    path = Path(path) if path else warehouse_file()
    if not path.exists():
        raise AccountError(f"找不到数据仓库或发布副本 {path}，无法核对区划和部门代码。请先运行 qinglian run。")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise AccountError(f"无法打开 {path} 核对区划和部门代码（可能正在运行季度任务）：{exc}") from exc
    try:
        tables = {r[0] for r in con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()}
        units: dict[str, Unit] = {}
        if "marts.dim_regions" in tables:
            for code, name in con.execute(
                    "SELECT region_code, region_name FROM marts.dim_regions WHERE region_level = '县'").fetchall():
                units[code] = Unit(code, "county", name)
        if "marts.dim_departments" in tables:
            sql = "SELECT dept_code, coalesce(display_name, dept_name) FROM marts.dim_departments"
        elif "marts.dim_bodies" in tables:
            sql = "SELECT body_code, body_name FROM marts.dim_bodies WHERE body_group = 'department'"
        else:
            sql = ""
        for code, name in con.execute(sql).fetchall() if sql else []:
            units.setdefault(code, Unit(code, "department", name))
    finally:
        con.close()
    if not units:
        raise AccountError(f"{path} 中没有区划和部门（marts.dim_regions / marts.dim_departments），请先完成一次季度任务。")
    return units


def resolve_unit(role: str, unit_code: str | None, units: dict[str, Unit] | None = None) -> Unit | None:
    """The unit an account of this role is bound to, checked against the warehouse; None if it needs none."""
    if role not in ROLES:
        raise AccountError(f"未知角色 '{role}'，可选：{'、'.join(f'{k}（{v}）' for k, v in ROLES.items())}")
    code = (unit_code or "").strip()
    if role not in UNIT_ROLES:
        if code:
            raise AccountError(f"角色 {ROLES[role]} 不绑定单位，请去掉 --unit")
        return None
    if not code:
        what = "县级区划代码（12位）" if role == "county" else "部门编码或县级区划代码"
        raise AccountError(f"角色 {ROLES[role]} 必须绑定单位：请用 --unit 指定{what}")
    units = units if units is not None else warehouse_units()
    unit = units.get(code)
    if unit is None:
        hint = "、".join(f"{u.code} {u.name}" for u in list(units.values())[:6])
        raise AccountError(f"数据仓库中没有代码为 '{code}' 的县区或部门（例如：{hint}……）")
    if role == "county" and unit.kind != "county":
        raise AccountError(f"县区用户只能绑定县级区划，'{code}' 是部门 {unit.name}")
    return unit


# --- the store ----------------------------------------------------------------------------------


def _row(r: Any) -> Account:
    return Account(username=r["username"], display_name=r["display_name"], role=r["role"], unit_code=r["unit_code"],
                   unit_kind=r["unit_kind"], unit_name=r["unit_name"], active=bool(r["active"]), demo=bool(r["demo"]),
                   created_at=r["created_at"], updated_at=r["updated_at"],
                   password_changed_at=r["password_changed_at"])


class AccountStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else store.path(store.SECURITY_DB)

    def _connect(self, immediate: bool = False):  # noqa: ANN202
        return store.connect(self.path, SCHEMA, immediate=immediate)

    def get(self, username: str) -> Account | None:
        with self._connect() as con:
            r = con.execute("SELECT * FROM accounts WHERE username = ?", (normalise_username(username),)).fetchone()
        return _row(r) if r else None

    def list(self) -> list[Account]:
        with self._connect() as con:
            return [_row(r) for r in con.execute("SELECT * FROM accounts ORDER BY role, username").fetchall()]

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account if the password is right and the account usable; None otherwise (same cost either way)."""
        with self._connect() as con:
            r = con.execute("SELECT * FROM accounts WHERE username = ?", (normalise_username(username),)).fetchone()
        hashed = r["password_hash"].encode("ascii") if r else _dummy_hash()
        raw = password.encode("utf-8")
        if len(raw) > MAX_PASSWORD_BYTES:
            # No account can have such a password (the policy refuses it); check against the dummy
            # so the answer takes as long as any other wrong password.
            bcrypt.checkpw(raw[:MAX_PASSWORD_BYTES], _dummy_hash())
            return None
        ok = bcrypt.checkpw(raw, hashed)
        account = _row(r) if r else None
        return account if ok and account is not None and account.usable else None

    def add(self, username: str, display_name: str, role: str, password: str, unit_code: str | None = None, *,
            actor: Scope, client: str | None = None, units: dict[str, Unit] | None = None,
            demo: bool = False) -> Account:
        name = normalise_username(username)
        if not USERNAME.match(name):
            raise AccountError("用户名须以小写字母开头，由 2-32 个小写字母、数字、_ . - 组成")
        display = (display_name or "").strip()
        if not display or len(display) > 40:
            raise AccountError("姓名/单位名称不能为空，且不超过 40 个字")
        unit = resolve_unit(role, unit_code, units)
        if not demo:
            check_password(password, name)
        now = _now()
        with self._connect(immediate=True) as con:
            if con.execute("SELECT 1 FROM accounts WHERE username = ?", (name,)).fetchone():
                raise AccountError(f"账号 {name} 已存在；修改密码请用 qinglian user passwd {name}")
            con.execute("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                        (name, display, role, unit.code if unit else None, unit.kind if unit else None,
                         unit.name if unit else None, _hash(password), int(demo), now, now, now))
        account = self.get(name)
        assert account is not None
        audit.record("account_add", actor, client=client, target=name, new_role=role,
                     new_scope=account.scope().scope_text, demo=demo)
        return account

    def set_password(self, username: str, password: str, *, actor: Scope, client: str | None = None) -> None:
        name = normalise_username(username)
        check_password(password, name)
        self._update(name, "password_hash = ?, password_changed_at = ?", (_hash(password), _now()))
        from qinglian.security import sessions

        sessions.SessionStore().revoke_user(name)  # a changed password ends every other login
        audit.record("password_change", actor, client=client, target=name)

    def set_active(self, username: str, active: bool, *, actor: Scope, client: str | None = None) -> None:
        name = normalise_username(username)
        self._update(name, "active = ?", (int(active),))
        if not active:
            from qinglian.security import sessions

            sessions.SessionStore().revoke_user(name)
        audit.record("account_enable" if active else "account_disable", actor, client=client, target=name)

    def change(self, username: str, *, actor: Scope, display_name: str | None = None, role: str | None = None,
               unit_code: str | None = None, client: str | None = None, units: dict[str, Unit] | None = None) -> Account:
        """New name, role or unit (the role and unit are validated together)."""
        name = normalise_username(username)
        current = self.get(name)
        if current is None:
            raise AccountError(f"没有账号 {name}")
        new_role = role or current.role
        new_code = unit_code if unit_code is not None else (current.unit_code if role is None else None)
        unit = resolve_unit(new_role, new_code, units)
        display = (display_name if display_name is not None else current.display_name).strip()
        if not display or len(display) > 40:
            raise AccountError("姓名/单位名称不能为空，且不超过 40 个字")
        self._update(name, "display_name = ?, role = ?, unit_code = ?, unit_kind = ?, unit_name = ?",
                     (display, new_role, unit.code if unit else None, unit.kind if unit else None,
                      unit.name if unit else None))
        from qinglian.security import sessions

        sessions.SessionStore().revoke_user(name)  # the next request must see the new scope
        account = self.get(name)
        assert account is not None
        audit.record("account_change", actor, client=client, target=name,
                     before=f"{current.role} {current.scope().scope_text} {current.display_name}",
                     after=f"{account.role} {account.scope().scope_text} {account.display_name}")
        return account

    def _update(self, name: str, assignments: str, params: tuple[Any, ...]) -> None:
        with self._connect(immediate=True) as con:
            cur = con.execute(f"UPDATE accounts SET {assignments}, updated_at = ? WHERE username = ?",
                              (*params, _now(), name))
            if cur.rowcount != 1:
                raise AccountError(f"没有账号 {name}（qinglian user list 列出全部账号）")

    def ensure_demo_accounts(self) -> list[str]:
        """Create the demo's accounts that are missing (demo mode only); returns the names created."""
        if not config.is_demo():
            return []
        system = Scope("system", "系统初始化", "admin")
        have = {a.username for a in self.list()}
        made = []
        for spec in DEMO_ACCOUNTS:
            if spec["username"] in have:
                continue
            unit = (Unit(spec["unit_code"], spec["unit_kind"], spec["unit_name"]) if spec.get("unit_code") else None)
            try:
                self.add(spec["username"], spec["display_name"], spec["role"], spec["password"],
                         spec.get("unit_code"), actor=system, demo=True,
                         units={unit.code: unit} if unit else {})
            except AccountError as exc:
                if "已存在" not in str(exc):  # another process made it a moment ago
                    raise
                continue
            made.append(spec["username"])
        return made


def cli_actor() -> Scope:
    """Who is acting from the command line: the operating-system account."""
    import getpass

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Scope(f"{who}@命令行", f"命令行操作员 {who}", "admin")
