"""Security units: the audit log is append-only and tamper-evident, sessions cannot be forged, lockout
grows and releases, accounts follow the policy and the warehouse, every export path is watermarked
and audited, and a production start without a secret refuses. (Browser proofs: test_security_browser.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qinglian.security import accounts, audit, config, lockout, sessions  # noqa: E402
from qinglian.security.scope import Scope  # noqa: E402

LEADER = Scope("leader", "市清廉办领导", "leadership")
COUNTY = Scope("yangxian", "洋县纪委监委", "county", "610723000000", "county", "洋县")
SECRET = "s" * 20 + "-test-secret-0123456789"


@pytest.fixture(scope="module")
def serving(small_served: Path) -> Path:
    """The session's published serving copy of the small warehouse (tests/fixtures/small_built.py)."""
    return small_served


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh state directory in production mode with a configured secret."""
    monkeypatch.setenv("QINGLIAN_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("QINGLIAN_ENV", "production")
    monkeypatch.setenv("QINGLIAN_SECRET", SECRET)
    for name in ("QINGLIAN_SECRET_FILE", "QINGLIAN_AUTH", "QINGLIAN_LOCKOUT_ATTEMPTS", "QINGLIAN_LOCKOUT_SECONDS",
                 "QINGLIAN_LOCKOUT_IP_ATTEMPTS", "QINGLIAN_SESSION_IDLE_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "state"


# --- audit log ------------------------------------------------------------------------------------


def test_audit_log_is_append_only_from_the_apps_side(state: Path) -> None:
    log = audit.log()
    first = audit.record("login_success", LEADER, client="10.0.0.5")
    second = audit.record("export", COUNTY, client="10.0.0.6", target="逾期未整改问题", rows=7, format="xlsx")
    assert (first, second) == (1, 2)
    # The API offers append, read and verify — nothing that changes or removes an entry.
    public = {n for n in dir(audit.AuditLog) if not n.startswith("_")}
    assert public == {"append", "read", "verify"}
    # The app's own connection is denied every statement that changes or removes entries or the guards.
    for statement in ("UPDATE audit_log SET username = 'x'", "DELETE FROM audit_log", "DROP TRIGGER audit_log_no_update",
                      "DROP TABLE audit_log", "ALTER TABLE audit_log ADD COLUMN x", "PRAGMA writable_schema = 1"):
        with pytest.raises(sqlite3.DatabaseError), log._connect() as con:
            con.execute(statement)
    # Any other client hits the triggers.
    raw = sqlite3.connect(log.path)
    for statement in ("UPDATE audit_log SET rows = 0", "DELETE FROM audit_log WHERE seq = 1"):
        with pytest.raises(sqlite3.DatabaseError, match="只能追加"):
            raw.execute(statement)
    raw.close()
    entries = log.read()
    assert [(e.seq, e.event, e.username, e.role, e.scope, e.client, e.rows) for e in entries] == [
        (2, "export", "yangxian", "county", "洋县及所辖乡镇、村", "10.0.0.6", 7),
        (1, "login_success", "leader", "leadership", "全部", "10.0.0.5", None)]
    assert entries[0].detail == {"format": "xlsx"} and entries[0].target == "逾期未整改问题"
    assert log.verify().ok and log.verify().checked == 2


def _tampered(path: Path, *statements: str) -> None:
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER audit_log_no_update")
    raw.execute("DROP TRIGGER audit_log_no_delete")
    for statement in statements:
        raw.execute(statement)
    raw.commit()
    raw.close()


@pytest.mark.parametrize("statements, bad", [
    (["UPDATE audit_log SET username = 'nobody' WHERE seq = 2"], 2),          # an entry edited
    (["DELETE FROM audit_log WHERE seq = 2"], 3),                              # one removed from the middle
    (["UPDATE audit_log SET seq = seq + 10 WHERE seq >= 2",                    # one slipped in
      "INSERT INTO audit_log SELECT 2, ts, 'logout', username, role, scope, unit_code, client, target, rows, "
      "detail, key_id, prev_hash, hash FROM audit_log WHERE seq = 1"], 2),
])
def test_tampering_outside_the_app_is_detected(state: Path, statements: list[str], bad: int) -> None:
    for i in range(4):
        audit.record("page_view", LEADER, target=f"页面{i}")
    log = audit.log()
    assert log.verify().ok
    _tampered(log.path, *statements)
    result = log.verify()
    assert not result.ok and result.first_bad == bad, result


def test_a_lost_tail_or_a_replaced_file_is_detected(state: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The newest entries deleted, the file swapped for an empty one, the head record removed, edited or
    rolled back: the head beside the log, or the head lines in the application log, give it away."""
    import logging

    from qinglian.cli import app

    app_log = tmp_path / "logs" / "dashboard.log"
    app_log.parent.mkdir()
    handler = logging.FileHandler(app_log, encoding="utf-8")
    logger = logging.getLogger("qinglian.audit")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    monkeypatch.setenv("QINGLIAN_LOG_DIR", str(app_log.parent))
    try:
        for i in range(6):
            audit.record("page_view", LEADER, target=f"页面{i}")
            if i == 3:
                head_at_4 = (state / "audit.head").read_text()
    finally:
        logger.removeHandler(handler)
        handler.close()
    log = audit.log()
    assert log.verify(audit.app_log_files()).ok
    assert [line.split("audit-head seq=")[1].split()[0] for line in app_log.read_text().splitlines()] == \
        ["1", "2", "3", "4", "5", "6"]
    intact = {name: (state / name).read_bytes() for name in ("audit.sqlite", "audit.head")}

    def restore() -> None:
        for name in ("audit.sqlite-wal", "audit.sqlite-shm"):
            (state / name).unlink(missing_ok=True)
        for name, blob in intact.items():
            (state / name).write_bytes(blob)

    def verdict(with_app_log: bool = True) -> str:
        result = log.verify(audit.app_log_files() if with_app_log else ())
        assert not result.ok, result.message
        return result.message

    # the reviewer's attack: drop the delete trigger, delete the newest entries (the app re-creates it)
    _tampered(log.path, "DELETE FROM audit_log WHERE seq > 4")
    assert "日志末尾缺少第 5–6 条（尾部校验记录显示共 6 条）" in verdict(with_app_log=False)
    r = CliRunner().invoke(app, ["audit", "--verify"])
    assert r.exit_code == 1 and "日志末尾缺少第 5–6 条" in r.output
    # ... and puts back the head file saved at entry 4: the application log still has entry 6's head
    (state / "audit.head").write_text(head_at_4)
    assert log.verify().ok  # the state directory alone can no longer tell
    assert "日志末尾缺少第 5–6 条（应用日志中的尾部记录显示共 6 条）" in verdict()
    restore()
    (state / "audit.sqlite").unlink()  # the whole file replaced by a new, empty one
    assert "日志末尾缺少第 1–6 条" in verdict()
    restore()
    (state / "audit.head").unlink()
    assert "缺失" in verdict()
    restore()
    (state / "audit.head").write_text(intact["audit.head"].decode().replace("seq=6", "seq=4"))
    assert "无效" in verdict()
    restore()
    assert log.verify(audit.app_log_files()).ok


