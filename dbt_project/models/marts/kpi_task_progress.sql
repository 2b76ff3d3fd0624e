-- Task KPIs per owner (department, or county for its own tasks) and quarter (DESIGN §4):
--   on_schedule_rate  tasks 已完成/按序推进 in the quarter's latest report / tasks active
--   completion_rate   tasks reported 已完成 by Q / tasks whose deadline is on or before D
--   timeliness_rate   reports received by D + 10 days / reports due (= tasks active)
-- Every rate carries its numerator and denominator; a rate with a zero denominator is NULL.
with task_quarters as (
    select * from {{ ref('fct_task_quarters') }}
),

counts as (
    select
        owner_code,
        owner_group,
        quarter,
        count(*) filter (where is_active)                               as tasks_active,
        count(*) filter (where is_active and is_on_schedule)            as tasks_on_schedule,
        count(*) filter (where is_active and not is_reported)           as tasks_not_reported,
        count(*) filter (where is_due)                                  as tasks_due,
        count(*) filter (where is_due and is_completed)                 as tasks_completed,
        count(*) filter (where is_active)                               as reports_due,
        count(*) filter (where is_active and is_reported_on_time)       as reports_on_time
    from task_quarters
    group by owner_code, owner_group, quarter
)

select
    counts.owner_code,
    counts.owner_group,
    coalesce(departments.display_name, regions.region_name)             as owner_name,
    counts.quarter,
    counts.tasks_active,
    counts.tasks_on_schedule,
    counts.tasks_on_schedule / nullif(counts.tasks_active, 0)           as on_schedule_rate,
    counts.tasks_not_reported,
    counts.tasks_due,
    counts.tasks_completed,
    counts.tasks_completed / nullif(counts.tasks_due, 0)                as completion_rate,
    counts.reports_due,
    counts.reports_on_time,
    counts.reports_on_time / nullif(counts.reports_due, 0)              as timeliness_rate
from counts
left join {{ ref('dim_departments') }} as departments
    on counts.owner_group = 'department' and departments.dept_code = counts.owner_code
left join {{ ref('dim_regions') }} as regions
    on counts.owner_group = 'county' and regions.region_code = counts.owner_code
