"""The drafted 季度通报 on the city demo: `qinglian bulletin` writes .docx, .pdf and .xlsx; the Word
file opens with python-docx and names the flags of the demo's last quarter with their reasons; the
PDF embeds every font it uses.

The expected flags are computed here from the KPI marts (not the scorecard) with the DESIGN §5
default rules the demo runs on: composite = weighted mean of the indicator scores over the
indicators with data, rank by composite (ties: rectification rate, task rate, code), the top N
without a >90-day overdue issue get a red flag, the bottom M a snail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

QUARTER = "2025Q4"
# DESIGN §5 defaults (the demo's 2025 rules)
WEIGHTS = {"county": {"task": 25, "coverage": 25, "rectification": 25, "satisfaction": 25},
           "department": {"task": 45, "rectification": 35, "timeliness": 20}}
QUOTA = {"county": (2, 2), "department": (3, 3)}
VETO_DAYS = 90
LABEL = {"county": "县区", "department": "市直部门"}


@pytest.fixture(scope="module")
def built(demo_built: tuple[Path, object], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the city demo built once for the whole run (tests/conftest.py), not a build of our own:
    the bulletin command opens the warehouse as its serving copy, and the shared file stays read-only."""
    shared, result = demo_built
    assert result.success, result
    warehouse = tmp_path_factory.mktemp("bulletin") / "warehouse.duckdb"
    shutil.copyfile(shared, warehouse)
    return warehouse


def expected_flags(warehouse: Path, quarter: str) -> dict[str, dict]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        task = con.execute("select owner_code as code, owner_group as grp, on_schedule_rate, tasks_on_schedule, "
                           "tasks_active, timeliness_rate from marts.kpi_task_progress where quarter = ?",
                           [quarter]).df()
        rect = con.execute("select body_code as code, body_group as grp, rectification_rate, issues_rectified, "
                           "issues_due, max_days_overdue from marts.kpi_rectification where quarter = ?",
                           [quarter]).df()
        cov = con.execute("select region_code as code, coverage_rate from marts.kpi_unit_coverage "
                          "where quarter = ? and unit_type = '全部' and region_level = '县'", [quarter]).df()
        sat = con.execute("select region_code as code, satisfaction_index from marts.kpi_satisfaction "
                          "where wave_year <= ? and sample_sufficient and region_level = '县' "
                          "qualify row_number() over (partition by region_code order by wave_year desc) = 1",
                          [int(quarter[:4])]).df()
        bodies = con.execute("select body_group as grp, body_code as code, body_name as name from marts.dim_bodies").df()
    finally:
        con.close()
    out = {}
    for grp, weights in WEIGHTS.items():
        b = bodies[bodies.grp == grp].copy()
        b = b.merge(task[task.grp == grp].drop(columns="grp"), on="code", how="left")
        b = b.merge(rect[rect.grp == grp].drop(columns="grp"), on="code", how="left")
        b = b.merge(cov, on="code", how="left").merge(sat, on="code", how="left")
        scores = pd.DataFrame({
            "task": b.on_schedule_rate * 100, "coverage": b.get("coverage_rate") * 100,
            "rectification": b.rectification_rate * 100, "timeliness": b.timeliness_rate * 100,
            "satisfaction": b.get("satisfaction_index"),
        })[list(weights)]
        w = pd.Series(weights, dtype=float)
        present = scores.notna()
        b["composite"] = ((scores.fillna(0) * w).sum(axis=1) / (present * w).sum(axis=1)).where(present.any(axis=1))
        b["composite"] = b.composite.round(4)
        b = b.sort_values(["composite", "rectification_rate", "on_schedule_rate", "code"],
                          ascending=[False, False, False, True], na_position="last").reset_index(drop=True)
        b["veto"] = b.max_days_overdue.fillna(0) > VETO_DAYS
        reds_n, snails_n = QUOTA[grp]
        eligible = b[~b.veto & b.composite.notna()]
        reds = list(eligible.name.head(reds_n))
        rest = b[b.composite.notna() & ~b.name.isin(reds)]
        snails = list(rest.name.tail(snails_n))  # in rank order, as the text lists them
        out[grp] = {"reds": reds, "snails": snails, "vetoed": list(b[b.veto].name), "rows": b.set_index("name")}
    return out


