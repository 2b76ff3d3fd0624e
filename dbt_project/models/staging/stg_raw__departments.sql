with current_files as ({{ current_file_ids() }})

select
    d.dept_code,
    trim(d.dept_name)             as dept_name,
    nullif(trim(d.short_name), '') as short_name,
    d.aliases,
    d.file_id,
    d.sheet,
    d.row_number,
    d.loaded_at
from {{ source('raw', 'departments') }} as d
where d.file_id in (select file_id from current_files)
