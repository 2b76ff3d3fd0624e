with current_files as ({{ current_file_ids() }})

select
    c.region_input,
    c.region_code,
    c.period_label,
    c.quarter,
    c.scope,
    c.petitions,
    c.clues,
    c.talks,
    c.cases_filed,
    c.punished,
    c.form1,
    c.form2,
    c.form3,
    c.form4,
    c.detained,
    c.transferred,
    c.recovered_10k_yuan,
    c.file_id,
    c.sheet,
    c.row_number,
    c.loaded_at
from {{ source('raw', 'cases') }} as c
where c.file_id in (select file_id from current_files)
