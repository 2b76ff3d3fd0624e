with current_files as ({{ current_file_ids() }})

select
    i.issue_code,
    i.inspection_round,
    i.inspected_body,
    i.body_dept_code,
    i.region_input,
    i.region_code,
    i.category,
    i.description,
    i.found_date,
    i.deadline,
    i.status,
    i.completed_date,
    coalesce(i.closed, false)     as is_closed,
    i.responsible_person,
    i.quarter,
    i.file_id,
    i.sheet,
    i.row_number,
    i.loaded_at
from {{ source('raw', 'inspections') }} as i
where i.file_id in (select file_id from current_files)