@pytest.fixture(scope="module")
def written(built: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch) -> list[Path]:
    from qinglian.cli import main

    out = tmp_path_factory.mktemp("bulletin_out")
    monkeypatch_module.setenv("QINGLIAN_SERVING", str(built))
    rc = main(["bulletin", "--quarter", QUARTER, "--out", str(out), "--warehouse", str(built)])
    assert rc in (0, None)
    return sorted(out.iterdir())


@pytest.fixture(scope="module")
def monkeypatch_module(tmp_path_factory: pytest.TempPathFactory):
    mp = pytest.MonkeyPatch()
    mp.setenv("QINGLIAN_ENV", "demo")
    mp.setenv("QINGLIAN_STATE", str(tmp_path_factory.mktemp("state")))
    yield mp
    mp.undo()


def _docx_text(path: Path) -> list[str]:
    import docx

    d = docx.Document(str(path))
    return [p.text for p in d.paragraphs]


def test_cli_writes_docx_pdf_and_xlsx(written: list[Path]) -> None:
    assert sorted(p.suffix for p in written) == [".docx", ".pdf", ".xlsx"]
    assert all(p.stat().st_size > 5000 for p in written)


def _half_up(x: float, step: str) -> Decimal:
    """Rounded half up (四舍五入) on the value as printed, as every page and the bulletin round."""
    return Decimal(repr(round(float(x), 10))).quantize(Decimal(step), rounding=ROUND_HALF_UP)


def test_docx_names_the_flags_and_their_reasons(built: Path, written: list[Path]) -> None:
    exp = expected_flags(built, QUARTER)
    paras = _docx_text(next(p for p in written if p.suffix == ".docx"))
    text = "\n".join(paras)
    for grp, e in exp.items():
        line = f"{LABEL[grp]}组：红旗 {'、'.join(e['reds'])}；蜗牛 {'、'.join(e['snails'])}。"
        assert line in paras, (line, [p for p in paras if "组：红旗" in p])
        for name in e["reds"] + e["snails"]:
            row = e["rows"].loc[name]
            flag = "红旗" if name in e["reds"] else "蜗牛"
            para = next(p for p in paras if p.startswith(f"{name}（{flag}）"))
            # 2 decimals rounded half up (四舍五入) on the decimal value, as every page shows scores
            assert f"综合得分 {_half_up(row.composite, '0.01')} 分" in para
            # the reasons: the indicator values with their numerators and denominators
            if pd.notna(row.rectification_rate):
                assert f"整改完成率 {_half_up(row.rectification_rate * 100, '0.1')}%（{int(row.issues_rectified)}/{int(row.issues_due)}）" in para
            if pd.notna(row.on_schedule_rate):
                assert f"任务推进率 {_half_up(row.on_schedule_rate * 100, '0.1')}%（{int(row.tasks_on_schedule)}/{int(row.tasks_active)}）" in para
        for name in e["vetoed"]:
            days = int(e["rows"].loc[name].max_days_overdue)
            assert re.search(rf"{name} 一票否决：有问题逾期 {days} 天未整改（超过 {VETO_DAYS} 天）", text), name
    # the demo plants a veto on 略阳县 (manifest story); it is in the text
    assert "略阳县 一票否决" in text


def test_pdf_embeds_every_font(written: list[Path]) -> None:
    assert shutil.which("pdffonts"), "需要 pdffonts（Debian poppler-utils）"
    pdf = next(p for p in written if p.suffix == ".pdf")
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert out, "PDF 中没有字体"
    for line in out:
        cols = line.split()
        # name type encoding emb sub uni id gen: emb is the fourth field from the end but three
        assert cols[-5] == "yes", line
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "红旗和蜗牛" in text and "驾驶舱发布副本" not in text


def test_county_user_summary_names_their_own_result(built: Path) -> None:
    from dashboards import bulletin, data

    src = data.Source(built, "610723000000", cached=False)
    b = bulletin.build_bulletin(src, QUARTER)
    exp = expected_flags(built, QUARTER)["county"]["rows"]
    rank = list(exp.index).index("洋县") + 1
    assert b.summary[0].startswith(f"本县区（洋县）本季度在县区组排第 {rank} 名（共 {len(exp)} 个）")
    assert "红旗 无" not in " ".join(b.summary) and "蜗牛 无" not in " ".join(b.summary)
    # nothing about other counties
    text = " ".join(p.text for s in b.sections for p in s.paras)
    assert "汉台区" not in text and "略阳县" not in text
