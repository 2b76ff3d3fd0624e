-- One row per task and quarter: the report in force for the quarter is the latest one
-- (by report date, then load time); the earliest report date is kept for timeliness,
-- because a report counts as on time when any report arrived by the 10th day.
with ranked as (
    select
        *,
        row_number() over (
            partition by task_code, quarter
            order by report_date desc nulls last, loaded_at desc, file_id desc, sheet desc, row_number desc
        ) as recency,
        min(report_date) over (partition by task_code, quarter) as first_report_date,
        count(*) over (partition by task_code, quarter) as reports_in_quarter
    from {{ ref('stg_raw__task_progress') }}
)

select
    task_code,
    quarter,
    status,
    progress_pct,
    report_date,
    first_report_date,
    reports_in_quarter,
    reporter_code,
    file_id,
    sheet,
    row_number,
    loaded_at
from ranked
where recency = 1
