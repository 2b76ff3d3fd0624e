with current_files as ({{ current_file_ids() }})

select
    s.response_id,
    s.wave,
    s.region_input,
    s.region_code,
    s.respondent_type,
    s.survey_mode,
    s.file_id,
    s.sheet,
    s.row_number,
    s.loaded_at
from {{ source('raw', 'survey_responses') }} as s
where s.file_id in (select file_id from current_files)
