"""Every command with bad input, run as cron would run it (`.venv/bin/qinglian` by path, no venv on
PATH): one Chinese line that says what to do, a non-zero exit code, never a traceback; an
unexpected error is one line too, with its traceback in the log file the line names."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from orchestration.publish import publish
from tests import faultkit
from tests.test_ingest_loading import reference_landing
from tests.test_publish import _fake_marts

pytestmark = pytest.mark.faults
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    landing = root / "landing"
    reference_landing(landing)
    published = root / "pub" / "w.duckdb"
    published.parent.mkdir()
    _fake_marts(published)
    publish(published, published.parent / "serving" / "warehouse.duckdb", "2025Q1", "cli")
    (root / "garbage.duckdb").write_bytes(b"this is not a database" * 100)
    (root / "a_file.txt").write_text("x", encoding="utf-8")
    (root / "a_dir").mkdir()
    (root / "broken").mkdir()
    (root / "broken" / "w.duckdb").write_bytes(b"")
    (root / "broken" / "serving").mkdir()
    (root / "broken" / "serving" / "warehouse.duckdb").write_bytes(b"not a duckdb file" * 10)
    import duckdb

    duckdb.connect(str(root / "empty.duckdb")).close()  # a DuckDB file, but no raw layer
    return {"root": root, "landing": landing, "published": published}


def _cases(p: dict[str, Path]) -> list[tuple[list[str], int, str, dict[str, str]]]:
    """(arguments, exit code, a phrase of the Chinese line, extra environment)."""
    r, L, W = p["root"], str(p["landing"]), str(p["published"])
    new = str(r / "new" / "w.duckdb")
    return [
        (["nosuch"], 2, "没有命令 nosuch", {}),
        (["--bogus"], 2, "没有选项 --bogus", {}),
        (["demo", "--quarters", "0"], 2, "--quarters 应为 1 到 40 之间的整数", {}),
        (["demo", "--quarters", "x"], 2, "--quarters 的值「x」无效：应为整数", {}),
        (["demo", "--scale", "moon"], 2, "--scale 只能是 city 或 province", {}),
        (["demo", "--seed", "-3"], 2, "--seed 应为非负整数", {}),
        (["demo", "--out", str(r / "a_file.txt")], 2, "是一个文件，请指定要生成演示数据的文件夹", {}),
        (["ingest"], 2, "缺少必填的选项 --landing", {}),
        (["ingest", "--landing"], 2, "选项 --landing 后面需要写一个值", {}),
        (["ingest", "--landing", str(r / "nope")], 2, "落地文件夹不存在或不是文件夹", {}),
        (["ingest", "--landing", str(r / "a_file.txt")], 2, "落地文件夹不存在或不是文件夹", {}),
        (["ingest", "--landing", L, "--warehouse", str(r / "a_dir")], 2, "是一个文件夹，请指定数据仓库文件", {}),
        (["ingest", "--landing", L, "--warehouse", str(r / "garbage.duckdb")], 2, "不是有效的数据仓库（DuckDB）文件", {}),
        (["ingest", "--landing", L, "--warehouse", new, "--lnading", L], 2, "没有选项 --lnading", {}),
        (["ingest", "--landing", L, "--warehouse", new], 2, "环境变量 QINGLIAN_LIMIT_ROWS='很多' 不是有效的数字", {"QINGLIAN_LIMIT_ROWS": "很多"}),
        (["build", "--warehouse", str(r / "none" / "w.duckdb")], 2, "数据仓库文件不存在", {}),
        (["build", "--warehouse", str(r / "garbage.duckdb")], 2, "无法打开数据仓库", {}),
        (["build", "--warehouse", str(r / "empty.duckdb")], 2, "缺少原始层表", {}),
        (["report", "--warehouse", str(r / "none" / "w.duckdb")], 2, "还没有数据", {}),
        (["report", "--warehouse", W, "--out", str(r / "a_dir")], 2, "是一个文件夹，请指定要生成的清单文件名", {}),
        (["bulletin"], 2, "缺少必填的选项 --quarter", {}),
        (["bulletin", "--quarter", ""], 2, "--quarter 不能为空", {}),
        (["bulletin", "--quarter", "2025Q9"], 2, "不是季度", {}),
        (["bulletin", "--quarter", "2030Q1", "--warehouse", W], 2, "发布副本中没有 2030Q1 的排名；可选：2025Q1", {}),
        (["bulletin", "--quarter", "2025Q1", "--warehouse", str(r / "none" / "w.duckdb")], 2, "找不到已发布的驾驶舱数据", {}),
        (["bulletin", "--quarter", "2025Q1", "--warehouse", str(r / "broken" / "w.duckdb")], 2, "无法读取（可能已损坏", {}),
        (["bulletin", "--quarter", "2025Q1", "--warehouse", W, "--out", str(r / "a_file.txt")], 2, "是一个文件，请指定存放通报的文件夹", {}),
        (["run", "--landing", str(r / "nope"), "--warehouse", str(r / "run" / "w.duckdb")], 2, "落地文件夹不存在或不是文件夹", {}),
        (["run", "--quarter", "", "--landing", L, "--warehouse", new], 2, "--quarter 不能为空", {}),
        (["run", "--quarter", "2025Q7", "--landing", L, "--warehouse", new], 2, "不是季度", {}),
        (["run", "--quarter", "1999Q1", "--landing", L, "--warehouse", new], 2, "不在可运行的季度范围内", {}),
        (["run", "--port", "0", "--landing", L], 2, "--port 的值「0」超出范围：不能小于 1", {}),
        (["run", "--landing", L, "--warehouse", str(r / "a_dir")], 2, "是一个文件夹，请指定数据仓库文件", {}),
        (["template"], 2, "缺少必填的参数 SOURCE", {}),
        (["template", "foo", "--out", str(r / "t.xlsx")], 2, "未知来源 'foo'", {}),
        (["template", "units", "--out", str(r / "a_dir")], 2, "是一个文件夹，请指定要生成的模板文件名", {}),
        (["template", "units"], 2, "缺少必填的选项 --out", {}),
        (["dashboard", "--port", "70000"], 2, "超出范围：不能大于 65535", {}),
        (["dashboard", "--port", "x"], 2, "--port 的值「x」无效：应为整数", {}),
        (["bench", "--scale", "moon"], 2, "--scale 只能是 city 或 province", {}),
        (["bench", "--out", str(r / "a_dir")], 2, "是一个文件夹，请指定要生成的结果文件名", {}),
        # Commands registered by another module (qinglian.security) get the same treatment.
        (["user", "add"], 2, "缺少必填的参数 USERNAME", {"QINGLIAN_STATE": str(r / "state")}),
        (["user", "passwd", "nobody", "--password-stdin"], 2, "没有账号 nobody",
         {"QINGLIAN_STATE": str(r / "state"), "QINGLIAN_SECRET": "cli-errors-test-secret-0123456789abcdef"}),
        (["user", "list"], 2, "正式模式下未配置签名密钥，拒绝运行", {"QINGLIAN_STATE": str(r / "state2")}),
        (["audit", "--since", "昨天"], 2, "--since 应为日期", {"QINGLIAN_STATE": str(r / "state")}),
        (["audit", "--bogus"], 2, "qinglian audit 没有选项 --bogus", {"QINGLIAN_STATE": str(r / "state")}),
    ]


MANY = """
import contextlib, io, json, sys
sys.path.insert(0, {root!r})
from qinglian.cli import main
results = []
for args in json.loads(sys.stdin.read()):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except BaseException as exc:  # would be a bug: main() must not raise
            code = repr(exc)
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def _run_all_in_one_child(cases, places) -> list[tuple[object, str, str]]:
    """Every case through main() in one child process (imports paid once), environments grouped."""
    import json
    import subprocess
    import sys

    results: dict[int, tuple[object, str, str]] = {}
    groups: dict[tuple, list[int]] = {}
    for i, (_, _, _, env) in enumerate(cases):
        groups.setdefault(tuple(sorted(env.items())), []).append(i)
    for env_items, indexes in groups.items():
        env = faultkit.minimal_env({"QINGLIAN_LOG_DIR": str(places["root"] / "logs"), **dict(env_items)})
        out = subprocess.run([sys.executable, "-c", MANY.format(root=str(faultkit.ROOT))], input=json.dumps([cases[i][0] for i in indexes]),
                             env=env, cwd=faultkit.ROOT, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        for i, result in zip(indexes, json.loads(out.stdout.splitlines()[-1]), strict=True):
            results[i] = tuple(result)
    return [results[i] for i in range(len(cases))]


def _check(cases, results) -> list[tuple]:
    problems = []
    for (args, code, phrase, _), (got, stdout, stderr) in zip(cases, results, strict=True):
        lines = [line for line in stderr.splitlines() if line.strip()]
        ok = (got == code and "Traceback" not in stdout + stderr and len(lines) == 1 and phrase in lines[0]
              and CJK.search(lines[0]) and not re.search(r"\b(Error|Exception|Usage|Invalid|No such)\b", lines[0]))
        if not ok:
            problems.append((args, got, stdout[-500:], stderr[-800:]))
    return problems


def test_every_command_with_bad_input_says_one_chinese_line_and_exits_non_zero(places) -> None:
    cases = _cases(places)
    assert _check(cases, _run_all_in_one_child(cases, places)) == []
    # Refused before anything is created: no warehouse, no folder for it, no lock file.
    assert not (places["root"] / "run").exists() and not (places["root"] / "new").exists()


def test_the_installed_command_by_path_without_path(places) -> None:
    """The console script itself, as cron runs it: a few cases of every kind, in parallel."""
    cases = [c for c in _cases(places) if c[0][:1] in (["nosuch"], ["run"], ["bulletin"], ["build"]) or c[0][:2] == ["demo", "--quarters"]][:8]

    def one(case):
        args, _, _, env = case
        out = faultkit.qinglian(args, env={"QINGLIAN_LOG_DIR": str(places["root"] / "logs"), **env}, timeout=120)
        return out.returncode, out.stdout, out.stderr

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, cases))
    assert len(cases) == 8 and _check(cases, results) == []


def test_an_unexpected_error_is_one_line_and_its_traceback_goes_to_the_log(places) -> None:
    # A serving copy without the columns the bulletin reads: an error nobody wrote a message for.
    log_dir = places["root"] / "unexpected-logs"
    out = faultkit.qinglian(["bulletin", "--quarter", "2025Q1", "--warehouse", str(places["published"]),
                             "--out", str(places["root"] / "bulletins")], env={"QINGLIAN_LOG_DIR": str(log_dir)}, timeout=120)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 70 and "Traceback" not in out.stdout + out.stderr
    assert len(lines) == 1 and lines[0].startswith("发生意外错误（") and str(log_dir / "qinglian.log") in lines[0]
    log = (log_dir / "qinglian.log").read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log and "意外错误" in log and "退出码 70" in log


def test_help_is_shown_and_is_no_error(places) -> None:
    out = faultkit.qinglian([], timeout=60)
    assert out.returncode == 0 and "清廉建设数据仓库" in out.stdout
