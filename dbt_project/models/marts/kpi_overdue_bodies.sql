-- Overdue open issues per responsible body and quarter (督办 page, one row per body with any): how
-- many, the longest overdue and the highest escalation stage reached (stages from escalation_stages
-- through fct_inspection_issues). Stage-by-stage counts are kpi_overdue_stages.
with issues as (
    select issues.body_group, issues.body_code, issues.quarter, issues.days_overdue,
           issues.escalation_stage, stages.stage_order
    from {{ ref('fct_inspection_issues') }} as issues
    left join {{ ref('escalation_stages') }} as stages
        on stages.year = cast(left(issues.quarter, 4) as integer)
       and stages.body_group = issues.body_group
       and stages.stage = issues.escalation_stage
    where issues.overdue_open
)

select
    body_group,
    body_code,
    quarter,
    cast(count(*) as bigint)                                        as overdue_issues,
    cast(max(days_overdue) as integer)                              as max_days_overdue,
    arg_max(escalation_stage, stage_order)                          as top_stage,
    cast(max(stage_order) as integer)                               as top_stage_order
from issues
group by body_group, body_code, quarter
