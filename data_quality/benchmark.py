"""Province-scale timing of the raw-layer validation on a synthetic warehouse.

    uv run python -m data_quality.benchmark [--scale 1.0] [--error-rate 0.001] [--keep FILE]

Builds, with DuckDB alone, a warehouse the size DESIGN §1 expects for a province (about 2M survey
answers, 600k clean-unit rows over four quarters, 20k villages), sprinkles a small share of bad
values into it so the failure paths (lineage, value look-up) are exercised too, then times
`validate_raw` per table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from data_quality.report import clerk_report
from data_quality.suites import RAW_TABLES
from data_quality.validate import CheckResult, store_results, validate_raw

SCHEMA = Path(__file__).resolve().parents[1] / "ingest" / "schema.sql"


def build(con: duckdb.DuckDBPyConnection, scale: float = 1.0, error_rate: float = 0.001) -> None:
    con.execute(SCHEMA.read_text(encoding="utf-8"))
    # hash() is UBIGINT, which list indexing and arithmetic with negatives refuse; keep it signed.
    con.execute("create or replace temp macro h(x) as cast(hash(x) % 1000003 as bigint)")
    n_counties, n_towns, n_villages = 110, int(1300 * scale), int(20000 * scale)
    n_units = int(150_000 * scale)  # x 4 quarters = 600k rows
    n_responses = int(200_000 * scale)  # x 10 questions = 2M answers
    quarters = "['2025Q1','2025Q2','2025Q3','2025Q4']"
    ts = "timestamp '2026-01-10 09:00:00'"
    con.execute(f"""
        create temp table g_regions as
        select '610000000000' as code, '陕西省' as name, '省' as lvl, null as parent
        union all select '68' || lpad(i::varchar, 2, '0') || '00000000', '市' || i, '市', '610000000000' from range(10) t(i)
        union all select '61' || lpad((i + 1)::varchar, 4, '0') || '000000', '县' || i, '县',
                         '68' || lpad((i % 10)::varchar, 2, '0') || '00000000' from range({n_counties}) t(i)
        union all select '61' || lpad((i % {n_counties} + 1)::varchar, 4, '0') || lpad((i + 1)::varchar, 6, '0'),
                         '乡' || i, '乡', '61' || lpad((i % {n_counties} + 1)::varchar, 4, '0') || '000000'
                  from range({n_towns}) t(i)
        union all select '69' || lpad(i::varchar, 10, '0'), '村' || i, '村',
                         '61' || lpad((i % {n_towns} % {n_counties} + 1)::varchar, 4, '0') || lpad((i % {n_towns} + 1)::varchar, 6, '0')
                  from range({n_villages}) t(i)
    """)
    # One file per source, submitter and period, as the ingest would record them.
    con.execute(f"""
        insert into raw.ingest_files
        select row_number() over () as file_id, src || '/' || sub || '_' || coalesce(per, '') || '.xlsx',
               sub || '.xlsx', md5(src || sub || coalesce(per, '')), src, sub, sub, per, 'accepted', '已接收', null,
               'Sheet1', 0, 0, 0, null, {ts}, null
        from (select 'regions' src, 'province' sub, null per
              union all select 'departments', 'province', null
              union all select 'tasks', 'province', null
              union all select s.src, c.code, q.per
                  from (values ('task_progress'), ('units'), ('inspections'), ('cases')) s(src)
                  cross join (select code from g_regions where lvl = '县') c
                  cross join (select unnest({quarters}) per) q
              union all select 'surveys', c.code, '2025' from (select code from g_regions where lvl = '县') c)
    """)
    con.execute("create temp table g_files as select file_id, source, submitter, period from raw.ingest_files")
    con.execute(f"""insert into raw.regions select 1, 'Sheet1', row_number() over () + 2, {ts}, code, name, lvl, parent,
                    1000 + h(code) % 100000, lvl in ('乡', '村') from g_regions""")
    con.execute(f"""insert into raw.departments select 2, 'Sheet1', i + 3, {ts}, 'D' || lpad(i::varchar, 3, '0'),
                    '部门' || i, null, [] from range(60) t(i)""")
    con.execute("""
        create temp table g_counties as select code, row_number() over (order by code) - 1 as k
        from g_regions where lvl = '县'""")
    con.execute(f"""insert into raw.tasks select 3, 'Sheet1', i + 3, {ts}, 'T' || lpad(i::varchar, 5, '0'), '任务' || i,
                    '领域', '牵头', case when i < 250 then 'D' || lpad((i % 60)::varchar, 3, '0')
                                         else (select code from g_counties where k = i % {n_counties}) end,
                    case when i < 250 then 'department' else 'county' end, null, date '2025-12-31', null, null, null
                    from range(250 + {n_counties} * 20) t(i)""")
    con.execute(f"""
        insert into raw.task_progress
        select f.file_id, 'Sheet1', row_number() over (partition by f.file_id) + 4, {ts}, t.task_code, null, null,
               t.owner_code, f.period, ['已完成','按序推进','滞后','未启动'][1 + h(t.task_code || f.period) % 4],
               (h(t.task_code || f.period) % 101)::double, null, null, null, 1,
               make_date(2025, cast(substr(f.period, 6, 1) as integer) * 3, 28)
        from raw.tasks t join g_files f on f.source = 'task_progress'
             and f.submitter = (case when t.owner_group = 'county' then t.owner_code
                                else (select code from g_counties where k = h(t.owner_code) % {n_counties}) end)""")
    con.execute("""
        create temp table g_unit_regions as select code, row_number() over (order by code) - 1 as k,
               '61' || substr(code, 3, 4) || '000000' as county from g_regions where lvl in ('乡', '村')""")
    n_ur = con.execute("select count(*) from g_unit_regions").fetchone()[0]  # type: ignore[index]
    con.execute(f"""
        insert into raw.units
        select f.file_id, 'Sheet1', row_number() over (partition by f.file_id) + 3, {ts},
               'U' || lpad(u.i::varchar, 7, '0'), '单元' || u.i,
               ['机关','学校','医院','企业','工程','村居'][1 + u.i % 6], null, r.code,
               ['未启动','创建中','已达标','示范'][1 + lvl], lvl, 60 + u.i % 40, null, f.period
        from (select i, (i + q) % 4 as lvl, q from range({n_units}) t(i), range(4) s(q)) u
        join g_unit_regions r on r.k = u.i % {n_ur}
        join g_files f on f.source = 'units' and f.period = '2025Q' || (u.q + 1)
             and f.submitter = (case when substr(r.county, 3, 4) between '0001' and '{n_counties:04d}'
                                then r.county else '610001000000' end)""")
    con.execute(f"""
        insert into raw.inspections
        select f.file_id, 'Sheet1', row_number() over (partition by f.file_id) + 3, {ts}, 'I' || f.submitter || '-' || i, '第一轮',
               '单位' || i, case when i % 3 = 0 then 'D' || lpad((i % 60)::varchar, 3, '0') end, null, f.submitter,
               '类别', '描述', date '2025-01-15', date '2025-06-30', ['未整改','整改中','已整改'][1 + i % 3],
               case when i % 3 = 2 then date '2025-05-01' end, i % 3 = 2, null, f.period
        from g_files f, range(110) t(i) where f.source = 'inspections'""")
    con.execute(f"""
        insert into raw.survey_responses
        select f.file_id, '问卷', row_number() over (partition by f.file_id) + 2, {ts}, 'R' || i, '2025', null,
               c.code, ['群众','企业','党员干部','服务对象'][1 + i % 4], ['电话','网络','入户'][1 + i % 3]
        from range({n_responses}) t(i) join g_counties c on c.k = i % {n_counties}
        join g_files f on f.source = 'surveys' and f.submitter = c.code""")
    con.execute(f"""
        insert into raw.survey_answers
        select r.file_id, r.sheet, r.row_number, {ts}, r.response_id, 'Q' || q,
               ['不了解','很不满意','不满意','基本满意','满意','很满意'][1 + a], a
        from raw.survey_responses r, range(1, 11) t(q), lateral (select h(r.response_id || q) % 6 as a) x""")
    con.execute(f"""
        insert into raw.cases
        select f.file_id, '统计表', 5, {ts}, null, f.submitter, null, f.period, '累计',
               10 * k, 5 * k, 3 * k, 2 * k, 2 * k, 5 * k, k, k, 0, 0, 0, 1.5 * k
        from g_files f, lateral (select cast(substr(f.period, 6, 1) as integer) as k) q
        where f.source = 'cases'""")
    if error_rate > 0:
        # A few bad values in each big table, so failing rows go through the lineage path.
        m = max(int(1 / error_rate), 1)
        con.execute(f"update raw.survey_answers set answer_code = 9 where h(response_id || question) % {m} = 0")
        con.execute(f"update raw.units set stage = '已创建' where h(unit_code || quarter) % {m} = 0")
        con.execute(f"update raw.units set region_code = '619999999999' where h(unit_code || quarter) % {m} = 1")
        con.execute("update raw.task_progress set progress_pct = 120 where row_number = 5")


def run(scale: float, error_rate: float, keep: Path | None) -> tuple[list[tuple[str, float, int, list[CheckResult]]], str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = keep or Path(tmp) / "province.duckdb"
        con = duckdb.connect(str(path))
        t0 = time.perf_counter()
        build(con, scale, error_rate)
        print(f"built synthetic warehouse in {time.perf_counter() - t0:.1f}s")
        for table in RAW_TABLES:
            n = con.execute(f"select count(*) from raw.{table}").fetchone()[0]  # type: ignore[index]
            print(f"  raw.{table:<17} {n:>10,} rows")
        timings = []
        for table in RAW_TABLES:
            t = time.perf_counter()
            results = validate_raw(con, sources=[table])
            n = con.execute(f"select count(*) from raw.{table}").fetchone()[0]  # type: ignore[index]
            timings.append((table, time.perf_counter() - t, n, results))
        t = time.perf_counter()
        store_results(con, "benchmark", [r for _, _, _, rs in timings for r in rs])
        stored = time.perf_counter() - t
        t = time.perf_counter()
        report = clerk_report(con, "benchmark")
        after = f"store_results: {stored:.1f}s; clerk_report: {time.perf_counter() - t:.1f}s ({len(report):,} rows)"
        con.close()
    return timings, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--error-rate", type=float, default=0.001)
    parser.add_argument("--keep", type=Path, default=None, help="keep the synthetic warehouse at this path")
    args = parser.parse_args()
    timings, after = run(args.scale, args.error_rate, args.keep)
    total = 0.0
    print(f"{'table':<18}{'rows':>11}{'checks':>8}{'failed':>8}{'failing rows':>14}{'seconds':>9}")
    for table, secs, n, results in timings:
        total += secs
        bad = [r for r in results if not r.success]
        print(f"{table:<18}{n:>11,}{len(results):>8}{len(bad):>8}{sum(r.unexpected_count for r in bad):>14,}{secs:>9.1f}")
        for r in bad:
            print(f"    {r.severity:<9}{r.check_id} ({r.observed})")
    print(f"validate_raw total: {total:.1f}s")
    print(after)


if __name__ == "__main__":
    main()
