-- The escalation stages partition the overdue open issues: per body and quarter the stage counts add up
-- to kpi_rectification.overdue_open, and the worst stage is 问责 exactly when max_days_overdue passes
-- the rules' caution limit.
with stages as (
    select body_group, body_code, quarter, sum(issues) as staged,
           sum(issues) filter (where escalation_stage = '问责') as accountable
    from {{ ref('kpi_overdue_stages') }}
    group by all
)

select rect.body_group, rect.body_code, rect.quarter, rect.overdue_open, stages.staged
from {{ ref('kpi_rectification') }} as rect
inner join {{ ref('int_rules__ranking_in_force') }} as rules
    on rules.year = cast(left(rect.quarter, 4) as integer) and rules.body_group = rect.body_group
left join stages
    on stages.body_group = rect.body_group and stages.body_code = rect.body_code and stages.quarter = rect.quarter
where coalesce(stages.staged, 0) <> rect.overdue_open
   or (coalesce(stages.accountable, 0) > 0) <> (coalesce(rect.max_days_overdue, 0) > rules.caution_max_days)
