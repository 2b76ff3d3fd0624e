with current_files as ({{ current_file_ids() }})

select
    r.region_code,
    trim(r.region_name)           as region_name,
    r.region_level,
    nullif(r.parent_code, '')     as parent_code,
    r.population,
    r.is_synthetic,
    r.file_id,
    r.sheet,
    r.row_number,
    r.loaded_at
from {{ source('raw', 'regions') }} as r
where r.file_id in (select file_id from current_files)
