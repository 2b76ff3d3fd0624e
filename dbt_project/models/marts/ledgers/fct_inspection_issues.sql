-- 整改台账：每个巡察问题在每个季度末的状态，连同问题描述和报送文件的位置。
-- The description travels with the ledger row (file, sheet, row) it came from: row numbers repeat
-- across the sheets of one workbook, so re-joining on file and row would duplicate issues.
with issue_quarters as (
    select * from {{ ref('fct_issue_quarters') }}
),

files as (
    select file_id, file_path from {{ ref('stg_raw__ingest_files') }}
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
    f.file_path,
    iq.sheet,
    iq.row_number
from issue_quarters as iq
left join files as f on f.file_id = iq.file_id
