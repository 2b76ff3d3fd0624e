"""`qinglian serve start|stop|status|logs|units`: the product as services on one server.

Three services, each a long-running process on the persistent orchestrator instance
(orchestration.instance, `$QINGLIAN_STATE/dagster`):

- daemon     — `dagster-daemon run`: the quarterly schedule, the landing sensor and the run queue;
- webserver  — `dagster-webserver`: the orchestrator's UI (runs, assets, ticks); it has no login, so it
               listens on 127.0.0.1 unless told otherwise (reach it through an SSH tunnel);
- dashboards — the Streamlit dashboards and upload portal (dashboards.serve), on the serving copy.

Two ways to run them, one command line each (`service_command`): `qinglian serve start` starts a
supervisor in its own session and process group, which starts the services as its children,
restarts one that exits (with a growing pause; after repeated quick failures it gives up and
`status` says so), and on `qinglian serve stop` ends the whole process group — the daemon's code
server, its run workers and their dbt included. Or systemd runs each service (`qinglian serve units`
writes the unit files from deploy/systemd/, `ExecStart=… qinglian serve run <service>`), and systemd's
control group does the same.

The binaries come from this interpreter's own bin folder (`.venv/bin`), never from PATH: cron and
systemd start `.venv/bin/qinglian` without the venv on PATH. pid files, the supervisor's state and the
services' logs live in the state and log folders, never beside the read-only serving copy.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qinglian.dbt_child import (
    die_with_parent,  # imported here: nothing may be imported between fork and exec
)
from qinglian.errors import UserError, os_reason
from qinglian.office_time import OFFICE_TZ
from qinglian.settings import PROJECT_ROOT, default_landing, default_warehouse, log_dir, serving_path

log = logging.getLogger("qinglian.serve")

SERVICES = ("daemon", "webserver", "dashboards")
LABELS = {"daemon": "调度守护进程", "webserver": "编排界面", "dashboards": "驾驶舱与上传门户", "supervisor": "监管进程"}
DEFAULT_PORTS = {"webserver": 3000, "dashboards": 8501}
PORT_ENV = {"webserver": "QINGLIAN_DAGSTER_PORT", "dashboards": "QINGLIAN_DASHBOARD_PORT"}
ADDRESS_ENV = {"webserver": "QINGLIAN_DAGSTER_ADDRESS", "dashboards": "QINGLIAN_DASHBOARD_ADDRESS"}
DEFAULT_ADDRESS = {"webserver": "127.0.0.1", "dashboards": None}  # None: every address (Streamlit's default)
CODE_LOCATION = "orchestration.definitions"

# A service that exits sooner than this after its start counts as a quick failure; after this many in a
# row the supervisor stops restarting it (a configuration error does not heal by retrying every second).
HEALTHY_AFTER_SECONDS = 60.0
MAX_QUICK_FAILURES = 5
MAX_BACKOFF_SECONDS = 60.0
STOP_GRACE_SECONDS = 20.0


# --- where things are -------------------------------------------------------------------------------

def bin_dir() -> Path:
    """The folder of this interpreter's scripts (.venv/bin): not resolved, a venv's python is a link."""
    return Path(sys.executable).parent


def executable(name: str) -> Path:
    path = bin_dir() / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise UserError(f"找不到 {path}：请在项目目录运行 make setup（uv sync --frozen）安装依赖")
    return path


def serve_dir() -> Path:
    """pid files and the supervisor's state: serve/ in the state directory."""
    from qinglian.security.config import state_dir

    return state_dir() / "serve"


def service_log_dir() -> Path:
    return log_dir() / "serve"


def log_file(name: str) -> Path:
    return service_log_dir() / f"{name}.log"


def pid_file(name: str) -> Path:
    return serve_dir() / f"{name}.pid"


def state_file() -> Path:
    return serve_dir() / "state.json"


