{{ config(materialized='view') }}
-- Each task in every quarter from its issue date on, with the status in force for the quarter
-- and the flags the task KPIs count (DESIGN §4):
--   active      issued on or before D and not already 已完成 in an earlier quarter's report
--   on schedule active and the quarter's latest status is 已完成 or 按序推进
--               (no report for the quarter = 未报送 = not on schedule)
--   due         deadline on or before D;  completed: reported 已完成 in a quarter <= Q
--   on time     a report for the quarter arrived by D + 10 days
with tasks as (
    select * from {{ ref('int_tasks__latest') }}
),

quarters as (
    select * from {{ ref('int_quarters__spine') }}
),

reports as (
    select * from {{ ref('int_task_progress__latest_report') }}
),

first_completion as (
    select reports.task_code, min(quarters.quarter_index) as completed_quarter_index
    from reports
    inner join quarters on quarters.quarter = reports.quarter
    where reports.status = '已完成'
    group by reports.task_code
),

task_quarters as (
    select
        tasks.task_code,
        tasks.owner_code,
        tasks.owner_group,
        tasks.deadline,
        tasks.issued_date,
        quarters.quarter,
        quarters.quarter_index,
        quarters.quarter_end_date,
        due.report_due_date
    from tasks
    cross join quarters
    inner join {{ ref('int_quarters__report_due') }} as due on due.quarter = quarters.quarter
    where tasks.issued_date is null or tasks.issued_date <= quarters.quarter_end_date
)

select
    tq.task_code,
    tq.owner_code,
    tq.owner_group,
    tq.quarter,
    tq.quarter_index,
    tq.deadline,
    tq.issued_date,
    coalesce(reports.status, '未报送')                                        as status,
    reports.progress_pct,
    reports.report_date,
    reports.first_report_date,
    reports.task_code is not null                                            as is_reported,
    coalesce(fc.completed_quarter_index >= tq.quarter_index, true)          as is_active,
    coalesce(fc.completed_quarter_index >= tq.quarter_index, true)
        and coalesce(reports.status in ('已完成', '按序推进'), false)          as is_on_schedule,
    coalesce(tq.deadline <= tq.quarter_end_date, false)                      as is_due,
    coalesce(fc.completed_quarter_index <= tq.quarter_index, false)          as is_completed,
    coalesce(reports.first_report_date <= tq.report_due_date, false)         as is_reported_on_time,
    reports.file_id,
    reports.sheet,
    reports.row_number
from task_quarters as tq
left join reports
    on reports.task_code = tq.task_code
   and reports.quarter = tq.quarter
left join first_completion as fc
    on fc.task_code = tq.task_code