def test_audit_survives_restarts_and_a_rotated_secret(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    audit.record("login_success", LEADER)
    monkeypatch.setenv("QINGLIAN_SECRET", "r" * 40)  # the office rotates the secret
    audit.record("logout", LEADER)
    # a new process reads the same file
    out = subprocess.run([sys.executable, "-c", "from qinglian.security import audit; r = audit.log().verify(); "
                          "print(r.ok, r.checked, r.other_key); print(len(audit.log().read()))"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    assert out == ["True", "2", "1", "2"]


# --- sessions and cookies -------------------------------------------------------------------------


def _jwt(payload: dict, key: bytes | None, alg: str = "HS256") -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + b64(json.dumps(payload).encode())
    sig = b64(hmac.new(key, head.encode(), hashlib.sha256).digest()) if key else ""
    return f"{head}.{sig}"


def test_only_cookies_the_app_issued_name_a_session(state: Path) -> None:
    store = sessions.SessionStore()
    sid = store.create("leader", "10.0.0.5")
    good = sessions.cookie_value(sid)
    assert sessions.sid_from_cookie(good) == sid
    assert store.validate(sid)[1] == "ok"
    old_key = b"qinglian-demo-cookie-key-change-me"
    forged = [
        _jwt({"username": "leader", "exp_date": time.time() + 3600}, old_key),
        _jwt({"username": "leader"}, None, alg="none"),
        f"v1.{sid}.{base64.urlsafe_b64encode(hmac.new(old_key, f'v1.{sid}'.encode(), hashlib.sha256).digest()).rstrip(b'=').decode()}",
        f"v1.{sid}.", f"v1.{sid}", "v2." + good[3:], good[:-2] + ("A" if good[-2] != "A" else "B") + good[-1],
        "", "x" * 500,
    ]
    assert [sessions.sid_from_cookie(c) for c in forged] == [None] * len(forged)
    # a well-signed cookie for a session the store does not hold is no login either
    assert store.validate(sessions.sid_from_cookie(sessions.cookie_value("not-a-session")))[1] == "unknown"
    # nothing in the state directory can be replayed as a cookie: the store keeps only a hash of the id
    assert sid.encode() not in (state / "security.sqlite").read_bytes()


def test_sessions_end_on_inactivity_logout_and_account_changes(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = sessions.SessionStore()
    idle = store.create("leader")
    with sqlite3.connect(store.path) as raw:  # 31 minutes without activity
        raw.execute("UPDATE sessions SET last_seen = last_seen - 31 * 60")
    assert store.validate(idle) == (None, "idle")
    assert store.validate(idle) == (None, "idle")  # and it stays ended, for that reason (another tab)
    monkeypatch.setenv("QINGLIAN_SESSION_IDLE_MINUTES", "60")
    live = store.create("leader")
    with sqlite3.connect(store.path) as raw:
        raw.execute("UPDATE sessions SET last_seen = last_seen - 31 * 60")
    assert store.validate(live)[1] == "ok"  # configurable
    store.revoke(live)
    assert store.validate(live) == (None, "ended")
    a, b = store.create("leader"), store.create("leader")
    assert store.revoke_user("leader") == 2
    assert {store.validate(a)[1], store.validate(b)[1]} == {"ended"}
    # a session works only from the address it was issued to; a copied cookie used elsewhere ends it
    bound = store.create("leader", "10.0.0.5")
    assert store.validate(bound, "10.0.0.5")[1] == "ok"
    assert store.validate(bound, "192.0.2.2") == (None, "address")
    assert store.validate(bound, "10.0.0.5") == (None, "address")  # the owner's next click: ended, and why
    monkeypatch.setenv("QINGLIAN_SESSION_BIND_ADDRESS", "off")  # e.g. clients behind changing mobile addresses
    roaming = store.create("leader", "10.0.0.5")
    assert store.validate(roaming, "192.0.2.2")[1] == "ok"
    # the page's quiet check neither extends an idle session nor ends it
    with sqlite3.connect(store.path) as raw:
        raw.execute("UPDATE sessions SET last_seen = last_seen - 31 * 60")
    monkeypatch.delenv("QINGLIAN_SESSION_IDLE_MINUTES")
    assert store.validate(roaming, touch=False) == (None, "idle")
    assert store.validate(roaming) == (None, "idle")  # the real use then ends it, and says why
    ticket = sessions.issue_ticket(a, "10.0.0.5")
    assert sessions.redeem_ticket(ticket, "10.0.0.9") is None  # another address cannot use it
    ticket = sessions.issue_ticket(a, "10.0.0.5")
    assert sessions.redeem_ticket(ticket, "10.0.0.5") == a and sessions.redeem_ticket(ticket, "10.0.0.5") is None


# --- lockout --------------------------------------------------------------------------------------


def test_lockout_engages_grows_and_releases(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qinglian.security.login import attempt

    monkeypatch.setenv("QINGLIAN_LOCKOUT_ATTEMPTS", "3")
    monkeypatch.setenv("QINGLIAN_LOCKOUT_SECONDS", "60")
    store = accounts.AccountStore()
    store.add("zhangsan", "张三", "leadership", "Qinghe#2025xy", actor=LEADER)
    for _ in range(2):
        assert attempt("zhangsan", "wrong", "10.0.0.5").message == "用户名或密码错误。"
    before = time.time()
    third = attempt("zhangsan", "wrong", "10.0.0.5")
    after = time.time()
    # the lock starts within this attempt; on a loaded machine (bcrypt is slow) its message may count seconds
    assert re.search(r"该账号因多次登录失败已被锁定，请在(1分钟|[1-5]?\d秒)后重试", third.message), third.message
    # the right password does not help while locked, and is not even checked
    refused = attempt("zhangsan", "Qinghe#2025xy", "10.0.0.7")
    assert refused.account is None and "已被锁定" in refused.message
    locks = lockout.Lockout()
    lock = locks.locked(lockout.account_key("zhangsan"))
    assert lock is not None and before + 60 - 1 <= lock.until <= after + 60 + 1 and lock.locks == 1
    # after the wait: three more failures lock for twice as long
    with sqlite3.connect(locks.path) as raw:
        raw.execute("UPDATE lockouts SET locked_until = 0 WHERE key = 'account:zhangsan'")
    for i in range(3):
        if i == 2:
            before = time.time()
        attempt("zhangsan", "wrong", "10.0.0.5")
    after = time.time()
    lock = locks.locked(lockout.account_key("zhangsan"))
    assert lock is not None and before + 120 - 1 <= lock.until <= after + 120 + 1 and lock.locks == 2
    with sqlite3.connect(locks.path) as raw:
        raw.execute("UPDATE lockouts SET locked_until = 0 WHERE key = 'account:zhangsan'")
    ok = attempt("zhangsan", "Qinghe#2025xy", "10.0.0.5")
    assert ok.account is not None and ok.sid
    assert "6 次密码错误的登录尝试、2 次被锁定" in ok.notice  # what the owner is told after logging in
    # the owner's (and the admin's) view of it in the audit log
    events = [e.event for e in reversed(audit.log().read(username="zhangsan"))]
    assert events.count("login_failed") == 6 and events.count("lockout") == 2
    assert events.count("login_blocked") == 1 and events[-1] == "login_success"
    failed = audit.log().read(username="zhangsan", events=("login_failed",), limit=1)[0]
    assert failed.detail == {"reason": "密码错误"} and failed.client == "10.0.0.5"


def test_lockout_per_client_address_and_for_unknown_names(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qinglian.security.login import attempt

    monkeypatch.setenv("QINGLIAN_LOCKOUT_ATTEMPTS", "50")
    monkeypatch.setenv("QINGLIAN_LOCKOUT_IP_ATTEMPTS", "4")
    accounts.AccountStore().add("lisi", "李四", "analyst", "Hanjiang#2025", actor=LEADER)
    for name in ("a1", "a2", "a3", "a4"):  # names that do not exist are counted like real ones
        attempt(name, "guess", "10.9.9.9")
    blocked = attempt("lisi", "Hanjiang#2025", "10.9.9.9")
    assert blocked.account is None and "本机地址因多次登录失败已被锁定" in blocked.message
    assert attempt("lisi", "Hanjiang#2025", "10.0.0.1").account is not None  # another address is not affected
    reasons = {e.username: e.detail.get("reason") for e in audit.log().read(events=("login_failed",))}
    assert reasons["a1"] == "账号不存在"


def test_parallel_attempts_cannot_beat_the_lockout(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """30 logins at once from one address (the reviewer's race): no more passwords are checked than the
    limit allows, the lock engages once, and the rest are refused without a password check."""
    from concurrent.futures import ThreadPoolExecutor

    from qinglian.security.login import attempt

    monkeypatch.setenv("QINGLIAN_LOCKOUT_ATTEMPTS", "5")
    accounts.AccountStore().add("zhaoliu", "赵六", "analyst", "Hanzhong#2025x", actor=LEADER)
    checked: list[bytes] = []
    real = accounts.bcrypt.checkpw
    monkeypatch.setattr(accounts.bcrypt, "checkpw", lambda pw, h: checked.append(pw) or real(pw, h))
    guesses = [f"Guess#{i:04d}abc" for i in range(29)] + ["Hanzhong#2025x"]
    with ThreadPoolExecutor(max_workers=30) as pool:
        results = list(pool.map(lambda pw: attempt("zhaoliu", pw, "10.3.3.3"), guesses))
    assert len(checked) == 5  # exactly the limit, although all 30 arrived together
    refused = [r for r in results if "已被锁定" in r.message]
    logged_in = [r for r in results if r.account is not None]
    assert len(refused) + len(logged_in) + sum(r.message == "用户名或密码错误。" for r in results) == 30
    assert len(refused) >= 25 - len(logged_in)
    entries = audit.log().read(username="zhaoliu")
    assert sum(e.event == "lockout" for e in entries) == (0 if logged_in else 1)
    assert sum(e.event == "login_failed" for e in entries) == 5 - len(logged_in)
    assert sum(e.event == "login_blocked" for e in entries) == 25
    lock = lockout.Lockout().locked(lockout.account_key("zhaoliu"))
    assert (lock is None) if logged_in else (lock.locks == 1 and 0 < lock.until - time.time() <= 60)  # not escalated


def test_the_password_change_form_shares_the_lockout(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong current passwords on 修改密码 count like failed logins, the lock they set off is audited and
    holds for both doors, and while it holds the right current password changes nothing."""
    from qinglian.security.login import attempt, check

    monkeypatch.setenv("QINGLIAN_LOCKOUT_ATTEMPTS", "3")
    store = accounts.AccountStore()
    victim = store.add("qianqi", "钱七", "analyst", "Qinling#2025ab", actor=LEADER).scope()
    for _ in range(2):
        r = check("qianqi", "Wrong#2025abc", "10.4.4.4", viewer=victim, purpose="password_change")
        assert r.account is None and r.message == "当前密码不正确。"
    third = check("qianqi", "Wrong#2025abc", "10.4.4.4", viewer=victim, purpose="password_change")
    assert "该账号因多次登录失败已被锁定" in third.message
    assert "已被锁定" in check("qianqi", "Qinling#2025ab", "10.4.4.4", viewer=victim,
                                purpose="password_change").message  # the right password, during the lock
    assert "已被锁定" in attempt("qianqi", "Qinling#2025ab", "10.5.5.5").message  # and the login form
    entries = {e.event: e for e in audit.log().read(username="qianqi")}
    assert entries["lockout"].detail == {"seconds": 60, "locks": 1, "via": "修改密码"}
    assert entries["login_failed"].detail == {"reason": "修改密码时当前密码错误"}
    assert entries["login_blocked"].username == "qianqi"


# --- accounts ------------------------------------------------------------------------------------


def test_password_policy_and_bcrypt(state: Path) -> None:
    for bad, why in [("Short#1", "至少 10"), ("alllowercase1", "至少三类"), ("Wangwu#2025ab", "用户名"),
                     ("P@ssw0rd", "至少 10"), ("Leader@2025", "常见")]:
        with pytest.raises(accounts.AccountError, match=why):
            accounts.check_password(bad, "wangwu")
    store = accounts.AccountStore()
    store.add("wangwu", "王五", "analyst", "Qingfeng#2025", actor=LEADER)
    row = sqlite3.connect(store.path).execute("SELECT password_hash FROM accounts WHERE username='wangwu'").fetchone()
    assert row[0].startswith("$2b$12$") and "Qingfeng" not in row[0]
    assert store.authenticate("WangWu", "Qingfeng#2025").username == "wangwu"
    assert store.authenticate("wangwu", "qingfeng#2025") is None
    store.set_active("wangwu", False, actor=LEADER)
    assert store.authenticate("wangwu", "Qingfeng#2025") is None
    # bcrypt reads 72 bytes at most (bcrypt 5 raises beyond): refused by the policy, a plain failure at login
    long = "清廉" * 13 + "Aa1!"  # 82 bytes
    with pytest.raises(accounts.AccountError, match="密码太长：最多 72 个字节.*当前 82 个"):
        accounts.check_password(long, "wangwu")
    accounts.check_password("清廉" * 11 + "Aa1!xx", "wangwu")  # 72 bytes exactly is fine
    from qinglian.security.login import attempt

    r = attempt("wangwu", long, "10.0.0.8")
    assert r.account is None and r.message == "用户名或密码错误。"
    assert audit.log().read(username="wangwu", events=("login_failed",), limit=1)[0].client == "10.0.0.8"


def test_roles_and_units_are_checked_against_the_warehouse(serving: Path) -> None:
    units = accounts.warehouse_units(serving)
    assert units["610723000000"] == accounts.Unit("610723000000", "county", "洋县")
    assert units["D03"] == accounts.Unit("D03", "department", "市教育局")
    assert "610723100000" not in units  # a town (谢村镇) is not a county-level unit
    assert accounts.resolve_unit("county", "610723000000", units).name == "洋县"
    assert accounts.resolve_unit("submitter", "D03", units).kind == "department"
    assert accounts.resolve_unit("leadership", None, units) is None
    for role, code, why in [("county", "D03", "只能绑定县级区划"), ("county", "610723100000", "没有代码"),
                            ("county", None, "必须绑定单位"), ("submitter", "D99", "没有代码"),
                            ("analyst", "610723000000", "不绑定单位"), ("boss", None, "未知角色")]:
        with pytest.raises(accounts.AccountError, match=why):
            accounts.resolve_unit(role, code, units)


def test_user_and_audit_commands(state: Path, serving: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qinglian.cli import app

    monkeypatch.setenv("QINGLIAN_SERVING", str(serving))
    run = CliRunner().invoke
    r = run(app, ["user", "add", "hanzhong_yx", "--name", "洋县纪委", "--role", "county", "--unit", "610723000000",
                  "--password-stdin"], input="Yangxian#2026a\n")
    assert r.exit_code == 0, r.output
    assert "已新增账号 hanzhong_yx：洋县纪委，县区用户，范围 洋县及所辖乡镇、村" in r.output
    r = run(app, ["user", "add", "bad", "--name", "x", "--role", "county", "--unit", "D02", "--password-stdin"],
            input="Yangxian#2026a\n")
    assert r.exit_code == 2 and "县区用户只能绑定县级区划" in r.output and "Traceback" not in r.output
    r = run(app, ["user", "add", "weak", "--name", "x", "--role", "analyst", "--password-stdin"], input="abc\n")
    assert r.exit_code == 2 and "密码至少 10 个字符" in r.output
    r = run(app, ["user", "add", "long", "--name", "x", "--role", "analyst", "--password-stdin"],
            input="清廉" * 13 + "Aa1!\n")
    assert r.exit_code == 2 and "密码太长" in r.output and not isinstance(r.exception, ValueError)
    assert run(app, ["user", "passwd", "hanzhong_yx", "--password-stdin"], input="Hanzhong#2027b\n").exit_code == 0
    assert accounts.AccountStore().authenticate("hanzhong_yx", "Hanzhong#2027b") is not None
    assert run(app, ["user", "disable", "hanzhong_yx"]).exit_code == 0
    listed = run(app, ["user", "list"]).output
    assert "hanzhong_yx\t洋县纪委\t县区用户\t洋县及所辖乡镇、村\t已停用" in listed
    assert run(app, ["user", "passwd", "nobody", "--password-stdin"], input="Hanzhong#2027b\n").exit_code == 2
    r = run(app, ["audit", "--since", "2020-01-01", "--user", "hanzhong_yx"])
    assert r.exit_code == 0, r.output
    lines = [line.split("\t") for line in r.stdout.splitlines() if line.strip()]
    assert [p[2] for p in lines] == ["新增账号", "修改密码", "停用账号"]
    assert all(p[3].endswith("@命令行") and p[7] == "hanzhong_yx" for p in lines)  # actor: the OS account
    assert run(app, ["audit", "--since", "2020-13-01"]).exit_code == 2
    assert run(app, ["audit", "--verify"]).output.startswith("审计日志完整：共 3 条")


def test_production_without_a_secret_refuses_and_the_demo_makes_its_own(state: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboards import serve

    monkeypatch.delenv("QINGLIAN_SECRET")
    with pytest.raises(config.SecurityConfigError, match="QINGLIAN_SECRET"):
        config.require_ok()
    out = subprocess.run([sys.executable, "-m", "qinglian", "dashboard", "--port", "1"], capture_output=True,
                         text=True, cwd=ROOT, env={**_env(), "QINGLIAN_STATE": str(state)}, timeout=120)
    assert out.returncode == 2 and "正式模式下未配置签名密钥，拒绝运行。请设置环境变量 QINGLIAN_SECRET" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert not state.exists()  # a refused production start touches nothing
    monkeypatch.setenv("QINGLIAN_SECRET", "too-short")
    with pytest.raises(config.SecurityConfigError, match="太短"):
        config.secret()
    monkeypatch.delenv("QINGLIAN_SECRET")
    monkeypatch.setenv("QINGLIAN_SECRET_FILE", str(state.parent / "no-such-secret"))
    with pytest.raises(config.SecurityConfigError, match="路径不存在") as missing:
        config.secret()
    assert "No such file" not in str(missing.value)
    monkeypatch.setenv("QINGLIAN_AUTH", "off")
    with pytest.raises(config.SecurityConfigError, match="不允许 QINGLIAN_AUTH=off"):
        config.require_ok()
    monkeypatch.delenv("QINGLIAN_AUTH")
    secret_file = state.parent / "secret"
    secret_file.write_text("f" * 40 + "\n")
    monkeypatch.setenv("QINGLIAN_SECRET_FILE", str(secret_file))
    assert config.secret() == "f" * 40
    assert serve.preflight() == 0 and accounts.AccountStore().list() == []  # production: no demo accounts
    # the state directory is private and remembers it is production's
    assert state.stat().st_mode & 0o777 == 0o700
    assert (state / "mode").read_text().strip() == "production"
    assert {f.name: f.stat().st_mode & 0o777 for f in state.iterdir() if f.suffix == ".sqlite"} == {
        "security.sqlite": 0o600}
    # ... and never becomes a demo: no demo account is created in it, whatever the environment says
    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    assert serve.preflight() == 2
    with pytest.raises(config.SecurityConfigError, match="是正式环境的"):
        accounts.AccountStore().ensure_demo_accounts()
    assert not any(a.demo for a in _raw_accounts(state))

    demo = state.parent / "demo_state"  # a demo installation: its own secret and accounts
    monkeypatch.setenv("QINGLIAN_STATE", str(demo))
    monkeypatch.delenv("QINGLIAN_SECRET_FILE")
    first = config.secret()
    assert len(first) >= 32 and config.secret() == first  # one per installation, kept
    assert (demo / config.DEMO_SECRET_FILE).stat().st_mode & 0o777 == 0o600
    assert first not in (ROOT / "README.md").read_text(encoding="utf-8")
    assert serve.preflight() == 0
    assert {a.username for a in accounts.AccountStore().list()} == {"leader", "analyst", "yangxian", "tianbao", "admin"}
    assert accounts.AccountStore().authenticate("leader", "Leader@2025") is not None
    assert all(f.stat().st_mode & 0o077 == 0 for f in demo.iterdir())
    # ... which production refuses to use
    monkeypatch.setenv("QINGLIAN_ENV", "production")
    monkeypatch.setenv("QINGLIAN_SECRET", SECRET)
    with pytest.raises(config.SecurityConfigError, match="由演示环境初始化"):
        accounts.AccountStore().authenticate("leader", "Leader@2025")


def _raw_accounts(state: Path) -> list[accounts.Account]:
    with sqlite3.connect(state / "security.sqlite") as raw:
        raw.row_factory = sqlite3.Row
        return [accounts._row(r) for r in raw.execute("SELECT * FROM accounts")]


def _env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("QINGLIAN_")}
    return {**env, "QINGLIAN_ENV": "production"}


def test_mode_comes_only_from_explicit_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing a landing-folder writer can create makes a demo: production unless QINGLIAN_ENV=demo, and
    `qinglian run` claims the demo only when it generates the demo landing itself where nothing says
    production."""
    from qinglian.cli import main
    from qinglian.demo.generate import MANIFEST

    landing = tmp_path / "landing"
    landing.mkdir()
    monkeypatch.delenv("QINGLIAN_ENV", raising=False)
    monkeypatch.setenv("QINGLIAN_LANDING", str(landing))
    monkeypatch.setenv("QINGLIAN_STATE", str(tmp_path / "state"))
    (landing / MANIFEST).write_text("{}")  # what the reviewer wrote into a production landing folder
    assert config.mode() == "production" and "正式" in config.mode_reason()
    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    assert config.mode() == "demo"
    monkeypatch.setenv("QINGLIAN_ENV", "staging")
    with pytest.raises(config.SecurityConfigError, match="只能是 production"):
        config.mode()
    # the dashboards' server pins its mode at start
    monkeypatch.setenv("QINGLIAN_ENV", "production")
    monkeypatch.setattr(config, "_FROZEN", None)
    assert config.freeze() == "production"
    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    assert config.mode() == "production"
    monkeypatch.setattr(config, "_FROZEN", None)

    # `qinglian run` without --landing on a missing default landing folder
    missing = tmp_path / "no-landing"
    monkeypatch.setenv("QINGLIAN_LANDING", str(missing))
    monkeypatch.setenv("QINGLIAN_ENV", "production")
    monkeypatch.setenv("QINGLIAN_LOG_DIR", str(tmp_path / "logs"))
    assert main(["run", "--no-dashboard"]) == 2 and not missing.exists()
    assert "正式模式下不会自动生成演示数据" in capsys.readouterr().err.replace("\n", "")
    monkeypatch.delenv("QINGLIAN_ENV")
    monkeypatch.setenv("QINGLIAN_SECRET", SECRET)
    accounts.AccountStore().list()  # an installation that has run in production (the default) once
    assert main(["run", "--no-dashboard"]) == 2 and not missing.exists()
    assert "是正式环境的" in capsys.readouterr().err.replace("\n", "")
    monkeypatch.setenv("QINGLIAN_STATE", str(tmp_path / "fresh"))  # a fresh checkout: this run is the demo
    assert "本次运行生成了演示数据" in config.claim_demo_landing(missing) and config.mode() == "demo"


# --- exports: every path watermarked and audited --------------------------------------------------


def _xlsx_watermark(data: bytes) -> dict[str, object]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        core = z.read("docProps/core.xml").decode()
        sheet1 = z.read("xl/worksheets/sheet1.xml").decode()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    note = {r[0].value: r[1].value for r in wb["导出说明"].iter_rows()}
    return {"images": [n for n in names if n.startswith("xl/media/")], "core": core, "header": sheet1, "note": note}


def _pdf_pages_text(data: bytes, tmp: Path) -> list[str]:
    pdf = tmp / "x.pdf"
    pdf.write_bytes(data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def test_every_export_kind_is_watermarked_and_audited(state: Path, serving: Path, tmp_path: Path) -> None:
    import docx

    from dashboards import bulletin, data, exports

    src = data.Source(serving, COUNTY.county_code, cached=False)
    b = bulletin.build_bulletin(src, "2025Q4")
    sheets = {"逾期未整改问题": pd.DataFrame({"问题描述": ["=SUM(A1)", "正常"], "逾期天数": [184, 3]})}
    xlsx = exports.export(lambda: exports.to_xlsx(sheets), kind="xlsx", what="逾期未整改问题", scope=COUNTY,
                          client="10.0.0.6", rows=2)
    pdf = exports.export(lambda: bulletin.render_pdf(b), kind="pdf", what="季度通报 2025Q4", scope=COUNTY,
                         client="10.0.0.6", rows=9, event="bulletin")
    bxlsx = exports.export(lambda: bulletin.render_xlsx(b), kind="xlsx", what="季度通报 2025Q4", scope=COUNTY,
                           rows=9, event="bulletin")
    doc = docx.Document()
    doc.add_paragraph("督办单")
    buf = io.BytesIO()
    doc.save(buf)
    word = exports.export(buf.getvalue, kind="docx", what="督办单", scope=COUNTY, rows=1)

    for workbook in (xlsx, bxlsx):
        mark = _xlsx_watermark(workbook)
        assert mark["images"], "background tile"
        assert "洋县纪委监委（yangxian）| 县区用户" in mark["header"] and "范围：洋县及所辖乡镇、村" in mark["header"]
        assert "qinglian-watermark;yangxian" in mark["core"]
        assert mark["note"]["导出人"] == "洋县纪委监委（yangxian）| 县区用户"
        assert mark["note"]["数据范围"] == "洋县及所辖乡镇、村"
    assert _xlsx_watermark(xlsx)["note"]["工作表「逾期未整改问题」"] == "2 行"
    pages = _pdf_pages_text(pdf, tmp_path)
    assert len(pages) >= 1 and all("洋县纪委监委（yangxian）| 县区用户" in p for p in pages)
    assert all("范围：洋县及所辖乡镇、村" in p for p in pages)
    assert "洋县清廉建设季度通报" in pages[0]  # the document itself is intact under the mark
    stamped = docx.Document(io.BytesIO(word))
    header = " ".join(p.text for p in stamped.sections[0].header.paragraphs)
    assert "洋县纪委监委（yangxian）| 县区用户" in header and "范围：洋县及所辖乡镇、村" in header
    assert b"QinglianWatermark" in zipfile.ZipFile(io.BytesIO(word)).read("word/header1.xml")

    entries = list(reversed(audit.log().read()))
    assert [(e.event, e.target, e.rows, e.detail["format"]) for e in entries] == [
        ("export", "逾期未整改问题", 2, "xlsx"), ("bulletin", "季度通报 2025Q4", 9, "pdf"),
        ("bulletin", "季度通报 2025Q4", 9, "xlsx"), ("export", "督办单", 1, "docx")]
    assert entries[0].detail["sha256"] == hashlib.sha256(xlsx).hexdigest()
    assert entries[1].detail["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert {(e.username, e.scope) for e in entries} == {("yangxian", "洋县及所辖乡镇、村")}
    # no audit entry, no file
    with pytest.raises(RuntimeError, match="no watermark"):
        exports.export(lambda: b"PK not ours", kind="xlsx", what="x", scope=COUNTY)


def test_every_download_button_on_every_page_is_audited(state: Path, serving: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Every download the pages offer — as a county user and as the leader — goes through ui.download_export:
    invoking the button's deferred data writes a watermarked file and an audit entry."""
    import streamlit
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("QINGLIAN_SERVING", str(serving))
    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    captured: list[tuple[str, object]] = []
    real = streamlit.download_button

    def spy(label: str, data: object, *args: object, **kwargs: object) -> object:
        captured.append((str(kwargs.get("file_name")), data))
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    pages = ["p1_overview", "p2_ranking", "p3_annual", "p4_tasks", "p5_units", "p6_rectification",
             "p7_satisfaction", "p8_cases", "p9_quality", "p10_bulletin"]
    for user, password in (("yangxian", "Yangxian@2025"), ("leader", "Leader@2025")):
        at = AppTest.from_file(str(ROOT / "dashboards" / "app.py"), default_timeout=60).run()
        by = {t.label: t for t in at.text_input}
        by["用户名"].input(user)
        by["密码"].input(password)
        next(b for b in at.button if b.label == "登录").click()
        at.run()
        for page in pages:
            at.switch_page(f"pages/{page}.py").run()
            assert not at.exception, [e.message for e in at.exception]
    assert len({name for name, _ in captured}) >= 20
    before = len(audit.log().read(events=("export", "bulletin"), limit=None))
    seen: set[str] = set()
    for name, data in captured:
        if name in seen:
            continue
        seen.add(name)
        assert callable(data), f"{name}: bytes handed out without the audited path"
        blob = data()
        if name.endswith(".xlsx"):
            assert b"qinglian-watermark" in zipfile.ZipFile(io.BytesIO(blob)).read("docProps/core.xml"), name
        elif name.endswith(".docx"):
            import docx

            document = docx.Document(io.BytesIO(blob))
            assert document.core_properties.keywords.startswith("qinglian-watermark;"), name
            assert all("查看/导出：" in "".join(p.text for p in s.header.paragraphs) for s in document.sections), name
        else:
            from pypdf import PdfReader

            assert name.endswith(".pdf"), name
            assert PdfReader(io.BytesIO(blob)).metadata["/Keywords"].startswith("qinglian-watermark;"), name
    after = audit.log().read(events=("export", "bulletin"), limit=None)
    assert len(after) - before == len(seen)
    county_files = {e.detail["file_name"] for e in after if e.username == "yangxian"}
    assert county_files and all(e.scope == "洋县及所辖乡镇、村" for e in after if e.username == "yangxian")
    # A page view records its filters — the quarter, the group, the body chosen — and nothing else.
    views = {e.target: e.detail["filters"] for e in audit.log().read(username="leader", events=("page_view",))}
    assert set(views["红旗/蜗牛榜"]) == {"rank_quarter", "rank_group", "rank_body"}
    assert views["红旗/蜗牛榜"]["rank_group"] == "county" and views["满意度"] == {"sat_wave": "2025"}

    # The file is built only while the session that rendered the button lives, and only for the browser
    # session the button belongs to (dashboards/asgi.py hands Streamlit's requester to auth).
    from dashboards import downloads

    county_dl = next(data for name, data in captured if name in county_files)
    token = downloads.DOWNLOAD_REQUEST.set(downloads.DownloadRequest("another-browser-session"))
    try:
        with pytest.raises(downloads.DownloadRefused, match="此下载按钮不属于当前页面"):
            county_dl()
    finally:
        downloads.DOWNLOAD_REQUEST.reset(token)
    sessions.SessionStore().revoke_user("yangxian", "logout")  # logged out in another tab
    with pytest.raises(downloads.DownloadRefused, match="登录已失效或已退出，未生成文件"):
        county_dl()
    refused = audit.log().read(username="yangxian", events=("export_refused",))
    assert [e.detail["reason"] for e in refused] == ["ended", "other_browser_session"]
    assert len(audit.log().read(events=("export", "bulletin"), limit=None)) == len(after)  # nothing handed out


def _app_login(user: str, password: str):  # noqa: ANN202
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboards" / "app.py"), default_timeout=60).run()
    by = {t.label: t for t in at.text_input}
    by["用户名"].input(user)
    by["密码"].input(password)
    next(b for b in at.button if b.label == "登录").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_admin_page_manages_accounts_and_owners_change_their_password(state: Path, serving: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLIAN_SERVING", str(serving))
    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    at = _app_login("admin", "Admin@2025")
    assert [t.value for t in at.title] == ["账号管理"]
    at.selectbox(key="acc_add_role").set_value("county").run()
    assert "洋县（610723000000，县区）" in at.selectbox(key="acc_add_unit").options
    assert not any("部门" in o for o in at.selectbox(key="acc_add_unit").options)  # a county account: counties only
    at.text_input(key="acc_add_user").input("xixiang")
    at.text_input(key="acc_add_name").input("西乡县纪委")
    at.selectbox(key="acc_add_unit").set_value("610724000000")
    at.text_input(key="acc_add_pw1").input("Hanshui#2026a")
    at.text_input(key="acc_add_pw2").input("Hanshui#2026a")
    next(b for b in at.button if b.label == "新增").click()
    at.run()
    assert any("已新增账号 xixiang" in s.value for s in at.success), [e.value for e in at.error]
    made = accounts.AccountStore().get("xixiang")
    assert (made.role, made.unit_code, made.unit_name) == ("county", "610724000000", "西乡县")
    at.selectbox(key="acc_state_user").set_value("xixiang")
    next(b for b in at.button if b.label == "停用").click()
    at.run()
    assert not accounts.AccountStore().get("xixiang").active
    added = audit.log().read(username="xixiang", events=("account_add", "account_disable"))
    assert [(e.event, e.username, e.client) for e in added] == [("account_disable", "admin", "127.0.0.1"),
                                                               ("account_add", "admin", "127.0.0.1")]
    # the owner changes their own password, is logged out, and logs in with the new one
    at = _app_login("analyst", "Analyst@2025")
    at.switch_page("pages/my_account.py").run()
    at.text_input(key="my_pw_old").input("Wrong#Guess2026")  # a wrong current password costs an attempt
    at.text_input(key="my_pw_new1").input("Fenxi#2026abc")
    at.text_input(key="my_pw_new2").input("Fenxi#2026abc")
    next(b for b in at.button if b.label == "修改密码").click()
    at.run()
    assert [e.value for e in at.error] == ["当前密码不正确。"]
    assert audit.log().read(username="analyst", events=("login_failed",))[0].detail == {"reason": "修改密码时当前密码错误"}
    at.text_input(key="my_pw_old").input("Analyst@2025")
    at.text_input(key="my_pw_new1").input("Fenxi#2026abc")
    at.text_input(key="my_pw_new2").input("Fenxi#2026abc")
    next(b for b in at.button if b.label == "修改密码").click()
    at.run()
    assert {t.label for t in at.text_input} == {"用户名", "密码"}
    assert any("密码已修改" in w.value for w in at.warning)
    assert accounts.AccountStore().authenticate("analyst", "Fenxi#2026abc") is not None
    at = _app_login("analyst", "Fenxi#2026abc")
    next(b for b in at.button if b.label == "退出登录").click()
    at.run()
    assert {t.label for t in at.text_input} == {"用户名", "密码"} and not at.metric
    last = audit.log().read(username="analyst", limit=1)[0]
    assert last.event == "logout"
    # No password typed into any form is in the audit log — not in an entry, not anywhere in its files.
    typed = ["Hanshui#2026a", "Analyst@2025", "Fenxi#2026abc", "Wrong#Guess2026", "Admin@2025"]
    raw = b"".join(f.read_bytes() for f in state.glob("audit.sqlite*"))
    assert [pw for pw in typed if pw.encode() in raw] == []
    assert all(not e.detail.get("filters") for e in audit.log().read(events=("page_view",))
               if e.target in ("账号管理", "我的账号"))
    # the page a view names is the one shown (the admin's first page is 账号管理, not the overview)
    first = audit.log().read(username="admin", events=("page_view",))[-1]
    assert (first.target, first.detail["page"]) == ("账号管理", "accounts")
    assert {f.name: f.stat().st_mode & 0o777 for f in state.glob("*.sqlite")} == {
        "audit.sqlite": 0o600, "security.sqlite": 0o600}


def test_charts_keep_names_as_text_in_category_orders_and_annotations() -> None:
    """A town named with a link (the reviewer's 三市镇…<a href>) stays text on the y axis, and its dot stays
    on its own row: the category order and the values are escaped alike."""
    import plotly.graph_objects as go

    from dashboards import ui

    evil = '三市镇<a href="http://evil.example">链</a>'
    names = ["城关镇", evil, "A&B街道"]
    fig = go.Figure(go.Scatter(x=[80.0, 85.0, 90.0], y=names, mode="markers"))
    fig.update_yaxes(categoryorder="array", categoryarray=names)
    fig.update_xaxes(tickmode="array", tickvals=[1], ticktext=[evil])
    fig.add_annotation(x=1, y=1, text=f"未汇总<br>{evil}")
    ui.safe_figure(fig)
    shown = ['城关镇', '三市镇&lt;a href="http://evil.example"&gt;链&lt;/a&gt;', "A&amp;B街道"]
    assert list(fig.data[0].y) == shown and list(fig.layout.yaxis.categoryarray) == shown
    assert list(fig.layout.xaxis.ticktext) == [shown[1]]
    assert fig.layout.annotations[0].text == f"未汇总<br>{shown[1]}"  # a line break is the one markup kept


def test_an_unwritable_audit_log_is_refused_in_chinese(state: Path, serving: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Refusing is right when nothing can be recorded; the refusal is Chinese, never Streamlit's English box."""
    monkeypatch.setenv("QINGLIAN_SERVING", str(serving))
    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboards" / "app.py"), default_timeout=60).run()
    (state / "audit.sqlite").unlink()
    (state / "audit.sqlite").mkdir()  # what any unreadable, unwritable log looks like to SQLite
    with pytest.raises(audit.AuditError, match="无法打开数据库文件") as refused:
        audit.record("login_success", LEADER)
    assert not any("a" <= ch.lower() <= "z" for ch in str(refused.value).split("：", 1)[1])
    by = {t.label: t for t in at.text_input}
    by["用户名"].input("leader")
    by["密码"].input("Leader@2025")
    next(b for b in at.button if b.label == "登录").click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["系统暂时无法使用：状态目录或审计日志不可读写。为保证留痕，本次操作未执行。"
                                           "请联系系统管理员（详情已写入服务器日志）。"]
    assert not at.metric  # and no data


def test_deferred_downloads_answer_only_their_browser_session_in_chinese(state: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Streamlit's own deferred-file handler, as the served app wraps it: the button's file is built for
    the browser session that rendered it while its login lives; anything else gets a Chinese refusal."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from streamlit.proto.BackMsg_pb2 import BackendOperationRequest
    from streamlit.runtime.backend_operation_handler import DeferredFileHandler
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    from dashboards import downloads

    monkeypatch.setattr(DeferredFileHandler, "handle", DeferredFileHandler.handle)  # restored afterwards
    downloads.guard_deferred_downloads()
    viewer = accounts.AccountStore().add("sunba", "孙八", "leadership", "Qinba#2025abc", actor=LEADER).scope()
    sid = sessions.SessionStore().create("sunba", "10.6.6.6")
    mgr = MediaFileManager(MemoryMediaFileStorage("/media"))
    handler = DeferredFileHandler(lambda: mgr)

    def deferred() -> bytes:  # what ui.download_export registers, rendered in browser session "tab-1"
        downloads.check_download(viewer, sid, "tab-1", "10.6.6.6", "红旗/蜗牛榜")
        return b"workbook"

    file_id = mgr.add_deferred(deferred, "application/octet-stream", "coords", "榜单.xlsx")

    def ask(browser_session: str):  # noqa: ANN202
        request = BackendOperationRequest(request_id="r")
        request.deferred_file.file_id = file_id
        # A loop of its own in a thread of its own: on a worker whose Playwright (sync API, session
        # fixture) keeps its event loop marked running in this thread, asyncio.run() here would refuse.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, handler.handle(request, browser_session)).result()

    assert ask("tab-1").deferred_file.url.startswith("/media/")
    assert ask("someone-elses-websocket").error_msg == "此下载按钮不属于当前页面，未生成文件。请刷新页面后重试。"
    sessions.SessionStore().revoke(sid)
    assert ask("tab-1").error_msg == "登录已失效或已退出，未生成文件。请刷新页面重新登录后再下载。"
    refused = audit.log().read(username="sunba", events=("export_refused",))
    assert [e.detail["reason"] for e in refused] == ["ended", "other_browser_session"]


def test_the_dashboard_command_takes_a_listening_address(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`qinglian dashboard --address 127.0.0.1` (behind a reverse proxy) reaches Streamlit's server.address."""
    from dashboards import serve
    from qinglian.cli import main

    started: list[list[str]] = []
    monkeypatch.setattr(serve, "main", lambda port, address: started.append(serve.command(port, address)) or 0)
    monkeypatch.setenv("QINGLIAN_LOG_DIR", str(tmp_path))
    assert main(["dashboard", "--port", "8642", "--address", "127.0.0.1"]) == 0
    assert "--server.address=127.0.0.1" in started[0] and "--server.port=8642" in started[0]