def port_of(name: str, override: int | None = None) -> int | None:
    if name not in DEFAULT_PORTS:
        return None
    if override:
        return override
    raw = os.environ.get(PORT_ENV[name], "").strip()
    if not raw:
        return DEFAULT_PORTS[name]
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise UserError(f"环境变量 {PORT_ENV[name]}='{raw}' 应为 1 到 65535 之间的端口号")
    return int(raw)


def address_of(name: str, override: str | None = None) -> str | None:
    if name not in ADDRESS_ENV:
        return None
    return override or os.environ.get(ADDRESS_ENV[name], "").strip() or DEFAULT_ADDRESS[name]


@dataclass(frozen=True)
class Service:
    name: str
    port: int | None = None
    address: str | None = None

    @property
    def url(self) -> str | None:
        if self.port is None:
            return None
        host = self.address if self.address and self.address not in ("0.0.0.0", "::") else "localhost"
        return f"http://{host}:{self.port}"


def service_command(service: Service) -> list[str]:
    """The one command line of each service (the supervisor's children and the systemd units run it)."""
    root = str(PROJECT_ROOT)
    if service.name == "daemon":
        return [str(executable("dagster-daemon")), "run", "-m", CODE_LOCATION, "-d", root]
    if service.name == "webserver":
        return [str(executable("dagster-webserver")), "-m", CODE_LOCATION, "-d", root,
                "-h", service.address or "127.0.0.1", "-p", str(service.port)]
    if service.name == "dashboards":
        from dashboards.serve import command

        return command(service.port or DEFAULT_PORTS["dashboards"], service.address)
    raise UserError(f"没有服务 {service.name}；可选：{'、'.join(SERVICES)}")


def service_environment() -> dict[str, str]:
    """Every service's environment: the places pinned as absolute paths (a service started from another
    folder, or by systemd, finds the same warehouse and instance), the venv's bin first on PATH (Dagster's
    run workers and dbt find the project's own), the mode pinned."""
    from dashboards.serve import environment
    from orchestration.instance import ensure_instance

    ensure_instance()  # DAGSTER_HOME and its dagster.yaml (run queue of one)
    env = environment()  # QINGLIAN_ENV, QINGLIAN_SERVING, PYTHONPATH
    env.update(pinned_places())
    env.update({
        "PATH": os.pathsep.join([str(bin_dir()), env.get("PATH", "/usr/bin:/bin")]),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def services_from(names: list[str] | None, ports: dict[str, int | None] | None = None,
                  addresses: dict[str, str | None] | None = None) -> list[Service]:
    chosen = names or list(SERVICES)
    unknown = [n for n in chosen if n not in SERVICES]
    if unknown:
        raise UserError(f"没有服务 {'、'.join(unknown)}；可选：{'、'.join(SERVICES)}")
    ports, addresses = ports or {}, addresses or {}
    return [Service(n, port_of(n, ports.get(n)), address_of(n, addresses.get(n))) for n in SERVICES if n in chosen]


def preflight(services: list[Service]) -> list[str]:
    """What must hold before anything starts, checked in the foreground so a refusal is one Chinese line
    at the terminal, not a service restarting in the background: the dbt manifest, the instance, the
    dashboards' security configuration, free ports. Returns lines to show."""
    from orchestration.prepare import prepare

    lines = []
    if any(s.name in ("daemon", "webserver") for s in services):
        prepare()
    if any(s.name == "daemon" for s in services):
        lines += fail_orphaned_runs()
    for s in services:
        service_command(s)  # a missing binary is a Chinese line now, not a restart loop later
        if s.port is not None and _port_busy(s.port):
            raise UserError(f"端口 {s.port} 已被占用，{LABELS[s.name]}无法启动；请停止占用它的程序，"
                            f"或用 {PORT_ENV[s.name]} / --{'dagster' if s.name == 'webserver' else 'dashboard'}-port 换一个端口")
    if any(s.name == "dashboards" for s in services):
        from qinglian.security import audit, config
        from qinglian.security.accounts import AccountStore

        try:
            lines.append(config.require_ok())
            made = AccountStore().ensure_demo_accounts()
        except (config.SecurityConfigError, audit.AuditError) as exc:
            raise UserError(str(exc)) from exc
        if made:
            lines.append(f"已创建演示账号：{'、'.join(made)}（密码见 README「驾驶舱与账号」）")
    return lines


def fail_orphaned_runs() -> list[str]:
    """Runs a killed daemon left as started: marked failed, so the schedule tries the quarter again.

    Nothing writes while the warehouse's run lock is free, so a run that claims to be running then is
    not; a `qinglian run` in progress holds the lock and its run is left alone."""
    from dagster import DagsterRunStatus, RunsFilter

    from qinglian.errors import Busy
    from qinglian.runlock import warehouse_lock

    instance = _instance()
    runs = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING,
                                                  DagsterRunStatus.CANCELING]))
    if not runs or not default_warehouse().parent.is_dir():
        return []
    try:
        with warehouse_lock(default_warehouse(), "qinglian serve start 检查中断的运行"):
            for run in runs:
                instance.report_run_failed(run, message="服务停止或进程被杀时该运行被中断（qinglian serve start 记为失败）")
    except Busy:
        return []
    return [f"上次被中断的 {len(runs)} 个运行已记为失败（{'、'.join(r.run_id[:8] for r in runs)}），调度会重新运行该季度"]


