-- One row per task code: a re-issued catalogue replaces the earlier row of the same task.
with ranked as (
    select
        *,
        row_number() over (
            partition by task_code
            order by loaded_at desc, file_id desc, sheet desc, row_number desc
        ) as recency
    from {{ ref('stg_raw__tasks') }}
)

select * exclude (recency)
from ranked
where recency = 1
