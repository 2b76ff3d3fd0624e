-- Overdue open issues per assessed body, quarter and escalation stage (督办升级: 提醒/督办/告诫/问责,
-- stage limits from the rules), for the overview's "issues past each stage" and the 督办 lists.
-- Every body × quarter × stage has a row (0 when none), so a page never fills gaps itself.
-- The stage names and order come from escalation_stages (the rules' stages), not a list of our own.
with stages as (
    select distinct stage_order, stage as escalation_stage from {{ ref('escalation_stages') }}
),

bodies as (
    select distinct body_group, body_code, quarter from {{ ref('kpi_rectification') }}
),

issues as (
    select body_group, body_code, quarter, escalation_stage, count(*) as issues, max(days_overdue) as max_days_overdue
    from {{ ref('fct_inspection_issues') }}
    where escalation_stage is not null
    group by all
)

select
    bodies.body_group,
    bodies.body_code,
    bodies.quarter,
    stages.escalation_stage,
    stages.stage_order,
    coalesce(issues.issues, 0)                                      as issues,
    issues.max_days_overdue
from bodies
cross join stages
left join issues
    on issues.body_group = bodies.body_group
   and issues.body_code = bodies.body_code
   and issues.quarter = bodies.quarter
   and issues.escalation_stage = stages.escalation_stage