def _port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


# --- processes --------------------------------------------------------------------------------------

def _proc_stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, pgid, start ticks) of a live process from /proc, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    if fields[0] == "Z":
        return None  # a zombie has ended; only its parent's wait is missing
    return int(fields[1]), int(fields[2]), int(fields[19])


def alive(pid: int | None, start: int | None = None) -> bool:
    """Whether `pid` runs and is the process recorded (same start time: a reused pid is not ours)."""
    if not pid or pid <= 0:
        return False
    stat = _proc_stat(pid)
    return stat is not None and (start is None or stat[2] == start)


def start_ticks(pid: int) -> int | None:
    stat = _proc_stat(pid)
    return stat[2] if stat else None


def group_members(pgid: int, exclude: int | None = None) -> list[int]:
    """Live processes of process group `pgid`, and every descendant of its leader even if one left it."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat:
                stats[int(entry.name)] = stat
    members = {pid for pid, (_, pg, _) in stats.items() if pg == pgid}
    frontier = set(members) | {pgid}
    while frontier:
        children = {pid for pid, (ppid, _, _) in stats.items() if ppid in frontier and pid not in members}
        members |= children
        frontier = children
    members.discard(exclude or -1)
    return sorted(members)


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def end_group(pgid: int, grace: float = STOP_GRACE_SECONDS, exclude: int | None = None,
              leaders: list[int] | None = None) -> list[int]:
    """SIGTERM to the group, SIGKILL to whatever is left; returns the pids that had to be killed.

    The wait ends after `grace` seconds, or two seconds after the `leaders` (the services themselves)
    have ended: what is left then (multiprocessing's resource tracker ignores SIGTERM by design) only
    waits for the kill."""
    _signal_all(group_members(pgid, exclude), signal.SIGTERM)
    deadline = time.monotonic() + grace
    leaders_gone_at = None
    while time.monotonic() < deadline and group_members(pgid, exclude):
        if leaders is not None and leaders_gone_at is None and not any(alive(p) for p in leaders):
            leaders_gone_at = time.monotonic()
        if leaders_gone_at is not None and time.monotonic() - leaders_gone_at > 2:
            break
        time.sleep(0.2)
    left = group_members(pgid, exclude)
    _signal_all(left, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and group_members(pgid, exclude):
        time.sleep(0.1)
    return left


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_state() -> dict | None:
    try:
        return json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def supervisor_alive(state: dict | None) -> bool:
    sup = (state or {}).get("supervisor") or {}
    return alive(sup.get("pid"), sup.get("start"))


# --- the supervisor (runs in its own session: `python -m qinglian.serve supervise`) -------------------

class Supervisor:
    def __init__(self, services: list[Service]):
        self.services = services
        self.env = service_environment()
        self.procs: dict[str, subprocess.Popen | None] = {}
        self.info: dict[str, dict] = {}
        self.stopping = False
        self.started_at = _now()

    def run(self) -> int:
        lock = self._lock()
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        _write_atomic(pid_file("supervisor"), f"{os.getpid()}\n")
        for s in self.services:
            self.info[s.name] = {"label": LABELS[s.name], "port": s.port, "url": s.url, "restarts": 0,
                                 "quick_failures": 0, "log": str(log_file(s.name))}
            self._start(s)
        self._save()
        try:
            while not self.stopping:
                self._watch()
                time.sleep(0.5)
        finally:
            self._stop_all()
            os.close(lock)
        return 0

    def _lock(self) -> int:
        path = serve_dir() / "supervisor.lock"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.error("另一个监管进程正在运行，本进程退出")
            raise SystemExit(75) from None
        return fd

    def _on_signal(self, signum, frame) -> None:  # noqa: ARG002
        log.info("收到信号 %s，停止全部服务", signum)
        self.stopping = True

    def _start(self, s: Service) -> None:
        log_path = log_file(s.name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as out:
            out.write(f"\n=== {_now()} 启动 {LABELS[s.name]} ===\n".encode())
            out.flush()
            # Same process group as the supervisor (stop ends them together); PDEATHSIG: a supervisor
            # killed outright takes its direct children with it.
            proc = subprocess.Popen(service_command(s), env=self.env, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self.procs[s.name] = proc
        info = self.info[s.name]
        info.update(status="running", pid=proc.pid, start=start_ticks(proc.pid), started_at=_now(), started=time.time())
        _write_atomic(pid_file(s.name), f"{proc.pid}\n")
        log.info("已启动 %s pid %s：%s", s.name, proc.pid, " ".join(service_command(s)))

    def _watch(self) -> None:
        changed = False
        for s in self.services:
            info, proc = self.info[s.name], self.procs.get(s.name)
            if info["status"] == "running" and proc is not None and proc.poll() is not None:
                code = proc.returncode
                ran = time.time() - info["started"]
                info["quick_failures"] = info["quick_failures"] + 1 if ran < HEALTHY_AFTER_SECONDS else 1
                info.update(last_exit=code, exited_at=_now(), pid=None)
                pid_file(s.name).unlink(missing_ok=True)
                self._reap_leftovers(proc.pid)
                if info["quick_failures"] >= MAX_QUICK_FAILURES:
                    info["status"] = "failed"
                    log.error("%s 连续 %s 次启动后很快退出（退出码 %s），不再重启", s.name, info["quick_failures"], code)
                else:
                    pause = min(MAX_BACKOFF_SECONDS, 2.0 ** (info["quick_failures"] - 1))
                    info.update(status="restarting", restart_at=time.time() + pause)
                    log.warning("%s 退出（退出码 %s），%.0f 秒后重启", s.name, code, pause)
                changed = True
            elif info["status"] == "restarting" and time.time() >= info["restart_at"]:
                info["restarts"] += 1
                self._start(s)
                changed = True
        if changed:
            self._save()

    def _reap_leftovers(self, pid: int) -> None:
        """A crashed service's own children (a code server, a run worker, dbt) go with it."""
        stats = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (st := _proc_stat(int(entry.name))):
                stats[int(entry.name)] = st
        orphans = {p for p, (ppid, _, _) in stats.items() if ppid == pid}
        frontier = set(orphans)
        while frontier:
            frontier = {p for p, (ppid, _, _) in stats.items() if ppid in frontier} - orphans
            orphans |= frontier
        _signal_all(sorted(orphans), signal.SIGKILL)

    def _stop_all(self) -> None:
        self.stopping = True
        for s in self.services:
            self.info[s.name]["status"] = "stopping"
        self._save()
        end_group(os.getpgrp(), exclude=os.getpid(), leaders=[p.pid for p in self.procs.values() if p is not None])
        for s in self.services:
            proc = self.procs.get(s.name)
            if proc is not None:
                with contextlib.suppress(Exception):
                    proc.wait(timeout=1)
            self.info[s.name].update(status="stopped", pid=None)
            pid_file(s.name).unlink(missing_ok=True)
        self._save(stopped=True)
        pid_file("supervisor").unlink(missing_ok=True)
        log.info("全部服务已停止")

    def _save(self, stopped: bool = False) -> None:
        state = {
            "supervisor": None if stopped else {"pid": os.getpid(), "pgid": os.getpgrp(), "start": start_ticks(os.getpid()),
                                                "started_at": self.started_at, "log": str(log_file("supervisor"))},
            "stopped_at": _now() if stopped else None,
            "services": self.info,
        }
        _write_atomic(state_file(), json.dumps(state, ensure_ascii=False, indent=1))


def _now() -> str:
    from qinglian import office_time

    return office_time.wall_clock().strftime("%Y-%m-%d %H:%M:%S")


# --- the commands -----------------------------------------------------------------------------------

def start(services: list[Service], wait: float = 120.0) -> tuple[dict, list[str]]:
    """Start the supervisor (and through it the services); wait until each service is up."""
    state = read_state()
    if supervisor_alive(state):
        raise UserError(f"服务已在运行（监管进程 pid {state['supervisor']['pid']}）；查看：qinglian serve status，"
                        "重启：先 qinglian serve stop")
    lines = preflight(services)
    leftovers = _leftovers(state)
    if leftovers:
        lines.append(f"上一次的监管进程已不在，结束其遗留进程 {', '.join(map(str, leftovers))}")
        end_group(state["supervisor"]["pgid"], grace=5)
    service_log_dir().mkdir(parents=True, exist_ok=True)
    serve_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
    state_file().unlink(missing_ok=True)
    config = json.dumps([s.__dict__ for s in services])
    with open(log_file("supervisor"), "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "qinglian.serve", "supervise", config], env=service_environment(),
                                cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own session and process group: stop ends it all
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise UserError(f"监管进程启动后立即退出（退出码 {proc.returncode}），详见日志 {log_file('supervisor')}")
        state = read_state()
        if state and _ready(state, services):
            return state, lines
        time.sleep(0.5)
    return read_state() or {}, [*lines, f"等待 {wait:.0f} 秒后仍有服务未就绪，请用 qinglian serve status 查看，日志见 {service_log_dir()}"]


def _ready(state: dict, services: list[Service]) -> bool:
    for s in services:
        info = state.get("services", {}).get(s.name) or {}
        if info.get("status") == "failed":
            return True  # nothing more to wait for; status says why
        if info.get("status") != "running":
            return False
        if s.port is not None and not _port_busy(s.port):
            return False
        if s.name == "daemon" and not _daemon_heartbeat(max_age=60):
            return False
    return True


def _daemon_heartbeat(max_age: float) -> bool:
    """Whether the Dagster daemon has reported in within `max_age` seconds (its scheduler loop runs)."""
    try:
        instance = _instance()
        beats = instance.get_daemon_heartbeats()
    except Exception:  # the instance being created or migrated by the daemon itself
        return False
    newest = max((b.timestamp for b in beats.values()), default=0)
    return time.time() - newest < max_age


def _instance():
    from dagster import DagsterInstance

    from orchestration.instance import ensure_instance

    return DagsterInstance.from_ref(ensure_instance())


def _leftovers(state: dict | None) -> list[int]:
    sup = (state or {}).get("supervisor") or {}
    if not sup.get("pgid") or supervisor_alive(state):
        return []
    return group_members(sup["pgid"])


def stop() -> list[str]:
    state = read_state()
    sup = (state or {}).get("supervisor") or {}
    if not sup:
        return ["服务未在运行"]
    lines = []
    if supervisor_alive(state):
        os.kill(sup["pid"], signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS + 10
        while time.monotonic() < deadline and alive(sup["pid"], sup.get("start")):
            time.sleep(0.2)
        if alive(sup["pid"], sup.get("start")):
            lines.append(f"监管进程 {sup['pid']} 未按时退出，已强制结束")
    killed = end_group(sup["pgid"], grace=5)
    if killed:
        lines.append(f"已强制结束遗留进程 {', '.join(map(str, killed))}")
    left = group_members(sup["pgid"])
    if left:
        raise UserError(f"仍有进程未能结束：{', '.join(map(str, left))}；请手动检查（kill -9）")
    state = read_state() or state
    state["supervisor"] = None
    state.setdefault("stopped_at", _now())
    for info in state.get("services", {}).values():
        info.update(status="stopped", pid=None)
    _write_atomic(state_file(), json.dumps(state, ensure_ascii=False, indent=1))
    for name in ("supervisor", *SERVICES):
        pid_file(name).unlink(missing_ok=True)
    lines.append("已停止全部服务（含调度守护进程启动的运行与 dbt）")
    return lines


STATUS_TEXT = {"running": "运行中", "restarting": "重启中", "failed": "已失败", "stopping": "正在停止", "stopped": "已停止"}


def status_lines() -> tuple[list[str], bool]:
    """Chinese lines for `serve status`, and whether every service runs."""
    state = read_state()
    running = supervisor_alive(state)
    lines = []
    if not state or not state.get("services"):
        return ["服务未在运行（从未启动；启动：qinglian serve start）", *_last_run_lines()], False
    sup = state.get("supervisor") or {}
    if running:
        lines.append(f"{LABELS['supervisor']}  运行中  pid {sup['pid']}  启动于 {sup.get('started_at', '?')}")
    else:
        lines.append(f"{LABELS['supervisor']}  已停止" + (f"（{state['stopped_at']}）" if state.get("stopped_at") else "（意外退出）"))
    all_up = running
    for name, info in state["services"].items():
        status = info.get("status", "stopped") if running else "stopped"
        if status == "running" and not alive(info.get("pid"), info.get("start")):
            status = "restarting"
        all_up = all_up and status == "running"
        parts = [f"{info.get('label', name)}  {STATUS_TEXT.get(status, status)}"]
        if status == "running":
            parts.append(f"pid {info['pid']}")
        if info.get("url"):
            parts.append(f"端口 {info['port']}  {info['url']}")
            if status == "running" and not _port_busy(info["port"]):
                parts.append("（端口尚未就绪，正在启动）")
        if info.get("restarts"):
            parts.append(f"已重启 {info['restarts']} 次")
        if info.get("last_exit") is not None and (status != "running" or info.get("restarts")):
            code = info["last_exit"]
            how = f"被信号 {-code} 结束" if code < 0 else f"退出码 {code}"
            parts.append(f"上次{how}（{info.get('exited_at', '')}）")
        if status == "failed":
            parts.append(f"连续 {info.get('quick_failures')} 次启动后很快退出，已不再重启；查看日志后 qinglian serve stop 再 start")
        parts.append(f"日志 {info.get('log', '')}")
        lines.append("  ".join(parts))
    return [*lines, *_last_run_lines()], all_up


TRIGGERS = {"schedule": "调度", "landing_sensor": "落地传感器", "qinglian run": "qinglian run"}
RUN_STATUS = {"SUCCESS": "成功", "FAILURE": "失败", "STARTED": "运行中", "QUEUED": "排队中", "CANCELED": "已取消",
              "CANCELING": "取消中", "STARTING": "启动中", "NOT_STARTED": "未开始", "MANAGED": "外部管理"}


def _last_run_lines() -> list[str]:
    try:
        records = _instance().get_run_records(limit=1)
    except Exception as exc:  # the instance may not exist yet
        log.info("读取编排器实例失败：%s", exc)
        return ["最近一次运行：无记录"]
    if not records:
        return ["最近一次运行：无记录"]
    rec = records[0]
    run = rec.dagster_run
    quarter = run.tags.get("qinglian/quarter", "?")
    trigger = TRIGGERS.get(run.tags.get("trigger", ""), run.tags.get("trigger", "手动"))
    started = datetime.fromtimestamp(rec.start_time, OFFICE_TZ).strftime("%Y-%m-%d %H:%M:%S") if rec.start_time else "未开始"
    took = f"，用时 {rec.end_time - rec.start_time:.0f} 秒" if rec.start_time and rec.end_time else ""
    return [f"最近一次运行：{quarter} {RUN_STATUS.get(run.status.value, run.status.value)}（{trigger}触发，"
            f"开始于 {started}{took}，运行号 {run.run_id[:8]}）"]


def tail(path: Path, lines: int) -> list[str]:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 256 * 1024))
            text = fh.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise UserError(f"无法读取日志 {path}（{os_reason(exc)}）") from exc
    return text.splitlines()[-lines:]


# --- systemd units ----------------------------------------------------------------------------------

UNIT_TEMPLATES = PROJECT_ROOT / "deploy" / "systemd"


def pinned_places() -> dict[str, str]:
    """The places every service is given as absolute paths, the same for the supervisor's children and
    the systemd units (a service started from another folder finds the same warehouse and instance)."""
    from qinglian.security.config import state_dir
    from qinglian.settings import dagster_home

    warehouse = default_warehouse()
    return {
        "QINGLIAN_STATE": str(state_dir()),
        "DAGSTER_HOME": str(dagster_home()),
        "QINGLIAN_WAREHOUSE": str(warehouse),
        "QINGLIAN_LANDING": str(default_landing()),
        "QINGLIAN_SERVING": str(serving_path(warehouse)),
        "QINGLIAN_LOG_DIR": str(log_dir()),
    }


def unit_values(user: str | None = None) -> dict[str, str]:
    return {
        "ROOT": str(PROJECT_ROOT),
        "QINGLIAN": str(bin_dir() / "qinglian"),
        "USER": user or _user(),
        **pinned_places(),
        "QINGLIAN_ENV": _mode(),
        "DAGSTER_PORT": str(port_of("webserver")),
        "DAGSTER_ADDRESS": address_of("webserver") or "127.0.0.1",
        "DASHBOARD_PORT": str(port_of("dashboards")),
    }


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _mode() -> str:
    from qinglian.security.config import mode

    return mode()


def write_units(out: Path, user: str | None = None) -> list[Path]:
    """The unit files of deploy/systemd/*.in with this installation's absolute paths filled in."""
    values = unit_values(user)
    for key, value in values.items():
        if any(c in value for c in "\n\"'%$\\ ") and key != "QINGLIAN":
            raise UserError(f"{key} 的值「{value}」含空格、引号或 % 等字符，不能写入 systemd 单元文件；请换一个路径")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for template in sorted(UNIT_TEMPLATES.glob("*.in")):
        text = template.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        target = out / template.name.removesuffix(".in")
        _write_atomic(target, text)
        target.chmod(0o644)
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    """`python -m qinglian.serve supervise '<services json>'` (started by `qinglian serve start`)."""
    if len(argv) != 2 or argv[0] != "supervise":
        print("用法：qinglian serve start", file=sys.stderr)
        return 2
    service_log_dir().mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s",
                        stream=sys.stdout)
    services = [Service(**s) for s in json.loads(argv[1])]
    return Supervisor(services).run()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
