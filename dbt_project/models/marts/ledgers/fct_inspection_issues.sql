-- 整改台账：每个巡察问题在每个季度末的状态，连同问题描述和报送文件的位置。
-- The description travels with the ledger row (file, sheet, row) it came from: row numbers repeat
-- across the sheets of one workbook, so re-joining on file and row would duplicate issues.
with issue_quarters as (
    select * from {{ ref('fct_issue_quarters') }}
),

files as (
    select file_id, file_path from {{ ref('stg_raw__ingest_files') }}
),

stages as (
    select year, body_group, stage, min_days, max_days from {{ ref('escalation_stages') }}
)

select
    iq.body_code,
    iq.body_group,
    iq.quarter,
    iq.issue_code,
    iq.inspected_body,
    iq.region_code,
    iq.category,
    iq.description,
    iq.found_date,
    iq.deadline,
    iq.status,
    iq.completed_date,
    iq.is_rectified as rectified_at_d,
    iq.is_overdue_open as overdue_open,
    iq.days_overdue::integer as days_overdue,
    -- 督办升级 (DESIGN §5): the stage whose day range (escalation_stages, the one home of the stage
    -- limits: rules values of the quarter's year) holds the days overdue; null when not overdue
    stages.stage as escalation_stage,
    -- 一票否决 (DESIGN §5): overdue by more than the rules' veto_days at the quarter end
    coalesce(iq.is_overdue_open and iq.days_overdue > rules.veto_days, false) as exceeds_veto,
    f.file_path,
    iq.sheet,
    iq.row_number
from issue_quarters as iq
left join files as f on f.file_id = iq.file_id
left join {{ ref('int_rules__ranking_in_force') }} as rules
    on rules.year = cast(left(iq.quarter, 4) as integer)
   and rules.body_group = iq.body_group
left join stages
    on iq.is_overdue_open
   and stages.year = cast(left(iq.quarter, 4) as integer)
   and stages.body_group = iq.body_group
   and iq.days_overdue between stages.min_days and coalesce(stages.max_days, iq.days_overdue)
