-- 督办台账：每个任务每季度的状态，连同任务名称、领域和报送文件的位置，供驾驶舱逐行追溯。
-- 未报送的任务状态写作“未报送”；days_late 是季末时超过完成时限而未完成的天数。
with task_quarters as (
    select * from {{ ref('fct_task_quarters') }}
),

tasks as (
    select task_code, task_name, area, owner_name from {{ ref('dim_tasks') }}
),

quarters as (
    select quarter, quarter_end_date from {{ ref('dim_quarters') }}
),

files as (
    select file_id, file_path from {{ ref('stg_raw__ingest_files') }}
)

select
    tq.owner_code,
    tq.owner_group,
    t.owner_name,
    tq.quarter,
    tq.task_code,
    t.task_name,
    t.area,
    tq.deadline,
    case when tq.is_reported then tq.status else '未报送' end as status,
    tq.progress_pct,
    tq.report_date,
    tq.is_on_schedule as on_schedule,
    tq.is_reported_on_time as reported_on_time,
    case
        when not tq.is_completed and tq.deadline < q.quarter_end_date
            then date_diff('day', tq.deadline, q.quarter_end_date)
    end::integer as days_late,
    f.file_path,
    tq.sheet,
    tq.row_number
from task_quarters as tq
inner join quarters as q on q.quarter = tq.quarter
left join tasks as t on t.task_code = tq.task_code
left join files as f on f.file_id = tq.file_id
where tq.is_active
