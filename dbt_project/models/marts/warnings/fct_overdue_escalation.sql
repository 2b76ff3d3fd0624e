-- 逾期未整改问题的督办升级：每个季度末逾期未整改的巡察问题一行，带责任对象、逾期天数、
-- 所处升级阶段（fct_inspection_issues 按 escalation_stages 的规则区间定出，这里只取阶段的顺序和区间说明）、进入下一阶段的日期和报送文件位置。
with issues as (
    select * from {{ ref('fct_inspection_issues') }}
    where overdue_open
),

quarters as (
    select quarter, year, quarter_end_date from {{ ref('dim_quarters') }}
),

stages as (
    select * from {{ ref('escalation_stages') }}
)

select
    issues.quarter,
    quarters.quarter_end_date,
    issues.body_group,
    issues.body_code,
    issues.issue_code,
    issues.inspected_body,
    issues.region_code,
    issues.category,
    issues.description,
    issues.found_date,
    issues.deadline,
    issues.status,
    issues.days_overdue,
    stages.stage_order,
    stages.stage,
    stages.range_text                                           as stage_range,
    -- the day the issue enters the next stage if still not rectified
    case when stages.max_days is not null
         then cast(issues.deadline + to_days(stages.max_days + 1) as date) end as next_stage_date,
    issues.file_path,
    issues.sheet,
    issues.row_number
from issues
inner join quarters on quarters.quarter = issues.quarter
left join stages
    on stages.year = quarters.year
   and stages.body_group = issues.body_group
   and stages.stage = issues.escalation_stage
