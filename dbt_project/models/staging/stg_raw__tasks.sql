with current_files as ({{ current_file_ids() }})

select
    t.task_code,
    trim(t.task_name)             as task_name,
    t.area,
    t.lead_unit_name,
    t.owner_code,
    t.owner_group,
    t.co_units,
    t.deadline,
    t.acceptance_standard,
    t.responsible_person,
    t.issued_date,
    t.file_id,
    t.sheet,
    t.row_number,
    t.loaded_at
from {{ source('raw', 'tasks') }} as t
where t.file_id in (select file_id from current_files)
