-- One row per department code (latest loaded row wins).
with ranked as (
    select
        *,
        row_number() over (
            partition by dept_code
            order by loaded_at desc, file_id desc, sheet desc, row_number desc
        ) as recency
    from {{ ref('stg_raw__departments') }}
)

select dept_code, dept_name, short_name, aliases, file_id, sheet, row_number, loaded_at
from ranked
where recency = 1
