with current_files as ({{ current_file_ids() }})

select
    u.unit_code,
    u.unit_name,
    u.unit_type,
    u.region_input,
    u.region_code,
    u.stage,
    u.stage_level,
    u.score                       as assessment_score,
    u.assessed_date,
    u.quarter,
    u.file_id,
    u.sheet,
    u.row_number,
    u.loaded_at
from {{ source('raw', 'units') }} as u
where u.file_id in (select file_id from current_files)
