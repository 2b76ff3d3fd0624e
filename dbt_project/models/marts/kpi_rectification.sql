-- Rectification KPIs per inspected body and quarter at D (DESIGN §4):
--   rectification_rate  issues due (deadline <= D) that are 已整改 by D / issues due
--   on_time_rate        of the same denominator, those completed by their own deadline
--   overdue_open        issues past their deadline (deadline < D) and not rectified at D,
--                       max_days_overdue the longest of them (drives the veto)
-- A body gets a row from the first quarter in which one of its issues is on a ledger.
with issues as (
    select * from {{ ref('fct_issue_quarters') }}
    where body_code is not null
),

counts as (
    select
        body_group,
        body_code,
        quarter,
        count(*)                                                        as issues_total,
        count(*) filter (where is_due)                                  as issues_due,
        count(*) filter (where is_due and is_rectified)                 as issues_rectified,
        count(*) filter (where is_due and is_rectified_on_time)         as issues_on_time,
        count(*) filter (where is_overdue_open)                         as overdue_open,
        max(days_overdue)                                               as max_days_overdue
    from issues
    group by body_group, body_code, quarter
)

select
    counts.body_code,
    counts.body_group,
    coalesce(departments.display_name, regions.region_name)             as body_name,
    counts.quarter,
    counts.issues_total,
    counts.issues_due,
    counts.issues_rectified,
    counts.issues_rectified / nullif(counts.issues_due, 0)              as rectification_rate,
    counts.issues_on_time,
    counts.issues_on_time / nullif(counts.issues_due, 0)                as on_time_rate,
    counts.overdue_open,
    counts.max_days_overdue
from counts
left join {{ ref('dim_departments') }} as departments
    on counts.body_group = 'department' and departments.dept_code = counts.body_code
left join {{ ref('dim_regions') }} as regions
    on counts.body_group = 'county' and regions.region_code = counts.body_code
