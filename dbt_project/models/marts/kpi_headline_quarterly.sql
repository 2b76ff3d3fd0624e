-- The overview's headline figures (总览 KPI cards and trend, the bulletin's 总体情况) per scope and
-- quarter. The root scope (is_root) counts every assessed body's tasks and issues, departments
-- included; a county scope counts the county's own. Coverage and cases are the scope region's own
-- rolled-up rows of kpi_unit_coverage (all unit types) and kpi_cases.
--   task_rate            tasks on schedule / tasks active (summed over the scope's owners)
--   completion_rate      tasks completed / tasks due
--   rectification_rate   issues rectified / issues due
--   on_time_rate         issues rectified by their own deadline / issues due
--   overdue_over_veto    overdue open issues past the rules' veto line (fct_inspection_issues.exceeds_veto)
--   coverage_rate        units at 已达标 or 示范 / units registered
-- A rate with a zero denominator is NULL.
with scopes as (
    select * from {{ ref('int_regions__scopes') }}
),

scope_quarters as (
    select scopes.scope_code, scopes.scope_name, scopes.is_root, quarters.quarter, quarters.year
    from scopes
    cross join {{ ref('dim_quarters') }} as quarters
),

tasks as (
    select
        scope_quarters.scope_code,
        scope_quarters.quarter,
        cast(sum(task_kpis.tasks_active) as bigint) as tasks_active,
        cast(sum(task_kpis.tasks_on_schedule) as bigint) as tasks_on_schedule,
        cast(sum(task_kpis.tasks_due) as bigint) as tasks_due,
        cast(sum(task_kpis.tasks_completed) as bigint) as tasks_completed
    from scope_quarters
    inner join {{ ref('kpi_task_progress') }} as task_kpis
        on task_kpis.quarter = scope_quarters.quarter
       and (scope_quarters.is_root or task_kpis.owner_code = scope_quarters.scope_code)
    group by scope_quarters.scope_code, scope_quarters.quarter
),

rectification as (
    select
        scope_quarters.scope_code,
        scope_quarters.quarter,
        cast(sum(rect.issues_due) as bigint) as issues_due,
        cast(sum(rect.issues_rectified) as bigint) as issues_rectified,
        cast(sum(rect.issues_on_time) as bigint) as issues_on_time,
        cast(sum(rect.overdue_open) as bigint) as overdue_open
    from scope_quarters
    inner join {{ ref('kpi_rectification') }} as rect
        on rect.quarter = scope_quarters.quarter
       and (scope_quarters.is_root or rect.body_code = scope_quarters.scope_code)
    group by scope_quarters.scope_code, scope_quarters.quarter
),

over_veto as (
    select
        scope_quarters.scope_code,
        scope_quarters.quarter,
        cast(count(*) filter (where issues.exceeds_veto) as bigint) as overdue_over_veto
    from scope_quarters
    inner join {{ ref('fct_inspection_issues') }} as issues
        on issues.quarter = scope_quarters.quarter
       and (scope_quarters.is_root or issues.body_code = scope_quarters.scope_code)
    group by scope_quarters.scope_code, scope_quarters.quarter
)

select
    scope_quarters.scope_code,
    scope_quarters.scope_name,
    scope_quarters.is_root,
    scope_quarters.quarter,
    scope_quarters.year,
    tasks.tasks_active,
    tasks.tasks_on_schedule,
    tasks.tasks_on_schedule / nullif(tasks.tasks_active, 0)         as task_rate,
    tasks.tasks_due,
    tasks.tasks_completed,
    tasks.tasks_completed / nullif(tasks.tasks_due, 0)              as completion_rate,
    rectification.issues_due,
    rectification.issues_rectified,
    rectification.issues_rectified / nullif(rectification.issues_due, 0) as rectification_rate,
    rectification.issues_on_time,
    rectification.issues_on_time / nullif(rectification.issues_due, 0) as on_time_rate,
    rectification.overdue_open,
    coalesce(over_veto.overdue_over_veto, 0)                        as overdue_over_veto,
    coverage.units_registered,
    coverage.units_standard,
    coverage.coverage_rate,
    cases.cases_filed
from scope_quarters
left join tasks
    on tasks.scope_code = scope_quarters.scope_code and tasks.quarter = scope_quarters.quarter
left join rectification
    on rectification.scope_code = scope_quarters.scope_code and rectification.quarter = scope_quarters.quarter
left join over_veto
    on over_veto.scope_code = scope_quarters.scope_code and over_veto.quarter = scope_quarters.quarter
left join {{ ref('kpi_unit_coverage') }} as coverage
    on coverage.region_code = scope_quarters.scope_code
   and coverage.quarter = scope_quarters.quarter
   and coverage.unit_type = '全部'
left join {{ ref('kpi_cases') }} as cases
    on cases.region_code = scope_quarters.scope_code
   and cases.quarter = scope_quarters.quarter
